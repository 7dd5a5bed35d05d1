/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Worker lcore main loop, run to completion:
 *   RX burst (LAN, WAN) -> classify/replicate (lan.c, wan.c) -> buffered TX.
 * Worker 0 also drains the control thread's inject rings. When idle_sleep_us
 * is set, a worker that saw DP_IDLE_POLLS empty polls in a row sleeps, so
 * that many EDs can share a few cores (laptops, CI, the demo).
 */

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <string.h>

#include "dataplane/dp_priv.h"
#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"
#include "dataplane/stage.h"

#define DP_IDLE_POLLS 8

void dp_tx_flush(struct dp_worker *w, unsigned int port)
{
	struct dp_txbuf *b = &w->tx[port];
	uint16_t sent = 0;

	if (b->n == 0)
		return;
	/* Retry a little: a full ring/queue is usually drained within a few polls. */
	for (unsigned int tries = 0; tries < 4 && sent < b->n; tries++)
		sent += rte_eth_tx_burst(
			w->dp->port[port].port_id, w->idx, b->pkts + sent, b->n - sent);
	DP_CTR_ADD(w->ctr.tx[port], sent);
	dp_stage_pkts(w, DP_STAGE_TX, sent);
	for (uint16_t i = sent; i < b->n; i++)
		dp_drop(w, b->pkts[i], DP_DROP_TX_FULL);
	b->n = 0;
}

static unsigned int poll_inject(struct dp_worker *w)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned int total = 0;

	for (unsigned int p = 0; p < DP_N_PORTS; p++) {
		unsigned int n = rte_ring_sc_dequeue_burst(
			w->dp->inject_ring[p], (void **)pkts, DP_MAX_BURST, NULL);

		if (n == 0)
			continue;
		DP_CTR_ADD(w->ctr.inject, n);
		dp_inject_input(w, p, pkts, n);
		total += n;
	}
	unsigned int ne = rte_ring_sc_dequeue_burst(
		w->dp->inject_esp_ring, (void **)pkts, DP_MAX_BURST, NULL);

	if (ne != 0) {
		DP_CTR_ADD(w->ctr.inject, ne);
		dp_inject_esp_input(w, pkts, ne);
		total += ne;
	}
	return total;
}

/*
 * SA lifetime events raised by this lcore's ESP context go to the control
 * thread as punted mbufs carrying a struct esp_event (rare: a few per SA).
 */
static void punt_sa_events(struct dp_worker *w)
{
	struct esp_event ev[8];
	unsigned int n = esp_ctx_take_events(w->esp, ev, RTE_DIM(ev));

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(w->dp->pool);
		void *p = m != NULL ? rte_pktmbuf_append(m, sizeof(ev[i])) : NULL;

		if (p == NULL) {
			rte_pktmbuf_free(m);
			DP_CTR_ADD(w->ctr.drop[DP_DROP_NO_MBUF], 1);
			continue;
		}
		memcpy(p, &ev[i], sizeof(ev[i]));
		dp_punt(w, m, DP_PORT_WAN, DP_PUNT_SA_EVENT);
	}
}

static unsigned int poll_port(struct dp_worker *w, unsigned int port)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	uint16_t n;

	n = rte_eth_rx_burst(w->dp->port[port].port_id, w->idx, pkts, DP_MAX_BURST);
	if (n == 0)
		return 0;
	DP_CTR_ADD(w->ctr.rx[port], n);
	if (port == DP_PORT_LAN)
		dp_lan_input(w, pkts, n);
	else
		dp_wan_input(w, pkts, n);
	return n;
}

/* poll_port() with stage accounting: RX until the burst is in, then PARSE. */
static unsigned int poll_port_timed(struct dp_worker *w, unsigned int port)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	uint16_t n;

	dp_stage_switch(w, DP_STAGE_RX);
	n = rte_eth_rx_burst(w->dp->port[port].port_id, w->idx, pkts, DP_MAX_BURST);
	if (n == 0)
		return 0;
	DP_CTR_ADD(w->ctr.rx[port], n);
	w->st.pkts[DP_STAGE_RX] += n;
	dp_stage_switch(w, DP_STAGE_PARSE);
	w->st.pkts[DP_STAGE_PARSE] += n;
	if (port == DP_PORT_LAN)
		dp_lan_input(w, pkts, n);
	else
		dp_wan_input(w, pkts, n);
	return n;
}

/*
 * dp_worker_poll() with per-stage cycles (docs/dataplane.md). The iteration's
 * scratch is committed only when it handled packets: idle polls are not
 * charged to any stage.
 */
static unsigned int poll_timed(struct dp_worker *w)
{
	struct dp_stage_ctr *c = &w->st_ctr;
	uint64_t start = rte_rdtsc(), end;
	unsigned int n = 0;

	memset(w->st.cycles, 0, sizeof(w->st.cycles));
	memset(w->st.pkts, 0, sizeof(w->st.pkts));
	w->st.cur = DP_STAGE_RX;
	w->st.last = start;
	n += poll_port_timed(w, DP_PORT_LAN);
	n += poll_port_timed(w, DP_PORT_WAN);
	if (w->idx == 0) {
		dp_stage_switch(w, DP_STAGE_PARSE);
		n += poll_inject(w);
	}
	dp_stage_switch(w, DP_STAGE_TX);
	dp_tx_flush(w, DP_PORT_LAN);
	dp_tx_flush(w, DP_PORT_WAN);
	if (n != 0) {
		dp_stage_switch(w, DP_STAGE_PARSE);
		punt_sa_events(w);
	}
	dp_stage_switch(w, DP_STAGE_RX);
	if (n == 0)
		return 0;
	end = w->st.last;
	for (unsigned int s = 0; s < DP_STAGE__MAX; s++) {
		DP_CTR_ADD(c->cycles[s], w->st.cycles[s]);
		DP_CTR_ADD(c->pkts[s], w->st.pkts[s]);
	}
	DP_CTR_ADD(c->total_cycles, end - start);
	DP_CTR_ADD(c->total_pkts, n);
	return n;
}

unsigned int dp_worker_poll(struct dp_worker *w)
{
	unsigned int n = 0;

	if (unlikely(w->st.on)) /* the only cost of stage_cycles when off */
		return poll_timed(w);

	n += poll_port(w, DP_PORT_LAN);
	n += poll_port(w, DP_PORT_WAN);
	if (w->idx == 0)
		n += poll_inject(w);
	dp_tx_flush(w, DP_PORT_LAN);
	dp_tx_flush(w, DP_PORT_WAN);
	if (n != 0)
		punt_sa_events(w);
	return n;
}

int dp_worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct dp *dp = w->dp;
	unsigned int empty = 0;

	dp_worker_online(w);
	/* Relaxed: the flag carries no data (see struct dp). */
	while (__atomic_load_n(&dp->running, __ATOMIC_RELAXED)) {
		unsigned int n = dp_worker_poll(w);

		dp_worker_quiescent(w);
		if (n != 0 || dp->conf.idle_sleep_us == 0) {
			empty = 0;
			continue;
		}
		if (++empty < DP_IDLE_POLLS)
			continue;
		DP_CTR_ADD(w->ctr.idle_sleeps, 1);
		dp_worker_offline(w);
		rte_delay_us_sleep(dp->conf.idle_sleep_us);
		dp_worker_online(w);
	}
	dp_worker_offline(w);
	return 0;
}
