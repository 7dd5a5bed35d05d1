/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: random frames into both ingress paths of a real data
 * plane (ring ports, tables with pairwise and group trees, resolved
 * neighbours, inbound SAs). The first byte picks the port (bit 0) and the
 * group's SA mode (bit 1). After each input every output is drained and the
 * packet pools must be back to their start: a leak on any path traps.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "common/log.h"
#include "dataplane/dp_priv.h"
#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"

#define LAN_ADDR 0x0a000101u
#define WAN_ADDR 0xc0a80001u
#define GROUP 0xef010203u
#define PEER(i) (0xc0a80010u + (i))

int LLVMFuzzerInitialize(int *argc, char ***argv);
const char *__lsan_default_suppressions(void);

/*
 * The data plane lives for the whole run; its heap blocks are referenced
 * only from DPDK memory, which LeakSanitizer does not scan.
 */
const char *__lsan_default_suppressions(void)
{
	return "leak:dp_tables_init\nleak:alloc_mb_mgr\nleak:esp_ctx_create\n";
}
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dp *dp;
static struct rte_ring *rx[2], *tx[2];
static unsigned int pool_start, hdr_start;

static struct esp_sa *mk_sa(uint32_t spi, enum esp_dir dir, uint32_t src, uint32_t dst)
{
	struct esp_sa_params p;

	esp_sa_params_default(&p);
	p.spi = spi;
	p.dir = dir;
	memset(p.cipher_key, (int)spi, sizeof(p.cipher_key));
	p.tun_src = src;
	p.tun_dst = dst;
	return esp_sa_create(&p, 0);
}

static void drain(void)
{
	struct rte_mbuf *m[32];
	struct dp_punt p[32];
	unsigned int n;

	dp_tx_flush(&dp->worker[0], DP_PORT_LAN);
	dp_tx_flush(&dp->worker[0], DP_PORT_WAN);
	for (int i = 0; i < 2; i++)
		while ((n = rte_ring_dequeue_burst(tx[i], (void **)m, 32, NULL)) != 0)
			rte_pktmbuf_free_bulk(m, n);
	while ((n = dp_punt_dequeue(dp, p, 32)) != 0)
		for (unsigned int i = 0; i < n; i++)
			rte_pktmbuf_free(p[i].m);
	while ((n = rte_ring_dequeue_burst(dp->arp_ring, (void **)m, 32, NULL)) != 0)
		rte_pktmbuf_free_bulk(m, n);
}

static void feed(unsigned int port, const uint8_t *f, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(dp->pool);

	if (m == NULL)
		abort();
	if (len > rte_pktmbuf_tailroom(m))
		len = rte_pktmbuf_tailroom(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), f, len);
	if (port == 0)
		dp_lan_input(&dp->worker[0], &m, 1);
	else
		dp_wan_input(&dp->worker[0], &m, 1);
}

static void set_tables(enum dp_sa_mode mode)
{
	struct dp_txn *txn = dp_txn_begin(dp);
	struct dp_group_conf g = { .group = GROUP, .mode = mode, .tree_version = mode + 1 };
	static struct esp_sa *gout;

	if (gout == NULL)
		gout = mk_sa(0x3000, ESP_DIR_OUTBOUND, WAN_ADDR, PEER(9));
	g.local_receivers = true;
	g.n_nbrs = 3;
	g.sa_out = gout;
	for (unsigned int i = 0; i < 3; i++)
		g.nbrs[i] = PEER(i);
	if (txn == NULL || dp_txn_set_group(txn, &g) != 0 || dp_txn_commit(txn) != 0)
		abort();
}

