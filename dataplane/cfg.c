/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Staged table updates (control thread): transactions on a copy of the
 * configuration, validation, building an immutable struct dp_tables,
 * publication and RCU reclamation. Also the per-group counters read-out.
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "common/clock.h"
#include "common/log.h"
#include "dataplane/cfg.h"
#include "dataplane/dp_priv.h"
#include "dataplane/pipeline.h"
#include "dataplane/tables.h"

#define DP_DEFAULT_GRACE_MS 5000

/* ---- transactions ------------------------------------------------------ */

struct dp_txn *dp_txn_begin(struct dp *dp)
{
	struct dp_txn *txn;

	if (dp == NULL) {
		errno = EINVAL;
		return NULL;
	}
	txn = malloc(sizeof(*txn));
	if (txn == NULL)
		return NULL;
	txn->dp = dp;
	pthread_mutex_lock(&dp->cfg_lock);
	memcpy(&txn->cfg, dp->cfg, sizeof(txn->cfg));
	pthread_mutex_unlock(&dp->cfg_lock);
	return txn;
}

void dp_txn_abort(struct dp_txn *txn)
{
	free(txn);
}

static int find_nbr(const struct dp_cfg *c, uint32_t addr)
{
	for (unsigned int i = 0; i < c->n_nbrs; i++)
		if (c->nbrs[i].addr == addr)
			return (int)i;
	return -1;
}

static int find_group(const struct dp_cfg *c, uint32_t group)
{
	for (unsigned int i = 0; i < c->n_groups; i++)
		if (c->groups[i].conf.group == group)
			return (int)i;
	return -1;
}

static int find_spi(const struct dp_cfg *c, uint32_t spi)
{
	for (unsigned int i = 0; i < c->n_spis; i++)
		if (c->spis[i].spi == spi)
			return (int)i;
	return -1;
}

int dp_txn_set_neighbour(struct dp_txn *txn, const struct dp_nbr_conf *nbr)
{
	struct dp_cfg *c;
	int i;

	if (txn == NULL || nbr == NULL || nbr->addr == 0 || ipv4_is_mcast(nbr->addr) ||
		nbr->addr == IPV4_BCAST || nbr->addr == txn->dp->conf.wan.addr)
		return -EINVAL;
	c = &txn->cfg;
	i = find_nbr(c, nbr->addr);
	if (i < 0) {
		if (c->n_nbrs == DP_MAX_NEIGHBOURS)
			return -ENOSPC;
		i = (int)c->n_nbrs++;
	}
	c->nbrs[i] = *nbr;
	return 0;
}

int dp_txn_del_neighbour(struct dp_txn *txn, uint32_t addr)
{
	struct dp_cfg *c;
	int i;

	if (txn == NULL)
		return -EINVAL;
	c = &txn->cfg;
	i = find_nbr(c, addr);
	if (i < 0)
		return -ENOENT;
	c->nbrs[i] = c->nbrs[--c->n_nbrs];
	return 0;
}

static int group_conf_check(const struct dp_group_conf *g)
{
	if (!ipv4_is_mcast(g->group) || ipv4_is_mcast_ll(g->group))
		return -EINVAL;
	if (g->mode != DP_SA_PAIRWISE && g->mode != DP_SA_GROUP)
		return -EINVAL;
	if (g->n_nbrs > DP_MAX_TREE_NBRS)
		return -EINVAL;
	if (g->path_mtu != 0 && g->path_mtu < 576)
		return -EINVAL;
	for (unsigned int i = 0; i < g->n_nbrs; i++)
		for (unsigned int j = 0; j < i; j++)
			if (g->nbrs[i] == g->nbrs[j])
				return -EINVAL;
	return 0;
}

static uint16_t free_slot(const struct dp_cfg *c)
{
	static uint8_t used[DP_MAX_GROUPS];

	memset(used, 0, sizeof(used));
	for (unsigned int i = 0; i < c->n_groups; i++)
		used[c->groups[i].slot] = 1;
	for (uint16_t s = 0; s < DP_MAX_GROUPS; s++)
		if (!used[s])
			return s;
	return 0; /* unreachable: n_groups < DP_MAX_GROUPS */
}

