/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "keys.h"
#include "outbox_rec.h"

#define G 0xef000001u

static const char *names[] = { "hq", "br1", "br2", "br3" };

struct ctx {
	struct rec rec;
	struct vnoc_spi_alloc *spis;
	struct vnoc_keys *k;
	uint32_t ready_chan, ready_spi;
	uint64_t ready_gen;
	int ready_calls;
	uint32_t failed_site[8];
	int n_failed;
};

static void on_ready(void *ctx, uint32_t chan, uint32_t spi, uint64_t generation)
{
	struct ctx *c = ctx;

	c->ready_chan = chan;
	c->ready_spi = spi;
	c->ready_gen = generation;
	c->ready_calls++;
}

static void on_failed(void *ctx, uint32_t chan, uint32_t site)
{
	struct ctx *c = ctx;

	(void)chan;
	c->failed_site[c->n_failed++ & 7] = site;
}

static bool on_site(void *ctx, uint32_t site, struct vnoc_site_ref *out)
{
	(void)ctx;
	if (site >= 4)
		return false;
	out->name = names[site];
	out->wan_addr = 0x0a640002u + (site << 8);
	return true;
}

static const struct vnoc_keys_conf kconf = {
	.ack_timeout_ms = 1000, .ack_retries = 2, .retire_grace_ms = 5000
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct vnoc_outbox out = rec_outbox(&c->rec);
	struct vnoc_keys_events ev = { on_ready, on_failed, on_site, c };

	c->spis = vnoc_spi_create(VNOC_SPI_MIN, 64, NULL, NULL);
	c->k = vnoc_keys_create(&kconf, c->spis, &out, &ev);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	vnoc_keys_destroy(c->k);
	vnoc_spi_destroy(c->spis);
	free(c);
	return 0;
}

static const struct vnoc_sa_params pw = { .mode = VNOC_SA_PAIRWISE,
	.transform = VNOC_XFORM_AES_GCM_128,
	.replay_window = 1024,
	.soft_seconds = 100,
	.hard_seconds = 120 };

static void test_pairwise_install_order(void **state)
{
	struct ctx *c = *state;
	uint32_t rx = 1;
	int64_t id = vnoc_keys_open(c->k, 0, G, 0, &rx, 1, &pw, 1000);
	const struct rec_msg *in, *out;
	enum vnoc_chan_state st;
	uint32_t spi;
	uint64_t gen;

	assert_true(id > 0);
	/* make-before-break: only the receiver's inbound SA goes out first */
	assert_int_equal(c->rec.n, 1);
	in = rec_find(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL);
	assert_non_null(in);
	assert_int_equal(in->m.u.sa_install.direction, VPRN_DIR_INBOUND);
	assert_int_equal(in->m.u.sa_install.key_len, 16);
	assert_int_equal(in->m.u.sa_install.salt_len, 4);
	assert_int_equal(in->m.u.sa_install.auth_key_len, 0);
	assert_string_equal(in->m.u.sa_install.peer, "hq");
	assert_int_equal(in->m.u.sa_install.generation, 1);
	assert_int_equal(vprn_msg_validate(&in->m, NULL), 0);
	/* a stray ack (wrong seq, wrong site) changes nothing */
	assert_int_equal(vnoc_keys_ack(c->k, 1, in->m.seq + 7, true, 1001), 0);
	assert_int_equal(vnoc_keys_ack(c->k, 2, in->m.seq, true, 1001), 0);
	assert_int_equal(c->rec.n, 1);
	assert_int_equal(vnoc_keys_ack(c->k, 1, in->m.seq, true, 1010), 1);
	out = rec_find(&c->rec, 1, 0, VPRN_MSG_SA_INSTALL);
	assert_non_null(out);
	assert_int_equal(out->m.u.sa_install.direction, VPRN_DIR_OUTBOUND);
	assert_int_equal(out->m.u.sa_install.spi, in->m.u.sa_install.spi);
	assert_memory_equal(out->m.u.sa_install.key, in->m.u.sa_install.key, 16);
	assert_string_equal(out->m.u.sa_install.peer, "br1");
	assert_int_equal(c->ready_calls, 0); /* not before the sender's ack */
	assert_int_equal(vnoc_keys_ack(c->k, 0, out->m.seq, true, 1020), 1);
	assert_int_equal(c->ready_calls, 1);
	assert_int_equal(c->ready_spi, in->m.u.sa_install.spi);
	assert_int_equal(vnoc_keys_chan_state(c->k, (uint32_t)id, &st, &spi, &gen), 0);
	assert_int_equal(st, VNOC_CHAN_ACTIVE);
	assert_int_equal(gen, 1);
}

