/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * digest_track: the per-site shadow of what an ED installed (from messages sent
 * and their Acks), the comparison of StateDigests (only when current) and the
 * repair (two mismatches in a row; resend, remove, forget), with a recording
 * outbox and fake keys/trees modules.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "common/digest.h"
#include "digest_track.h"
#include "outbox_rec.h"

#define G1 0xef010001u
#define G2 0xef010002u
#define SITE 1u

struct fake {
	struct rec rec;
	struct vnoc_dtrack *d;
	struct vnoc_outbox ob; /* through the tracker */
	int sa_rc, tree_rc;    /* what resend returns */
	bool hold;	       /* the core's startup hold */
	uint32_t resent_spi, resent_group;
	unsigned int n_resend;
};

static struct fake F;

static int resend_sa(void *ctx, uint32_t site, uint32_t spi, enum vprn_direction dir)
{
	struct fake *f = ctx;

	assert_int_equal(site, SITE);
	(void)dir;
	f->resent_spi = spi;
	f->n_resend++;
	return f->sa_rc;
}

static int resend_tree(void *ctx, uint32_t site, uint32_t group, uint32_t source)
{
	struct fake *f = ctx;

	assert_int_equal(site, SITE);
	(void)source;
	f->resent_group = group;
	f->n_resend++;
	return f->tree_rc;
}

static bool holding(void *ctx)
{
	return ((struct fake *)ctx)->hold;
}

static int setup(void **state)
{
	struct vnoc_outbox raw = rec_outbox(&F.rec);
	struct vnoc_dtrack_repair rep = { resend_sa, resend_tree, NULL, holding, &F };
	struct vnoc_dtrack_conf conf = {
		.startup_ms = 1000, .stale_sa_grace_ms = 500, .stale_tree_grace_ms = 700
	};

	(void)state;
	F.d = vnoc_dtrack_create(4, &raw, &rep, &conf, 0);
	assert_non_null(F.d);
	F.ob = vnoc_dtrack_outbox(F.d);
	F.sa_rc = F.tree_rc = 0;
	F.hold = false;
	F.n_resend = 0;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vnoc_dtrack_destroy(F.d);
	return 0;
}

static uint64_t send_install(uint32_t spi, enum vprn_direction dir)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_SA_INSTALL, 0);
	m.u.sa_install.spi = spi;
	m.u.sa_install.direction = dir;
	if (F.ob.send(F.ob.ctx, SITE, &m) != 0)
		return 0;
	return m.seq;
}

static uint64_t send_tree(uint32_t group, uint64_t version, bool removed)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_TREE_UPDATE, 0);
	m.u.tree_update.group = group;
	m.u.tree_update.version = version;
	m.u.tree_update.removed = removed;
	if (F.ob.send(F.ob.ctx, SITE, &m) != 0)
		return 0;
	return m.seq;
}

static void send_remove(uint32_t spi, enum vprn_direction dir)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_SA_REMOVE, 0);
	m.u.sa_remove.spi = spi;
	m.u.sa_remove.direction = dir;
	(void)F.ob.send(F.ob.ctx, SITE, &m);
}

static void expect_digest(const struct vprn_installed_tree *t, size_t nt, const uint32_t *in,
	size_t ni, const uint32_t *out, size_t no)
{
	struct vnoc_dtrack_site_info i;
	uint8_t want[32];

	assert_int_equal(vprn_state_digest(t, nt, in, ni, out, no, want), 0);
	assert_int_equal(vnoc_dtrack_site(F.d, SITE, &i), 0);
	assert_memory_equal(i.exp, want, 32);
	assert_int_equal(i.n_trees, nt);
	assert_int_equal(i.n_in, ni);
	assert_int_equal(i.n_out, no);
}

/* A StateDigest of the lists (digest computed over them unless @bad). */
static void report(struct vprn_installed_tree *t, uint32_t nt, uint32_t *in, uint32_t ni,
	uint32_t *out, uint32_t no, uint64_t vnoc_seq, uint64_t now, bool bad)
{
	struct vprn_digest dg = { .trees = t,
		.n_trees = nt,
		.inbound_spis = in,
		.n_inbound_spis = ni,
		.outbound_spis = out,
		.n_outbound_spis = no,
		.vnoc_seq = vnoc_seq,
		.digest_len = 32 };

	assert_int_equal(vprn_state_digest(t, nt, in, ni, out, no, dg.digest), 0);
	if (bad)
		dg.digest[0] ^= 1;
	vnoc_dtrack_report(F.d, SITE, &dg, now);
}

