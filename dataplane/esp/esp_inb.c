/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Inbound ESP, tunnel mode (RFC 4303 section 3.4), in place and out of place.
 *
 * Pass 1: length and header checks, SA checks, ESN inference and replay
 * check (RFC 4303 section 3.4.3: before integrity verification).
 * Pass 2: one ipsec-mb job per packet (ICV computed into scratch, plaintext
 * written in place or into a new mbuf).
 * Pass 3, in packet order: ICV comparison, then the replay window update
 * (only for authentic packets), padding and next-header checks, strip.
 */

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "esp_priv.h"

/* Header checksum (RFC 1071) verification; the usual 20-byte header unrolled. */
static inline bool ipv4_cksum_ok(const void *h, uint32_t ihl)
{
	uint64_t sum = 0;
	uint32_t w[5];

	if (likely(ihl == ESP_IPV4_HDR_MIN)) {
		memcpy(w, h, sizeof(w));
		sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
		sum = (sum & 0xffffffff) + (sum >> 32);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		sum = (sum & 0xffff) + (sum >> 16);
		return sum == 0xffff;
	}
	return rte_raw_cksum(h, ihl) == 0xffff;
}

static uint8_t inb_check_outer(
	const struct esp_sa *sa, struct rte_mbuf *m, struct esp_pkt_desc *d, uint32_t *esp_len)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	uint32_t len = rte_pktmbuf_data_len(m), ihl, tl, off;

	if (m->nb_segs != 1)
		return ESP_DROP_MULTISEG;
	if (len < ESP_IPV4_HDR_MIN)
		return ESP_DROP_TRUNCATED;
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if ((ip->version_ihl >> 4) != ESP_IPV4_VERSION || ihl < ESP_IPV4_HDR_MIN)
		return ESP_DROP_BAD_OUTER_IP;
	if (len < ihl)
		return ESP_DROP_TRUNCATED;
	tl = rte_be_to_cpu_16(ip->total_length);
	if (tl < ihl || (rte_be_to_cpu_16(ip->fragment_offset) & (ESP_IPV4_MF | ESP_IPV4_OFF_MASK)))
		return ESP_DROP_BAD_OUTER_IP;
	if (tl > len)
		return ESP_DROP_TRUNCATED;
	if (!ipv4_cksum_ok(ip, ihl))
		return ESP_DROP_BAD_OUTER_IP;
	off = ihl;
	if (ip->next_proto_id == ESP_IPPROTO_UDP) {
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + ihl);

		if (tl < ihl + ESP_UDP_HDR_LEN)
			return ESP_DROP_TRUNCATED;
		if (rte_be_to_cpu_16(udp->dgram_len) != tl - ihl)
			return ESP_DROP_BAD_UDP;
		if (sa != NULL && (!sa->outer.udp_encap ||
					  rte_be_to_cpu_16(udp->dst_port) != sa->outer.udp_dport))
			return ESP_DROP_BAD_UDP;
		off += ESP_UDP_HDR_LEN;
	} else if (ip->next_proto_id != ESP_IPPROTO_ESP) {
		return ESP_DROP_NOT_ESP;
	} else if (sa != NULL && sa->outer.udp_encap) {
		return ESP_DROP_SA_MISMATCH;
	}
	if (tl - off < ESP_HDR_LEN)
		return ESP_DROP_TRUNCATED;
	if (tl - off == ESP_HDR_LEN && off > ihl)
		return ESP_DROP_BAD_UDP; /* could be a NAT keep-alive; never ESP */
	d->off = off;
	*esp_len = tl - off;
	return ESP_OK_;
}

