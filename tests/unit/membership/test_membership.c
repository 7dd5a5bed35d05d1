/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Membership state machine and timers with an injected clock: startup and
 * general queries, expiry after the group membership interval, last member
 * queries then removal, fast leave, v3 source state, querier hand-over and
 * take-back, older version compatibility, coalesced events, source discovery,
 * announcements, pre-defined groups, limits.
 *
 * Test timers: R = 2, QI = 10 s, QRI = 2 s  => GMI = 22 s, OQPT = 21 s;
 * LMQI = 1 s, LMQC = 2 => LMQT = 2 s; startup 2 queries 2.5 s apart.
 */
#include "mship_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define G1 IP(239, 1, 1, 1)
#define G2 IP(239, 2, 2, 2)
#define SSM1 IP(232, 1, 1, 1)
#define H1 IP(192, 168, 1, 10)
#define H2 IP(192, 168, 1, 11)
#define S1 IP(10, 1, 1, 1)
#define S2 IP(10, 1, 1, 2)
#define S3 IP(10, 1, 1, 3)
#define OTHER_Q IP(192, 168, 1, 2)
#define GMI 22000
#define LMQT 2000

static struct membership_rx_info l2 = { .l2 = true };

struct fx {
	struct capture *c;
	struct membership *m;
	struct membership_conf conf;
};

static void conf_short(struct membership_conf *conf)
{
	membership_conf_defaults(conf);
	conf->robustness = 2;
	conf->query_interval_ms = 10000;
	conf->query_response_interval_ms = 2000;
	conf->last_member_query_interval_ms = 1000;
	conf->last_member_query_count = 2;
	conf->startup_query_interval_ms = 2500;
	conf->startup_query_count = 2;
	conf->source_inactivity_timeout_ms = 5000;
	conf->event_holddown_ms = 0;
}

/* Set up with conf, run the startup queries away and forget the frames. */
static void fx_start(struct fx *f)
{
	f->c = calloc(1, sizeof(*f->c));
	assert_non_null(f->c);
	f->m = cap_create(f->c, &f->conf);
	assert_non_null(f->m);
	advance(f->m, f->c, 0);
	f->c->n_frames = 0;
}

static void fx_stop(struct fx *f)
{
	membership_destroy(f->m);
	free(f->c);
}

static void rx(struct fx *f, const uint8_t *buf, size_t len)
{
	assert_int_equal(membership_rx_igmp(f->m, buf, len, &l2), 0);
}

static void v12(struct fx *f, uint32_t host, uint8_t type, uint32_t group)
{
	uint8_t buf[1600];

	rx(f, buf, host_v12(buf, host, type, group));
}

static void v3(
	struct fx *f, uint32_t host, uint8_t type, uint32_t group, const uint32_t *srcs, uint16_t n)
{
	struct igmp_tx_record r = { .type = type, .group = group, .n_sources = n, .sources = srcs };
	uint8_t buf[1600];

	rx(f, buf, host_v3(buf, host, &r, 1));
}

static void query_from(struct fx *f, uint32_t src, int version, uint32_t group, int s_flag,
	const uint32_t *srcs, uint16_t n)
{
	uint8_t buf[1600];

	rx(f, buf, router_query(buf, src, version, group, s_flag, srcs, n));
}

/* The learned receiver row of a group, NULL if none. */
static const struct membership_member *learned_row(struct fx *f, uint32_t group)
{
	static struct membership_member rows[64];
	size_t n = membership_members(f->m, rows, 64);

	for (size_t i = 0; i < n && i < 64; i++)
		if (rows[i].group == group && rows[i].source == 0 &&
			rows[i].origin == MEMBERSHIP_ORIGIN_LEARNED)
			return &rows[i];
	return NULL;
}

