/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ED's state digest (ed_apply_state) after applying TreeUpdates,
 * SaInstalls and SaRemoves to a real data plane on ring ports: it covers
 * exactly the trees and SAs installed and not removed, and equals the shared
 * function's digest over the expected lists (the VNOC's computation).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <rte_mempool.h>

#include "common/clock.h"
#include "common/digest.h"
#include "common/msg.h"
#include "control/ed_apply.h"
#include "dataplane/dp.h"
#include "tests/unit/dp/dp_test_util.h"
#include "tests/unit/eal_helper.h"

#define WAN 0x0a640102u	 /* 10.100.1.2 */
#define PEER 0x0a640202u /* 10.100.2.2 */
#define G1 0xef010001u
#define G2 0xef010002u

static struct tport lan, wan;
static struct dp *dp;
static struct ed_apply *ap;
static uint64_t seq;

static int apply(struct vprn_msg *m, enum vprn_ack_status want)
{
	struct vprn_ack ack;
	int rc;

	m->seq = ++seq;
	rc = ed_apply_msg(ap, m, &ack);
	if (rc == 1)
		assert_int_equal(ack.status, want);
	return rc;
}

static void install(uint32_t spi, enum vprn_direction dir, uint32_t group)
{
	struct vprn_msg m;
	struct vprn_sa_install *s = &m.u.sa_install;

	vprn_msg_init(&m, VPRN_MSG_SA_INSTALL, 0);
	s->spi = spi;
	s->direction = dir;
	s->transform = VPRN_XFORM_AES_GCM_128;
	s->key_len = 16;
	s->salt_len = 4;
	memset(s->key, 0x11, 16);
	s->replay_window = 1024;
	s->esn = true;
	s->group = group;
	s->peer_addr = group == 0 ? PEER : 0;
	s->local_addr = WAN;
	s->generation = 1;
	assert_int_equal(apply(&m, VPRN_ACK_OK), 1);
}

static void remove_sa(uint32_t spi, enum vprn_direction dir, uint32_t grace_ms)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_SA_REMOVE, 0);
	m.u.sa_remove.spi = spi;
	m.u.sa_remove.direction = dir;
	m.u.sa_remove.grace_ms = grace_ms;
	assert_int_equal(apply(&m, VPRN_ACK_OK), 0);
}

static void tree(uint32_t group, uint32_t source, uint64_t version, bool removed)
{
	struct vprn_neighbour nb = { .site = "br1", .site_id = 2, .wan_addr = PEER };
	struct vprn_msg m;
	struct vprn_tree_update *u = &m.u.tree_update;

	vprn_msg_init(&m, VPRN_MSG_TREE_UPDATE, 0);
	u->group = group;
	u->source = source;
	u->version = version;
	u->kind = VPRN_TREE_SHARED;
	u->sa_mode = VPRN_SA_PAIRWISE;
	u->transform = VPRN_XFORM_AES_GCM_128;
	u->neighbours = &nb;
	u->n_neighbours = 1;
	u->local_receivers = true;
	u->removed = removed;
	u->grace_ms = 60000;
	assert_int_equal(apply(&m, VPRN_ACK_OK), 1);
}

/* The ED's digest equals the shared function over @t, @in, @out (any order). */
static void expect_state(const struct vprn_installed_tree *t, size_t nt, const uint32_t *in,
	size_t ni, const uint32_t *out, size_t no)
{
	static struct ed_apply_state st;
	uint8_t want[VPRN_STATE_DIGEST_LEN];

	assert_int_equal(ed_apply_state(ap, vprn_now_ms(), &st), 0);
	assert_int_equal(vprn_state_digest(t, nt, in, ni, out, no, want), 0);
	assert_int_equal(st.n_trees, nt);
	assert_int_equal(st.n_in, ni);
	assert_int_equal(st.n_out, no);
	assert_memory_equal(st.digest, want, VPRN_STATE_DIGEST_LEN);
}

static int setup(void **state)
{
	struct dp_conf c = { 0 };

	(void)state;
	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "%s", lan.name);
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "%s", wan.name);
	c.lan.addr = 0xc0a80101;
	c.lan.prefix_len = 24;
	c.wan.addr = WAN;
	c.wan.prefix_len = 24;
	c.n_workers = 1;
	c.idle_sleep_us = 100;
	c.n_mbufs = 1023;
	dp = dp_create(&c);
	if (dp == NULL || dp_start(dp) != 0)
		return -1;
	ap = ed_apply_new(dp, WAN);
	return ap != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dp_stop(dp);
	ed_apply_free(ap);
	dp_destroy(dp);
	return 0;
}

static void test_empty(void **state)
{
	(void)state;
	expect_state(NULL, 0, NULL, 0, NULL, 0);
}

static void test_installed_state(void **state)
{
	const struct vprn_installed_tree t1[] = { { G1, 0, 7 } };
	const struct vprn_installed_tree t2[] = { { G2, 0xc0a8010a, 3 }, { G1, 0, 8 } };
	const uint32_t in[] = { 0x2001, 0x1001 }, out[] = { 0x3001 };
	const uint32_t in2[] = { 0x1001, 0x4001, 0x2001 };

	(void)state;
	install(0x1001, VPRN_DIR_INBOUND, 0);
	install(0x2001, VPRN_DIR_INBOUND, 0);
	install(0x3001, VPRN_DIR_OUTBOUND, 0);
	tree(G1, 0, 7, false);
	expect_state(t1, 1, in, 2, out, 1);
	/* a repeated install changes nothing */
	install(0x1001, VPRN_DIR_INBOUND, 0);
	expect_state(t1, 1, in, 2, out, 1);
	/* a new version replaces the old one (one tree per group), a second group */
	tree(G1, 0, 8, false);
	tree(G2, 0xc0a8010a, 3, false);
	install(0x4001, VPRN_DIR_INBOUND, G2);
	expect_state(t2, 2, in2, 3, out, 1);
	/* removed SAs and trees leave the digest at once, even during their grace */
	remove_sa(0x4001, VPRN_DIR_INBOUND, 60000);
	remove_sa(0x3001, VPRN_DIR_OUTBOUND, 0);
	tree(G2, 0xc0a8010a, 4, true);
	expect_state(&t2[1], 1, in, 2, NULL, 0);
	/* a removed SA installed again (a VNOC repair) is back */
	install(0x4001, VPRN_DIR_INBOUND, G2);
	expect_state(&t2[1], 1, in2, 3, NULL, 0);
	/* the SPI in the other direction is another SA */
	install(0x4001, VPRN_DIR_OUTBOUND, G2);
	{
		const uint32_t o[] = { 0x4001 };

		expect_state(&t2[1], 1, in2, 3, o, 1);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_installed_state),
	};

	if (vprn_test_eal_init("0-1", 0, NULL) < 0)
		return 1;
	if (tport_create(&lan, "lan_d", 1) < 0 || tport_create(&wan, "wan_d", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
