/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ESP engine through its public API: round trips for every transform and
 * option, known-answer tests (draft-mcgrew-gcm-test-01 ESP vectors, RFC 4231
 * HMAC-SHA-256), every bad input with its own counter, sequence number wrap,
 * lifetimes, key wipe, out-of-place on shared buffers. Every test ends with
 * the mbuf pool full again.
 */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "../eal_helper.h"
#include "esp.h"
#include "esp_test.h"
#include "esp_test_util.h"

#define POOL_N 1023

static struct rte_mempool *mp;
static struct esp_ctx *ctx;

static void assert_pool_full(void)
{
	assert_int_equal(rte_mempool_avail_count(mp), POOL_N);
}

static int setup(void **state)
{
	(void)state;
	if (vprn_test_eal_init("0-1", 0, NULL) < 0)
		return -1;
	mp = rte_pktmbuf_pool_create(
		"esp_ut", POOL_N, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	ctx = esp_ctx_create(SOCKET_ID_ANY);
	return mp != NULL && ctx != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	esp_ctx_destroy(ctx);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}

static struct esp_sa *mk_sa(enum esp_xform x, enum esp_dir d, bool esn, bool udp)
{
	struct esp_sa_params p;
	struct esp_sa *sa;

	sa_params(&p, x, d, esn, udp, 0x1234);
	sa = esp_sa_create(&p, SOCKET_ID_ANY);
	assert_non_null(sa);
	return sa;
}

static uint64_t ctx_drop(unsigned int reason)
{
	uint64_t d[ESP_DROP_MAX];

	esp_ctx_get_drops(ctx, d);
	return d[reason];
}

static uint64_t sa_drop(const struct esp_sa *sa, unsigned int reason)
{
	struct esp_sa_stats st;

	assert_int_equal(esp_sa_get_stats(sa, &st), 0);
	return st.drops[reason];
}

/* ---- round trips --------------------------------------------------------- */

#define RT_N 50

static void roundtrip(enum esp_xform x, bool esn, bool udp, bool oop_out, bool oop_in)
{
	struct esp_sa *out_sa = mk_sa(x, ESP_DIR_OUTBOUND, esn, udp);
	struct esp_sa *in_sa = mk_sa(x, ESP_DIR_INBOUND, esn, udp);
	struct rte_mbuf *pkts[RT_N], *enc[RT_N], *dec[RT_N];
	struct esp_sa *sas[RT_N];
	uint8_t reasons[RT_N];
	uint8_t *ref[RT_N];
	uint16_t len[RT_N];
	uint16_t r;

	for (int i = 0; i < RT_N; i++) {
		/* UDP payloads 0..46 cover every padding length; then 1000 and 1472 (1500 inner).
		 */
		uint16_t plen = i < RT_N - 3 ? (uint16_t)i : (i == RT_N - 3 ? 1000 : 1472);

		if (i == RT_N - 1)
			plen = 1480; /* 1508-byte inner packet */
		pkts[i] = make_inner(mp, plen, (uint8_t)(i & 0xff));
		assert_non_null(pkts[i]);
		len[i] = rte_pktmbuf_data_len(pkts[i]);
		ref[i] = malloc(len[i]);
		memcpy(ref[i], rte_pktmbuf_mtod(pkts[i], void *), len[i]);
	}
	if (oop_out) {
		r = esp_outb_oop(ctx, out_sa, pkts, enc, RT_N, mp, reasons);
		assert_int_equal(r, RT_N);
		for (int i = 0; i < RT_N; i++) {
			/* Source untouched. */
			assert_int_equal(rte_pktmbuf_data_len(pkts[i]), len[i]);
			assert_memory_equal(rte_pktmbuf_mtod(pkts[i], void *), ref[i], len[i]);
			rte_pktmbuf_free(pkts[i]);
		}
	} else {
		r = esp_outb_inplace(ctx, out_sa, pkts, RT_N, reasons);
		assert_int_equal(r, RT_N);
		memcpy(enc, pkts, sizeof(enc));
	}
	for (int i = 0; i < RT_N; i++) {
		const uint8_t *o = rte_pktmbuf_mtod(enc[i], const uint8_t *);

		assert_int_equal(o[9], udp ? 17 : 50);
		assert_int_equal(rte_raw_cksum(o, 20), 0xffff);
		assert_int_equal((o[2] << 8) | o[3], rte_pktmbuf_data_len(enc[i]));
		sas[i] = in_sa;
	}
	if (x == ESP_XFORM_AES_CBC_128_HMAC_SHA256 || x == ESP_XFORM_AES_CBC_256_HMAC_SHA256) {
		/* CBC IVs: never repeated (and never the sequence number in clear). */
		uint16_t ivo = (uint16_t)(esp_sa_outer_hdr_len(out_sa) + 8);

		for (int i = 0; i < RT_N; i++) {
			const uint8_t *a = rte_pktmbuf_mtod_offset(enc[i], const uint8_t *, ivo);

			assert_false(a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0);
			for (int j = 0; j < i; j++)
				assert_memory_not_equal(a,
					rte_pktmbuf_mtod_offset(enc[j], const uint8_t *, ivo), 16);
		}
	}
	if (oop_in) {
		r = esp_inb_oop(ctx, enc, sas, dec, RT_N, mp, reasons);
		assert_int_equal(r, RT_N);
		for (int i = 0; i < RT_N; i++)
			rte_pktmbuf_free(enc[i]);
	} else {
		r = esp_inb(ctx, enc, sas, RT_N, reasons);
		assert_int_equal(r, RT_N);
		memcpy(dec, enc, sizeof(dec));
	}
	for (int i = 0; i < RT_N; i++) {
		assert_int_equal(rte_pktmbuf_data_len(dec[i]), len[i]);
		assert_int_equal(rte_pktmbuf_pkt_len(dec[i]), len[i]);
		assert_memory_equal(rte_pktmbuf_mtod(dec[i], void *), ref[i], len[i]);
		rte_pktmbuf_free(dec[i]);
		free(ref[i]);
	}
	{
		struct esp_sa_stats so, si;

		esp_sa_get_stats(out_sa, &so);
		esp_sa_get_stats(in_sa, &si);
		assert_int_equal(so.packets, RT_N);
		assert_int_equal(si.packets, RT_N);
		assert_int_equal(so.bytes, si.bytes);
		assert_int_equal(so.seq, RT_N);
		assert_int_equal(si.seq, RT_N);
	}
	esp_sa_destroy(out_sa);
	esp_sa_destroy(in_sa);
	assert_pool_full();
}

static void test_roundtrip_all(void **state)
{
	(void)state;
	for (int x = 0; x < ESP_XFORM_MAX; x++)
		for (int opt = 0; opt < 16; opt++)
			roundtrip((enum esp_xform)x, opt & 1, opt & 2, opt & 4, opt & 8);
}

/* ---- known answers ------------------------------------------------------- */

/* draft-mcgrew-gcm-test-01 section 4, vectors with 64-bit (ESN) sequence numbers. */
struct gcm_kat {
	const char *key, *salt;
	uint32_t spi;
	uint64_t seq;
	const char *iv, *ctag, *plain;
};

static const struct gcm_kat gcm_kats[] = {
	{ "4c80cdefbb5d10da906ac73c3613a634", "2e443b68", 0x00004321, 0x8765432100000000ull,
		"4956ed7e3b244cfe",
		"fecf537e729d5b07dc30df528dd22b768d1b98736696a6fd348509fa13ceac34"
		"cfa2436f14a3f3cf65925bf1f4a13c5d15b21e1884f5ff6247aeabb786b93bce"
		"61bc17d768fd9732459018148f6cbe722fd04796562dfdb4",
		"45000048699a000080114db7c0a80102c0a801010a9bf15638d3010000010000"
		"00000000045f736970045f756470037369700963796265726369747902646b00"
		"0021000101020201" },
	{ "3de09874b388e6491988d0c3607eae1f", "57690e43", 0x42f67e3f, 0x1010101010101010ull,
		"4e280000a2fca1a3",
		"fba2caa4853cf9f0f22cb10d86dd83b0fec75691cf1a04b00d1138ec9c357917"
		"65acbd8701ad79845bf9fe3fba487bc91755e6662b4c8d0d1f5e22739530320a"
		"e0d731cc978ecafaeae88f00e80d6e48",
		"4500003c99c300008001cb7c40679318010101010800085c0200430061626364"
		"65666768696a6b6c6d6e6f7071727374757677616263646566676869"
		"01020201" },
	{ "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "73616c74",
		0x17405e67, 0x156f3126dd0db99bull, "616e640169766563",
		"f2d69ecdbd5a0d5b8d5ef38bad4da58d1f278fde98ef67549d524a3018d9a57f"
		"f4d3a31ce673119e451626c2415771e3b7eebca614c89b35",
		"45080028732c00004006e9f90a0106120a01038f06b88023dd6bafbecb712602"
		"50101f646d540001" },
};

/* Outer IPv4 + raw ESP bytes into a fresh mbuf. */
static struct rte_mbuf *mk_esp_pkt(const uint8_t *esp, uint16_t esp_len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct esp_outer_hdr oh = { .src = T_DST, .dst = T_SRC, .ttl = 64, .df = true };
	uint8_t *p;

	assert_non_null(m);
	p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)(20 + esp_len));
	assert_non_null(p);
	esp_outer_hdr_write(p, &oh, esp_len, 0);
	memcpy(p + 20, esp, esp_len);
	return m;
}