/* The n-th (0-based) frame of a type for a group, NULL if none. */
static const struct igmp_msg *nth_frame(
	struct fx *f, enum igmp_msg_type type, uint32_t group, unsigned int n)
{
	for (unsigned int i = 0; i < f->c->n_frames; i++)
		if (f->c->frames[i].type == type && f->c->frames[i].group == group && n-- == 0)
			return &f->c->frames[i];
	return NULL;
}

static const struct membership_event *last_event(struct fx *f)
{
	assert_true(f->c->n_events > 0);
	return &f->c->events[f->c->n_events - 1].ev;
}

static unsigned int count_frames(struct fx *f, enum igmp_msg_type type, uint32_t group)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < f->c->n_frames; i++)
		n += f->c->frames[i].type == type && f->c->frames[i].group == group;
	return n;
}

/* ---- querier ------------------------------------------------------------------ */

static void test_startup_and_general_queries(void **state)
{
	struct fx f = { 0 };
	struct capture *c;

	(void)state;
	conf_short(&f.conf);
	f.c = calloc(1, sizeof(*f.c));
	c = f.c;
	f.m = cap_create(c, &f.conf);
	assert_int_equal(membership_next_deadline(f.m), 0);
	advance(f.m, c, 0);
	assert_int_equal(c->n_frames, 1);
	assert_int_equal(c->frames[0].type, IGMP_MSG_V3_QUERY);
	assert_int_equal(c->frames[0].group, 0);
	assert_int_equal(c->frames[0].ip_src, ED_LAN);
	assert_int_equal(c->frames[0].ip_dst, IGMP_ALL_SYSTEMS);
	assert_int_equal(c->frames[0].max_resp_ds, 20);
	assert_int_equal(c->frames[0].qrv, 2);
	assert_int_equal(c->frames[0].qqi_s, 10);
	/* MAC 01:00:5e:00:00:01 from 02:00:00:00:01:01, ethertype IPv4 */
	assert_int_equal(c->bytes[0][5], 0x01);
	assert_int_equal(c->bytes[0][11], 0x01);
	assert_int_equal(membership_next_deadline(f.m), 2500); /* startup query interval */
	advance(f.m, c, 2499);
	assert_int_equal(c->n_frames, 1);
	advance(f.m, c, 2500);
	assert_int_equal(c->n_frames, 2);
	assert_int_equal(membership_next_deadline(f.m), 12500); /* then the query interval */
	advance(f.m, c, 32500);
	assert_int_equal(c->n_frames, 5);
	fx_stop(&f);
}

static void test_querier_handover_and_takeback(void **state)
{
	struct membership_querier_info qi;
	struct membership_stats st;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	membership_querier(f.m, &qi);
	assert_true(qi.is_querier);
	assert_int_equal(qi.querier_addr, ED_LAN);

	/* A querier with a higher address changes nothing. */
	f.c->now = 100;
	query_from(&f, IP(192, 168, 1, 200), 3, 0, 0, NULL, 0);
	membership_querier(f.m, &qi);
	assert_true(qi.is_querier);

	/* A lower address wins: we fall silent and adopt its QRV/QQI (2, 125 s). */
	query_from(&f, OTHER_Q, 3, 0, 0, NULL, 0);
	membership_querier(f.m, &qi);
	assert_false(qi.is_querier);
	assert_int_equal(qi.querier_addr, OTHER_Q);
	assert_int_equal(qi.other_querier_remaining_ms, 21000);
	assert_int_equal(qi.query_interval_ms, 125000);
	advance(f.m, f.c, 21099);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, 0), 0);

	/* The other querier stops: after OQPT we take over with a general query at once. */
	advance(f.m, f.c, 21100);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, 0), 1);
	membership_querier(f.m, &qi);
	assert_true(qi.is_querier);
	assert_int_equal(qi.query_interval_ms, 10000);
	advance(f.m, f.c, 31100);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, 0), 2);

	/* It comes back: silent again; each of its queries refreshes the timer. */
	query_from(&f, OTHER_Q, 2, 0, 0, NULL, 0);
	advance(f.m, f.c, 50000);
	query_from(&f, OTHER_Q, 2, 0, 0, NULL, 0);
	advance(f.m, f.c, 50000 + 21000 - 1);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, 0), 2);
	advance(f.m, f.c, 50000 + 21000);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, 0), 3);
	membership_get_stats(f.m, &st);
	assert_int_equal(st.querier_changes, 4);
	fx_stop(&f);
}

