/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * WAN ESP ingress (DESIGN sections 2-3): SPI -> inbound SA, then
 *  - pairwise SAs: decrypt in place (one burst), validate the inner packet,
 *    forward it to every tree neighbour but the sender (one out-of-place
 *    encryption each), deliver the same buffer to the LAN when the site has
 *    receivers; unicast inner packets for us are probes -> punt;
 *  - group SAs: the group comes from the SA; decrypt out of place only for
 *    LAN delivery (the ciphertext stays shared), then forward the
 *    ciphertext untouched with a new outer header per neighbour.
 * The sender is the outer source address: it must be a neighbour of the
 * group's current tree or of the previous one during its grace period.
 */

#include <string.h>

#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "dataplane/esp/esp.h"
#include "dataplane/parse.h"
#include "dataplane/pipeline.h"
#include "dataplane/stage.h"
#include "dataplane/tables.h"

static inline uint32_t outer_src(const struct rte_mbuf *m)
{
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);

	return ((uint32_t)ip[12] << 24) | ((uint32_t)ip[13] << 16) | ((uint32_t)ip[14] << 8) |
	       ip[15];
}

/* Inner packet to the LAN: IPv4 multicast MAC of the group (RFC 1112 §6.4). */
static void deliver_lan(struct dp_worker *w, struct rte_mbuf *m, uint32_t group)
{
	uint8_t *l2 = (uint8_t *)rte_pktmbuf_prepend(m, ETH_HDR_LEN);

	if (unlikely(l2 == NULL)) {
		dp_drop(w, m, DP_DROP_NO_MBUF);
		return;
	}
	l2[0] = MCAST_MAC_OUI0;
	l2[1] = MCAST_MAC_OUI1;
	l2[2] = MCAST_MAC_OUI2;
	l2[3] = (uint8_t)((group >> 16) & 0x7f);
	l2[4] = (uint8_t)(group >> 8);
	l2[5] = (uint8_t)group;
	memcpy(l2 + 6, w->dp->port[DP_PORT_LAN].mac.addr_bytes, 6);
	l2[12] = ETHERTYPE_IPV4 >> 8;
	l2[13] = ETHERTYPE_IPV4 & 0xff;
	dp_tx(w, DP_PORT_LAN, m);
}

/* Validate a decrypted inner packet; returns its group entry or NULL (consumed). */
static const struct dp_group_rt *inner_check(struct dp_worker *w, const struct dp_tables *t,
	struct rte_mbuf *m, uint32_t sender, uint32_t want_group, uint64_t now)
{
	const struct dp_group_rt *g;
	struct dp_parsed pi;

	if (dp_parse_ipv4(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &pi) != DP_PARSE_OK) {
		dp_drop(w, m, DP_DROP_ESP_INNER);
		return NULL;
	}
	if (!ipv4_is_mcast(pi.dst)) {
		/* Probes and control traffic between EDs travel inside pairwise ESP. */
		if (want_group == 0 && pi.dst == w->dp->conf.wan.addr)
			dp_punt(w, m, DP_PORT_WAN, DP_PUNT_PROBE);
		else
			dp_drop(w, m, DP_DROP_ESP_INNER);
		return NULL;
	}
	if (ipv4_is_mcast_ll(pi.dst) || (want_group != 0 && pi.dst != want_group)) {
		dp_drop(w, m, DP_DROP_ESP_INNER);
		return NULL;
	}
	g = dp_group_lookup(t, pi.dst);
	if (g == NULL) {
		dp_drop(w, m, DP_DROP_GROUP_UNKNOWN);
		return NULL;
	}
	if (!dp_group_accepts(g, sender)) {
		dp_drop(w, m, DP_DROP_NOT_NEIGHBOUR);
		return NULL;
	}
	dp_group_count(w, g, pi.ip_len, now, false);
	return g;
}

static void inbound_pairwise(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts,
	struct esp_sa **sas, unsigned int n, uint64_t now)
{
	uint8_t reasons[DP_MAX_BURST];
	uint16_t r;

