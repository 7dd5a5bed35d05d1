/* SPDX-License-Identifier: BSD-3-Clause */
#include "backoff.h"

uint32_t ed_backoff_delay(uint32_t min_ms, uint32_t max_ms, uint32_t attempts, uint32_t rnd)
{
	uint64_t d = min_ms != 0 ? min_ms : 1;

	/* Doubling in 64 bits, stopped at the cap: no overflow for any attempts. */
	for (uint32_t i = 0; i < attempts && d < max_ms; i++)
		d *= 2;
	if (d > max_ms)
		d = max_ms;
	return (uint32_t)(d / 2 + rnd % (d / 2 + 1));
}