static struct vnoc_dtrack_site_info info(void)
{
	struct vnoc_dtrack_site_info i;

	assert_int_equal(vnoc_dtrack_site(F.d, SITE, &i), 0);
	return i;
}

static void test_shadow(void **state)
{
	struct vprn_installed_tree t1 = { G1, 0, 5 }, t2 = { G1, 0, 6 };
	uint32_t in[] = { 0x100 }, out[] = { 0x200 };
	uint64_t a, b, c, tu;

	(void)state;
	expect_digest(NULL, 0, NULL, 0, NULL, 0);
	a = send_install(0x100, VPRN_DIR_INBOUND);
	b = send_install(0x200, VPRN_DIR_OUTBOUND);
	c = send_install(0x300, VPRN_DIR_INBOUND);
	tu = send_tree(G1, 5, false);
	expect_digest(NULL, 0, NULL, 0, NULL, 0); /* nothing acknowledged yet */
	vnoc_dtrack_ack(F.d, SITE, a, true);
	vnoc_dtrack_ack(F.d, SITE, b, true);
	vnoc_dtrack_ack(F.d, SITE, c, false); /* failed: not installed */
	vnoc_dtrack_ack(F.d, SITE, tu, true);
	vnoc_dtrack_ack(F.d, 2, a, true); /* another site's ack of the same seq: nothing */
	expect_digest(&t1, 1, in, 1, out, 1);
	/* a newer version of the group's tree replaces the older one once acked */
	tu = send_tree(G1, 6, false);
	expect_digest(&t1, 1, in, 1, out, 1);
	vnoc_dtrack_ack(F.d, SITE, tu, true);
	expect_digest(&t2, 1, in, 1, out, 1);
	/* removal, even if it cannot be delivered (site down): no longer expected */
	F.rec.fail_site = SITE;
	send_remove(0x200, VPRN_DIR_OUTBOUND);
	assert_int_equal(send_install(0x400, VPRN_DIR_INBOUND), 0); /* not sent: not pending */
	send_tree(G1, 7, true);
	expect_digest(NULL, 0, in, 1, NULL, 0);
	F.rec.fail_site = -1;
	/* a new session forgets what was in flight */
	a = send_install(0x500, VPRN_DIR_INBOUND);
	vnoc_dtrack_session(F.d, SITE);
	vnoc_dtrack_ack(F.d, SITE, a, true);
	expect_digest(NULL, 0, in, 1, NULL, 0);
}