/* Bring channel @id to ACTIVE by acking everything sent since @from. */
static void ack_all(struct ctx *c, size_t from, uint64_t now)
{
	for (size_t i = from; i < c->rec.n; i++)
		if (c->rec.v[i].m.type == VPRN_MSG_SA_INSTALL)
			vnoc_keys_ack(c->k, c->rec.v[i].site, c->rec.v[i].m.seq, true, now);
}

static void test_rekey_at_soft_lifetime(void **state)
{
	struct ctx *c = *state;
	uint32_t rx = 1;
	int64_t id = vnoc_keys_open(c->k, 0, G, 0, &rx, 1, &pw, 0);
	uint32_t old_spi;
	size_t mark;
	const struct rec_msg *in2, *out2, *rm;

	for (size_t done = 0; done < c->rec.n;)
		ack_all(c, done++, 10);
	old_spi = c->ready_spi;
	assert_int_equal(c->ready_gen, 1);
	mark = c->rec.n;
	vnoc_keys_poll(c->k, 99999);
	assert_int_equal(c->rec.n, mark); /* before the soft lifetime: nothing */
	vnoc_keys_poll(c->k, 100000);
	in2 = rec_find(&c->rec, mark, 1, VPRN_MSG_SA_INSTALL);
	assert_non_null(in2);
	assert_int_equal(c->rec.n, mark + 1);
	assert_int_equal(in2->m.u.sa_install.generation, 2);
	assert_int_not_equal(in2->m.u.sa_install.spi, old_spi);
	vnoc_keys_ack(c->k, 1, in2->m.seq, true, 100100);
	out2 = rec_find(&c->rec, mark, 0, VPRN_MSG_SA_INSTALL);
	assert_non_null(out2);
	assert_int_equal(out2->m.u.sa_install.spi, in2->m.u.sa_install.spi);
	vnoc_keys_ack(c->k, 0, out2->m.seq, true, 100200);
	assert_int_equal(c->ready_gen, 2);
	/* old inbound retired only after the grace */
	mark = c->rec.n;
	vnoc_keys_poll(c->k, 105199);
	assert_null(rec_find(&c->rec, mark, 1, VPRN_MSG_SA_REMOVE));
	vnoc_keys_poll(c->k, 105200);
	rm = rec_find(&c->rec, mark, 1, VPRN_MSG_SA_REMOVE);
	assert_non_null(rm);
	assert_int_equal(rm->m.u.sa_remove.spi, old_spi);
	assert_int_equal(rm->m.u.sa_remove.direction, VPRN_DIR_INBOUND);
	(void)id;
}

static const struct vnoc_sa_params grp = { .mode = VNOC_SA_GROUP,
	.transform = VNOC_XFORM_AES_CBC_256_HMAC_SHA256,
	.replay_window = 4096,
	.soft_seconds = 100,
	.hard_seconds = 120 };

static void test_group_receiver_never_acks(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2, 3 };
	int64_t id = vnoc_keys_open(c->k, 0, G, 0, rx, 3, &grp, 0);
	const struct rec_msg *m;

	assert_true(id > 0);
	assert_int_equal(c->rec.n, 3);
	m = rec_find(&c->rec, 0, 2, VPRN_MSG_SA_INSTALL);
	assert_int_equal(m->m.u.sa_install.key_len, 32);
	assert_int_equal(m->m.u.sa_install.auth_key_len, 32);
	assert_int_equal(m->m.u.sa_install.group, G);
	assert_string_equal(m->m.u.sa_install.sender, "hq");
	assert_int_equal(vprn_msg_validate(&m->m, NULL), 0);
	/* 1 and 2 acknowledge, 3 stays silent */
	vnoc_keys_ack(c->k, 1, rec_find(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL)->m.seq, true, 10);
	vnoc_keys_ack(c->k, 2, rec_find(&c->rec, 0, 2, VPRN_MSG_SA_INSTALL)->m.seq, true, 10);
	assert_int_equal(rec_count(&c->rec, 0, 0, VPRN_MSG_SA_INSTALL), 0);
	/* resent after each timeout, ack_retries times */
	vnoc_keys_poll(c->k, 999);
	assert_int_equal(rec_count(&c->rec, 0, 3, VPRN_MSG_SA_INSTALL), 1);
	vnoc_keys_poll(c->k, 1000);
	assert_int_equal(rec_count(&c->rec, 0, 3, VPRN_MSG_SA_INSTALL), 2);
	vnoc_keys_poll(c->k, 2000);
	assert_int_equal(rec_count(&c->rec, 0, 3, VPRN_MSG_SA_INSTALL), 3);
	assert_int_equal(c->n_failed, 0);
	assert_int_equal(rec_count(&c->rec, 0, 0, VPRN_MSG_SA_INSTALL), 0);
	/* then declared failed: the sender switches without it */
	vnoc_keys_poll(c->k, 3000);
	assert_int_equal(c->n_failed, 1);
	assert_int_equal(c->failed_site[0], 3);
	assert_int_equal(rec_count(&c->rec, 0, 3, VPRN_MSG_SA_INSTALL), 3);
	m = rec_find(&c->rec, 0, 0, VPRN_MSG_SA_INSTALL);
	assert_non_null(m);
	assert_int_equal(m->m.u.sa_install.direction, VPRN_DIR_OUTBOUND);
	/* a late ack of an old retry is ignored */
	assert_int_equal(vnoc_keys_ack(c->k, 3, 3, true, 3001), 0);
	vnoc_keys_ack(c->k, 0, m->m.seq, true, 3010);
	assert_int_equal(c->ready_calls, 1);
	/* the next rekey leaves the failed site out entirely */
	size_t mark = c->rec.n;

	assert_int_equal(vnoc_keys_rekey(c->k, (uint32_t)id, 4000), 0);
	assert_int_equal(vnoc_keys_rekey(c->k, (uint32_t)id, 4000), -EBUSY);
	assert_int_equal(rec_count(&c->rec, mark, 1, VPRN_MSG_SA_INSTALL), 1);
	assert_int_equal(rec_count(&c->rec, mark, 2, VPRN_MSG_SA_INSTALL), 1);
	assert_int_equal(rec_count(&c->rec, mark, 3, VPRN_MSG_SA_INSTALL), 0);
}

