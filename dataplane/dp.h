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
#include <stdint.h>

#define DP_MAX_WORKERS 16

/** One port: any DPDK ethdev. */
struct dp_port_conf {
	/**
	 * DPDK device: an existing port name ("0000:03:00.0", "net_ring0"), or
	 * vdev devargs probed at create time ("net_af_packet0,iface=lan0").
	 */
	char devargs[256];
	uint32_t addr;       /**< our IPv4 address, host byte order */
	uint8_t prefix_len;  /**< on-link prefix length */
	uint16_t mtu;        /**< 0 = device default (1500) */
};

struct dp_conf {
	struct dp_port_conf lan;
	struct dp_port_conf wan;
	uint32_t wan_gateway;      /**< WAN next hop, 0 = peers are on-link */
	unsigned int n_workers;    /**< worker lcores to use (EAL worker lcores in order) */
	uint32_t idle_sleep_us;    /**< 0 = pure polling; else sleep this long after empty polls */
	uint32_t n_mbufs;          /**< per pool; 0 = default */
};

struct dp;

/** Aggregated counters (sum over workers), for status and tests. */
struct dp_stats {
	uint64_t rx_pkts[2];  /**< [0] = LAN, [1] = WAN */
	uint64_t tx_pkts[2];
	uint64_t drops;       /**< all drop reasons summed */
};

struct dp *dp_create(const struct dp_conf *conf);
int dp_start(struct dp *dp);
void dp_stop(struct dp *dp);
void dp_destroy(struct dp *dp);
int dp_get_stats(const struct dp *dp, struct dp_stats *stats);

#endif /* VPRN_DATAPLANE_DP_H */