static void test_kat_gcm(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(gcm_kats) / sizeof(gcm_kats[0]); k++) {
		const struct gcm_kat *t = &gcm_kats[k];
		uint8_t esp[256], plain[128], key[32];
		struct esp_sa_params p;
		struct esp_sa *sa;
		struct rte_mbuf *m;
		uint8_t reason;
		size_t klen = hex2bin(t->key, key, sizeof(key));
		size_t ctl, pl;
		uint32_t v;

		sa_params(&p, klen == 16 ? ESP_XFORM_AES_GCM_128 : ESP_XFORM_AES_GCM_256,
			ESP_DIR_INBOUND, true, false, t->spi);
		memcpy(p.cipher_key, key, klen);
		hex2bin(t->salt, p.salt, 4);
		sa = esp_sa_create(&p, SOCKET_ID_ANY);
		assert_non_null(sa);
		esp_sa_test_set_seq(sa, t->seq - 1);

		v = rte_cpu_to_be_32(t->spi);
		memcpy(esp, &v, 4);
		v = rte_cpu_to_be_32((uint32_t)t->seq);
		memcpy(esp + 4, &v, 4);
		hex2bin(t->iv, esp + 8, 8);
		ctl = hex2bin(t->ctag, esp + 16, sizeof(esp) - 16);
		pl = hex2bin(t->plain, plain, sizeof(plain));
		assert_int_equal(ctl, pl + 16);

		/* One flipped ICV bit first: rejected, window untouched. */
		esp[16 + ctl - 1] ^= 1;
		m = mk_esp_pkt(esp, (uint16_t)(16 + ctl));
		assert_int_equal(esp_inb(ctx, &m, &sa, 1, &reason), 0);
		assert_int_equal(reason, ESP_DROP_BAD_ICV);
		rte_pktmbuf_free(m);
		esp[16 + ctl - 1] ^= 1;

		/* The vectors are transport-style (next header != 4): authentic, then
		 * refused by the tunnel-mode next-header check; plaintext left in place. */
		m = mk_esp_pkt(esp, (uint16_t)(16 + ctl));
		assert_int_equal(esp_inb(ctx, &m, &sa, 1, &reason), 0);
		assert_int_equal(
			reason, plain[pl - 1] == 4 ? ESP_DROP_BAD_INNER : ESP_DROP_BAD_NEXT_HDR);
		assert_memory_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 20 + 16), plain, pl);
		rte_pktmbuf_free(m);
		{
			struct esp_sa_stats st;

			esp_sa_get_stats(sa, &st);
			assert_int_equal(st.seq, t->seq); /* window moved: ICV was good */
			assert_int_equal(st.drops[ESP_DROP_BAD_ICV], 1);
		}
		esp_sa_destroy(sa);
	}
	assert_pool_full();
}