/* ---- learned state and timers ------------------------------------------------------- */

static void test_v2_join_expires_after_gmi(void **state)
{
	const struct membership_member *row;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	f.c->now = 1000;
	v12(&f, H1, IGMP_V2_REPORT, G1);
	assert_int_equal(f.c->n_events, 1);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_JOIN);
	assert_int_equal(last_event(&f)->role, MEMBERSHIP_ROLE_RECEIVER);
	assert_int_equal(last_event(&f)->group, G1);
	assert_int_equal(last_event(&f)->mode, MEMBERSHIP_EXCLUDE);
	assert_int_equal(last_event(&f)->n_sources, 0);
	row = learned_row(&f, G1);
	assert_non_null(row);
	assert_int_equal(row->compat_version, 2);
	assert_int_equal(row->n_hosts, 1);
	assert_int_equal(row->remaining_ms, GMI);

	advance(f.m, f.c, 1000 + GMI - 1);
	assert_non_null(learned_row(&f, G1));
	assert_int_equal(f.c->n_events, 1);
	advance(f.m, f.c, 1000 + GMI);
	assert_null(learned_row(&f, G1));
	assert_int_equal(f.c->n_events, 2);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	assert_int_equal(membership_members(f.m, NULL, 0), 0);
	fx_stop(&f);
}

static void test_leave_last_member_queries(void **state)
{
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	v12(&f, H1, IGMP_V2_REPORT, G1);
	v12(&f, H2, IGMP_V2_REPORT, G1);
	assert_int_equal(f.c->n_events, 1);

	/* H1 leaves: group-specific query (S clear), H2 answers, the group stays. */
	f.c->now = 5000;
	v12(&f, H1, IGMP_V2_LEAVE, G1);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, G1), 1);
	assert_false(nth_frame(&f, IGMP_MSG_V3_QUERY, G1, 0)->s_flag);
	assert_int_equal(nth_frame(&f, IGMP_MSG_V3_QUERY, G1, 0)->ip_dst, G1);
	assert_int_equal(nth_frame(&f, IGMP_MSG_V3_QUERY, G1, 0)->max_resp_ds, 10);
	f.c->now = 5500;
	v12(&f, H2, IGMP_V2_REPORT, G1);
	advance(f.m, f.c, 6000);
	/* The retransmission carries S: the report raised the timer above LMQT. */
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, G1), 2);
	assert_true(nth_frame(&f, IGMP_MSG_V3_QUERY, G1, 1)->s_flag);
	advance(f.m, f.c, 9000);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, G1), 2); /* LMQC = 2 */
	assert_non_null(learned_row(&f, G1));
	assert_int_equal(f.c->n_events, 1);

	/* H2 leaves too: LMQC queries, then removal LMQT after the leave. */
	f.c->now = 10000;
	v12(&f, H2, IGMP_V2_LEAVE, G1);
	advance(f.m, f.c, 10000 + LMQT - 1);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, G1), 4);
	assert_non_null(learned_row(&f, G1));
	advance(f.m, f.c, 10000 + LMQT);
	assert_null(learned_row(&f, G1));
	assert_int_equal(f.c->n_events, 2);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	fx_stop(&f);
}

