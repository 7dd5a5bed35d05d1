/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_STAMP_H
#define VPRN_BENCH_STAMP_H

/*
 * The 16-byte stamp vprn-bench writes right after the UDP header of every
 * generated packet. It fits a 64-byte frame (60 bytes without FCS:
 * 14 Ethernet + 20 IPv4 + 8 UDP + 16 stamp = 58). All fields are in host
 * byte order: sender and receiver are the same host (the TSC must be too).
 *
 * The sequence number is 32 bits on the wire; the receiver extends it to
 * 64 bits around the highest one seen (as ESP's ESN does), so a flow wraps
 * only after 4G packets within a reordering distance of 2G.
 */

#include <stdint.h>

#define BENCH_STAMP_MAGIC 0xbe4cu
#define BENCH_STAMP_LEN 16u

struct bench_stamp {
	uint16_t magic; /**< BENCH_STAMP_MAGIC */
	uint16_t flow;	/**< flow id, index into the generator's flow table */
	uint32_t seq;	/**< per-flow sequence number, low 32 bits, first = 0 */
	uint64_t tsc;	/**< rte_rdtsc() when the packet was built */
} __attribute__((packed));

_Static_assert(sizeof(struct bench_stamp) == BENCH_STAMP_LEN, "stamp layout");

/* Frame sizes are Ethernet frames including the 4-byte FCS (RFC 2544). */
#define BENCH_FCS_LEN 4u
#define BENCH_HDR_LEN (14u + 20u + 8u)
#define BENCH_MIN_FRAME 64u
#define BENCH_MAX_FRAME 9018u

#endif /* VPRN_BENCH_STAMP_H */