/* RFC 4231 test cases 1-5, HMAC-SHA-256 truncated to 128 bits (RFC 4868). */
static void test_kat_hmac(void **state)
{
	static const struct {
		const char *key;
		const char *data;
		const char *tag;
	} v[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
			"b0344c61d8db38535ca8afceaf0bf12b" },
		{ "4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
			"5bdcc146bf60754e6a042426089575c7" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
			"dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
			"dddddddddddddddddddddddddddddddd",
			"773ea91e36800e46854db8ebd09181a7" },
		{ "0102030405060708090a0b0c0d0e0f10111213141516171819",
			"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
			"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
			"82558a389a443c0ea4cc819899f2083a" },
		{ "0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
			"546573742057697468205472756e636174696f6e",
			"a3b6167473100ee06e0c796c2955552b" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct esp_sa_params p;
		struct esp_sa *sa;
		uint8_t data[128], want[16], got[16];
		size_t dl;

		sa_params(
			&p, ESP_XFORM_AES_CBC_128_HMAC_SHA256, ESP_DIR_OUTBOUND, false, false, 300);
		/* HMAC zero-pads keys shorter than the block: a 32-byte field is the same key. */
		memset(p.auth_key, 0, sizeof(p.auth_key));
		hex2bin(v[i].key, p.auth_key, sizeof(p.auth_key));
		dl = hex2bin(v[i].data, data, sizeof(data));
		hex2bin(v[i].tag, want, sizeof(want));
		sa = esp_sa_create(&p, SOCKET_ID_ANY);
		assert_non_null(sa);
		assert_int_equal(esp_test_hmac(ctx, sa, data, (uint32_t)dl, got), 0);
		assert_memory_equal(got, want, 16);
		esp_sa_destroy(sa);
	}
}

/* ---- bad input: every one dropped with its own counter --------------------- */

/* Expect one packet to be refused with `reason`, counted once per lcore. */
static void expect_drop(struct rte_mbuf *m, struct esp_sa *sa, unsigned int reason)
{
	uint64_t before = ctx_drop(reason);
	uint8_t got = 0xee;

	assert_int_equal(esp_inb(ctx, &m, &sa, 1, &got), 0);
	if (got != reason)
		fail_msg("want %s got %s", esp_drop_reason_name(reason), esp_drop_reason_name(got));
	assert_int_equal(ctx_drop(reason), before + 1);
	rte_pktmbuf_free(m);
}

/* A valid ESP packet from the outbound SA. */
static struct rte_mbuf *enc_one(struct esp_sa *out_sa, uint16_t plen)
{
	struct rte_mbuf *m = make_inner(mp, plen, 0);
	uint8_t reason;

	assert_non_null(m);
	assert_int_equal(esp_outb_inplace(ctx, out_sa, &m, 1, &reason), 1);
	return m;
}

static struct rte_mbuf *clone_bytes(const struct rte_mbuf *src)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint16_t len = rte_pktmbuf_data_len(src);

	assert_non_null(m);
	memcpy(rte_pktmbuf_append(m, len), rte_pktmbuf_mtod(src, const void *), len);
	return m;
}

static void fix_outer(struct rte_mbuf *m, uint16_t tl)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)p;

	ip->total_length = rte_cpu_to_be_16(tl);
	ip->hdr_checksum = 0;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (ip->next_proto_id == 17)
		((struct rte_udp_hdr *)(p + 20))->dgram_len = rte_cpu_to_be_16((uint16_t)(tl - 20));
}

static void bad_outer_cases(enum esp_xform x)
{
	struct esp_sa *o = mk_sa(x, ESP_DIR_OUTBOUND, false, false);
	struct esp_sa *in = mk_sa(x, ESP_DIR_INBOUND, false, false);
	struct esp_sa *ou = mk_sa(x, ESP_DIR_OUTBOUND, false, true);
	struct esp_sa *iu = mk_sa(x, ESP_DIR_INBOUND, false, true);
	struct rte_mbuf *good = enc_one(o, 33), *goodu = enc_one(ou, 33), *m;
	uint16_t len = rte_pktmbuf_data_len(good);
	uint64_t icv0;
	uint8_t *p;

	/* Truncated at every length, IP length left alone. */
	for (uint16_t l = 0; l < len; l++) {
		m = clone_bytes(good);
		rte_pktmbuf_trim(m, (uint16_t)(len - l));
		expect_drop(m, in, ESP_DROP_TRUNCATED);
	}
	/* Truncated with consistent IP length: refused at the first broken boundary. */
	for (uint16_t l = 20; l < len; l++) {
		unsigned int want;
		uint16_t esp_len = (uint16_t)(l - 20);
		uint16_t iv = (x <= ESP_XFORM_AES_GCM_256) ? 8 : 16, al = iv == 8 ? 4 : 16;

		m = clone_bytes(good);
		rte_pktmbuf_trim(m, (uint16_t)(len - l));
		fix_outer(m, l);
		if (esp_len < 8 + iv + al + 16)
			want = ESP_DROP_TRUNCATED;
		else if ((esp_len - 8 - iv - 16) % al != 0)
			want = ESP_DROP_BAD_LENGTH;
		else
			want = ESP_DROP_BAD_ICV;
		expect_drop(m, in, want);
	}
	/* One bit flipped anywhere after the SPI: ICV (or sequence number 0: too old). */
	icv0 = sa_drop(in, ESP_DROP_BAD_ICV);
	for (uint32_t bit = (20 + 4) * 8; bit < len * 8u; bit++) {
		m = clone_bytes(good);
		p = rte_pktmbuf_mtod(m, uint8_t *);
		p[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		expect_drop(m, in, bit == (20 + 7) * 8 ? ESP_DROP_TOO_OLD : ESP_DROP_BAD_ICV);
	}
	assert_int_equal(sa_drop(in, ESP_DROP_BAD_ICV), icv0 + (len - 24) * 8u - 1);
	/* Outer header faults. */
	m = clone_bytes(good);
	rte_pktmbuf_mtod(m, uint8_t *)[0] = 0x65; /* version 6 */
	expect_drop(m, in, ESP_DROP_BAD_OUTER_IP);
	m = clone_bytes(good);
	rte_pktmbuf_mtod(m, uint8_t *)[10] ^= 0x40; /* checksum */
	expect_drop(m, in, ESP_DROP_BAD_OUTER_IP);
	m = clone_bytes(good);
	rte_pktmbuf_mtod(m, uint8_t *)[6] = 0x20; /* MF */
	fix_outer(m, len);
	expect_drop(m, in, ESP_DROP_BAD_OUTER_IP);
	m = clone_bytes(good);
	fix_outer(m, 19); /* total length < header */
	expect_drop(m, in, ESP_DROP_BAD_OUTER_IP);
	m = clone_bytes(good);
	rte_pktmbuf_mtod(m, uint8_t *)[9] = 6; /* TCP */
	fix_outer(m, len);
	expect_drop(m, in, ESP_DROP_NOT_ESP);
	/* SA faults. */
	expect_drop(clone_bytes(good), NULL, ESP_DROP_NO_SA);
	expect_drop(clone_bytes(good), o, ESP_DROP_SA_MISMATCH); /* outbound SA */
	m = clone_bytes(good);
	rte_pktmbuf_mtod(m, uint8_t *)[20] ^= 0x80; /* other SPI */
	expect_drop(m, in, ESP_DROP_SA_MISMATCH);
	expect_drop(clone_bytes(good), iu, ESP_DROP_SA_MISMATCH); /* plain ESP to a UDP SA */
	expect_drop(clone_bytes(goodu), in, ESP_DROP_BAD_UDP);	  /* UDP to a plain SA */
	m = clone_bytes(goodu);
	((struct rte_udp_hdr *)(rte_pktmbuf_mtod(m, uint8_t *) + 20))->dgram_len ^= 0x0100;
	expect_drop(m, iu, ESP_DROP_BAD_UDP);
	m = clone_bytes(goodu);
	((struct rte_udp_hdr *)(rte_pktmbuf_mtod(m, uint8_t *) + 20))->dst_port ^= 0x0100;
	expect_drop(m, iu, ESP_DROP_BAD_UDP);
	m = clone_bytes(goodu);
	memset(rte_pktmbuf_mtod(m, uint8_t *) + 28, 0, 4); /* non-ESP marker */
	expect_drop(m, iu, ESP_DROP_SA_MISMATCH);
	m = clone_bytes(goodu);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - 27));
	fix_outer(m, 27);
	expect_drop(m, iu, ESP_DROP_TRUNCATED);
	/* Multi-segment. */
	m = clone_bytes(good);
	{
		struct rte_mbuf *seg = rte_pktmbuf_alloc(mp);

		assert_non_null(seg);
		rte_pktmbuf_append(seg, 1);
		assert_int_equal(rte_pktmbuf_chain(m, seg), 0);
	}
	expect_drop(m, in, ESP_DROP_MULTISEG);
	/* Replay: accepted once, then replayed; then too old. */
	m = clone_bytes(good);
	{
		uint8_t r;

		assert_int_equal(esp_inb(ctx, &m, &in, 1, &r), 1);
		rte_pktmbuf_free(m);
	}
	expect_drop(clone_bytes(good), in, ESP_DROP_REPLAYED);
	esp_sa_test_set_seq(in, 5000);
	expect_drop(clone_bytes(good), in, ESP_DROP_TOO_OLD);
	/* Expired SA. */
	esp_sa_expire(in);
	expect_drop(clone_bytes(good), in, ESP_DROP_SA_EXPIRED);

	rte_pktmbuf_free(good);
	rte_pktmbuf_free(goodu);
	esp_sa_destroy(o);
	esp_sa_destroy(in);
	esp_sa_destroy(ou);
	esp_sa_destroy(iu);
	assert_pool_full();
}

