/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TESTS_DP_TEST_UTIL_H
#define VPRN_TESTS_DP_TEST_UTIL_H

/*
 * Test harness for the data plane: two ring-backed ethdevs (LAN, WAN), each
 * with an "in" ring per worker the test fills (port RX) and an "out" ring per
 * worker the test drains (port TX), and a test-owned mbuf pool.
 */

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/dp.h"

#define TP_MAX_Q 4

struct tport {
	char name[RTE_ETH_NAME_MAX_LEN];
	unsigned int nq;
	struct rte_ring *in[TP_MAX_Q];
	struct rte_ring *out[TP_MAX_Q];
	int port_id;
};

static inline int tport_create(struct tport *tp, const char *name, unsigned int nq)
{
	char rn[RTE_RING_NAMESIZE];

	memset(tp, 0, sizeof(*tp));
	snprintf(tp->name, sizeof(tp->name), "%s", name);
	tp->nq = nq;
	for (unsigned int q = 0; q < nq; q++) {
		snprintf(rn, sizeof(rn), "%s_i%u", name, q);
		tp->in[q] = rte_ring_create(rn, 4096, 0, 0);
		snprintf(rn, sizeof(rn), "%s_o%u", name, q);
		tp->out[q] = rte_ring_create(rn, 4096, 0, 0);
		if (tp->in[q] == NULL || tp->out[q] == NULL)
			return -1;
	}
	tp->port_id = rte_eth_from_rings(name, tp->in, nq, tp->out, nq, 0);
	if (tp->port_id < 0)
		return -1;
	/* The ring PMD names the port "net_ring_<name>": the name dp_create() looks up. */
	return rte_eth_dev_get_name_by_port((uint16_t)tp->port_id, tp->name) == 0 ? 0 : -1;
}

/* Number of frames waiting on the port's TX side (all queues). */
static inline unsigned int tport_out_count(const struct tport *tp)
{
	unsigned int n = 0;

	for (unsigned int q = 0; q < tp->nq; q++)
		n += rte_ring_count(tp->out[q]);
	return n;
}

/* Take up to n frames from the port's TX side. */
static inline unsigned int tport_take(struct tport *tp, struct rte_mbuf **pkts, unsigned int n)
{
	unsigned int got = 0;

	for (unsigned int q = 0; q < tp->nq && got < n; q++)
		got += rte_ring_dequeue_burst(tp->out[q], (void **)pkts + got, n - got, NULL);
	return got;
}

static inline void tport_flush(struct tport *tp)
{
	struct rte_mbuf *m[32];
	unsigned int n;

	while ((n = tport_take(tp, m, 32)) != 0)
		rte_pktmbuf_free_bulk(m, n);
}

/* Put a frame on the port's RX side (queue q). */
static inline int tport_put(
	struct tport *tp, unsigned int q, struct rte_mempool *mp, const void *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	char *p;

	if (m == NULL)
		return -1;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -1;
	}
	memcpy(p, frame, len);
	if (rte_ring_enqueue(tp->in[q], m) != 0) {
		rte_pktmbuf_free(m);
		return -1;
	}
	return 0;
}

/* Wait (bounded) until the data plane has received `rx` frames on both ports in total. */
static inline bool dp_wait_rx(struct dp *dp, uint64_t rx_lan, uint64_t rx_wan)
{
	struct dp_stats st;

	for (int i = 0; i < 5000; i++) {
		dp_get_stats(dp, &st);
		if (st.rx_pkts[0] >= rx_lan && st.rx_pkts[1] >= rx_wan)
			return true;
		rte_delay_us_sleep(1000);
	}
	return false;
}

/* Quiesce: stop the workers so that every counter and TX ring is final. */
static inline void dp_settle(struct dp *dp)
{
	dp_stop(dp);
}

#endif /* VPRN_TESTS_DP_TEST_UTIL_H */
