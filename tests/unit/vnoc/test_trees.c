/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "keys.h"
#include "metrics.h"
#include "outbox_rec.h"
#include "trees.h"

#define G 0xef000001u
#define N_SITES 5

static const char *names[N_SITES] = { "hq", "br1", "br2", "br3", "other" };

struct ctx {
	struct rec rec;
	struct vnoc_spi_alloc *spis;
	struct vnoc_keys *k;
	struct vnoc_metrics *mx;
	struct vnoc_trees *t;
	uint64_t now;
};

static bool on_site(void *ctx, uint32_t site, struct vnoc_site_ref *out)
{
	(void)ctx;
	if (site >= N_SITES)
		return false;
	out->name = names[site];
	out->wan_addr = 0x0a640002u + (site << 8);
	out->vpn = site == 4 ? 1 : 0;
	out->max_degree = 8;
	out->relay = true;
	return true;
}

static void on_ready(void *ctx, uint32_t chan, uint32_t spi, uint64_t gen)
{
	struct ctx *c = ctx;

	(void)gen;
	vnoc_trees_chan_ready(c->t, chan, spi, c->now);
}

static void on_failed(void *ctx, uint32_t chan, uint32_t site)
{
	struct ctx *c = ctx;

	vnoc_trees_chan_failed(c->t, chan, site, c->now);
}

static const struct vnoc_keys_conf kconf = {
	.ack_timeout_ms = 1000, .ack_retries = 1, .retire_grace_ms = 5000
};
static const struct vnoc_trees_conf tconf = {
	.hysteresis_pct = 10, .keep_forwarding_ms = 10000, .tree_grace_ms = 3000
};
static const struct vnoc_metrics_conf mconf = {
	.alpha_pct = 100, .stale_ms = 1000000, .default_rtt_us = 200000
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct vnoc_outbox out = rec_outbox(&c->rec);
	struct vnoc_keys_events ev = { on_ready, on_failed, on_site, c };
	struct vnoc_site_dir dir = { on_site, N_SITES, c };

	c->spis = vnoc_spi_create(VNOC_SPI_MIN, 64, NULL, NULL);
	c->k = vnoc_keys_create(&kconf, c->spis, &out, &ev);
	c->mx = vnoc_metrics_create(N_SITES, &mconf);
	c->t = vnoc_trees_create(&tconf, c->k, c->mx, &out, &dir);
	assert_non_null(c->t);
	*state = c;
	return 0;
}

static int teardown_(void **state)
{
	struct ctx *c = *state;

	vnoc_trees_destroy(c->t);
	vnoc_keys_destroy(c->k);
	vnoc_metrics_destroy(c->mx);
	vnoc_spi_destroy(c->spis);
	free(c);
	return 0;
}

/* Acknowledge every SaInstall and TreeUpdate sent since @from, until quiet. */
static void ack_everything(struct ctx *c, size_t from)
{
	for (size_t i = from; i < c->rec.n; i++) {
		const struct rec_msg *m = &c->rec.v[i];

		if (m->m.type == VPRN_MSG_SA_INSTALL)
			vnoc_keys_ack(c->k, m->site, m->m.seq, true, c->now);
		else if (m->m.type == VPRN_MSG_TREE_UPDATE)
			vnoc_trees_ack(c->t, m->site, m->m.seq, c->now);
	}
}

static const struct rec_msg *last_tree_update(const struct ctx *c, size_t from, uint32_t site)
{
	const struct rec_msg *last = NULL;

	for (size_t i = from; i < c->rec.n; i++)
		if (c->rec.v[i].site == site && c->rec.v[i].m.type == VPRN_MSG_TREE_UPDATE)
			last = &c->rec.v[i];
	return last;
}

static const struct vnoc_sa_params pw = { .mode = VNOC_SA_PAIRWISE,
	.transform = VNOC_XFORM_AES_GCM_128,
	.replay_window = 1024,
	.soft_seconds = 1000,
	.hard_seconds = 1200 };

