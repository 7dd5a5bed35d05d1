/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Replication to tree neighbours (DESIGN section 3).
 *
 * Pairwise: one out-of-place encryption per neighbour, straight from the
 * (never copied) source into the outgoing mbuf; L2 from the neighbour's
 * template is prepended in its headroom.
 *
 * Group: the source ED encrypts once in place; each neighbour gets a small
 * header mbuf (L2 + outer IPv4 [+ UDP]) chained in front of the one shared,
 * reference-counted ESP payload. Transit EDs do the same with the received
 * ciphertext. Cost per extra copy: one header mbuf and ~40 bytes written.
 */

#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"
#include "dataplane/stage.h"
#include "dataplane/tables.h"

enum dp_drop dp_esp_reason(uint8_t esp_reason)
{
	switch (esp_reason) {
	case ESP_DROP_NO_SA:
	case ESP_DROP_SA_MISMATCH:
	case ESP_DROP_SA_EXPIRED:
		return DP_DROP_ESP_SPI;
	case ESP_DROP_REPLAYED:
	case ESP_DROP_TOO_OLD:
		return DP_DROP_ESP_REPLAY;
	case ESP_DROP_BAD_ICV:
		return DP_DROP_ESP_AUTH;
	case ESP_DROP_BAD_PADDING:
	case ESP_DROP_BAD_NEXT_HDR:
	case ESP_DROP_DUMMY:
	case ESP_DROP_BAD_INNER:
		return DP_DROP_ESP_INNER;
	case ESP_DROP_NO_MBUF:
		return DP_DROP_NO_MBUF;
	case ESP_DROP_SEQ_EXHAUSTED:
	case ESP_DROP_CRYPTO_ERR:
		return DP_DROP_ESP_ENCRYPT;
	default:
		return DP_DROP_ESP_BAD;
	}
}

/* A neighbour we can send to now; counts the n copies it cannot have. */
static bool nbr_ready(struct dp_worker *w, const struct dp_nbr_rt *nb, bool need_sa, unsigned int n)
{
	if (unlikely(!nb->resolved)) {
		DP_CTR_ADD(w->ctr.drop[DP_DROP_NEIGH_UNRESOLVED], n);
		return false;
	}
	if (unlikely(need_sa && nb->sa_out == NULL)) {
		DP_CTR_ADD(w->ctr.drop[DP_DROP_NO_SA], n);
		return false;
	}
	return true;
}

/*
 * Neighbour table indexes that get traffic from `skip` (0: from the LAN):
 * the current tree's neighbours but the sender, or for previous-tree traffic
 * the previous tree's (kept and previous-only, tables.h).
 */
static unsigned int fwd_targets(
	const struct dp_group_rt *g, uint32_t skip, uint32_t spi, uint16_t *idx, struct esp_sa **sa)
{
	bool prev = dp_group_prev_traffic(g, skip, spi);
	uint16_t mask = prev ? g->kept : 0xffff;
	unsigned int n = 0;

	/* pairwise SA: the version's own for this neighbour, else the neighbour's */
	for (unsigned int k = 0; k < g->n_nbrs; k++) {
		if (!(mask & (1u << k)))
			continue;
		sa[n] = prev && g->kept_sa[k] != NULL ? g->kept_sa[k] : g->sa[k];
		idx[n++] = g->nbr[k];
	}
	for (unsigned int k = 0; prev && k < g->n_prev; k++) {
		sa[n] = NULL;
		idx[n++] = g->prev_nbr[k];
	}
	return n;
}

unsigned int dp_send_pairwise(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt *g, struct rte_mbuf **src, unsigned int n, uint32_t skip,
	uint32_t spi)
{
	struct rte_mbuf *tmp[DP_MAX_BURST], *out[DP_MAX_BURST];
	uint8_t reasons[DP_MAX_BURST];
	unsigned int copies = 0;
	uint16_t idx[2 * DP_MAX_TREE_NBRS];
	struct esp_sa *sas[2 * DP_MAX_TREE_NBRS];
	unsigned int n_idx = fwd_targets(g, skip, spi, idx, sas);

	for (unsigned int k = 0; k < n_idx; k++) {
		const struct dp_nbr_rt *nb = &t->nbrs[idx[k]];
		struct esp_sa *sa = sas[k] != NULL ? sas[k] : nb->sa_out;
		uint16_t r;

		if (nb->addr == skip || !nbr_ready(w, nb, false, n))
			continue;
		if (unlikely(sa == NULL)) {
			DP_CTR_ADD(w->ctr.drop[DP_DROP_NO_SA], n);
			continue;
		}
		/* The engine reorders its src array on failure: give it a scratch copy. */
		memcpy(tmp, src, n * sizeof(*src));
		dp_stage_to(w, DP_STAGE_CRYPTO, n);
		r = esp_outb_oop(w->esp, sa, tmp, out, (uint16_t)n, w->dp->pool, reasons);
		dp_stage_to(w, DP_STAGE_REPLICATE, r);
		for (unsigned int i = r; i < n; i++)
			DP_CTR_ADD(w->ctr.drop[dp_esp_reason(reasons[i])], 1);
		for (unsigned int i = 0; i < r; i++) {
			/* The engine leaves the pool's headroom in front: room for L2. */
			memcpy(rte_pktmbuf_prepend(out[i], ETH_HDR_LEN), nb->l2, ETH_HDR_LEN);
			dp_tx(w, DP_PORT_WAN, out[i]);
		}
		copies += r;
	}
	return copies;
}

