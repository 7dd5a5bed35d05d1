/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-bench-dp: cost of the data plane pipeline on one lcore, in process,
 * with ring ports. Each measured step is one real worker iteration
 * (dp_worker_poll: RX burst on both ports, parse, classify, ESP, replicate,
 * TX burst); building the input frames and freeing what comes out of the
 * TX rings are not timed (a NIC would do both).
 *
 * Cases: LAN->WAN at fanout 1, 2, 4, 6 in pairwise and group SA modes,
 * WAN->LAN delivery, WAN->WAN transit (both modes), and the ESP engine alone
 * (out-of-place encrypt, in-place decrypt) at the same sizes. Inner IPv4
 * packet sizes 64..1420 bytes. Every figure is the best of ROUNDS rounds
 * (the machine may be shared). Not a test.
 *
 *   vprn-bench-dp [--pkts N] [--json FILE] [EAL options after --]
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_arp.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "common/log.h"
#include "dataplane/dp_priv.h"
#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"

#define BURST 32
#define ROUNDS 9
#define N_PEERS 6
#define LAN_ADDR 0x0a000101u
#define WAN_ADDR 0xc0a80001u
#define HOST 0x0a000102u
#define GROUP 0xef010203u
#define PEER(i) (0xc0a80010u + (i))

static const uint16_t sizes[] = { 64, 256, 512, 1024, 1420 };
static unsigned int n_pkts = 4096;
static struct dp *dp;
static struct rte_ring *rx[2], *tx[2];
static struct rte_mempool *gen;
static struct esp_ctx *gctx;
static struct esp_sa *sa_out[N_PEERS], *gsa_out;
static FILE *json;
static int json_first = 1;
static unsigned long total_pkts; /* through the pipeline, all cases */

enum kind {
	LAN2WAN,
	WAN2LAN,
	WAN2WAN,
	ESP_ENC,
	ESP_DEC,
	LAN_TTL, /* RX, parse, group lookup, TTL drop (free): no ESP, no TX */
	LAN_ARP, /* RX, parse, ARP answered in place, TX: no lookup, no ESP */
};

struct bcase {
	const char *name;
	enum kind kind;
	enum dp_sa_mode mode;
	unsigned int fanout;
};

static struct esp_sa *mk_sa(uint32_t spi, enum esp_dir dir, uint32_t src, uint32_t dst)
{
	struct esp_sa_params p;
	struct esp_sa *sa;

	esp_sa_params_default(&p);
	p.spi = spi;
	p.dir = dir;
	memset(p.cipher_key, (int)(spi & 0xff), sizeof(p.cipher_key));
	p.tun_src = src;
	p.tun_dst = dst;
	sa = esp_sa_create(&p, (int)rte_socket_id());
	if (sa == NULL)
		rte_exit(1, "SA create failed\n");
	return sa;
}

static void drain(void)
{
	struct rte_mbuf *m[64];
	unsigned int n;

	for (int i = 0; i < 2; i++)
		while ((n = rte_ring_dequeue_burst(tx[i], (void **)m, 64, NULL)) != 0)
			rte_pktmbuf_free_bulk(m, n);
}

/* Inner IPv4 multicast packet of `size` bytes at p (valid checksum). */
static void inner(uint8_t *p, uint16_t size, uint32_t src, uint8_t ttl)
{
	memset(p, 0x5a, size);
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)(size >> 8);
	p[3] = (uint8_t)size;
	p[8] = ttl;
	p[9] = 17;
	p[12] = (uint8_t)(src >> 24), p[13] = (uint8_t)(src >> 16), p[14] = (uint8_t)(src >> 8);
	p[15] = (uint8_t)src;
	p[16] = 239, p[17] = 1, p[18] = 2, p[19] = 3;
	((struct rte_ipv4_hdr *)p)->hdr_checksum = rte_ipv4_cksum((struct rte_ipv4_hdr *)p);
}

static uint8_t lan_ttl = 64;

