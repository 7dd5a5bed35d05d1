/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Group table and the router side of IGMPv3 (RFC 3376 §6.4), with the older
 * version host compatibility of §7.3.2 and explicit host tracking for fast
 * leave. v1/v2 reports and leaves are mapped to v3 records (IS_EX({}),
 * TO_IN({})) so there is one state machine.
 */
#include "mship_priv.h"

#include "igmp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- group table (sorted array of pointers, binary search) ---------------- */

static uint32_t mg_index(const struct membership *m, uint32_t group, bool *found)
{
	uint32_t lo = 0, hi = m->n_groups;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (m->groups[mid]->group < group)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < m->n_groups && m->groups[lo]->group == group;
	return lo;
}

struct mgroup *mg_find(const struct membership *m, uint32_t group)
{
	bool found;
	uint32_t i = mg_index(m, group, &found);

	return found ? m->groups[i] : NULL;
}

static void mg_free(struct mgroup *g)
{
	free(g->src);
	free(g->hosts);
	free(g->senders);
	free(g->rep[0].sources);
	free(g->rep[1].sources);
	free(g);
}

static struct mgroup *mg_alloc(const struct membership *m, uint32_t group)
{
	struct mgroup *g = calloc(1, sizeof(*g));
	uint32_t ns = m->conf.max_sources;

	if (g == NULL)
		return NULL;
	g->group = group;
	g->src = calloc(ns, sizeof(*g->src));
	g->hosts = calloc(m->conf.max_hosts, sizeof(*g->hosts));
	g->senders = calloc(ns, sizeof(*g->senders));
	g->rep[0].sources = calloc(ns, sizeof(uint32_t));
	g->rep[1].sources = calloc(ns, sizeof(uint32_t));
	if (g->src == NULL || g->hosts == NULL || g->senders == NULL || g->rep[0].sources == NULL ||
		g->rep[1].sources == NULL) {
		mg_free(g);
		return NULL;
	}
	g->mode = MEMBERSHIP_INCLUDE;
	return g;
}

struct mgroup *mg_get(struct membership *m, uint32_t group)
{
	bool found;
	uint32_t i = mg_index(m, group, &found);
	struct mgroup *g;

	if (found)
		return m->groups[i];
	if (m->n_groups >= m->conf.max_groups) {
		mship_drop(m, IGMP_DROP_GROUPS_FULL);
		return NULL;
	}
	g = mg_alloc(m, group);
	if (g == NULL)
		return NULL;
	memmove(&m->groups[i + 1], &m->groups[i], (m->n_groups - i) * sizeof(m->groups[0]));
	m->groups[i] = g;
	m->n_groups++;
	return g;
}

/*
 * An entry also lives through the hold-down after its last event, so that a
 * flap right after a leave is still coalesced (the hold-down is not forgotten).
 */
static bool in_holddown(const struct membership *m, const struct mgroup *g, uint64_t now)
{
	for (int r = 0; r < REP_MAX; r++)
		if (g->rep[r].emitted && now < g->rep[r].last_emit + m->conf.event_holddown_ms)
			return true;
	return false;
}

void mg_gc(struct membership *m, struct mgroup *g)
{
	bool found;
	uint32_t i;

	if (g->learned || g->sender || g->rep[0].present || g->rep[1].present ||
		g->rep[0].pending || g->rep[1].pending || ms_has_announcement(m, g->group) ||
		in_holddown(m, g, mship_now(m)))
		return;
	i = mg_index(m, g->group, &found);
	if (!found || m->groups[i] != g)
		return;
	memmove(&m->groups[i], &m->groups[i + 1], (m->n_groups - i - 1) * sizeof(m->groups[0]));
	m->n_groups--;
	mg_free(g);
}

void mg_clear_learned(struct mgroup *g)
{
	g->learned = false;
	g->mode = MEMBERSHIP_INCLUDE;
	g->group_timer = 0;
	g->v1_host_timer = 0;
	g->v2_host_timer = 0;
	g->n_src = 0;
	g->gq_retx = 0;
	g->next_specific = 0;
	g->n_hosts = 0;
	g->untracked = false;
	me_mark(g, REP_RECEIVER);
}

/* Group compatibility mode, RFC 3376 §7.3.2: the oldest version host present. */
uint8_t mg_compat(const struct mgroup *g, uint64_t now)
{
	if (g->v1_host_timer > now)
		return 1;
	if (g->v2_host_timer > now)
		return 2;
	return 3;
}

