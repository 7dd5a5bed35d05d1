/* SPDX-License-Identifier: BSD-3-Clause */
/* vprn-bench's receiver classification: a table of frames and verdicts. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "classify.h"

/* Ethernet + IPv4 (IHL ihl) + protocol, payload appended by the caller. */
static size_t frame(uint8_t *f, uint16_t ethertype, uint8_t ihl, uint8_t proto, uint32_t dst)
{
	memset(f, 0, 128);
	f[12] = (uint8_t)(ethertype >> 8);
	f[13] = (uint8_t)ethertype;
	f[14] = (uint8_t)(0x40 | ihl);
	f[14 + 9] = proto;
	f[14 + 16] = (uint8_t)(dst >> 24);
	f[14 + 17] = (uint8_t)(dst >> 16);
	f[14 + 18] = (uint8_t)(dst >> 8);
	f[14 + 19] = (uint8_t)dst;
	return 14u + ihl * 4u;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static size_t stamp_frame(uint8_t *f, uint8_t ihl, uint16_t magic)
{
	size_t l4 = frame(f, 0x0800, ihl, 17, 0xef010101);
	struct bench_stamp st = { magic, 7, 1234, 99 };

	f[l4 + 2] = 0x13; /* dport 5001 */
	f[l4 + 3] = 0x89;
	memcpy(f + l4 + 8, &st, sizeof(st));
	return l4 + 8 + sizeof(st);
}

static size_t esp_frame(uint8_t *f, bool natt, uint32_t spi)
{
	size_t off = frame(f, 0x0800, 5, natt ? 17 : 50, 0x0a640202);

	if (natt) {
		f[off + 2] = 0x11; /* dport 4500 */
		f[off + 3] = 0x94;
		off += 8;
	}
	put32(f + off, spi);
	put32(f + off + 4, 77);
	return off + 8 + 16;
}

static void test_table(void **state)
{
	uint8_t f[128];
	struct pkt_info pi;
	size_t n;

	(void)state;
	n = stamp_frame(f, 5, BENCH_STAMP_MAGIC);
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_STAMP);
	assert_int_equal(pi.stamp.flow, 7);
	assert_int_equal(pi.stamp.seq, 1234);
	assert_int_equal(pi.stamp.tsc, 99);
	/* One byte short of the stamp: foreign, never a read past the end. */
	assert_int_equal(bench_classify(f, (uint32_t)n - 1, &pi), PKT_FOREIGN);
	n = stamp_frame(f, 6, BENCH_STAMP_MAGIC); /* IPv4 options: the stamp moves */
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_STAMP);
	assert_int_equal(pi.stamp.seq, 1234);
	n = stamp_frame(f, 5, 0x1234); /* someone else's UDP */
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_FOREIGN);
	n = stamp_frame(f, 4, BENCH_STAMP_MAGIC); /* IHL below 5 */
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_FOREIGN);
	n = stamp_frame(f, 5, BENCH_STAMP_MAGIC);
	f[12] = 0x86; /* IPv6 ethertype */
	f[13] = 0xdd;
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_FOREIGN);

	n = esp_frame(f, false, 0x1005);
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_ESP);
	assert_int_equal(pi.spi, 0x1005);
	assert_int_equal(pi.esp_seq, 77);
	assert_int_equal(pi.dst, 0x0a640202);
	assert_int_equal(bench_classify(f, 14 + 20 + 7, &pi), PKT_FOREIGN); /* ESP header cut */
	n = esp_frame(f, true, 0x2006);
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_ESP);
	assert_int_equal(pi.spi, 0x2006);
	n = esp_frame(f, true, 0); /* UDP/4500 with a zero marker: IKE, not ESP */
	assert_int_equal(bench_classify(f, (uint32_t)n, &pi), PKT_FOREIGN);
	assert_int_equal(bench_classify(f, 0, &pi), PKT_FOREIGN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
