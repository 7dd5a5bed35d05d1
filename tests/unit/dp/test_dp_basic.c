/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data plane life cycle with real workers on ring ports: create/start/stop/
 * destroy, RX counting and drop reasons, idle back-off, inject, punt, bad
 * configurations refused, devargs probing, no mbuf leaked.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "dataplane/dp.h"
#include "dataplane/drop.h"
#include "tests/unit/eal_helper.h"
#include "dp_test_util.h"

static struct tport lan, wan;
static struct rte_mempool *tpool;

static struct dp_conf base_conf(void)
{
	struct dp_conf c = { 0 };

	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "%s", lan.name);
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "%s", wan.name);
	c.lan.addr = 0x0a000101; /* 10.0.1.1 */
	c.lan.prefix_len = 24;
	c.wan.addr = 0xc0a80001; /* 192.168.0.1 */
	c.wan.prefix_len = 24;
	c.n_workers = 1;
	c.idle_sleep_us = 100;
	c.n_mbufs = 2047;
	return c;
}

static uint64_t drop_of(struct dp *dp, enum dp_drop r)
{
	uint64_t d[DP_DROP__MAX];

	assert_int_equal(dp_get_drops(dp, d, DP_DROP__MAX), 0);
	return d[r];
}

static void test_refuses_bad_conf(void **state)
{
	struct dp_conf c;

	(void)state;
	c = base_conf();
	c.n_workers = 0;
	assert_null(dp_create(&c));
	assert_int_equal(errno, EINVAL);
	c = base_conf();
	c.n_workers = 2; /* EAL has one worker lcore */
	assert_null(dp_create(&c));
	c = base_conf();
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "%s", lan.name); /* same port twice */
	assert_null(dp_create(&c));
	c = base_conf();
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "net_nosuchdriver0");
	assert_null(dp_create(&c));
	c = base_conf();
	c.lan.prefix_len = 33;
	assert_null(dp_create(&c));
	assert_int_equal(rte_mempool_avail_count(tpool), 1023);
}

static void test_rx_counted_and_dropped(void **state)
{
	struct dp_conf c = base_conf();
	static const uint8_t runt[10] = { 0 };
	uint8_t frame[60] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00 };
	struct dp_stats st;
	struct dp *dp;

	(void)state;
	dp = dp_create(&c);
	assert_non_null(dp);
	assert_int_equal(dp_start(dp), 0);
	assert_int_equal(dp_start(dp), -EALREADY);
	for (int i = 0; i < 100; i++)
		assert_int_equal(tport_put(&lan, 0, tpool, frame, sizeof(frame)), 0);
	assert_int_equal(tport_put(&lan, 0, tpool, runt, sizeof(runt)), 0);
	assert_int_equal(tport_put(&wan, 0, tpool, runt, sizeof(runt)), 0);
	assert_true(dp_wait_rx(dp, 101, 1));
	dp_settle(dp);
	assert_int_equal(dp_get_stats(dp, &st), 0);
	assert_int_equal(st.rx_pkts[0], 101);
	assert_int_equal(st.rx_pkts[1], 1);
	assert_int_equal(st.tx_pkts[0] + st.tx_pkts[1], 0);
	assert_int_equal(st.drops, 102);
	assert_int_equal(drop_of(dp, DP_DROP_ETH_TRUNC), 2);
	assert_int_equal(tport_out_count(&wan), 0); /* fail-closed */
	assert_int_equal(tport_out_count(&lan), 0);
	dp_destroy(dp);
	assert_int_equal(rte_mempool_avail_count(tpool), 1023);
}

static void test_idle_backoff_sleeps(void **state)
{
	struct dp_conf c = base_conf();
	struct dp_stats st;
	struct dp *dp;

	(void)state;
	c.idle_sleep_us = 200;
	dp = dp_create(&c);
	assert_non_null(dp);
	assert_int_equal(dp_start(dp), 0);
	for (int i = 0; i < 2000; i++) {
		dp_get_stats(dp, &st);
		if (st.idle_sleeps >= 3)
			break;
		rte_delay_us_sleep(1000);
	}
	dp_stop(dp);
	dp_get_stats(dp, &st);
	assert_true(st.idle_sleeps >= 3);
	dp_destroy(dp);
}

static void test_inject_exact_bytes(void **state)
{
	struct dp_conf c = base_conf();
	uint8_t frame[64];
	struct rte_mbuf *m = NULL;
	struct dp_stats st;
	struct dp *dp;

	(void)state;
	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)(i * 7 + 1);
	dp = dp_create(&c);
	assert_non_null(dp);
	assert_int_equal(dp_inject_frame(dp, DP_WAN, frame, 10), -EINVAL); /* runt */
	assert_int_equal(dp_inject_frame(dp, (enum dp_port_sel)5, frame, 64), -EINVAL);
	assert_int_equal(dp_start(dp), 0);
	assert_int_equal(dp_inject_frame(dp, DP_WAN, frame, sizeof(frame)), 0);
	for (int i = 0; i < 5000 && tport_out_count(&wan) == 0; i++)
		rte_delay_us_sleep(1000);
	dp_stop(dp);
	assert_int_equal(tport_take(&wan, &m, 1), 1);
	assert_int_equal(rte_pktmbuf_pkt_len(m), sizeof(frame));
	assert_memory_equal(rte_pktmbuf_mtod(m, void *), frame, sizeof(frame));
	rte_pktmbuf_free(m);
	assert_int_equal(tport_out_count(&lan), 0);
	dp_get_stats(dp, &st);
	assert_int_equal(st.injects, 1);
	assert_int_equal(st.tx_pkts[1], 1);
	assert_int_equal(rte_mempool_avail_count(dp_pool(dp)), 2047);
	dp_destroy(dp);
}

static void test_probe_vdev(void **state)
{
	struct dp_conf c = base_conf();
	struct dp *dp;
	uint16_t id;

	(void)state;
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "net_ring_wanprobe");
	dp = dp_create(&c);
	assert_non_null(dp);
	assert_int_equal(rte_eth_dev_get_port_by_name("net_ring_wanprobe", &id), 0);
	assert_int_equal(dp_port_id(dp, DP_WAN), id);
	assert_int_equal(dp_start(dp), 0);
	dp_stop(dp);
	dp_destroy(dp);
	/* Probed by the data plane, so removed with it: a second create works. */
	assert_int_not_equal(rte_eth_dev_get_port_by_name("net_ring_wanprobe", &id), 0);
	dp = dp_create(&c);
	assert_non_null(dp);
	dp_destroy(dp);
}

static void test_drop_names(void **state)
{
	(void)state;
	assert_int_equal(dp_drop_count(), DP_DROP__MAX);
	assert_string_equal(dp_drop_name(DP_DROP_IP_CSUM), "ipv4_bad_checksum");
	assert_null(dp_drop_name(DP_DROP__MAX));
	for (unsigned int r = 0; r < DP_DROP__MAX; r++)
		assert_non_null(dp_drop_name(r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_drop_names),
		cmocka_unit_test(test_refuses_bad_conf),
		cmocka_unit_test(test_rx_counted_and_dropped),
		cmocka_unit_test(test_idle_backoff_sleeps),
		cmocka_unit_test(test_inject_exact_bytes),
		cmocka_unit_test(test_probe_vdev),
	};

	if (vprn_test_eal_init("0-1", 0, NULL) < 0)
		return 1;
	tpool = rte_pktmbuf_pool_create("tpool", 1023, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (tpool == NULL || tport_create(&lan, "lan_t", 1) < 0 ||
		tport_create(&wan, "wan_t", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
