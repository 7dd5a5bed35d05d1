/* SPDX-License-Identifier: BSD-3-Clause */
/* ED reconnect back-off: exponential, capped, jitter within [d/2, d]. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "control/backoff.h"

static void test_table(void **state)
{
	static const struct {
		uint32_t min, max, attempts, rnd, expect;
	} rows[] = {
		{ 250, 8000, 0, 0, 125 },	 /* first retry, lowest jitter: d/2 */
		{ 250, 8000, 0, 125, 250 },	 /* highest jitter: d */
		{ 250, 8000, 0, 126, 125 },	 /* rnd wraps modulo d/2 + 1 */
		{ 250, 8000, 1, 250, 500 },	 /* doubles */
		{ 250, 8000, 4, 2000, 4000 },	 /* 250 * 16 */
		{ 250, 8000, 5, 4000, 8000 },	 /* reaches the cap */
		{ 250, 8000, 6, 4000, 8000 },	 /* stays at the cap */
		{ 250, 8000, 1000000, 0, 4000 }, /* no overflow for huge counts */
		{ 250, 8000, 0xffffffffu, 4000, 8000 },
		{ 300, 1000, 2, 500, 1000 }, /* 1200 capped to 1000 */
		{ 100, 100, 3, 7, 57 },	     /* min = max: fixed d, jitter only */
		{ 0, 10, 0, 0, 0 },	     /* min 0 treated as 1 ms */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t d =
			ed_backoff_delay(rows[i].min, rows[i].max, rows[i].attempts, rows[i].rnd);

		if (d != rows[i].expect)
			fail_msg("row %zu: %u, expected %u", i, d, rows[i].expect);
	}
}

/* Whatever the randomness, the delay stays in [d/2, d] and never exceeds the cap. */
static void test_bounds(void **state)
{
	(void)state;
	for (uint32_t a = 0; a < 40; a++)
		for (uint32_t r = 0; r < 100000; r += 997) {
			uint32_t d = ed_backoff_delay(250, 8000, a, r * 2654435761u);
			uint32_t full = a >= 5 ? 8000 : 250u << a;

			assert_true(d >= full / 2);
			assert_true(d <= full);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