static void test_bad_outer(void **state)
{
	(void)state;
	for (int x = 0; x < ESP_XFORM_MAX; x++)
		bad_outer_cases((enum esp_xform)x);
}

/*
 * Authentic packets with bad contents need an independent encryptor: OpenSSL
 * AES-128-GCM, RFC 4106 framing (nonce = salt || IV, AAD = SPI || seq).
 */
static struct rte_mbuf *craft_gcm(
	const struct esp_sa_params *p, uint32_t seq, const uint8_t *pt, int pt_len)
{
	uint8_t esp[2048], nonce[12], aad[8];
	uint32_t v;
	int outl = 0, fl = 0;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();

	assert_non_null(c);
	v = rte_cpu_to_be_32(p->spi);
	memcpy(esp, &v, 4);
	v = rte_cpu_to_be_32(seq);
	memcpy(esp + 4, &v, 4);
	memset(esp + 8, 0xa5, 8);
	memcpy(nonce, p->salt, 4);
	memcpy(nonce + 4, esp + 8, 8);
	memcpy(aad, esp, 8);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_128_gcm(), NULL, NULL, NULL), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, 12, NULL), 1);
	assert_int_equal(EVP_EncryptInit_ex(c, NULL, NULL, p->cipher_key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &outl, aad, 8), 1);
	assert_int_equal(EVP_EncryptUpdate(c, esp + 16, &outl, pt, pt_len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, esp + 16 + outl, &fl), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, esp + 16 + pt_len), 1);
	EVP_CIPHER_CTX_free(c);
	return mk_esp_pkt(esp, (uint16_t)(16 + pt_len + 16));
}

static void test_bad_payload(void **state)
{
	struct esp_sa_params p;
	struct esp_sa *in;
	uint8_t pt[64];
	struct rte_mbuf *m = make_inner(mp, 4, 0); /* 32-byte inner */
	uint32_t seq = 1;

	(void)state;
	memcpy(pt, rte_pktmbuf_mtod(m, void *), 32);
	rte_pktmbuf_free(m);
	sa_params(&p, ESP_XFORM_AES_GCM_128, ESP_DIR_INBOUND, false, false, 0x777);
	in = esp_sa_create(&p, SOCKET_ID_ANY);
	assert_non_null(in);

	/* The independent encryptor's well-formed packet is accepted (sanity). */
	memcpy(pt + 32, "\x01\x02\x02\x04", 4);
	m = craft_gcm(&p, seq++, pt, 36);
	{
		uint8_t r;

		assert_int_equal(esp_inb(ctx, &m, &in, 1, &r), 1);
		assert_int_equal(rte_pktmbuf_data_len(m), 32);
		assert_memory_equal(rte_pktmbuf_mtod(m, void *), pt, 32);
		rte_pktmbuf_free(m);
	}
	memcpy(pt + 32, "\x01\x03\x02\x04", 4); /* pad bytes not 1, 2 */
	expect_drop(craft_gcm(&p, seq++, pt, 36), in, ESP_DROP_BAD_PADDING);
	memcpy(pt + 32, "\x01\x02\x23\x04", 4); /* pad length beyond the payload */
	expect_drop(craft_gcm(&p, seq++, pt, 36), in, ESP_DROP_BAD_PADDING);
	memcpy(pt + 32, "\x01\x02\x02\x06", 4); /* next header TCP */
	expect_drop(craft_gcm(&p, seq++, pt, 36), in, ESP_DROP_BAD_NEXT_HDR);
	memcpy(pt + 32, "\x01\x02\x02\x3b", 4); /* dummy packet */
	expect_drop(craft_gcm(&p, seq++, pt, 36), in, ESP_DROP_DUMMY);
	memcpy(pt + 32, "\x01\x02\x02\x04", 4);
	pt[0] = 0x60; /* inner IPv6 */
	expect_drop(craft_gcm(&p, seq++, pt, 36), in, ESP_DROP_BAD_INNER);
	pt[0] = 0x45;
	pt[3] = 33; /* inner total length 33 > 32 bytes carried */
	expect_drop(craft_gcm(&p, seq++, pt, 36), in, ESP_DROP_BAD_INNER);
	pt[3] = 32;
	/* Inner shorter than an IPv4 header: 2 bytes + pad 0 + trailer. */
	memcpy(pt + 2, "\x00\x04", 2);
	expect_drop(craft_gcm(&p, seq++, pt, 4), in, ESP_DROP_BAD_INNER);
	assert_int_equal(sa_drop(in, ESP_DROP_BAD_PADDING), 2);
	assert_int_equal(sa_drop(in, ESP_DROP_BAD_INNER), 3);
	esp_sa_destroy(in);
	assert_pool_full();
}