	/* The sender rides in hash.usr, the SPI in hash.fdir.hi: the engine reorders pkts on
	 * failure. */
	for (unsigned int i = 0; i < n; i++)
		pkts[i]->hash.usr = outer_src(pkts[i]);
	dp_stage_to(w, DP_STAGE_CRYPTO, n);
	r = esp_inb(w->esp, pkts, sas, (uint16_t)n, reasons);
	dp_stage_to(w, DP_STAGE_PARSE, 0);
	for (unsigned int i = r; i < n; i++)
		dp_drop(w, pkts[i], dp_esp_reason(reasons[i]));
	for (unsigned int i = 0; i < r; i++) {
		struct rte_mbuf *m = pkts[i];
		uint32_t sender = m->hash.usr;
		const struct dp_group_rt *g = inner_check(w, t, m, sender, 0, now);
		unsigned int copies;

		if (g == NULL)
			continue;
		/*
		 * Arrived on a pairwise SA: forward pairwise even if the group has
		 * just switched to group mode (nothing is lost across the change).
		 */
		copies = dp_send_pairwise(w, t, g, &m, 1, sender, m->hash.fdir.hi);
		dp_stage_to(w, DP_STAGE_PARSE, 0);
		if (g->local_rx)
			deliver_lan(w, m, g->group);
		else if (copies == 0)
			dp_drop(w, m, DP_DROP_NO_RECEIVERS);
		else
			rte_pktmbuf_free(m); /* forwarded: the copies are new buffers */
	}
}

static void inbound_group(struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf *m,
	const struct dp_spi_rt *s, uint64_t now)
{
	const struct dp_group_rt *g = dp_group_lookup(t, s->group);
	uint32_t sender = outer_src(m);
	const uint8_t *ip = rte_pktmbuf_mtod(m, const uint8_t *);
	uint16_t off = (uint16_t)((ip[0] & 0xf) * 4);
	struct esp_outer_hdr oh = { 0 };
	unsigned int copies;

	if (g == NULL || g->mode != DP_SA_GROUP) {
		dp_drop(w, m, DP_DROP_GROUP_UNKNOWN);
		return;
	}
	if (!dp_group_accepts(g, sender)) {
		dp_drop(w, m, DP_DROP_NOT_NEIGHBOUR);
		return;
	}
	if (g->local_rx) {
		struct esp_sa *sa = s->sa;
		struct rte_mbuf *in = m, *out = NULL;
		uint8_t reason;

		/* Out of place: the ciphertext stays intact for the copies below. */
		dp_stage_to(w, DP_STAGE_CRYPTO, 1);
		if (esp_inb_oop(w->esp, &in, &sa, &out, 1, w->dp->pool, &reason) != 1) {
			dp_stage_to(w, DP_STAGE_PARSE, 0);
			dp_drop(w, m, dp_esp_reason(reason)); /* never forward what fails */
			return;
		}
		dp_stage_to(w, DP_STAGE_PARSE, 0);
		if (inner_check(w, t, out, sender, g->group, now) != NULL)
			deliver_lan(w, out, g->group);
	} else {
		dp_group_count(w, g, m->pkt_len, now, false);
	}
	oh.src = w->dp->conf.wan.addr;
	oh.tos = ip[1];
	oh.ttl = 64;
	oh.df = true;
	if (ip[9] == IPPROTO_NUM_UDP) {
		oh.udp_encap = true;
		oh.udp_sport = oh.udp_dport = w->dp->conf.udp_encap_port;
		off += ESP_OUTER_UDP_LEN;
	}
	rte_pktmbuf_adj(m, off);
	dp_stage_to(w, DP_STAGE_REPLICATE, 0);
	copies = dp_send_shared(w, t, g, m, &oh, sender); /* consumes our reference */
	dp_stage_to(w, DP_STAGE_PARSE, 0);
	if (copies == 0 && !g->local_rx)
		DP_CTR_ADD(w->ctr.drop[DP_DROP_NO_RECEIVERS], 1);
}

void dp_wan_esp(
	struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts, unsigned int n)
{
	struct rte_mbuf *pw[DP_MAX_BURST];
	struct esp_sa *sas[DP_MAX_BURST];
	uint64_t now = rte_rdtsc();
	unsigned int npw = 0;

	for (unsigned int i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		const struct dp_spi_rt *s;
		uint32_t spi;
		int r = esp_pkt_spi(m, w->dp->conf.udp_encap_port, &spi);

		if (r != 0) {
			dp_drop(w, m, dp_esp_reason((uint8_t)r));
			continue;
		}
		s = dp_spi_lookup(t, spi);
		if (s == NULL) {
			dp_drop(w, m, DP_DROP_ESP_SPI);
			continue;
		}
		if (s->mode == DP_SA_GROUP) {
			inbound_group(w, t, m, s, now);
			continue;
		}
		sas[npw] = s->sa;
		m->hash.fdir.hi = spi;
		pw[npw++] = m;
	}
	if (npw != 0)
		inbound_pairwise(w, t, pw, sas, npw, now);
}