static void test_star_least_knowledge_and_leave(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2, 3 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_STAR,
		.sa = pw,
		.receivers = rx,
		.n_receivers = 3,
		.senders = tx,
		.n_senders = 1 };
	const struct rec_msg *u;
	size_t mark;

	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 0), 1);
	/* staged: no tree update before the SAs are up (make-before-break) */
	assert_int_equal(rec_count(&c->rec, 0, 0, VPRN_MSG_TREE_UPDATE), 0);
	assert_int_equal(rec_count(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL), 1);
	ack_everything(c, 0);
	ack_everything(c, 0);
	u = last_tree_update(c, 0, 0);
	assert_non_null(u);
	assert_int_equal(u->m.u.tree_update.version, 1);
	assert_int_equal(u->n_nb, 3);
	assert_true(u->m.u.tree_update.local_sender);
	assert_false(u->m.u.tree_update.local_receivers);
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(u->nb[i].out_spi, 0);
	/* a receiver learns only its own neighbour: hq */
	u = last_tree_update(c, 0, 2);
	assert_non_null(u);
	assert_int_equal(u->n_nb, 1);
	assert_string_equal(u->nb[0].site, "hq");
	assert_true(u->m.u.tree_update.local_receivers);
	assert_null(last_tree_update(c, 0, 4)); /* another VPN hears nothing */
	assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, 0, 3));

	/* br3 leaves: hq and br3 are told, br1 and br2 are not */
	mark = c->rec.n;
	spec.n_receivers = 2;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 100), 1);
	u = last_tree_update(c, mark, 0);
	assert_non_null(u);
	assert_int_equal(u->m.u.tree_update.version, 2);
	assert_int_equal(u->n_nb, 2);
	u = last_tree_update(c, mark, 3);
	assert_non_null(u);
	assert_true(u->m.u.tree_update.removed);
	assert_null(last_tree_update(c, mark, 1));
	assert_null(last_tree_update(c, mark, 2));
	/* its SAs are removed once hq has acknowledged the new version */
	assert_int_equal(rec_count(&c->rec, mark, 3, VPRN_MSG_SA_REMOVE), 0);
	ack_everything(c, mark);
	assert_true(rec_count(&c->rec, mark, 3, VPRN_MSG_SA_REMOVE) >= 1);
	assert_true(rec_count(&c->rec, mark, 0, VPRN_MSG_SA_REMOVE) >= 1);
	assert_false(vnoc_trees_has_edge(c->t, 0, G, 0, 0, 3));

	/* same members again: no new version */
	mark = c->rec.n;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 200), 0);
	assert_int_equal(c->rec.n, mark);
	/* nobody left to receive: torn down */
	spec.n_receivers = 0;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 300), 0);
	assert_int_equal(vnoc_trees_count(c->t), 0);
	assert_true(last_tree_update(c, mark, 1)->m.u.tree_update.removed);
	assert_int_equal(vnoc_keys_count(c->k), 0);
}

static void set_rtt(struct ctx *c, uint32_t a, uint32_t b, uint32_t one_way_ms)
{
	vnoc_metrics_report(c->mx, a, b, one_way_ms * 2000, 0, c->now);
	vnoc_metrics_report(c->mx, b, a, one_way_ms * 2000, 0, c->now);
}

