/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Classification through real workers on ring ports: IGMP punted, ARP
 * answered on both ports (exact bytes), link-local/unicast/unknown groups
 * never reach the WAN, source-active punts, TTL, every malformed class
 * counted, staged table commits, ARP resolution of WAN next hops, WAN
 * ingress refusals, no mbuf leaked.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "dataplane/dp.h"
#include "dataplane/drop.h"
#include "tests/unit/eal_helper.h"
#include "dp_test_util.h"
#include "frames.h"

#define LAN_ADDR 0x0a000101u /* 10.0.1.1 */
#define WAN_ADDR 0xc0a80001u /* 192.168.0.1 */
#define HOST 0x0a000102u     /* 10.0.1.2 */
#define GROUP 0xef010203u    /* 239.1.2.3 */
#define PEER 0xc0a80007u     /* 192.168.0.7, on-link */
#define TPOOL_N 1023

static struct tport lan, wan;
static struct rte_mempool *tpool;
static struct dp *dp;
static uint64_t sent_lan, sent_wan;

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
	c.punt_rate = 2;
	c.tree_grace_ms = 1;
	dp = dp_create(&c);
	sent_lan = sent_wan = 0;
	return dp == NULL ? -1 : dp_start(dp);
}

static int teardown(void **state)
{
	(void)state;
	dp_stop(dp);
	tport_flush(&lan);
	tport_flush(&wan);
	/* Every mbuf of the data plane is back: nothing leaked on any path. */
	assert_int_equal(rte_mempool_avail_count(dp_pool(dp)), 2047);
	dp_destroy(dp);
	assert_int_equal(rte_mempool_avail_count(tpool), TPOOL_N);
	return 0;
}

static void put(struct tport *tp, const uint8_t *f, size_t len)
{
	assert_int_equal(tport_put(tp, 0, tpool, f, len), 0);
	if (tp == &lan)
		sent_lan++;
	else
		sent_wan++;
}

/* Wait until the workers took everything we sent, then stop them: counters final. */
static void settle(void)
{
	assert_true(dp_wait_rx(dp, sent_lan, sent_wan));
	dp_stop(dp);
}

static uint64_t drop_of(enum dp_drop r)
{
	uint64_t d[DP_DROP__MAX];

	assert_int_equal(dp_get_drops(dp, d, DP_DROP__MAX), 0);
	return d[r];
}

static void port_mac(int port, uint8_t mac[6])
{
	struct rte_ether_addr a;

	assert_int_equal(rte_eth_macaddr_get((uint16_t)port, &a), 0);
	memcpy(mac, a.addr_bytes, 6);
}

static void test_igmp_punted(void **state)
{
	uint8_t f[1600];
	size_t len = fr_ipv4(f, NULL, HOST, 0xe0000016, 2, 1, 16); /* IGMPv3 report */
	struct dp_punt p[4];

	(void)state;
	put(&lan, f, len);
	settle();
	assert_int_equal(dp_punt_dequeue(dp, p, 4), 1);
	assert_int_equal(p[0].kind, DP_PUNT_IGMP);
	assert_int_equal(p[0].port, DP_LAN);
	assert_int_equal(rte_pktmbuf_pkt_len(p[0].m), len);
	assert_memory_equal(rte_pktmbuf_mtod(p[0].m, void *), f, len);
	rte_pktmbuf_free(p[0].m);
	assert_int_equal(tport_out_count(&wan), 0);
}

static void check_arp_reply(struct tport *tp, const uint8_t *mymac, uint32_t me)
{
	uint8_t want[64];
	struct rte_mbuf *m = NULL;

	fr_arp(want, 2, mymac, me, fr_host_mac, HOST);
	assert_int_equal(tport_take(tp, &m, 1), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 42);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), want, 42);
	rte_pktmbuf_free(m);
}

static void test_arp_answered_both_ports(void **state)
{
	static const uint8_t zero[6];
	uint8_t f[64], lmac[6], wmac[6];

	(void)state;
	port_mac(lan.port_id, lmac);
	port_mac(wan.port_id, wmac);
	put(&lan, f, fr_arp(f, 1, fr_host_mac, HOST, zero, LAN_ADDR));
	put(&wan, f, fr_arp(f, 1, fr_host_mac, HOST, zero, WAN_ADDR));
	put(&lan, f, fr_arp(f, 1, fr_host_mac, HOST, zero, 0x0a000109)); /* not us */
	settle();
	/* The requester (HOST) is answered with our MAC, on the port it asked on. */
	check_arp_reply(&lan, lmac, LAN_ADDR);
	check_arp_reply(&wan, wmac, WAN_ADDR);
	assert_int_equal(drop_of(DP_DROP_ARP_NOT_US), 1);
}