static struct rte_mbuf *arp_frame(void)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(gen);
	uint8_t *f;

	if (m == NULL)
		rte_exit(1, "generator pool empty\n");
	f = (uint8_t *)rte_pktmbuf_append(m, 42);
	if (f == NULL)
		rte_exit(1, "no room\n");
	memset(f, 0, 42);
	memset(f, 0xff, 6);
	memcpy(f + 6, "\x02\x00\x00\x00\x00\x10", 6);
	f[12] = 0x08, f[13] = 0x06, f[15] = 1, f[16] = 0x08, f[18] = 6, f[19] = 4, f[21] = 1;
	memcpy(f + 22, f + 6, 6);
	f[28] = 10, f[29] = 0, f[30] = 1, f[31] = 2;
	f[38] = 10, f[39] = 0, f[40] = 1, f[41] = 1;
	return m;
}

static struct rte_mbuf *lan_frame(uint16_t size)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(gen);
	uint8_t *f;

	if (m == NULL)
		rte_exit(1, "generator pool empty\n");
	f = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(size + 14));
	memcpy(f, "\x01\x00\x5e\x01\x02\x03\x02\x00\x00\x00\x00\x10\x08\x00", 14);
	inner(f + 14, size, HOST, lan_ttl);
	return m;
}

/* A WAN frame from peer 0 encrypted with `sa` (pairwise or group SA). */
static struct rte_mbuf *wan_frame(uint16_t size, struct esp_sa *sa)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(gen);
	uint8_t reason;
	uint8_t *l2;

	if (m == NULL)
		rte_exit(1, "generator pool empty\n");
	inner((uint8_t *)rte_pktmbuf_append(m, size), size, 0x0a000202, 40);
	if (esp_outb_inplace(gctx, sa, &m, 1, &reason) != 1)
		rte_exit(1, "generator encrypt: %s\n", esp_drop_reason_name(reason));
	l2 = (uint8_t *)rte_pktmbuf_prepend(m, 14);
	if (l2 == NULL)
		rte_exit(1, "no headroom\n");
	memcpy(l2, dp->port[DP_PORT_WAN].mac.addr_bytes, 6);
	memcpy(l2 + 6, "\x02\x00\x00\x00\x01\x00", 6);
	l2[12] = 0x08, l2[13] = 0x00;
	return m;
}

/* Neighbours, their SAs and ARP: replies fed through the real WAN path. */
static void setup_neighbours(void)
{
	struct dp_txn *txn = dp_txn_begin(dp);

	for (unsigned int i = 0; i < N_PEERS; i++) {
		struct dp_nbr_conf nb = { .addr = PEER(i) };

		sa_out[i] = mk_sa(0x1000 + i, ESP_DIR_OUTBOUND, WAN_ADDR, PEER(i));
		nb.sa_out = sa_out[i];
		if (dp_txn_set_neighbour(txn, &nb) != 0)
			rte_exit(1, "neighbour\n");
	}
	gsa_out = mk_sa(0x3000, ESP_DIR_OUTBOUND, WAN_ADDR, PEER(0));
	if (dp_txn_commit(txn) != 0 || dp_service(dp) != 0)
		rte_exit(1, "commit\n");
	for (unsigned int i = 0; i < N_PEERS; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(gen);
		struct rte_arp_hdr *a;
		struct rte_ether_hdr *e;

		e = (struct rte_ether_hdr *)rte_pktmbuf_append(m, 42);
		a = (struct rte_arp_hdr *)(e + 1);
		e->dst_addr = dp->port[DP_PORT_WAN].mac;
		memcpy(e->src_addr.addr_bytes, "\x02\x00\x00\x00\x01\x00", 6);
		e->src_addr.addr_bytes[5] = (uint8_t)i;
		e->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
		a->arp_hardware = rte_cpu_to_be_16(1);
		a->arp_protocol = rte_cpu_to_be_16(0x0800);
		a->arp_hlen = 6;
		a->arp_plen = 4;
		a->arp_opcode = rte_cpu_to_be_16(2);
		a->arp_data.arp_sha = e->src_addr;
		a->arp_data.arp_sip = rte_cpu_to_be_32(PEER(i));
		a->arp_data.arp_tha = dp->port[DP_PORT_WAN].mac;
		a->arp_data.arp_tip = rte_cpu_to_be_32(WAN_ADDR);
		rte_ring_enqueue(rx[1], m);
	}
	dp_worker_poll(&dp->worker[0]);
	if (dp_service(dp) != 0)
		rte_exit(1, "service\n");
	drain();
	for (unsigned int i = 0; i < N_PEERS; i++) {
		uint8_t mac[6];

		if (dp_neighbour_mac(dp, PEER(i), mac) != 0)
			rte_exit(1, "peer %u unresolved\n", i);
	}
}