static void test_fast_leave(void **state)
{
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	f.conf.fast_leave = true;
	fx_start(&f);
	v12(&f, H1, IGMP_V2_REPORT, G1);
	v3(&f, H2, IGMP_MODE_IS_EXCLUDE, G1, NULL, 0);
	assert_int_equal(learned_row(&f, G1)->n_hosts, 2);
	/* One of two tracked hosts leaves: still a member (normal last member query). */
	f.c->now = 1000;
	v12(&f, H1, IGMP_V2_LEAVE, G1);
	assert_non_null(learned_row(&f, G1));
	assert_int_equal(learned_row(&f, G1)->n_hosts, 1);
	f.c->n_frames = 0;
	/* The last tracked host leaves: removed at once, no query. */
	v3(&f, H2, IGMP_CHANGE_TO_INCLUDE, G1, NULL, 0);
	assert_null(learned_row(&f, G1));
	assert_int_equal(f.c->n_frames, 0);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	fx_stop(&f);
}

static void test_v3_include_sources(void **state)
{
	const uint32_t both[] = { S2, S1 }, one[] = { S1 };
	struct fx f = { 0 };
	const struct membership_event *ev;

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	v3(&f, H1, IGMP_ALLOW_NEW_SOURCES, SSM1, both, 2);
	ev = last_event(&f);
	assert_int_equal(ev->type, MEMBERSHIP_JOIN);
	assert_int_equal(ev->mode, MEMBERSHIP_INCLUDE);
	assert_int_equal(ev->n_sources, 2);
	assert_int_equal(ev->sources[0], S1); /* sorted */
	assert_int_equal(ev->sources[1], S2);

	/* BLOCK(S1): group-and-source-specific query for S1, then S1 goes after LMQT. */
	f.c->now = 1000;
	v3(&f, H1, IGMP_BLOCK_OLD_SOURCES, SSM1, one, 1);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, SSM1), 1);
	assert_int_equal(nth_frame(&f, IGMP_MSG_V3_QUERY, SSM1, 0)->n_sources, 1);
	assert_int_equal(igmp_src_at(nth_frame(&f, IGMP_MSG_V3_QUERY, SSM1, 0)->sources, 0), S1);
	assert_false(nth_frame(&f, IGMP_MSG_V3_QUERY, SSM1, 0)->s_flag);
	advance(f.m, f.c, 1000 + LMQT);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, SSM1), 2);
	ev = last_event(&f);
	assert_int_equal(ev->type, MEMBERSHIP_JOIN);
	assert_int_equal(ev->n_sources, 1);
	assert_int_equal(ev->sources[0], S2);

	/* TO_IN({}): query for S2, removal after LMQT. */
	f.c->now = 4000;
	v3(&f, H1, IGMP_CHANGE_TO_INCLUDE, SSM1, NULL, 0);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, SSM1), 3);
	assert_int_equal(igmp_src_at(nth_frame(&f, IGMP_MSG_V3_QUERY, SSM1, 2)->sources, 0), S2);
	advance(f.m, f.c, 4000 + LMQT);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	assert_int_equal(membership_members(f.m, NULL, 0), 0);
	fx_stop(&f);
}

static void test_v3_exclude_mode(void **state)
{
	const uint32_t s1[] = { S1 }, s2[] = { S2 };
	const struct membership_event *ev;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	/* TO_EX({S1}) from INCLUDE({}): EXCLUDE({}, {S1}) -> "all but S1". */
	v3(&f, H1, IGMP_CHANGE_TO_EXCLUDE, G1, s1, 1);
	ev = last_event(&f);
	assert_int_equal(ev->mode, MEMBERSHIP_EXCLUDE);
	assert_int_equal(ev->n_sources, 1);
	assert_int_equal(ev->sources[0], S1);
	/* Another host IS_EX({}): the exclusion goes (Delete Y-A). */
	v3(&f, H2, IGMP_MODE_IS_EXCLUDE, G1, NULL, 0);
	ev = last_event(&f);
	assert_int_equal(ev->mode, MEMBERSHIP_EXCLUDE);
	assert_int_equal(ev->n_sources, 0);
	assert_int_equal(f.c->n_events, 2);
	/* ALLOW(S2) later; when the group timer expires we fall back to INCLUDE({S2}). */
	f.c->now = 5000;
	v3(&f, H2, IGMP_ALLOW_NEW_SOURCES, G1, s2, 1);
	assert_int_equal(f.c->n_events, 2); /* EXCLUDE({}) still forwards everything */
	advance(f.m, f.c, GMI);
	ev = last_event(&f);
	assert_int_equal(ev->type, MEMBERSHIP_JOIN);
	assert_int_equal(ev->mode, MEMBERSHIP_INCLUDE);
	assert_int_equal(ev->n_sources, 1);
	assert_int_equal(ev->sources[0], S2);
	advance(f.m, f.c, 5000 + GMI);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	fx_stop(&f);
}

