/* SPDX-License-Identifier: BSD-3-Clause */
/* Life cycle, input dispatch, timers and read-only queries of the membership module. */
#include "mship_priv.h"

#include "igmp.h"

#include "common/log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t mship_robustness(const struct membership *m)
{
	return !m->is_querier && m->learned_qrv != 0 ? m->learned_qrv : m->conf.robustness;
}

uint64_t mship_qi(const struct membership *m)
{
	return !m->is_querier && m->learned_qqi_ms != 0 ? m->learned_qqi_ms
							: m->conf.query_interval_ms;
}

uint64_t mship_gmi(const struct membership *m)
{
	return mship_robustness(m) * mship_qi(m) + m->conf.query_response_interval_ms;
}

uint64_t mship_lmqt(const struct membership *m)
{
	return (uint64_t)m->conf.last_member_query_interval_ms * m->lmqc;
}

bool mship_is_ssm(const struct membership *m, uint32_t group)
{
	return (group & m->conf.ssm_mask) == m->conf.ssm_net;
}

struct membership *membership_create(const struct membership_params *p)
{
	struct membership *m;
	char err[256];

	if (p == NULL || p->lan_prefix_len > 32) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	if (p->conf != NULL)
		m->conf = *p->conf;
	else
		membership_conf_defaults(&m->conf);
	if (membership_conf_validate(&m->conf, err, sizeof(err)) != 0) {
		LOG_ERR("membership", "%s", err);
		free(m);
		errno = EINVAL;
		return NULL;
	}
	m->lmqc = membership_conf_lmqc(&m->conf);
	m->lan_addr = p->lan_addr;
	m->lan_mask = p->lan_prefix_len == 0 ? 0 : 0xffffffffu << (32 - p->lan_prefix_len);
	memcpy(m->mac, p->lan_mac, sizeof(m->mac));
	m->clock = p->clock.now_ms != NULL ? p->clock : vprn_clock_monotonic();
	m->ops = p->ops;
	m->groups = calloc(m->conf.max_groups, sizeof(*m->groups));
	m->ann = calloc(m->conf.max_announcements, sizeof(*m->ann));
	m->scratch = calloc(2 * (size_t)m->conf.max_sources + 1, sizeof(uint32_t));
	if (m->groups == NULL || m->ann == NULL || m->scratch == NULL) {
		membership_destroy(m);
		errno = ENOMEM;
		return NULL;
	}
	mq_start(m, mship_now(m));
	return m;
}

void membership_destroy(struct membership *m)
{
	if (m == NULL)
		return;
	for (uint32_t i = 0; i < m->n_groups; i++) {
		struct mgroup *g = m->groups[i];

		free(g->src);
		free(g->hosts);
		free(g->senders);
		free(g->rep[0].sources);
		free(g->rep[1].sources);
		free(g);
	}
	free(m->groups);
	free(m->ann);
	free(m->scratch);
	free(m);
}

/*
 * Send the specific queries an input just scheduled, emit what is due and
 * drop the group if it holds nothing.
 */
static void flush_group(struct membership *m, struct mgroup *g, uint64_t now)
{
	if (g->learned && g->next_specific != 0 && g->next_specific <= now)
		mq_specific_tick(m, g, now);
	me_flush(m, g, now);
	mg_gc(m, g);
}

/* Every group (timers); backwards because gc shifts the array. */
static void flush_all(struct membership *m, uint64_t now)
{
	for (uint32_t i = m->n_groups; i-- > 0;)
		flush_group(m, m->groups[i], now);
}

/* Only the groups a message named: an IGMP packet costs O(its records), not O(groups). */
static void flush_msg(struct membership *m, const struct igmp_msg *msg, uint64_t now)
{
	struct igmp_record_iter it = { 0 };
	struct igmp_record rec;
	struct mgroup *g;

	if (msg->type != IGMP_MSG_V3_REPORT) {
		g = msg->group != 0 ? mg_find(m, msg->group) : NULL;
		if (g != NULL)
			flush_group(m, g, now);
		return;
	}
	while (igmp_record_next(msg, &it, &rec))
		if ((g = mg_find(m, rec.group)) != NULL)
			flush_group(m, g, now);
}

