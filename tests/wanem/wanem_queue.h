/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_WANEM_QUEUE_H
#define VPRN_WANEM_QUEUE_H

/*
 * The delay line: a binary min-heap of packets ordered by (due time, arrival
 * sequence). The sequence tie-break keeps packets with equal due times in
 * arrival order, so a pair without jitter never reorders.
 */

#include <stddef.h>
#include <stdint.h>

struct wanem_pkt {
	uint64_t due_ns;
	uint64_t seq;
	uint16_t src; /* link indexes */
	uint16_t dst;
	uint32_t nexthop; /* host order */
	uint32_t len;
	uint8_t data[]; /* full Ethernet frame */
};

struct wanem_queue {
	struct wanem_pkt **heap;
	size_t n;
	size_t cap;
	size_t limit;
	uint64_t next_seq;
};

/** Allocate a packet holding `len` bytes of frame. NULL on failure. */
struct wanem_pkt *wanem_pkt_alloc(size_t len);
void wanem_pkt_free(struct wanem_pkt *p);

int wanem_queue_init(struct wanem_queue *q, size_t limit);
void wanem_queue_fini(struct wanem_queue *q);
/** Insert; sets p->seq. 0, or -ENOBUFS when the queue holds `limit` packets. */
int wanem_queue_push(struct wanem_queue *q, struct wanem_pkt *p);
/** The earliest packet, or NULL. */
struct wanem_pkt *wanem_queue_peek(const struct wanem_queue *q);
/** Remove and return the earliest packet, or NULL. */
struct wanem_pkt *wanem_queue_pop(struct wanem_queue *q);

#endif /* VPRN_WANEM_QUEUE_H */
