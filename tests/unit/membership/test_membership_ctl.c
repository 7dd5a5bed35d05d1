/* SPDX-License-Identifier: BSD-3-Clause */
/* Control socket commands: announce argument parsing, members and igmp JSON. */
#include "mship_test.h"

#include <errno.h>
#include <stdlib.h>

#include "common/json.h"
#include "control/membership/membership_ctl.h"

typedef int (*ctl_fn)(struct membership *, int, char **, struct vprn_json *, char *, size_t);

/* Run a command; returns its status, and the parsed result in *val when 0. */
static int run(struct membership *m, ctl_fn fn, const char *line, struct vprn_jval **val, char *err,
	size_t err_len)
{
	char buf[256], *argv[16];
	int argc = 0, r;
	struct vprn_json j;
	char perr[128];

	snprintf(buf, sizeof(buf), "%s", line);
	for (char *t = strtok(buf, " "); t != NULL && argc < 16; t = strtok(NULL, " "))
		argv[argc++] = t;
	vprn_json_init(&j);
	r = fn(m, argc, argv, &j, err, err_len);
	if (r == 0) {
		assert_non_null(vprn_json_str(&j));
		*val = vprn_json_parse(
			vprn_json_str(&j), strlen(vprn_json_str(&j)), perr, sizeof(perr));
		assert_non_null(*val);
	}
	vprn_json_fini(&j);
	return r;
}

static const char *str_of(const struct vprn_jval *o, const char *k)
{
	const struct vprn_jval *v = vprn_jval_get(o, k);

	assert_non_null(v);
	assert_int_equal(v->type, VPRN_J_STR);
	return v->str;
}

static void test_announce_args(void **state)
{
	static const struct {
		const char *line;
		int want;
	} t[] = {
		{ "--group 239.1.1.1 --role receiver --ttl 30", 0 },
		{ "--group 239.1.1.1 --role sender --source 192.168.1.10 --ttl 30", 0 },
		{ "--group 239.1.1.1 --role sender --source 192.168.1.10 --ttl 0", 0 },
		{ "--group 239.1.1.1 --role sender --source 192.168.1.10 --ttl 0", -ENOENT },
		{ "--group 239.1.1.1 --role receiver", -EINVAL },
		{ "--group 239.1.1.1 --role owner --ttl 5", -EINVAL },
		{ "--group 10.1.1.1 --role receiver --ttl 5", -EINVAL },
		{ "--group 232.1.1.1 --role receiver --ttl 5", -EINVAL },
		{ "--group 239.1.1.1 --role receiver --ttl -5", -EINVAL },
		{ "--group 239.1.1.1 --role receiver --ttl 5x", -EINVAL },
		{ "--group 239.1.1.1 --role receiver --ttl", -EINVAL },
		{ "--group 239.1.1.1 --colour red --ttl 5", -EINVAL },
	};
	struct capture *c = calloc(1, sizeof(*c));
	struct membership *m = cap_create(c, NULL);

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct vprn_jval *v = NULL;
		char err[160] = "";
		int r = run(m, membership_ctl_announce, t[i].line, &v, err, sizeof(err));

		print_message("  %s -> %d %s\n", t[i].line, r, err);
		assert_int_equal(r, t[i].want);
		if (r != 0)
			assert_true(err[0] != '\0');
		vprn_jval_free(v);
	}
	membership_destroy(m);
	free(c);
}

static void test_members_and_igmp_json(void **state)
{
	struct capture *c = calloc(1, sizeof(*c));
	struct membership *m = cap_create(c, NULL);
	struct membership_rx_info info = { .l2 = true };
	struct vprn_jval *v = NULL;
	const struct vprn_jval *row, *drops;
	char err[160] = "";
	uint8_t buf[1600];
	size_t len;

	(void)state;
	len = host_v12(buf, IP(192, 168, 1, 10), IGMP_V2_REPORT, IP(239, 1, 1, 1));
	assert_int_equal(membership_rx_igmp(m, buf, len, &info), 0);
	assert_int_equal(membership_rx_igmp(m, buf, 10, &info), -EINVAL);
	assert_int_equal(run(m, membership_ctl_announce,
				 "--group 239.2.2.2 --role sender --source 192.168.1.20 --ttl 60",
				 &v, err, sizeof(err)),
		0);
	vprn_jval_free(v);

	assert_int_equal(run(m, membership_ctl_members, "", &v, err, sizeof(err)), 0);
	assert_int_equal(v->type, VPRN_J_ARR);
	assert_int_equal(v->n, 2);
	row = &v->items[0];
	assert_string_equal(str_of(row, "group"), "239.1.1.1");
	assert_string_equal(str_of(row, "source"), "*");
	assert_string_equal(str_of(row, "origin"), "learned");
	assert_string_equal(str_of(row, "role"), "receiver");
	assert_string_equal(str_of(row, "mode"), "exclude");
	assert_int_equal(vprn_jval_get(row, "version")->num, 2);
	assert_int_equal(vprn_jval_get(row, "remaining_ms")->num, 260000); /* 2 * 125 + 10 s */
	row = &v->items[1];
	assert_string_equal(str_of(row, "origin"), "announced");
	assert_string_equal(str_of(row, "role"), "sender");
	assert_string_equal(str_of(row, "source"), "192.168.1.20");
	vprn_jval_free(v);

	assert_int_equal(run(m, membership_ctl_igmp, "", &v, err, sizeof(err)), 0);
	assert_true(vprn_jval_get(v, "querier")->b);
	assert_string_equal(str_of(v, "querier_address"), "192.168.1.100");
	assert_int_equal(vprn_jval_get(vprn_jval_get(v, "rx"), "v2_report")->num, 1);
	drops = vprn_jval_get(v, "drops");
	assert_int_equal(vprn_jval_get(drops, "too_short")->num, 1);
	vprn_jval_free(v);
	assert_int_equal(run(m, membership_ctl_members, "extra", &v, err, sizeof(err)), -EINVAL);
	membership_destroy(m);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_announce_args),
		cmocka_unit_test(test_members_and_igmp_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
