/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_BENCH_H
#define VPRN_BENCH_BENCH_H

/*
 * vprn-bench's run-time state, private to bench/gen.
 *
 * Ownership: the TX lcore owns struct txgen (flows, sequence numbers, token
 * bucket); the RX lcore owns struct rxstat (per-flow trackers, histogram).
 * The main lcore reads the relaxed "live" counters for progress and asks the
 * RX lcore for a consistent snapshot through a request/ack pair
 * (rxstat_checkpoint). With one lcore, the main lcore plays every role in
 * one loop, so the same code runs with 1, 2 or 3 lcores.
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "hist.h"
#include "opts.h"
#include "seqtrack.h"
#include "stamp.h"

#define BENCH_MAX_BURST 64
#define BENCH_ESP_FLOWS 1024 /* (rx port, dst, SPI) keys, power of two */

/* ---------------------------------------------------------------- TX ---- */

struct tx_flow {
	uint8_t hdr[BENCH_HDR_LEN]; /**< Ethernet + IPv4 (total length 0) + UDP */
	uint16_t ip_cksum_base;	    /**< one's complement sum of the IPv4 header with length 0 */
	uint32_t seq;		    /**< next sequence number to issue */
	uint64_t issued;	    /**< sequence numbers issued (sent or injected-dropped) */
};

struct tx_port {
	uint16_t port_id;
	unsigned int first_flow; /**< this port's flows: [first_flow, first_flow + n_flows) */
	unsigned int n_flows;
	unsigned int next_flow;
	struct rte_mbuf *pending[BENCH_MAX_BURST]; /**< built but refused by the device */
	unsigned int n_pending;
	double tokens; /**< token bucket, packets */
	uint64_t last_tsc;
	_Atomic uint64_t sent; /**< live: packets handed to the device */
	_Atomic uint64_t sent_bytes;
	uint64_t built; /**< packets built during the current trial */
};

/** What the main lcore asks the TX lcore to do (a new generation = a new trial). */
struct tx_ctl {
	_Atomic uint32_t gen; /**< bumped by main for each trial */
	_Atomic bool on;      /**< sending allowed */
	double rate_pps;      /**< per port, 0 = unlimited; written before gen (release) */
	uint64_t max_pkts;    /**< per port for this trial, 0 = unlimited */
	_Atomic bool done;    /**< TX lcore: every port reached max_pkts */
};

struct espgen;

struct txgen {
	const struct bench_opts *o;
	struct espgen *esp; /**< --esp: encrypt every frame, else NULL */
	struct rte_mempool *pool;
	struct tx_flow *flows; /**< n_flows entries */
	unsigned int n_flows;
	struct tx_port ports[BENCH_MAX_PORTS];
	unsigned int n_ports;
	uint16_t size_pattern[1024]; /**< frame lengths (no FCS), IMIX spread out */
	unsigned int n_pattern;
	unsigned int next_size;
	uint32_t seen_gen;
	uint32_t swap_pending; /**< --inject: seq of flow 0 still to send, or UINT32_MAX */
	bool inject_done[BENCH_MAX_INJECT];
	struct tx_ctl ctl;
	uint64_t hz;
};

int txgen_init(struct txgen *g, const struct bench_opts *o, const uint16_t *ports,
	struct rte_mempool *pool);
void txgen_fini(struct txgen *g);
/** One pass of the TX role over every TX port; returns packets sent. */
unsigned int txgen_poll(struct txgen *g);
/** Sequence numbers issued for a flow (the receiver's expected count). */
uint64_t txgen_issued(const struct txgen *g, unsigned int flow);
uint64_t txgen_sent_total(const struct txgen *g);

/* ---------------------------------------------------------------- RX ---- */

struct rx_flow {
	struct seqtrack st;
	uint64_t bytes;
};

struct esp_key {
	uint32_t dst; /**< outer destination, host order */
	uint32_t spi;
	uint16_t port; /**< index in the RX port list */
	bool used;
};

/** Counters of one trial (or the whole run), copied out at a checkpoint. */
struct rx_totals {
	uint64_t pkts; /**< stamped or ESP packets */
	uint64_t bytes;
	uint64_t unique;
	uint64_t dup;
	uint64_t reordered;
	uint64_t foreign; /**< neither our stamp nor ESP: not counted above */
	uint64_t first_tsc, last_tsc;
	struct hist lat;
};

struct rx_port {
	uint16_t port_id;
	bool arp_tx;		   /**< --arp-reply: this lcore may send on queue 0 */
	struct rte_ether_addr mac; /**< for ARP replies */
	_Atomic uint64_t pkts;	   /**< live: every packet received */
	_Atomic uint64_t bytes;
};

struct rxstat {
	const struct bench_opts *o;
	struct rx_port ports[BENCH_MAX_PORTS];
	unsigned int n_ports;
	struct rx_flow *flows; /**< [port][flow], n_ports * n_flows */
	unsigned int n_flows;
	struct rx_flow esp_flows[BENCH_ESP_FLOWS];
	struct esp_key esp_keys[BENCH_ESP_FLOWS];
	unsigned int n_esp;
	uint64_t esp_overflow;	/**< ESP packets of flows beyond the table */
	uint64_t arp_replies;	/**< --arp-reply: replies sent */
	struct rx_totals trial; /**< since the last checkpoint */
	struct rx_totals run;	/**< since the start (no histogram reset) */
	double ns_per_tsc;
	_Atomic uint32_t ck_req; /**< main: checkpoint wanted */
	_Atomic uint32_t ck_ack; /**< RX: checkpoint taken into `snapshot` */
	struct rx_totals snapshot;
};

int rxstat_init(
	struct rxstat *r, const struct bench_opts *o, const uint16_t *ports, unsigned int n_flows);
void rxstat_fini(struct rxstat *r);
/** One pass of the RX role over every RX port; returns packets received. */
unsigned int rxstat_poll(struct rxstat *r);
/** Serve a pending checkpoint request (called by the RX role). */
void rxstat_serve(struct rxstat *r);

#endif /* VPRN_BENCH_BENCH_H */
