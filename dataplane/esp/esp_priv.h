/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_ESP_PRIV_H
#define VPRN_DATAPLANE_ESP_PRIV_H

/*
 * Private layout of the SA and the per-lcore context. Setup decides, the
 * hot path executes: everything the burst functions need is precomputed
 * at esp_sa_init() in the first cache lines (read-only after init); the
 * run-time state each writer owns sits on its own cache lines.
 */

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <intel-ipsec-mb.h>

#include "esp.h"
#include "esp_proto.h"
#include "replay.h"

#define ESP_AES_EXP_KEY_LEN (15 * 16) /* 15 round keys for AES-256 */
#define ESP_EVENTS_MAX 64

struct esp_sa {
	/* ---- read-only after init (hot) ---- */
	alignas(64) uint32_t spi;
	uint32_t spi_be;
	uint8_t dir;   /* enum esp_dir */
	uint8_t xform; /* enum esp_xform */
	uint8_t is_gcm;
	uint8_t esn;
	uint8_t iv_len; /* 8 (GCM) or 16 (CBC) */
	uint8_t align;	/* 4 (GCM) or 16 (CBC) */
	uint8_t dscp_mode;
	uint8_t tos_set;    /* DSCP << 2 for ESP_DSCP_SET */
	uint16_t outer_len; /* 20 or 28 */
	uint16_t key_len;   /* cipher key bytes (16/32) */
	uint64_t seq_limit; /* last usable outbound sequence number */
	uint64_t seq_soft;  /* raise ESP_EVENT_SEQ_SOFT past this */
	struct esp_outer_hdr outer;
	/* Outer header template (TOS, length, id and checksum zero) and the
	 * one's-complement sum of its fixed fields, for an incremental checksum. */
	alignas(16) uint8_t hdr_tmpl[32];
	uint32_t hdr_sum;
	struct esp_lifetime soft;
	struct esp_lifetime hard;
	uint64_t created_ms;
	uint64_t cookie;
	uint8_t salt[ESP_GCM_SALT_LEN];

	/* ---- keys (read-only after init, wiped at fini) ---- */
	alignas(64) struct gcm_key_data gcm_key;
	alignas(64) uint8_t enc_keys[ESP_AES_EXP_KEY_LEN];
	alignas(64) uint8_t dec_keys[ESP_AES_EXP_KEY_LEN];
	alignas(64) uint8_t iv_enc_keys[11 * 16]; /* AES-128, random key for CBC IVs */
	alignas(64) uint8_t ipad_hash[32];	  /* SHA-256 state after (key ^ ipad) */
	uint8_t opad_hash[32];			  /* SHA-256 state after (key ^ opad) */

	/* ---- outbound sequence number (any lcore, atomic CAS per burst) ---- */
	alignas(64) uint64_t seq_out; /* last sequence number handed out */

	/* ---- counters (outbound: atomic adds; inbound: owner lcore stores) ---- */
	alignas(64) uint64_t packets;
	uint64_t bytes;
	uint32_t ev_flags; /* ESP_EVENT_* already raised (atomic or) */
	uint32_t expired;  /* != 0: hard lifetime reached (atomic) */
	uint64_t drops[ESP_DROP_MAX];

	/* ---- inbound replay window (owner lcore only) ---- */
	alignas(64) struct replay_win win;
};

/* Per-packet scratch for the jobs of one chunk (AAD, nonce, ICVs). */
struct esp_job_scratch {
	alignas(16) uint8_t nonce[16]; /* GCM salt||IV, or CBC IV copy */
	uint8_t aad[16];	       /* SPI || [seq hi] || seq lo */
	uint8_t icv[16];	       /* computed tag */
	uint8_t icv_rx[16];	       /* received tag (saved before ESN trick) */
};

/* What the prepare pass decided for one packet of a chunk. */
struct esp_pkt_desc {
	uint8_t *esp;	 /* ESP header */
	uint8_t *ct_src; /* cipher input */
	uint8_t *ct_dst; /* cipher output */
	uint8_t *icv;	 /* ICV position in the packet (outbound: output) */
	struct rte_mbuf *out;
	struct esp_sa *sa;
	uint64_t seq;
	uint32_t ct_len; /* bytes ciphered (inner + pad + trailer) */
	uint32_t inner_len;
	uint32_t off;	 /* inbound: ESP header offset from the outer IPv4 header */
	uint16_t iv_idx; /* outbound CBC: index of this packet's IV in ctx->iv_ks */
	uint8_t reason;	 /* 0xff = ok so far */
	uint8_t status_ok;
};