static void setup_dp(void)
{
	struct dp_conf c = { 0 };
	struct dp_txn *txn;
	char rn[32];

	for (int i = 0; i < 2; i++) {
		snprintf(rn, sizeof(rn), "fz_rx%d", i);
		rx[i] = rte_ring_create(rn, 1024, 0, 0);
		snprintf(rn, sizeof(rn), "fz_tx%d", i);
		tx[i] = rte_ring_create(rn, 4096, 0, 0);
		snprintf(rn, sizeof(rn), "fz%d", i);
		if (rx[i] == NULL || tx[i] == NULL ||
			rte_eth_from_rings(rn, &rx[i], 1, &tx[i], 1, 0) < 0)
			abort();
	}
	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "net_ring_fz0");
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "net_ring_fz1");
	c.lan.addr = LAN_ADDR;
	c.lan.prefix_len = 24;
	c.wan.addr = WAN_ADDR;
	c.wan.prefix_len = 24;
	c.n_workers = 1;
	c.n_mbufs = 1023;
	c.udp_encap_port = 4500;
	dp = dp_create(&c);
	if (dp == NULL)
		abort();
	txn = dp_txn_begin(dp);
	for (unsigned int i = 0; i < 3; i++) {
		struct dp_nbr_conf nb = { .addr = PEER(i) };
		struct dp_spi_conf sc = { .spi = 0x2000 + i, .mode = DP_SA_PAIRWISE };

		nb.sa_out = mk_sa(0x1000 + i, ESP_DIR_OUTBOUND, WAN_ADDR, PEER(i));
		sc.sa = mk_sa(0x2000 + i, ESP_DIR_INBOUND, PEER(i), WAN_ADDR);
		if (dp_txn_set_neighbour(txn, &nb) != 0 || dp_txn_set_spi(txn, &sc) != 0)
			abort();
	}
	struct dp_spi_conf gs = { .spi = 0x4000, .mode = DP_SA_GROUP, .group = GROUP };
	gs.sa = mk_sa(0x4000, ESP_DIR_INBOUND, PEER(0), WAN_ADDR);
	if (dp_txn_set_spi(txn, &gs) != 0 || dp_txn_commit(txn) != 0)
		abort();
	set_tables(DP_SA_PAIRWISE);
	/* Resolve the peers: ARP replies through the real WAN path, then learn. */
	dp_service(dp);
	for (unsigned int i = 0; i < 3; i++) {
		uint8_t f[42] = { 0 };
		struct rte_ether_addr mac;

		rte_eth_macaddr_get(dp->port[DP_PORT_WAN].port_id, &mac);
		memcpy(f, mac.addr_bytes, 6);
		f[6] = 2;
		f[11] = (uint8_t)i;
		f[12] = 0x08, f[13] = 0x06, f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4,
		f[21] = 2;
		memcpy(f + 22, f + 6, 6);
		f[28] = 192, f[29] = 168, f[30] = 0, f[31] = (uint8_t)(0x10 + i);
		memcpy(f + 32, mac.addr_bytes, 6);
		f[38] = 192, f[39] = 168, f[40] = 0, f[41] = 1;
		feed(1, f, sizeof(f));
	}
	dp_service(dp);
	drain();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { "fuzz", "-l0-1", "--no-huge", "--no-pci", "-m", "256", prefix,
		"--log-level=*:error", NULL };

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=fuzz-dp-%d", (int)getpid());
	vprn_log_init("fuzz_dp", VPRN_LOG_ERR);
	if (rte_eal_init(8, eal) < 0)
		abort();
	setup_dp();
	pool_start = rte_mempool_avail_count(dp->pool);
	hdr_start = rte_mempool_avail_count(dp->hdr_pool);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int mode = -1;

	if (size < 1)
		return 0;
	if (mode != ((data[0] >> 1) & 1)) {
		mode = (data[0] >> 1) & 1;
		set_tables(mode ? DP_SA_GROUP : DP_SA_PAIRWISE);
	}
	feed(data[0] & 1, data + 1, size - 1);
	drain();
	if (rte_mempool_avail_count(dp->pool) != pool_start ||
		rte_mempool_avail_count(dp->hdr_pool) != hdr_start)
		__builtin_trap(); /* an mbuf leaked on some path */
	return 0;
}
