/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Querier (RFC 3376 §6.6, RFC 2236 §3): election by lowest address, startup
 * and general queries, group- and group-and-source-specific queries with
 * their LMQC retransmissions, and the ED's own reports for pre-defined groups.
 */
#include "mship_priv.h"

#include "igmp.h"
#include "igmp_build.h"

#include "common/log.h"

#include <arpa/inet.h>
#include <string.h>

static void send_frame(struct membership *m, size_t len)
{
	if (len == 0)
		return;
	if (m->ops.send_frame != NULL)
		m->ops.send_frame(m->ops.ctx, m->frame, len);
}

static struct igmp_tx_src tx_src(struct membership *m)
{
	struct igmp_tx_src s = { .ip = m->lan_addr, .ip_id = m->ip_id++ };

	memcpy(s.mac, m->mac, sizeof(s.mac));
	return s;
}

static void send_query(struct membership *m, uint32_t group, uint32_t max_resp_ms, bool s_flag,
	const uint32_t *sources, uint16_t n)
{
	struct igmp_tx_src src = tx_src(m);
	uint32_t qqi_s = m->conf.query_interval_ms / 1000;
	size_t len = igmp_build_query(m->frame, sizeof(m->frame), &src, (int)m->conf.version, group,
		max_resp_ms, s_flag, (uint8_t)m->conf.robustness, qqi_s, sources, n);

	if (len == 0)
		return;
	m->stats.tx_queries++;
	send_frame(m, len);
}

void mq_send_reports(struct membership *m, int version, uint32_t group)
{
	struct igmp_tx_record recs[MEMBERSHIP_MAX_PREDEFINED];
	uint16_t n = 0;

	for (uint32_t i = 0; i < m->conf.n_predefined; i++) {
		uint32_t g = m->conf.predefined[i];
		struct igmp_tx_src src;

		if (group != 0 && g != group)
			continue;
		if (version == 3) {
			recs[n++] =
				(struct igmp_tx_record){ .type = IGMP_MODE_IS_EXCLUDE, .group = g };
			continue;
		}
		src = tx_src(m);
		m->stats.tx_reports++;
		send_frame(m, igmp_build_v12(m->frame, sizeof(m->frame), &src,
				      version == 1 ? IGMP_V1_REPORT : IGMP_V2_REPORT, g));
	}
	if (n > 0) {
		struct igmp_tx_src src = tx_src(m);

		m->stats.tx_reports++;
		send_frame(m, igmp_build_v3_report(m->frame, sizeof(m->frame), &src, recs, n));
	}
}

static void general_query(struct membership *m, uint64_t now)
{
	send_query(m, 0, m->conf.query_response_interval_ms, false, NULL, 0);
	/* We are a member of the pre-defined groups too: answer our own query. */
	mq_send_reports(m, (int)m->conf.version, 0);
	if (m->startup_left > 0)
		m->startup_left--;
	m->gq_timer = now + (m->startup_left > 0 ? membership_conf_startup_interval(&m->conf)
						 : m->conf.query_interval_ms);
}

void mq_start(struct membership *m, uint64_t now)
{
	m->is_querier = true;
	m->querier_addr = m->lan_addr;
	m->startup_left = membership_conf_startup_count(&m->conf);
	m->gq_timer = now; /* first startup query on the first membership_timer() */
}

static void become_querier(struct membership *m, uint64_t now)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr ia = { .s_addr = htonl(m->querier_addr) };

	inet_ntop(AF_INET, &ia, a, sizeof(a));
	LOG_INFO("membership", "other querier %s gone: taking over as querier", a);
	m->is_querier = true;
	m->querier_addr = m->lan_addr;
	m->oqp_timer = 0;
	m->learned_qrv = 0;
	m->learned_qqi_ms = 0;
	m->stats.querier_changes++;
	general_query(m, now);
}