static void test_hysteresis_and_keep_forwarding(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2, 3 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_SHARED,
		.sa = pw,
		.receivers = rx,
		.n_receivers = 3,
		.senders = tx,
		.n_senders = 1 };
	size_t mark;

	/* chain hq - br1 - br2 - br3 is cheap, everything else far */
	c->now = 1;
	for (uint32_t a = 0; a < 4; a++)
		for (uint32_t b = a + 1; b < 4; b++)
			set_rtt(c, a, b, b == a + 1 ? 10 : 80);
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	ack_everything(c, 0);
	ack_everything(c, 0);
	assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, 1, 2));
	assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, 2, 3));
	/* a small improvement elsewhere: below the margin, the tree stays */
	c->now = 2;
	set_rtt(c, 0, 2, 70);
	mark = c->rec.n;
	assert_int_equal(vnoc_trees_update(c->t, &spec, true, c->now), 0);
	assert_int_equal(c->rec.n, mark);
	/* br1-br2 becomes terrible: a much better tree exists, it is adopted */
	c->now = 3;
	set_rtt(c, 1, 2, 500);
	set_rtt(c, 0, 2, 10);
	assert_int_equal(vnoc_trees_update(c->t, &spec, true, c->now), 1);
	ack_everything(c, mark);
	ack_everything(c, mark);
	assert_false(vnoc_trees_has_edge(c->t, 0, G, 0, 1, 2));
	assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, 0, 2));
	assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, 2, 3)); /* br2 relays for br3 */

	/* the relay br2 leaves: it keeps forwarding until the others switched */
	mark = c->rec.n;
	rx[1] = 3;
	spec.n_receivers = 2; /* br1, br3 */
	set_rtt(c, 0, 3, 10);
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	for (size_t i = mark; i < c->rec.n; i++) /* SA installs only */
		if (c->rec.v[i].m.type == VPRN_MSG_SA_INSTALL)
			vnoc_keys_ack(c->k, c->rec.v[i].site, c->rec.v[i].m.seq, true, c->now);
	const struct rec_msg *kf = rec_find(&c->rec, mark, 2, VPRN_MSG_KEEP_FORWARDING);

	assert_non_null(kf);
	{
		assert_false(kf->m.u.keep_forwarding.done);
		assert_null(last_tree_update(c, mark, 2));
		/* only after every ED acknowledged: done + removed */
		size_t m2 = c->rec.n;

		/* hq acknowledges, br3 stays silent: the timeout releases br2 */
		vnoc_trees_ack(c->t, 0, last_tree_update(c, mark, 0)->m.seq, c->now);
		vnoc_trees_poll(c->t, c->now);
		assert_null(rec_find(&c->rec, m2, 2, VPRN_MSG_KEEP_FORWARDING));
		c->now += 10000;
		vnoc_trees_poll(c->t, c->now);
		kf = rec_find(&c->rec, m2, 2, VPRN_MSG_KEEP_FORWARDING);
		assert_non_null(kf);
		assert_true(kf->m.u.keep_forwarding.done);
		assert_true(last_tree_update(c, m2, 2)->m.u.tree_update.removed);
	}
}

static const struct vnoc_sa_params gm = { .mode = VNOC_SA_GROUP,
	.transform = VNOC_XFORM_AES_GCM_256,
	.replay_window = 1024,
	.soft_seconds = 1000,
	.hard_seconds = 1200 };

static void test_group_mode_keys_only_to_receivers(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 3 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_STAR,
		.sa = gm,
		.receivers = rx,
		.n_receivers = 2,
		.senders = tx,
		.n_senders = 1 };
	const struct rec_msg *u;

	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 0), 1);
	ack_everything(c, 0);
	ack_everything(c, 0);
	assert_int_equal(rec_count(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL), 1);
	assert_int_equal(rec_count(&c->rec, 0, 3, VPRN_MSG_SA_INSTALL), 1);
	assert_int_equal(rec_count(&c->rec, 0, 2, VPRN_MSG_SA_INSTALL), 0);
	assert_int_equal(rec_count(&c->rec, 0, 4, VPRN_MSG_SA_INSTALL), 0);
	u = last_tree_update(c, 0, 0);
	assert_non_null(u);
	assert_int_not_equal(u->m.u.tree_update.group_out_spi, 0);
	assert_int_equal(u->m.u.tree_update.sa_mode, VPRN_SA_GROUP);
}

static void test_failed_sender_retried(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_STAR,
		.sa = pw,
		.receivers = rx,
		.n_receivers = 1,
		.senders = tx,
		.n_senders = 1 };
	const struct rec_msg *u;
	size_t mark;

	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 0), 1);
	/* br1 acknowledges its inbound SA, hq never acknowledges its outbound one */
	vnoc_keys_ack(c->k, 1, rec_find(&c->rec, 0, 1, VPRN_MSG_SA_INSTALL)->m.seq, true, 0);
	for (c->now = 1000; c->now <= 3000; c->now += 1000)
		vnoc_keys_poll(c->k, c->now);
	u = last_tree_update(c, 0, 0);
	assert_non_null(u); /* the tree went on without that SA */
	assert_int_equal(u->nb[0].out_spi, 0);
	ack_everything(c, 0);
	/* the next computation opens the channel again; hq hears its new SPI */
	mark = c->rec.n;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	ack_everything(c, mark);
	ack_everything(c, mark);
	u = last_tree_update(c, mark, 0);
	assert_non_null(u);
	assert_int_not_equal(u->nb[0].out_spi, 0);
}

