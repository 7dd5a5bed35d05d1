/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vnoc.conf loading and the site registry (the VNOC daemon core's config
 * loader; its tests live here, beside the ED's, to keep tests/unit/vnoc to the
 * VNOC modules). A valid file, then each kind of invalid one with FILE:LINE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "conf_fixture.h"
#include "vnoc/conf.h"

static const char *const base[] = {
	"log_level = \"info\";",
	"ctl_socket = \"/run/vprn/vnoc.sock\";",
	"listen = { address = \"0.0.0.0\"; port = 7800; };",
	"tls = { ca = \"ca.pem\"; cert = \"vnoc.pem\"; key = \"vnoc.key\"; crl = \"\"; "
	"handshake_timeout_ms = 5000; };",
	"timers = { refresh_interval_ms = 2000; hold_time_ms = 6000; probe_interval_ms = 1000; "
	"metrics_interval_ms = 2000; };",
	"database = \"vnoc.db\";",
	"vpns = (",
	"  { name = \"acme\";",
	"    sites = (",
	"      { name = \"hq\";  wan = \"10.100.1.2\"; max_degree = 8; relay = true; },",
	"      { name = \"br1\"; wan = \"10.100.2.2\"; max_degree = 6; relay = false; }",
	"    );",
	"    groups = ( );",
	"  },",
	"  { name = \"beta\"; sites = ( { name = \"b1\"; wan = \"10.100.3.2\"; } ); }",
	");",
};
#define N_BASE ((int)(sizeof(base) / sizeof(base[0])))

static int setup(void **state)
{
	static const char *const files[] = { "ca.pem", "vnoc.pem", "vnoc.key", NULL };

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
	struct vnoc_conf c;
	const struct vnoc_site *s;
	const char *path = fx_write("vnoc.conf", base, N_BASE, NULL);
	char expect[PATH_MAX + 16];

	(void)state;
	assert_int_equal(vnoc_conf_load(path, &c, &err), 0);
	assert_int_equal(c.n_vpns, 2);
	assert_int_equal(c.n_sites, 3);
	assert_int_equal(c.listen_port, 7800);
	assert_int_equal(c.timers.hold_time_ms, 6000);
	snprintf(expect, sizeof(expect), "%s/vnoc.db", fx_dir);
	assert_string_equal(c.database, expect);
	s = vnoc_conf_site(&c, "br1");
	assert_non_null(s);
	assert_int_equal(s->id, 2);
	assert_int_equal(s->wan_addr, 0x0a640202);
	assert_int_equal(s->max_degree, 6);
	assert_false(s->relay);
	assert_string_equal(s->vpn->name, "acme");
	s = vnoc_conf_site(&c, "b1");
	assert_non_null(s);
	assert_string_equal(s->vpn->name, "beta");
	assert_int_equal(s->max_degree, 8); /* default */
	assert_true(s->relay);
	assert_ptr_equal(vnoc_conf_site_by_id(&c, 3), s);
	assert_null(vnoc_conf_site_by_id(&c, 0));
	assert_null(vnoc_conf_site_by_id(&c, 4));
	assert_null(vnoc_conf_site(&c, "nobody"));
	assert_int_equal(c.vpns[0].n_sites, 2);
	vnoc_conf_free(&c);
}

