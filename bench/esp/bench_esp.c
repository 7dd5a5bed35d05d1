/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-bench-esp: cycles per packet and Mpps of the ESP engine on one lcore,
 * encrypt/decrypt, in place/out of place, AES-GCM-128 and AES-CBC-128 +
 * HMAC-SHA-256-128, inner packets of 64..1420 bytes; beside each, the raw
 * intel-ipsec-mb job loop on the same buffer sizes (the ceiling) and the
 * ratio (ceiling cycles / engine cycles, i.e. fraction of the ceiling's
 * throughput). Both submit jobs unchecked (IMB_SUBMIT_JOB_NOCHECK). Also: the cost of checked vs
 * unchecked job submission (the library's error reporting) and 2-lcore scaling. Not a test.
 *
 *   vprn-bench-esp [--pkts N] [--json FILE]
 */

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <intel-ipsec-mb.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "esp.h"
#include "esp_test.h"

#define BURST 32

static const uint16_t sizes[] = { 64, 128, 256, 512, 1024, 1420 };
static unsigned long n_pkts = 8192;
/* The machine may be shared: every figure is the best of ROUNDS rounds. */
#define ROUNDS 25

static inline double dmin(double a, double b)
{
	return a < b ? a : b;
}
static struct rte_mempool *mp;
static FILE *json;
static int json_first = 1;

struct result {
	double cyc;
	double ceil;
};

static void emit(const char *xname, const char *op, uint16_t size, struct result r)
{
	double hz = (double)rte_get_tsc_hz();
	double mpps = hz / r.cyc / 1e6;
	char name[64];

	snprintf(name, sizeof(name), "%s-%s", xname, op);
	printf("%-26s %5u %9.1f %9.1f %8.1f %7.3f %8.2f\n", name, size, r.cyc, r.ceil,
		r.cyc - r.ceil, r.ceil / r.cyc, mpps);
	fprintf(json,
		"%s  {\"case\": \"%s\", \"size\": %u, \"mpps\": %.3f, \"cycles_per_pkt\": %.1f, "
		"\"ceiling_cycles_per_pkt\": %.1f, \"ratio\": %.3f}",
		json_first ? "" : ",\n", name, size, mpps, r.cyc, r.ceil, r.ceil / r.cyc);
	json_first = 0;
}

static struct rte_mbuf *make_inner(uint16_t size)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, size);

	memset(p, 0x5a, size);
	p[0] = 0x45;
	p[1] = 0;
	p[2] = (uint8_t)(size >> 8);
	p[3] = (uint8_t)size;
	return m;
}

static struct esp_sa *mk_sa(enum esp_xform x, enum esp_dir d)
{
	struct esp_sa_params p;

	esp_sa_params_default(&p);
	p.spi = 0x1234;
	p.dir = d;
	p.xform = x;
	p.tun_src = 0x0a000001;
	p.tun_dst = 0x0a000002;
	memset(p.cipher_key, 0x11, sizeof(p.cipher_key));
	memset(p.auth_key, 0x22, sizeof(p.auth_key));
	return esp_sa_create(&p, (int)rte_socket_id());
}

/* ---- engine --------------------------------------------------------------- */

/* In place: encrypt then decrypt the same mbufs (decrypt restores the inner packet). */
static void bench_inplace(
	struct esp_ctx *ctx, enum esp_xform x, uint16_t size, double *enc, double *dec)
{
	struct esp_sa *o = mk_sa(x, ESP_DIR_OUTBOUND), *in = mk_sa(x, ESP_DIR_INBOUND);
	struct rte_mbuf *m[BURST];
	struct esp_sa *sas[BURST];
	uint8_t r[BURST];
	uint64_t ce = 0, cd = 0, n = 0;

	for (int i = 0; i < BURST; i++) {
		m[i] = make_inner(size);
		sas[i] = in;
	}
	while (n < n_pkts) {
		uint64_t t0 = rte_rdtsc_precise(), t1, t2;

		if (esp_outb_inplace(ctx, o, m, BURST, r) != BURST)
			rte_exit(1, "encrypt failed: %s\n", esp_drop_reason_name(r[0]));
		t1 = rte_rdtsc_precise();
		if (esp_inb(ctx, m, sas, BURST, r) != BURST)
			rte_exit(1, "decrypt failed: %s\n", esp_drop_reason_name(r[0]));
		t2 = rte_rdtsc_precise();
		ce += t1 - t0;
		cd += t2 - t1;
		n += BURST;
	}
	*enc = (double)ce / (double)n;
	*dec = (double)cd / (double)n;
	for (int i = 0; i < BURST; i++)
		rte_pktmbuf_free(m[i]);
	esp_sa_destroy(o);
	esp_sa_destroy(in);
}