/* ---- outbound faults -------------------------------------------------------- */

static void test_outbound_faults(void **state)
{
	struct esp_sa *o = mk_sa(ESP_XFORM_AES_CBC_128_HMAC_SHA256, ESP_DIR_OUTBOUND, false, true);
	struct esp_sa *in = mk_sa(ESP_XFORM_AES_CBC_128_HMAC_SHA256, ESP_DIR_INBOUND, false, true);
	struct rte_mempool *tiny;
	struct rte_mbuf *m, *held, *out;
	uint8_t r;

	(void)state;
	m = make_inner(mp, 10, 0);
	rte_pktmbuf_mtod(m, uint8_t *)[0] = 0x60; /* not IPv4 */
	assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), 0);
	assert_int_equal(r, ESP_DROP_BAD_INNER);
	rte_pktmbuf_free(m);
	m = make_inner(mp, 10, 0);
	rte_pktmbuf_trim(m, 1); /* IP total length > data */
	assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), 0);
	assert_int_equal(r, ESP_DROP_BAD_INNER);
	rte_pktmbuf_free(m);
	m = make_inner(mp, 10, 0);
	rte_pktmbuf_adj(m, 0);
	m->data_off = 10; /* too little headroom: move the packet to the front */
	memmove(rte_pktmbuf_mtod(m, uint8_t *), (uint8_t *)m->buf_addr + RTE_PKTMBUF_HEADROOM, 38);
	assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), 0);
	assert_int_equal(r, ESP_DROP_NO_ROOM);
	rte_pktmbuf_free(m);
	m = make_inner(mp, 10, 0);
	held = make_inner(mp, 10, 0);
	assert_int_equal(rte_pktmbuf_chain(m, held), 0);
	assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), 0);
	assert_int_equal(r, ESP_DROP_MULTISEG);
	rte_pktmbuf_free(m);
	/* Out of place from an empty pool. */
	tiny = rte_pktmbuf_pool_create(
		"esp_tiny", 1, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	assert_non_null(tiny);
	held = rte_pktmbuf_alloc(tiny);
	m = make_inner(mp, 10, 0);
	assert_int_equal(esp_outb_oop(ctx, o, &m, &out, 1, tiny, &r), 0);
	assert_int_equal(r, ESP_DROP_NO_MBUF);
	assert_null(out);
	/* ... and into a pool whose buffers are too small for the result. */
	rte_pktmbuf_free(held);
	rte_mempool_free(tiny);
	tiny = rte_pktmbuf_pool_create(
		"esp_tiny2", 3, 0, 0, 64 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	assert_non_null(tiny);
	assert_int_equal(esp_outb_oop(ctx, o, &m, &out, 1, tiny, &r), 0);
	assert_int_equal(r, ESP_DROP_NO_ROOM);
	assert_int_equal(rte_mempool_avail_count(tiny), 3);
	rte_mempool_free(tiny);
	rte_pktmbuf_free(m);
	assert_int_equal(sa_drop(o, ESP_DROP_BAD_INNER), 2);
	assert_int_equal(sa_drop(o, ESP_DROP_NO_MBUF), 1);
	/* Wrong direction. */
	m = make_inner(mp, 10, 0);
	assert_int_equal(esp_outb_inplace(ctx, in, &m, 1, &r), 0);
	assert_int_equal(r, ESP_DROP_SA_MISMATCH);
	rte_pktmbuf_free(m);
	esp_sa_destroy(o);
	esp_sa_destroy(in);
	assert_pool_full();
}

/* ---- sequence numbers, lifetimes ------------------------------------------ */

static void seq_wrap(bool esn)
{
	struct esp_sa *o = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, esn, false);
	struct rte_mbuf *m[4];
	uint8_t r[4];
	struct esp_event ev[8];
	uint64_t last = esn ? UINT64_MAX : UINT32_MAX;
	uint32_t wire;
	unsigned int n, flags = 0;

	esp_sa_test_set_seq(o, last - 2);
	for (int i = 0; i < 4; i++)
		m[i] = make_inner(mp, (uint16_t)i, 0);
	assert_int_equal(esp_outb_inplace(ctx, o, m, 4, r), 2);
	assert_int_equal(r[2], ESP_DROP_SEQ_EXHAUSTED);
	assert_int_equal(r[3], ESP_DROP_SEQ_EXHAUSTED);
	memcpy(&wire, rte_pktmbuf_mtod_offset(m[1], uint8_t *, 24), 4);
	assert_int_equal(rte_be_to_cpu_32(wire), 0xffffffffu); /* the last number, never 0 */
	n = esp_ctx_take_events(ctx, ev, 8);
	for (unsigned int i = 0; i < n; i++)
		flags |= ev[i].flags;
	assert_true(flags & ESP_EVENT_SEQ_EXHAUSTED);
	assert_true(flags & ESP_EVENT_SEQ_SOFT);
	for (int i = 0; i < 4; i++)
		rte_pktmbuf_free(m[i]);
	m[0] = make_inner(mp, 1, 0);
	assert_int_equal(esp_outb_inplace(ctx, o, m, 1, r), 0);
	assert_int_equal(r[0], ESP_DROP_SA_EXPIRED);
	rte_pktmbuf_free(m[0]);
	assert_int_equal(esp_ctx_take_events(ctx, ev, 8), 0); /* raised once */
	esp_sa_destroy(o);
}

static void test_seq_wrap(void **state)
{
	(void)state;
	seq_wrap(false);
	seq_wrap(true);
	assert_pool_full();
}

