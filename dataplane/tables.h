/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_TABLES_H
#define VPRN_DATAPLANE_TABLES_H

/*
 * Published tables: one immutable version holds the group table, the
 * neighbour table (outer L2 template, outbound SA) and the inbound SPI
 * table, with open-addressing indexes. Control builds a version off-path
 * (cfg.c), publishes it with a release store and frees the previous one
 * after an RCU QSBR grace period. Workers load the pointer once per burst
 * with an acquire load and never write to it.
 */

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>

#include "dataplane/dp.h"
#include "dataplane/proto.h"

#define DP_ACCEPT_MAX (2 * DP_MAX_TREE_NBRS)

struct dp_nbr_rt {
	uint32_t addr; /* host order */
	bool resolved; /* l2 holds the next hop's MAC */
	struct esp_sa *sa_out;
	uint8_t l2[ETH_HDR_LEN]; /* next hop MAC, our WAN MAC, IPv4 */
	/*
	 * Group mode fast path: L2 + outer IPv4 (ESP, TTL 64, DF, TOS 0, total
	 * length 20) with its checksum; per copy only TOS, length and checksum
	 * change (incremental update, RFC 1624).
	 */
	uint8_t hdr[ETH_HDR_LEN + IPV4_MIN_HDR_LEN];
} __rte_cache_aligned;

struct dp_group_rt {
	uint32_t group;
	uint8_t mode; /* enum dp_sa_mode */
	bool local_rx;
	uint8_t n_nbrs;
	uint8_t n_accept;
	uint16_t path_mtu;
	uint16_t slot; /* per-group counter slot */
	/*
	 * Tree change: bit k = nbr[k] was also a neighbour of the previous tree.
	 * Traffic from a previous-tree-only neighbour still follows the previous
	 * tree (forwarded to these only), so nothing is delivered twice.
	 */
	uint16_t kept;
	/* bit k: nbr[k] sends nothing on this version: its traffic is previous-tree (grace) */
	uint16_t quiet;
	uint8_t n_prev;
	/* grace: previous-tree-only neighbours present in the neighbour table */
	uint16_t prev_nbr[DP_MAX_TREE_NBRS];
	/* pairwise, per nbr[k]: this version's SA (NULL: the neighbour's) and inbound SPI */
	struct esp_sa *sa[DP_MAX_TREE_NBRS];
	uint32_t in_spi[DP_MAX_TREE_NBRS];
	/* grace, per kept nbr[k]: the previous version's SA and inbound SPI */
	struct esp_sa *kept_sa[DP_MAX_TREE_NBRS];
	uint32_t kept_in_spi[DP_MAX_TREE_NBRS];
	uint32_t tree_version;
	struct esp_sa *sa_out;		/* group mode, this site as a source */
	uint16_t nbr[DP_MAX_TREE_NBRS]; /* indexes into dp_tables.nbrs */
	uint32_t accept[DP_ACCEPT_MAX]; /* senders accepted: current + grace neighbours */
} __rte_cache_aligned;

struct dp_spi_rt {
	uint32_t spi;
	uint8_t mode;
	uint32_t group;
	struct esp_sa *sa;
};

struct dp_tables {
	uint64_t generation;
	uint32_t n_groups, n_nbrs, n_spis;
	uint32_t gmask, nmask, smask; /* index sizes - 1 (powers of two) */
	uint16_t *gidx, *nidx, *sidx; /* entry index + 1, 0 = empty */
	struct dp_group_rt *groups;
	struct dp_nbr_rt *nbrs;
	struct dp_spi_rt *spis;
};

static inline uint32_t dp_hash32(uint32_t key, uint32_t mask)
{
	return (key * 0x9e3779b1u) >> 7 & mask;
}

static inline const struct dp_group_rt *dp_group_lookup(const struct dp_tables *t, uint32_t g)
{
	for (uint32_t h = dp_hash32(g, t->gmask);; h = (h + 1) & t->gmask) {
		uint16_t i = t->gidx[h];

		if (i == 0)
			return NULL;
		if (t->groups[i - 1].group == g)
			return &t->groups[i - 1];
	}
}

static inline const struct dp_nbr_rt *dp_nbr_lookup(const struct dp_tables *t, uint32_t addr)
{
	for (uint32_t h = dp_hash32(addr, t->nmask);; h = (h + 1) & t->nmask) {
		uint16_t i = t->nidx[h];

		if (i == 0)
			return NULL;
		if (t->nbrs[i - 1].addr == addr)
			return &t->nbrs[i - 1];
	}
}

static inline const struct dp_spi_rt *dp_spi_lookup(const struct dp_tables *t, uint32_t spi)
{
	for (uint32_t h = dp_hash32(spi, t->smask);; h = (h + 1) & t->smask) {
		uint16_t i = t->sidx[h];

		if (i == 0)
			return NULL;
		if (t->spis[i - 1].spi == spi)
			return &t->spis[i - 1];
	}
}

static inline bool dp_group_accepts(const struct dp_group_rt *g, uint32_t sender)
{
	for (unsigned int i = 0; i < g->n_accept; i++)
		if (g->accept[i] == sender)
			return true;
	return false;
}

/*
 * Is traffic from `sender` previous-tree traffic? During the grace period:
 * it comes from a previous-tree-only neighbour, or from a kept neighbour
 * that sends nothing on the current version (`quiet`). It then follows the
 * previous tree: the kept neighbours (mask `kept`) and the previous-only ones
 * (`prev_nbr`), never a neighbour that is new in this version.
 */
static inline bool dp_group_prev_traffic(const struct dp_group_rt *g, uint32_t sender, uint32_t spi)
{
	if (g->kept == 0xffff)
		return false; /* no tree change in its grace period */
	for (unsigned int i = g->n_nbrs; i < g->n_accept; i++)
		if (g->accept[i] == sender)
			return true;
	for (unsigned int i = 0; i < g->n_nbrs; i++) {
		if (g->accept[i] != sender || !(g->kept & (1u << i)))
			continue;
		/* pairwise: it came on the previous version's SA, not this one's */
		if (spi != 0 && spi == g->kept_in_spi[i] && spi != g->in_spi[i])
			return true;
		return (g->quiet & (1u << i)) != 0;
	}
	return false;
}

/* Largest inner packet + ESP overhead that fits the group's path. */
static inline unsigned int dp_group_mtu_of(uint16_t port_mtu, const struct dp_group_rt *g)
{
	return g->path_mtu != 0 && g->path_mtu < port_mtu ? g->path_mtu : port_mtu;
}

#endif /* VPRN_DATAPLANE_TABLES_H */
