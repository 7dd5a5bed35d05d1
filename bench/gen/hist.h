/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_HIST_H
#define VPRN_BENCH_HIST_H

/*
 * Latency histogram, log-linear: values below 32 ns have their own bucket,
 * above that every power of two is split into 16 buckets (relative error
 * under 1/16 = 6.25 %), up to 2^40 ns (18 minutes). Single writer (the
 * receiving lcore); pure code, no DPDK.
 */

#include <stdint.h>

#define HIST_SUB_BITS 4u
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 40u
#define HIST_N_BUCKETS ((HIST_MAX_EXP - HIST_SUB_BITS + 1u) * HIST_SUB + HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t min_ns;
	uint64_t max_ns;
	uint64_t bucket[HIST_N_BUCKETS];
};

void hist_reset(struct hist *h);

/** Record one value in nanoseconds. */
void hist_add(struct hist *h, uint64_t ns);

/** Add every value of src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);

/**
 * Value at quantile q (0 < q <= 1), in ns: the upper bound of the bucket
 * holding the ceil(q * count)-th value, clamped to the observed maximum.
 * 0 if the histogram is empty.
 */
uint64_t hist_quantile(const struct hist *h, double q);

/** Bucket index of a value, and the largest value mapping to a bucket (tests). */
unsigned int hist_bucket_of(uint64_t ns);
uint64_t hist_bucket_upper(unsigned int b);

#endif /* VPRN_BENCH_HIST_H */