static uint8_t inb_check(struct esp_sa *sa, struct rte_mbuf *m, struct esp_pkt_desc *d)
{
	uint32_t esp_len, spi_be, seq_lo, min;
	uint8_t r = inb_check_outer(sa, m, d, &esp_len);
	const uint8_t *esp;

	if (r != ESP_OK_)
		return r;
	if (sa == NULL)
		return ESP_DROP_NO_SA;
	esp = rte_pktmbuf_mtod_offset(m, const uint8_t *, d->off);
	memcpy(&spi_be, esp, 4);
	if (sa->dir != ESP_DIR_INBOUND || spi_be != sa->spi_be)
		return ESP_DROP_SA_MISMATCH;
	if (esp_sa_is_expired(sa))
		return ESP_DROP_SA_EXPIRED;
	min = ESP_HDR_LEN + sa->iv_len + sa->align + ESP_ICV_LEN;
	if (esp_len < min)
		return ESP_DROP_TRUNCATED;
	d->ct_len = esp_len - ESP_HDR_LEN - sa->iv_len - ESP_ICV_LEN;
	if (d->ct_len & (sa->align - 1u))
		return ESP_DROP_BAD_LENGTH;
	memcpy(&seq_lo, esp + 4, 4);
	seq_lo = rte_be_to_cpu_32(seq_lo);
	if (sa->esn) {
		if (!replay_esn_infer(&sa->win, seq_lo, &d->seq))
			return ESP_DROP_TOO_OLD;
	} else {
		d->seq = seq_lo;
	}
	switch (replay_check(&sa->win, d->seq)) {
	case REPLAY_OK:
		break;
	case REPLAY_DUP:
		return ESP_DROP_REPLAYED;
	default:
		return ESP_DROP_TOO_OLD;
	}
	return ESP_OK_;
}

/* CBC + ESN out of place: the ICV covers seq hi after the ciphertext, which we
 * may not write into a shared input; copy the ESP part into out and work there. */
static bool inb_copy_for_esn(const struct esp_sa *sa, const struct esp_pkt_desc *d)
{
	return !sa->is_gcm && sa->esn && d->out != NULL;
}

static uint8_t inb_place(const struct esp_sa *sa, struct rte_mbuf *m, struct esp_pkt_desc *d)
{
	uint32_t esp_part = ESP_HDR_LEN + sa->iv_len + d->ct_len;

	d->esp = rte_pktmbuf_mtod_offset(m, uint8_t *, d->off);
	d->icv = d->esp + esp_part;
	if (d->out == NULL) {
		d->ct_dst = d->esp + ESP_HDR_LEN + sa->iv_len;
		return ESP_OK_;
	}
	if (inb_copy_for_esn(sa, d)) {
		if (rte_pktmbuf_tailroom(d->out) < esp_part + 4)
			return ESP_DROP_NO_ROOM;
		d->esp = (uint8_t *)rte_pktmbuf_append(d->out, (uint16_t)esp_part);
		memcpy(d->esp, rte_pktmbuf_mtod_offset(m, uint8_t *, d->off), esp_part);
		rte_pktmbuf_adj(d->out, (uint16_t)(ESP_HDR_LEN + sa->iv_len));
		d->ct_dst = d->esp + ESP_HDR_LEN + sa->iv_len;
		return ESP_OK_;
	}
	if (rte_pktmbuf_tailroom(d->out) < d->ct_len)
		return ESP_DROP_NO_ROOM;
	d->ct_dst = (uint8_t *)rte_pktmbuf_append(d->out, (uint16_t)d->ct_len);
	return ESP_OK_;
}

