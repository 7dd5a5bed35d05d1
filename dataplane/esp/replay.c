/* SPDX-License-Identifier: BSD-3-Clause */
/* Anti-replay window: see replay.h. */

#include <string.h>

#include "replay.h"

#define RING_MASK (REPLAY_RING_WORDS - 1)

void replay_init(struct replay_win *w, uint32_t size)
{
	memset(w, 0, sizeof(*w));
	w->size = size;
}

static inline bool bit_is_set(const struct replay_win *w, uint64_t seq)
{
	return (w->bits[(seq >> 6) & RING_MASK] >> (seq & 63)) & 1;
}

enum replay_verdict replay_check(const struct replay_win *w, uint64_t seq)
{
	if (seq == 0)
		return REPLAY_OLD; /* never sent: the first packet carries 1 */
	if (seq > w->top)
		return REPLAY_OK;
	if (w->top - seq >= w->size)
		return REPLAY_OLD;
	return bit_is_set(w, seq) ? REPLAY_DUP : REPLAY_OK;
}

enum replay_verdict replay_update(struct replay_win *w, uint64_t seq)
{
	enum replay_verdict v = replay_check(w, seq);

	if (v != REPLAY_OK)
		return v;
	if (seq > w->top) {
		uint64_t from = w->top >> 6;
		uint64_t to = seq >> 6;
		uint64_t n = to - from;

		/* Clear the words the top moves into; a jump of a whole ring clears all. */
		if (n >= REPLAY_RING_WORDS)
			n = REPLAY_RING_WORDS;
		for (uint64_t i = 1; i <= n; i++)
			w->bits[(from + i) & RING_MASK] = 0;
		/* Relaxed store: single writer; statistics readers load it relaxed. */
		__atomic_store_n(&w->top, seq, __ATOMIC_RELAXED);
	}
	w->bits[(seq >> 6) & RING_MASK] |= 1ull << (seq & 63);
	return REPLAY_OK;
}

bool replay_esn_infer(const struct replay_win *w, uint32_t seq_lo, uint64_t *seq)
{
	uint32_t tl = (uint32_t)w->top;
	uint32_t th = (uint32_t)(w->top >> 32);
	uint32_t bottom = tl - w->size + 1; /* modulo 2^32 */

	if (tl >= w->size - 1) {
		/* Case A: the window lies within one sequence number subspace. */
		if (seq_lo >= bottom) {
			*seq = ((uint64_t)th << 32) | seq_lo;
		} else {
			if (th == UINT32_MAX)
				return false;
			*seq = ((uint64_t)(th + 1) << 32) | seq_lo;
		}
		return true;
	}
	/* Case B: the window spans two subspaces. */
	if (seq_lo >= bottom) {
		if (th == 0)
			return false; /* would be before the first packet */
		*seq = ((uint64_t)(th - 1) << 32) | seq_lo;
	} else {
		*seq = ((uint64_t)th << 32) | seq_lo;
	}
	return true;
}