/* Drift repair: a site's part of a tree is sent again with a new seq. */
static void test_resend(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_STAR,
		.sa = pw,
		.receivers = rx,
		.n_receivers = 2,
		.senders = tx,
		.n_senders = 1 };
	const struct rec_msg *u, *again;
	size_t mark;

	assert_int_equal(vnoc_trees_update(c->t, &spec, false, 0), 1);
	ack_everything(c, 0);
	ack_everything(c, 0);
	u = last_tree_update(c, 0, 1);
	assert_non_null(u);
	mark = c->rec.n;
	assert_int_equal(vnoc_trees_resend(c->t, 0, G, 0, 1), 0);
	again = last_tree_update(c, mark, 1);
	assert_non_null(again);
	assert_true(again->m.seq > u->m.seq);
	assert_int_equal(again->m.u.tree_update.version, u->m.u.tree_update.version);
	assert_int_equal(again->n_nb, 1);
	assert_string_equal(again->nb[0].site, "hq");
	/* not in the tree, another source, another VPN: nothing */
	assert_int_equal(vnoc_trees_resend(c->t, 0, G, 0, 3), -ENOENT);
	assert_int_equal(vnoc_trees_resend(c->t, 0, G, 0x0a000001u, 1), -ENOENT);
	assert_int_equal(vnoc_trees_resend(c->t, 1, G, 0, 1), -ENOENT);
	assert_int_equal(c->rec.n, mark + 1);
}

/* Neighbour @name of TreeUpdate @u, or NULL. */
static const struct vprn_neighbour *nb_of(const struct rec_msg *u, const char *name)
{
	for (uint32_t i = 0; u != NULL && i < u->n_nb; i++)
		if (strcmp(u->nb[i].site, name) == 0)
			return &u->nb[i];
	return NULL;
}

/* Grace of the outbound SaRemove of @spi sent to @site since @from; -1 if none. */
static int64_t out_removed(const struct ctx *c, size_t from, uint32_t site, uint32_t spi)
{
	for (size_t i = from; i < c->rec.n; i++) {
		const struct rec_msg *m = &c->rec.v[i];

		if (m->site == site && m->m.type == VPRN_MSG_SA_REMOVE &&
			m->m.u.sa_remove.spi == spi &&
			m->m.u.sa_remove.direction == VPRN_DIR_OUTBOUND)
			return m->m.u.sa_remove.grace_ms;
	}
	return -1;
}

/* Metrics: the 3 given edges cheap (5, 10, 15 ms one way), every other pair 80 ms. */
static void cheap_edges(struct ctx *c, const uint32_t cheap[][2], size_t n)
{
	for (uint32_t a = 0; a < 4; a++)
		for (uint32_t b = a + 1; b < 4; b++) {
			uint32_t ms = 80;

			for (size_t i = 0; i < n; i++)
				if ((cheap[i][0] == a && cheap[i][1] == b) ||
					(cheap[i][0] == b && cheap[i][1] == a))
					ms = 5 + 5 * (uint32_t)i;
			set_rtt(c, a, b, ms);
		}
}

