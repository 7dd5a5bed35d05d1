/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the ED <-> VNOC receive path on untrusted bytes. The input is a
 * byte stream read in chunks (size from the first byte, with -EAGAIN between
 * chunks) through vprn_frame_read(); every frame goes through
 * vprn_msg_decode() (unpack + enum mapping + validation). A message that
 * decodes must encode again and decode to the same kind and sequence.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/frame.h"
#include "common/msg.h"

struct stream {
	const uint8_t *data;
	size_t len, pos;
	size_t chunk;
	bool again;
};

static ssize_t stream_read(void *ctx, void *buf, size_t len)
{
	struct stream *s = ctx;
	size_t n;

	if (s->again) {
		s->again = false;
		return -EAGAIN;
	}
	if (s->pos == s->len)
		return 0;
	n = s->len - s->pos;
	if (n > len)
		n = len;
	if (n > s->chunk)
		n = s->chunk;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	s->again = true;
	return (ssize_t)n;
}

static void check_roundtrip(const struct vprn_msg *m)
{
	struct vprn_msg again;
	uint8_t *buf;
	size_t len;

	if (vprn_msg_encode(m, &buf, &len) != 0)
		abort(); /* a validated message must be encodable */
	if (vprn_msg_decode(buf, len, &again) != 0)
		abort();
	if (again.type != m->type || again.seq != m->seq)
		abort();
	vprn_msg_free(&again);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stream s;
	struct vprn_frame_rx rx;

	if (size < 1)
		return 0;
	s = (struct stream){ .data = data + 1, .len = size - 1, .chunk = (size_t)data[0] + 1 };
	/* A small maximum so that the fuzzer reaches the oversize path cheaply. */
	vprn_frame_rx_init(&rx, 64 * 1024);
	for (int guard = 0; guard < 100000; guard++) {
		uint8_t *payload;
		uint32_t len;
		struct vprn_msg m;
		int rc = vprn_frame_read(&rx, stream_read, &s, &payload, &len);

		if (rc < 0)
			break;
		if (rc == 0)
			continue;
		if (vprn_msg_decode(payload, len, &m) == 0) {
			if (vprn_msg_validate(&m, NULL) != 0)
				abort();
			check_roundtrip(&m);
			vprn_msg_free(&m);
		}
		free(payload);
	}
	vprn_frame_rx_fini(&rx);
	return 0;
}