int membership_rx_igmp(
	struct membership *m, const uint8_t *buf, size_t len, const struct membership_rx_info *info)
{
	struct igmp_msg msg;
	enum igmp_drop r;

	r = igmp_parse(buf, len, info != NULL && info->l2 ? IGMP_L2_ETHER : IGMP_L2_NONE, &msg);
	if (r == IGMP_OK && msg.ip_src == m->lan_addr)
		r = IGMP_DROP_OWN_PACKET;
	if (r == IGMP_OK && m->lan_mask != 0 && msg.ip_src != 0 &&
		(msg.ip_src & m->lan_mask) != (m->lan_addr & m->lan_mask))
		r = IGMP_DROP_BAD_SOURCE; /* RFC 3376 §9.1: off-link reports are ignored */
	if (r != IGMP_OK) {
		mship_drop(m, r);
		return -EINVAL;
	}
	m->stats.rx[msg.type]++;
	switch (msg.type) {
	case IGMP_MSG_V1_QUERY:
	case IGMP_MSG_V2_QUERY:
	case IGMP_MSG_V3_QUERY:
		mq_rx_query(m, &msg);
		break;
	default:
		mg_report(m, &msg);
		break;
	}
	flush_msg(m, &msg, mship_now(m));
	return 0;
}

void membership_timer(struct membership *m)
{
	uint64_t now = mship_now(m);

	mq_timer(m, now);
	for (uint32_t i = 0; i < m->n_groups; i++)
		mg_expire(m, m->groups[i], now);
	ms_expire(m, now);
	flush_all(m, now);
}

uint64_t membership_next_deadline(const struct membership *m)
{
	uint64_t d = mq_deadline(m);
	uint64_t t = ms_deadline(m);

	if (t < d)
		d = t;
	for (uint32_t i = 0; i < m->n_groups; i++) {
		t = mg_deadline(m, m->groups[i]);
		if (t < d)
			d = t;
	}
	return d == UINT64_MAX ? d : d - 1; /* back to the caller's clock */
}

/* ---- read-only queries ------------------------------------------------------ */

static uint64_t remaining(uint64_t deadline, uint64_t now)
{
	if (deadline == 0)
		return UINT64_MAX;
	return deadline > now ? deadline - now : 0;
}

static void put_row(
	struct membership_member *out, size_t max, size_t *n, const struct membership_member *row)
{
	if (*n < max)
		out[*n] = *row;
	(*n)++;
}

static void rows_learned(const struct membership *m, const struct mgroup *g, uint64_t now,
	struct membership_member *out, size_t max, size_t *n)
{
	struct membership_member row = { .group = g->group,
		.role = MEMBERSHIP_ROLE_RECEIVER,
		.origin = MEMBERSHIP_ORIGIN_LEARNED,
		.mode = g->mode,
		.compat_version = mg_compat(g, now),
		.n_hosts = g->n_hosts };
	uint64_t last = 0;

	(void)m;
	for (uint32_t i = 0; i < g->n_src; i++)
		if (g->src[i].timer > last)
			last = g->src[i].timer;
	row.remaining_ms = remaining(g->mode == MEMBERSHIP_EXCLUDE ? g->group_timer : last, now);
	put_row(out, max, n, &row);
	for (uint32_t i = 0; i < g->n_src; i++) {
		bool fwd = g->src[i].timer > now;

		row.source = g->src[i].addr;
		row.mode = fwd ? MEMBERSHIP_INCLUDE : MEMBERSHIP_EXCLUDE;
		row.remaining_ms = remaining(fwd ? g->src[i].timer : g->group_timer, now);
		put_row(out, max, n, &row);
	}
}

