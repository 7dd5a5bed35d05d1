/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_FRAME_H
#define VPRN_COMMON_FRAME_H

/**
 * @file
 * Framing of the ED <-> VNOC stream: a 4-byte big-endian length, then that
 * many bytes of protobuf Envelope. The length is checked against a maximum
 * before anything is allocated; zero is refused (an envelope always has a
 * version and a body). Works on non-blocking byte streams (TLS or plain)
 * through an I/O callback, keeping partial progress between calls.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VPRN_FRAME_HDR_LEN 4
#define VPRN_FRAME_MAX (1u << 20) /**< default maximum payload: 1 MiB */

/**
 * Byte stream I/O: returns bytes moved (> 0), 0 at end of stream (read only),
 * -EAGAIN when it would block, or another -errno.
 */
typedef ssize_t (*vprn_io_fn)(void *ctx, void *buf, size_t len);

/** Receive state of one stream. */
struct vprn_frame_rx {
	uint32_t max; /**< largest accepted payload */
	uint8_t hdr[VPRN_FRAME_HDR_LEN];
	uint32_t hdr_got;
	uint8_t *buf; /**< payload being filled (heap) */
	uint32_t len; /**< payload length announced */
	uint32_t got;
};

void vprn_frame_rx_init(struct vprn_frame_rx *rx, uint32_t max);
void vprn_frame_rx_fini(struct vprn_frame_rx *rx);

/**
 * Read until one whole frame is in, or the stream would block.
 * @return 1 and (*payload, *len) set: a frame (the caller free()s payload);
 *         0: need more bytes (-EAGAIN from the stream);
 *         -EMSGSIZE: announced length > max; -EBADMSG: zero length;
 *         -ECONNRESET: clean end of stream between frames;
 *         -EPIPE: end of stream inside a frame (truncated);
 *         other -errno from the stream.
 */
int vprn_frame_read(
	struct vprn_frame_rx *rx, vprn_io_fn rd, void *ctx, uint8_t **payload, uint32_t *len);

/** One queued frame (header + payload in one allocation). */
struct vprn_frame_buf;

/** Bounded send queue: at most max_bytes of frames waiting. */
struct vprn_frame_txq {
	struct vprn_frame_buf *head, *tail;
	size_t bytes; /**< queued bytes not yet written */
	size_t max_bytes;
	uint32_t frames;
};

void vprn_frame_txq_init(struct vprn_frame_txq *q, size_t max_bytes);
void vprn_frame_txq_fini(struct vprn_frame_txq *q);

/**
 * Queue one frame (copies payload). @return 0, -EMSGSIZE (len 0 or > VPRN_FRAME_MAX),
 * -ENOBUFS (queue full: the peer is not reading), -ENOMEM.
 */
int vprn_frame_txq_push(struct vprn_frame_txq *q, const uint8_t *payload, size_t len);

/**
 * Write as much as the stream takes.
 * @return 0: queue empty; 1: bytes remain (stream would block); -errno.
 */
int vprn_frame_txq_flush(struct vprn_frame_txq *q, vprn_io_fn wr, void *ctx);

static inline bool vprn_frame_txq_empty(const struct vprn_frame_txq *q)
{
	return q->head == NULL;
}

#endif /* VPRN_COMMON_FRAME_H */
