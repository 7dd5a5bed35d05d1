/* SPDX-License-Identifier: BSD-3-Clause */
#include "seqtrack.h"

#include <string.h>

void seqtrack_init(struct seqtrack *st, uint64_t base)
{
	memset(st, 0, sizeof(*st));
	st->base = base;
	st->next = base;
}

static inline uint64_t *win_word(struct seqtrack *st, uint64_t s)
{
	return &st->window[(s % SEQTRACK_WINDOW) / 64];
}

static inline uint64_t win_bit(uint64_t s)
{
	return 1ull << (s % 64);
}

/* Extend the 32-bit wire value to the 64-bit sequence closest to next. */
static uint64_t seq_extend(const struct seqtrack *st, uint32_t seq)
{
	int32_t diff = (int32_t)(seq - (uint32_t)st->next);

	if (diff < 0 && (uint64_t)(-(int64_t)diff) > st->next)
		return seq; /* before any wrap: no negative sequence numbers */
	return st->next + (uint64_t)(int64_t)diff;
}

/* Advance the window so that it ends at s (inclusive): clear the slots reused. */
static void win_advance(struct seqtrack *st, uint64_t s)
{
	if (s + 1 - st->next >= SEQTRACK_WINDOW) {
		memset(st->window, 0, sizeof(st->window));
	} else {
		for (uint64_t i = st->next; i <= s; i++)
			*win_word(st, i) &= ~win_bit(i);
	}
	st->next = s + 1;
}

enum seqtrack_verdict seqtrack_add(struct seqtrack *st, uint32_t seq)
{
	uint64_t s = seq_extend(st, seq);
	enum seqtrack_verdict v;

	st->received++;
	if (s >= st->next) {
		v = s == st->next ? SEQ_IN_ORDER : SEQ_GAP;
		win_advance(st, s);
		*win_word(st, s) |= win_bit(s);
		st->unique++;
		return v;
	}
	if (st->next - s > SEQTRACK_WINDOW) {
		st->late++;
		st->reordered++;
		st->unique++;
		return SEQ_LATE;
	}
	if (*win_word(st, s) & win_bit(s)) {
		st->dup++;
		return SEQ_DUP;
	}
	*win_word(st, s) |= win_bit(s);
	st->reordered++;
	st->unique++;
	return SEQ_REORDERED;
}

uint64_t seqtrack_lost(const struct seqtrack *st, uint64_t expected)
{
	uint64_t want = expected != 0 ? expected : st->next - st->base;

	return want > st->unique ? want - st->unique : 0;
}
