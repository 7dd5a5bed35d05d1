/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_DP_H
#define VPRN_DATAPLANE_DP_H

/**
 * @file
 * The ED data plane as seen by vprn-ed's main() and control thread.
 *
 * Life cycle (all from the main/control thread, after rte_eal_init()):
 *   dp = dp_create(&conf);   ports probed and configured, pools, rings, tables
 *   dp_start(dp);            launches the worker lcores (every EAL worker lcore
 *                            listed in conf.worker_lcores, never the main lcore)
 *   ... control thread: dp_punt_dequeue(), dp_inject(), table publication ...
 *   dp_stop(dp); dp_destroy(dp);
 *
 * Setup functions return 0 or -errno; constructors return NULL (errno set).
 * The data plane owns this API; the rest grows with the data plane issue.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DP_MAX_WORKERS 16

/** One port: any DPDK ethdev. */
struct dp_port_conf {
	/**
	 * DPDK device: an existing port name ("0000:03:00.0", "net_ring0"), or
	 * vdev devargs probed at create time ("net_af_packet0,iface=lan0").
	 */
	char devargs[256];
	uint32_t addr;	    /**< our IPv4 address, host byte order */
	uint8_t prefix_len; /**< on-link prefix length */
	uint16_t mtu;	    /**< 0 = device default (1500) */
};

struct dp_conf {
	struct dp_port_conf lan;
	struct dp_port_conf wan;
	uint32_t wan_gateway;	/**< WAN next hop, 0 = peers are on-link */
	unsigned int n_workers; /**< worker lcores to use (EAL worker lcores in order) */
	uint32_t idle_sleep_us; /**< 0 = pure polling; else sleep this long after empty polls */
	uint32_t n_mbufs;	/**< per pool; 0 = default */
};

struct dp;

/** Aggregated counters (sum over workers), for status and tests. */
struct dp_stats {
	uint64_t rx_pkts[2]; /**< [0] = LAN, [1] = WAN */
	uint64_t tx_pkts[2];
	uint64_t drops;	      /**< all drop reasons summed */
	uint64_t punts;	      /**< packets given to the control thread */
	uint64_t injects;     /**< packets sent for the control thread */
	uint64_t idle_sleeps; /**< idle back-off sleeps */
};

struct dp *dp_create(const struct dp_conf *conf);
int dp_start(struct dp *dp);
void dp_stop(struct dp *dp);
void dp_destroy(struct dp *dp);
int dp_get_stats(const struct dp *dp, struct dp_stats *stats);

/* ---- control-thread interface ------------------------------------------ */

struct rte_mbuf;
struct rte_mempool;

/** Port selector for dp_inject() and punted packets. */
enum dp_port_sel {
	DP_LAN = 0,
	DP_WAN = 1,
};

/** Why a packet was punted to the control thread. */
enum dp_punt_kind {
	DP_PUNT_IGMP = 1,	   /**< IGMP from the LAN (membership, queries) */
	DP_PUNT_SOURCE_ACTIVE = 2, /**< first packets of an unknown group (rate-limited) */
	DP_PUNT_PROBE = 3,	   /**< decrypted probe / control traffic from a peer */
	DP_PUNT_ARP = 4,	   /**< ARP the fast path did not answer (learning) */
};

/** One punted packet; the receiver owns `m` and frees it (rte_pktmbuf_free). */
struct dp_punt {
	struct rte_mbuf *m; /**< the frame, starting at the Ethernet header */
	enum dp_punt_kind kind;
	enum dp_port_sel port; /**< port it arrived on */
};

/**
 * Take up to `n` punted packets (single consumer: the control thread).
 * @return the number written to `out`.
 */
unsigned int dp_punt_dequeue(struct dp *dp, struct dp_punt *out, unsigned int n);

/**
 * Send a frame (from Ethernet header) out of a port, through worker 0.
 * On success the data plane owns `m`; on failure the caller still does.
 * @return 0, -EINVAL (bad port, not running), -ENOBUFS (inject ring full).
 */
int dp_inject(struct dp *dp, enum dp_port_sel port, struct rte_mbuf *m);

/** Copy `len` bytes into a new mbuf and dp_inject() it. @return 0 or -errno. */
int dp_inject_frame(struct dp *dp, enum dp_port_sel port, const void *frame, size_t len);

/** The data plane's packet pool (for building frames to inject; tests). */
struct rte_mempool *dp_pool(struct dp *dp);

/** Port id of the LAN or WAN ethdev, or -EINVAL. */
int dp_port_id(const struct dp *dp, enum dp_port_sel port);

/** Number of drop reasons; names with dp_drop_name() (dataplane/drop.h). */
unsigned int dp_drop_count(void);

/**
 * Per-reason drop counters summed over workers: writes min(n, reasons)
 * values to `drops`. @return 0 or -EINVAL.
 */
int dp_get_drops(const struct dp *dp, uint64_t *drops, unsigned int n);

#endif /* VPRN_DATAPLANE_DP_H */