static void test_never_forwarded(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 9 };
	uint8_t f[1600];
	struct dp_punt p[8];
	unsigned int punted = 0, n;

	(void)state;
	put(&lan, f, fr_ipv4(f, NULL, HOST, 0xe0000005, 89, 1, 30)); /* OSPF, link-local */
	put(&lan, f, fr_ipv4(f, mac, HOST, 0x0a000105, 17, 64, 30)); /* unicast */
	for (int i = 0; i < 50; i++)
		put(&lan, f, fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 100)); /* unknown group */
	settle();
	assert_int_equal(drop_of(DP_DROP_LINK_LOCAL), 1);
	assert_int_equal(drop_of(DP_DROP_LAN_NOT_MCAST), 1);
	while ((n = dp_punt_dequeue(dp, p, 8)) != 0) {
		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(p[i].kind, DP_PUNT_SOURCE_ACTIVE);
			rte_pktmbuf_free(p[i].m);
		}
		punted += n;
	}
	/* Rate-limited source-active signal, the rest dropped: fail-closed. */
	assert_true(punted >= 1 && punted < 10);
	assert_int_equal(drop_of(DP_DROP_GROUP_UNKNOWN) + punted, 50);
	assert_int_equal(tport_out_count(&wan), 0);
	assert_int_equal(tport_out_count(&lan), 0);
}

static void commit_group(uint32_t group, unsigned int n_nbrs)
{
	struct dp_nbr_conf nb = { .addr = PEER, .sa_out = NULL };
	struct dp_group_conf g = { .group = group, .mode = DP_SA_PAIRWISE, .n_nbrs = n_nbrs };
	struct dp_txn *txn = dp_txn_begin(dp);

	g.nbrs[0] = PEER;
	assert_non_null(txn);
	assert_int_equal(dp_txn_set_neighbour(txn, &nb), 0);
	assert_int_equal(dp_txn_set_group(txn, &g), 0);
	assert_int_equal(dp_txn_commit(txn), 0);
}

static void test_known_group_ttl_and_fail_closed(void **state)
{
	struct dp_group_stats gs;
	uint8_t f[1600], big[1600], lmac[6];
	struct rte_mbuf *m = NULL;
	const uint8_t *r;
	size_t len;

	(void)state;
	commit_group(GROUP, 1);
	commit_group(GROUP + 1, 0);
	assert_int_equal(dp_group_get_stats(dp, GROUP, &gs), 0);
	assert_int_equal(gs.lan_pkts, 0);
	assert_true(gs.idle_ms == UINT64_MAX);
	put(&lan, f, fr_ipv4(f, NULL, HOST, GROUP, 17, 1, 64));	     /* TTL 1 */
	put(&lan, f, fr_ipv4(f, NULL, HOST, GROUP, 17, 0, 64));	     /* TTL 0 */
	put(&lan, f, fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 64));     /* no SA: fail-closed */
	put(&lan, f, fr_ipv4(f, NULL, HOST, GROUP + 1, 17, 64, 64)); /* no neighbours */
	len = fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 1490); /* > WAN MTU with ESP, DF set */
	f[20] |= 0x40;
	fr_ip_csum(f + 14);
	put(&lan, f, len);
	settle();
	assert_int_equal(drop_of(DP_DROP_TTL), 2);
	assert_int_equal(drop_of(DP_DROP_NEIGH_UNRESOLVED), 1); /* the copy was not made */
	assert_int_equal(drop_of(DP_DROP_NO_NEIGHBOURS), 1);
	assert_int_equal(drop_of(DP_DROP_MTU), 1);
	assert_int_equal(tport_out_count(&wan), 0);
	/* DF set: ICMP fragmentation needed back to the sender (RFC 1191). */
	memcpy(big, f, len);
	port_mac(lan.port_id, lmac);
	assert_int_equal(tport_take(&lan, &m, 1), 1);
	r = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 14 + 20 + 8 + 28);
	assert_memory_equal(r, fr_host_mac, 6);
	assert_memory_equal(r + 6, lmac, 6);
	assert_int_equal(r[14 + 9], 1); /* ICMP */
	assert_int_equal(fr_csum(r + 14, 20), 0);
	assert_int_equal((r[26] << 24 | r[27] << 16 | r[28] << 8 | r[29]), LAN_ADDR);
	assert_int_equal((r[30] << 24 | r[31] << 16 | r[32] << 8 | r[33]), HOST);
	assert_int_equal(r[34], 3);			 /* destination unreachable */
	assert_int_equal(r[35], 4);			 /* fragmentation needed */
	assert_int_equal(r[40] << 8 | r[41], 1500 - 85); /* next-hop MTU */
	assert_int_equal(fr_csum(r + 34, 36), 0);
	assert_memory_equal(r + 42, big + 14, 28); /* header + 8 bytes quoted */
	rte_pktmbuf_free(m);
	assert_int_equal(dp_group_get_stats(dp, GROUP, &gs), 0);
	assert_int_equal(gs.lan_pkts, 4);
	assert_int_equal(gs.bytes, 3 * 84 + 1510);
	assert_true(gs.idle_ms != UINT64_MAX);
	assert_int_equal(dp_group_get_stats(dp, 0xef000009, &gs), -ENOENT);
}