/* ---- source records ------------------------------------------------------- */

static int src_find(const struct mgroup *g, uint32_t addr)
{
	for (uint32_t i = 0; i < g->n_src; i++)
		if (g->src[i].addr == addr)
			return (int)i;
	return -1;
}

static struct msrc *src_add(struct membership *m, struct mgroup *g, uint32_t addr, uint64_t timer)
{
	int i = src_find(g, addr);

	if (i >= 0)
		return &g->src[i];
	if (g->n_src >= m->conf.max_sources) {
		mship_drop(m, IGMP_DROP_SOURCES_FULL);
		return NULL;
	}
	g->src[g->n_src] = (struct msrc){ .addr = addr, .timer = timer };
	return &g->src[g->n_src++];
}

static bool in_list(const uint8_t *list, uint16_t n, uint32_t addr)
{
	for (uint16_t i = 0; i < n; i++)
		if (igmp_src_at(list, i) == addr)
			return true;
	return false;
}

/* Delete the sources for which keep(in B) is false. */
static void src_keep_only_in(struct mgroup *g, const uint8_t *b, uint16_t nb)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < g->n_src; i++)
		if (in_list(b, nb, g->src[i].addr))
			g->src[j++] = g->src[i];
	g->n_src = j;
}

/* Set the timer of every source in B to @p timer (adding those missing). */
static void src_set_all(
	struct membership *m, struct mgroup *g, const uint8_t *b, uint16_t nb, uint64_t timer)
{
	for (uint16_t i = 0; i < nb; i++) {
		struct msrc *s = src_add(m, g, igmp_src_at(b, i), timer);

		if (s != NULL)
			s->timer = timer;
	}
}

/* Add the sources of B not yet present with @p timer; existing ones keep theirs. */
static void src_add_new(
	struct membership *m, struct mgroup *g, const uint8_t *b, uint16_t nb, uint64_t timer)
{
	for (uint16_t i = 0; i < nb; i++)
		if (src_find(g, igmp_src_at(b, i)) < 0)
			(void)src_add(m, g, igmp_src_at(b, i), timer);
}

/*
 * Q(G, S): lower the source timers to LMQT and schedule LMQC retransmissions
 * (§6.6.3.2). Only the querier sends; a non-querier lowers its timers when it
 * hears the querier's query (mg_query_seen).
 */
enum qsel { Q_IN_B, Q_NOT_IN_B, Q_IN_B_RUNNING };

static void query_sources(struct membership *m, struct mgroup *g, const uint8_t *b, uint16_t nb,
	enum qsel sel, uint64_t now)
{
	uint64_t lmqt = now + mship_lmqt(m);
	bool any = false;

	if (!m->is_querier || m->conf.version < 3)
		return;
	for (uint32_t i = 0; i < g->n_src; i++) {
		struct msrc *s = &g->src[i];
		bool in = in_list(b, nb, s->addr);

		if (s->timer <= now)
			continue; /* only sources being forwarded (A*B, A-Y, X-A) */
		if ((sel == Q_NOT_IN_B && in) || (sel != Q_NOT_IN_B && !in))
			continue;
		if (s->timer > lmqt)
			s->timer = lmqt;
		s->retx = (uint8_t)m->lmqc;
		any = true;
	}
	if (any)
		g->next_specific = now;
}

/* ---- RFC 3376 §6.4.1 / §6.4.2 tables --------------------------------------- */

static void rx_include(struct membership *m, struct mgroup *g, uint8_t type, const uint8_t *b,
	uint16_t nb, uint64_t now)
{
	uint64_t gmi = now + mship_gmi(m);

	switch (type) {
	case IGMP_MODE_IS_INCLUDE: /* INCLUDE(A+B); (B)=GMI */
	case IGMP_ALLOW_NEW_SOURCES:
		src_set_all(m, g, b, nb, gmi);
		break;
	case IGMP_MODE_IS_EXCLUDE: /* EXCLUDE(A*B, B-A); (B-A)=0; Delete(A-B); GT=GMI */
	case IGMP_CHANGE_TO_EXCLUDE:
		src_keep_only_in(g, b, nb);
		src_add_new(m, g, b, nb, 0);
		g->mode = MEMBERSHIP_EXCLUDE;
		g->group_timer = gmi;
		if (type == IGMP_CHANGE_TO_EXCLUDE) /* Send Q(G, A*B) */
			query_sources(m, g, b, nb, Q_IN_B, now);
		break;
	case IGMP_BLOCK_OLD_SOURCES: /* Send Q(G, A*B) */
		query_sources(m, g, b, nb, Q_IN_B, now);
		break;
	case IGMP_CHANGE_TO_INCLUDE: /* INCLUDE(A+B); (B)=GMI; Send Q(G, A-B) */
		src_set_all(m, g, b, nb, gmi);
		query_sources(m, g, b, nb, Q_NOT_IN_B, now);
		break;
	}
}