static void inb_build(struct esp_ctx *ctx, struct esp_sa *sa, uint16_t i)
{
	struct esp_pkt_desc *d = &ctx->desc[i];
	struct esp_job_scratch *s = &ctx->scr[i];
	uint32_t seq_hi = rte_cpu_to_be_32((uint32_t)(d->seq >> 32));
	IMB_JOB *job;

	memcpy(s->icv_rx, d->icv, ESP_ICV_LEN);
	job = IMB_GET_NEXT_JOB(ctx->mgr);
	job->cipher_direction = IMB_DIR_DECRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->key_len_in_bytes = sa->key_len;
	job->src = d->esp;
	job->dst = d->ct_dst;
	job->cipher_start_src_offset_in_bytes = ESP_HDR_LEN + sa->iv_len;
	job->msg_len_to_cipher_in_bytes = d->ct_len;
	job->auth_tag_output = s->icv;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
	job->user_data = (void *)(uintptr_t)i;
	if (sa->is_gcm) {
		memcpy(s->nonce, sa->salt, ESP_GCM_SALT_LEN);
		memcpy(s->nonce + ESP_GCM_SALT_LEN, d->esp + ESP_HDR_LEN, ESP_GCM_IV_LEN);
		/* RFC 4106 section 5: AAD = SPI || [seq hi] || seq lo. */
		memcpy(s->aad, d->esp, 4);
		if (sa->esn) {
			memcpy(s->aad + 4, &seq_hi, 4);
			memcpy(s->aad + 8, d->esp + 4, 4);
		} else {
			memcpy(s->aad + 4, d->esp + 4, 4);
		}
		job->cipher_mode = IMB_CIPHER_GCM;
		job->hash_alg = IMB_AUTH_AES_GMAC;
		job->enc_keys = &sa->gcm_key;
		job->dec_keys = &sa->gcm_key;
		job->iv = s->nonce;
		job->iv_len_in_bytes = ESP_GCM_NONCE_LEN;
		job->hash_start_src_offset_in_bytes = ESP_HDR_LEN + ESP_GCM_IV_LEN;
		job->msg_len_to_hash_in_bytes = d->ct_len;
		job->u.GCM.aad = s->aad;
		job->u.GCM.aad_len_in_bytes = sa->esn ? 12 : 8;
	} else {
		/* RFC 4303 section 3.4.4.1: ESN high bits hashed after the ciphertext
		 * (written over the saved ICV; in place or in our own copy). */
		if (sa->esn)
			memcpy(d->esp + ESP_HDR_LEN + ESP_CBC_IV_LEN + d->ct_len, &seq_hi, 4);
		job->cipher_mode = IMB_CIPHER_CBC;
		job->hash_alg = IMB_AUTH_HMAC_SHA_256;
		job->enc_keys = sa->enc_keys;
		job->dec_keys = sa->dec_keys;
		job->iv = d->esp + ESP_HDR_LEN;
		job->iv_len_in_bytes = ESP_CBC_IV_LEN;
		job->hash_start_src_offset_in_bytes = 0;
		job->msg_len_to_hash_in_bytes =
			ESP_HDR_LEN + ESP_CBC_IV_LEN + d->ct_len + (sa->esn ? 4 : 0);
		job->u.HMAC._hashed_auth_key_xor_ipad = sa->ipad_hash;
		job->u.HMAC._hashed_auth_key_xor_opad = sa->opad_hash;
	}
	esp_job_submit(ctx);
}

/* Trailer and inner packet checks on the plaintext; returns the inner length. */
static uint8_t inb_check_plain(const struct esp_pkt_desc *d, uint32_t *inner_len)
{
	const uint8_t *pt = d->ct_dst;
	uint32_t pad = pt[d->ct_len - 2];
	uint8_t nh = pt[d->ct_len - 1];
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)pt;
	uint32_t len, tl, ihl;

	if (pad + ESP_TRAILER_LEN > d->ct_len)
		return ESP_DROP_BAD_PADDING;
	len = d->ct_len - ESP_TRAILER_LEN - pad;
	/* RFC 4303 section 2.4: default padding is 1, 2, 3, ... (checked, as Linux does not). */
	for (uint32_t k = 0; k < pad; k++)
		if (pt[len + k] != (uint8_t)(k + 1))
			return ESP_DROP_BAD_PADDING;
	if (nh == ESP_NH_DUMMY)
		return ESP_DROP_DUMMY;
	if (nh != ESP_NH_IPV4)
		return ESP_DROP_BAD_NEXT_HDR;
	if (len < ESP_IPV4_HDR_MIN)
		return ESP_DROP_BAD_INNER;
	tl = rte_be_to_cpu_16(ip->total_length);
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	/* tl < len is TFC padding (RFC 4303 section 2.7): allowed, stripped. */
	if ((ip->version_ihl >> 4) != ESP_IPV4_VERSION || ihl < ESP_IPV4_HDR_MIN || tl < ihl ||
		tl > len)
		return ESP_DROP_BAD_INNER;
	*inner_len = tl;
	return ESP_OK_;
}

