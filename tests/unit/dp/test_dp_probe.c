/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clear UDP probes through real workers on ring ports: a probe to our WAN
 * address and port is punted at its IPv4 header with an arrival time, other
 * UDP stays dropped, the punt is rate-limited and the excess counted;
 * dp_inject_probe() refuses every non-unicast destination, asks ARP for an
 * unresolved next hop (-EAGAIN), then sends exactly the expected bytes.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "common/clock.h"
#include "dataplane/dp.h"
#include "dataplane/drop.h"
#include "tests/unit/eal_helper.h"
#include "dp_test_util.h"
#include "frames.h"

#define LAN_ADDR 0x0a000101u /* 10.0.1.1 */
#define WAN_ADDR 0xc0a80001u /* 192.168.0.1/24 */
#define PEER 0xc0a80007u     /* 192.168.0.7, on-link */
#define PORT 7801
#define RATE 5
#define TPOOL_N 1023

static struct tport lan, wan;
static struct rte_mempool *tpool;
static struct dp *dp;
static uint64_t sent_wan;
static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 0x77 };

static int setup(void **state)
{
	struct dp_conf c = { 0 };

	(void)state;
	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "%s", lan.name);
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "%s", wan.name);
	c.lan.addr = LAN_ADDR;
	c.lan.prefix_len = 24;
	c.wan.addr = WAN_ADDR;
	c.wan.prefix_len = 24;
	c.n_workers = 1;
	c.idle_sleep_us = 100;
	c.n_mbufs = 2047;
	c.probe_port = PORT;
	c.probe_rate = RATE;
	dp = dp_create(&c);
	sent_wan = 0;
	return dp == NULL ? -1 : dp_start(dp);
}

static int teardown(void **state)
{
	(void)state;
	dp_stop(dp);
	tport_flush(&lan);
	tport_flush(&wan);
	assert_int_equal(rte_mempool_avail_count(dp_pool(dp)), 2047);
	dp_destroy(dp);
	assert_int_equal(rte_mempool_avail_count(tpool), TPOOL_N);
	return 0;
}

static void put(const uint8_t *f, size_t len)
{
	assert_int_equal(tport_put(&wan, 0, tpool, f, len), 0);
	sent_wan++;
}

static void settle(void)
{
	assert_true(dp_wait_rx(dp, 0, sent_wan));
	dp_stop(dp);
}

static uint64_t drop_of(enum dp_drop r)
{
	uint64_t d[DP_DROP__MAX];

	assert_int_equal(dp_get_drops(dp, d, DP_DROP__MAX), 0);
	return d[r];
}

/* Ethernet + IPv4 + UDP (sport = dport = port) + payload pattern. */
static size_t fr_udp(uint8_t *f, uint32_t src, uint32_t dst, uint16_t port, size_t plen)
{
	size_t len = fr_ipv4(f, peer_mac, src, dst, 17, 64, 8 + plen);
	uint8_t *udp = f + 14 + 20;

	fr_put16(udp, port);
	fr_put16(udp + 2, port);
	fr_put16(udp + 4, (uint16_t)(8 + plen));
	fr_put16(udp + 6, 0);
	return len;
}

static void test_probe_punted(void **state)
{
	uint8_t f[256];
	size_t len = fr_udp(f, PEER, WAN_ADDR, PORT, 56);
	struct dp_punt p[4];
	uint64_t before = vprn_now_ns(), after;

	(void)state;
	put(f, len);
	settle();
	after = vprn_now_ns();
	assert_int_equal(dp_punt_dequeue(dp, p, 4), 1);
	assert_int_equal(p[0].kind, DP_PUNT_PROBE);
	assert_int_equal(p[0].port, DP_WAN);
	/* data at the IPv4 header, exactly the IPv4 packet */
	assert_int_equal(rte_pktmbuf_pkt_len(p[0].m), len - 14);
	assert_memory_equal(rte_pktmbuf_mtod(p[0].m, void *), f + 14, len - 14);
	assert_true(p[0].rx_ns >= before && p[0].rx_ns <= after);
	rte_pktmbuf_free(p[0].m);
	assert_int_equal(tport_out_count(&lan) + tport_out_count(&wan), 0);
}

static void test_other_udp_dropped(void **state)
{
	uint8_t f[256];
	size_t len;
	struct dp_punt p[4];

	(void)state;
	put(f, fr_udp(f, PEER, WAN_ADDR, PORT + 1, 56));	 /* other port */
	put(f, fr_udp(f, PEER, 0xc0a80009u, PORT, 56));		 /* not our address */
	put(f, fr_ipv4(f, peer_mac, PEER, WAN_ADDR, 6, 64, 64)); /* TCP */
	len = fr_udp(f, PEER, WAN_ADDR, PORT, 56);
	f[14 + 6] = 0x20; /* more fragments */
	fr_ip_csum(f + 14);
	put(f, len);
	len = fr_udp(f, PEER, WAN_ADDR, PORT, 0);
	f[14 + 3] = 20 + 4; /* IPv4 total length cuts the UDP header */
	fr_ip_csum(f + 14);
	put(f, 14 + 24);
	settle();
	assert_int_equal(dp_punt_dequeue(dp, p, 4), 0);
	assert_int_equal(drop_of(DP_DROP_WAN_PROTO), 4);
	assert_int_equal(drop_of(DP_DROP_WAN_NOT_US), 1);
	assert_int_equal(drop_of(DP_DROP_PROBE_RATE), 0);
}