static void test_nonquerier_lowers_timer(void **state)
{
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	query_from(&f, OTHER_Q, 2, 0, 0, NULL, 0); /* v2 querier: we keep our own QRV/QQI */
	v12(&f, H1, IGMP_V2_REPORT, G1);
	f.c->now = 3000;
	v12(&f, H1, IGMP_V2_LEAVE, G1);
	assert_int_equal(count_frames(&f, IGMP_MSG_V3_QUERY, G1), 0); /* the querier asks */
	assert_non_null(learned_row(&f, G1));
	query_from(&f, OTHER_Q, 2, G1, 0, NULL, 0);
	advance(f.m, f.c, 3000 + LMQT - 1);
	assert_non_null(learned_row(&f, G1));
	advance(f.m, f.c, 3000 + LMQT);
	assert_null(learned_row(&f, G1));
	fx_stop(&f);
}

/* ---- older version compatibility (RFC 3376 §7.3.2) ---------------------------------- */

static void test_compat_v2_then_v3(void **state)
{
	const uint32_t s1[] = { S1 };
	struct membership_stats st;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	v12(&f, H1, IGMP_V2_REPORT, G1);
	v3(&f, H2, IGMP_MODE_IS_EXCLUDE, G1, NULL, 0);
	assert_int_equal(learned_row(&f, G1)->compat_version, 2);
	/* v2 mode: BLOCK ignored, TO_EX({S1}) is TO_EX({}). */
	f.c->now = 1000;
	v3(&f, H2, IGMP_BLOCK_OLD_SOURCES, G1, s1, 1);
	v3(&f, H2, IGMP_CHANGE_TO_EXCLUDE, G1, s1, 1);
	membership_get_stats(f.m, &st);
	assert_int_equal(st.drops[IGMP_DROP_COMPAT_IGNORED], 1);
	assert_int_equal(f.c->n_events, 1);
	assert_int_equal(last_event(&f)->n_sources, 0);
	/* H2 (v3) keeps refreshing; the v2 host present timer runs out after GMI. */
	for (uint64_t t = 10000; t <= 30000; t += 10000) {
		advance(f.m, f.c, t);
		v3(&f, H2, IGMP_MODE_IS_EXCLUDE, G1, NULL, 0);
	}
	advance(f.m, f.c, GMI + 1);
	assert_int_equal(learned_row(&f, G1)->compat_version, 3);
	/* v3 mode: TO_EX({S1}) queries S1 (Q(G, A-Y)); unanswered, S1 is excluded. */
	f.c->now = 31000;
	v3(&f, H2, IGMP_CHANGE_TO_EXCLUDE, G1, s1, 1);
	assert_non_null(nth_frame(&f, IGMP_MSG_V3_QUERY, G1, 0));
	assert_int_equal(nth_frame(&f, IGMP_MSG_V3_QUERY, G1, 0)->n_sources, 1);
	advance(f.m, f.c, 31000 + LMQT);
	assert_int_equal(last_event(&f)->mode, MEMBERSHIP_EXCLUDE);
	assert_int_equal(last_event(&f)->n_sources, 1);
	assert_int_equal(last_event(&f)->sources[0], S1);
	fx_stop(&f);
}

