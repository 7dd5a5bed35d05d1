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
#define DP_MAX_TREE_NBRS 16    /**< neighbours per group (hard limit) */
#define DP_DEFAULT_TREE_NBRS 6 /**< default degree cap (VNOC policy) */
#define DP_MAX_GROUPS 1024     /**< groups with a tree entry */
#define DP_MAX_NEIGHBOURS 256  /**< overlay neighbours (other EDs) */
#define DP_MAX_SPIS 2048       /**< inbound SAs */

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
	uint32_t wan_gateway;	 /**< WAN next hop, 0 = peers are on-link */
	unsigned int n_workers;	 /**< worker lcores to use (EAL worker lcores in order) */
	uint32_t idle_sleep_us;	 /**< 0 = pure polling; else sleep this long after empty polls */
	uint32_t n_mbufs;	 /**< per pool; 0 = default */
	uint32_t tree_grace_ms;	 /**< old tree neighbours still accepted; 0 = 5000 */
	uint32_t punt_rate;	 /**< source-active punts per second per worker; 0 = 50 */
	uint16_t udp_encap_port; /**< accept ESP in UDP to this port (RFC 3948); 0 = off */
	uint16_t probe_port;	 /**< clear UDP site-to-site probes (WAN); 0 = off */
	uint32_t probe_rate;	 /**< probe punts per second per worker; 0 = 200 */
	bool stage_cycles;	 /**< per-stage cycle accounting in the workers (dp_get_stages) */
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

/**
 * Worker stages timed when dp_conf.stage_cycles is set (docs/dataplane.md,
 * "Per-stage cycles"). Exclusive: a cycle is counted in one stage only.
 */
enum dp_stage {
	DP_STAGE_RX,	    /**< rte_eth_rx_burst (bursts that returned packets) */
	DP_STAGE_PARSE,	    /**< validation, classification, lookups, counters */
	DP_STAGE_CRYPTO,    /**< ESP engine calls */
	DP_STAGE_REPLICATE, /**< copies and header mbufs to tree neighbours */
	DP_STAGE_TX,	    /**< end-of-loop TX flush (rte_eth_tx_burst) */
	DP_STAGE__MAX,
};

/** Per-stage cycles (rte_rdtsc) and packets, summed over workers. */
struct dp_stage_stats {
	bool enabled;			/**< dp_conf.stage_cycles */
	uint64_t cycles[DP_STAGE__MAX]; /**< TSC cycles spent in the stage */
	uint64_t pkts[DP_STAGE__MAX];	/**< packets that went through it */
	uint64_t total_cycles;		/**< whole loop iterations that had packets */
	uint64_t total_pkts;		/**< packets received in those iterations */
};

/** Stage name ("rx", "parse", "crypto", "replicate", "tx"), NULL if out of range. */
const char *dp_stage_name(unsigned int stage);
/** Read the per-stage counters (all zero when stage_cycles is off). @return 0 or -EINVAL. */
int dp_get_stages(const struct dp *dp, struct dp_stage_stats *st);

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
	DP_PUNT_PROBE = 3,	   /**< probe from a peer: data at the IPv4 header (see below) */
	DP_PUNT_SA_EVENT = 4,	   /**< SA lifetime event: the mbuf data is one struct esp_event */
};

/**
 * One punted packet; the receiver owns `m` and frees it (rte_pktmbuf_free).
 * DP_PUNT_PROBE packets start at their IPv4 header: either the inner packet
 * of a pairwise SA addressed to our WAN address, or a clear UDP packet to
 * our WAN address and conf.probe_port (dp_inject_probe() sends those).
 */