static uint32_t grace_ms(const struct dp *dp)
{
	return dp->conf.tree_grace_ms != 0 ? dp->conf.tree_grace_ms : DP_DEFAULT_GRACE_MS;
}

/* Tree change: neighbours that leave the tree stay accepted for the grace period. */
static void start_grace(struct dp *dp, struct dp_group_cfg *gc, const struct dp_group_conf *nw)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < gc->conf.n_nbrs; i++) {
		bool kept = false;

		for (unsigned int j = 0; j < nw->n_nbrs; j++)
			kept |= gc->conf.nbrs[i] == nw->nbrs[j];
		if (!kept && n < DP_MAX_TREE_NBRS)
			gc->prev[n++] = gc->conf.nbrs[i];
	}
	gc->n_prev = n;
	gc->kept = 0;
	for (unsigned int j = 0; j < nw->n_nbrs; j++)
		for (unsigned int i = 0; i < gc->conf.n_nbrs; i++)
			if (gc->conf.nbrs[i] == nw->nbrs[j])
				gc->kept |= (uint16_t)(1u << j);
	gc->prev_expiry_ms = vprn_now_ms() + grace_ms(dp);
}

int dp_txn_set_group(struct dp_txn *txn, const struct dp_group_conf *group)
{
	struct dp_group_cfg *gc;
	struct dp_cfg *c;
	int rc, i;

	if (txn == NULL || group == NULL)
		return -EINVAL;
	rc = group_conf_check(group);
	if (rc < 0)
		return rc;
	c = &txn->cfg;
	i = find_group(c, group->group);
	if (i < 0) {
		if (c->n_groups == DP_MAX_GROUPS)
			return -ENOSPC;
		gc = &c->groups[c->n_groups];
		memset(gc, 0, sizeof(*gc));
		gc->slot = free_slot(c);
		c->n_groups++;
	} else {
		gc = &c->groups[i];
		if (gc->conf.tree_version != group->tree_version)
			start_grace(txn->dp, gc, group);
	}
	gc->conf = *group;
	return 0;
}

int dp_txn_del_group(struct dp_txn *txn, uint32_t group)
{
	struct dp_cfg *c;
	int i;

	if (txn == NULL)
		return -EINVAL;
	c = &txn->cfg;
	i = find_group(c, group);
	if (i < 0)
		return -ENOENT;
	c->groups[i] = c->groups[--c->n_groups];
	return 0;
}

int dp_txn_set_spi(struct dp_txn *txn, const struct dp_spi_conf *spi)
{
	struct dp_cfg *c;
	int i;

	if (txn == NULL || spi == NULL || spi->sa == NULL || spi->spi < 256)
		return -EINVAL;
	if (spi->mode != DP_SA_PAIRWISE && spi->mode != DP_SA_GROUP)
		return -EINVAL;
	if (spi->mode == DP_SA_GROUP && !ipv4_is_mcast(spi->group))
		return -EINVAL;
	c = &txn->cfg;
	i = find_spi(c, spi->spi);
	if (i < 0) {
		if (c->n_spis == DP_MAX_SPIS)
			return -ENOSPC;
		i = (int)c->n_spis++;
	}
	c->spis[i] = *spi;
	return 0;
}

int dp_txn_del_spi(struct dp_txn *txn, uint32_t spi)
{
	struct dp_cfg *c;
	int i;

	if (txn == NULL)
		return -EINVAL;
	c = &txn->cfg;
	i = find_spi(c, spi);
	if (i < 0)
		return -ENOENT;
	c->spis[i] = c->spis[--c->n_spis];
	return 0;
}

/* Every group neighbour must be a configured neighbour. */
static int cfg_check(const struct dp_cfg *c)
{
	for (unsigned int g = 0; g < c->n_groups; g++) {
		const struct dp_group_conf *gc = &c->groups[g].conf;

		for (unsigned int i = 0; i < gc->n_nbrs; i++)
			if (find_nbr(c, gc->nbrs[i]) < 0)
				return -ENOENT;
	}
	return 0;
}

static void snapshot_slot(struct dp *dp, uint16_t slot);