static void test_compat_v1_ignores_leave(void **state)
{
	struct membership_stats st;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	v12(&f, H1, IGMP_V1_REPORT, G1);
	assert_int_equal(learned_row(&f, G1)->compat_version, 1);
	v12(&f, H2, IGMP_V2_LEAVE, G1);
	membership_get_stats(f.m, &st);
	assert_int_equal(st.drops[IGMP_DROP_COMPAT_IGNORED], 1);
	assert_int_equal(f.c->n_frames, 0); /* no group-specific query */
	advance(f.m, f.c, GMI - 1);
	assert_non_null(learned_row(&f, G1));
	/* v1 gone (timer out) but a v2 host reports: v2 mode, leaves work again. */
	v12(&f, H2, IGMP_V2_REPORT, G1);
	advance(f.m, f.c, GMI + 1);
	assert_int_equal(learned_row(&f, G1)->compat_version, 2);
	v12(&f, H2, IGMP_V2_LEAVE, G1);
	advance(f.m, f.c, GMI + 1 + LMQT);
	assert_null(learned_row(&f, G1));
	fx_stop(&f);
}

static void test_query_version_2(void **state)
{
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	f.conf.version = 2;
	f.c = calloc(1, sizeof(*f.c));
	f.m = cap_create(f.c, &f.conf);
	advance(f.m, f.c, 0);
	assert_int_equal(f.c->frames[0].type, IGMP_MSG_V2_QUERY);
	assert_int_equal(f.c->frames[0].max_resp_ds, 20);
	v12(&f, H1, IGMP_V2_REPORT, G1);
	v12(&f, H1, IGMP_V2_LEAVE, G1);
	assert_int_equal(count_frames(&f, IGMP_MSG_V2_QUERY, G1), 1);
	fx_stop(&f);
}

/* ---- events ---------------------------------------------------------------------- */

static void test_flapping_host_is_coalesced(void **state)
{
	struct membership_stats st;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	f.conf.fast_leave = true;
	f.conf.event_holddown_ms = 1000;
	fx_start(&f);
	v12(&f, H1, IGMP_V2_REPORT, G1); /* first change: at once */
	assert_int_equal(f.c->n_events, 1);
	for (uint64_t t = 100; t < 900; t += 100) {
		f.c->now = t;
		v12(&f, H1, (t / 100) % 2 ? IGMP_V2_LEAVE : IGMP_V2_REPORT, G1);
	}
	/* 8 flaps, ending joined: at the end of the hold-down nothing to say. */
	advance(f.m, f.c, 1000);
	assert_int_equal(f.c->n_events, 1);
	membership_get_stats(f.m, &st);
	assert_int_equal(st.coalesced, 1);
	/* Leave after the hold-down: reported at once. */
	f.c->now = 1500;
	v12(&f, H1, IGMP_V2_LEAVE, G1);
	assert_int_equal(f.c->n_events, 2);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	/* Join + leave inside the hold-down: a join at its end would be wrong; none is sent. */
	f.c->now = 1600;
	v12(&f, H1, IGMP_V2_REPORT, G1);
	f.c->now = 1700;
	v12(&f, H1, IGMP_V2_LEAVE, G1);
	advance(f.m, f.c, 5000);
	assert_int_equal(f.c->n_events, 2);
	assert_int_equal(membership_members(f.m, NULL, 0), 0);
	fx_stop(&f);
}

static void count_reported(void *ctx, const struct membership_event *ev)
{
	(void)ev;
	(*(int *)ctx)++;
}

/* ---- source discovery and announcements ------------------------------------------- */