/* ESN across 2^32 end to end, for both transform families. */
static void test_esn_rollover(void **state)
{
	(void)state;
	for (int x = 0; x < ESP_XFORM_MAX; x++) {
		struct esp_sa *o = mk_sa((enum esp_xform)x, ESP_DIR_OUTBOUND, true, false);
		struct esp_sa *in = mk_sa((enum esp_xform)x, ESP_DIR_INBOUND, true, false);
		struct rte_mbuf *m[3], *dup;
		struct esp_sa *sas[3] = { in, in, in };
		uint8_t r[3];

		esp_sa_test_set_seq(o, 0xfffffffeull);
		esp_sa_test_set_seq(in, 0xfffffff0ull);
		for (int i = 0; i < 3; i++)
			m[i] = make_inner(mp, 20, 0);
		assert_int_equal(
			esp_outb_inplace(ctx, o, m, 3, r), 3); /* ...ff, 1_00000000, 1_01 */
		dup = clone_bytes(m[0]);
		assert_int_equal(esp_inb(ctx, m, sas, 3, r), 3);
		for (int i = 0; i < 3; i++)
			rte_pktmbuf_free(m[i]);
		expect_drop(dup, in, ESP_DROP_REPLAYED);
		{
			struct esp_sa_stats st;

			esp_sa_get_stats(in, &st);
			assert_int_equal(st.seq, 0x100000001ull);
		}
		esp_sa_destroy(o);
		esp_sa_destroy(in);
	}
	assert_pool_full();
}

static void test_lifetimes(void **state)
{
	struct esp_sa_params p;
	struct esp_sa *o, *in;
	struct esp_event ev[8];
	uint8_t r;
	uint32_t f;

	(void)state;
	sa_params(&p, ESP_XFORM_AES_GCM_256, ESP_DIR_OUTBOUND, false, false, 0x999);
	p.soft.packets = 3;
	p.hard.packets = 5;
	p.soft.seconds = 10;
	p.hard.seconds = 20;
	p.now_ms = 1000;
	p.cookie = 42;
	o = esp_sa_create(&p, SOCKET_ID_ANY);
	assert_non_null(o);
	for (int i = 1; i <= 6; i++) {
		struct rte_mbuf *m = make_inner(mp, 1, 0);
		unsigned int n;

		assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), i <= 5 ? 1 : 0);
		rte_pktmbuf_free(m);
		n = esp_ctx_take_events(ctx, ev, 8);
		if (i == 3 || i == 5) {
			assert_int_equal(n, 1);
			assert_int_equal(ev[0].cookie, 42);
			assert_int_equal(ev[0].spi, 0x999);
			assert_int_equal(ev[0].flags,
				i == 3 ? ESP_EVENT_SOFT_PACKETS : ESP_EVENT_HARD_PACKETS);
		} else {
			assert_int_equal(n, 0);
		}
	}
	assert_int_equal(r, ESP_DROP_SA_EXPIRED);
	esp_sa_destroy(o);

	/* Seconds, checked by the control thread on its clock. */
	sa_params(&p, ESP_XFORM_AES_GCM_128, ESP_DIR_INBOUND, false, false, 0x1234);
	p.soft.seconds = 10;
	p.hard.seconds = 20;
	p.soft.bytes = 100;
	p.now_ms = 1000;
	in = esp_sa_create(&p, SOCKET_ID_ANY);
	assert_non_null(in);
	assert_int_equal(esp_sa_check_time(in, 10999), 0);
	assert_int_equal(esp_sa_check_time(in, 11000), ESP_EVENT_SOFT_TIME);
	assert_int_equal(esp_sa_check_time(in, 12000), 0); /* once */
	f = esp_sa_check_time(in, 21000);
	assert_int_equal(f, ESP_EVENT_HARD_TIME);
	{
		struct esp_sa *o2 = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, false);

		expect_drop(enc_one(o2, 10), in, ESP_DROP_SA_EXPIRED);
		esp_sa_destroy(o2);
	}
	esp_sa_destroy(in);
	assert_pool_full();
}

static void test_inbound_bytes_lifetime(void **state)
{
	struct esp_sa_params p;
	struct esp_sa *in, *o = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, false);
	struct esp_event ev[8];
	uint8_t r;

	(void)state;
	sa_params(&p, ESP_XFORM_AES_GCM_128, ESP_DIR_INBOUND, false, false, 0x1234);
	p.soft.bytes = 100; /* inner bytes: 3 packets of 40 */
	in = esp_sa_create(&p, SOCKET_ID_ANY);
	for (int i = 0; i < 3; i++) {
		struct rte_mbuf *m = enc_one(o, 12);

		assert_int_equal(esp_inb(ctx, &m, &in, 1, &r), 1);
		rte_pktmbuf_free(m);
		assert_int_equal(esp_ctx_take_events(ctx, ev, 8), i == 2 ? 1 : 0);
	}
	assert_int_equal(ev[0].flags, ESP_EVENT_SOFT_BYTES);
	assert_int_equal(ev[0].dir, ESP_DIR_INBOUND);
	esp_sa_destroy(in);
	esp_sa_destroy(o);
	assert_pool_full();
}

/* ---- key wipe, shared buffers, bursts -------------------------------------- */

static void test_key_wipe(void **state)
{
	struct esp_sa_params p;
	uint8_t *mem = aligned_alloc(64, (esp_sa_size() + 63) & ~(size_t)63);
	size_t nz = 0;

	(void)state;
	assert_non_null(mem);
	sa_params(&p, ESP_XFORM_AES_CBC_256_HMAC_SHA256, ESP_DIR_OUTBOUND, true, false, 0x4444);
	assert_int_equal(esp_sa_init((struct esp_sa *)mem, &p), 0);
	for (size_t i = 0; i < esp_sa_size(); i++)
		nz += mem[i] != 0;
	assert_true(nz > 400); /* key schedules present */
	esp_sa_fini((struct esp_sa *)mem);
	for (size_t i = 0; i < esp_sa_size(); i++)
		assert_int_equal(mem[i], 0);
	free(mem);
	/* Bad parameters are refused. */
	p.spi = 255;
	assert_int_equal(esp_sa_init((struct esp_sa *)NULL, &p), -EINVAL);
	assert_null(esp_sa_create(&p, SOCKET_ID_ANY));
	p.spi = 256;
	p.replay_window = 32;
	assert_null(esp_sa_create(&p, SOCKET_ID_ANY));
	p.replay_window = 4097;
	assert_null(esp_sa_create(&p, SOCKET_ID_ANY));
	p.replay_window = 4096;
	p.xform = ESP_XFORM_MAX;
	assert_null(esp_sa_create(&p, SOCKET_ID_ANY));
}

