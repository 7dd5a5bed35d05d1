/* SPDX-License-Identifier: BSD-3-Clause */
/* ed.conf loading: a valid file, then each kind of invalid one with its FILE:LINE. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf_fixture.h"
#include "control/ed_conf.h"

static const char *const base[] = {
	"site = \"hq\";",
	"log_level = \"info\";",
	"ctl_socket = \"/run/vprn/ed.sock\";",
	"vnoc = { address = \"10.254.0.1\"; port = 7800; ca = \"ca.pem\"; cert = \"hq.pem\"; "
	"key = \"hq.key\"; crl = \"\"; };",
	"lan = { device = \"net_null0\"; address = \"192.168.1.1/24\"; mtu = 1500; };",
	"wan = { device = \"net_null1\"; address = \"10.100.1.2/24\"; gateway = \"10.100.1.1\"; "
	"mtu = 1500; };",
	"dataplane = { workers = 1; idle_sleep_us = 200; mbufs = 4095; };",
	"membership = { };",
};
#define N_BASE ((int)(sizeof(base) / sizeof(base[0])))

static int setup(void **state)
{
	static const char *const files[] = { "ca.pem", "hq.pem", "hq.key", NULL };

	(void)state;
	return fx_setup(files);
}

static int teardown(void **state)
{
	(void)state;
	return fx_teardown();
}

static void test_valid(void **state)
{
	struct vprn_conf_err err;
	struct ed_conf c;
	const char *path = fx_write("ed.conf", base, N_BASE, NULL);
	char expect[PATH_MAX + 16];

	(void)state;
	assert_int_equal(ed_conf_load(path, &c, &err), 0);
	assert_string_equal(c.site, "hq");
	assert_int_equal(c.vnoc.addr, 0x0afe0001);
	assert_int_equal(c.vnoc.port, 7800);
	assert_string_equal(c.vnoc.server_name, "vnoc");
	snprintf(expect, sizeof(expect), "%s/hq.pem", fx_dir);
	assert_string_equal(c.vnoc.cert, expect); /* relative to the config's directory */
	assert_string_equal(c.vnoc.crl, "");
	assert_string_equal(c.dp.lan.devargs, "net_null0");
	assert_int_equal(c.dp.lan.addr, 0xc0a80101);
	assert_int_equal(c.dp.lan.prefix_len, 24);
	assert_int_equal(c.dp.wan.addr, 0x0a640102);
	assert_int_equal(c.dp.wan_gateway, 0x0a640101);
	assert_int_equal(c.dp.n_workers, 1);
	assert_int_equal(c.dp.idle_sleep_us, 200);
	assert_int_equal(c.dp.n_mbufs, 4095);
	assert_int_equal(c.dp.probe_port, 7801); /* default: probes on the usual port */
	assert_false(c.dp.stage_cycles);	 /* default: no per-stage cycles */
	ed_conf_free(&c);
}

static void test_stage_cycles(void **state)
{
	static const struct conf_row on = { 7, "dataplane = { stage_cycles = true; };", 0, "" };
	struct vprn_conf_err err;
	struct ed_conf c;
	const char *path = fx_write("ed.conf", base, N_BASE, &on);

	(void)state;
	assert_int_equal(ed_conf_load(path, &c, &err), 0);
	assert_true(c.dp.stage_cycles);
	ed_conf_free(&c);
}

