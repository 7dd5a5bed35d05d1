/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Source discovery (the data plane's source-active punts and per-group
 * counters) and announcements (vprnctl announce, each with a TTL).
 */
#include "mship_priv.h"

#include "igmp.h"

#include <errno.h>
#include <string.h>

static bool sender_group_ok(uint32_t group)
{
	return ipv4_is_multicast(group) && !ipv4_is_link_local_mcast(group);
}

int membership_source_active(struct membership *m, uint32_t group, uint32_t source)
{
	uint64_t now = mship_now(m);
	struct mgroup *g;
	bool known = false;

	if (!sender_group_ok(group) || ipv4_is_multicast(source))
		return -EINVAL;
	g = mg_get(m, group);
	if (g == NULL)
		return -ENOSPC;
	if (!g->sender) {
		g->sender = true;
		g->n_senders = 0;
		me_mark(g, REP_SENDER);
	}
	g->sender_last = now;
	for (uint32_t i = 0; i < g->n_senders; i++)
		known |= g->senders[i] == source;
	if (!known && source != 0) {
		if (g->n_senders < m->conf.max_sources) {
			g->senders[g->n_senders++] = source;
			me_mark(g, REP_SENDER);
		} else {
			mship_drop(m, IGMP_DROP_SOURCES_FULL);
		}
	}
	me_flush(m, g, now);
	return 0;
}

int membership_group_counters(
	struct membership *m, uint32_t group, uint64_t packets, uint64_t last_seen_ms)
{
	uint64_t now = mship_now(m);
	struct mgroup *g = mg_find(m, group);

	if (g == NULL || !g->sender)
		return -ENOENT; /* only source-active punts create the sender role */
	if (packets != g->sender_packets) {
		/* +1: internal time, see mship_now() */
		uint64_t t = last_seen_ms != 0 && last_seen_ms + 1 <= now ? last_seen_ms + 1 : now;

		g->sender_packets = packets;
		if (t > g->sender_last)
			g->sender_last = t;
	}
	return 0;
}

static int ann_find(
	const struct membership *m, uint32_t group, enum membership_role role, uint32_t source)
{
	for (uint32_t i = 0; i < m->n_ann; i++)
		if (m->ann[i].group == group && m->ann[i].role == role &&
			m->ann[i].source == source)
			return (int)i;
	return -1;
}

bool ms_has_announcement(const struct membership *m, uint32_t group)
{
	for (uint32_t i = 0; i < m->n_ann; i++)
		if (m->ann[i].group == group)
			return true;
	return false;
}

static int ann_remove(struct membership *m, int i, uint64_t now)
{
	struct mgroup *g = mg_find(m, m->ann[i].group);
	int role = m->ann[i].role == MEMBERSHIP_ROLE_SENDER ? REP_SENDER : REP_RECEIVER;

	m->ann[i] = m->ann[--m->n_ann];
	if (g != NULL) {
		me_mark(g, role);
		me_flush(m, g, now);
		mg_gc(m, g);
	}
	return 0;
}

int membership_announce(struct membership *m, uint32_t group, enum membership_role role,
	uint32_t source, uint32_t ttl_s)
{
	uint64_t now = mship_now(m);
	int i = ann_find(m, group, role, source);
	struct mgroup *g;

	if (!sender_group_ok(group) || ipv4_is_multicast(source) ||
		(role != MEMBERSHIP_ROLE_RECEIVER && role != MEMBERSHIP_ROLE_SENDER))
		return -EINVAL;
	if (role == MEMBERSHIP_ROLE_RECEIVER && source == 0 && mship_is_ssm(m, group))
		return -EINVAL; /* RFC 4607: SSM needs a source */
	if (ttl_s == 0)
		return i < 0 ? -ENOENT : ann_remove(m, i, now);
	g = mg_get(m, group);
	if (g == NULL)
		return -ENOSPC;
	if (i < 0) {
		if (m->n_ann >= m->conf.max_announcements) {
			mg_gc(m, g);
			return -ENOSPC;
		}
		i = (int)m->n_ann++;
		m->ann[i] = (struct mannounce){ .group = group, .role = role, .source = source };
		me_mark(g, role == MEMBERSHIP_ROLE_SENDER ? REP_SENDER : REP_RECEIVER);
	}
	m->ann[i].expires = now + (uint64_t)ttl_s * 1000;
	me_flush(m, g, now);
	return 0;
}

void ms_expire(struct membership *m, uint64_t now)
{
	for (uint32_t i = 0; i < m->n_ann;) {
		if (m->ann[i].expires <= now)
			ann_remove(m, (int)i, now);
		else
			i++;
	}
}

uint64_t ms_deadline(const struct membership *m)
{
	uint64_t d = UINT64_MAX;

	for (uint32_t i = 0; i < m->n_ann; i++)
		if (m->ann[i].expires < d)
			d = m->ann[i].expires;
	return d;
}