static void rows_group(const struct membership *m, const struct mgroup *g, uint64_t now,
	struct membership_member *out, size_t max, size_t *n)
{
	if (g->learned)
		rows_learned(m, g, now, out, max, n);
	for (uint32_t i = 0; i < m->n_ann; i++) {
		const struct mannounce *a = &m->ann[i];
		struct membership_member row = { .group = a->group,
			.source = a->source,
			.role = a->role,
			.origin = MEMBERSHIP_ORIGIN_ANNOUNCED,
			.mode = a->role == MEMBERSHIP_ROLE_RECEIVER && a->source == 0
					? MEMBERSHIP_EXCLUDE
					: MEMBERSHIP_INCLUDE,
			.compat_version = 3,
			.remaining_ms = remaining(a->expires, now) };

		if (a->group == g->group)
			put_row(out, max, n, &row);
	}
	if (g->sender) {
		struct membership_member row = { .group = g->group,
			.role = MEMBERSHIP_ROLE_SENDER,
			.origin = MEMBERSHIP_ORIGIN_DISCOVERED,
			.mode = MEMBERSHIP_INCLUDE,
			.compat_version = 3,
			.remaining_ms = remaining(
				g->sender_last + m->conf.source_inactivity_timeout_ms, now) };

		put_row(out, max, n, &row);
		for (uint32_t i = 0; i < g->n_senders; i++) {
			row.source = g->senders[i];
			put_row(out, max, n, &row);
		}
	}
}

size_t membership_members(const struct membership *m, struct membership_member *out, size_t max)
{
	uint64_t now = mship_now(m);
	size_t n = 0;

	for (uint32_t i = 0; i < m->n_groups; i++)
		rows_group(m, m->groups[i], now, out, max, &n);
	for (uint32_t i = 0; i < m->conf.n_predefined; i++) {
		struct membership_member row = { .group = m->conf.predefined[i],
			.role = MEMBERSHIP_ROLE_RECEIVER,
			.origin = MEMBERSHIP_ORIGIN_PREDEFINED,
			.mode = MEMBERSHIP_EXCLUDE,
			.compat_version = (uint8_t)m->conf.version,
			.remaining_ms = UINT64_MAX };

		put_row(out, max, &n, &row);
	}
	return n;
}

const char *membership_role_name(enum membership_role role)
{
	switch (role) {
	case MEMBERSHIP_ROLE_RECEIVER:
		return "receiver";
	case MEMBERSHIP_ROLE_SENDER:
		return "sender";
	default:
		return "?";
	}
}

const char *membership_origin_name(enum membership_origin origin)
{
	switch (origin) {
	case MEMBERSHIP_ORIGIN_LEARNED:
		return "learned";
	case MEMBERSHIP_ORIGIN_ANNOUNCED:
		return "announced";
	case MEMBERSHIP_ORIGIN_PREDEFINED:
		return "predefined";
	case MEMBERSHIP_ORIGIN_DISCOVERED:
		return "discovered";
	default:
		return "?";
	}
}

const char *membership_mode_name(enum membership_filter_mode mode)
{
	switch (mode) {
	case MEMBERSHIP_INCLUDE:
		return "include";
	case MEMBERSHIP_EXCLUDE:
		return "exclude";
	default:
		return "?";
	}
}

void membership_querier(const struct membership *m, struct membership_querier_info *info)
{
	uint64_t now = mship_now(m);

	info->is_querier = m->is_querier;
	info->querier_addr = m->querier_addr;
	info->other_querier_remaining_ms = m->is_querier ? 0 : remaining(m->oqp_timer, now);
	info->version = (uint8_t)m->conf.version;
	info->robustness = (uint8_t)mship_robustness(m);
	info->query_interval_ms = (uint32_t)mship_qi(m);
}

void membership_foreach_reported(const struct membership *m,
	void (*fn)(void *ctx, const struct membership_event *ev), void *ctx)
{
	for (uint32_t i = 0; i < m->n_groups; i++) {
		const struct mgroup *g = m->groups[i];

		for (int role = 0; role < REP_MAX; role++) {
			const struct mreported *r = &g->rep[role];
			struct membership_event ev = { .type = MEMBERSHIP_JOIN,
				.role = role == REP_SENDER ? MEMBERSHIP_ROLE_SENDER
							   : MEMBERSHIP_ROLE_RECEIVER,
				.group = g->group,
				.mode = r->mode,
				.n_sources = r->n_sources,
				.sources = r->sources };

			if (r->present)
				fn(ctx, &ev);
		}
	}
}

void membership_get_stats(const struct membership *m, struct membership_stats *stats)
{
	*stats = m->stats;
}

_Static_assert(IGMP_DROP_MAX <= MEMBERSHIP_MAX_DROP, "drop counters too small");
_Static_assert(IGMP_MSG_MAX <= sizeof(((struct membership_stats *)0)->rx) / sizeof(uint64_t),
	"rx counters too small");