static void test_rate_limited(void **state)
{
	uint8_t f[256];
	size_t len = fr_udp(f, PEER, WAN_ADDR, PORT, 56);
	struct dp_punt p[32];
	unsigned int n;

	(void)state;
	for (int i = 0; i < 20; i++)
		put(f, len);
	settle();
	n = dp_punt_dequeue(dp, p, 32);
	for (unsigned int i = 0; i < n; i++)
		rte_pktmbuf_free(p[i].m);
	/* a full bucket (RATE), plus what trickled in meanwhile (RATE per second) */
	assert_true(n >= RATE && n <= RATE + 2);
	assert_int_equal(drop_of(DP_DROP_PROBE_RATE), 20 - n);
}

static void test_inject_refusals(void **state)
{
	static const uint32_t bad[] = { 0, 0x00000001u, 0x7f000001u, 0xe0000001u, 0xef010203u,
		0xf0000001u, 0xffffffffu, WAN_ADDR, 0xc0a80000u, 0xc0a800ffu };
	uint8_t pl[DP_PROBE_MAX_PAYLOAD + 1] = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dp_inject_probe(dp, bad[i], pl, 56), -EINVAL);
	assert_int_equal(dp_inject_probe(dp, PEER, pl, sizeof(pl)), -EINVAL);
	assert_int_equal(dp_inject_probe(dp, PEER, NULL, 56), -EINVAL);
	assert_int_equal(dp_inject_probe(NULL, PEER, pl, 56), -EINVAL);
	rte_delay_us_sleep(20000);
	settle();
	assert_int_equal(tport_out_count(&wan), 0);
}

static uint16_t udp_csum(const uint8_t *ip)
{
	uint8_t ph[12 + 8 + DP_PROBE_MAX_PAYLOAD];
	uint16_t ulen = (uint16_t)((ip[24] << 8) | ip[25]);
	uint16_t c;

	assert_true(ulen <= 8 + DP_PROBE_MAX_PAYLOAD);

	memcpy(ph, ip + 12, 8);
	ph[8] = 0;
	ph[9] = 17;
	fr_put16(ph + 10, ulen);
	memcpy(ph + 12, ip + 20, ulen & 0x3ff);
	ph[12 + 6] = ph[12 + 7] = 0;
	c = fr_csum(ph, 12u + (ulen & 0x3ff));
	return c == 0 ? 0xffff : c;
}

static void test_inject_exact_bytes(void **state)
{
	uint8_t pl[56], want[14 + 20 + 8 + 56], wmac[6], f[64];
	struct rte_ether_addr a;
	struct rte_mbuf *m = NULL;

	(void)state;
	for (size_t i = 0; i < sizeof(pl); i++)
		pl[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(rte_eth_macaddr_get((uint16_t)wan.port_id, &a), 0);
	memcpy(wmac, a.addr_bytes, 6);
	/* unresolved: nothing sent, dp_service asks ARP */
	assert_int_equal(dp_inject_probe(dp, PEER, pl, sizeof(pl)), -EAGAIN);
	assert_int_equal(dp_service(dp), 0);
	for (int i = 0; i < 5000 && tport_out_count(&wan) == 0; i++)
		rte_delay_us_sleep(1000);
	assert_int_equal(tport_take(&wan, &m, 1), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 42);
	assert_int_equal(rte_pktmbuf_mtod(m, uint8_t *)[21], 1); /* ARP request */
	assert_int_equal(memcmp(rte_pktmbuf_mtod(m, uint8_t *) + 38, "\xc0\xa8\x00\x07", 4), 0);
	rte_pktmbuf_free(m);
	put(f, fr_arp(f, 2, peer_mac, PEER, wmac, WAN_ADDR));
	assert_true(dp_wait_rx(dp, 0, sent_wan));
	for (int i = 0; i < 5000 && dp_inject_probe(dp, PEER, pl, sizeof(pl)) == -EAGAIN; i++) {
		rte_delay_us_sleep(1000);
		assert_int_equal(dp_service(dp), 0);
	}
	for (int i = 0; i < 5000 && tport_out_count(&wan) == 0; i++)
		rte_delay_us_sleep(1000);
	assert_int_equal(tport_take(&wan, &m, 1), 1);
	/* the expected frame, built independently */
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, wmac, 6);
	fr_put16(want + 12, 0x0800);
	memset(want + 14, 0, 20);
	want[14] = 0x45;
	fr_put16(want + 16, 20 + 8 + 56);
	fr_put16(want + 18, 0);	     /* first IP id */
	fr_put16(want + 20, 0x4000); /* DF */
	want[22] = 64;
	want[23] = 17;
	fr_put32(want + 26, WAN_ADDR);
	fr_put32(want + 30, PEER);
	fr_ip_csum(want + 14);
	fr_put16(want + 34, PORT);
	fr_put16(want + 36, PORT);
	fr_put16(want + 38, 8 + 56);
	memcpy(want + 42, pl, sizeof(pl));
	fr_put16(want + 40, udp_csum(want + 14));
	assert_int_equal(rte_pktmbuf_pkt_len(m), sizeof(want));
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), want, sizeof(want));
	rte_pktmbuf_free(m);
	settle();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_punted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_udp_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_exact_bytes, setup, teardown),
	};

	if (vprn_test_eal_init("0-1", 0, NULL) < 0)
		return 1;
	tpool = rte_pktmbuf_pool_create("tpool", TPOOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (tpool == NULL || tport_create(&lan, "lan_p", 1) < 0 ||
		tport_create(&wan, "wan_p", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
