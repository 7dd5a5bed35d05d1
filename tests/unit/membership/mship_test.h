/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TEST_MSHIP_TEST_H
#define VPRN_TEST_MSHIP_TEST_H

/*
 * Helpers of the membership unit tests: an injected clock, capture of sent
 * frames and events, and builders of host IGMP frames (real bytes through
 * igmp_build.c, whose output is itself checked against scapy in
 * test_igmp_parse.c).
 */

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/membership/igmp.h"
#include "control/membership/igmp_build.h"
#include "control/membership/igmp_parse.h"
#include "control/membership/membership.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define ED_ADDR IP(192, 168, 1, 1)  /* builder vectors */
#define ED_LAN IP(192, 168, 1, 100) /* the module under test: .2 can out-elect it */
#define MAX_CAP 256
#define MSHIP_TEST_FRAME 1600

struct capture {
	uint64_t now;
	unsigned int n_frames;
	struct igmp_msg frames[MAX_CAP];
	uint8_t bytes[MAX_CAP][MSHIP_TEST_FRAME];
	size_t lens[MAX_CAP];
	unsigned int n_events;
	struct {
		struct membership_event ev;
		uint32_t sources[16];
	} events[MAX_CAP];
};

static inline uint64_t cap_now(void *ctx)
{
	return ((struct capture *)ctx)->now;
}

static inline void cap_frame(void *ctx, const uint8_t *frame, size_t len)
{
	struct capture *c = ctx;

	assert_true(c->n_frames < MAX_CAP);
	assert_true(len <= MSHIP_TEST_FRAME);
	memcpy(c->bytes[c->n_frames], frame, len);
	c->lens[c->n_frames] = len;
	/* Every frame we send must parse back as valid IGMP (checksums, RA, TTL). */
	assert_int_equal(
		igmp_parse(c->bytes[c->n_frames], len, IGMP_L2_ETHER, &c->frames[c->n_frames]),
		IGMP_OK);
	assert_true(c->frames[c->n_frames].router_alert);
	c->n_frames++;
}

static inline void cap_event(void *ctx, const struct membership_event *ev)
{
	struct capture *c = ctx;
	unsigned int i = c->n_events++;

	assert_true(i < MAX_CAP);
	assert_true(ev->n_sources <= 16);
	c->events[i].ev = *ev;
	memcpy(c->events[i].sources, ev->sources, ev->n_sources * sizeof(uint32_t));
	c->events[i].ev.sources = c->events[i].sources;
}

static inline struct membership *cap_create(struct capture *c, const struct membership_conf *conf)
{
	struct membership_params p = {
		.conf = conf,
		.lan_addr = ED_LAN,
		.lan_prefix_len = 24,
		.lan_mac = { 0x02, 0, 0, 0, 0x01, 0x01 },
		.clock = { .now_ms = cap_now, .ctx = c },
		.ops = { .send_frame = cap_frame, .event = cap_event, .ctx = c },
	};

	return membership_create(&p);
}

/* Frames from a host (or another router) at @p src. */
static inline size_t host_v3(uint8_t *buf, uint32_t src, const struct igmp_tx_record *r, uint16_t n)
{
	struct igmp_tx_src s = { .mac = { 0x02, 0, 0, 0, 0, (uint8_t)src }, .ip = src };

	return igmp_build_v3_report(buf, 1600, &s, r, n);
}

static inline size_t host_v12(uint8_t *buf, uint32_t src, uint8_t type, uint32_t group)
{
	struct igmp_tx_src s = { .mac = { 0x02, 0, 0, 0, 0, (uint8_t)src }, .ip = src };

	return igmp_build_v12(buf, 1600, &s, type, group);
}

static inline size_t router_query(uint8_t *buf, uint32_t src, int version, uint32_t group,
	int s_flag, const uint32_t *sources, uint16_t n)
{
	struct igmp_tx_src s = { .mac = { 0x02, 0, 0, 0, 0, (uint8_t)src }, .ip = src };

	return igmp_build_query(buf, 1600, &s, version, group, 10000, s_flag, 2, 125, sources, n);
}

/* Recompute the IPv4 and IGMP checksums of an Ethernet frame after a mutation. */
static inline void fix_csums(uint8_t *f, size_t len)
{
	uint8_t *ip = f + 14;
	uint32_t ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];

	ip[10] = ip[11] = 0;
	wr16(ip + 10, inet_csum(ip, ihl));
	if (tot > len - 14 || tot < ihl + 4)
		return;
	ip[ihl + 2] = ip[ihl + 3] = 0;
	wr16(ip + ihl + 2, inet_csum(ip + ihl, tot - ihl));
}

/* Run the control loop until @p t: every deadline on the way, then @p t itself. */
static inline void advance(struct membership *m, struct capture *c, uint64_t t)
{
	uint64_t d;

	while ((d = membership_next_deadline(m)) <= t) {
		if (d > c->now)
			c->now = d;
		membership_timer(m);
		/* Invariant: after membership_timer() nothing is due any more. */
		assert_true(membership_next_deadline(m) > c->now);
	}
	c->now = t;
	membership_timer(m);
}

#endif /* VPRN_TEST_MSHIP_TEST_H */
