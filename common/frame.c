/* SPDX-License-Identifier: BSD-3-Clause */
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct vprn_frame_buf {
	struct vprn_frame_buf *next;
	size_t len; /* header + payload */
	size_t off; /* bytes already written */
	uint8_t data[];
};

void vprn_frame_rx_init(struct vprn_frame_rx *rx, uint32_t max)
{
	memset(rx, 0, sizeof(*rx));
	rx->max = max != 0 && max <= VPRN_FRAME_MAX ? max : VPRN_FRAME_MAX;
}

void vprn_frame_rx_fini(struct vprn_frame_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
	rx->hdr_got = 0;
	rx->got = 0;
}

/* Read into dst[*got..want); returns 1 complete, 0 would block, <0 error/EOF. */
static int fill(
	vprn_io_fn rd, void *ctx, uint8_t *dst, uint32_t want, uint32_t *got, bool between_frames)
{
	while (*got < want) {
		ssize_t n = rd(ctx, dst + *got, want - *got);

		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return between_frames && *got == 0 ? -ECONNRESET : -EPIPE;
		if (n < 0)
			return (int)n;
		if ((size_t)n > want - *got)
			return -EIO; /* a broken reader: never trust it past the buffer */
		*got += (uint32_t)n;
	}
	return 1;
}

int vprn_frame_read(
	struct vprn_frame_rx *rx, vprn_io_fn rd, void *ctx, uint8_t **payload, uint32_t *len)
{
	int rc;

	if (rx->hdr_got < VPRN_FRAME_HDR_LEN) {
		rc = fill(rd, ctx, rx->hdr, VPRN_FRAME_HDR_LEN, &rx->hdr_got, true);
		if (rc <= 0)
			return rc;
		rx->len = (uint32_t)rx->hdr[0] << 24 | (uint32_t)rx->hdr[1] << 16 |
			  (uint32_t)rx->hdr[2] << 8 | rx->hdr[3];
		/* Checked before any allocation: a peer cannot make us reserve memory. */
		if (rx->len == 0)
			return -EBADMSG;
		if (rx->len > rx->max)
			return -EMSGSIZE;
		rx->buf = malloc(rx->len);
		if (rx->buf == NULL)
			return -ENOMEM;
		rx->got = 0;
	}
	rc = fill(rd, ctx, rx->buf, rx->len, &rx->got, false);
	if (rc <= 0)
		return rc;
	*payload = rx->buf;
	*len = rx->len;
	rx->buf = NULL;
	rx->hdr_got = 0;
	rx->got = 0;
	return 1;
}

void vprn_frame_txq_init(struct vprn_frame_txq *q, size_t max_bytes)
{
	memset(q, 0, sizeof(*q));
	q->max_bytes = max_bytes;
}

void vprn_frame_txq_fini(struct vprn_frame_txq *q)
{
	struct vprn_frame_buf *b = q->head;

	while (b != NULL) {
		struct vprn_frame_buf *next = b->next;

		/* Frames may carry SA keys: wipe before free. */
		explicit_bzero(b->data, b->len);
		free(b);
		b = next;
	}
	q->head = q->tail = NULL;
	q->bytes = 0;
	q->frames = 0;
}

int vprn_frame_txq_push(struct vprn_frame_txq *q, const uint8_t *payload, size_t len)
{
	struct vprn_frame_buf *b;
	size_t total = len + VPRN_FRAME_HDR_LEN;

	if (len == 0 || len > VPRN_FRAME_MAX)
		return -EMSGSIZE;
	if (q->bytes + total > q->max_bytes)
		return -ENOBUFS;
	b = malloc(sizeof(*b) + total);
	if (b == NULL)
		return -ENOMEM;
	b->next = NULL;
	b->len = total;
	b->off = 0;
	b->data[0] = (uint8_t)(len >> 24);
	b->data[1] = (uint8_t)(len >> 16);
	b->data[2] = (uint8_t)(len >> 8);
	b->data[3] = (uint8_t)len;
	memcpy(b->data + VPRN_FRAME_HDR_LEN, payload, len);
	if (q->tail != NULL)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	q->bytes += total;
	q->frames++;
	return 0;
}

int vprn_frame_txq_flush(struct vprn_frame_txq *q, vprn_io_fn wr, void *ctx)
{
	while (q->head != NULL) {
		struct vprn_frame_buf *b = q->head;
		ssize_t n = wr(ctx, b->data + b->off, b->len - b->off);

		if (n == -EAGAIN)
			return 1;
		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > b->len - b->off)
			return -EIO;
		b->off += (size_t)n;
		q->bytes -= (size_t)n;
		if (b->off < b->len)
			continue;
		q->head = b->next;
		if (q->head == NULL)
			q->tail = NULL;
		q->frames--;
		explicit_bzero(b->data, b->len);
		free(b);
	}
	return 0;
}