static void test_malformed_each_counted(void **state)
{
	uint8_t f[1600];
	size_t len;

	(void)state;
	memset(f, 0, sizeof(f));
	put(&lan, f, 13); /* runt */
	len = fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 40);
	f[24] ^= 1; /* checksum now wrong */
	put(&lan, f, len);
	len = fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 40);
	f[14] = 0x44; /* IHL 4 */
	put(&lan, f, len);
	len = fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 40);
	f[17] = 200; /* total length > frame */
	fr_ip_csum(f + 14);
	put(&wan, f, len);
	len = fr_ipv4(f, NULL, HOST, GROUP, 17, 64, 40);
	put(&lan, f, 14 + 10); /* truncated IPv4 */
	len = fr_arp(f, 1, fr_host_mac, HOST, fr_host_mac, LAN_ADDR);
	f[19] = 16; /* bogus ARP plen */
	put(&lan, f, len);
	settle();
	assert_int_equal(drop_of(DP_DROP_ETH_TRUNC), 1);
	assert_int_equal(drop_of(DP_DROP_IP_CSUM), 1);
	assert_int_equal(drop_of(DP_DROP_IP_IHL), 1);
	assert_int_equal(drop_of(DP_DROP_IP_LEN), 1);
	assert_int_equal(drop_of(DP_DROP_IP_TRUNC), 1);
	assert_int_equal(drop_of(DP_DROP_ARP_BAD), 1);
	assert_int_equal(tport_out_count(&wan) + tport_out_count(&lan), 0);
}

static void test_wan_refusals(void **state)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 7 };
	uint8_t f[1600];
	size_t len;

	(void)state;
	put(&wan, f, fr_ipv4(f, mac, PEER, WAN_ADDR, 50, 64, 40));   /* ESP, unknown SPI */
	put(&wan, f, fr_ipv4(f, mac, PEER, WAN_ADDR, 17, 64, 40));   /* UDP, no encap */
	put(&wan, f, fr_ipv4(f, mac, PEER, 0xc0a80009, 50, 64, 40)); /* not our address */
	put(&wan, f, fr_ipv4(f, NULL, PEER, GROUP, 17, 64, 40));     /* multicast on WAN */
	len = fr_ipv4(f, mac, PEER, WAN_ADDR, 50, 64, 40);
	f[20] = 0x20; /* more fragments */
	fr_ip_csum(f + 14);
	put(&wan, f, len);
	settle();
	assert_int_equal(drop_of(DP_DROP_ESP_SPI), 1);
	assert_int_equal(drop_of(DP_DROP_WAN_PROTO), 2);
	assert_int_equal(drop_of(DP_DROP_WAN_NOT_US), 2);
	assert_int_equal(tport_out_count(&lan), 0);
}