/* Outer header from the neighbour's template: TOS, length, checksum (RFC 1624). */
static inline void outer_from_template(
	uint8_t *p, const struct dp_nbr_rt *nb, uint8_t tos, uint16_t esp_len)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + ETH_HDR_LEN);
	const struct rte_ipv4_hdr *t = (const struct rte_ipv4_hdr *)(nb->hdr + ETH_HDR_LEN);
	/* The template has TOS 0 and length 20: add the differences, fold, invert. */
	uint32_t sum = (uint16_t)~rte_be_to_cpu_16(t->hdr_checksum) + tos + esp_len;

	memcpy(p, nb->hdr, sizeof(nb->hdr));
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IPV4_MIN_HDR_LEN + esp_len));
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = rte_cpu_to_be_16((uint16_t)~sum);
}

/* Neighbours of g that get a copy: ready ones but `skip`; the rest are counted. */
static unsigned int shared_targets(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt *g, uint32_t skip, const struct dp_nbr_rt **nbs)
{
	unsigned int k = 0;
	uint16_t idx[2 * DP_MAX_TREE_NBRS];
	struct esp_sa *sas[2 * DP_MAX_TREE_NBRS];
	unsigned int n_idx = fwd_targets(g, skip, 0, idx, sas);

	for (unsigned int i = 0; i < n_idx; i++) {
		const struct dp_nbr_rt *nb = &t->nbrs[idx[i]];

		if (nb->addr != skip && nbr_ready(w, nb, false, 1))
			nbs[k++] = nb;
	}
	return k;
}

unsigned int dp_send_shared(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt *g, struct rte_mbuf *esp, const struct esp_outer_hdr *tmpl,
	uint32_t skip)
{
	uint16_t hl = tmpl->udp_encap ? ESP_OUTER_IPV4_LEN + ESP_OUTER_UDP_LEN : ESP_OUTER_IPV4_LEN;
	uint16_t esp_len = (uint16_t)rte_pktmbuf_pkt_len(esp);
	const struct dp_nbr_rt *nbs[2 * DP_MAX_TREE_NBRS];
	struct rte_mbuf *h[2 * DP_MAX_TREE_NBRS];
	struct esp_outer_hdr oh = *tmpl;
	unsigned int n = shared_targets(w, t, g, skip, nbs);

	if (n == 0) {
		rte_pktmbuf_free(esp);
		return 0;
	}
	if (unlikely(rte_pktmbuf_alloc_bulk(w->dp->hdr_pool, h, n) != 0)) {
		DP_CTR_ADD(w->ctr.drop[DP_DROP_NO_MBUF], n);
		rte_pktmbuf_free(esp);
		return 0;
	}
	/*
	 * Our reference becomes the first copy's; the others add n - 1 in one
	 * update (no atomic at all while we are the only holder).
	 */
	if (n > 1)
		rte_mbuf_refcnt_update(esp, (int16_t)(n - 1));
	for (unsigned int k = 0; k < n; k++) {
		uint8_t *p = rte_pktmbuf_mtod(h[k], uint8_t *);

		if (likely(!oh.udp_encap)) {
			outer_from_template(p, nbs[k], oh.tos, esp_len);
		} else {
			memcpy(p, nbs[k]->l2, ETH_HDR_LEN);
			oh.dst = nbs[k]->addr;
			esp_outer_hdr_write(p + ETH_HDR_LEN, &oh, esp_len, 0);
		}
		h[k]->data_len = (uint16_t)(ETH_HDR_LEN + hl);
		h[k]->pkt_len = (uint32_t)(ETH_HDR_LEN + hl) + esp_len;
		h[k]->next = esp;
		h[k]->nb_segs = (uint16_t)(esp->nb_segs + 1);
		dp_tx(w, DP_PORT_WAN, h[k]);
	}
	dp_stage_pkts(w, DP_STAGE_REPLICATE, n);
	return n;
}

/* Group mode at the source: encrypt once in place, then share the ciphertext. */
static void replicate_group(struct dp_worker *w, const struct dp_tables *t,
	const struct dp_group_rt *g, struct rte_mbuf **pkts, unsigned int n)
{
	uint8_t reasons[DP_MAX_BURST];
	struct esp_outer_hdr oh;
	uint16_t olen, r;

	if (unlikely(g->sa_out == NULL)) {
		for (unsigned int i = 0; i < n; i++)
			dp_drop(w, pkts[i], DP_DROP_NO_SA);
		return;
	}
	dp_stage_to(w, DP_STAGE_CRYPTO, n);
	r = esp_outb_inplace(w->esp, g->sa_out, pkts, (uint16_t)n, reasons);
	dp_stage_to(w, DP_STAGE_REPLICATE, 0);
	for (unsigned int i = r; i < n; i++)
		dp_drop(w, pkts[i], dp_esp_reason(reasons[i]));
	olen = esp_sa_outer_hdr_len(g->sa_out);
	esp_sa_outer_hdr(g->sa_out, &oh);
	oh.src = w->dp->conf.wan.addr;
	for (unsigned int i = 0; i < r; i++) {
		struct rte_mbuf *m = pkts[i];

		oh.tos = rte_pktmbuf_mtod(m, const uint8_t *)[1]; /* as the engine chose it */
		rte_pktmbuf_adj(m, olen);
		dp_send_shared(w, t, g, m, &oh, 0); /* consumes our reference */
	}
	dp_stage_to(w, DP_STAGE_PARSE, 0);
}

void dp_replicate_out(struct dp_worker *w, const struct dp_tables *t, const struct dp_group_rt *g,
	struct rte_mbuf **pkts, unsigned int n)
{
	if (g->mode == DP_SA_GROUP) {
		replicate_group(w, t, g, pkts, n);
		return;
	}
	dp_send_pairwise(w, t, g, pkts, n, 0, 0);
	/* The sources were only read (and their tailroom used): free them all. */
	rte_pktmbuf_free_bulk(pkts, n);
	dp_stage_to(w, DP_STAGE_PARSE, 0);
}