/* The group's tree for a case, and a fresh inbound SA (replay window) for peer 0. */
static struct esp_sa *setup_case(const struct bcase *c, struct esp_sa **dp_in)
{
	struct dp_group_conf g = { .group = GROUP, .mode = c->mode, .tree_version = 1 };
	struct dp_spi_conf sc = { .spi = 0x2000, .mode = c->mode, .group = GROUP };
	struct dp_txn *txn = dp_txn_begin(dp);
	struct esp_sa *mirror;

	g.local_receivers = c->kind == WAN2LAN;
	g.n_nbrs = c->kind == LAN2WAN || c->kind == LAN_TTL ? RTE_MAX(c->fanout, 1u)
							    : (c->kind == WAN2WAN ? 2 : 1);
	for (unsigned int i = 0; i < g.n_nbrs; i++)
		g.nbrs[i] = PEER(i);
	g.sa_out = gsa_out;
	*dp_in = mk_sa(0x2000, ESP_DIR_INBOUND, PEER(0), WAN_ADDR);
	mirror = mk_sa(0x2000, ESP_DIR_OUTBOUND, PEER(0), WAN_ADDR);
	sc.sa = *dp_in;
	if (dp_txn_set_group(txn, &g) != 0 || dp_txn_set_spi(txn, &sc) != 0 ||
		dp_txn_commit(txn) != 0)
		rte_exit(1, "case setup\n");
	return mirror;
}

/* One round through the pipeline: cycles per input packet. */
static double round_pipeline(const struct bcase *c, uint16_t size, struct esp_sa *mirror)
{
	struct rte_mbuf *in[BURST];
	uint64_t cyc = 0, n = 0;
	unsigned int port = c->kind == LAN2WAN || c->kind == LAN_TTL || c->kind == LAN_ARP ? 0 : 1;

	while (n < n_pkts) {
		uint64_t t0;

		for (int i = 0; i < BURST; i++)
			in[i] = c->kind == LAN_ARP ? arp_frame()
				: port == 0	   ? lan_frame(size)
						   : wan_frame(size, mirror);
		rte_ring_enqueue_bulk(rx[port], (void **)in, BURST, NULL);
		t0 = rte_rdtsc_precise();
		dp_worker_poll(&dp->worker[0]);
		cyc += rte_rdtsc_precise() - t0;
		n += BURST;
		total_pkts += BURST;
		drain();
	}
	return (double)cyc / (double)n;
}

/* The ESP engine alone: out-of-place encrypt, in-place decrypt, one SA. */
static double round_esp(const struct bcase *c, uint16_t size)
{
	struct esp_sa *o = mk_sa(0x5000, ESP_DIR_OUTBOUND, WAN_ADDR, PEER(0));
	struct esp_sa *i_sa = mk_sa(0x5000, ESP_DIR_INBOUND, WAN_ADDR, PEER(0));
	struct rte_mbuf *src[BURST], *out[BURST];
	struct esp_sa *sas[BURST];
	uint8_t r[BURST];
	uint64_t cyc = 0, n = 0;

	for (int i = 0; i < BURST; i++) {
		src[i] = rte_pktmbuf_alloc(gen);
		inner((uint8_t *)rte_pktmbuf_append(src[i], size), size, HOST, 64);
		sas[i] = i_sa;
	}
	while (n < n_pkts) {
		uint64_t t0 = rte_rdtsc_precise(), t1;

		if (esp_outb_oop(gctx, o, src, out, BURST, dp->pool, r) != BURST)
			rte_exit(1, "esp encrypt\n");
		t1 = rte_rdtsc_precise();
		if (c->kind == ESP_ENC) {
			cyc += t1 - t0;
		} else {
			t0 = rte_rdtsc_precise();
			if (esp_inb(gctx, out, sas, BURST, r) != BURST)
				rte_exit(1, "esp decrypt\n");
			cyc += rte_rdtsc_precise() - t0;
		}
		rte_pktmbuf_free_bulk(out, BURST);
		n += BURST;
	}
	rte_pktmbuf_free_bulk(src, BURST);
	esp_sa_destroy(o);
	esp_sa_destroy(i_sa);
	return (double)cyc / (double)n;
}