static void test_txn_validation(void **state)
{
	struct dp_group_conf g = { .group = GROUP, .n_nbrs = 1 };
	struct dp_nbr_conf nb = { .addr = PEER };
	uint64_t gen = dp_generation(dp);
	struct dp_txn *txn;

	(void)state;
	txn = dp_txn_begin(dp);
	g.group = 0xe0000005; /* link-local */
	assert_int_equal(dp_txn_set_group(txn, &g), -EINVAL);
	g.group = 0x0a000001; /* unicast */
	assert_int_equal(dp_txn_set_group(txn, &g), -EINVAL);
	g.group = GROUP;
	g.n_nbrs = DP_MAX_TREE_NBRS + 1;
	assert_int_equal(dp_txn_set_group(txn, &g), -EINVAL);
	g.n_nbrs = 2;
	g.nbrs[0] = g.nbrs[1] = PEER; /* duplicate */
	assert_int_equal(dp_txn_set_group(txn, &g), -EINVAL);
	g.n_nbrs = 1;
	assert_int_equal(dp_txn_set_group(txn, &g), 0);
	nb.addr = WAN_ADDR; /* ourselves */
	assert_int_equal(dp_txn_set_neighbour(txn, &nb), -EINVAL);
	/* The group's neighbour was never set: the whole commit is refused. */
	assert_int_equal(dp_txn_commit(txn), -ENOENT);
	assert_int_equal(dp_generation(dp), gen);
	txn = dp_txn_begin(dp);
	nb.addr = PEER;
	assert_int_equal(dp_txn_set_neighbour(txn, &nb), 0);
	assert_int_equal(dp_txn_set_group(txn, &g), 0);
	assert_int_equal(dp_txn_del_spi(txn, 1234), -ENOENT);
	assert_int_equal(dp_txn_commit(txn), 0);
	assert_int_equal(dp_generation(dp), gen + 1);
	txn = dp_txn_begin(dp);
	assert_int_equal(dp_txn_del_group(txn, GROUP), 0);
	assert_int_equal(dp_txn_del_neighbour(txn, PEER), 0);
	assert_int_equal(dp_txn_commit(txn), 0);
	assert_int_equal(dp_generation(dp), gen + 2);
	settle();
}

static void test_arp_resolution(void **state)
{
	static const uint8_t peer_mac[6] = { 2, 0, 0, 0, 0, 0x77 };
	static const uint8_t zero[6];
	uint8_t f[64], want[64], wmac[6], mac[6];
	struct rte_mbuf *m = NULL;
	uint64_t gen;

	(void)state;
	port_mac(wan.port_id, wmac);
	commit_group(GROUP, 1);
	assert_int_equal(dp_neighbour_mac(dp, PEER, mac), -ENOENT);
	assert_int_equal(dp_service(dp), 0);
	assert_int_equal(dp_neighbour_mac(dp, PEER, mac), -EAGAIN);
	for (int i = 0; i < 5000 && tport_out_count(&wan) == 0; i++)
		rte_delay_us_sleep(1000);
	assert_int_equal(tport_take(&wan, &m, 1), 1);
	fr_arp(want, 1, wmac, WAN_ADDR, zero, PEER);
	assert_int_equal(rte_pktmbuf_pkt_len(m), 42);
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), want, 42);
	rte_pktmbuf_free(m);
	put(&wan, f, fr_arp(f, 2, peer_mac, PEER, wmac, WAN_ADDR));
	assert_true(dp_wait_rx(dp, 0, 1));
	gen = dp_generation(dp);
	for (int i = 0; i < 5000 && dp_neighbour_mac(dp, PEER, mac) != 0; i++) {
		rte_delay_us_sleep(1000);
		assert_int_equal(dp_service(dp), 0);
	}
	assert_int_equal(dp_neighbour_mac(dp, PEER, mac), 0);
	assert_memory_equal(mac, peer_mac, 6);
	assert_int_equal(dp_generation(dp), gen + 1); /* republished with the MAC */
	settle();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_igmp_punted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_answered_both_ports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_never_forwarded, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_known_group_ttl_and_fail_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_each_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wan_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_txn_validation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_resolution, setup, teardown),
	};

	if (vprn_test_eal_init("0-1", 0, NULL) < 0)
		return 1;
	tpool = rte_pktmbuf_pool_create("tpool", TPOOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (tpool == NULL || tport_create(&lan, "lan_l", 1) < 0 ||
		tport_create(&wan, "wan_l", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