static uint32_t site_id(const char *name)
{
	for (uint32_t i = 0; i < N_SITES; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return UINT32_MAX;
}

/*
 * Issue 8, scenario 7: the shared tree hq-br1-{br2,br3} is re-rooted to
 * hq-br2-{br1,br3} (pairwise). Datagrams of the old tree still in flight
 * follow the old tree at the EDs for the grace period (docs/dataplane.md,
 * "Tree change"), so: the old version's outbound SAs are removed with the
 * grace, not at once; each neighbour says whether anything of the new version
 * comes from it (`quiet`: br1 -> br2 now carries old-tree traffic only); and
 * every SA a site gets is one of its own edges (least knowledge).
 */
static void test_reroot_old_tree_usable(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2, 3 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_SHARED,
		.sa = pw,
		.receivers = rx,
		.n_receivers = 3,
		.senders = tx,
		.n_senders = 1 };
	static const uint32_t v1[][2] = { { 0, 1 }, { 1, 2 }, { 1, 3 } };
	static const uint32_t v2[][2] = { { 0, 2 }, { 2, 1 }, { 2, 3 } };
	const struct rec_msg *u;
	uint32_t spi12, spi13, spi01;
	size_t mark;

	c->now = 1;
	cheap_edges(c, v1, 3);
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	ack_everything(c, 0);
	ack_everything(c, 0);
	for (size_t i = 0; i < 3; i++)
		assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, v1[i][0], v1[i][1]));
	u = last_tree_update(c, 0, 1);
	assert_non_null(nb_of(u, "br2"));
	spi12 = nb_of(u, "br2")->out_spi;
	spi13 = nb_of(u, "br3")->out_spi;
	assert_true(spi12 != 0 && spi13 != 0);
	assert_int_equal(nb_of(u, "hq")->out_spi, 0); /* nobody sends br1 -> hq */
	assert_false(nb_of(u, "hq")->quiet);	      /* hq sends to br1 */
	assert_true(nb_of(u, "br2")->quiet);	      /* nothing comes back from br2 */
	spi01 = nb_of(last_tree_update(c, 0, 0), "br1")->out_spi;
	assert_int_not_equal(spi01, 0);

	/* re-rooted at br2 */
	c->now = 2;
	cheap_edges(c, v2, 3);
	mark = c->rec.n;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	ack_everything(c, mark);
	ack_everything(c, mark);
	for (size_t i = 0; i < 3; i++)
		assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, v2[i][0], v2[i][1]));
	assert_false(vnoc_trees_has_edge(c->t, 0, G, 0, 0, 1));
	/* br1, now a leaf: br2 sends to it; the old outbound SAs stay for the grace */
	u = last_tree_update(c, mark, 1);
	assert_non_null(u);
	assert_int_equal(u->n_nb, 1);
	assert_false(nb_of(u, "br2")->quiet);
	assert_int_equal(out_removed(c, mark, 1, spi12), kconf.retire_grace_ms);
	assert_int_equal(out_removed(c, mark, 1, spi13), kconf.retire_grace_ms);
	assert_int_equal(out_removed(c, mark, 0, spi01), kconf.retire_grace_ms);
	/* br2: from hq comes the stream; from br1 and br3 nothing of this version */
	u = last_tree_update(c, mark, 2);
	assert_non_null(u);
	assert_int_equal(u->n_nb, 3);
	assert_false(nb_of(u, "hq")->quiet);
	assert_true(nb_of(u, "br1")->quiet);
	assert_true(nb_of(u, "br3")->quiet);
	assert_true(nb_of(u, "br1")->out_spi != 0 && nb_of(u, "br3")->out_spi != 0);
	assert_int_equal(nb_of(u, "hq")->out_spi, 0);
	assert_int_not_equal(nb_of(last_tree_update(c, mark, 0), "br2")->out_spi, 0);
	/* each end names the other's SPI as its inbound one */
	assert_int_equal(
		nb_of(u, "br1")->out_spi, nb_of(last_tree_update(c, mark, 1), "br2")->in_spi);
	assert_int_equal(
		nb_of(u, "hq")->in_spi, nb_of(last_tree_update(c, mark, 0), "br2")->out_spi);
	/* least knowledge: every install since the change is for an edge of its site */
	for (size_t i = mark; i < c->rec.n; i++) {
		const struct rec_msg *m = &c->rec.v[i];

		if (m->m.type == VPRN_MSG_SA_INSTALL)
			assert_true(vnoc_trees_has_edge(
				c->t, 0, G, 0, m->site, site_id(m->m.u.sa_install.peer)));
	}
}

/*
 * A subtree moves (br3 from br1 to br2) under edges that keep their
 * direction: hq -> br1 and br1 -> br2 get new SAs (the tree beyond them
 * changed: their datagrams must be told apart by SPI during the change),
 * while a change that leaves the tree beyond an edge alone keeps its SA.
 */
