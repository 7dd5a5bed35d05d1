/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "metrics.h"

static const struct vnoc_metrics_conf conf = {
	.alpha_pct = 25, .stale_ms = 10000, .default_rtt_us = 200000
};

static void test_smoothing_and_staleness(void **state)
{
	struct vnoc_metrics *mx = vnoc_metrics_create(4, &conf);
	struct vnoc_metric m;

	(void)state;
	assert_int_equal(vnoc_metrics_report(mx, 0, 1, 10000, 0, 1000), 0);
	assert_int_equal(vnoc_metrics_report(mx, 0, 1, 20000, 1000, 2000), 0);
	m = vnoc_metrics_get(mx, 0, 1, 2000);
	assert_int_equal(m.rtt_us, 12500); /* 0.75 * 10000 + 0.25 * 20000 */
	assert_int_equal(m.loss_ppm, 250);
	assert_int_equal(m.source, VNOC_METRIC_MEASURED);
	/* reverse direction used when only 0->1 is known */
	m = vnoc_metrics_get(mx, 1, 0, 3000);
	assert_int_equal(m.source, VNOC_METRIC_REVERSE);
	assert_int_equal(m.rtt_us, 12500);
	/* a pair nobody measured: twice the largest RTT around either end */
	m = vnoc_metrics_get(mx, 1, 2, 3000);
	assert_int_equal(m.source, VNOC_METRIC_NEIGHBOURHOOD);
	assert_int_equal(m.rtt_us, 25000);
	m = vnoc_metrics_get(mx, 2, 3, 3000);
	assert_int_equal(m.source, VNOC_METRIC_DEFAULT);
	assert_int_equal(m.rtt_us, 200000);
	/* stale: 12001 ms after the last report */
	m = vnoc_metrics_get(mx, 0, 1, 12001);
	assert_int_equal(m.source, VNOC_METRIC_DEFAULT);
	/* a report after staleness restarts the average */
	assert_int_equal(vnoc_metrics_report(mx, 0, 1, 40000, 0, 30000), 0);
	m = vnoc_metrics_get(mx, 0, 1, 30000);
	assert_int_equal(m.rtt_us, 40000);
	/* cost = rtt * (1 + 10 * loss) */
	assert_int_equal(vnoc_metrics_report(mx, 2, 3, 10000, 100000, 30000), 0);
	assert_int_equal(vnoc_metrics_cost(mx, 2, 3, 30000), 20000);
	assert_int_equal(vnoc_metrics_report(mx, 0, 4, 1, 0, 0), -ERANGE);
	assert_int_equal(vnoc_metrics_report(mx, 2, 2, 1, 0, 0), -EINVAL);
	assert_int_equal(vnoc_metrics_get(mx, 3, 3, 0).rtt_us, 0);
	/* the O(n^2) matrix equals the pairwise costs (halved: one-way) */
	{
		uint32_t sites[] = { 3, 0, 2, 1 }, out[16];

		vnoc_metrics_matrix(mx, sites, 4, 30000, 2, out);
		for (int i = 0; i < 4; i++)
			for (int j = 0; j < 4; j++)
				assert_int_equal(out[i * 4 + j],
					i == j ? 0
					       : vnoc_metrics_cost(mx, sites[i], sites[j], 30000) /
							 2);
	}
	vnoc_metrics_destroy(mx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_smoothing_and_staleness),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