/* Election (§6.6.2): a query from a lower address makes us non-querier. */
static void elect(struct membership *m, const struct igmp_msg *msg, uint64_t now)
{
	if (msg->ip_src == 0 || msg->ip_src > m->lan_addr)
		return;
	if (!m->is_querier && msg->ip_src > m->querier_addr && m->oqp_timer > now)
		return; /* a third router, not lower than the current querier */
	if (m->is_querier) {
		char a[INET_ADDRSTRLEN];
		struct in_addr ia = { .s_addr = htonl(msg->ip_src) };

		inet_ntop(AF_INET, &ia, a, sizeof(a));
		LOG_INFO("membership", "querier %s has a lower address: we stop querying", a);
		m->stats.querier_changes++;
		m->is_querier = false;
		m->gq_timer = 0;
		m->startup_left = 0;
	}
	m->querier_addr = msg->ip_src;
	m->oqp_timer = now + membership_conf_oqpt(&m->conf);
	/* §6.6.1: non-queriers adopt the querier's QRV and QQI. */
	if (msg->type == IGMP_MSG_V3_QUERY && msg->qrv != 0) {
		m->learned_qrv = msg->qrv;
		m->learned_qqi_ms = msg->qqi_s != 0 ? msg->qqi_s * 1000 : 0;
	}
}

void mq_rx_query(struct membership *m, const struct igmp_msg *msg)
{
	uint64_t now = mship_now(m);
	int version = msg->type == IGMP_MSG_V1_QUERY ? 1 : msg->type == IGMP_MSG_V2_QUERY ? 2 : 3;

	elect(m, msg, now);
	mg_query_seen(m, msg);
	/* Pre-defined groups: answer another router's query as a host would (delay 0). */
	if (msg->group == 0)
		mq_send_reports(m, version, 0);
	else if (msg->n_sources == 0)
		mq_send_reports(m, version, msg->group);
}

void mq_timer(struct membership *m, uint64_t now)
{
	if (!m->is_querier && m->oqp_timer != 0 && m->oqp_timer <= now)
		become_querier(m, now);
	if (m->is_querier && m->gq_timer != 0 && m->gq_timer <= now)
		general_query(m, now);
}

uint64_t mq_deadline(const struct membership *m)
{
	if (m->is_querier)
		return m->gq_timer != 0 ? m->gq_timer : UINT64_MAX;
	return m->oqp_timer != 0 ? m->oqp_timer : UINT64_MAX;
}

/* Q(G) after a leave (§6.6.3.1): group timer to LMQT, LMQC queries LMQI apart. */
void mq_group_query(struct membership *m, struct mgroup *g, uint64_t now)
{
	uint64_t lmqt = now + mship_lmqt(m);

	if (!m->is_querier || m->conf.version < 2)
		return;
	if (g->mode == MEMBERSHIP_EXCLUDE && g->group_timer > lmqt)
		g->group_timer = lmqt;
	g->gq_retx = (uint8_t)m->lmqc;
	g->next_specific = now;
}

/*
 * Send the specific queries due now. The S flag is set on a retransmission
 * when the timer was raised again by a report meanwhile (timer > LMQT):
 * hosts still answer, routers skip the timer update (§6.6.3.1, §6.6.3.2).
 */
void mq_specific_tick(struct membership *m, struct mgroup *g, uint64_t now)
{
	uint64_t lmqt = now + mship_lmqt(m);
	uint32_t *s_set = m->scratch, *c_set = m->scratch + m->conf.max_sources;
	uint16_t n_s = 0, n_c = 0;
	bool more = false;

	g->next_specific = 0;
	if (!m->is_querier)
		return;
	if (g->gq_retx > 0) {
		send_query(m, g->group, m->conf.last_member_query_interval_ms,
			g->mode == MEMBERSHIP_EXCLUDE && g->group_timer > lmqt, NULL, 0);
		more |= --g->gq_retx > 0;
	}
	for (uint32_t i = 0; i < g->n_src; i++) {
		struct msrc *s = &g->src[i];

		if (s->retx == 0)
			continue;
		if (s->timer > lmqt)
			s_set[n_s++] = s->addr;
		else
			c_set[n_c++] = s->addr;
		more |= --s->retx > 0;
	}
	if (n_s > 0)
		send_query(m, g->group, m->conf.last_member_query_interval_ms, true, s_set, n_s);
	if (n_c > 0)
		send_query(m, g->group, m->conf.last_member_query_interval_ms, false, c_set, n_c);
	if (more)
		g->next_specific = now + m->conf.last_member_query_interval_ms;
}