/* Group mode: the received ciphertext is shared (refcount 2), decrypt out of place. */
static void test_inb_oop_shared(void **state)
{
	(void)state;
	for (int x = 0; x < ESP_XFORM_MAX; x++) {
		for (int esn = 0; esn < 2; esn++) {
			struct esp_sa *o = mk_sa((enum esp_xform)x, ESP_DIR_OUTBOUND, esn, false);
			struct esp_sa *in = mk_sa((enum esp_xform)x, ESP_DIR_INBOUND, esn, false);
			struct rte_mbuf *m = enc_one(o, 100), *out = NULL;
			uint16_t len = rte_pktmbuf_data_len(m);
			uint8_t copy[256], r;

			assert_true(len <= sizeof(copy));
			memcpy(copy, rte_pktmbuf_mtod(m, void *), len);
			rte_mbuf_refcnt_update(m, 1);
			assert_int_equal(esp_inb_oop(ctx, &m, &in, &out, 1, mp, &r), 1);
			assert_int_equal(rte_pktmbuf_data_len(m), len);
			assert_memory_equal(rte_pktmbuf_mtod(m, void *), copy, len);
			assert_int_equal(rte_mbuf_refcnt_read(m), 2);
			assert_int_equal(rte_pktmbuf_data_len(out), 20 + 8 + 100);
			assert_int_equal(rte_pktmbuf_mtod(out, uint8_t *)[0], 0x45);
			assert_true(rte_pktmbuf_headroom(out) >= RTE_PKTMBUF_HEADROOM);
			rte_pktmbuf_free(out);
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(m);
			esp_sa_destroy(o);
			esp_sa_destroy(in);
		}
	}
	assert_pool_full();
}

/* Bursts larger than ESP_MAX_BURST, failures spread: order kept, failures at the tail. */
static void test_burst_partition(void **state)
{
	enum { N = 150 };
	struct esp_sa *o = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, false);
	struct esp_sa *in = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_INBOUND, false, false);
	struct rte_mbuf *m[N];
	struct esp_sa *sas[N];
	uint8_t r[N];
	uint16_t ok;

	(void)state;
	for (int i = 0; i < N; i++) {
		m[i] = make_inner(mp, (uint16_t)i, 0);
		if (i % 3 == 0)
			rte_pktmbuf_mtod(m[i], uint8_t *)[0] = 0x60; /* bad */
	}
	ok = esp_outb_inplace(ctx, o, m, N, r);
	assert_int_equal(ok, N - 50);
	for (int i = 0; i < ok; i++) /* in order: sizes 1, 2, 4, 5, ... */
		assert_int_equal(rte_pktmbuf_data_len(m[i]),
			20 + 8 + 8 + ((20 + 8 + (i / 2 * 3 + 1 + i % 2) + 2 + 3) & ~3) + 16);
	for (int i = ok; i < N; i++) {
		assert_int_equal(r[i], ESP_DROP_BAD_INNER);
		assert_int_equal(rte_pktmbuf_data_len(m[i]), 28 + (i - ok) * 3);
		rte_pktmbuf_free(m[i]);
	}
	/* Inbound: every 4th packet gets no SA. */
	for (int i = 0; i < ok; i++)
		sas[i] = i % 4 == 0 ? NULL : in;
	{
		uint16_t ok2 = esp_inb(ctx, m, sas, ok, r);

		assert_int_equal(ok2, ok - 25);
		for (int i = 0; i < ok2; i++)
			assert_ptr_equal(sas[i], in);
		for (int i = ok2; i < ok; i++) {
			assert_int_equal(r[i], ESP_DROP_NO_SA);
			assert_null(sas[i]);
		}
		for (int i = 0; i < ok; i++)
			rte_pktmbuf_free(m[i]);
	}
	esp_sa_destroy(o);
	esp_sa_destroy(in);
	assert_pool_full();
}

/* Outer header contents: addresses, TTL, DF, DSCP copy and set, ports. */
static void test_outer_header(void **state)
{
	struct esp_sa_params p;
	struct esp_sa *o;
	struct rte_mbuf *m;
	const uint8_t *h;
	uint8_t r;

	(void)state;
	sa_params(&p, ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, true, 0x5555);
	p.ttl = 9;
	p.udp_sport = 4501;
	o = esp_sa_create(&p, SOCKET_ID_ANY);
	assert_int_equal(esp_sa_outer_hdr_len(o), 28);
	m = make_inner(mp, 5, 0xb9); /* DSCP 46, ECN 1 */
	assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), 1);
	h = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(h[1], 0xb9);
	assert_int_equal(h[6] & 0x40, 0x40);
	assert_int_equal(h[8], 9);
	assert_int_equal(rte_be_to_cpu_32(*(const uint32_t *)(h + 12)), T_SRC);
	assert_int_equal(rte_be_to_cpu_32(*(const uint32_t *)(h + 16)), T_DST);
	assert_int_equal((h[20] << 8) | h[21], 4501);
	assert_int_equal((h[22] << 8) | h[23], 4500);
	assert_int_equal((h[24] << 8) | h[25], rte_pktmbuf_data_len(m) - 20);
	assert_int_equal(rte_be_to_cpu_32(*(const uint32_t *)(h + 28)), 0x5555);
	rte_pktmbuf_free(m);
	esp_sa_destroy(o);
	p.dscp_mode = ESP_DSCP_SET;
	p.dscp = 10;
	p.udp_encap = false;
	o = esp_sa_create(&p, SOCKET_ID_ANY);
	assert_int_equal(esp_sa_outer_hdr_len(o), 20);
	m = make_inner(mp, 5, 0xb9);
	assert_int_equal(esp_outb_inplace(ctx, o, &m, 1, &r), 1);
	h = rte_pktmbuf_mtod(m, const uint8_t *);
	assert_int_equal(h[1], (10 << 2) | 1);
	assert_int_equal(h[9], 50);
	rte_pktmbuf_free(m);
	esp_sa_destroy(o);
	assert_string_equal(esp_drop_reason_name(ESP_DROP_BAD_ICV), "bad_icv");
	assert_string_equal(esp_drop_reason_name(999), "unknown");
	assert_pool_full();
}