static double run(const struct bcase *c, uint16_t size)
{
	double best = 1e18;

	lan_ttl = c->kind == LAN_TTL ? 1 : 64;
	for (int r = 0; r < ROUNDS; r++) {
		double v;

		if (c->kind == ESP_ENC || c->kind == ESP_DEC) {
			v = round_esp(c, size);
		} else {
			struct esp_sa *dp_in, *mirror = setup_case(c, &dp_in);

			v = round_pipeline(c, size, mirror);
			/* Unpublish before destroying: the commit waits for the grace period. */
			struct dp_txn *txn = dp_txn_begin(dp);

			dp_txn_del_spi(txn, 0x2000);
			dp_txn_commit(txn);
			esp_sa_destroy(dp_in);
			esp_sa_destroy(mirror);
		}
		best = v < best ? v : best;
	}
	return best;
}

static void emit(const struct bcase *c, uint16_t size, double cyc)
{
	double mpps = (double)rte_get_tsc_hz() / cyc / 1e6;
	double gbps = mpps * size * 8 / 1000;

	printf("%-22s %5u %9.1f %8.2f %8.2f\n", c->name, size, cyc, mpps, gbps);
	fprintf(json,
		"%s  {\"case\": \"%s\", \"size\": %u, \"mpps\": %.3f, \"gbps\": %.3f, "
		"\"cycles_per_pkt\": %.1f}",
		json_first ? "" : ",\n", c->name, size, mpps, gbps, cyc);
	json_first = 0;
}

