/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Two worker lcores: each owns one RX and one TX queue per port; frames
 * arriving on queue q are answered on queue q (ARP), counters add up over
 * workers, punts from both reach the control thread, stop joins both.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_ethdev.h>

#include "dataplane/dp.h"
#include <stdio.h>
#include <unistd.h>

#include <rte_eal.h>
#include "dp_test_util.h"
#include "frames.h"

#define LAN_ADDR 0x0a000101u
#define HOST 0x0a000102u

static struct tport lan, wan;
static struct rte_mempool *tpool;

static void test_two_workers(void **state)
{
	static const uint8_t zero[6];
	struct dp_conf c = { 0 };
	uint8_t f[128];
	struct dp_punt p[8];
	struct dp_stats st;
	struct dp *dp;
	unsigned int punts = 0, n;

	(void)state;
	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "%s", lan.name);
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "%s", wan.name);
	c.lan.addr = LAN_ADDR;
	c.lan.prefix_len = 24;
	c.wan.addr = 0xc0a80001;
	c.wan.prefix_len = 24;
	c.n_workers = 2;
	c.idle_sleep_us = 100;
	c.n_mbufs = 2047;
	dp = dp_create(&c);
	assert_non_null(dp);
	assert_int_equal(dp_start(dp), 0);
	for (unsigned int q = 0; q < 2; q++) {
		assert_int_equal(tport_put(&lan, q, tpool, f,
					 fr_arp(f, 1, fr_host_mac, HOST, zero, LAN_ADDR)),
			0);
		assert_int_equal(
			tport_put(&lan, q, tpool, f, fr_ipv4(f, NULL, HOST, 0xe0000016, 2, 1, 16)),
			0);
	}
	assert_true(dp_wait_rx(dp, 4, 0));
	dp_stop(dp);
	/* Each worker answered on its own TX queue. */
	assert_int_equal(rte_ring_count(lan.out[0]), 1);
	assert_int_equal(rte_ring_count(lan.out[1]), 1);
	while ((n = dp_punt_dequeue(dp, p, 8)) != 0) {
		for (unsigned int i = 0; i < n; i++) {
			assert_int_equal(p[i].kind, DP_PUNT_IGMP);
			rte_pktmbuf_free(p[i].m);
		}
		punts += n;
	}
	assert_int_equal(punts, 2);
	assert_int_equal(dp_get_stats(dp, &st), 0);
	assert_int_equal(st.rx_pkts[0], 4);
	assert_int_equal(st.tx_pkts[0], 2);
	assert_int_equal(st.punts, 2);
	tport_flush(&lan);
	dp_destroy(dp);
	assert_int_equal(rte_mempool_avail_count(tpool), 511);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_workers),
	};

	char prefix[64];
	/* Three lcores (main + 2 workers) as threads over whatever CPUs there are. */
	char *argv[] = { "test", "--lcores=0@0,(1-2)@(0-1)", "--no-huge", "--no-pci", "-m", "256",
		prefix, "--log-level=lib.*:error", NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=vprn-ut-%d", (int)getpid());
	if (rte_eal_init(8, argv) < 0)
		return 1;
	tpool = rte_pktmbuf_pool_create("tpool", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (tpool == NULL || tport_create(&lan, "lan_w", 2) < 0 ||
		tport_create(&wan, "wan_w", 2) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
