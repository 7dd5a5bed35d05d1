/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "policy.h"
#include "policy_opts.h"

#define IP(a, b, c, d) (((uint32_t)(a) << 24) | ((b) << 16) | ((c) << 8) | (d))

static const char *conf_ok =
	"timers = { refresh_interval_ms = 1000; hold_time_ms = 3000; probe_interval_ms = 5; };\n"
	"trees = { hysteresis_pct = 20; };\n"
	"vpns = (\n"
	" { name = \"acme\";\n"
	"   sites = ( { name = \"hq\"; wan = \"10.0.0.1\"; }, { name = \"br1\"; },\n"
	"             { name = \"br2\"; }, { name = \"lab\"; } );\n"
	"   classes = ( { name = \"branches\"; sites = [\"br1\", \"br2\"]; } );\n"
	"   groups = (\n"
	"     { name = \"feed\"; ranges = [\"239.1.0.0/16\"]; senders = [\"hq\"];\n"
	"       receivers = [\"@branches\", \"hq\"]; tree = \"shared\"; sa_mode = \"group\";\n"
	"       transform = \"aes-gcm-256\"; replay_window = 2048; },\n"
	"     { name = \"ssm\"; ranges = [\"232.0.0.0/8\"]; sources = [\"192.168.1.0/24\"]; },\n"
	"     { name = \"all\"; ranges = \"239.0.0.0/8\"; }\n"
	"   );\n"
	" },\n"
	" { name = \"other\"; sites = ( { name = \"x1\"; } ); }\n"
	");\n";

static void test_load_ok(void **state)
{
	struct vnoc_policy_err err = { .text = NULL };
	struct vnoc_policy *p = vnoc_policy_load_string(conf_ok, &err);
	const struct vnoc_group_policy *g;
	unsigned int v, s;

	(void)state;
	assert_non_null(p);
	assert_int_equal(p->conf.hold_time_ms, 3000);
	assert_int_equal(p->conf.hysteresis_pct, 20);
	assert_int_equal(p->conf.debounce_ms, 200); /* default from the table */
	assert_int_equal(p->n_vpns, 2);
	assert_int_equal(vnoc_policy_find_site(p, "br2", &v, &s), 0);
	assert_int_equal(v, 0);
	assert_int_equal(s, 2);
	assert_int_equal(vnoc_policy_find_site(p, "x1", &v, &s), 0);
	assert_int_equal(v, 1);
	assert_int_equal(vnoc_policy_find_site(p, "nobody", &v, &s), -ENOENT);
	g = vnoc_policy_group(p, 0, IP(239, 1, 2, 3));
	assert_non_null(g);
	assert_string_equal(g->name, "feed");
	assert_int_equal(g->tree_kind, VNOC_TREE_SHARED);
	assert_int_equal(g->sa_mode, VNOC_SA_GROUP);
	assert_int_equal(g->transform, VNOC_XFORM_AES_GCM_256);
	assert_int_equal(g->replay_window, 2048);
	assert_memory_equal(g->may_recv, "\1\1\1\0", 4);
	assert_memory_equal(g->may_send, "\1\0\0\0", 4);
	g = vnoc_policy_group(p, 0, IP(239, 2, 0, 1));
	assert_string_equal(g->name, "all");
	assert_int_equal(g->tree_kind, VNOC_TREE_AUTO);
	assert_int_equal(g->sa_mode, VNOC_SA_PAIRWISE);
	assert_int_equal(g->transform, VNOC_XFORM_AES_GCM_128);
	assert_null(vnoc_policy_group(p, 1, IP(239, 1, 2, 3)));
	vnoc_policy_free(p);
}

struct join_row {
	const char *site;
	uint32_t group;
	int role;
	int filter;
	uint32_t src[2];
	size_t n_src;
	enum vnoc_refuse expect;
};

