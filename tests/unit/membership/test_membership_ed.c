/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The ED glue on a real data plane (ring ports, one worker): our startup
 * query leaves on the LAN port with the port's MAC, a host's report punted by
 * the data plane becomes a learned group and an event, a data packet to an
 * unknown group makes the site a sender; no mbuf is leaked on any path.
 */
#include "mship_test.h"

#include <rte_ethdev.h>
#include <rte_mempool.h>

#include "control/membership/membership_ed.h"
#include "dataplane/dp.h"
#include "tests/unit/dp/dp_test_util.h"
#include "tests/unit/dp/frames.h"
#include "tests/unit/eal_helper.h"

#define LAN IP(192, 168, 1, 1)
#define HOST IP(192, 168, 1, 10)
#define TPOOL_N 1023

static struct tport lan, wan;
static struct rte_mempool *tpool;
static struct dp *dp;
static unsigned int n_events;
static struct membership_event last;

static void on_event(void *ctx, const struct membership_event *ev)
{
	(void)ctx;
	n_events++;
	last = *ev;
}

static int setup(void **state)
{
	struct dp_conf c = { 0 };

	(void)state;
	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "%s", lan.name);
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "%s", wan.name);
	c.lan.addr = LAN;
	c.lan.prefix_len = 24;
	c.wan.addr = IP(10, 100, 1, 2);
	c.wan.prefix_len = 24;
	c.n_workers = 1;
	c.idle_sleep_us = 100;
	c.n_mbufs = 2047;
	dp = dp_create(&c);
	n_events = 0;
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

/* Hand every punt to the glue, as the ED's loop does; returns how many it took. */
static unsigned int drain(struct membership_ed *e)
{
	struct dp_punt p[16];
	unsigned int n, taken = 0;

	for (int i = 0; i < 2000; i++) {
		n = dp_punt_dequeue(dp, p, 16);
		for (unsigned int k = 0; k < n; k++) {
			if (membership_ed_punt(e, &p[k]))
				taken++;
			else
				rte_pktmbuf_free(p[k].m);
		}
		if (taken > 0 && n == 0)
			break;
		rte_delay_us_sleep(1000);
	}
	return taken;
}

static void test_glue(void **state)
{
	struct membership_ed_params p = {
		.dp = dp, .lan_addr = LAN, .lan_prefix_len = 24, .event = on_event
	};
	struct membership_member rows[8];
	struct rte_ether_addr mac;
	struct rte_mbuf *m = NULL;
	struct membership_ed *e;
	struct igmp_msg msg;
	uint8_t f[1600];
	size_t len;

	(void)state;
	e = membership_ed_new(&p);
	assert_non_null(e);
	/* The startup query, injected on the LAN with the LAN port's MAC. */
	for (int i = 0; i < 2000 && tport_out_count(&lan) == 0; i++)
		rte_delay_us_sleep(1000);
	assert_int_equal(tport_take(&lan, &m, 1), 1);
	assert_int_equal(igmp_parse(rte_pktmbuf_mtod(m, uint8_t *), rte_pktmbuf_pkt_len(m),
				 IGMP_L2_ETHER, &msg),
		IGMP_OK);
	assert_int_equal(msg.type, IGMP_MSG_V3_QUERY);
	assert_int_equal(msg.ip_src, LAN);
	assert_int_equal(rte_eth_macaddr_get((uint16_t)lan.port_id, &mac), 0);
	assert_memory_equal(rte_pktmbuf_mtod(m, uint8_t *) + 6, mac.addr_bytes, 6);
	rte_pktmbuf_free(m);
	assert_int_equal(tport_out_count(&wan), 0);

	/* A host's v2 report: punted, learned, one JOIN event. */
	len = host_v12(f, HOST, IGMP_V2_REPORT, IP(239, 1, 1, 1));
	assert_int_equal(tport_put(&lan, 0, tpool, f, len), 0);
	assert_int_equal(drain(e), 1);
	assert_int_equal(n_events, 1);
	assert_int_equal(last.group, IP(239, 1, 1, 1));
	assert_int_equal(last.role, MEMBERSHIP_ROLE_RECEIVER);

	/* Local multicast data to an unknown group: source-active, the site is a sender. */
	len = fr_ipv4(f, NULL, HOST, IP(239, 9, 9, 9), 17, 8, 64);
	assert_int_equal(tport_put(&lan, 0, tpool, f, len), 0);
	assert_true(drain(e) >= 1);
	assert_int_equal(last.role, MEMBERSHIP_ROLE_SENDER);
	assert_int_equal(last.group, IP(239, 9, 9, 9));
	assert_int_equal(last.sources[0], HOST);
	assert_int_equal(membership_members(membership_ed_module(e), rows, 8), 3);
	membership_ed_tick(e);
	membership_ed_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_glue, setup, teardown),
	};

	if (vprn_test_eal_init("0-1", 0, NULL) < 0)
		return 1;
	tpool = rte_pktmbuf_pool_create("tpool", TPOOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (tpool == NULL || tport_create(&lan, "lan_m", 1) < 0 ||
		tport_create(&wan, "wan_m", 1) < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
