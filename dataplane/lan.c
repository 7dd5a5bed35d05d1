/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * LAN ingress (DESIGN section 2): validate, answer ARP, punt IGMP, drop
 * link-local and non-multicast traffic, look the group up, punt the first
 * packets of unknown groups as a source-active signal (rate-limited) and
 * drop them (fail-closed), decrement the inner TTL once, then hand runs of
 * packets of the same group to the replication stage with their L2 header
 * removed.
 */

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/esp/esp.h"
#include "dataplane/parse.h"
#include "dataplane/pipeline.h"
#include "dataplane/proto.h"
#include "dataplane/tables.h"

#define DP_DEFAULT_PUNT_RATE 50

/* Source-active and ICMP token buckets: punt_rate per second. */
static bool bucket_take(struct dp_worker *w, uint64_t *tokens, uint64_t *last, uint64_t now)
{
	uint64_t rate = w->dp->conf.punt_rate != 0 ? w->dp->conf.punt_rate : DP_DEFAULT_PUNT_RATE;

	return dp_bucket_take(tokens, last, now, rate);
}

void dp_group_count(
	struct dp_worker *w, const struct dp_group_rt *g, uint32_t bytes, uint64_t now, bool lan)
{
	struct dp_group_ctr *c = &w->gctr[g->slot];

	if (lan)
		DP_CTR_ADD(c->lan_pkts, 1);
	else
		DP_CTR_ADD(c->wan_pkts, 1);
	DP_CTR_ADD(c->bytes, bytes);
	/* Relaxed: a statistic, single writer (struct dp_group_ctr). */
	__atomic_store_n(&c->last_tsc, now, __ATOMIC_RELAXED);
}

/* TTL is decremented once on entry into the overlay (one virtual router). */
static void ttl_decrement(struct rte_ipv4_hdr *ip)
{
	ip->time_to_live--;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

/*
 * Classify one frame. Returns the group entry when the packet is to be
 * replicated (L2 removed), NULL when it was consumed (sent, punted, dropped).
 */
static const struct dp_group_rt *lan_classify(struct dp_worker *w, const struct dp_tables *t,
	struct rte_mbuf *m, uint64_t now, bool *frag)
{
	unsigned int mtu;
	const struct dp_group_rt *g;
	struct dp_parsed pi;
	int r;

	if (unlikely(m->nb_segs != 1)) {
		dp_drop(w, m, DP_DROP_MULTISEG);
		return NULL;
	}
	r = dp_parse_frame(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, 1, &pi);
	if (unlikely(r != DP_PARSE_OK)) {
		dp_drop(w, m, (enum dp_drop)r);
		return NULL;
	}
	if (pi.l3 == DP_L3_ARP) {
		dp_arp_input(w, DP_PORT_LAN, m, pi.l2_len);
		return NULL;
	}
	if (pi.proto == IPPROTO_NUM_IGMP) {
		dp_punt(w, m, DP_PORT_LAN, DP_PUNT_IGMP);
		return NULL;
	}
	if (!ipv4_is_mcast(pi.dst)) {
		dp_drop(w, m, DP_DROP_LAN_NOT_MCAST);
		return NULL;
	}
	if (ipv4_is_mcast_ll(pi.dst)) {
		dp_drop(w, m, DP_DROP_LINK_LOCAL);
		return NULL;
	}
	g = dp_group_lookup(t, pi.dst);
	if (g == NULL) {
		if (bucket_take(w, &w->punt_tokens, &w->punt_last_tsc, now))
			dp_punt(w, m, DP_PORT_LAN, DP_PUNT_SOURCE_ACTIVE);
		else
			dp_drop(w, m, DP_DROP_GROUP_UNKNOWN);
		return NULL;
	}
	dp_group_count(w, g, pi.ip_len, now, true);
	if (g->n_nbrs == 0) {
		dp_drop(w, m, DP_DROP_NO_NEIGHBOURS);
		return NULL;
	}
	if (pi.ttl <= 1) {
		dp_drop(w, m, DP_DROP_TTL);
		return NULL;
	}
	/* Largest inner packet that still fits the path once encapsulated. */
	mtu = dp_group_mtu_of(w->dp->port[DP_PORT_WAN].mtu, g) - ESP_MAX_OVERHEAD;
	*frag = pi.ip_len > mtu;
	if (*frag && (pi.frag & IPV4_FLAG_DF)) {
		if (bucket_take(w, &w->icmp_tokens, &w->icmp_last_tsc, now))
			dp_icmp_frag_needed(w, m, pi.l2_len, (uint16_t)mtu);
		dp_drop(w, m, DP_DROP_MTU);
		return NULL;
	}
	/* Drop Ethernet padding after the IP packet, then the L2 header. */
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - pi.l2_len - pi.ip_len));
	rte_pktmbuf_adj(m, pi.l2_len);
	ttl_decrement(rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *));
	return g;
}

/* Runs of the same group are encrypted and replicated together. */
static void replicate_runs(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt **grp, struct rte_mbuf **fwd, unsigned int nf)
{
	for (unsigned int i = 0; i < nf;) {
		unsigned int j = i + 1;

		while (j < nf && grp[j] == grp[i])
			j++;
		dp_replicate_out(w, t, grp[i], fwd + i, j - i);
		i = j;
	}
}

void dp_lan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	/* Acquire: pairs with the release store in dp_cfg_publish(). */
	const struct dp_tables *t = __atomic_load_n(&w->dp->tables, __ATOMIC_ACQUIRE);
	const struct dp_group_rt *grp[DP_MAX_BURST];
	struct rte_mbuf *fwd[DP_MAX_BURST];
	uint64_t now = rte_rdtsc();
	unsigned int nf = 0;

	for (unsigned int i = 0; i < n; i++) {
		bool frag = false;
		const struct dp_group_rt *g = lan_classify(w, t, pkts[i], now, &frag);

		if (g == NULL)
			continue;
		if (unlikely(frag)) {
			/* Keep the order: what came before goes first, then the fragments. */
			replicate_runs(w, t, grp, fwd, nf);
			nf = dp_fragment(w, pkts[i],
				dp_group_mtu_of(w->dp->port[DP_PORT_WAN].mtu, g) - ESP_MAX_OVERHEAD,
				fwd, DP_MAX_BURST);
			if (nf != 0)
				dp_replicate_out(w, t, g, fwd, nf);
			nf = 0;
			continue;
		}
		grp[nf] = g;
		fwd[nf++] = pkts[i];
	}
	replicate_runs(w, t, grp, fwd, nf);
}
