/* SPDX-License-Identifier: BSD-3-Clause */
/* ED glue of the membership module: data plane punts, injection, counters. */
#include "membership_ed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "common/clock.h"
#include "common/log.h"
#include "dataplane/dp.h"

#include "igmp.h"

#define COUNTERS_EVERY_MS 500
#define MAX_SENDER_ROWS 256

struct membership_ed {
	struct dp *dp;
	struct membership *m;
	void (*event)(void *ctx, const struct membership_event *ev);
	void *ctx;
	uint64_t next_counters;
	uint64_t inject_failures;
	struct membership_member rows[MAX_SENDER_ROWS];
};

static void ed_send(void *ctx, const uint8_t *frame, size_t len)
{
	struct membership_ed *e = ctx;
	int rc = dp_inject_frame(e->dp, DP_LAN, frame, len);

	if (rc != 0 && e->inject_failures++ == 0)
		LOG_WARN("membership", "IGMP frame not injected: %s", strerror(-rc));
}

static void ed_event(void *ctx, const struct membership_event *ev)
{
	struct membership_ed *e = ctx;
	char g[16];

	snprintf(g, sizeof(g), "%u.%u.%u.%u", ev->group >> 24, (ev->group >> 16) & 0xff,
		(ev->group >> 8) & 0xff, ev->group & 0xff);
	LOG_INFO("membership", "%s %s %s (%s, %u sources)",
		ev->type == MEMBERSHIP_JOIN ? "join" : "leave", g, membership_role_name(ev->role),
		membership_mode_name(ev->mode), ev->n_sources);
	if (e->event != NULL)
		e->event(e->ctx, ev);
}

struct membership_ed *membership_ed_new(const struct membership_ed_params *p)
{
	struct membership_ed *e = calloc(1, sizeof(*e));
	struct rte_ether_addr mac;
	int port = dp_port_id(p->dp, DP_LAN);

	if (e == NULL)
		return NULL;
	if (port < 0 || rte_eth_macaddr_get((uint16_t)port, &mac) != 0) {
		free(e);
		errno = EINVAL;
		return NULL;
	}
	e->dp = p->dp;
	e->event = p->event;
	e->ctx = p->ctx;
	struct membership_params mp = {
		.conf = p->conf,
		.lan_addr = p->lan_addr,
		.lan_prefix_len = p->lan_prefix_len,
		.clock = vprn_clock_monotonic(),
		.ops = { .send_frame = ed_send, .event = ed_event, .ctx = e },
	};
	memcpy(mp.lan_mac, mac.addr_bytes, sizeof(mp.lan_mac));
	e->m = membership_create(&mp);
	if (e->m == NULL) {
		int err = errno;

		free(e);
		errno = err;
		return NULL;
	}
	membership_timer(e->m); /* first startup query now */
	return e;
}

void membership_ed_free(struct membership_ed *e)
{
	if (e == NULL)
		return;
	membership_destroy(e->m);
	free(e);
}

/* Source-active: the IPv4 source and group of the punted data packet. */
static void source_active(struct membership_ed *e, const uint8_t *f, uint32_t len)
{
	if (len < ETH_HLEN + IPV4_MIN_HLEN || rd16(f + 12) != IPV4_ETHERTYPE ||
		(f[ETH_HLEN] >> 4) != 4)
		return;
	(void)membership_source_active(e->m, rd32(f + ETH_HLEN + 16), rd32(f + ETH_HLEN + 12));
}

bool membership_ed_punt(struct membership_ed *e, struct dp_punt *p)
{
	uint8_t buf[2048];
	const uint8_t *d;
	uint32_t len;

	if (p->kind != DP_PUNT_IGMP && p->kind != DP_PUNT_SOURCE_ACTIVE)
		return false;
	len = rte_pktmbuf_pkt_len(p->m);
	if (len > sizeof(buf))
		len = sizeof(buf); /* IGMP is never that long; the parser checks lengths */
	d = rte_pktmbuf_read(p->m, 0, len, buf);
	if (d != NULL && p->kind == DP_PUNT_IGMP && p->port == DP_LAN) {
		struct membership_rx_info info = { .l2 = true, .port = DP_LAN };

		(void)membership_rx_igmp(e->m, d, len, &info);
	} else if (d != NULL && p->kind == DP_PUNT_SOURCE_ACTIVE && p->port == DP_LAN) {
		source_active(e, d, len);
	}
	rte_pktmbuf_free(p->m);
	p->m = NULL;
	return true;
}

/* Feed the data plane's per-group LAN counters of the groups we are a sender for. */
static void poll_counters(struct membership_ed *e, uint64_t now)
{
	size_t n = membership_members(e->m, e->rows, MAX_SENDER_ROWS);

	if (n > MAX_SENDER_ROWS)
		n = MAX_SENDER_ROWS;
	for (size_t i = 0; i < n; i++) {
		const struct membership_member *r = &e->rows[i];
		struct dp_group_stats st;

		if (r->origin != MEMBERSHIP_ORIGIN_DISCOVERED || r->source != 0)
			continue;
		if (dp_group_get_stats(e->dp, r->group, &st) != 0)
			continue; /* no table entry yet: source-active punts keep it alive */
		(void)membership_group_counters(e->m, r->group, st.lan_pkts,
			st.idle_ms == UINT64_MAX || st.idle_ms > now ? 0 : now - st.idle_ms);
	}
}

void membership_ed_tick(struct membership_ed *e)
{
	uint64_t now = vprn_now_ms();

	if (now >= e->next_counters) {
		poll_counters(e, now);
		e->next_counters = now + COUNTERS_EVERY_MS;
	}
	if (membership_next_deadline(e->m) <= now)
		membership_timer(e->m);
}

struct membership *membership_ed_module(struct membership_ed *e)
{
	return e->m;
}