#define ESP_OK_ 0xff

struct esp_ctx {
	IMB_MGR *mgr;
	uint32_t arch;
	alignas(64) uint64_t drops[ESP_DROP_MAX];
	unsigned int n_ev;
	struct esp_event ev[ESP_EVENTS_MAX];
	struct esp_pkt_desc desc[ESP_MAX_BURST];
	struct esp_job_scratch scr[ESP_MAX_BURST];
	struct rte_mbuf *tmp_ok[ESP_MAX_BURST];
	struct rte_mbuf *tmp_bad[ESP_MAX_BURST];
	struct rte_mbuf *tmp_out[ESP_MAX_BURST];
	struct esp_sa *tmp_sa_ok[ESP_MAX_BURST];
	struct esp_sa *tmp_sa_bad[ESP_MAX_BURST];
	uint8_t tmp_reason[ESP_MAX_BURST];
	/* CBC IVs of one chunk: AES-CTR keystream under the SA's IV key. */
	alignas(64) uint8_t iv_ks[ESP_MAX_BURST * 16];
};

/* esp_ctx.c */
void esp_ctx_raise(struct esp_ctx *ctx, struct esp_sa *sa, uint32_t flags);

/* Completion of one job: its status goes back to the packet it belongs to. */
static inline void esp_job_done(struct esp_ctx *ctx, const IMB_JOB *job)
{
	ctx->desc[(uintptr_t)job->user_data].status_ok = job->status == IMB_STATUS_COMPLETED;
}

/* Submit the job just filled, collect whatever completed (in order). */
static inline void esp_job_submit(struct esp_ctx *ctx)
{
	/* Unchecked: every length and pointer was validated by the engine, and the
	 * checked submit costs ~20 cycles per job (validation + errno bookkeeping). */
	IMB_JOB *job = IMB_SUBMIT_JOB_NOCHECK(ctx->mgr);

	while (job != NULL) {
		esp_job_done(ctx, job);
		job = IMB_GET_COMPLETED_JOB(ctx->mgr);
	}
}

static inline void esp_job_flush(struct esp_ctx *ctx)
{
	IMB_JOB *job;

	while ((job = IMB_FLUSH_JOB(ctx->mgr)) != NULL)
		esp_job_done(ctx, job);
}

/* Move failures to the tail (stable), reasons for the tail; returns the good count. */
uint16_t esp_partition(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas,
	struct rte_mbuf **out, uint16_t n, uint8_t *reasons);

/*
 * Bursts longer than ESP_MAX_BURST run in chunks; after each chunk this moves
 * the chunk's good packets (at [off, off + ok)) in front of the failures of
 * earlier chunks (at [good, off)), keeping both groups in order.
 */
void esp_merge_chunk(struct rte_mbuf **pkts, struct esp_sa **sas, struct rte_mbuf **out,
	uint8_t *reasons, uint16_t good, uint16_t off, uint16_t ok);

/* esp_sa.c: lifetime accounting after a burst (per SA). */
void esp_sa_account(
	struct esp_ctx *ctx, struct esp_sa *sa, uint64_t pkts, uint64_t bytes, bool atomic);
void esp_sa_count_drop(struct esp_sa *sa, unsigned int reason, bool atomic);

static inline bool esp_sa_is_expired(const struct esp_sa *sa)
{
	/* Relaxed: expiry is advisory timing-wise; a burst in flight may finish. */
	return __atomic_load_n(&sa->expired, __ATOMIC_RELAXED) != 0;
}

/* Constant-time comparison of two 16-byte tags (two 64-bit words, no early exit). */
static inline bool esp_tag_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t x[2], y[2];

	memcpy(x, a, sizeof(x));
	memcpy(y, b, sizeof(y));
	return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

#endif /* VPRN_DATAPLANE_ESP_PRIV_H */