static const struct conf_row rows[] = {
	{ 11, "      { name = \"hq\"; wan = \"10.100.2.2\"; }", 11, "duplicate site name 'hq'" },
	{ 11, "      { name = \"br1\"; wan = \"10.100.1.2\"; }", 11, "same WAN address" },
	{ 15, "  { name = \"beta\"; sites = ( { name = \"hq\"; wan = \"10.100.3.2\"; } ); }", 15,
		"duplicate site name" },
	{ 15, "  { name = \"acme\"; sites = ( { name = \"b1\"; wan = \"10.100.3.2\"; } ); }", 15,
		"duplicate VPN name" },
	{ 15, "  { name = \"beta\"; sites = ( ); }", 15, "has no sites" },
	{ 10, "      { name = \"hq\"; wan = \"10.100.1\"; },", 10, "IPv4" },
	{ 10, "      { name = \"hq\"; wan = \"10.100.1.2\"; max_degree = 0; },", 10,
		"out of range" },
	{ 10, "      { name = \"hq\"; wan = \"10.100.1.2\"; relay = \"yes\"; },", 10,
		"true or false" },
	{ 10, "      { name = \"hq\"; wan_addr = \"10.100.1.2\"; },", 10, "unknown setting" },
	{ 10, "      { name = \"h/q\"; wan = \"10.100.1.2\"; },", 10, "site name" },
	{ 10, "      { wan = \"10.100.1.2\"; },", 10, "missing setting 'name'" },
	{ 5, "timers = { refresh_interval_ms = 2000; hold_time_ms = 3000; };", 5,
		"at least twice" },
	{ 4, "tls = { ca = \"missing.pem\"; cert = \"vnoc.pem\"; key = \"vnoc.key\"; };", 4,
		"cannot read" },
	{ 4,
		"tls = { ca = \"ca.pem\"; cert = \"vnoc.pem\"; key = \"vnoc.key\"; "
		"handshake_timeout_ms = 1; };",
		4, "out of range" },
	{ 3, "listen = { address = \"0.0.0.0\"; port = 0; };", 3, "out of range" },
	{ 3, "listen = { address = \"::\"; };", 3, "IPv4" },
	{ 13, "    groups = 5;", 13, "'groups' must be a list" },
	{ 1, "log_level = 3;", 1, "log_level" },
	{ 17, "listen_port = 1;", 17, "unknown setting 'listen_port'" },
	{ 17, "trees = 5;", 17, "group" },
	{ 13, "    groups = ( ); classes = { };", 13, "'classes' must be a list" },
	{ 16, "));", 16, "syntax error" },
};

static void test_invalid(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct vprn_conf_err err = { 0 };
		struct vnoc_conf c;
		const char *path = fx_write("bad.conf", base, N_BASE, &rows[i]);
		int rc = vnoc_conf_load(path, &c, &err);

		if (rc == 0 || err.line != rows[i].err_line ||
			strstr(err.msg, rows[i].match) == NULL || strcmp(err.file, path) != 0)
			fail_msg("row %zu (%s): rc %d, got %s:%d: %s", i, rows[i].text, rc,
				err.file, err.line, err.msg);
	}
}

/* Sections of the service modules (docs/vnoc.md) pass the daemon's loader. */
static void test_module_sections(void **state)
{
	static const struct conf_row row = { 17,
		"trees = { debounce_ms = 100; }; keys = { }; metrics = { }; limits = { };", 0, "" };
	static const struct conf_row row2 = { 13,
		"    groups = ( { name = \"g\"; ranges = ( \"239.1.0.0/16\" ); } ); "
		"classes = ( { name = \"c\"; sites = ( \"hq\" ); } );",
		0, "" };
	struct vprn_conf_err err = { 0 };
	struct vnoc_conf c;

	(void)state;
	if (vnoc_conf_load(fx_write("mod.conf", base, N_BASE, &row), &c, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	vnoc_conf_free(&c);
	if (vnoc_conf_load(fx_write("mod.conf", base, N_BASE, &row2), &c, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	vnoc_conf_free(&c);
}

/* The shipped example (conf/vnoc.conf) stays valid. */
static void test_example(void **state)
{
	const char *src = getenv("VPRN_SRCDIR");
	char cmd[2 * PATH_MAX + 64], path[PATH_MAX + 32];
	struct vprn_conf_err err = { 0 };
	struct vnoc_conf c;

	(void)state;
	snprintf(cmd, sizeof(cmd), "cp %s/conf/vnoc.conf %s/", src != NULL ? src : ".", fx_dir);
	assert_int_equal(system(cmd), 0);
	snprintf(path, sizeof(path), "%s/vnoc.conf", fx_dir);
	if (vnoc_conf_load(path, &c, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	vnoc_conf_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_example),
		cmocka_unit_test(test_module_sections),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