int dp_txn_commit(struct dp_txn *txn)
{
	struct dp *dp;
	int rc;

	if (txn == NULL)
		return -EINVAL;
	dp = txn->dp;
	pthread_mutex_lock(&dp->cfg_lock);
	rc = cfg_check(&txn->cfg);
	if (rc == 0) {
		/* New groups: counters start from what the slot shows now. */
		for (unsigned int g = 0; g < txn->cfg.n_groups; g++)
			if (find_group(dp->cfg, txn->cfg.groups[g].conf.group) < 0)
				snapshot_slot(dp, txn->cfg.groups[g].slot);
		rc = dp_cfg_publish(dp, &txn->cfg);
	}
	if (rc == 0)
		memcpy(dp->cfg, &txn->cfg, sizeof(*dp->cfg));
	pthread_mutex_unlock(&dp->cfg_lock);
	free(txn);
	return rc;
}

uint64_t dp_generation(const struct dp *dp)
{
	return dp == NULL ? 0 : dp->generation;
}

/* ---- building a version -------------------------------------------------- */

static uint32_t index_size(uint32_t n)
{
	uint32_t sz = 16;

	while (sz < 2 * n)
		sz <<= 1;
	return sz;
}

static void index_put(uint16_t *idx, uint32_t mask, uint32_t key, uint16_t pos)
{
	uint32_t h = dp_hash32(key, mask);

	while (idx[h] != 0)
		h = (h + 1) & mask;
	idx[h] = (uint16_t)(pos + 1);
}

static const struct dp_arp_entry *arp_find(const struct dp *dp, uint32_t ip)
{
	for (unsigned int i = 0; i < DP_ARP_ENTRIES; i++)
		if (dp->arp[i].in_use && dp->arp[i].ip == ip)
			return &dp->arp[i];
	return NULL;
}

uint32_t dp_next_hop(const struct dp *dp, uint32_t addr)
{
	uint32_t mask = dp->conf.wan.prefix_len == 0 ? 0 : ~0u << (32 - dp->conf.wan.prefix_len);

	if (dp->conf.wan_gateway == 0 || (addr & mask) == (dp->conf.wan.addr & mask))
		return addr;
	return dp->conf.wan_gateway;
}

static void build_outer(const struct dp *dp, struct dp_nbr_rt *rt)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(rt->hdr + ETH_HDR_LEN);

	memcpy(rt->hdr, rt->l2, ETH_HDR_LEN);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16(IPV4_MIN_HDR_LEN);
	ip->fragment_offset = rte_cpu_to_be_16(IPV4_FLAG_DF);
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_NUM_ESP;
	ip->src_addr = rte_cpu_to_be_32(dp->conf.wan.addr);
	ip->dst_addr = rte_cpu_to_be_32(rt->addr);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
}

static void build_nbr(const struct dp *dp, struct dp_nbr_rt *rt, const struct dp_nbr_conf *nc)
{
	const struct dp_arp_entry *a = arp_find(dp, dp_next_hop(dp, nc->addr));

	rt->addr = nc->addr;
	rt->sa_out = nc->sa_out;
	rt->resolved = a != NULL && a->resolved;
	if (rt->resolved)
		memcpy(rt->l2, a->mac, 6);
	memcpy(rt->l2 + 6, dp->port[DP_PORT_WAN].mac.addr_bytes, 6);
	rt->l2[12] = ETHERTYPE_IPV4 >> 8;
	rt->l2[13] = ETHERTYPE_IPV4 & 0xff;
	build_outer(dp, rt);
}

