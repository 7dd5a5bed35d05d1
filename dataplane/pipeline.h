/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_PIPELINE_H
#define VPRN_DATAPLANE_PIPELINE_H

/*
 * The stages a worker runs on each burst. Every function takes a burst and
 * consumes every mbuf of it: sent (TX buffer), punted, or dropped with a
 * reason counter.
 */

#include <rte_cycles.h>
#include <rte_rcu_qsbr.h>

#include "dataplane/dp_priv.h"

/* lan.c: LAN ingress (IGMP punt, ARP, multicast classification, encrypt). */
void dp_lan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n);
/* wan.c: WAN ingress (ARP, ESP decrypt, LAN delivery, transit). */
void dp_wan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n);
/* inject.c: frames from the control thread, sent out of `port`. */
void dp_inject_input(
	struct dp_worker *w, unsigned int port, struct rte_mbuf **pkts, unsigned int n);

/* Token bucket, worker-private: at most `rate` per second, bursts of as many. */
static inline bool dp_bucket_take(uint64_t *tokens, uint64_t *last, uint64_t now, uint64_t rate)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t elapsed = now - *last;
	uint64_t add;

	if (elapsed > hz)
		elapsed = hz;
	add = elapsed * rate / hz;
	if (add != 0) {
		*tokens = RTE_MIN(*tokens + add, rate);
		*last = now;
	}
	if (*tokens == 0)
		return false;
	(*tokens)--;
	return true;
}

/* probe.c: a clear UDP probe to our WAN address (data at L2): rate-limited punt. */
struct dp_parsed;
void dp_wan_probe(struct dp_worker *w, struct rte_mbuf *m, const struct dp_parsed *pi);
/* probe.c: register the punt timestamp field (dp_create). @return 0 or -errno. */
int dp_probe_init(struct dp *dp);
/* probe.c: TSC stamp of a probe punt, and its arrival in vprn_now_ns() time. */
void dp_probe_stamp(const struct dp *dp, struct rte_mbuf *m);
uint64_t dp_probe_rx_ns(const struct dp *dp, const struct rte_mbuf *m);

/* punt.c: hand a packet to the control thread (consumes it). */
void dp_punt(struct dp_worker *w, struct rte_mbuf *m, unsigned int port, unsigned int kind);

struct dp_tables;
struct dp_group_rt;

/*
 * replicate.c: encrypt packets of one group (data at the inner IPv4 header)
 * and send one copy to each tree neighbour (consumes them).
 */
void dp_replicate_out(struct dp_worker *w, const struct dp_tables *t, const struct dp_group_rt *g,
	struct rte_mbuf **pkts, unsigned int n);

/* replicate.c: building blocks shared by LAN ingress and transit. */
struct esp_outer_hdr;
enum dp_drop dp_esp_reason(uint8_t esp_reason);
/*
 * Pairwise copies of src[0..n) to every neighbour of g but `skip`; src
 * untouched. `spi`: the SPI they arrived on (0: from the LAN), which tells
 * previous-tree traffic during a tree change (tables.h).
 */
unsigned int dp_send_pairwise(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt *g, struct rte_mbuf **src, unsigned int n, uint32_t skip,
	uint32_t spi);
/*
 * Group mode: a header mbuf per neighbour but `skip`, chained to the shared
 * ESP mbuf. Consumes the caller's reference to `esp`.
 */
unsigned int dp_send_shared(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt *g, struct rte_mbuf *esp, const struct esp_outer_hdr *tmpl,
	uint32_t skip);

/* lan.c: per-group counters (worker-private slot array). */
void dp_group_count(
	struct dp_worker *w, const struct dp_group_rt *g, uint32_t bytes, uint64_t now, bool lan);

/* wan.c hands valid ESP packets (data at the outer IPv4 header) to inbound.c. */
void dp_wan_esp(
	struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts, unsigned int n);

/*
 * mtu.c: fragment an inner IPv4 packet (data at its header) into pieces of
 * at most `mtu` bytes, copies from the pool (consumes m; 0 = dropped).
 */
unsigned int dp_fragment(struct dp_worker *w, struct rte_mbuf *m, unsigned int mtu,
	struct rte_mbuf **out, unsigned int max);
/* mtu.c: ICMP fragmentation needed to the sender of LAN frame m (m untouched). */
void dp_icmp_frag_needed(
	struct dp_worker *w, const struct rte_mbuf *m, uint16_t l2_len, uint16_t mtu);

/* arp.c: ARP frame (valid, l2 bytes of L2) received on `port` (consumes it). */
void dp_arp_input(struct dp_worker *w, unsigned int port, struct rte_mbuf *m, uint16_t l2);

/* cfg.c: WAN next hop towards an overlay neighbour (gateway or on-link). */
uint32_t dp_next_hop(const struct dp *dp, uint32_t addr);

/* telemetry.c: show this data plane in /vprn/... commands. */
void dp_telemetry_attach(struct dp *dp);
void dp_telemetry_detach(struct dp *dp);

/* cfg.c / arp.c helpers for info.c (caller holds dp->cfg_lock). */
void dp_group_stats_locked(struct dp *dp, uint16_t slot, struct dp_group_stats *st);
int dp_arp_lookup(struct dp *dp, uint32_t ip, uint8_t mac[6]);

/* cfg.c: control-side configuration and the published tables. */
int dp_tables_init(struct dp *dp);
void dp_tables_fini(struct dp *dp);

/* punt.c: worker 0 encrypts control's probes for their neighbour (consumes them). */
void dp_inject_esp_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n);

/* RCU (QSBR): a worker is online while it may hold table pointers. */
static inline void dp_worker_online(struct dp_worker *w)
{
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
}

static inline void dp_worker_offline(struct dp_worker *w)
{
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
}

static inline void dp_worker_quiescent(struct dp_worker *w)
{
	rte_rcu_qsbr_quiescent(w->dp->qsbr, w->idx);
}

#endif /* VPRN_DATAPLANE_PIPELINE_H */