static const struct join_row join_rows[] = {
	{ "br1", IP(239, 1, 0, 9), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { 0 }, 0,
		VNOC_GRANTED },
	{ "lab", IP(239, 1, 0, 9), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { 0 }, 0,
		VNOC_REFUSE_NOT_ALLOWED_RECEIVE },
	{ "hq", IP(239, 1, 0, 9), VNOC_ROLE_SENDER, 0, { 0 }, 0, VNOC_GRANTED },
	{ "br1", IP(239, 1, 0, 9), VNOC_ROLE_SENDER, 0, { 0 }, 0, VNOC_REFUSE_NOT_ALLOWED_SEND },
	{ "lab", IP(239, 9, 0, 9), VNOC_ROLE_SENDER, 0, { 0 }, 0, VNOC_GRANTED },
	{ "lab", IP(238, 9, 0, 9), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { 0 }, 0,
		VNOC_REFUSE_NO_POLICY },
	{ "x1", IP(239, 9, 0, 9), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { 0 }, 0,
		VNOC_REFUSE_NO_POLICY },
	{ "lab", IP(10, 0, 0, 1), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { 0 }, 0,
		VNOC_REFUSE_BAD_REQUEST },
	{ "lab", IP(224, 0, 0, 22), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { 0 }, 0,
		VNOC_REFUSE_BAD_REQUEST },
	{ "lab", IP(239, 9, 0, 9), 7, VNOC_FILTER_EXCLUDE, { 0 }, 0, VNOC_REFUSE_BAD_REQUEST },
	{ "lab", IP(239, 9, 0, 9), VNOC_ROLE_RECEIVER, 0, { 0 }, 0, VNOC_REFUSE_BAD_REQUEST },
	{ "lab", IP(239, 9, 0, 9), VNOC_ROLE_RECEIVER, VNOC_FILTER_INCLUDE, { 0 }, 0,
		VNOC_REFUSE_BAD_REQUEST },
	{ "lab", IP(232, 1, 1, 1), VNOC_ROLE_RECEIVER, VNOC_FILTER_INCLUDE,
		{ IP(192, 168, 1, 7), IP(192, 168, 1, 8) }, 2, VNOC_GRANTED },
	{ "lab", IP(232, 1, 1, 1), VNOC_ROLE_RECEIVER, VNOC_FILTER_INCLUDE,
		{ IP(192, 168, 1, 7), IP(192, 168, 2, 8) }, 2, VNOC_REFUSE_SOURCE_NOT_ALLOWED },
	{ "lab", IP(232, 1, 1, 1), VNOC_ROLE_RECEIVER, VNOC_FILTER_EXCLUDE, { IP(10, 1, 1, 1) }, 1,
		VNOC_GRANTED },
	{ "hq", IP(232, 1, 1, 1), VNOC_ROLE_SENDER, 0, { IP(192, 168, 3, 1) }, 1,
		VNOC_REFUSE_SOURCE_NOT_ALLOWED },
};

static void test_join_checks(void **state)
{
	struct vnoc_policy_err err;
	struct vnoc_policy *p = vnoc_policy_load_string(conf_ok, &err);

	(void)state;
	assert_non_null(p);
	for (size_t i = 0; i < sizeof(join_rows) / sizeof(join_rows[0]); i++) {
		const struct join_row *r = &join_rows[i];
		struct vnoc_join_req req = { .group = r->group,
			.role = r->role,
			.filter = r->filter,
			.sources = r->src,
			.n_sources = r->n_src };
		char text[128] = "";
		unsigned int v, s;

		assert_int_equal(vnoc_policy_find_site(p, r->site, &v, &s), 0);
		enum vnoc_refuse got = vnoc_policy_check_join(p, v, s, &req, text, sizeof(text));
		if (got != r->expect)
			print_error("row %zu: got %s (%s)\n", i, vnoc_refuse_name(got), text);
		assert_int_equal(got, r->expect);
		assert_true(text[0] != '\0');
	}
	vnoc_policy_free(p);
}

struct bad_row {
	const char *conf;
	const char *expect; /* substring of the error, with the line */
};

#define VPN1(groups)                                                                            \
	"vpns = ( { name = \"a\"; sites = ( { name = \"s1\"; }, { name = \"s2\"; } );\n" groups \
	" } );\n"

