/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness of the IGMP parser and the membership state machine.
 *
 * Input: byte 0 = flags (bit 0: frames carry an Ethernet header; bit 1:
 * fast leave; bit 2: query version 2; bit 3: fix the IPv4 and IGMP checksums
 * first, so the fuzzer reaches the state machine), then chunks of
 *   [len_hi][len_lo][advance: clock step in 100 ms units][len bytes of packet].
 * Each packet goes to igmp_parse() (every record walked) and to a membership
 * instance with short timers; the clock is stepped and timers run between
 * packets, with the module's invariants checked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "control/membership/igmp.h"
#include "control/membership/igmp_parse.h"
#include "control/membership/membership.h"

struct ctx {
	uint64_t now;
	uint64_t frames, events;
};

static uint64_t fz_now(void *c)
{
	return ((struct ctx *)c)->now;
}

static void fz_frame(void *c, const uint8_t *frame, size_t len)
{
	struct igmp_msg msg;

	/* Everything we send must be valid IGMP. */
	if (igmp_parse(frame, len, IGMP_L2_ETHER, &msg) != IGMP_OK)
		abort();
	((struct ctx *)c)->frames++;
}

static void fz_event(void *c, const struct membership_event *ev)
{
	for (uint32_t i = 1; i < ev->n_sources; i++)
		if (ev->sources[i - 1] >= ev->sources[i])
			abort(); /* sorted, no duplicates */
	((struct ctx *)c)->events++;
}

static void parse_only(const uint8_t *p, size_t len, enum igmp_l2 l2)
{
	struct igmp_record_iter it = { 0 };
	struct igmp_record rec;
	struct igmp_msg msg;
	volatile uint32_t sink = 0;

	if (igmp_parse(p, len, l2, &msg) != IGMP_OK)
		return;
	for (uint16_t i = 0; i < msg.n_sources; i++)
		sink += igmp_src_at(msg.sources, i);
	while (igmp_record_next(&msg, &it, &rec))
		for (uint16_t i = 0; i < rec.n_sources; i++)
			sink += igmp_src_at(rec.sources, i);
	(void)sink;
}

/* Recompute both checksums where the header says they are (best effort, bounds checked). */
static void fix_csums(uint8_t *p, size_t len, bool l2)
{
	uint32_t ihl, tot;

	if (l2) {
		if (len < ETH_HLEN)
			return;
		p += ETH_HLEN;
		len -= ETH_HLEN;
	}
	if (len < IPV4_MIN_HLEN)
		return;
	ihl = (uint32_t)(p[0] & 0x0f) * 4;
	tot = rd16(p + 2);
	if (ihl < IPV4_MIN_HLEN || ihl > len)
		return;
	wr16(p + 10, 0);
	wr16(p + 10, inet_csum(p, ihl));
	if (tot > len || tot < ihl + 4)
		return;
	wr16(p + ihl + 2, 0);
	wr16(p + ihl + 2, inet_csum(p + ihl, tot - ihl));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct membership_member rows[64];
	static uint8_t pkt[65536];
	struct membership_conf conf;
	struct ctx c = { 0 };
	struct membership_params p = {
		.conf = &conf,
		.lan_addr = 0xc0a80164, /* 192.168.1.100 */
		.lan_prefix_len = 24,
		.clock = { .now_ms = fz_now, .ctx = &c },
		.ops = { .send_frame = fz_frame, .event = fz_event, .ctx = &c },
	};
	struct membership_rx_info info;
	struct membership *m;
	size_t off = 1;

	if (size < 1)
		return 0;
	membership_conf_defaults(&conf);
	conf.query_interval_ms = 10000;
	conf.query_response_interval_ms = 2000;
	conf.startup_query_interval_ms = 2500;
	conf.source_inactivity_timeout_ms = 3000;
	conf.event_holddown_ms = 500;
	conf.max_groups = 16;
	conf.max_sources = 8;
	conf.max_hosts = 4;
	conf.fast_leave = (data[0] & 2) != 0;
	conf.version = (data[0] & 4) ? 2 : 3;
	conf.n_predefined = 1;
	conf.predefined[0] = 0xef090909;
	info = (struct membership_rx_info){ .l2 = (data[0] & 1) != 0 };
	m = membership_create(&p);
	if (m == NULL)
		abort();
	while (off + 3 <= size) {
		size_t len = (size_t)data[off] << 8 | data[off + 1];
		uint8_t step = data[off + 2];

		off += 3;
		if (len > size - off)
			len = size - off;
		memcpy(pkt, data + off, len);
		if (data[0] & 8)
			fix_csums(pkt, len, info.l2);
		parse_only(pkt, len, info.l2 ? IGMP_L2_ETHER : IGMP_L2_NONE);
		(void)membership_rx_igmp(m, pkt, len, &info);
		if (len >= 8 && (step & 0x80)) {
			uint32_t g, s;

			memcpy(&g, data + off, 4);
			memcpy(&s, data + off + 4, 4);
			(void)membership_source_active(m, g, s);
			(void)membership_announce(m, g, (step & 1) + 1, s, step & 0x0f);
			(void)membership_group_counters(m, g, step, 0);
		}
		off += len;
		c.now += (uint64_t)(step & 0x7f) * 100;
		while (membership_next_deadline(m) <= c.now) {
			membership_timer(m);
			if (membership_next_deadline(m) <= c.now)
				abort(); /* a timer that does not move: the loop would spin */
		}
		(void)membership_members(m, rows, 64);
	}
	c.now += 1000000;
	membership_timer(m);
	membership_destroy(m);
	return 0;
}