static uint8_t inb_finish(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf *m, uint16_t i)
{
	struct esp_pkt_desc *d = &ctx->desc[i];
	uint32_t inner_len = 0;
	uint8_t r;

	if (!d->status_ok)
		return ESP_DROP_CRYPTO_ERR;
	if (!esp_tag_equal(ctx->scr[i].icv_rx, ctx->scr[i].icv))
		return ESP_DROP_BAD_ICV;
	/* Authentic: now the window moves (RFC 4303 section 3.4.3). Checked again
	 * because an earlier packet of this burst may have had the same number. */
	switch (replay_update(&sa->win, d->seq)) {
	case REPLAY_OK:
		break;
	case REPLAY_DUP:
		return ESP_DROP_REPLAYED;
	default:
		return ESP_DROP_TOO_OLD;
	}
	r = inb_check_plain(d, &inner_len);
	if (r != ESP_OK_)
		return r;
	if (d->out == NULL) {
		rte_pktmbuf_adj(m, (uint16_t)(d->off + ESP_HDR_LEN + sa->iv_len));
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner_len));
	} else {
		rte_pktmbuf_trim(d->out, (uint16_t)(rte_pktmbuf_data_len(d->out) - inner_len));
	}
	d->inner_len = inner_len;
	return ESP_OK_;
}

/* Per-SA accounting, run-length over consecutive packets of the same SA. */
struct inb_acct {
	struct esp_sa *sa;
	uint64_t pkts;
	uint64_t bytes;
};

static inline void acct_flush(struct esp_ctx *ctx, struct inb_acct *a)
{
	if (a->sa != NULL)
		esp_sa_account(ctx, a->sa, a->pkts, a->bytes, false);
	a->pkts = 0;
	a->bytes = 0;
}

static inline void acct_add(
	struct esp_ctx *ctx, struct inb_acct *a, struct esp_sa *sa, uint32_t bytes)
{
	if (sa != a->sa) {
		acct_flush(ctx, a);
		a->sa = sa;
	}
	a->pkts++;
	a->bytes += bytes;
}

/* A drop is counted on the SA only if this lcore owns its inbound state. */
static void inb_count_drop(struct esp_ctx *ctx, struct esp_sa *sa, uint8_t reason)
{
	ctx->drops[reason]++;
	if (sa != NULL && sa->dir == ESP_DIR_INBOUND && reason != ESP_DROP_SA_MISMATCH &&
		reason != ESP_DROP_NO_SA)
		esp_sa_count_drop(sa, reason, false);
}

static uint16_t inb_chunk(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons)
{
	struct inb_acct acct = { 0 };

	for (uint16_t i = 0; i < n; i++) {
		struct esp_pkt_desc *d = &ctx->desc[i];

		d->out = NULL;
		d->status_ok = 0;
		d->reason = inb_check(sas[i], pkts[i], d);
		if (d->reason != ESP_OK_)
			continue;
		if (pool != NULL) {
			d->out = rte_pktmbuf_alloc(pool);
			if (d->out == NULL) {
				d->reason = ESP_DROP_NO_MBUF;
				continue;
			}
		}
		d->reason = inb_place(sas[i], pkts[i], d);
		if (d->reason == ESP_OK_)
			inb_build(ctx, sas[i], i);
	}
	esp_job_flush(ctx);
	for (uint16_t i = 0; i < n; i++) {
		struct esp_pkt_desc *d = &ctx->desc[i];

		if (d->reason == ESP_OK_)
			d->reason = inb_finish(ctx, sas[i], pkts[i], i);
		if (d->reason == ESP_OK_) {
			acct_add(ctx, &acct, sas[i], d->inner_len);
			continue;
		}
		inb_count_drop(ctx, sas[i], d->reason);
		rte_pktmbuf_free(d->out);
		d->out = NULL;
	}
	acct_flush(ctx, &acct);
	return esp_partition(ctx, pkts, sas, out, n, reasons);
}

static uint16_t inb_burst(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons)
{
	uint16_t good = 0;

	for (uint16_t off = 0; off < n; off += ESP_MAX_BURST) {
		uint16_t len = n - off < ESP_MAX_BURST ? n - off : ESP_MAX_BURST;
		uint16_t ok = inb_chunk(ctx, pkts + off, sas + off, out != NULL ? out + off : NULL,
			len, pool, reasons + off);

		esp_merge_chunk(pkts, sas, out, reasons, good, off, ok);
		good += ok;
	}
	return good;
}

uint16_t esp_inb(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas, uint16_t n,
	uint8_t *reasons)
{
	return inb_burst(ctx, pkts, sas, NULL, n, NULL, reasons);
}

uint16_t esp_inb_oop(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas,
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
	return inb_burst(ctx, pkts, sas, out, n, pool, reasons);
}
