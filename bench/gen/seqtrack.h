/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_SEQTRACK_H
#define VPRN_BENCH_SEQTRACK_H

/*
 * Per-flow sequence tracking on the receiver: counts packets, unique
 * sequence numbers, duplicates and reordered arrivals from a 32-bit wire
 * sequence number (extended to 64 bits around the highest seen), with a
 * 1024-entry window of what arrived. Loss is what never arrived: the
 * expected count (known when the sender is in the same process) or the
 * highest seen, minus the unique ones. Pure code, single writer.
 */

#include <stdint.h>

#define SEQTRACK_WINDOW 1024u

enum seqtrack_verdict {
	SEQ_IN_ORDER,  /**< the next expected one */
	SEQ_GAP,       /**< ahead of the next expected: some are missing (for now) */
	SEQ_REORDERED, /**< behind the highest seen, not seen before */
	SEQ_DUP,       /**< seen before */
	SEQ_LATE,      /**< too far behind to tell (older than the window) */
};

struct seqtrack {
	uint64_t base;	   /**< first sequence number the sender uses (0, or 1 for ESP) */
	uint64_t next;	   /**< highest extended seq seen + 1; base if none yet */
	uint64_t received; /**< every packet, duplicates included */
	uint64_t unique;   /**< distinct sequence numbers (late ones counted here too) */
	uint64_t dup;
	uint64_t reordered; /**< arrivals behind the highest seen, late ones included */
	uint64_t late;
	uint64_t window[SEQTRACK_WINDOW / 64];
};

void seqtrack_init(struct seqtrack *st, uint64_t base);

/** Account one packet carrying the low 32 bits of its sequence number. */
enum seqtrack_verdict seqtrack_add(struct seqtrack *st, uint32_t seq);

/**
 * Packets lost: expected - unique when expected (sequence numbers the
 * sender issued) is known (non-zero), else gaps below the highest seen.
 */
uint64_t seqtrack_lost(const struct seqtrack *st, uint64_t expected);

#endif /* VPRN_BENCH_SEQTRACK_H */
