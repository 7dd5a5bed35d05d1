/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Outbound ESP, tunnel mode (RFC 4303 section 3.3), in place and out of place.
 *
 * Per chunk: reserve sequence numbers with one atomic CAS (and, for CBC,
 * compute the chunk's IVs with one job); then one pass that checks each inner
 * packet, places it, writes headers and trailer and submits one ipsec-mb job;
 * then collect statuses, count, move failures to the tail.
 */

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "esp_priv.h"

static const uint8_t zeros[ESP_MAX_BURST * 16];

/*
 * Outer header from the SA's template: only TOS, total length, id (and the
 * UDP length) vary, so the checksum is the precomputed sum plus those three
 * words (RFC 1071), instead of summing the header per packet.
 */
static inline void outer_write(
	const struct esp_sa *sa, uint8_t *h, uint8_t tos, uint16_t esp_len, uint16_t id)
{
	uint16_t tl = (uint16_t)(sa->outer_len + esp_len);
	uint32_t sum = sa->hdr_sum + tos + tl + id; /* TOS is the low byte of word 0 */
	uint16_t v;

	memcpy(h, sa->hdr_tmpl, 16);
	memcpy(h + 16, sa->hdr_tmpl + 16, 12); /* up to the UDP header's end */
	h[1] = tos;
	v = rte_cpu_to_be_16(tl);
	memcpy(h + 2, &v, 2);
	v = rte_cpu_to_be_16(id);
	memcpy(h + 4, &v, 2);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	v = rte_cpu_to_be_16((uint16_t)~sum);
	memcpy(h + 10, &v, 2);
	if (sa->outer_len > ESP_IPV4_HDR_MIN) {
		v = rte_cpu_to_be_16((uint16_t)(ESP_UDP_HDR_LEN + esp_len));
		memcpy(h + 24, &v, 2);
	}
}

/* Pass 1: the inner packet must be a plausible IPv4 packet in one segment. */
static uint8_t outb_check(const struct esp_sa *sa, struct rte_mbuf *m, struct esp_pkt_desc *d)
{
	const struct rte_ipv4_hdr *ip;
	uint32_t len, tl, ihl;

	if (m->nb_segs != 1)
		return ESP_DROP_MULTISEG;
	len = rte_pktmbuf_data_len(m);
	if (len < ESP_IPV4_HDR_MIN)
		return ESP_DROP_BAD_INNER;
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	tl = rte_be_to_cpu_16(ip->total_length);
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if ((ip->version_ihl >> 4) != ESP_IPV4_VERSION || ihl < ESP_IPV4_HDR_MIN || tl < ihl ||
		tl > len)
		return ESP_DROP_BAD_INNER;
	d->inner_len = tl;
	/* RFC 4303 section 2.4: pad so that pad length and next header end aligned. */
	d->ct_len = (tl + ESP_TRAILER_LEN + sa->align - 1) & ~(uint32_t)(sa->align - 1);
	return ESP_OK_;
}

/* Sequence numbers for n packets: one CAS; fewer (or 0) near exhaustion. */
static uint16_t seq_reserve(struct esp_sa *sa, uint16_t n, uint64_t *first)
{
	uint64_t cur = __atomic_load_n(&sa->seq_out, __ATOMIC_RELAXED);
	uint64_t take;

	/* Relaxed: only uniqueness matters, which the CAS on this one word gives. */
	do {
		if (cur >= sa->seq_limit)
			return 0;
		take = sa->seq_limit - cur < n ? sa->seq_limit - cur : n;
	} while (!__atomic_compare_exchange_n(
		&sa->seq_out, &cur, cur + take, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	*first = cur + 1;
	return (uint16_t)take;
}

/* Trailer (RFC 4303 section 2.4-2.6): pad bytes 1, 2, 3, ..., pad length, next header. */
static inline void write_trailer(uint8_t *t, uint32_t pad)
{
	/* A byte loop: pad is 0..3 with GCM, 0..15 with CBC; cheaper than a memcpy call. */
	for (uint32_t k = 0; k < pad; k++)
		t[k] = (uint8_t)(k + 1);
	t[pad] = (uint8_t)pad;
	t[pad + 1] = ESP_NH_IPV4;
}

static inline uint8_t outer_tos(const struct esp_sa *sa, const uint8_t *inner)
{
	uint8_t tos = ((const struct rte_ipv4_hdr *)inner)->type_of_service;

	/* RFC 2983 / RFC 6040 normal mode: ECN copied; DSCP copied or set. */
	return sa->dscp_mode == ESP_DSCP_COPY ? tos : (uint8_t)(sa->tos_set | (tos & 3));
}

/*
 * Headers, trailer and the job for one packet. esp points at the ESP header in
 * the output, inner at the plaintext (same buffer in place, src mbuf otherwise).
 */
static void outb_build(
	struct esp_ctx *ctx, struct esp_sa *sa, uint16_t i, uint8_t *outer, uint8_t *inner)
{
	struct esp_pkt_desc *d = &ctx->desc[i];
	struct esp_job_scratch *s = &ctx->scr[i];
	uint8_t *esp = outer + sa->outer_len;
	uint8_t *iv = esp + ESP_HDR_LEN;
	uint8_t *ct = iv + sa->iv_len;
	uint8_t *icv = ct + d->ct_len;
	uint32_t seq_lo = rte_cpu_to_be_32((uint32_t)d->seq);
	uint32_t seq_hi = rte_cpu_to_be_32((uint32_t)(d->seq >> 32));
	uint64_t seq_be = rte_cpu_to_be_64(d->seq);
	IMB_JOB *job;

	outer_write(sa, outer, outer_tos(sa, inner),
		(uint16_t)(ESP_HDR_LEN + sa->iv_len + d->ct_len + ESP_ICV_LEN), (uint16_t)d->seq);
	memcpy(esp, &sa->spi_be, 4);
	memcpy(esp + 4, &seq_lo, 4);
	write_trailer(inner + d->inner_len, d->ct_len - d->inner_len - ESP_TRAILER_LEN);

	job = IMB_GET_NEXT_JOB(ctx->mgr);
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->key_len_in_bytes = sa->key_len;
	job->src = inner;
	job->dst = ct;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = d->ct_len;
	job->auth_tag_output = icv;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
	job->user_data = (void *)(uintptr_t)i;
	if (sa->is_gcm) {
		/* RFC 4106 section 3.1: the explicit IV is the 64-bit sequence number (unique). */
		memcpy(iv, &seq_be, 8);
		memcpy(s->nonce, sa->salt, ESP_GCM_SALT_LEN);
		memcpy(s->nonce + ESP_GCM_SALT_LEN, &seq_be, 8);
		/* RFC 4106 section 5: AAD = SPI || [seq hi] || seq lo. */
		memcpy(s->aad, &sa->spi_be, 4);
		if (sa->esn) {
			memcpy(s->aad + 4, &seq_hi, 4);
			memcpy(s->aad + 8, &seq_lo, 4);
		} else {
			memcpy(s->aad + 4, &seq_lo, 4);
		}
		job->cipher_mode = IMB_CIPHER_GCM;
		job->hash_alg = IMB_AUTH_AES_GMAC;
		job->enc_keys = &sa->gcm_key;
		job->dec_keys = &sa->gcm_key;
		job->iv = s->nonce;
		job->iv_len_in_bytes = ESP_GCM_NONCE_LEN;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes = d->ct_len;
		job->u.GCM.aad = s->aad;
		job->u.GCM.aad_len_in_bytes = sa->esn ? 12 : 8;
	} else {
		/* RFC 3602 section 2: unpredictable IV, prepared for the chunk by cbc_ivs(). */
		memcpy(iv, ctx->iv_ks + 16 * d->iv_idx, ESP_CBC_IV_LEN);
		/* RFC 4303 section 3.3.2.1: ESN high bits are authenticated after the trailer. */
		if (sa->esn)
			memcpy(icv, &seq_hi, 4);
		job->cipher_mode = IMB_CIPHER_CBC;
		job->hash_alg = IMB_AUTH_HMAC_SHA_256;
		job->enc_keys = sa->enc_keys;
		job->dec_keys = sa->dec_keys;
		job->iv = iv;
		job->iv_len_in_bytes = ESP_CBC_IV_LEN;
		/* Offsets are from src, possibly another buffer: unsigned wrap is intended. */
		job->hash_start_src_offset_in_bytes = (uint64_t)((uintptr_t)esp - (uintptr_t)inner);
		job->msg_len_to_hash_in_bytes =
			ESP_HDR_LEN + ESP_CBC_IV_LEN + d->ct_len + (sa->esn ? 4 : 0);
		job->u.HMAC._hashed_auth_key_xor_ipad = sa->ipad_hash;
		job->u.HMAC._hashed_auth_key_xor_opad = sa->opad_hash;
	}
	esp_job_submit(ctx);
}

/*
 * CBC IVs for n packets whose first sequence number is seq: one AES-128-CTR
 * job under the SA's random IV key over zeros, counter block (seq || 0), so
 * packet i gets AES(K_iv, seq || i): unique (seq never repeats) and
 * unpredictable without K_iv. One job per chunk instead of one call per packet.
 */
static int cbc_ivs(struct esp_ctx *ctx, const struct esp_sa *sa, uint64_t seq, uint16_t n)
{
	uint64_t ctr[2] = { rte_cpu_to_be_64(seq), 0 };
	IMB_JOB *job = IMB_GET_NEXT_JOB(ctx->mgr);

	job->cipher_mode = IMB_CIPHER_CNTR;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_CIPHER_HASH;
	job->hash_alg = IMB_AUTH_NULL;
	job->enc_keys = sa->iv_enc_keys;
	job->dec_keys = sa->iv_enc_keys;
	job->key_len_in_bytes = 16;
	job->src = zeros;
	job->dst = ctx->iv_ks;
	job->cipher_start_src_offset_in_bytes = 0;
	job->msg_len_to_cipher_in_bytes = (uint64_t)n * 16;
	job->iv = (const uint8_t *)ctr;
	job->iv_len_in_bytes = 16;
	job->user_data = NULL;
	/* Checked submission here: once per chunk, and the result must be complete now. */
	job = IMB_SUBMIT_JOB(ctx->mgr);
	if (job == NULL)
		job = IMB_FLUSH_JOB(ctx->mgr);
	return job != NULL && job->status == IMB_STATUS_COMPLETED ? 0 : -1;
}

/* Pass 2 (in place): grow the mbuf around the inner packet. */
static uint8_t outb_place_inplace(
	const struct esp_sa *sa, struct rte_mbuf *m, struct esp_pkt_desc *d, uint8_t **outer)
{
	uint16_t head = (uint16_t)(sa->outer_len + ESP_HDR_LEN + sa->iv_len);
	uint16_t tail = (uint16_t)(d->ct_len - d->inner_len + ESP_ICV_LEN);

	/* Drop Ethernet padding beyond the inner total length first. */
	if (unlikely(rte_pktmbuf_data_len(m) != d->inner_len))
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - d->inner_len));
	if (rte_pktmbuf_headroom(m) < head || rte_pktmbuf_tailroom(m) < tail)
		return ESP_DROP_NO_ROOM;
	*outer = (uint8_t *)rte_pktmbuf_prepend(m, head);
	rte_pktmbuf_append(m, tail);
	return ESP_OK_;
}

/* Pass 2 (out of place): room for the trailer in src, the whole packet in out. */
static uint8_t outb_place_oop(const struct esp_sa *sa, struct rte_mbuf *src, struct rte_mbuf *out,
	struct esp_pkt_desc *d, uint8_t **outer)
{
	uint32_t total = sa->outer_len + ESP_HDR_LEN + sa->iv_len + d->ct_len + ESP_ICV_LEN;
	uint32_t src_room = rte_pktmbuf_tailroom(src) + rte_pktmbuf_data_len(src) - d->inner_len;

	if (src_room < d->ct_len - d->inner_len || rte_pktmbuf_tailroom(out) < total)
		return ESP_DROP_NO_ROOM;
	*outer = (uint8_t *)rte_pktmbuf_append(out, (uint16_t)total);
	return ESP_OK_;
}

static void count_drop(struct esp_ctx *ctx, struct esp_sa *sa, uint8_t reason)
{
	ctx->drops[reason]++;
	esp_sa_count_drop(sa, reason, true);
}

static uint16_t outb_chunk(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf **pkts,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons)
{
	uint16_t n_seq = 0, ok;
	uint64_t seq = 0, bytes = 0;
	uint8_t pre = ESP_OK_;

	if (sa->dir != ESP_DIR_OUTBOUND)
		pre = ESP_DROP_SA_MISMATCH;
	else if (esp_sa_is_expired(sa))
		pre = ESP_DROP_SA_EXPIRED;
	if (pre == ESP_OK_) {
		/* One reservation for the whole chunk: a packet refused below leaves a
		 * gap in the sequence numbers, which receivers accept (RFC 4303 s.3.4.3). */
		n_seq = seq_reserve(sa, n, &seq);
		if (n_seq < n)
			esp_ctx_raise(ctx, sa, ESP_EVENT_SEQ_EXHAUSTED);
		if (n_seq != 0 && seq + n_seq - 1 >= sa->seq_soft)
			esp_ctx_raise(ctx, sa, ESP_EVENT_SEQ_SOFT);
		if (n_seq != 0 && !sa->is_gcm && cbc_ivs(ctx, sa, seq, n_seq) != 0)
			n_seq = 0; /* cannot happen with a valid job; fail closed */
	}
	/* Check, place, build and submit in one pass. */
	for (uint16_t i = 0; i < n; i++) {
		struct esp_pkt_desc *d = &ctx->desc[i];
		uint8_t *outer = NULL;

		d->out = NULL;
		d->status_ok = 0;
		if (pre != ESP_OK_) {
			d->reason = pre;
			continue;
		}
		if (i >= n_seq) {
			d->reason = ESP_DROP_SEQ_EXHAUSTED;
			continue;
		}
		d->reason = outb_check(sa, pkts[i], d);
		if (d->reason != ESP_OK_)
			continue;
		if (pool == NULL) {
			d->reason = outb_place_inplace(sa, pkts[i], d, &outer);
		} else {
			d->out = rte_pktmbuf_alloc(pool);
			d->reason = d->out == NULL ? ESP_DROP_NO_MBUF
						   : outb_place_oop(sa, pkts[i], d->out, d, &outer);
		}
		if (d->reason != ESP_OK_)
			continue;
		d->seq = seq + i;
		d->iv_idx = i;
		outb_build(ctx, sa, i, outer,
			rte_pktmbuf_mtod(pkts[i], uint8_t *) +
				(pool == NULL ? sa->outer_len + ESP_HDR_LEN + sa->iv_len : 0));
	}
	esp_job_flush(ctx);
	for (uint16_t i = 0; i < n; i++) {
		struct esp_pkt_desc *d = &ctx->desc[i];

		if (d->reason == ESP_OK_ && !d->status_ok)
			d->reason = ESP_DROP_CRYPTO_ERR;
		if (d->reason == ESP_OK_) {
			bytes += d->inner_len;
			continue;
		}
		count_drop(ctx, sa, d->reason);
		rte_pktmbuf_free(d->out); /* NULL-safe */
		d->out = NULL;
	}
	ok = esp_partition(ctx, pkts, NULL, out, n, reasons);
	esp_sa_account(ctx, sa, ok, bytes, true);
	return ok;
}

static uint16_t outb_burst(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf **pkts,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons)
{
	uint16_t good = 0;

	for (uint16_t off = 0; off < n; off += ESP_MAX_BURST) {
		uint16_t len = n - off < ESP_MAX_BURST ? n - off : ESP_MAX_BURST;
		uint16_t ok = outb_chunk(ctx, sa, pkts + off, out != NULL ? out + off : NULL, len,
			pool, reasons + off);

		esp_merge_chunk(pkts, NULL, out, reasons, good, off, ok);
		good += ok;
	}
	return good;
}

uint16_t esp_outb_inplace(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf **pkts,
	uint16_t n, uint8_t *reasons)
{
	return outb_burst(ctx, sa, pkts, NULL, n, NULL, reasons);
}

uint16_t esp_outb_oop(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf **src,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons)
{
	if (pool == NULL) {
		for (uint16_t i = 0; i < n; i++) {
			out[i] = NULL;
			reasons[i] = ESP_DROP_NO_MBUF;
			ctx->drops[ESP_DROP_NO_MBUF]++;
		}
		return 0;
	}
	return outb_burst(ctx, sa, src, out, n, pool, reasons);
}