static const struct bad_row bad_rows[] = {
	{ "vpns = ();\n", "'vpns' must be a non-empty list" },
	{ "trees = { hysteresis_pct = 101; };\n" VPN1(""), ":1: hysteresis_pct: 101 out of range" },
	{ "trees = { bogus = 1; };\n" VPN1(""), ":1: unknown option 'bogus' in trees" },
	{ "timers = { refresh_interval_ms = 5000; hold_time_ms = 1000; };\n" VPN1(""),
		"hold_time_ms must be at least" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"10.0.0.0/8\"]; } );"),
		":2: ranges: '10.0.0.0/8' is not within 224.0.0.0/4" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/33\"]; } );"), "not a prefix" },
	{ VPN1("groups = ( { name = \"g\"; } );"),
		":2: vpns[].groups[]: missing required option 'ranges'" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; tree = \"ring\"; } );"),
		":2: tree: expected one of shared, per-source, star, auto" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; receivers = [\"s3\"]; } );"),
		"receivers: 's3' is neither a site nor a class" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; senders = [\"@x\"]; } );"),
		"senders: '@x' is neither" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; soft_seconds = 100;\n"
	       " hard_seconds = 100; } );"),
		"hard_seconds (100) must exceed soft_seconds (100)" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; },\n"
	       "{ name = \"g\"; ranges = [\"238.0.0.0/8\"]; } );"),
		":3: group g: duplicate name" },
	{ VPN1("classes = ( { name = \"c\"; sites = [\"zz\"]; } );"),
		"class c: unknown site 'zz'" },
	{ VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; replay_window = \"x\"; } "
	       ");"),
		"replay_window: expected an integer" },
	{ "vpns = ( { name = \"a\"; sites = ( { name = \"s1\"; } ); },\n"
	  "{ name = \"b\"; sites = ( { name = \"s1\"; } ); } );\n",
		"site s1: also in vpn a" },
	{ "vpns = ( { name = \"a\"; sites = ( { name = \"s1\"; }, { name = \"s1\"; } ); } );",
		"duplicate name" },
	{ "vpns = ( { name = \"a\"; sites = ( ; } );", "syntax error" },
};

static void test_bad_configs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		struct vnoc_policy_err err = { .text = NULL };
		struct vnoc_policy *p = vnoc_policy_load_string(bad_rows[i].conf, &err);

		if (p != NULL || strstr(err.msg, bad_rows[i].expect) == NULL)
			print_error("row %zu: got '%s'\n", i, err.msg);
		assert_null(p);
		assert_non_null(strstr(err.msg, bad_rows[i].expect));
	}
}

static void test_file_errors_have_file_and_line(void **state)
{
	char path[] = "/tmp/vprn-policy-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct vnoc_policy_err err = { .text = NULL };
	char expect[128];

	(void)state;
	fputs(VPN1("groups = ( { name = \"g\"; ranges = [\"239.0.0.0/8\"]; tree = 3; } );"), f);
	fclose(f);
	assert_null(vnoc_policy_load_file(path, &err));
	snprintf(expect, sizeof(expect), "%s:2: tree:", path);
	assert_non_null(strstr(err.msg, expect));
	assert_null(vnoc_policy_load_file("/nonexistent/vnoc.conf", &err));
	assert_non_null(strstr(err.msg, "/nonexistent/vnoc.conf"));
	unlink(path);
}

static void test_docs_match_table(void **state)
{
	const char *src = getenv("VPRN_SRCDIR");
	char path[512];
	char *doc = NULL, *gen = NULL;
	size_t dlen = 0, glen = 0;
	FILE *f, *m;

	(void)state;
	if (src == NULL)
		skip();
	snprintf(path, sizeof(path), "%s/docs/vnoc.md", src);
	f = fopen(path, "r");
	assert_non_null(f);
	m = open_memstream(&doc, &dlen);
	for (int c; (c = fgetc(f)) != EOF;)
		fputc(c, m);
	fclose(m);
	fclose(f);
	m = open_memstream(&gen, &glen);
	vnoc_opts_doc(m);
	fclose(m);
	/* docs/vnoc.md embeds the generated tables verbatim (vprn-vnoc-optdoc) */
	assert_non_null(strstr(doc, gen));
	free(doc);
	free(gen);
}

static void test_prefix_parse(void **state)
{
	struct vnoc_prefix p;

	(void)state;
	assert_int_equal(vnoc_prefix_parse("239.1.2.3/16", &p), 0);
	assert_int_equal(p.addr, IP(239, 1, 0, 0));
	assert_int_equal(p.mask, 0xffff0000u);
	assert_int_equal(vnoc_prefix_parse("0.0.0.0/0", &p), 0);
	assert_int_equal(p.mask, 0);
	assert_int_equal(vnoc_prefix_parse("1.2.3.4", &p), 0);
	assert_int_equal(p.len, 32);
	assert_int_equal(vnoc_prefix_parse("1.2.3.4/", &p), -EINVAL);
	assert_int_equal(vnoc_prefix_parse("1.2.3.4/-1", &p), -EINVAL);
	assert_int_equal(vnoc_prefix_parse("1.2.3/8", &p), -EINVAL);
	assert_int_equal(vnoc_prefix_parse("/8", &p), -EINVAL);
	assert_int_equal(vnoc_prefix_parse("1.2.3.4/8x", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_join_checks),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_file_errors_have_file_and_line),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_docs_match_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
