/* SPDX-License-Identifier: BSD-3-Clause */
/* SA set-up (validation, key schedule, header template), lifetimes, counters. */

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <rte_malloc.h>

#include "esp_priv.h"
#include "esp_test.h"

#define HMAC_IPAD 0x36 /* RFC 2104 section 2 */
#define HMAC_OPAD 0x5c

void esp_sa_params_default(struct esp_sa_params *p)
{
	memset(p, 0, sizeof(*p));
	p->xform = ESP_XFORM_AES_GCM_128;
	p->replay_window = ESP_REPLAY_WIN_DEFAULT;
	p->ttl = 64;
	p->df = true;
	p->udp_sport = ESP_UDP_ENCAP_PORT;
	p->udp_dport = ESP_UDP_ENCAP_PORT;
}

size_t esp_sa_size(void)
{
	return sizeof(struct esp_sa);
}

static int check_params(const struct esp_sa_params *p)
{
	if (p->spi < ESP_SPI_MIN)
		return -EINVAL;
	if (p->dir != ESP_DIR_OUTBOUND && p->dir != ESP_DIR_INBOUND)
		return -EINVAL;
	if (esp_xform_key_len(p->xform) == 0)
		return -EINVAL;
	if (p->replay_window != 0 &&
		(p->replay_window < ESP_REPLAY_WIN_MIN || p->replay_window > ESP_REPLAY_WIN_MAX))
		return -EINVAL;
	if (p->dscp_mode != ESP_DSCP_COPY && p->dscp_mode != ESP_DSCP_SET)
		return -EINVAL;
	if (p->dscp > 63)
		return -EINVAL;
	if (p->dir == ESP_DIR_OUTBOUND && (p->tun_src == 0 || p->tun_dst == 0))
		return -EINVAL;
	return 0;
}

/* HMAC-SHA-256 inner/outer precomputation (RFC 2104), the form ipsec-mb wants. */
static void hmac_precompute(IMB_MGR *mgr, struct esp_sa *sa, const uint8_t *key)
{
	uint8_t blk[ESP_SHA256_BLOCK];

	memset(blk, HMAC_IPAD, sizeof(blk));
	for (unsigned int i = 0; i < ESP_HMAC_KEY_LEN; i++)
		blk[i] ^= key[i];
	IMB_SHA256_ONE_BLOCK(mgr, blk, sa->ipad_hash);
	memset(blk, HMAC_OPAD, sizeof(blk));
	for (unsigned int i = 0; i < ESP_HMAC_KEY_LEN; i++)
		blk[i] ^= key[i];
	IMB_SHA256_ONE_BLOCK(mgr, blk, sa->opad_hash);
	explicit_bzero(blk, sizeof(blk));
}

static int expand_keys(struct esp_sa *sa, const struct esp_sa_params *p)
{
	IMB_MGR *mgr = alloc_mb_mgr(0);
	uint8_t iv_key[16];
	uint8_t iv_dec[11 * 16];
	int ret = 0;

	if (mgr == NULL)
		return -ENOMEM;
	init_mb_mgr_auto(mgr, NULL);
	if (sa->is_gcm) {
		if (sa->key_len == 16)
			IMB_AES128_GCM_PRE(mgr, p->cipher_key, &sa->gcm_key);
		else
			IMB_AES256_GCM_PRE(mgr, p->cipher_key, &sa->gcm_key);
		memcpy(sa->salt, p->salt, sizeof(sa->salt));
	} else {
		if (sa->key_len == 16)
			IMB_AES_KEYEXP_128(mgr, p->cipher_key, sa->enc_keys, sa->dec_keys);
		else
			IMB_AES_KEYEXP_256(mgr, p->cipher_key, sa->enc_keys, sa->dec_keys);
		hmac_precompute(mgr, sa, p->auth_key);
		/* CBC IVs are E(iv_key, seq): unpredictable without iv_key (RFC 3602 s.2). */
		if (getrandom(iv_key, sizeof(iv_key), 0) != (ssize_t)sizeof(iv_key))
			ret = -EIO;
		else
			IMB_AES_KEYEXP_128(mgr, iv_key, sa->iv_enc_keys, iv_dec);
		explicit_bzero(iv_key, sizeof(iv_key));
		explicit_bzero(iv_dec, sizeof(iv_dec));
	}
	if (imb_get_errno(mgr) != 0)
		ret = -ENOTSUP;
	free_mb_mgr(mgr);
	return ret;
}