static void test_compare_and_repair(void **state)
{
	struct vprn_installed_tree t = { G1, 0, 5 }, stale_t = { G2, 0, 3 }, ts[2];
	uint32_t in[] = { 0x100 }, none[1] = { 0 }, extra[] = { 0x100, 0x900 };
	uint64_t a, tu, seq;
	size_t mark;

	(void)state;
	a = send_install(0x100, VPRN_DIR_INBOUND);
	tu = send_tree(G1, 5, false);
	vnoc_dtrack_ack(F.d, SITE, a, true);
	vnoc_dtrack_ack(F.d, SITE, tu, true);
	seq = tu;
	/* a digest older than the last change is not compared */
	report(&t, 1, NULL, 0, NULL, 0, seq - 1, 10, false);
	assert_int_equal(info().compared, 0);
	assert_int_equal(info().digests, 1);
	/* current and equal: in sync, nothing sent */
	mark = F.rec.n;
	report(&t, 1, in, 1, NULL, 0, seq, 10, false);
	assert_true(info().in_sync);
	assert_int_equal(F.rec.n, mark);
	/* missing SPI: the first mismatch counts, the second repairs */
	report(&t, 1, none, 0, NULL, 0, seq, 20, false);
	assert_false(info().in_sync);
	assert_int_equal(info().mismatches, 1);
	assert_int_equal(F.n_resend, 0);
	report(&t, 1, none, 0, NULL, 0, seq, 30, false);
	assert_int_equal(F.n_resend, 1);
	assert_int_equal(F.resent_spi, 0x100);
	assert_int_equal(info().repairs, 1);
	/* an unknown SPI and tree: not removed during the start-up window... */
	ts[0] = t;
	ts[1] = stale_t;
	mark = F.rec.n;
	report(ts, 2, extra, 2, NULL, 0, seq, 100, false);
	report(ts, 2, extra, 2, NULL, 0, seq, 200, false);
	assert_int_equal(F.rec.n, mark);
	/* ...nor during a startup hold, nor a start-up window after it... */
	F.hold = true;
	report(ts, 2, extra, 2, NULL, 0, seq, 1200, false);
	F.hold = false;
	report(ts, 2, extra, 2, NULL, 0, seq, 1300, false);
	report(ts, 2, extra, 2, NULL, 0, seq, 2200, false);
	assert_int_equal(F.rec.n, mark);
	/* ...but after it: SaRemove and TreeUpdate removed, with their graces */
	report(ts, 2, extra, 2, NULL, 0, seq, 2400, false);
	assert_int_equal(F.rec.n, mark + 2);
	assert_int_equal(F.rec.v[mark].m.type, VPRN_MSG_SA_REMOVE);
	assert_int_equal(F.rec.v[mark].m.u.sa_remove.spi, 0x900);
	assert_int_equal(F.rec.v[mark].m.u.sa_remove.grace_ms, 500);
	assert_int_equal(F.rec.v[mark + 1].m.type, VPRN_MSG_TREE_UPDATE);
	assert_true(F.rec.v[mark + 1].m.u.tree_update.removed);
	assert_int_equal(F.rec.v[mark + 1].m.u.tree_update.group, G2);
	assert_int_equal(F.rec.v[mark + 1].m.u.tree_update.grace_ms, 700);
	/* those are changes: the same digest is now out of date */
	mark = F.rec.n;
	report(ts, 2, extra, 2, NULL, 0, seq, 2500, false);
	report(ts, 2, extra, 2, NULL, 0, seq, 2600, false);
	assert_int_equal(F.rec.n, mark);
	/* a tree the trees module no longer gives the site is forgotten, not resent */
	F.tree_rc = -ENOENT;
	seq = F.rec.seq;
	F.n_resend = 0;
	report(NULL, 0, in, 1, NULL, 0, seq, 2700, false);
	report(NULL, 0, in, 1, NULL, 0, seq, 2800, false);
	assert_int_equal(F.n_resend, 1);
	assert_int_equal(F.resent_group, G1);
	report(NULL, 0, in, 1, NULL, 0, seq, 2900, false);
	assert_true(info().in_sync);
	expect_digest(NULL, 0, in, 1, NULL, 0);
}

static void test_garbage(void **state)
{
	struct vprn_installed_tree t[3] = { { 0x0a000001u, 0, 1 }, { G1, 0xe0000001u, 0 },
		{ G2, 0, 0 } };
	uint32_t in[3] = { 1, 255, 0 }, out[2] = { 7, 7 };
	size_t mark = F.rec.n;

	(void)state;
	/* reserved SPIs, a unicast "group", a multicast "source": never sent back */
	for (uint64_t now = 2000; now < 2005; now++)
		report(t, 3, in, 3, out, 2, 0, now, true);
	for (size_t i = mark; i < F.rec.n; i++) {
		const char *why;

		F.rec.v[i].m.version = VPRN_PROTOCOL_VERSION;
		assert_int_equal(vprn_msg_validate(&F.rec.v[i].m, &why), 0);
	}
	/* only G2 (version 0 -> 1) is a valid removal */
	assert_int_equal(F.rec.n, mark + 1);
	assert_int_equal(F.rec.v[mark].m.u.tree_update.group, G2);
	assert_false(info().in_sync);
	assert_int_equal(vnoc_dtrack_site(F.d, 99, &(struct vnoc_dtrack_site_info){ 0 }), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shadow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_compare_and_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
