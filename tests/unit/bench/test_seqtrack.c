/* SPDX-License-Identifier: BSD-3-Clause */
/* vprn-bench's receiver bookkeeping: sequence tracking and latency histogram. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "hist.h"
#include "seqtrack.h"

struct seq_row {
	uint32_t seq;
	enum seqtrack_verdict want;
};

static void run_rows(struct seqtrack *st, const struct seq_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum seqtrack_verdict v = seqtrack_add(st, rows[i].seq);

		if (v != rows[i].want)
			fail_msg("row %zu: seq %u gave %d, want %d", i, rows[i].seq, v,
				rows[i].want);
	}
}

static void test_in_order(void **state)
{
	struct seqtrack st;

	(void)state;
	seqtrack_init(&st, 0);
	for (uint32_t s = 0; s < 5000; s++)
		assert_int_equal(seqtrack_add(&st, s), SEQ_IN_ORDER);
	assert_int_equal(st.received, 5000);
	assert_int_equal(st.unique, 5000);
	assert_int_equal(st.dup + st.reordered + st.late, 0);
	assert_int_equal(seqtrack_lost(&st, 5000), 0);
	assert_int_equal(seqtrack_lost(&st, 0), 0);
	assert_int_equal(seqtrack_lost(&st, 5003), 3); /* tail loss needs the sender's count */
}

static void test_gap_dup_reorder(void **state)
{
	static const struct seq_row rows[] = {
		{ 0, SEQ_IN_ORDER },
		{ 1, SEQ_IN_ORDER },
		{ 3, SEQ_GAP }, /* 2 missing */
		{ 3, SEQ_DUP },
		{ 2, SEQ_REORDERED },
		{ 2, SEQ_DUP }, /* 2 filled, then dup */
		{ 4, SEQ_IN_ORDER },
		{ 10, SEQ_GAP },
		{ 7, SEQ_REORDERED }, /* 5,6,8,9 missing */
		{ 11, SEQ_IN_ORDER },
	};
	struct seqtrack st;

	(void)state;
	seqtrack_init(&st, 0);
	run_rows(&st, rows, sizeof(rows) / sizeof(rows[0]));
	assert_int_equal(st.received, 10);
	assert_int_equal(st.unique, 8);
	assert_int_equal(st.dup, 2);
	assert_int_equal(st.reordered, 2);
	assert_int_equal(seqtrack_lost(&st, 0), 4);  /* 12 below the highest, 8 arrived */
	assert_int_equal(seqtrack_lost(&st, 14), 6); /* 12, 13 never sent before the end */
}

static void test_window_and_late(void **state)
{
	struct seqtrack st;

	(void)state;
	seqtrack_init(&st, 0);
	assert_int_equal(seqtrack_add(&st, 0), SEQ_IN_ORDER);
	assert_int_equal(seqtrack_add(&st, 5000), SEQ_GAP);
	/* Older than the window: cannot tell a duplicate from a late packet. */
	assert_int_equal(seqtrack_add(&st, 1), SEQ_LATE);
	/* Just inside the window: tracked exactly. */
	assert_int_equal(seqtrack_add(&st, 5000 - SEQTRACK_WINDOW + 1), SEQ_REORDERED);
	assert_int_equal(seqtrack_add(&st, 5000 - SEQTRACK_WINDOW + 1), SEQ_DUP);
	/* A jump larger than the window clears it: the old slot of 5000 is reused. */
	assert_int_equal(seqtrack_add(&st, 5000 + SEQTRACK_WINDOW), SEQ_GAP);
	assert_int_equal(seqtrack_add(&st, 5000 + SEQTRACK_WINDOW + 1), SEQ_IN_ORDER);
	assert_int_equal(st.late, 1);
}

static void test_wrap(void **state)
{
	struct seqtrack st;
	uint32_t s = UINT32_MAX - 2;

	(void)state;
	seqtrack_init(&st, 0);
	st.next = s; /* test seam: near the 32-bit wrap */
	for (int i = 0; i < 6; i++)
		assert_int_equal(seqtrack_add(&st, s + (uint32_t)i), SEQ_IN_ORDER);
	assert_true(st.next == (uint64_t)UINT32_MAX + 4);
	assert_int_equal(seqtrack_add(&st, UINT32_MAX), SEQ_DUP); /* behind, across the wrap */
}

static void test_esp_base(void **state)
{
	struct seqtrack st;

	(void)state;
	seqtrack_init(&st, 1); /* ESP: the first sequence number is 1 */
	for (uint32_t s = 1; s <= 100; s++)
		if (s != 50)
			seqtrack_add(&st, s);
	assert_int_equal(seqtrack_lost(&st, 0), 1);
}

static void test_hist_buckets(void **state)
{
	static const uint64_t values[] = { 0, 1, 31, 32, 33, 34, 63, 64, 1000, 123456, 1u << 30 };

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		unsigned int b = hist_bucket_of(values[i]);

		assert_true(b < HIST_N_BUCKETS);
		assert_true(hist_bucket_upper(b) >= values[i]);
		/* Relative error of a bucket's upper bound stays under 1/16. */
		assert_true(hist_bucket_upper(b) - values[i] <= values[i] / 16 + 1);
		if (b > 0)
			assert_true(hist_bucket_upper(b - 1) < values[i]);
	}
	assert_int_equal(hist_bucket_of(31), 31);
	assert_int_equal(hist_bucket_of(32), 32);
	assert_int_equal(hist_bucket_of(34), 33);
}

static void test_hist_quantiles(void **state)
{
	struct hist h, h2;

	(void)state;
	hist_reset(&h);
	assert_int_equal(hist_quantile(&h, 0.5), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_add(&h, v * 100); /* 100 ns .. 100 us */
	assert_int_equal(h.count, 1000);
	assert_int_equal(h.min_ns, 100);
	assert_int_equal(h.max_ns, 100000);
	/* The 500th value is 50000 ns; the answer is its bucket's bound (< 6.25 % above). */
	assert_true(hist_quantile(&h, 0.5) >= 50000 && hist_quantile(&h, 0.5) <= 53125);
	assert_true(hist_quantile(&h, 0.99) >= 99000 && hist_quantile(&h, 0.99) <= 100000);
	assert_int_equal(hist_quantile(&h, 1.0), 100000);
	hist_reset(&h2);
	hist_add(&h2, 7);
	hist_merge(&h2, &h);
	assert_int_equal(h2.count, 1001);
	assert_int_equal(h2.min_ns, 7);
	assert_int_equal(hist_quantile(&h2, 0.0001), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order),
		cmocka_unit_test(test_gap_dup_reorder),
		cmocka_unit_test(test_window_and_late),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_esp_base),
		cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_hist_quantiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