static void build_group(const struct dp_cfg *c, const struct dp_tables *t, struct dp_group_rt *rt,
	const struct dp_group_cfg *gc, uint64_t now_ms)
{
	const struct dp_group_conf *g = &gc->conf;

	rt->group = g->group;
	rt->mode = (uint8_t)g->mode;
	rt->local_rx = g->local_receivers;
	rt->path_mtu = g->path_mtu;
	rt->slot = gc->slot;
	rt->tree_version = g->tree_version;
	rt->sa_out = g->sa_out;
	rt->n_nbrs = (uint8_t)g->n_nbrs;
	for (unsigned int i = 0; i < g->n_nbrs; i++) {
		rt->nbr[i] = (uint16_t)find_nbr(c, g->nbrs[i]);
		rt->accept[rt->n_accept++] = g->nbrs[i];
	}
	rt->kept = 0xffff;
	rt->quiet = g->quiet;
	rt->n_prev = 0;
	memcpy(rt->sa, g->nbr_sa, sizeof(rt->sa));
	memcpy(rt->in_spi, g->in_spi, sizeof(rt->in_spi));
	memset(rt->kept_sa, 0, sizeof(rt->kept_sa));
	memset(rt->kept_in_spi, 0, sizeof(rt->kept_in_spi));
	if (now_ms < gc->prev_expiry_ms) {
		for (unsigned int i = 0; i < gc->n_prev; i++) {
			int k = find_nbr(c, gc->prev[i]);

			rt->accept[rt->n_accept++] = gc->prev[i];
			/* still a neighbour (its outbound SA kept): the previous tree goes on */
			if (k >= 0)
				rt->prev_nbr[rt->n_prev++] = (uint16_t)k;
		}
		rt->kept = gc->kept;
		/* SAs from the current configuration only: their owner keeps them alive */
		memcpy(rt->kept_sa, g->prev_sa, sizeof(rt->kept_sa));
		memcpy(rt->kept_in_spi, g->prev_in_spi, sizeof(rt->kept_in_spi));
	}
	(void)t;
}

static struct dp_tables *tables_build(struct dp *dp, const struct dp_cfg *c)
{
	uint32_t gs = index_size(c->n_groups), ns = index_size(c->n_nbrs);
	uint32_t ss = index_size(c->n_spis);
	uint64_t now_ms = vprn_now_ms();
	struct dp_tables *t;
	size_t sz;
	char *p;

	sz = RTE_ALIGN_CEIL(sizeof(*t), RTE_CACHE_LINE_SIZE) +
	     (size_t)c->n_groups * sizeof(struct dp_group_rt) +
	     (size_t)c->n_nbrs * sizeof(struct dp_nbr_rt) +
	     RTE_ALIGN_CEIL((size_t)c->n_spis * sizeof(struct dp_spi_rt), 64) +
	     (size_t)(gs + ns + ss) * sizeof(uint16_t);
	t = rte_zmalloc("dp_tables", sz, RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return NULL;
	p = (char *)t + RTE_ALIGN_CEIL(sizeof(*t), RTE_CACHE_LINE_SIZE);
	t->groups = (struct dp_group_rt *)p;
	p += (size_t)c->n_groups * sizeof(struct dp_group_rt);
	t->nbrs = (struct dp_nbr_rt *)p;
	p += (size_t)c->n_nbrs * sizeof(struct dp_nbr_rt);
	t->spis = (struct dp_spi_rt *)p;
	p += RTE_ALIGN_CEIL((size_t)c->n_spis * sizeof(struct dp_spi_rt), 64);
	t->gidx = (uint16_t *)p;
	t->nidx = t->gidx + gs;
	t->sidx = t->nidx + ns;
	t->gmask = gs - 1;
	t->nmask = ns - 1;
	t->smask = ss - 1;
	t->n_groups = c->n_groups;
	t->n_nbrs = c->n_nbrs;
	t->n_spis = c->n_spis;
	for (unsigned int i = 0; i < c->n_nbrs; i++) {
		build_nbr(dp, &t->nbrs[i], &c->nbrs[i]);
		index_put(t->nidx, t->nmask, c->nbrs[i].addr, (uint16_t)i);
	}
	for (unsigned int i = 0; i < c->n_groups; i++) {
		build_group(c, t, &t->groups[i], &c->groups[i], now_ms);
		index_put(t->gidx, t->gmask, c->groups[i].conf.group, (uint16_t)i);
	}
	for (unsigned int i = 0; i < c->n_spis; i++) {
		t->spis[i].spi = c->spis[i].spi;
		t->spis[i].mode = (uint8_t)c->spis[i].mode;
		t->spis[i].group = c->spis[i].group;
		t->spis[i].sa = c->spis[i].sa;
		index_put(t->sidx, t->smask, c->spis[i].spi, (uint16_t)i);
	}
	return t;
}

int dp_cfg_publish(struct dp *dp, const struct dp_cfg *cfg)
{
	struct dp_tables *nt, *old;

	nt = tables_build(dp, cfg);
	if (nt == NULL)
		return -ENOMEM;
	nt->generation = dp->generation + 1;
	old = dp->tables;
	/* Release: the version's contents are visible before its address (workers acquire). */
	__atomic_store_n(&dp->tables, nt, __ATOMIC_RELEASE);
	dp->generation = nt->generation;
	/* Every worker passes a quiescent point (or is offline): nobody holds `old`. */
	rte_rcu_qsbr_synchronize(dp->qsbr, RTE_QSBR_THRID_INVALID);
	rte_free(old);
	return 0;
}

int dp_tables_init(struct dp *dp)
{
	dp->cfg = calloc(1, sizeof(*dp->cfg));
	dp->arp = calloc(DP_ARP_ENTRIES, sizeof(*dp->arp));
	if (dp->cfg == NULL || dp->arp == NULL)
		return -ENOMEM;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		dp->worker[i].gctr = rte_zmalloc("dp_gctr",
			DP_MAX_GROUPS * sizeof(struct dp_group_ctr), RTE_CACHE_LINE_SIZE);
		if (dp->worker[i].gctr == NULL)
			return -ENOMEM;
	}
	/* Workers are not running yet: no grace period needed, but publish the same way. */
	dp->tables = tables_build(dp, dp->cfg);
	return dp->tables == NULL ? -ENOMEM : 0;
}