static void test_sender_never_switches(void **state)
{
	struct ctx *c = *state;
	uint32_t rx = 2;
	int64_t id = vnoc_keys_open(c->k, 0, G, 1, &rx, 1, &pw, 0);
	enum vnoc_chan_state st;
	uint32_t spi;
	uint64_t gen;

	/* only the receiver acknowledges */
	assert_int_equal(vnoc_keys_ack(c->k, 2, c->rec.v[0].m.seq, true, 1), 1);
	assert_int_equal(rec_count(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL), 1);
	vnoc_keys_poll(c->k, 1001);
	vnoc_keys_poll(c->k, 2001);
	assert_int_equal(rec_count(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL), 3);
	vnoc_keys_poll(c->k, 3001);
	assert_int_equal(vnoc_keys_chan_state(c->k, (uint32_t)id, &st, &spi, &gen), 0);
	assert_int_equal(st, VNOC_CHAN_FAILED);
	assert_int_equal(spi, 0);
	assert_int_equal(c->n_failed, 1);
	assert_int_equal(c->failed_site[0], 1);
	assert_int_equal(c->ready_calls, 0);
}

static void test_group_leave_rekeys_and_close(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2 };
	int64_t id = vnoc_keys_open(c->k, 0, G, 0, rx, 2, &grp, 0);
	size_t mark;
	uint32_t spi1;

	for (size_t i = 0; i < 3; i++)
		ack_all(c, 0, 1);
	assert_int_equal(c->ready_gen, 1);
	spi1 = c->ready_spi;
	/* a newcomer gets the current generation; a leaver triggers a rekey */
	mark = c->rec.n;
	assert_int_equal(vnoc_keys_add_receiver(c->k, (uint32_t)id, 3, 10), 0);
	assert_int_equal(vnoc_keys_add_receiver(c->k, (uint32_t)id, 3, 10), -EEXIST);
	assert_int_equal(rec_find(&c->rec, mark, 3, VPRN_MSG_SA_INSTALL)->m.u.sa_install.spi, spi1);
	mark = c->rec.n;
	assert_int_equal(vnoc_keys_remove_receiver(c->k, (uint32_t)id, 1, 20), 0);
	assert_int_equal(rec_find(&c->rec, mark, 1, VPRN_MSG_SA_REMOVE)->m.u.sa_remove.spi, spi1);
	assert_null(rec_find(&c->rec, mark, 1, VPRN_MSG_SA_INSTALL));
	assert_int_equal(rec_count(&c->rec, mark, 2, VPRN_MSG_SA_INSTALL), 1);
	assert_int_equal(rec_count(&c->rec, mark, 3, VPRN_MSG_SA_INSTALL), 1);
	for (int i = 0; i < 3; i++)
		ack_all(c, mark, 30);
	assert_int_equal(c->ready_gen, 2);
	/* close: every receiver and the sender get removes; SPIs quarantined */
	mark = c->rec.n;
	assert_int_equal(vnoc_keys_close(c->k, (uint32_t)id, 40), 0);
	assert_int_equal(vnoc_keys_close(c->k, (uint32_t)id, 40), -ENOENT);
	assert_true(rec_count(&c->rec, mark, 2, VPRN_MSG_SA_REMOVE) >= 1);
	assert_true(rec_count(&c->rec, mark, 3, VPRN_MSG_SA_REMOVE) >= 1);
	/* the sender: its current outbound SA and the retiring generation's */
	assert_int_equal(rec_count(&c->rec, mark, 0, VPRN_MSG_SA_REMOVE), 2);
	assert_int_equal(vnoc_keys_count(c->k), 0);
	assert_int_equal(vnoc_spi_busy(c->spis), 2); /* quarantined, not free */
}

