/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_CLASSIFY_H
#define VPRN_BENCH_CLASSIFY_H

/*
 * What the receiver makes of one frame: one of ours (the stamp after an
 * IPv4/UDP header), ESP (IP protocol 50, or UDP/4500 with a non-zero first
 * word), or foreign. Pure code on a byte buffer, no DPDK: every length is
 * checked before it is read (fuzzed by tests/fuzz/bench).
 */

#include <stdint.h>

#include "stamp.h"

enum pkt_kind {
	PKT_FOREIGN,
	PKT_STAMP,
	PKT_ESP,
};

struct pkt_info {
	struct bench_stamp stamp; /**< PKT_STAMP: copied out (unaligned in the frame) */
	uint32_t dst;		  /**< PKT_ESP: outer IPv4 destination, host order */
	uint32_t spi;		  /**< PKT_ESP: host order */
	uint32_t esp_seq;	  /**< PKT_ESP: host order */
};

enum pkt_kind bench_classify(const uint8_t *frame, uint32_t len, struct pkt_info *pi);

#endif /* VPRN_BENCH_CLASSIFY_H */