static const struct bcase cases[] = {
	{ "esp-encrypt-oop", ESP_ENC, DP_SA_PAIRWISE, 0 },
	{ "esp-decrypt", ESP_DEC, DP_SA_PAIRWISE, 0 },
	{ "lan-ttl-drop", LAN_TTL, DP_SA_PAIRWISE, 1 },
	{ "lan-arp-reply", LAN_ARP, DP_SA_PAIRWISE, 0 },
	{ "lan2wan-pairwise-f1", LAN2WAN, DP_SA_PAIRWISE, 1 },
	{ "lan2wan-pairwise-f2", LAN2WAN, DP_SA_PAIRWISE, 2 },
	{ "lan2wan-pairwise-f4", LAN2WAN, DP_SA_PAIRWISE, 4 },
	{ "lan2wan-pairwise-f6", LAN2WAN, DP_SA_PAIRWISE, 6 },
	{ "lan2wan-group-f1", LAN2WAN, DP_SA_GROUP, 1 },
	{ "lan2wan-group-f2", LAN2WAN, DP_SA_GROUP, 2 },
	{ "lan2wan-group-f4", LAN2WAN, DP_SA_GROUP, 4 },
	{ "lan2wan-group-f6", LAN2WAN, DP_SA_GROUP, 6 },
	{ "wan2lan-pairwise", WAN2LAN, DP_SA_PAIRWISE, 0 },
	{ "wan2lan-group", WAN2LAN, DP_SA_GROUP, 0 },
	{ "wan2wan-pairwise", WAN2WAN, DP_SA_PAIRWISE, 0 },
	{ "wan2wan-group", WAN2WAN, DP_SA_GROUP, 0 },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static double res[N_CASES][N_SIZES];
static unsigned int pool0, hdr0;

static bool stage_cycles; /* --stage-cycles: dp_conf.stage_cycles (its overhead) */

static void setup_dp(void)
{
	struct dp_conf c = { 0 };
	char name[32];

	for (int i = 0; i < 2; i++) {
		snprintf(name, sizeof(name), "b_rx%d", i);
		rx[i] = rte_ring_create(name, 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "b_tx%d", i);
		tx[i] = rte_ring_create(name, 4096, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "b%d", i);
		if (rx[i] == NULL || tx[i] == NULL ||
			rte_eth_from_rings(name, &rx[i], 1, &tx[i], 1, 0) < 0)
			rte_exit(1, "ring ports\n");
	}
	snprintf(c.lan.devargs, sizeof(c.lan.devargs), "net_ring_b0");
	snprintf(c.wan.devargs, sizeof(c.wan.devargs), "net_ring_b1");
	c.lan.addr = LAN_ADDR;
	c.lan.prefix_len = 24;
	c.wan.addr = WAN_ADDR;
	c.wan.prefix_len = 24;
	c.wan.mtu = 1600; /* 1420-byte inner packets + ESP overhead */
	c.lan.mtu = 1600;
	c.n_workers = 1;
	c.n_mbufs = 16383;
	c.stage_cycles = stage_cycles;
	dp = dp_create(&c);
	gen = rte_pktmbuf_pool_create("bgen", 16383, 256, 0, 2176, (int)rte_socket_id());
	gctx = esp_ctx_create((int)rte_socket_id());
	if (dp == NULL || gen == NULL || gctx == NULL)
		rte_exit(1, "setup\n");
	setup_neighbours();
}

static void summary(void)
{
	double esp64 = res[0][0], p1 = res[4][0], p2 = res[5][0], p6 = res[7][0];
	double g1 = res[8][0], g6 = res[11][0];

	printf("\nGoals at 64 bytes:\n");
	printf("  group mode fanout 6 / fanout 1 = %.2f (goal <= 1.3)\n", g6 / g1);
	printf("  pairwise extra copy = %.1f cycles, ESP engine = %.1f (goal <= ESP + 20)\n",
		(p6 - p1) / 5, esp64);
	printf("  pairwise fanout 2 - fanout 1 = %.1f cycles\n", p2 - p1);
	printf("  outside ESP at fanout 1 (pairwise f1 - ESP) = %.1f cycles (goal <= 120)\n",
		p1 - esp64);
	fprintf(json,
		"\n],\n\"summary\": {\"group_f6_over_f1_64\": %.3f, "
		"\"pairwise_extra_copy_cycles_64\": %.1f, \"esp_encrypt_cycles_64\": %.1f, "
		"\"outside_esp_cycles_f1_64\": %.1f}\n}\n",
		g6 / g1, (p6 - p1) / 5, esp64, p1 - esp64);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "pkts", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' },
		{ "stage-cycles", no_argument, NULL, 's' }, { NULL, 0, NULL, 0 } };
	const char *json_path = "bench-dp.json";
	char prefix[64];
	char *eal[] = { argv[0], "-l0-1", "--no-huge", "--no-pci", "-m", "1024", prefix,
		"--log-level=*:error", NULL };
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'n')
			n_pkts = (unsigned int)strtoul(optarg, NULL, 0);
		else if (o == 'j')
			json_path = optarg;
		else if (o == 's')
			stage_cycles = true;
		else
			return 2;
	}
	if (n_pkts < BURST)
		n_pkts = BURST;
	snprintf(prefix, sizeof(prefix), "--file-prefix=bench-dp-%d", (int)getpid());
	vprn_log_init("bench-dp", VPRN_LOG_ERR);
	if (rte_eal_init(8, eal) < 0)
		return 1;
	json = fopen(json_path, "w");
	if (json == NULL)
		rte_exit(1, "cannot write %s\n", json_path);
	setup_dp();
	printf("vprn-bench-dp: one lcore, ring ports, AES-GCM-128, %u packets per round, best of "
	       "%d rounds, TSC %.2f GHz, ESP engine %s\n",
		n_pkts, ROUNDS, (double)rte_get_tsc_hz() / 1e9, esp_ctx_arch_name(gctx));
	printf("%-22s %5s %9s %8s %8s\n", "case", "size", "cyc/pkt", "Mpps", "Gbit/s");
	fprintf(json,
		"{\"bench\": \"dp\", \"lcores\": 1, \"xform\": \"aes-gcm-128\", "
		"\"pkts_per_round\": %u, \"rounds\": %d, \"results\": [\n",
		n_pkts, ROUNDS);
	pool0 = rte_mempool_avail_count(dp->pool);
	hdr0 = rte_mempool_avail_count(dp->hdr_pool);
	for (unsigned int c = 0; c < N_CASES; c++)
		for (unsigned int s = 0; s < N_SIZES; s++) {
			res[c][s] = run(&cases[c], sizes[s]);
			emit(&cases[c], sizes[s], res[c][s]);
		}
	summary();
	/* Zero-copy checked, not assumed: after every mode, every buffer is back. */
	printf("pool check after %lu packets: data %u/%u, headers %u/%u: %s\n", total_pkts,
		rte_mempool_avail_count(dp->pool), pool0, rte_mempool_avail_count(dp->hdr_pool),
		hdr0,
		rte_mempool_avail_count(dp->pool) == pool0 &&
				rte_mempool_avail_count(dp->hdr_pool) == hdr0
			? "ok"
			: "LEAK");
	fclose(json);
	printf("JSON written to %s\n", json_path);
	return 0;
}