/* Out of place: the same sources encrypted again and again into new mbufs;
 * decrypt out of place from a fixed set of ciphertexts (window reset untimed). */
static void bench_oop(
	struct esp_ctx *ctx, enum esp_xform x, uint16_t size, double *enc, double *dec)
{
	struct esp_sa *o = mk_sa(x, ESP_DIR_OUTBOUND), *in = mk_sa(x, ESP_DIR_INBOUND);
	struct rte_mbuf *src[BURST], *out[BURST], *ct[BURST];
	struct esp_sa *sas[BURST];
	uint8_t r[BURST];
	uint64_t ce = 0, cd = 0, n = 0;

	for (int i = 0; i < BURST; i++) {
		src[i] = make_inner(size);
		sas[i] = in;
	}
	if (esp_outb_oop(ctx, o, src, ct, BURST, mp, r) != BURST)
		rte_exit(1, "encrypt failed\n");
	while (n < n_pkts) {
		uint64_t t0 = rte_rdtsc_precise(), t1;

		if (esp_outb_oop(ctx, o, src, out, BURST, mp, r) != BURST)
			rte_exit(1, "encrypt oop failed: %s\n", esp_drop_reason_name(r[0]));
		t1 = rte_rdtsc_precise();
		ce += t1 - t0;
		rte_pktmbuf_free_bulk(out, BURST);
		esp_sa_test_set_seq(in, 0);
		t0 = rte_rdtsc_precise();
		if (esp_inb_oop(ctx, ct, sas, out, BURST, mp, r) != BURST)
			rte_exit(1, "decrypt oop failed: %s\n", esp_drop_reason_name(r[0]));
		t1 = rte_rdtsc_precise();
		cd += t1 - t0;
		rte_pktmbuf_free_bulk(out, BURST);
		n += BURST;
	}
	*enc = (double)ce / (double)n;
	*dec = (double)cd / (double)n;
	rte_pktmbuf_free_bulk(src, BURST);
	rte_pktmbuf_free_bulk(ct, BURST);
	esp_sa_destroy(o);
	esp_sa_destroy(in);
}

/* ---- raw intel-ipsec-mb: the same jobs on flat buffers -------------------- */

struct raw_keys {
	DECLARE_ALIGNED(struct gcm_key_data gcm, 64);
	DECLARE_ALIGNED(uint8_t enc[15 * 16], 16);
	DECLARE_ALIGNED(uint8_t dec[15 * 16], 16);
	uint8_t ipad[32], opad[32];
};

static double bench_raw(
	IMB_MGR *mgr, const struct raw_keys *k, bool gcm, bool encrypt, uint16_t size, bool nocheck)
{
	/* Same lengths as the engine: ciphertext = inner + trailer, aligned. */
	uint32_t align = gcm ? 4 : 16, ivl = gcm ? 8 : 16;
	uint32_t ct = (size + 2u + align - 1) & ~(align - 1);
	uint32_t buf_len = 8 + ivl + ct + 16;
	uint8_t *bufs = rte_zmalloc(NULL, (size_t)BURST * 2048, 64);
	uint8_t iv[16] = { 0 }, aad[12] = { 0 }, tag[BURST][16];
	uint64_t cyc = 0, n = 0;

	(void)buf_len;
	while (n < n_pkts) {
		uint64_t t0 = rte_rdtsc_precise();
		IMB_JOB *job;

		for (int i = 0; i < BURST; i++) {
			uint8_t *b = bufs + (size_t)i * 2048;

			job = IMB_GET_NEXT_JOB(mgr);
			job->cipher_direction = encrypt ? IMB_DIR_ENCRYPT : IMB_DIR_DECRYPT;
			job->chain_order = encrypt ? IMB_ORDER_CIPHER_HASH : IMB_ORDER_HASH_CIPHER;
			job->key_len_in_bytes = 16;
			job->src = b;
			job->dst = b + 8 + ivl;
			job->cipher_start_src_offset_in_bytes = 8 + ivl;
			job->msg_len_to_cipher_in_bytes = ct;
			job->auth_tag_output = tag[i];
			job->auth_tag_output_len_in_bytes = 16;
			if (gcm) {
				job->cipher_mode = IMB_CIPHER_GCM;
				job->hash_alg = IMB_AUTH_AES_GMAC;
				job->enc_keys = &k->gcm;
				job->dec_keys = &k->gcm;
				job->iv = iv;
				job->iv_len_in_bytes = 12;
				job->hash_start_src_offset_in_bytes = 8 + ivl;
				job->msg_len_to_hash_in_bytes = ct;
				job->u.GCM.aad = aad;
				job->u.GCM.aad_len_in_bytes = 8;
			} else {
				job->cipher_mode = IMB_CIPHER_CBC;
				job->hash_alg = IMB_AUTH_HMAC_SHA_256;
				job->enc_keys = k->enc;
				job->dec_keys = k->dec;
				job->iv = b + 8;
				job->iv_len_in_bytes = 16;
				job->hash_start_src_offset_in_bytes = 0;
				job->msg_len_to_hash_in_bytes = 8 + ivl + ct;
				job->u.HMAC._hashed_auth_key_xor_ipad = k->ipad;
				job->u.HMAC._hashed_auth_key_xor_opad = k->opad;
			}
			job = nocheck ? IMB_SUBMIT_JOB_NOCHECK(mgr) : IMB_SUBMIT_JOB(mgr);
			while (job != NULL)
				job = IMB_GET_COMPLETED_JOB(mgr);
		}
		while (IMB_FLUSH_JOB(mgr) != NULL)
			;
		cyc += rte_rdtsc_precise() - t0;
		n += BURST;
	}
	rte_free(bufs);
	return (double)cyc / (double)n;
}

