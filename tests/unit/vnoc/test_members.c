/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "members.h"

#define G1 0xef010101u
#define G2 0xef010102u

static struct vnoc_member mk(uint32_t site, uint32_t group, uint8_t role)
{
	struct vnoc_member m = {
		.site = site, .vpn = 0, .group = group, .role = role, .filter = VNOC_FILTER_EXCLUDE
	};
	return m;
}

struct seen {
	uint32_t sites[16];
	size_t n;
};

static void record(void *ctx, const struct vnoc_member *m)
{
	struct seen *s = ctx;

	if (s->n < 16)
		s->sites[s->n++] = m->site;
}

static void test_join_refresh_expiry(void **state)
{
	struct vnoc_members *ms = vnoc_members_create(6000, 200);
	struct vnoc_member a = mk(1, G1, VNOC_ROLE_RECEIVER), b = mk(2, G1, VNOC_ROLE_SENDER);
	struct seen gone = { { 0 }, 0 };

	(void)state;
	assert_int_equal(vnoc_members_join(ms, &a, 1000), 1);
	assert_int_equal(vnoc_members_join(ms, &b, 1000), 1);
	assert_int_equal(vnoc_members_join(ms, &a, 1000), 0); /* refresh */
	assert_int_equal(vnoc_members_count(ms), 2);
	assert_int_equal(vnoc_members_next_deadline(ms), 1200); /* debounce first */
	/* site 1 refreshes at 5000, site 2 never again */
	assert_int_equal(vnoc_members_join(ms, &a, 5000), 0);
	assert_int_equal(vnoc_members_expire(ms, 6999, record, &gone), 0);
	assert_int_equal(vnoc_members_expire(ms, 7000, record, &gone), 1);
	assert_int_equal(gone.n, 1);
	assert_int_equal(gone.sites[0], 2);
	assert_int_equal(vnoc_members_count(ms), 1);
	assert_int_equal(vnoc_members_expire(ms, 10999, record, &gone), 0);
	assert_int_equal(vnoc_members_expire(ms, 11000, record, &gone), 1);
	assert_int_equal(vnoc_members_count(ms), 0);
	vnoc_members_destroy(ms);
}

static void test_leave_and_sources_change(void **state)
{
	struct vnoc_members *ms = vnoc_members_create(6000, 0);
	struct vnoc_member a = mk(1, G1, VNOC_ROLE_RECEIVER);
	uint32_t vpn, group;

	(void)state;
	assert_int_equal(vnoc_members_join(ms, &a, 0), 1);
	assert_int_equal(vnoc_members_pop_dirty(ms, 0, &vpn, &group), 1);
	assert_int_equal(vnoc_members_pop_dirty(ms, 0, &vpn, &group), 0);
	a.filter = VNOC_FILTER_INCLUDE;
	a.n_sources = 1;
	a.sources[0] = 0x0a000001;
	assert_int_equal(vnoc_members_join(ms, &a, 10), 1); /* changed sources: dirty again */
	assert_int_equal(vnoc_members_pop_dirty(ms, 10, &vpn, &group), 1);
	assert_int_equal(vnoc_members_leave(ms, 1, G1, VNOC_ROLE_SENDER, 20), -ENOENT);
	assert_int_equal(vnoc_members_leave(ms, 1, G1, VNOC_ROLE_RECEIVER, 20), 0);
	assert_int_equal(vnoc_members_leave(ms, 1, G1, VNOC_ROLE_RECEIVER, 20), -ENOENT);
	assert_int_equal(vnoc_members_pop_dirty(ms, 20, &vpn, &group), 1);
	assert_int_equal(group, G1);
	a.role = 9;
	assert_int_equal(vnoc_members_join(ms, &a, 30), -EINVAL);
	a.role = VNOC_ROLE_RECEIVER;
	a.n_sources = VNOC_MAX_SOURCES + 1;
	assert_int_equal(vnoc_members_join(ms, &a, 30), -EINVAL);
	vnoc_members_destroy(ms);
}

static void test_debounce_storm(void **state)
{
	struct vnoc_members *ms = vnoc_members_create(6000, 200);
	uint32_t vpn, group;
	int pops = 0;

	(void)state;
	/* 100 sites join G1 within 150 ms, 1 joins G2: two recomputations, not 101 */
	for (uint32_t i = 0; i < 100; i++) {
		struct vnoc_member m = mk(i, G1, VNOC_ROLE_RECEIVER);

		assert_int_equal(vnoc_members_join(ms, &m, 1000 + i * 3 / 2), 1);
		assert_int_equal(vnoc_members_pop_dirty(ms, 1000 + i * 3 / 2, &vpn, &group), 0);
	}
	struct vnoc_member m2 = mk(7, G2, VNOC_ROLE_RECEIVER);

	assert_int_equal(vnoc_members_join(ms, &m2, 1100), 1);
	assert_int_equal(vnoc_members_pop_dirty(ms, 1199, &vpn, &group), 0);
	while (vnoc_members_pop_dirty(ms, 1200, &vpn, &group) == 1) {
		assert_int_equal(group, G1); /* G2 is due only at 1300 */
		pops++;
	}
	assert_int_equal(pops, 1);
	assert_int_equal(vnoc_members_pop_dirty(ms, 1300, &vpn, &group), 1);
	assert_int_equal(group, G2);
	assert_int_equal(vnoc_members_count_site(ms, 7), 2);
	assert_int_equal(vnoc_members_for_group(ms, 0, G1, NULL, NULL), 100);
	assert_int_equal(vnoc_members_drop_site(ms, 7, 1400, NULL, NULL), 2);
	assert_int_equal(vnoc_members_for_group(ms, 0, G1, NULL, NULL), 99);
	vnoc_members_destroy(ms);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join_refresh_expiry),
		cmocka_unit_test(test_leave_and_sources_change),
		cmocka_unit_test(test_debounce_storm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