static void rx_exclude(struct membership *m, struct mgroup *g, uint8_t type, const uint8_t *b,
	uint16_t nb, uint64_t now)
{
	uint64_t gmi = now + mship_gmi(m);

	switch (type) {
	case IGMP_MODE_IS_INCLUDE: /* EXCLUDE(X+A, Y-A); (A)=GMI */
	case IGMP_ALLOW_NEW_SOURCES:
		src_set_all(m, g, b, nb, gmi);
		break;
	case IGMP_MODE_IS_EXCLUDE: /* EXCLUDE(A-Y, Y*A); (A-X-Y)=GMI; Delete(X-A, Y-A); GT=GMI */
		src_keep_only_in(g, b, nb);
		src_add_new(m, g, b, nb, gmi);
		g->group_timer = gmi;
		break;
	case IGMP_BLOCK_OLD_SOURCES: /* EXCLUDE(X+(A-Y), Y); (A-X-Y)=GT; Send Q(G, A-Y) */
		src_add_new(m, g, b, nb, g->group_timer);
		query_sources(m, g, b, nb, Q_IN_B_RUNNING, now);
		break;
	case IGMP_CHANGE_TO_EXCLUDE: /* as IS_EX but (A-X-Y)=GT; Send Q(G, A-Y); GT=GMI */
		src_keep_only_in(g, b, nb);
		src_add_new(m, g, b, nb, g->group_timer);
		query_sources(m, g, b, nb, Q_IN_B_RUNNING, now);
		g->group_timer = gmi;
		break;
	case IGMP_CHANGE_TO_INCLUDE: /* EXCLUDE(X+A, Y-A); (A)=GMI; Send Q(G, X-A); Send Q(G) */
		src_set_all(m, g, b, nb, gmi);
		query_sources(m, g, b, nb, Q_NOT_IN_B, now);
		mq_group_query(m, g, now);
		break;
	}
}

/* ---- host tracking (fast leave) ------------------------------------------- */

static void host_refresh(struct membership *m, struct mgroup *g, uint32_t addr, uint64_t now)
{
	if (addr == 0) {
		g->untracked = true; /* cannot tell 0.0.0.0 reporters apart */
		return;
	}
	for (uint32_t i = 0; i < g->n_hosts; i++) {
		if (g->hosts[i].addr == addr) {
			g->hosts[i].expires = now + mship_gmi(m);
			return;
		}
	}
	if (g->n_hosts >= m->conf.max_hosts) {
		g->untracked = true;
		return;
	}
	g->hosts[g->n_hosts++] = (struct mhost){ .addr = addr, .expires = now + mship_gmi(m) };
}

static void host_remove(struct mgroup *g, uint32_t addr)
{
	for (uint32_t i = 0; i < g->n_hosts; i++) {
		if (g->hosts[i].addr == addr) {
			g->hosts[i] = g->hosts[--g->n_hosts];
			return;
		}
	}
}

/* ---- one record ------------------------------------------------------------ */

static bool record_valid(struct membership *m, uint8_t type, uint32_t group)
{
	if (!ipv4_is_multicast(group)) {
		mship_drop(m, IGMP_DROP_BAD_GROUP);
		return false;
	}
	if (ipv4_is_link_local_mcast(group)) {
		mship_drop(m, IGMP_DROP_LINK_LOCAL_GROUP);
		return false;
	}
	if (type < IGMP_MODE_IS_INCLUDE || type > IGMP_BLOCK_OLD_SOURCES) {
		mship_drop(m, IGMP_DROP_UNKNOWN_RECORD_TYPE);
		return false;
	}
	/* RFC 4604 §2.2.1: no EXCLUDE (ASM) interest in the SSM range. */
	if (mship_is_ssm(m, group) &&
		(type == IGMP_MODE_IS_EXCLUDE || type == IGMP_CHANGE_TO_EXCLUDE)) {
		mship_drop(m, IGMP_DROP_SSM_ASM_IGNORED);
		return false;
	}
	return true;
}