static void raw_keys_init(IMB_MGR *mgr, struct raw_keys *k)
{
	uint8_t key[16], blk[64];

	memset(key, 0x11, sizeof(key));
	IMB_AES128_GCM_PRE(mgr, key, &k->gcm);
	IMB_AES_KEYEXP_128(mgr, key, k->enc, k->dec);
	memset(blk, 0x36 ^ 0x22, 32);
	memset(blk + 32, 0x36, 32);
	IMB_SHA256_ONE_BLOCK(mgr, blk, k->ipad);
	memset(blk, 0x5c ^ 0x22, 32);
	memset(blk + 32, 0x5c, 32);
	IMB_SHA256_ONE_BLOCK(mgr, blk, k->opad);
}

/* ---- 2-lcore scaling ------------------------------------------------------ */

struct scale_arg {
	enum esp_xform x;
	uint16_t size;
	double enc;
	double dec;
	double raw_chk;
	double raw_nochk;
};

static int scale_worker(void *a)
{
	struct scale_arg *s = a;
	struct esp_ctx *ctx = esp_ctx_create((int)rte_socket_id());
	IMB_MGR *mgr = alloc_mb_mgr(0);
	struct raw_keys *k = rte_zmalloc(NULL, sizeof(*k), 64);

	init_mb_mgr_auto(mgr, NULL);
	raw_keys_init(mgr, k);
	s->enc = s->dec = s->raw_chk = s->raw_nochk = 1e18;
	for (int rd = 0; rd < ROUNDS; rd++) {
		double e, d;

		bench_inplace(ctx, s->x, s->size, &e, &d);
		s->enc = dmin(s->enc, e);
		s->dec = dmin(s->dec, d);
		s->raw_chk = dmin(s->raw_chk, bench_raw(mgr, k, true, true, s->size, false));
		s->raw_nochk = dmin(s->raw_nochk, bench_raw(mgr, k, true, true, s->size, true));
	}
	rte_free(k);
	free_mb_mgr(mgr);
	esp_ctx_destroy(ctx);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "pkts", required_argument, NULL, 'n' },
		{ "json", required_argument, NULL, 'j' }, { "only", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' }, { "cbc", no_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 } };
	const char *only = NULL;
	uint16_t only_size = 64;
	bool only_cbc = false;
	const char *json_path = "bench-esp.json";
	char prefix[64];
	char *eal[] = { argv[0], (char *)"-l0,1", (char *)"--no-huge", (char *)"--no-pci",
		(char *)"-m", (char *)"256", prefix, (char *)"--log-level=lib.*:error", NULL };
	struct esp_ctx *ctx;
	IMB_MGR *mgr;
	struct raw_keys *k;
	int c;

	snprintf(prefix, sizeof(prefix), "--file-prefix=vprn-bench-esp-%d", (int)getpid());
	if (rte_eal_init(8, eal) < 0)
		return 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n_pkts = strtoul(optarg, NULL, 0);
		else if (c == 'j')
			json_path = optarg;
		else if (c == 'o')
			only = optarg;
		else if (c == 's')
			only_size = (uint16_t)strtoul(optarg, NULL, 0);
		else if (c == 'c')
			only_cbc = true;
		else
			return 2;
	}
	mp = rte_pktmbuf_pool_create(
		"bench", 4095, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	ctx = esp_ctx_create((int)rte_socket_id());
	mgr = alloc_mb_mgr(0);
	k = rte_zmalloc(NULL, sizeof(*k), 64);
	if (mp == NULL || ctx == NULL || mgr == NULL || k == NULL)
		return 1;
	init_mb_mgr_auto(mgr, NULL);
	raw_keys_init(mgr, k);
	if (only != NULL) {
		/* One loop only, for profiling (perf stat: instructions per packet). */
		enum esp_xform x =
			only_cbc ? ESP_XFORM_AES_CBC_128_HMAC_SHA256 : ESP_XFORM_AES_GCM_128;
		double a = 0, b = 0;

		if (strcmp(only, "inplace") == 0)
			bench_inplace(ctx, x, only_size, &a, &b);
		else if (strcmp(only, "oop") == 0)
			bench_oop(ctx, x, only_size, &a, &b);
		else if (strcmp(only, "raw-enc") == 0)
			a = bench_raw(mgr, k, !only_cbc, true, only_size, true);
		else if (strcmp(only, "raw-dec") == 0)
			b = bench_raw(mgr, k, !only_cbc, false, only_size, true);
		printf("%s size %u: %.1f / %.1f cycles per packet\n", only, only_size, a, b);
		return 0;
	}
	json = fopen(json_path, "w");
	if (json == NULL)
		return 1;
	printf("vprn-bench-esp: intel-ipsec-mb %s (%s), TSC %.2f GHz, burst %d, best of %d rounds "
	       "of %lu packets per case\n",
		imb_get_version_str(), esp_ctx_arch_name(ctx), rte_get_tsc_hz() / 1e9, BURST,
		ROUNDS, n_pkts);
	printf("%-26s %5s %9s %9s %8s %7s %8s\n", "case", "size", "cyc/pkt", "ceiling", "framing",
		"ratio", "Mpps");
	fprintf(json, "[\n");
	for (int g = 0; g < 2; g++) {
		enum esp_xform x =
			g == 0 ? ESP_XFORM_AES_GCM_128 : ESP_XFORM_AES_CBC_128_HMAC_SHA256;
		const char *xn = g == 0 ? "gcm128" : "cbc128-sha256";

		for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
			double ei = 1e18, di = 1e18, eo = 1e18, dO = 1e18, ce = 1e18, cd = 1e18;

			for (int rd = 0; rd < ROUNDS; rd++) {
				double a, b;

				bench_inplace(ctx, x, sizes[s], &a, &b);
				ei = dmin(ei, a);
				di = dmin(di, b);
				bench_oop(ctx, x, sizes[s], &a, &b);
				eo = dmin(eo, a);
				dO = dmin(dO, b);
				/* Unchecked submission, as the engine does. */
				ce = dmin(ce, bench_raw(mgr, k, g == 0, true, sizes[s], true));
				cd = dmin(cd, bench_raw(mgr, k, g == 0, false, sizes[s], true));
			}
			emit(xn, "enc-inplace", sizes[s], (struct result){ ei, ce });
			emit(xn, "enc-oop", sizes[s], (struct result){ eo, ce });
			emit(xn, "dec-inplace", sizes[s], (struct result){ di, cd });
			emit(xn, "dec-oop", sizes[s], (struct result){ dO, cd });
		}
	}
	fprintf(json, "\n]\n");
	fclose(json);

	/* Checked vs unchecked submission, and 2 lcores at once (GCM-128 encrypt). */
	printf("\nraw GCM-128 encrypt, IMB_SUBMIT_JOB vs _NOCHECK, 1 lcore then 2 lcores:\n");
	for (int sz = 0; sz < 2; sz++) {
		uint16_t size = sz == 0 ? 64 : 1420;
		struct scale_arg one = { .x = ESP_XFORM_AES_GCM_128, .size = size };
		struct scale_arg two[2] = { one, one };
		unsigned int w = rte_get_next_lcore(-1, 1, 0);

		scale_worker(&one);
		if (w < RTE_MAX_LCORE) {
			rte_eal_remote_launch(scale_worker, &two[1], w);
			scale_worker(&two[0]);
			rte_eal_wait_lcore(w);
		}
		printf("size %4u 1 lcore: engine enc %.1f cyc, raw checked %.1f, nocheck %.1f\n",
			size, one.enc, one.raw_chk, one.raw_nochk);
		if (w < RTE_MAX_LCORE)
			printf("size %4u 2 lcores: engine enc %.1f/%.1f cyc -> %.2f Mpps total "
			       "(1 lcore %.2f); raw checked %.1f/%.1f, nocheck %.1f/%.1f\n",
				size, two[0].enc, two[1].enc,
				rte_get_tsc_hz() / two[0].enc / 1e6 +
					rte_get_tsc_hz() / two[1].enc / 1e6,
				rte_get_tsc_hz() / one.enc / 1e6, two[0].raw_chk, two[1].raw_chk,
				two[0].raw_nochk, two[1].raw_nochk);
	}
	rte_free(k);
	free_mb_mgr(mgr);
	esp_ctx_destroy(ctx);
	rte_eal_cleanup();
	return 0;
}