void dp_tables_fini(struct dp *dp)
{
	rte_free(dp->tables);
	dp->tables = NULL;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		rte_free(dp->worker[i].gctr);
		dp->worker[i].gctr = NULL;
	}
	free(dp->cfg);
	free(dp->arp);
	dp->cfg = NULL;
	dp->arp = NULL;
}

/* ---- per-group counters ---------------------------------------------------- */

static void slot_sum(const struct dp *dp, uint16_t slot, struct dp_group_ctr *sum)
{
	memset(sum, 0, sizeof(*sum));
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_group_ctr *c = &dp->worker[i].gctr[slot];
		uint64_t last;

		/* Relaxed: statistics with a single writer each (struct dp_group_ctr). */
		sum->lan_pkts += __atomic_load_n(&c->lan_pkts, __ATOMIC_RELAXED);
		sum->wan_pkts += __atomic_load_n(&c->wan_pkts, __ATOMIC_RELAXED);
		sum->bytes += __atomic_load_n(&c->bytes, __ATOMIC_RELAXED);
		last = __atomic_load_n(&c->last_tsc, __ATOMIC_RELAXED);
		if (last > sum->last_tsc)
			sum->last_tsc = last;
	}
}

static void snapshot_slot(struct dp *dp, uint16_t slot)
{
	slot_sum(dp, slot, &dp->gbase[slot]);
}

int dp_group_get_stats(struct dp *dp, uint32_t group, struct dp_group_stats *st)
{
	int i;

	if (dp == NULL || st == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dp->cfg_lock);
	i = find_group(dp->cfg, group);
	if (i >= 0)
		dp_group_stats_locked(dp, dp->cfg->groups[i].slot, st);
	pthread_mutex_unlock(&dp->cfg_lock);
	return i < 0 ? -ENOENT : 0;
}

void dp_group_stats_locked(struct dp *dp, uint16_t slot, struct dp_group_stats *st)
{
	struct dp_group_ctr sum, *base = &dp->gbase[slot];

	slot_sum(dp, slot, &sum);
	st->lan_pkts = sum.lan_pkts - base->lan_pkts;
	st->wan_pkts = sum.wan_pkts - base->wan_pkts;
	st->bytes = sum.bytes - base->bytes;
	if (sum.last_tsc <= base->last_tsc)
		st->idle_ms = UINT64_MAX;
	else
		st->idle_ms = (rte_rdtsc() - sum.last_tsc) * 1000 / rte_get_tsc_hz();
}