/* SPI extraction for the caller's lookup: ESP, UDP-encapsulated, and refusals. */
static void test_pkt_spi(void **state)
{
	struct esp_sa *o = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, false);
	struct esp_sa *ou = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, true);
	struct rte_mbuf *m = enc_one(o, 10), *mu = enc_one(ou, 10), *c;
	uint32_t spi = 0;

	(void)state;
	assert_int_equal(esp_pkt_spi(m, 4500, &spi), 0);
	assert_int_equal(spi, 0x1234);
	spi = 0;
	assert_int_equal(esp_pkt_spi(mu, 4500, &spi), 0);
	assert_int_equal(spi, 0x1234);
	assert_int_equal(esp_pkt_spi(mu, 0, &spi), ESP_DROP_NOT_ESP);	 /* UDP not accepted */
	assert_int_equal(esp_pkt_spi(mu, 4501, &spi), ESP_DROP_NOT_ESP); /* other port */
	c = clone_bytes(mu);
	memset(rte_pktmbuf_mtod(c, uint8_t *) + 28, 0, 4);
	assert_int_equal(esp_pkt_spi(c, 4500, &spi), ESP_DROP_BAD_UDP); /* IKE marker */
	rte_pktmbuf_free(c);
	c = clone_bytes(m);
	rte_pktmbuf_trim(c, (uint16_t)(rte_pktmbuf_data_len(c) - 23));
	assert_int_equal(esp_pkt_spi(c, 4500, &spi), ESP_DROP_TRUNCATED);
	rte_pktmbuf_trim(c, 4);
	assert_int_equal(esp_pkt_spi(c, 4500, &spi), ESP_DROP_TRUNCATED);
	rte_pktmbuf_free(c);
	c = clone_bytes(m);
	rte_pktmbuf_mtod(c, uint8_t *)[0] = 0x46; /* IHL 6: options, 4 bytes later */
	assert_int_equal(esp_pkt_spi(c, 4500, &spi), 0);
	rte_pktmbuf_mtod(c, uint8_t *)[0] = 0x44; /* IHL 4 */
	assert_int_equal(esp_pkt_spi(c, 4500, &spi), ESP_DROP_BAD_OUTER_IP);
	rte_pktmbuf_mtod(c, uint8_t *)[0] = 0x45;
	rte_pktmbuf_mtod(c, uint8_t *)[9] = 6;
	assert_int_equal(esp_pkt_spi(c, 4500, &spi), ESP_DROP_NOT_ESP);
	rte_pktmbuf_free(c);
	/* A truncated packet handed with an outbound SA: counted per lcore only. */
	c = clone_bytes(m);
	rte_pktmbuf_trim(c, 5);
	expect_drop(c, o, ESP_DROP_TRUNCATED);
	assert_int_equal(sa_drop(o, ESP_DROP_TRUNCATED), 0);
	rte_pktmbuf_free(m);
	rte_pktmbuf_free(mu);
	esp_sa_destroy(o);
	esp_sa_destroy(ou);
	assert_pool_full();
}

/* Two lcores encrypt on one outbound SA: every sequence number used exactly once. */
#define SH_BURSTS 200
#define SH_N 32

struct shared_arg {
	struct esp_sa *sa;
	uint32_t seqs[SH_BURSTS * SH_N];
	unsigned int n;
	int err;
};

static int shared_worker(void *a)
{
	struct shared_arg *s = a;
	struct esp_ctx *c = esp_ctx_create(SOCKET_ID_ANY);

	if (c == NULL)
		return s->err = -1;
	for (int b = 0; b < SH_BURSTS; b++) {
		struct rte_mbuf *m[SH_N];
		uint8_t r[SH_N];

		for (int i = 0; i < SH_N; i++)
			m[i] = make_inner(mp, 8, 0);
		if (esp_outb_inplace(c, s->sa, m, SH_N, r) != SH_N)
			s->err = -2;
		for (int i = 0; i < SH_N; i++) {
			uint32_t v;

			memcpy(&v, rte_pktmbuf_mtod_offset(m[i], uint8_t *, 24), 4);
			s->seqs[s->n++] = rte_be_to_cpu_32(v);
			rte_pktmbuf_free(m[i]);
		}
	}
	esp_ctx_destroy(c);
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void test_shared_outbound_sa(void **state)
{
	struct esp_sa *o = mk_sa(ESP_XFORM_AES_GCM_128, ESP_DIR_OUTBOUND, false, false);
	static struct shared_arg a[2];
	static uint32_t all[2 * SH_BURSTS * SH_N];
	unsigned int w = rte_get_next_lcore(-1, 1, 0);
	struct esp_sa_stats st;

	(void)state;
	if (w >= RTE_MAX_LCORE)
		skip();
	memset(a, 0, sizeof(a));
	a[0].sa = a[1].sa = o;
	assert_int_equal(rte_eal_remote_launch(shared_worker, &a[1], w), 0);
	shared_worker(&a[0]);
	rte_eal_wait_lcore(w);
	assert_int_equal(a[0].err, 0);
	assert_int_equal(a[1].err, 0);
	memcpy(all, a[0].seqs, sizeof(a[0].seqs));
	memcpy(all + SH_BURSTS * SH_N, a[1].seqs, sizeof(a[1].seqs));
	qsort(all, 2 * SH_BURSTS * SH_N, sizeof(all[0]), cmp_u32);
	for (unsigned int i = 0; i < 2 * SH_BURSTS * SH_N; i++)
		assert_int_equal(all[i], i + 1);
	esp_sa_get_stats(o, &st);
	assert_int_equal(st.packets, 2 * SH_BURSTS * SH_N);
	assert_int_equal(st.seq, 2 * SH_BURSTS * SH_N);
	esp_sa_destroy(o);
	assert_pool_full();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kat_gcm),
		cmocka_unit_test(test_kat_hmac),
		cmocka_unit_test(test_roundtrip_all),
		cmocka_unit_test(test_bad_outer),
		cmocka_unit_test(test_bad_payload),
		cmocka_unit_test(test_outbound_faults),
		cmocka_unit_test(test_seq_wrap),
		cmocka_unit_test(test_esn_rollover),
		cmocka_unit_test(test_lifetimes),
		cmocka_unit_test(test_inbound_bytes_lifetime),
		cmocka_unit_test(test_key_wipe),
		cmocka_unit_test(test_inb_oop_shared),
		cmocka_unit_test(test_burst_partition),
		cmocka_unit_test(test_outer_header),
		cmocka_unit_test(test_pkt_spi),
		cmocka_unit_test(test_shared_outbound_sa),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