static void test_source_discovery(void **state)
{
	struct membership_member rows[8];
	struct fx f = { 0 };
	int n = 0;

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	assert_int_equal(membership_group_counters(f.m, G2, 5, 0), -ENOENT);
	assert_int_equal(membership_source_active(f.m, G2, H1), 0);
	assert_int_equal(last_event(&f)->role, MEMBERSHIP_ROLE_SENDER);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_JOIN);
	assert_int_equal(last_event(&f)->n_sources, 1);
	assert_int_equal(last_event(&f)->sources[0], H1);
	assert_int_equal(membership_members(f.m, rows, 8), 2);
	assert_int_equal(rows[0].origin, MEMBERSHIP_ORIGIN_DISCOVERED);
	assert_int_equal(rows[0].remaining_ms, 5000);
	membership_foreach_reported(f.m, count_reported, &n);
	assert_int_equal(n, 1);

	/* Counters that move keep the role; counters that stand still do not. */
	f.c->now = 4000;
	assert_int_equal(membership_group_counters(f.m, G2, 100, 3900), 0);
	f.c->now = 8000;
	assert_int_equal(membership_group_counters(f.m, G2, 100, 3900), 0);
	advance(f.m, f.c, 8899);
	assert_int_equal(f.c->n_events, 1);
	advance(f.m, f.c, 8900);
	assert_int_equal(f.c->n_events, 2);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	assert_int_equal(last_event(&f)->role, MEMBERSHIP_ROLE_SENDER);
	assert_int_equal(membership_members(f.m, NULL, 0), 0);
	assert_int_equal(membership_source_active(f.m, IP(224, 0, 0, 5), H1), -EINVAL);
	fx_stop(&f);
}

static void test_announcements(void **state)
{
	const uint32_t s1[] = { S1 };
	struct membership_member rows[8];
	const struct membership_event *ev;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	fx_start(&f);
	assert_int_equal(membership_announce(f.m, SSM1, MEMBERSHIP_ROLE_RECEIVER, 0, 5), -EINVAL);
	assert_int_equal(membership_announce(f.m, G1, MEMBERSHIP_ROLE_RECEIVER, 0, 0), -ENOENT);
	assert_int_equal(membership_announce(f.m, G1, MEMBERSHIP_ROLE_RECEIVER, 0, 5), 0);
	ev = last_event(&f);
	assert_int_equal(ev->type, MEMBERSHIP_JOIN);
	assert_int_equal(ev->mode, MEMBERSHIP_EXCLUDE);
	assert_int_equal(membership_members(f.m, rows, 8), 1);
	assert_int_equal(rows[0].origin, MEMBERSHIP_ORIGIN_ANNOUNCED);
	assert_int_equal(rows[0].remaining_ms, 5000);
	/* Renewed before expiry: no new event, expiry moves. */
	f.c->now = 4000;
	assert_int_equal(membership_announce(f.m, G1, MEMBERSHIP_ROLE_RECEIVER, 0, 5), 0);
	advance(f.m, f.c, 8999);
	assert_int_equal(f.c->n_events, 1);
	advance(f.m, f.c, 9000);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);

	/* Announced SSM source merges with the learned INCLUDE list. */
	v3(&f, H1, IGMP_MODE_IS_INCLUDE, SSM1, s1, 1);
	assert_int_equal(membership_announce(f.m, SSM1, MEMBERSHIP_ROLE_RECEIVER, S3, 60), 0);
	ev = last_event(&f);
	assert_int_equal(ev->mode, MEMBERSHIP_INCLUDE);
	assert_int_equal(ev->n_sources, 2);
	assert_int_equal(ev->sources[0], S1);
	assert_int_equal(ev->sources[1], S3);
	/* A sender announcement, then its explicit removal. */
	assert_int_equal(membership_announce(f.m, G2, MEMBERSHIP_ROLE_SENDER, H2, 60), 0);
	assert_int_equal(last_event(&f)->role, MEMBERSHIP_ROLE_SENDER);
	assert_int_equal(last_event(&f)->sources[0], H2);
	assert_int_equal(membership_announce(f.m, G2, MEMBERSHIP_ROLE_SENDER, H2, 0), 0);
	assert_int_equal(last_event(&f)->type, MEMBERSHIP_LEAVE);
	assert_int_equal(last_event(&f)->group, G2);
	fx_stop(&f);
}