static void test_subtree_move_fresh_spis(void **state)
{
	struct ctx *c = *state;
	uint32_t rx[] = { 1, 2, 3 }, tx[] = { 0 };
	struct vnoc_tree_spec spec = { .vpn = 0,
		.group = G,
		.kind = VNOC_TREE_SHARED,
		.sa = pw,
		.receivers = rx,
		.n_receivers = 3,
		.senders = tx,
		.n_senders = 1 };
	static const uint32_t v1[][2] = { { 0, 1 }, { 1, 2 }, { 1, 3 } };
	static const uint32_t v2[][2] = { { 0, 1 }, { 1, 2 }, { 2, 3 } };
	uint32_t s01, s12, s13;
	const struct rec_msg *u;
	size_t mark;

	c->now = 1;
	cheap_edges(c, v1, 3);
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	ack_everything(c, 0);
	ack_everything(c, 0);
	s01 = nb_of(last_tree_update(c, 0, 0), "br1")->out_spi;
	s12 = nb_of(last_tree_update(c, 0, 1), "br2")->out_spi;
	s13 = nb_of(last_tree_update(c, 0, 1), "br3")->out_spi;
	c->now = 2;
	cheap_edges(c, v2, 3);
	mark = c->rec.n;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	/* make-before-break: nobody is told before the new SAs are up */
	assert_null(last_tree_update(c, mark, 0));
	ack_everything(c, mark);
	ack_everything(c, mark);
	for (size_t i = 0; i < 3; i++)
		assert_true(vnoc_trees_has_edge(c->t, 0, G, 0, v2[i][0], v2[i][1]));
	u = last_tree_update(c, mark, 0);
	assert_non_null(u);
	assert_int_not_equal(nb_of(u, "br1")->out_spi, 0);
	assert_int_not_equal(nb_of(u, "br1")->out_spi, s01);
	u = last_tree_update(c, mark, 1);
	assert_int_equal(
		nb_of(u, "hq")->in_spi, nb_of(last_tree_update(c, mark, 0), "br1")->out_spi);
	assert_int_not_equal(nb_of(u, "br2")->out_spi, 0);
	assert_int_not_equal(nb_of(u, "br2")->out_spi, s12);
	assert_null(nb_of(u, "br3"));
	/* the old ones go with the grace, the SA of the vanished edge too */
	assert_int_equal(out_removed(c, mark, 0, s01), kconf.retire_grace_ms);
	assert_int_equal(out_removed(c, mark, 1, s12), kconf.retire_grace_ms);
	assert_int_equal(out_removed(c, mark, 1, s13), kconf.retire_grace_ms);

	/* br3 leaves: nothing beyond hq -> br1 -> br2 changes but br2's side: */
	mark = c->rec.n;
	s01 = nb_of(last_tree_update(c, 0, 0), "br1")->out_spi;
	spec.n_receivers = 2;
	assert_int_equal(vnoc_trees_update(c->t, &spec, false, c->now), 1);
	ack_everything(c, mark);
	ack_everything(c, mark);
	assert_false(vnoc_trees_has_edge(c->t, 0, G, 0, 2, 3));
	/* br1 -> br2: the tree beyond br2 lost br3: new SA; br1's own part changed */
	assert_non_null(last_tree_update(c, mark, 1));
	assert_int_equal(rec_count(&c->rec, mark, 3, VPRN_MSG_SA_INSTALL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_star_least_knowledge_and_leave, setup, teardown_),
		cmocka_unit_test_setup_teardown(
			test_hysteresis_and_keep_forwarding, setup, teardown_),
		cmocka_unit_test_setup_teardown(
			test_group_mode_keys_only_to_receivers, setup, teardown_),
		cmocka_unit_test_setup_teardown(test_failed_sender_retried, setup, teardown_),
		cmocka_unit_test_setup_teardown(test_resend, setup, teardown_),
		cmocka_unit_test_setup_teardown(test_reroot_old_tree_usable, setup, teardown_),
		cmocka_unit_test_setup_teardown(test_subtree_move_fresh_spis, setup, teardown_),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
