/* SPDX-License-Identifier: BSD-3-Clause */
/* Anti-replay window: table-driven (RFC 4303 section 3.4.3 and Appendix A). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "replay.h"

/* One row: a sequence number arrives; expected check verdict; authentic? (update) */
struct row {
	uint64_t seq;
	enum replay_verdict want;
};

static void run_table(uint32_t size, const struct row *rows, size_t n)
{
	struct replay_win w;

	replay_init(&w, size);
	for (size_t i = 0; i < n; i++) {
		enum replay_verdict c = replay_check(&w, rows[i].seq);
		enum replay_verdict u = replay_update(&w, rows[i].seq);

		if (c != rows[i].want || u != rows[i].want)
			fail_msg("window %u row %zu seq %llu: check %d update %d want %d", size, i,
				(unsigned long long)rows[i].seq, c, u, rows[i].want);
	}
}

static void test_window_64(void **state)
{
	static const struct row rows[] = {
		{ 0, REPLAY_OLD }, /* 0 is never sent */
		{ 1, REPLAY_OK },  /* in order */
		{ 2, REPLAY_OK },
		{ 2, REPLAY_DUP }, /* duplicate */
		{ 5, REPLAY_OK },  /* gap */
		{ 4, REPLAY_OK },  /* out of order within the window */
		{ 3, REPLAY_OK },
		{ 4, REPLAY_DUP },
		{ 68, REPLAY_OK }, /* top 68: window is 5..68 */
		{ 4, REPLAY_OLD }, /* too old */
		{ 5, REPLAY_DUP }, /* oldest in window, received */
		{ 6, REPLAY_OK },  /* oldest + 1, never received */
		{ 6, REPLAY_DUP },
		{ 1000, REPLAY_OK }, /* jump far beyond the window */
		{ 68, REPLAY_OLD },
		{ 936, REPLAY_OLD }, /* 1000 - 64 */
		{ 937, REPLAY_OK },  /* 1000 - 63: left edge */
		{ 999, REPLAY_OK },
		{ 1000, REPLAY_DUP },
		{ 1064, REPLAY_OK }, /* exactly one window later */
		{ 1000, REPLAY_OLD },
		{ 1001, REPLAY_OK }, /* left edge after the slide, bit cleared by the slide */
		{ 1063, REPLAY_OK },
	};

	(void)state;
	run_table(64, rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_window_4096(void **state)
{
	static const struct row rows[] = {
		{ 1, REPLAY_OK },
		{ 4096, REPLAY_OK },
		{ 1, REPLAY_DUP }, /* 4096 - 1 < 4096: still inside */
		{ 2, REPLAY_OK },
		{ 4097, REPLAY_OK }, /* window 2..4097 */
		{ 1, REPLAY_OLD },
		{ 2, REPLAY_DUP },
		{ 3, REPLAY_OK },
		{ 3000, REPLAY_OK },
		{ 3000, REPLAY_DUP },
		{ 9000, REPLAY_OK }, /* jump > window: everything older forgotten */
		{ 4905, REPLAY_OK }, /* 9000 - 4095: left edge */
		{ 4904, REPLAY_OLD },
		{ 8999, REPLAY_OK },
		{ 8999, REPLAY_DUP },
		{ 9001, REPLAY_OK },
		{ 9000, REPLAY_DUP },
	};

	(void)state;
	run_table(4096, rows, sizeof(rows) / sizeof(rows[0]));
}

/* Every sequence number in a window-sized sweep, after a long history: no stale bits. */
static void test_ring_reuse(void **state)
{
	struct replay_win w;

	(void)state;
	replay_init(&w, 1024);
	for (uint64_t s = 1; s < 20000; s += 3)
		assert_int_equal(replay_update(&w, s), REPLAY_OK);
	/* Top is 19999: numbers 18976..19999 are in the window. */
	for (uint64_t s = 18976; s < 20000; s++)
		assert_int_equal(replay_check(&w, s), (s - 1) % 3 == 0 ? REPLAY_DUP : REPLAY_OK);
	assert_int_equal(replay_check(&w, 18975), REPLAY_OLD);
}

/* ESN inference (RFC 4303 Appendix A2.2): (top, wire low 32) -> full 64-bit number. */
struct esn_row {
	uint64_t top;
	uint32_t size;
	uint32_t lo;
	bool ok;
	uint64_t want;
};

static void test_esn_infer(void **state)
{
	static const struct esn_row rows[] = {
		/* Case A: window inside one subspace. */
		{ 0x100000000ull + 5000, 1024, 5001, true, 0x100000000ull + 5001 },
		{ 0x100000000ull + 5000, 1024, 4000, true, 0x100000000ull + 4000 },
		{ 0x100000000ull + 5000, 1024, 3977, true, 0x100000000ull + 3977 }, /* edge */
		{ 0x100000000ull + 5000, 1024, 3976, true, 0x200000000ull + 3976 }, /* wrapped */
		/* Rollover: top near 2^32, the sender has wrapped. */
		{ 0xfffffff0ull, 64, 0x00000002, true, 0x100000002ull },
		{ 0xfffffff0ull, 64, 0xffffffe0, true, 0xffffffe0ull },
		/* Case B: window spans two subspaces (top just after a rollover). */
		{ 0x100000000ull + 10, 64, 0xfffffff0, true, 0xfffffff0ull },
		{ 0x100000000ull + 10, 64, 20, true, 0x100000000ull + 20 },
		{ 0x100000000ull + 10, 64, 5, true, 0x100000000ull + 5 },
		/* Case B at the very start: nothing before subspace 0. */
		{ 0, 1024, 0xfffffff0, false, 0 },
		{ 0, 1024, 1, true, 1 },
		{ 10, 4096, 0xfffff800, false, 0 },
		/* Top of the 64-bit space: no subspace after it. */
		{ UINT64_MAX - 5, 64, 1, false, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct replay_win w;
		uint64_t got = 0;
		bool ok;

		replay_init(&w, rows[i].size);
		w.top = rows[i].top;
		ok = replay_esn_infer(&w, rows[i].lo, &got);
		if (ok != rows[i].ok || (ok && got != rows[i].want))
			fail_msg("esn row %zu: ok %d got %llx", i, ok, (unsigned long long)got);
	}
}

/* ESN end to end through the window: packets around the 2^32 boundary. */
static void test_esn_rollover_sequence(void **state)
{
	static const uint32_t wire[] = { 0xfffffffe, 0xffffffff, 0x0, 0x1, 0xfffffffd, 0x2, 0x1 };
	static const enum replay_verdict want[] = { REPLAY_OK, REPLAY_OK, REPLAY_OK, REPLAY_OK,
		REPLAY_OK, REPLAY_OK, REPLAY_DUP };
	struct replay_win w;

	(void)state;
	replay_init(&w, 64);
	w.top = 0xfffffff0ull;
	for (size_t i = 0; i < sizeof(wire) / sizeof(wire[0]); i++) {
		uint64_t s;

		assert_true(replay_esn_infer(&w, wire[i], &s));
		assert_int_equal(replay_update(&w, s), want[i]);
	}
	assert_int_equal(w.top, 0x100000002ull);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_64),
		cmocka_unit_test(test_window_4096),
		cmocka_unit_test(test_ring_reuse),
		cmocka_unit_test(test_esn_infer),
		cmocka_unit_test(test_esn_rollover_sequence),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