static void count_sa(void *ctx, const struct vnoc_sa_info *sa)
{
	int *n = ctx;

	assert_null(sa->key);
	(*n)++;
}

static void test_bad_open_and_listing(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2 };
	struct vnoc_sa_params bad = pw;
	int n = 0;

	assert_int_equal(vnoc_keys_open(c->k, 0, G, 0, rx, 2, &pw, 0), -EINVAL);
	bad.transform = 9;
	assert_int_equal(vnoc_keys_open(c->k, 0, G, 0, rx, 1, &bad, 0), -EINVAL);
	assert_true(vnoc_keys_open(c->k, 0, G, 0, rx, 1, &pw, 0) > 0);
	assert_int_equal(vnoc_keys_for_each(c->k, false, 0, count_sa, &n), 1);
	assert_int_equal(n, 1);
	/* an unreachable receiver is retried like a silent one */
	c->rec.fail_site = 2;
	assert_true(vnoc_keys_open(c->k, 0, G, 0, &rx[1], 1, &pw, 0) > 0);
	assert_int_equal(rec_count(&c->rec, 0, 2, VPRN_MSG_SA_INSTALL), 0);
	c->rec.fail_site = -1;
	vnoc_keys_poll(c->k, 1000);
	assert_int_equal(rec_count(&c->rec, 0, 2, VPRN_MSG_SA_INSTALL), 1);
}

/* Drift repair: an SA a site should have is sent again (outbound: current only). */
static void test_resend(void **state)
{
	struct ctx *c = *state;
	uint32_t rx = 1, old_spi, new_spi;
	int64_t id = vnoc_keys_open(c->k, 0, G, 0, &rx, 1, &pw, 0);
	const struct rec_msg *m;
	size_t mark;

	assert_true(id > 0);
	for (size_t done = 0; done < c->rec.n;)
		ack_all(c, done++, 10);
	old_spi = c->ready_spi;
	mark = c->rec.n;
	assert_int_equal(vnoc_keys_resend(c->k, 1, old_spi, VPRN_DIR_INBOUND), 0);
	m = rec_find(&c->rec, mark, 1, VPRN_MSG_SA_INSTALL);
	assert_non_null(m);
	assert_int_equal(m->m.u.sa_install.spi, old_spi);
	assert_int_equal(m->m.u.sa_install.direction, VPRN_DIR_INBOUND);
	assert_true(m->m.seq > c->rec.v[mark - 1].m.seq);
	assert_int_equal(vnoc_keys_resend(c->k, 0, old_spi, VPRN_DIR_OUTBOUND), 0);
	m = rec_find(&c->rec, mark, 0, VPRN_MSG_SA_INSTALL);
	assert_non_null(m);
	assert_int_equal(m->m.u.sa_install.direction, VPRN_DIR_OUTBOUND);
	/* not that site's, not that direction, unknown SPI */
	assert_int_equal(vnoc_keys_resend(c->k, 2, old_spi, VPRN_DIR_INBOUND), -ENOENT);
	assert_int_equal(vnoc_keys_resend(c->k, 1, old_spi, VPRN_DIR_OUTBOUND), -ENOENT);
	assert_int_equal(vnoc_keys_resend(c->k, 1, old_spi + 1000, VPRN_DIR_INBOUND), -ENOENT);
	/* after a rekey the old generation is retiring: inbound yes, outbound never */
	assert_int_equal(vnoc_keys_rekey(c->k, (uint32_t)id, 20), 0);
	for (size_t done = mark; done < c->rec.n;)
		ack_all(c, done++, 30);
	new_spi = c->ready_spi;
	assert_int_not_equal(new_spi, old_spi);
	assert_int_equal(vnoc_keys_resend(c->k, 1, old_spi, VPRN_DIR_INBOUND), 0);
	assert_int_equal(vnoc_keys_resend(c->k, 0, old_spi, VPRN_DIR_OUTBOUND), -ENOENT);
	assert_int_equal(vnoc_keys_resend(c->k, 0, new_spi, VPRN_DIR_OUTBOUND), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pairwise_install_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rekey_at_soft_lifetime, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_receiver_never_acks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sender_never_switches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_leave_rekeys_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_open_and_listing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resend, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
