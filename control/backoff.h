/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_BACKOFF_H
#define VPRN_CONTROL_BACKOFF_H

#include <stdint.h>

/**
 * Reconnect delay after `attempts` consecutive failures (0 = first retry):
 * d = min(min_ms * 2^attempts, max_ms), then a jitter drawn from `rnd`
 * spreads it over [d/2, d] so that EDs cut off together do not come back
 * together. Pure function (the caller supplies the randomness).
 */
uint32_t ed_backoff_delay(uint32_t min_ms, uint32_t max_ms, uint32_t attempts, uint32_t rnd);

#endif /* VPRN_CONTROL_BACKOFF_H */
