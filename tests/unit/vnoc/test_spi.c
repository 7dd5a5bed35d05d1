/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "spi.h"

struct store {
	uint32_t hw;
	int writes;
	int fail;
};

static int reserve(void *ctx, uint32_t hw)
{
	struct store *s = ctx;

	if (s->fail)
		return -EIO;
	s->hw = hw;
	s->writes++;
	return 0;
}

static void test_unique_and_persisted(void **state)
{
	struct store st = { 0, 0, 0 };
	struct vnoc_spi_alloc *a = vnoc_spi_create(0, 100, reserve, &st);
	uint32_t last = 0;

	(void)state;
	for (int i = 0; i < 250; i++) {
		uint32_t spi = vnoc_spi_get(a, 0);

		assert_true(spi >= VNOC_SPI_MIN);
		assert_true(spi > last);
		/* the store covers every SPI handed out, before it is handed out */
		assert_true(spi < st.hw);
		last = spi;
	}
	assert_int_equal(st.writes, 3);
	assert_int_equal(vnoc_spi_busy(a), 250);
	vnoc_spi_destroy(a);

	/* restart (kill -9): resume from the persisted mark, never below */
	a = vnoc_spi_create(st.hw, 100, reserve, &st);
	assert_true(vnoc_spi_get(a, 0) >= last + 1);
	assert_true(vnoc_spi_get(a, 0) > last);
	/* persistence failing: no SPI rather than an unprotected one */
	st.fail = 1;
	vnoc_spi_set_next(a, st.hw);
	assert_int_equal(vnoc_spi_get(a, 0), 0);
	st.fail = 0;
	assert_int_not_equal(vnoc_spi_get(a, 0), 0);
	vnoc_spi_destroy(a);
}

static void test_quarantine_after_wrap(void **state)
{
	struct vnoc_spi_alloc *a = vnoc_spi_create(VNOC_SPI_MIN, 1, NULL, NULL);
	uint32_t s1 = vnoc_spi_get(a, 0);
	uint32_t s2 = vnoc_spi_get(a, 0);

	(void)state;
	assert_int_equal(s1, VNOC_SPI_MIN);
	assert_int_equal(s2, VNOC_SPI_MIN + 1);
	vnoc_spi_release(a, s1, 5000); /* an ED may hold s1 until t = 5000 */
	vnoc_spi_set_next(a, UINT32_MAX);
	assert_int_equal(vnoc_spi_get(a, 100), UINT32_MAX);
	/* wrapped: s1 quarantined and s2 in use are skipped */
	assert_int_equal(vnoc_spi_get(a, 100), VNOC_SPI_MIN + 2);
	vnoc_spi_set_next(a, UINT32_MAX);
	vnoc_spi_release(a, UINT32_MAX, 0);
	assert_int_equal(vnoc_spi_get(a, 5000), UINT32_MAX); /* released at 0, free now */
	assert_int_equal(vnoc_spi_get(a, 5000), s1);	     /* quarantine over */
	assert_int_equal(vnoc_spi_busy(a), 4);
	vnoc_spi_destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unique_and_persisted),
		cmocka_unit_test(test_quarantine_after_wrap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
