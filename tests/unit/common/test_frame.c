/* SPDX-License-Identifier: BSD-3-Clause */
/* Framing: partial reads/writes, oversize and zero lengths, truncation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/frame.h"

/* A scripted stream: data handed out in chunks of at most `step` bytes, with
 * an -EAGAIN after every chunk when `stutter` is set, then end of stream. */
struct script {
	const uint8_t *data;
	size_t len, pos;
	size_t step;
	bool stutter;
	bool again_next;
	int calls;
};

static ssize_t script_read(void *ctx, void *buf, size_t len)
{
	struct script *s = ctx;
	size_t n;

	s->calls++;
	if (s->again_next) {
		s->again_next = false;
		return -EAGAIN;
	}
	if (s->pos == s->len)
		return 0;
	n = s->len - s->pos;
	if (n > len)
		n = len;
	if (n > s->step)
		n = s->step;
	memcpy(buf, s->data + s->pos, n);
	s->pos += n;
	s->again_next = s->stutter;
	return (ssize_t)n;
}

static void test_partial_reads(void **state)
{
	static const uint8_t stream[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 1, 'z' };
	struct script sc = { .data = stream, .len = sizeof(stream), .step = 1, .stutter = true };
	struct vprn_frame_rx rx;
	uint8_t *p = NULL;
	uint32_t len = 0;
	int rc, zeros = 0;

	(void)state;
	vprn_frame_rx_init(&rx, 64);
	while ((rc = vprn_frame_read(&rx, script_read, &sc, &p, &len)) == 0)
		zeros++;
	assert_int_equal(rc, 1);
	assert_int_equal(len, 3);
	assert_memory_equal(p, "abc", 3);
	assert_int_equal(zeros, 6); /* one -EAGAIN after each of the 7 bytes but the last */
	free(p);
	while ((rc = vprn_frame_read(&rx, script_read, &sc, &p, &len)) == 0)
		;
	assert_int_equal(rc, 1);
	assert_int_equal(len, 1);
	assert_int_equal(p[0], 'z');
	free(p);
	/* clean end between frames */
	while ((rc = vprn_frame_read(&rx, script_read, &sc, &p, &len)) == 0)
		;
	assert_int_equal(rc, -ECONNRESET);
	vprn_frame_rx_fini(&rx);
}

static void test_two_frames_one_chunk(void **state)
{
	static const uint8_t stream[] = { 0, 0, 0, 2, 'h', 'i', 0, 0, 0, 2, 'y', 'o' };
	struct script sc = { .data = stream, .len = sizeof(stream), .step = 1000 };
	struct vprn_frame_rx rx;
	uint8_t *p;
	uint32_t len;

	(void)state;
	vprn_frame_rx_init(&rx, 64);
	assert_int_equal(vprn_frame_read(&rx, script_read, &sc, &p, &len), 1);
	assert_memory_equal(p, "hi", 2);
	free(p);
	assert_int_equal(vprn_frame_read(&rx, script_read, &sc, &p, &len), 1);
	assert_memory_equal(p, "yo", 2);
	free(p);
	vprn_frame_rx_fini(&rx);
}

static int read_one(const uint8_t *stream, size_t n, uint32_t max)
{
	struct script sc = { .data = stream, .len = n, .step = 1000 };
	struct vprn_frame_rx rx;
	uint8_t *p = NULL;
	uint32_t len;
	int rc;

	vprn_frame_rx_init(&rx, max);
	rc = vprn_frame_read(&rx, script_read, &sc, &p, &len);
	if (rc == 1)
		free(p);
	/* The bad length is refused before the payload is allocated. */
	if (rc == -EMSGSIZE || rc == -EBADMSG)
		assert_null(rx.buf);
	vprn_frame_rx_fini(&rx);
	return rc;
}

static void test_bad_lengths(void **state)
{
	static const struct {
		uint8_t bytes[8];
		size_t n;
		uint32_t max;
		int expect;
	} rows[] = {
		{ { 0, 0, 0, 0 }, 4, 64, -EBADMSG },		  /* zero length */
		{ { 0, 0, 0, 65 }, 4, 64, -EMSGSIZE },		  /* max + 1 */
		{ { 0xff, 0xff, 0xff, 0xff }, 4, 64, -EMSGSIZE }, /* 4 GiB */
		{ { 0, 0x10, 0, 1 }, 4, 0, -EMSGSIZE },		  /* default max 1 MiB + 1 */
		{ { 0, 0, 0, 64 }, 4, 64, -EPIPE },	/* max is accepted; body missing */
		{ { 0, 0 }, 2, 64, -EPIPE },		/* EOF inside the header */
		{ { 0, 0, 0, 3, 'a' }, 5, 64, -EPIPE }, /* EOF inside the body */
		{ { 0 }, 0, 64, -ECONNRESET },		/* EOF before anything */
		{ { 0, 0, 0, 1, 'x' }, 5, 64, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(read_one(rows[i].bytes, rows[i].n, rows[i].max), rows[i].expect);
}

/* A writer that takes at most `step` bytes per call, -EAGAIN every other call. */
struct sink {
	uint8_t buf[256];
	size_t len;
	size_t step;
	bool again_next;
};

static ssize_t sink_write(void *ctx, void *buf, size_t len)
{
	struct sink *s = ctx;
	size_t n = len < s->step ? len : s->step;

	if (s->again_next) {
		s->again_next = false;
		return -EAGAIN;
	}
	if (n > sizeof(s->buf) - s->len)
		return -ENOSPC;
	memcpy(s->buf + s->len, buf, n);
	s->len += n;
	s->again_next = true;
	return (ssize_t)n;
}

static void test_txq(void **state)
{
	static const uint8_t expect[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0, 2, '!',
		'?' };
	struct vprn_frame_txq q;
	struct sink sk = { .step = 3 };
	int rc, rounds = 0;

	(void)state;
	vprn_frame_txq_init(&q, 16);
	assert_int_equal(vprn_frame_txq_push(&q, (const uint8_t *)"hello", 5), 0);
	assert_int_equal(vprn_frame_txq_push(&q, (const uint8_t *)"!?", 2), 0);
	assert_int_equal(q.bytes, 15);
	/* 15 queued + 4 + 1 > 16: the bound holds */
	assert_int_equal(vprn_frame_txq_push(&q, (const uint8_t *)"x", 1), -ENOBUFS);
	assert_int_equal(vprn_frame_txq_push(&q, (const uint8_t *)"x", 0), -EMSGSIZE);
	while ((rc = vprn_frame_txq_flush(&q, sink_write, &sk)) == 1)
		rounds++;
	assert_int_equal(rc, 0);
	assert_true(rounds >= 4);
	assert_int_equal(sk.len, sizeof(expect));
	assert_memory_equal(sk.buf, expect, sizeof(expect));
	assert_true(vprn_frame_txq_empty(&q));
	assert_int_equal(q.bytes, 0);
	/* room again */
	assert_int_equal(vprn_frame_txq_push(&q, (const uint8_t *)"x", 1), 0);
	vprn_frame_txq_fini(&q);
	assert_true(vprn_frame_txq_empty(&q));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_partial_reads),
		cmocka_unit_test(test_two_frames_one_chunk),
		cmocka_unit_test(test_bad_lengths),
		cmocka_unit_test(test_txq),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