/* Template with TOS, total length, id, checksum (and UDP length) zero. */
static void hdr_template(struct esp_sa *sa)
{
	struct esp_outer_hdr oh = sa->outer;
	uint32_t sum = 0;

	oh.tos = 0;
	esp_outer_hdr_write(sa->hdr_tmpl, &oh, 0, 0);
	memset(sa->hdr_tmpl + 2, 0, 2);	 /* total length */
	memset(sa->hdr_tmpl + 10, 0, 2); /* checksum */
	if (oh.udp_encap)
		memset(sa->hdr_tmpl + 24, 0, 2); /* UDP length */
	for (unsigned int i = 0; i < ESP_IPV4_HDR_MIN; i += 2)
		sum += (uint32_t)(sa->hdr_tmpl[i] << 8 | sa->hdr_tmpl[i + 1]);
	sa->hdr_sum = sum;
}

int esp_sa_init(struct esp_sa *sa, const struct esp_sa_params *p)
{
	int ret;

	if (sa == NULL || p == NULL)
		return -EINVAL;
	ret = check_params(p);
	if (ret != 0)
		return ret;
	memset(sa, 0, sizeof(*sa));
	sa->spi = p->spi;
	sa->spi_be = __builtin_bswap32(p->spi);
	sa->dir = (uint8_t)p->dir;
	sa->xform = (uint8_t)p->xform;
	sa->is_gcm = p->xform == ESP_XFORM_AES_GCM_128 || p->xform == ESP_XFORM_AES_GCM_256;
	sa->esn = p->esn;
	sa->iv_len = sa->is_gcm ? ESP_GCM_IV_LEN : ESP_CBC_IV_LEN;
	sa->align = sa->is_gcm ? ESP_GCM_ALIGN : ESP_CBC_BLOCK;
	sa->key_len = (uint16_t)esp_xform_key_len(p->xform);
	sa->dscp_mode = (uint8_t)p->dscp_mode;
	sa->tos_set = (uint8_t)(p->dscp << 2);
	sa->seq_limit = p->esn ? UINT64_MAX : UINT32_MAX;
	sa->seq_soft = p->esn ? ESP_SEQ_SOFT_64 : ESP_SEQ_SOFT_32;
	sa->outer = (struct esp_outer_hdr){
		.src = p->tun_src,
		.dst = p->tun_dst,
		.tos = sa->tos_set,
		.ttl = p->ttl != 0 ? p->ttl : 64,
		.df = p->df,
		.udp_encap = p->udp_encap,
		.udp_sport = p->udp_sport != 0 ? p->udp_sport : ESP_UDP_ENCAP_PORT,
		.udp_dport = p->udp_dport != 0 ? p->udp_dport : ESP_UDP_ENCAP_PORT,
	};
	sa->outer_len = ESP_IPV4_HDR_MIN + (p->udp_encap ? ESP_UDP_HDR_LEN : 0);
	hdr_template(sa);
	sa->soft = p->soft;
	sa->hard = p->hard;
	sa->created_ms = p->now_ms;
	sa->cookie = p->cookie;
	replay_init(&sa->win, p->replay_window != 0 ? p->replay_window : ESP_REPLAY_WIN_DEFAULT);
	ret = expand_keys(sa, p);
	if (ret != 0)
		esp_sa_fini(sa);
	return ret;
}

void esp_sa_fini(struct esp_sa *sa)
{
	if (sa != NULL)
		explicit_bzero(sa, sizeof(*sa));
}

struct esp_sa *esp_sa_create(const struct esp_sa_params *params, int socket_id)
{
	struct esp_sa *sa = rte_zmalloc_socket("esp_sa", sizeof(*sa), 64, socket_id);
	int ret;

