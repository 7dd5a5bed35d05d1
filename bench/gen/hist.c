/* SPDX-License-Identifier: BSD-3-Clause */
#include "hist.h"

#include <string.h>

void hist_reset(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

unsigned int hist_bucket_of(uint64_t ns)
{
	unsigned int e;

	if (ns < 2 * HIST_SUB)
		return (unsigned int)ns;
	/* ns >= 32, so e >= 5: bucket 32 onwards, after the exact ones. */
	e = 63u - (unsigned int)__builtin_clzll(ns);
	if (e > HIST_MAX_EXP)
		return HIST_N_BUCKETS - 1;
	/* The HIST_SUB_BITS bits after the leading one select the sub-bucket. */
	return (e - HIST_SUB_BITS + 1u) * HIST_SUB +
	       (unsigned int)((ns >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

uint64_t hist_bucket_upper(unsigned int b)
{
	unsigned int e, sub;

	if (b < 2 * HIST_SUB)
		return b;
	e = b / HIST_SUB + HIST_SUB_BITS - 1u;
	sub = b % HIST_SUB;
	if (e > HIST_MAX_EXP)
		return UINT64_MAX;
	return ((uint64_t)(HIST_SUB + sub + 1) << (e - HIST_SUB_BITS)) - 1;
}

void hist_add(struct hist *h, uint64_t ns)
{
	h->bucket[hist_bucket_of(ns)]++;
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (unsigned int i = 0; i < HIST_N_BUCKETS; i++)
		dst->bucket[i] += src->bucket[i];
	dst->count += src->count;
	dst->sum_ns += src->sum_ns;
	if (src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
}

uint64_t hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;

	if (h->count == 0)
		return 0;
	if (q <= 0.0)
		return h->min_ns;
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < HIST_N_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t up = hist_bucket_upper(i);
			return up < h->max_ns ? up : h->max_ns;
		}
	}
	return h->max_ns;
}
