/* SPDX-License-Identifier: BSD-3-Clause */
/* The `membership` group of ed.conf: defaults, overrides, and FILE:LINE errors. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>
#include <libconfig.h>

#include "control/membership/membership_conf.h"

static char path[] = "/tmp/vprn-membership-conf-XXXXXX";

/* Through a real file, so that errors carry its name and line. */
static int parse(const char *text, struct membership_conf *conf, char *err, size_t len)
{
	int fd = mkstemp(path);
	config_t cfg;
	FILE *f;
	int r;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
	config_init(&cfg);
	assert_int_equal(config_read_file(&cfg, path), CONFIG_TRUE);
	r = membership_conf_parse(config_lookup(&cfg, "membership"), conf, err, len);
	config_destroy(&cfg);
	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	return r;
}

static void test_defaults(void **state)
{
	struct membership_conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("site = \"hq\";", &c, err, sizeof(err)), 0);
	assert_int_equal(c.version, 3);
	assert_int_equal(c.robustness, 2);
	assert_int_equal(c.query_interval_ms, 125000);
	assert_int_equal(c.query_response_interval_ms, 10000);
	assert_int_equal(c.last_member_query_interval_ms, 1000);
	assert_int_equal(membership_conf_lmqc(&c), 2);
	assert_int_equal(membership_conf_startup_count(&c), 2);
	assert_int_equal(membership_conf_startup_interval(&c), 31250);
	assert_int_equal(membership_conf_oqpt(&c), 255000);
	assert_int_equal(c.ssm_net, 0xe8000000u);
	assert_int_equal(c.ssm_mask, 0xff000000u);
	assert_false(c.fast_leave);
	assert_int_equal(c.n_predefined, 0);
}

static void test_overrides(void **state)
{
	struct membership_conf c;
	char err[256] = "";

	(void)state;
	assert_int_equal(parse("membership = { robustness = 3; query_interval_ms = 20000;\n"
			       "query_response_interval_ms = 5000; fast_leave = true;\n"
			       "ssm_range = \"239.232.0.0/16\"; last_member_query_count = 4;\n"
			       "other_querier_present_timeout_ms = 7000;\n"
			       "predefined_groups = [\"239.1.2.3\", \"239.1.2.4\"]; };",
				 &c, err, sizeof(err)),
		0);
	assert_int_equal(c.robustness, 3);
	assert_int_equal(membership_conf_lmqc(&c), 4);
	assert_int_equal(membership_conf_startup_count(&c), 3);
	assert_int_equal(membership_conf_oqpt(&c), 7000);
	assert_true(c.fast_leave);
	assert_int_equal(c.ssm_net, 0xefe80000u);
	assert_int_equal(c.ssm_mask, 0xffff0000u);
	assert_int_equal(c.n_predefined, 2);
	assert_int_equal(c.predefined[1], 0xef010204u);
}

static const struct {
	const char *text;
	const char *want; /* substring of the error, which is "FILE:LINE: membership: ..." */
} bad[] = {
	{ "membership = {\n  robustness = 9; };", ":2: membership: robustness = 9 out of range" },
	{ "membership = {\n\n  bogus = 1; };", ":3: membership: unknown option 'bogus'" },
	{ "membership = { fast_leave = 1; };", "fast_leave must be true or false" },
	{ "membership = { query_interval_ms = \"x\"; };", "must be an integer" },
	{ "membership = { ssm_range = \"232.0.0.1/8\"; };", "ssm_range must be" },
	{ "membership = { ssm_range = \"10.0.0.0/8\"; };", "inside 224.0.0.0/4" },
	{ "membership = { ssm_range = \"232.0.0.0/33\"; };", "ssm_range must be" },
	{ "membership = { predefined_groups = [\"10.1.1.1\"]; };", "not a routable multicast" },
	{ "membership = { predefined_groups = [\"224.0.0.5\"]; };", "not a routable multicast" },
	{ "membership = { predefined_groups = [\"232.1.1.1\"]; };", "SSM range" },
	{ "membership = { predefined_groups = [\"239.1.1.1\", \"239.1.1.1\"]; };", "duplicate" },
	{ "membership = { predefined_groups = [\"x\"]; };", "not an IPv4 address" },
	{ "membership = {\nquery_interval_ms = 5000;\nquery_response_interval_ms = 5000; };",
		":1: membership: query_response_interval_ms must be less" },
	{ "membership = 5;", "must be a group" },
};

static void test_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct membership_conf c;
		char err[256] = "";

		print_message("  %s\n", bad[i].want);
		assert_int_equal(parse(bad[i].text, &c, err, sizeof(err)), -EINVAL);
		if (strstr(err, bad[i].want) == NULL ||
			strncmp(err, "/tmp/vprn-membership-conf-", 26) != 0)
			fail_msg("error '%s' lacks '%s'", err, bad[i].want);
	}
}

static void test_describe(void **state)
{
	char buf[8192];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	(void)state;
	assert_non_null(f);
	membership_conf_describe(f);
	fclose(f);
	assert_non_null(strstr(buf, "| `robustness` | int | 2 | 1..7 |"));
	assert_non_null(strstr(buf, "`predefined_groups`"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_describe),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
