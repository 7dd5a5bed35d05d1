/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Data plane life cycle (control thread only): create ports, pool, rings and
 * the RCU state; launch and stop the workers; aggregate counters.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>
#include <rte_rcu_qsbr.h>

#include "common/log.h"
#include "dataplane/dp_priv.h"
#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"

#define DP_DEFAULT_MBUFS 8191
#define DP_MBUF_CACHE 256
#define DP_PUNT_RING 1024
#define DP_INJECT_RING 512
#define DP_ARP_RING 256
/* Group mode header mbufs: headroom + L2 + IPv4 + UDP, rounded up. */
#define DP_HDR_ROOM (RTE_PKTMBUF_HEADROOM + 64)

static const char *const drop_names[] = {
#define DP_DROP_NAME(id, name) [DP_DROP_##id] = name,
	DP_DROP_LIST(DP_DROP_NAME)
#undef DP_DROP_NAME
};

const char *dp_drop_name(unsigned int reason)
{
	return reason < DP_DROP__MAX ? drop_names[reason] : NULL;
}

unsigned int dp_drop_count(void)
{
	return DP_DROP__MAX;
}

/* Unique names for pools and rings: several data planes may share an EAL (tests). */
static unsigned int dp_instance(void)
{
	static unsigned int next;

	/* Relaxed: only uniqueness matters, no data is published through it. */
	return __atomic_fetch_add(&next, 1, __ATOMIC_RELAXED);
}

static int conf_check(const struct dp_conf *conf)
{
	if (conf->n_workers == 0 || conf->n_workers > DP_MAX_WORKERS)
		return -EINVAL;
	if (conf->lan.devargs[0] == '\0' || conf->wan.devargs[0] == '\0')
		return -EINVAL;
	if (memchr(conf->lan.devargs, '\0', sizeof(conf->lan.devargs)) == NULL ||
		memchr(conf->wan.devargs, '\0', sizeof(conf->wan.devargs)) == NULL)
		return -EINVAL;
	if (conf->probe_port != 0 && conf->probe_port == conf->udp_encap_port)
		return -EINVAL;
	if (conf->lan.prefix_len > 32 || conf->wan.prefix_len > 32)
		return -EINVAL;
	if ((conf->lan.mtu != 0 && conf->lan.mtu < 576) ||
		(conf->wan.mtu != 0 && conf->wan.mtu < 576))
		return -EINVAL;
	return 0;
}

static int assign_lcores(struct dp *dp)
{
	unsigned int lcore, i = 0;

	RTE_LCORE_FOREACH_WORKER(lcore)
	{
		if (i == dp->n_workers)
			break;
		dp->worker[i].dp = dp;
		dp->worker[i].idx = i;
		dp->worker[i].lcore_id = lcore;
		dp->worker[i].punt_tokens = 1;
		dp->worker[i].icmp_tokens = 1;
		dp->worker[i].probe_tokens = 1;
		dp->worker[i].st.on = dp->conf.stage_cycles;
		i++;
	}
	if (i < dp->n_workers) {
		LOG_ERR("dp", "create: %u workers asked, EAL has %u worker lcores", dp->n_workers,
			i);
		return -EINVAL;
	}
	return 0;
}

static int create_pool(struct dp *dp, unsigned int id)
{
	char name[RTE_MEMPOOL_NAMESIZE];
	unsigned int n = dp->conf.n_mbufs != 0 ? dp->conf.n_mbufs : DP_DEFAULT_MBUFS;
	unsigned int mtu = RTE_MAX(dp->conf.lan.mtu, dp->conf.wan.mtu);
	unsigned int room = RTE_MBUF_DEFAULT_BUF_SIZE;

	/* Jumbo: one segment per frame (L2 + VLAN + ESP tunnel overhead headroom). */
	if (mtu > RTE_ETHER_MTU)
		room = RTE_PKTMBUF_HEADROOM + mtu + RTE_ETHER_HDR_LEN + 4 + 128;
	snprintf(name, sizeof(name), "dp%u_pool", id);
	dp->pool = rte_pktmbuf_pool_create(name, n, DP_MBUF_CACHE, 0, room, rte_socket_id());
	if (dp->pool == NULL)
		return -rte_errno;
	/* One header per copy in group mode: as many as packets, they are small. */
	snprintf(name, sizeof(name), "dp%u_hdr", id);
	dp->hdr_pool =
		rte_pktmbuf_pool_create(name, n, DP_MBUF_CACHE, 0, DP_HDR_ROOM, rte_socket_id());
	return dp->hdr_pool == NULL ? -rte_errno : 0;
}