static void apply_record(struct membership *m, uint32_t host, uint8_t type, uint32_t group,
	const uint8_t *b, uint16_t nb, uint64_t now)
{
	bool leave = (type == IGMP_CHANGE_TO_INCLUDE || type == IGMP_MODE_IS_INCLUDE) && nb == 0;
	struct mgroup *g = mg_find(m, group);
	uint8_t compat;

	if (!record_valid(m, type, group))
		return;
	/* INCLUDE({}) is "no state": records that only remove need no entry. */
	if ((g == NULL || !g->learned) && (leave || type == IGMP_BLOCK_OLD_SOURCES))
		return;
	if (g == NULL && (g = mg_get(m, group)) == NULL)
		return;
	compat = mg_compat(g, now);
	if (compat < 3 && type == IGMP_BLOCK_OLD_SOURCES) { /* §7.3.2: BLOCK ignored */
		mship_drop(m, IGMP_DROP_COMPAT_IGNORED);
		return;
	}
	if (compat < 3 && type == IGMP_CHANGE_TO_EXCLUDE)
		nb = 0; /* §7.3.2: TO_EX(x) treated as TO_EX({}) */
	if (leave) {
		host_remove(g, host);
		if (m->conf.fast_leave && !g->untracked && g->n_hosts == 0) {
			mg_clear_learned(g);
			return;
		}
	} else if (type != IGMP_BLOCK_OLD_SOURCES) {
		host_refresh(m, g, host, now);
	}
	if (!g->learned) {
		g->learned = true;
		g->mode = MEMBERSHIP_INCLUDE;
	}
	if (g->mode == MEMBERSHIP_INCLUDE)
		rx_include(m, g, type, b, nb, now);
	else
		rx_exclude(m, g, type, b, nb, now);
	if (g->mode == MEMBERSHIP_INCLUDE && g->n_src == 0)
		mg_clear_learned(g);
	me_mark(g, REP_RECEIVER);
}

void mg_report(struct membership *m, const struct igmp_msg *msg)
{
	uint64_t now = mship_now(m);
	struct igmp_record_iter it = { 0 };
	struct igmp_record rec;
	struct mgroup *g;

	switch (msg->type) {
	case IGMP_MSG_V1_REPORT:
	case IGMP_MSG_V2_REPORT:
		/* A v1/v2 report is IS_EX({}) and marks an older host present, §7.3.2. */
		if (mship_is_ssm(m, msg->group)) {
			mship_drop(m, IGMP_DROP_SSM_ASM_IGNORED);
			return;
		}
		apply_record(m, msg->ip_src, IGMP_MODE_IS_EXCLUDE, msg->group, NULL, 0, now);
		g = mg_find(m, msg->group);
		if (g == NULL || !g->learned)
			return;
		if (msg->type == IGMP_MSG_V1_REPORT)
			g->v1_host_timer = now + mship_gmi(m);
		else
			g->v2_host_timer = now + mship_gmi(m);
		return;
	case IGMP_MSG_V2_LEAVE:
		/* A v2 leave is TO_IN({}); ignored while a v1 host is present, §7.3.2. */
		g = mg_find(m, msg->group);
		if (g != NULL && g->learned && mg_compat(g, now) == 1) {
			mship_drop(m, IGMP_DROP_COMPAT_IGNORED);
			return;
		}
		apply_record(m, msg->ip_src, IGMP_CHANGE_TO_INCLUDE, msg->group, NULL, 0, now);
		return;
	case IGMP_MSG_V3_REPORT:
		while (igmp_record_next(msg, &it, &rec))
			apply_record(m, msg->ip_src, rec.type, rec.group, rec.sources,
				rec.n_sources, now);
		return;
	default:
		return;
	}
}

/*
 * A query from the querier while we are not it (§6.6.1): with S clear, a
 * group-specific query lowers the group timer and a group-and-source-specific
 * query the source timers, to LMQT.
 */
