/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_ESP_REPLAY_H
#define VPRN_DATAPLANE_ESP_REPLAY_H

/*
 * Anti-replay window (RFC 4303 section 3.4.3, Appendix A for ESN).
 *
 * A ring of 64-bit words (RFC 6479 style): bit (seq mod RING_BITS) says
 * whether seq was received. Sliding right only clears the words the top moves
 * over, so an update costs O(words crossed), never O(window). The ring has
 * one spare word beyond the window so that the word holding `top` and the
 * oldest word of the window never collide.
 *
 * Single writer (the lcore that owns the inbound SA). Sequence numbers here
 * are the full 64-bit values (without ESN the high half is always 0);
 * replay_esn_infer() reconstructs them from the 32 bits on the wire.
 */

#include <stdbool.h>
#include <stdint.h>

#define REPLAY_RING_WORDS 128 /* power of 2, * 64 >= ESP_REPLAY_WIN_MAX + 64 */

struct replay_win {
	uint64_t top;  /* highest sequence number accepted so far (0 = none) */
	uint32_t size; /* window size W in packets */
	uint32_t pad_;
	uint64_t bits[REPLAY_RING_WORDS];
};

enum replay_verdict {
	REPLAY_OK = 0,
	REPLAY_DUP = 1, /* already received */
	REPLAY_OLD = 2, /* left of the window (or sequence number 0) */
};

/** Empty window of size W (64..4096; the caller validated it). */
void replay_init(struct replay_win *w, uint32_t size);

/** Check only (before decryption). */
enum replay_verdict replay_check(const struct replay_win *w, uint64_t seq);

/** Check again and record (after the ICV verified). */
enum replay_verdict replay_update(struct replay_win *w, uint64_t seq);

/**
 * RFC 4303 Appendix A2.2: the full 64-bit sequence number for the 32 bits
 * seen on the wire, given the window. Returns false if the number can only
 * be older than anything representable (high half would underflow).
 */
bool replay_esn_infer(const struct replay_win *w, uint32_t seq_lo, uint64_t *seq);

#endif /* VPRN_DATAPLANE_ESP_REPLAY_H */
