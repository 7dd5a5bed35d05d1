/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-lcore context: one IMB_MGR, per-lcore drop counters, lifetime events. */

#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "esp_priv.h"

struct esp_ctx *esp_ctx_create(int socket_id)
{
	struct esp_ctx *ctx = rte_zmalloc_socket("esp_ctx", sizeof(*ctx), 64, socket_id);

	if (ctx == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	ctx->mgr = alloc_mb_mgr(0);
	if (ctx->mgr == NULL) {
		rte_free(ctx);
		errno = ENOMEM;
		return NULL;
	}
	/* Whatever the CPU supports; never assume a flavour. */
	init_mb_mgr_auto(ctx->mgr, NULL);
	if (imb_get_errno(ctx->mgr) != 0) {
		free_mb_mgr(ctx->mgr);
		rte_free(ctx);
		errno = ENOTSUP;
		return NULL;
	}
	ctx->arch = ctx->mgr->used_arch;
	return ctx;
}

void esp_ctx_destroy(struct esp_ctx *ctx)
{
	if (ctx == NULL)
		return;
	free_mb_mgr(ctx->mgr);
	/* The scratch held AADs, nonces and tags: wipe before returning memory. */
	explicit_bzero(ctx, sizeof(*ctx));
	rte_free(ctx);
}

const char *esp_ctx_arch_name(const struct esp_ctx *ctx)
{
	switch (ctx->arch) {
	case IMB_ARCH_NOAESNI:
		return "noaesni";
	case IMB_ARCH_SSE:
		return "sse";
	case IMB_ARCH_AVX:
		return "avx";
	case IMB_ARCH_AVX2:
		return "avx2";
	case IMB_ARCH_AVX512:
		return "avx512";
	default:
		return "unknown";
	}
}

void esp_ctx_get_drops(const struct esp_ctx *ctx, uint64_t drops[ESP_DROP_MAX])
{
	for (unsigned int i = 0; i < ESP_DROP_MAX; i++)
		drops[i] = __atomic_load_n(&ctx->drops[i], __ATOMIC_RELAXED);
}

void esp_ctx_raise(struct esp_ctx *ctx, struct esp_sa *sa, uint32_t flags)
{
	uint32_t old, fresh;

	/* Cheap exit once raised: a relaxed load, no locked instruction per burst. */
	if ((__atomic_load_n(&sa->ev_flags, __ATOMIC_RELAXED) & flags) == flags)
		return;
	/* Relaxed: the flag word only de-duplicates events; no data is published. */
	old = __atomic_fetch_or(&sa->ev_flags, flags, __ATOMIC_RELAXED);
	fresh = flags & ~old;

	if (flags & ESP_EVENT_HARD_MASK)
		esp_sa_expire(sa);
	if (fresh == 0)
		return;
	if (ctx->n_ev >= ESP_EVENTS_MAX) {
		/* Queue full: forget the bits so that a later packet raises them again. */
		__atomic_fetch_and(&sa->ev_flags, ~fresh, __ATOMIC_RELAXED);
		return;
	}
	ctx->ev[ctx->n_ev++] = (struct esp_event){
		.cookie = sa->cookie,
		.spi = sa->spi,
		.dir = sa->dir,
		.flags = fresh,
	};
}

unsigned int esp_ctx_take_events(struct esp_ctx *ctx, struct esp_event *ev, unsigned int max)
{
	unsigned int n = ctx->n_ev < max ? ctx->n_ev : max;

	memcpy(ev, ctx->ev, n * sizeof(*ev));
	memmove(ctx->ev, ctx->ev + n, (ctx->n_ev - n) * sizeof(*ev));
	ctx->n_ev -= n;
	return n;
}

uint16_t esp_partition(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas,
	struct rte_mbuf **out, uint16_t n, uint8_t *reasons)
{
	uint16_t ok = 0, bad = 0;

	/* Common case: nothing failed, nothing moves. */
	for (ok = 0; ok < n && ctx->desc[ok].reason == ESP_OK_; ok++)
		if (out != NULL)
			out[ok] = ctx->desc[ok].out;
	if (ok == n)
		return n;
	ok = 0;
	for (uint16_t i = 0; i < n; i++) {
		const struct esp_pkt_desc *d = &ctx->desc[i];

		if (d->reason == ESP_OK_) {
			ctx->tmp_ok[ok] = pkts[i];
			ctx->tmp_out[ok] = d->out;
			ctx->tmp_sa_ok[ok++] = sas != NULL ? sas[i] : NULL;
		} else {
			ctx->tmp_bad[bad] = pkts[i];
			ctx->tmp_sa_bad[bad] = sas != NULL ? sas[i] : NULL;
			ctx->tmp_reason[bad++] = d->reason;
		}
	}
	memcpy(pkts, ctx->tmp_ok, ok * sizeof(*pkts));
	memcpy(pkts + ok, ctx->tmp_bad, bad * sizeof(*pkts));
	memcpy(reasons + ok, ctx->tmp_reason, bad);
	if (sas != NULL) {
		memcpy(sas, ctx->tmp_sa_ok, ok * sizeof(*sas));
		memcpy(sas + ok, ctx->tmp_sa_bad, bad * sizeof(*sas));
	}
	if (out != NULL) {
		memcpy(out, ctx->tmp_out, ok * sizeof(*out));
		memset(out + ok, 0, bad * sizeof(*out));
	}
	return ok;
}

#define MOVE_GROUP_(arr, T)                                                         \
	do {                                                                        \
		T tmp_[ESP_MAX_BURST];                                              \
		memcpy(tmp_, (arr) + off, ok * sizeof(T));                          \
		memmove((arr) + good + ok, (arr) + good, (off - good) * sizeof(T)); \
		memcpy((arr) + good, tmp_, ok * sizeof(T));                         \
	} while (0)

void esp_merge_chunk(struct rte_mbuf **pkts, struct esp_sa **sas, struct rte_mbuf **out,
	uint8_t *reasons, uint16_t good, uint16_t off, uint16_t ok)
{
	if (good == off || ok == 0)
		return;
	MOVE_GROUP_(pkts, struct rte_mbuf *);
	if (sas != NULL)
		MOVE_GROUP_(sas, struct esp_sa *);
	if (out != NULL)
		MOVE_GROUP_(out, struct rte_mbuf *);
	/* Reasons belong to the failures only: shift them right by ok. */
	memmove(reasons + good + ok, reasons + good, off - good);
}
