/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_CLOCK_H
#define VPRN_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/*
 * Monotonic time for timers (never the wall clock). Modules with timer logic
 * take a `struct vprn_clock` so that unit tests can inject time.
 */

static inline uint64_t vprn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline uint64_t vprn_now_ms(void)
{
	return vprn_now_ns() / 1000000ull;
}

/** An injectable clock: `now_ms(ctx)`; use vprn_clock_monotonic() in production. */
struct vprn_clock {
	uint64_t (*now_ms)(void *ctx);
	void *ctx;
};

static inline uint64_t vprn_clock_mono_now_ms(void *ctx)
{
	(void)ctx;
	return vprn_now_ms();
}

static inline struct vprn_clock vprn_clock_monotonic(void)
{
	return (struct vprn_clock){ .now_ms = vprn_clock_mono_now_ms, .ctx = NULL };
}

#endif /* VPRN_COMMON_CLOCK_H */