static const struct conf_row rows[] = {
	{ 1, "site = \"h q\";", 1, "site name" },
	{ 1, "# no site", 1, "missing setting 'site'" },
	{ 2, "log_level = \"loud\";", 2, "log_level" },
	{ 3, "ctl_socket = ;", 3, "syntax error" },
	{ 4,
		"vnoc = { address = \"10.254.0.256\"; ca = \"ca.pem\"; cert = \"hq.pem\"; key = "
		"\"hq.key\"; };",
		4, "IPv4" },
	{ 4,
		"vnoc = { address = \"10.254.0.1\"; port = 70000; ca = \"ca.pem\"; cert = "
		"\"hq.pem\"; key = \"hq.key\"; };",
		4, "out of range" },
	{ 4,
		"vnoc = { address = \"10.254.0.1\"; ca = \"missing.pem\"; cert = \"hq.pem\"; key = "
		"\"hq.key\"; };",
		4, "cannot read" },
	{ 4,
		"vnoc = { adress = \"10.254.0.1\"; ca = \"ca.pem\"; cert = \"hq.pem\"; key = "
		"\"hq.key\"; };",
		4, "unknown setting 'adress'" },
	{ 4, "vnoc = { address = \"10.254.0.1\"; ca = \"ca.pem\"; key = \"hq.key\"; };", 4,
		"missing setting 'cert'" },
	{ 4, "vnoc = \"10.254.0.1\";", 4, "must be a group" },
	{ 5, "lan = { device = \"net_null0\"; address = \"192.168.1.1/33\"; };", 5, "prefix" },
	{ 5, "lan = { device = \"net_null0\"; address = \"192.168.1.0/24\"; };", 5, "usable host" },
	{ 5, "lan = { device = \"net_null0\"; address = \"192.168.1.1/24\"; mtu = 100; };", 5,
		"out of range" },
	{ 5, "lan = { device = \"\"; address = \"192.168.1.1/24\"; };", 5, "must not be empty" },
	{ 6,
		"wan = { device = \"net_null1\"; address = \"10.100.1.2/24\"; gateway = "
		"\"10.100.2.1\"; };",
		6, "not on the wan subnet" },
	{ 6, "wan = { device = \"net_null1\"; address = \"192.168.1.2/24\"; };", 6, "overlap" },
	{ 6, "wan = { device = \"net_null1\"; address = \"10.100.1.2/24\"; probe_port = 65536; };",
		6, "out of range" },
	{ 7, "dataplane = { workers = 0; };", 7, "out of range" },
	{ 7, "dataplane = { workers = \"1\"; };", 7, "must be an integer" },
	{ 7, "dataplane = { stage_cycles = 1; };", 7, "must be true or false" },
	{ 7, "dataplane = { stage_cycles = \"yes\"; };", 7, "must be true or false" },
	{ 8, "membership = 3;", 8, "must be a group" },
	{ 9, "bogus = 1;", 9, "unknown setting 'bogus'" },
	{ 9, "dataplane2 = { };", 9, "unknown setting" },
};

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vprn_conf_err err = { 0 };
		struct ed_conf c;
		const char *path = fx_write("bad.conf", base, N_BASE, &rows[i]);
		int rc = ed_conf_load(path, &c, &err);

		if (rc == 0 || err.line != rows[i].err_line ||
			strstr(err.msg, rows[i].match) == NULL || strcmp(err.file, path) != 0)
			fail_msg("row %zu (%s): rc %d, got %s:%d: %s", i, rows[i].text, rc,
				err.file, err.line, err.msg);
	}
}

static void test_missing_file(void **state)
{
	struct vprn_conf_err err;
	struct ed_conf c;

	(void)state;
	assert_int_equal(ed_conf_load("/nonexistent/ed.conf", &c, &err), -ENOENT);
	assert_string_equal(err.file, "/nonexistent/ed.conf");
	assert_non_null(strstr(err.msg, "cannot open"));
}

/* The shipped example (conf/ed.conf) stays valid. */
static void test_example(void **state)
{
	const char *src = getenv("VPRN_SRCDIR");
	char cmd[2 * PATH_MAX + 64], path[PATH_MAX + 32];
	struct vprn_conf_err err = { 0 };
	struct ed_conf c;

	(void)state;
	snprintf(cmd, sizeof(cmd), "cp %s/conf/ed.conf %s/", src != NULL ? src : ".", fx_dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/ed.conf", fx_dir);
	if (ed_conf_load(path, &c, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	ed_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_stage_cycles),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