	if (sa == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ret = esp_sa_init(sa, params);
	if (ret != 0) {
		rte_free(sa);
		errno = -ret;
		return NULL;
	}
	return sa;
}

void esp_sa_destroy(struct esp_sa *sa)
{
	if (sa == NULL)
		return;
	esp_sa_fini(sa);
	rte_free(sa);
}

uint32_t esp_sa_spi(const struct esp_sa *sa)
{
	return sa->spi;
}

enum esp_dir esp_sa_dir(const struct esp_sa *sa)
{
	return (enum esp_dir)sa->dir;
}

uint64_t esp_sa_cookie(const struct esp_sa *sa)
{
	return sa->cookie;
}

uint16_t esp_sa_outer_hdr_len(const struct esp_sa *sa)
{
	return sa->outer_len;
}

void esp_sa_outer_hdr(const struct esp_sa *sa, struct esp_outer_hdr *hdr)
{
	*hdr = sa->outer;
}

int esp_sa_get_stats(const struct esp_sa *sa, struct esp_sa_stats *st)
{
	if (sa == NULL || st == NULL)
		return -EINVAL;
	/* Relaxed loads: counters are monotonic and read for display only. */
	st->packets = __atomic_load_n(&sa->packets, __ATOMIC_RELAXED);
	st->bytes = __atomic_load_n(&sa->bytes, __ATOMIC_RELAXED);
	for (unsigned int i = 0; i < ESP_DROP_MAX; i++)
		st->drops[i] = __atomic_load_n(&sa->drops[i], __ATOMIC_RELAXED);
	st->seq = sa->dir == ESP_DIR_OUTBOUND ? __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED)
					      : __atomic_load_n(&sa->win.top, __ATOMIC_RELAXED);
	st->lifetime_flags = __atomic_load_n(&sa->ev_flags, __ATOMIC_RELAXED);
	return 0;
}

static inline void counter_add(uint64_t *c, uint64_t n, bool atomic)
{
	if (atomic)
		__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
	else /* single writer: a plain add, stored whole so readers never see a torn value */
		__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

void esp_sa_count_drop(struct esp_sa *sa, unsigned int reason, bool atomic)
{
	counter_add(&sa->drops[reason], 1, atomic);
}

static uint32_t limit_flags(
	const struct esp_lifetime *lt, uint64_t pkts, uint64_t bytes, uint32_t fb, uint32_t fp)
{
	uint32_t f = 0;

	if (lt->bytes != 0 && bytes >= lt->bytes)
		f |= fb;
	if (lt->packets != 0 && pkts >= lt->packets)
		f |= fp;
	return f;
}

void esp_sa_account(
	struct esp_ctx *ctx, struct esp_sa *sa, uint64_t pkts, uint64_t bytes, bool atomic)
{
	uint64_t tp, tb;
	uint32_t f;

	if (pkts == 0)
		return;
	if (atomic) {
		tp = __atomic_add_fetch(&sa->packets, pkts, __ATOMIC_RELAXED);
		tb = __atomic_add_fetch(&sa->bytes, bytes, __ATOMIC_RELAXED);
	} else {
		counter_add(&sa->packets, pkts, false);
		counter_add(&sa->bytes, bytes, false);
		tp = sa->packets;
		tb = sa->bytes;
	}
	f = limit_flags(&sa->soft, tp, tb, ESP_EVENT_SOFT_BYTES, ESP_EVENT_SOFT_PACKETS) |
	    limit_flags(&sa->hard, tp, tb, ESP_EVENT_HARD_BYTES, ESP_EVENT_HARD_PACKETS);
	if (f != 0)
		esp_ctx_raise(ctx, sa, f);
}

void esp_sa_expire(struct esp_sa *sa)
{
	/* Relaxed: workers only need to see it eventually; no data depends on it. */
	__atomic_store_n(&sa->expired, 1, __ATOMIC_RELAXED);
}

uint32_t esp_sa_check_time(struct esp_sa *sa, uint64_t now_ms)
{
	uint64_t age_s = now_ms > sa->created_ms ? (now_ms - sa->created_ms) / 1000 : 0;
	uint32_t f = 0, old;

	if (sa->soft.seconds != 0 && age_s >= sa->soft.seconds)
		f |= ESP_EVENT_SOFT_TIME;
	if (sa->hard.seconds != 0 && age_s >= sa->hard.seconds)
		f |= ESP_EVENT_HARD_TIME;
	if (f == 0)
		return 0;
	old = __atomic_fetch_or(&sa->ev_flags, f, __ATOMIC_RELAXED);
	if (f & ESP_EVENT_HARD_TIME)
		esp_sa_expire(sa);
	return f & ~old;
}

void esp_sa_test_set_seq(struct esp_sa *sa, uint64_t seq)
{
	if (sa->dir == ESP_DIR_OUTBOUND) {
		__atomic_store_n(&sa->seq_out, seq, __ATOMIC_RELAXED);
	} else {
		replay_init(&sa->win, sa->win.size);
		sa->win.top = seq;
	}
}