void mg_query_seen(struct membership *m, const struct igmp_msg *msg)
{
	uint64_t now = mship_now(m);
	uint64_t lmqt = now + mship_lmqt(m);
	struct mgroup *g;

	if (m->is_querier || msg->group == 0 || msg->s_flag || msg->type == IGMP_MSG_V1_QUERY)
		return;
	g = mg_find(m, msg->group);
	if (g == NULL || !g->learned)
		return;
	if (msg->n_sources == 0) {
		if (g->mode == MEMBERSHIP_EXCLUDE && g->group_timer > lmqt)
			g->group_timer = lmqt;
		return;
	}
	for (uint16_t i = 0; i < msg->n_sources; i++) {
		int j = src_find(g, igmp_src_at(msg->sources, i));

		if (j >= 0 && g->src[j].timer > lmqt)
			g->src[j].timer = lmqt;
	}
}

/* ---- timers ---------------------------------------------------------------- */

static void expire_hosts(struct mgroup *g, uint64_t now)
{
	for (uint32_t i = 0; i < g->n_hosts;) {
		if (g->hosts[i].expires <= now)
			g->hosts[i] = g->hosts[--g->n_hosts];
		else
			i++;
	}
}

/* §6.3 / §6.5: source and group timer expiry. */
static void expire_learned(struct mgroup *g, uint64_t now)
{
	uint32_t j = 0;
	bool changed = false;

	if (g->mode == MEMBERSHIP_EXCLUDE && g->group_timer <= now) {
		/* Group timer expired: to INCLUDE with the sources still running. */
		for (uint32_t i = 0; i < g->n_src; i++)
			if (g->src[i].timer > now)
				g->src[j++] = g->src[i];
		g->n_src = j;
		g->mode = MEMBERSHIP_INCLUDE;
		g->group_timer = 0;
		changed = true;
	} else if (g->mode == MEMBERSHIP_INCLUDE) {
		for (uint32_t i = 0; i < g->n_src; i++)
			if (g->src[i].timer > now)
				g->src[j++] = g->src[i];
		changed = j != g->n_src;
		g->n_src = j;
	} else {
		/* EXCLUDE: an expired source is no longer forwarded (moves to Y). */
		for (uint32_t i = 0; i < g->n_src; i++) {
			if (g->src[i].timer != 0 && g->src[i].timer <= now) {
				g->src[i].timer = 0;
				g->src[i].retx = 0;
				changed = true;
			}
		}
	}
	if (g->v1_host_timer != 0 && g->v1_host_timer <= now)
		g->v1_host_timer = 0;
	if (g->v2_host_timer != 0 && g->v2_host_timer <= now)
		g->v2_host_timer = 0;
	if (g->mode == MEMBERSHIP_INCLUDE && g->n_src == 0)
		mg_clear_learned(g);
	else if (changed)
		me_mark(g, REP_RECEIVER);
}

void mg_expire(struct membership *m, struct mgroup *g, uint64_t now)
{
	if (g->learned) {
		if (g->next_specific != 0 && g->next_specific <= now)
			mq_specific_tick(m, g, now);
		expire_hosts(g, now);
		expire_learned(g, now);
	}
	if (g->sender && now >= g->sender_last + m->conf.source_inactivity_timeout_ms) {
		g->sender = false;
		g->n_senders = 0;
		me_mark(g, REP_SENDER);
	}
}

static uint64_t min_t(uint64_t a, uint64_t b)
{
	if (b == 0)
		return a;
	return a < b ? a : b;
}

uint64_t mg_deadline(const struct membership *m, const struct mgroup *g)
{
	uint64_t d = UINT64_MAX;

	if (g->learned) {
		if (g->mode == MEMBERSHIP_EXCLUDE)
			d = min_t(d, g->group_timer);
		for (uint32_t i = 0; i < g->n_src; i++)
			d = min_t(d, g->src[i].timer);
		for (uint32_t i = 0; i < g->n_hosts; i++)
			d = min_t(d, g->hosts[i].expires);
		d = min_t(d, g->v1_host_timer);
		d = min_t(d, g->v2_host_timer);
		d = min_t(d, g->next_specific);
	}
	if (g->sender)
		d = min_t(d, g->sender_last + m->conf.source_inactivity_timeout_ms);
	return min_t(d, me_deadline(m, g));
}