struct dp_punt {
	struct rte_mbuf *m; /**< the frame, starting at the Ethernet header (but see above) */
	enum dp_punt_kind kind;
	enum dp_port_sel port; /**< port it arrived on */
	uint64_t rx_ns; /**< DP_PUNT_PROBE: when the worker punted it (vprn_now_ns()); else 0 */
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

/**
 * Send an inner IPv4 packet (a probe, control traffic to a peer ED) inside
 * the pairwise SA of neighbour `nbr_addr`, through worker 0. `m` holds the
 * IPv4 packet from its header (no L2), with the pool's headroom.
 * On success the data plane owns `m`. @return 0, -EINVAL, -ENOBUFS.
 */
int dp_inject_esp(struct dp *dp, uint32_t nbr_addr, struct rte_mbuf *m);

/** Copy an IPv4 packet into a new mbuf and dp_inject_esp() it. @return 0 or -errno. */
int dp_inject_esp_packet(struct dp *dp, uint32_t nbr_addr, const void *ip, size_t len);

#define DP_PROBE_MAX_PAYLOAD 512 /**< UDP payload bytes of one probe */

/**
 * Send a clear UDP probe from our WAN address and conf.probe_port to `dst`
 * (same port), through worker 0 and the WAN next hop (gateway or on-link,
 * as for neighbours). Fail-closed: only unicast destinations outside
 * 0/8, 127/8, 224/4 (multicast), 240/4 (incl. broadcast), our own address
 * and the WAN subnet's network and broadcast addresses.
 * @return 0, -EINVAL (refused destination, no probe port, bad length),
 *         -EAGAIN (next hop not resolved yet: ARP is asked by dp_service()),
 *         -ENOSPC (too many probe next hops), -ENOBUFS.
 */
int dp_inject_probe(struct dp *dp, uint32_t dst, const void *payload, size_t len);

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

/* ---- published tables (control thread) -------------------------------- */

struct esp_sa;

/** SA mode of a group (DESIGN section 3). */
enum dp_sa_mode {
	DP_SA_PAIRWISE = 0, /**< one SA per tree edge and direction */
	DP_SA_GROUP = 1,    /**< one SA per (group, sending site), ciphertext forwarded */
};

/** A tree neighbour: another ED, reached over the WAN. */
struct dp_nbr_conf {
	uint32_t addr;	       /**< its WAN address, host byte order */
	struct esp_sa *sa_out; /**< pairwise outbound SA to it (NULL: group mode only) */
};

/** A group's tree entry at this ED. */
struct dp_group_conf {
	uint32_t group; /**< host byte order, 224/4 but not 224.0.0.0/24 */
	enum dp_sa_mode mode;
	uint32_t tree_version;		 /**< a change starts the grace period for old neighbours */
	bool local_receivers;		 /**< deliver to the LAN */
	uint16_t path_mtu;		 /**< 0 = the WAN MTU */
	unsigned int n_nbrs;		 /**< 0..DP_MAX_TREE_NBRS */
	uint32_t nbrs[DP_MAX_TREE_NBRS]; /**< neighbour addresses (each set as a neighbour) */
	struct esp_sa *sa_out; /**< group mode: this site's outbound SA (NULL: not a sender) */
	/**
	 * Bit k: nothing of this tree version arrives from nbrs[k] (no sender on
	 * its side). During the grace period, what does arrive from it (having been
	 * a previous neighbour too) is previous-tree traffic. 0 = unknown.
	 */
	uint16_t quiet;
	/**
	 * Pairwise: the SA towards nbrs[k] in this version (NULL = the
	 * neighbour's), and the SPI nbrs[k] sends to us on (0 = unknown). A tree
	 * version has its own SPIs where the tree beyond an edge changed: what
	 * arrives on the previous version's SPI is previous-tree traffic.
	 */
	struct esp_sa *nbr_sa[DP_MAX_TREE_NBRS];
	uint32_t in_spi[DP_MAX_TREE_NBRS];
	/** Pairwise, grace: the same for nbrs[k] in the previous version (if it was in it). */
	struct esp_sa *prev_sa[DP_MAX_TREE_NBRS];
	uint32_t prev_in_spi[DP_MAX_TREE_NBRS];
};

/** An inbound SA. */
struct dp_spi_conf {
	uint32_t spi;	   /**< host byte order */
	struct esp_sa *sa; /**< inbound SA */
	enum dp_sa_mode mode;
	uint32_t group; /**< group mode: the group this SA carries */
};

/**
 * A staged table update. Begin copies the current configuration, the set/del
 * calls edit the copy, commit validates it, builds new immutable tables,
 * publishes them atomically and returns after an RCU grace period: from then
 * on no worker uses the previous version, so SAs no longer referenced may be
 * destroyed by the caller. The data plane sees all of an update or none.
 * One transaction at a time (control thread).
 */
struct dp_txn;

struct dp_txn *dp_txn_begin(struct dp *dp);
int dp_txn_set_neighbour(struct dp_txn *txn, const struct dp_nbr_conf *nbr);
int dp_txn_del_neighbour(struct dp_txn *txn, uint32_t addr);
int dp_txn_set_group(struct dp_txn *txn, const struct dp_group_conf *group);
int dp_txn_del_group(struct dp_txn *txn, uint32_t group);
int dp_txn_set_spi(struct dp_txn *txn, const struct dp_spi_conf *spi);
int dp_txn_del_spi(struct dp_txn *txn, uint32_t spi);
/** @return 0 (published, txn freed), or -errno (nothing changed, txn freed). */
int dp_txn_commit(struct dp_txn *txn);
void dp_txn_abort(struct dp_txn *txn);

/** Generation number of the published tables (increments on every commit). */
uint64_t dp_generation(const struct dp *dp);

/**
 * Periodic control work (call every 100 ms or so from the control thread):
 * learns ARP replies, sends ARP requests for unresolved or stale WAN next
 * hops, expires old tree neighbours after the grace period, republishing
 * the tables when something changed. @return 0 or -errno.
 */
int dp_service(struct dp *dp);

/** Per-group counters (sum over workers). */
struct dp_group_stats {
	uint64_t lan_pkts; /**< received from the LAN (this site is a source) */
	uint64_t wan_pkts; /**< received from tree neighbours */
	uint64_t bytes;	   /**< inner bytes, both directions */
	uint64_t idle_ms;  /**< since the last packet; UINT64_MAX = never */
};

/** @return 0, -ENOENT (no such group in the published tables), -EINVAL. */
int dp_group_get_stats(struct dp *dp, uint32_t group, struct dp_group_stats *stats);

/** MAC of a WAN next hop as resolved by ARP. @return 0, -ENOENT, -EAGAIN (unresolved). */
int dp_neighbour_mac(struct dp *dp, uint32_t addr, uint8_t mac[6]);

/* ---- read-out for vprnctl and telemetry (any control-side thread) -------- */

/** One group as published. */
struct dp_group_info {
	uint32_t group;
	enum dp_sa_mode mode;
	uint32_t tree_version;
	bool local_receivers;
	uint16_t path_mtu;
	unsigned int n_nbrs;
	uint32_t nbrs[DP_MAX_TREE_NBRS];
	unsigned int n_prev; /**< old-tree neighbours still accepted (grace period) */
	struct dp_group_stats stats;
};

/** One overlay neighbour. */
struct dp_nbr_info {
	uint32_t addr;
	uint32_t next_hop; /**< gateway or the neighbour itself */
	bool resolved;
	uint8_t mac[6];
	bool has_sa; /**< pairwise outbound SA installed */
};

/** One SA known to the data plane (never any key material). */
struct dp_sa_info {
	uint32_t spi;
	bool inbound;
	enum dp_sa_mode mode;
	uint32_t group; /**< group mode (inbound), else 0 */
	uint32_t peer;	/**< outbound pairwise: the neighbour */
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops; /**< all ESP drop reasons of this SA */
	uint64_t seq;
};

/** Up to `max` groups into `out`. @return how many exist (may be > max), or -errno. */
int dp_groups_list(struct dp *dp, struct dp_group_info *out, unsigned int max);
/** Up to `max` neighbours. @return how many exist, or -errno. */
int dp_neighbours_list(struct dp *dp, struct dp_nbr_info *out, unsigned int max);
/** Inbound SAs, outbound pairwise and group SAs. @return how many exist, or -errno. */
int dp_sas_list(struct dp *dp, struct dp_sa_info *out, unsigned int max);

#endif /* VPRN_DATAPLANE_DP_H */