static int create_rings(struct dp *dp, unsigned int id)
{
	char name[RTE_RING_NAMESIZE];

	snprintf(name, sizeof(name), "dp%u_punt", id);
	dp->punt_ring = rte_ring_create(name, DP_PUNT_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (dp->punt_ring == NULL)
		return -rte_errno;
	snprintf(name, sizeof(name), "dp%u_injesp", id);
	dp->inject_esp_ring = rte_ring_create(name, DP_INJECT_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (dp->inject_esp_ring == NULL)
		return -rte_errno;
	snprintf(name, sizeof(name), "dp%u_arp", id);
	dp->arp_ring = rte_ring_create(name, DP_ARP_RING, rte_socket_id(), RING_F_SC_DEQ);
	if (dp->arp_ring == NULL)
		return -rte_errno;
	for (unsigned int p = 0; p < DP_N_PORTS; p++) {
		snprintf(name, sizeof(name), "dp%u_inj%u", id, p);
		dp->inject_ring[p] =
			rte_ring_create(name, DP_INJECT_RING, rte_socket_id(), RING_F_SC_DEQ);
		if (dp->inject_ring[p] == NULL)
			return -rte_errno;
	}
	return 0;
}

static int create_qsbr(struct dp *dp)
{
	size_t sz = rte_rcu_qsbr_get_memsize(dp->n_workers);
	int rc;

	dp->qsbr = rte_zmalloc("dp_qsbr", sz, RTE_CACHE_LINE_SIZE);
	if (dp->qsbr == NULL)
		return -ENOMEM;
	rc = rte_rcu_qsbr_init(dp->qsbr, dp->n_workers);
	if (rc != 0)
		return -rte_errno;
	for (unsigned int i = 0; i < dp->n_workers; i++)
		if (rte_rcu_qsbr_thread_register(dp->qsbr, i) != 0)
			return -rte_errno;
	return 0;
}

static void drain_ring(struct rte_ring *r)
{
	void *m;

	if (r == NULL)
		return;
	while (rte_ring_dequeue(r, &m) == 0)
		rte_pktmbuf_free(m);
}

/*
 * Let dpdk-dumpcap (a secondary process) capture on our ports. Once per
 * process; failure only costs the capture feature.
 */
static void enable_capture(void)
{
	static bool done;

	if (done)
		return;
	done = true;
	if (rte_pdump_init() != 0)
		LOG_WARN("dp", "pdump init failed: dpdk-dumpcap will not attach");
}

struct dp *dp_create(const struct dp_conf *conf)
{
	unsigned int id = dp_instance();
	struct dp *dp;
	int rc;

	rc = conf_check(conf);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	dp = rte_zmalloc("dp", sizeof(*dp), RTE_CACHE_LINE_SIZE);
	if (dp == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	dp->conf = *conf;
	dp->n_workers = conf->n_workers;
	pthread_mutex_init(&dp->cfg_lock, NULL);
	rc = assign_lcores(dp);
	if (rc == 0)
		rc = create_pool(dp, id);
	if (rc == 0)
		rc = create_rings(dp, id);
	if (rc == 0)
		rc = create_qsbr(dp);
	if (rc == 0)
		rc = dp_probe_init(dp);
	if (rc == 0)
		rc = dp_tables_init(dp);
	for (unsigned int i = 0; rc == 0 && i < dp->n_workers; i++) {
		/* One IMB_MGR per worker lcore, on its socket. */
		dp->worker[i].esp =
			esp_ctx_create((int)rte_lcore_to_socket_id(dp->worker[i].lcore_id));
		if (dp->worker[i].esp == NULL)
			rc = errno != 0 ? -errno : -ENOMEM;
	}
	if (rc == 0)
		rc = dp_port_open(
			&dp->port[DP_PORT_LAN], &conf->lan, dp->n_workers, dp->pool, true);
	if (rc == 0)
		rc = dp_port_open(
			&dp->port[DP_PORT_WAN], &conf->wan, dp->n_workers, dp->pool, false);
	if (rc == 0 && dp->port[DP_PORT_LAN].port_id == dp->port[DP_PORT_WAN].port_id)
		rc = -EINVAL;
	if (rc < 0) {
		LOG_ERR("dp", "create: %s", strerror(-rc));
		dp_destroy(dp);
		errno = -rc;
		return NULL;
	}
	dp_telemetry_attach(dp);
	enable_capture();
	return dp;
}

int dp_start(struct dp *dp)
{
	if (dp == NULL)
		return -EINVAL;
	if (dp->launched)
		return -EALREADY;
	/* Relaxed: rte_eal_remote_launch() orders our writes before the worker starts. */
	__atomic_store_n(&dp->running, 1, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		int rc = rte_eal_remote_launch(
			dp_worker_main, &dp->worker[i], dp->worker[i].lcore_id);

		if (rc != 0) {
			LOG_ERR("dp", "start: lcore %u busy", dp->worker[i].lcore_id);
			__atomic_store_n(&dp->running, 0, __ATOMIC_RELAXED);
			for (unsigned int j = 0; j < i; j++)
				rte_eal_wait_lcore(dp->worker[j].lcore_id);
			return -EBUSY;
		}
	}
	dp->launched = true;
	LOG_INFO("dp", "started %u worker(s)", dp->n_workers);
	return 0;
}

void dp_stop(struct dp *dp)
{
	if (dp == NULL || !dp->launched)
		return;
	/* Relaxed: the workers only need to see it eventually; the wait below synchronises. */
	__atomic_store_n(&dp->running, 0, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		rte_eal_wait_lcore(dp->worker[i].lcore_id);
	dp->launched = false;
	LOG_INFO("dp", "stopped");
}

void dp_destroy(struct dp *dp)
{
	if (dp == NULL)
		return;
	dp_telemetry_detach(dp);
	dp_stop(dp);
	dp_port_close(&dp->port[DP_PORT_LAN]);
	dp_port_close(&dp->port[DP_PORT_WAN]);
	drain_ring(dp->punt_ring);
	rte_ring_free(dp->punt_ring);
	drain_ring(dp->arp_ring);
	rte_ring_free(dp->arp_ring);
	drain_ring(dp->inject_esp_ring);
	rte_ring_free(dp->inject_esp_ring);
	for (unsigned int p = 0; p < DP_N_PORTS; p++) {
		drain_ring(dp->inject_ring[p]);
		rte_ring_free(dp->inject_ring[p]);
	}
	dp_tables_fini(dp);
	for (unsigned int i = 0; i < dp->n_workers; i++)
		esp_ctx_destroy(dp->worker[i].esp);
	rte_free(dp->qsbr);
	rte_mempool_free(dp->pool);
	rte_mempool_free(dp->hdr_pool);
	pthread_mutex_destroy(&dp->cfg_lock);
	rte_free(dp);
}

int dp_get_stats(const struct dp *dp, struct dp_stats *stats)
{
	if (dp == NULL || stats == NULL)
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_counters *c = &dp->worker[i].ctr;

		/* Relaxed loads: statistics, single writer each (struct dp_counters). */
		for (unsigned int p = 0; p < DP_N_PORTS; p++) {
			stats->rx_pkts[p] += __atomic_load_n(&c->rx[p], __ATOMIC_RELAXED);
			stats->tx_pkts[p] += __atomic_load_n(&c->tx[p], __ATOMIC_RELAXED);
		}
		for (unsigned int r = 0; r < DP_DROP__MAX; r++)
			stats->drops += __atomic_load_n(&c->drop[r], __ATOMIC_RELAXED);
		stats->punts += __atomic_load_n(&c->punt, __ATOMIC_RELAXED);
		stats->injects += __atomic_load_n(&c->inject, __ATOMIC_RELAXED);
		stats->idle_sleeps += __atomic_load_n(&c->idle_sleeps, __ATOMIC_RELAXED);
	}
	return 0;
}

const char *dp_stage_name(unsigned int stage)
{
	static const char *const names[DP_STAGE__MAX] = {
		[DP_STAGE_RX] = "rx",
		[DP_STAGE_PARSE] = "parse",
		[DP_STAGE_CRYPTO] = "crypto",
		[DP_STAGE_REPLICATE] = "replicate",
		[DP_STAGE_TX] = "tx",
	};

	return stage < DP_STAGE__MAX ? names[stage] : NULL;
}

int dp_get_stages(const struct dp *dp, struct dp_stage_stats *st)
{
	if (dp == NULL || st == NULL)
		return -EINVAL;
	memset(st, 0, sizeof(*st));
	st->enabled = dp->conf.stage_cycles;
	for (unsigned int i = 0; i < dp->n_workers; i++) {
		const struct dp_stage_ctr *c = &dp->worker[i].st_ctr;

		/* Relaxed loads: statistics, single writer each (struct dp_counters). */
		for (unsigned int s = 0; s < DP_STAGE__MAX; s++) {
			st->cycles[s] += __atomic_load_n(&c->cycles[s], __ATOMIC_RELAXED);
			st->pkts[s] += __atomic_load_n(&c->pkts[s], __ATOMIC_RELAXED);
		}
		st->total_cycles += __atomic_load_n(&c->total_cycles, __ATOMIC_RELAXED);
		st->total_pkts += __atomic_load_n(&c->total_pkts, __ATOMIC_RELAXED);
	}
	return 0;
}

int dp_get_drops(const struct dp *dp, uint64_t *drops, unsigned int n)
{
	if (dp == NULL || (drops == NULL && n != 0))
		return -EINVAL;
	for (unsigned int r = 0; r < n && r < DP_DROP__MAX; r++) {
		drops[r] = 0;
		for (unsigned int i = 0; i < dp->n_workers; i++)
			/* Relaxed: statistics, see struct dp_counters. */
			drops[r] += __atomic_load_n(&dp->worker[i].ctr.drop[r], __ATOMIC_RELAXED);
	}
	return 0;
}

struct rte_mempool *dp_pool(struct dp *dp)
{
	return dp->pool;
}

int dp_port_id(const struct dp *dp, enum dp_port_sel port)
{
	if (dp == NULL || (port != DP_LAN && port != DP_WAN))
		return -EINVAL;
	return dp->port[port].port_id;
}