static void test_predefined_groups(void **state)
{
	struct membership_member rows[4];
	struct fx f = { 0 };
	struct igmp_record_iter it = { 0 };
	struct igmp_record rec;

	(void)state;
	conf_short(&f.conf);
	f.conf.n_predefined = 1;
	f.conf.predefined[0] = G2;
	f.c = calloc(1, sizeof(*f.c));
	f.m = cap_create(f.c, &f.conf);
	advance(f.m, f.c, 0);
	/* Our general query, then our own report for the pre-defined group. */
	assert_int_equal(f.c->n_frames, 2);
	assert_int_equal(f.c->frames[1].type, IGMP_MSG_V3_REPORT);
	assert_int_equal(f.c->frames[1].ip_dst, IGMP_V3_ROUTERS);
	assert_true(igmp_record_next(&f.c->frames[1], &it, &rec));
	assert_int_equal(rec.type, IGMP_MODE_IS_EXCLUDE);
	assert_int_equal(rec.group, G2);
	/* An inner router's v2 query: answered with a v2 report; group query too. */
	query_from(&f, OTHER_Q, 2, 0, 0, NULL, 0);
	assert_int_equal(count_frames(&f, IGMP_MSG_V2_REPORT, G2), 1);
	query_from(&f, OTHER_Q, 2, G2, 0, NULL, 0);
	assert_int_equal(count_frames(&f, IGMP_MSG_V2_REPORT, G2), 2);
	query_from(&f, OTHER_Q, 2, G1, 0, NULL, 0);
	assert_int_equal(count_frames(&f, IGMP_MSG_V2_REPORT, G2), 2);
	assert_int_equal(membership_members(f.m, rows, 4), 1);
	assert_int_equal(rows[0].origin, MEMBERSHIP_ORIGIN_PREDEFINED);
	assert_int_equal(f.c->n_events, 0); /* not a receiver membership of its own */
	fx_stop(&f);
}

/* ---- limits ------------------------------------------------------------------------- */

static void test_limits(void **state)
{
	const uint32_t three[] = { S1, S2, S3 };
	struct membership_stats st;
	struct fx f = { 0 };

	(void)state;
	conf_short(&f.conf);
	f.conf.max_groups = 2;
	f.conf.max_sources = 2;
	fx_start(&f);
	v12(&f, H1, IGMP_V2_REPORT, G1);
	v12(&f, H1, IGMP_V2_REPORT, G2);
	v12(&f, H1, IGMP_V2_REPORT, IP(239, 3, 3, 3));
	v3(&f, H1, IGMP_MODE_IS_INCLUDE, G1, three, 3);
	membership_get_stats(f.m, &st);
	assert_int_equal(st.drops[IGMP_DROP_GROUPS_FULL], 1);
	assert_int_equal(st.drops[IGMP_DROP_SOURCES_FULL], 1);
	assert_null(learned_row(&f, IP(239, 3, 3, 3)));
	assert_int_equal(membership_announce(f.m, IP(239, 4, 4, 4), MEMBERSHIP_ROLE_RECEIVER, 0, 5),
		-ENOSPC);
	fx_stop(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_startup_and_general_queries),
		cmocka_unit_test(test_querier_handover_and_takeback),
		cmocka_unit_test(test_v2_join_expires_after_gmi),
		cmocka_unit_test(test_leave_last_member_queries),
		cmocka_unit_test(test_fast_leave),
		cmocka_unit_test(test_v3_include_sources),
		cmocka_unit_test(test_v3_exclude_mode),
		cmocka_unit_test(test_nonquerier_lowers_timer),
		cmocka_unit_test(test_compat_v2_then_v3),
		cmocka_unit_test(test_compat_v1_ignores_leave),
		cmocka_unit_test(test_query_version_2),
		cmocka_unit_test(test_flapping_host_is_coalesced),
		cmocka_unit_test(test_source_discovery),
		cmocka_unit_test(test_announcements),
		cmocka_unit_test(test_predefined_groups),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
