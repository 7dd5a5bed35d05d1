/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_DP_PRIV_H
#define VPRN_DATAPLANE_DP_PRIV_H

/*
 * Private layout of the data plane. Ownership (see docs/dataplane.md):
 *  - struct dp and everything reachable from it is created and destroyed by
 *    the control thread; workers only read it, except their own dp_worker.
 *  - struct dp_worker is written by exactly one worker lcore (its counters,
 *    TX buffers); control reads the counters with relaxed atomic loads.
 */

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <pthread.h>

#include <rte_common.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ether.h>

struct rte_rcu_qsbr;
struct dp_tables;
struct dp_cfg;
struct dp_arp_entry;

#include "dataplane/dp.h"
#include "dataplane/drop.h"

#define DP_PORT_LAN 0
#define DP_PORT_WAN 1
#define DP_N_PORTS 2

#define DP_MAX_BURST 32
/* TX buffer per port per worker: a few bursts, flushed every loop. */
#define DP_TX_BUF 256

/*
 * Per-lcore counters, one cache line aligned block per worker. Single writer
 * (the worker), readers (control, telemetry) use relaxed loads: a counter is a
 * monotonic statistic, no other memory is published through it.
 */
struct dp_counters {
	uint64_t rx[DP_N_PORTS];
	uint64_t tx[DP_N_PORTS];
	uint64_t punt;
	uint64_t inject;
	uint64_t idle_sleeps;
	uint64_t drop[DP_DROP__MAX];
} __rte_cache_aligned;

/* Single-writer counter increment: a plain load/store pair (no lock prefix). */
#define DP_CTR_ADD(field, n) \
	__atomic_store_n(&(field), (field) + (n), __ATOMIC_RELAXED) /* single writer */

/*
 * Per-stage cycle accounting (dp_conf.stage_cycles; stage.h). The committed
 * counters follow the dp_counters rules; cur/last/acc are worker-private
 * scratch for the iteration in progress.
 */
struct dp_stage_ctr {
	uint64_t cycles[DP_STAGE__MAX];
	uint64_t pkts[DP_STAGE__MAX];
	uint64_t total_cycles;
	uint64_t total_pkts;
} __rte_cache_aligned;

struct dp_stage_scratch {
	bool on;       /* dp_conf.stage_cycles, copied for a hot-line branch */
	uint8_t cur;   /* stage running now */
	uint64_t last; /* TSC when it started */
	uint64_t cycles[DP_STAGE__MAX];
	uint64_t pkts[DP_STAGE__MAX];
};

struct dp_txbuf {
	uint16_t n;
	struct rte_mbuf *pkts[DP_TX_BUF];
};

/* Per-group counters, one array per worker (single writer), indexed by slot. */
struct dp_group_ctr {
	uint64_t lan_pkts;
	uint64_t wan_pkts;
	uint64_t bytes;
	uint64_t last_tsc;
};

struct esp_ctx;

struct dp_worker {
	struct dp *dp;
	unsigned int idx;	   /* worker index = RX/TX queue id */
	unsigned int lcore_id;	   /* EAL lcore */
	struct esp_ctx *esp;	   /* this lcore's crypto context (one IMB_MGR) */
	struct dp_group_ctr *gctr; /* [DP_MAX_GROUPS] */
	/* Source-active punt token bucket (worker-private). */
	uint64_t punt_tokens;
	uint64_t punt_last_tsc;
	uint64_t icmp_tokens; /* ICMP fragmentation-needed token bucket, same rate */
	uint64_t icmp_last_tsc;
	uint64_t probe_tokens; /* probe punt token bucket (probe_rate) */
	uint64_t probe_last_tsc;
	struct dp_stage_scratch st;
	struct dp_counters ctr;
	struct dp_stage_ctr st_ctr;
	struct dp_txbuf tx[DP_N_PORTS];
} __rte_cache_aligned;

struct dp_port {
	uint16_t port_id;
	bool probed;  /* we probed the vdev: remove it on destroy */
	bool started; /* rte_eth_dev_start() succeeded */
	uint16_t mtu;
	struct rte_ether_addr mac;
};

/* WAN next hops probes were sent to recently: ARP keeps them resolved. */
#define DP_PROBE_NH_MAX 64
#define DP_PROBE_NH_IDLE_MS 60000

struct dp_probe_nh {
	uint32_t ip;
	uint64_t last_use_ms;
};

struct dp {
	struct dp_conf conf;
	struct dp_port port[DP_N_PORTS];
	struct rte_mempool *pool;
	struct rte_rcu_qsbr *qsbr;		  /* one thread id per worker (= worker index) */
	struct rte_ring *punt_ring;		  /* workers (MP) -> control (SC) */
	struct rte_ring *inject_ring[DP_N_PORTS]; /* control (MP) -> worker 0 (SC) */
	struct rte_ring *arp_ring;		  /* workers (MP) -> dp_service (SC) */
	struct rte_ring *inject_esp_ring;	  /* control (MP) -> worker 0 (SC): probes */
	struct rte_mempool *hdr_pool;		  /* group mode: outer header mbufs */
	/*
	 * Published tables. Control stores with release (the version is fully
	 * built before), workers load with acquire once per burst; the old
	 * version is freed after rte_rcu_qsbr_synchronize().
	 */
	struct dp_tables *tables;
	/* Control side; cfg and arp also read by telemetry, under cfg_lock: */
	pthread_mutex_t cfg_lock;
	struct dp_cfg *cfg;
	struct dp_arp_entry *arp;
	struct dp_probe_nh probe_nh[DP_PROBE_NH_MAX]; /* under cfg_lock */
	uint16_t probe_ip_id;			      /* under cfg_lock */
	int punt_ts_off; /* mbuf dynfield: TSC of a probe punt (-1: none) */
	uint64_t generation;
	struct dp_group_ctr gbase[DP_MAX_GROUPS]; /* counter baselines at slot assignment */
	unsigned int n_workers;
	bool launched; /* workers launched (control only) */
	/*
	 * Run flag. Written by control, read by workers every loop with a relaxed
	 * load: it carries no data; rte_eal_wait_lcore() is the synchronisation
	 * point after a stop.
	 */
	int running;
	struct dp_worker worker[DP_MAX_WORKERS];
};

/* port.c */
int dp_port_open(struct dp_port *port, const struct dp_port_conf *conf, unsigned int n_queues,
	struct rte_mempool *pool, bool promisc);
void dp_port_close(struct dp_port *port);

/* worker.c */
int dp_worker_main(void *arg);
/* One iteration of the loop (RX both ports, inject, TX): packets handled. Bench seam. */
unsigned int dp_worker_poll(struct dp_worker *w);
void dp_tx_flush(struct dp_worker *w, unsigned int port);

static inline void dp_drop(struct dp_worker *w, struct rte_mbuf *m, enum dp_drop reason)
{
	DP_CTR_ADD(w->ctr.drop[reason], 1);
	rte_pktmbuf_free(m);
}

/* Queue one packet for TX on a port; flushes when the buffer is full. */
static inline void dp_tx(struct dp_worker *w, unsigned int port, struct rte_mbuf *m)
{
	struct dp_txbuf *b = &w->tx[port];

	if (unlikely(b->n == DP_TX_BUF))
		dp_tx_flush(w, port);
	b->pkts[b->n++] = m;
}

#endif /* VPRN_DATAPLANE_DP_PRIV_H */
