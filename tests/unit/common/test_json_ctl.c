/* SPDX-License-Identifier: BSD-3-Clause */
/* JSON writer/parser, IPv4/prefix parsing, and the control socket (dispatch and a real socket). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/conf.h"
#include "common/ctlsock.h"
#include "common/json.h"

static void test_writer(void **state)
{
	struct vprn_json j;

	(void)state;
	vprn_json_init(&j);
	vprn_json_obj_begin(&j);
	vprn_json_kv_str(&j, "s", "a\"b\\c\n\x01");
	vprn_json_kv_u64(&j, "n", 18446744073709551615ull);
	vprn_json_kv_i64(&j, "i", -5);
	vprn_json_kv_bool(&j, "b", false);
	vprn_json_kv_ipv4(&j, "ip", 0x0a000001);
	vprn_json_key(&j, "a");
	vprn_json_arr_begin(&j);
	vprn_json_u64(&j, 1);
	vprn_json_obj_begin(&j);
	vprn_json_obj_end(&j);
	vprn_json_arr_begin(&j);
	vprn_json_arr_end(&j);
	vprn_json_null(&j);
	vprn_json_arr_end(&j);
	vprn_json_obj_end(&j);
	assert_string_equal(vprn_json_str(&j),
		"{\"s\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":18446744073709551615,\"i\":-5,"
		"\"b\":false,\"ip\":\"10.0.0.1\",\"a\":[1,{},[],null]}");
	vprn_json_fini(&j);
}

static void test_parser(void **state)
{
	static const char text[] =
		" {\"cmd\": \"tree\", \"args\": [\"239.1.1.1\", \"--dot\"],"
		" \"n\": -1.5e3, \"t\": true, \"u\": \"\\u00e9\\n\", \"z\": null} ";
	char err[128];
	struct vprn_jval *v = vprn_json_parse(text, strlen(text), err, sizeof(err));
	const struct vprn_jval *x;

	(void)state;
	assert_non_null(v);
	x = vprn_jval_get(v, "args");
	assert_non_null(x);
	assert_int_equal(x->type, VPRN_J_ARR);
	assert_int_equal(x->n, 2);
	assert_string_equal(x->items[1].str, "--dot");
	x = vprn_jval_get(v, "n");
	assert_true(x->num == -1500.0);
	assert_string_equal(x->str, "-1.5e3");
	assert_true(vprn_jval_get(v, "t")->b);
	assert_string_equal(vprn_jval_get(v, "u")->str, "\xc3\xa9\n");
	assert_int_equal(vprn_jval_get(v, "z")->type, VPRN_J_NULL);
	assert_null(vprn_jval_get(v, "missing"));
	vprn_jval_free(v);
}

static void test_parser_rejects(void **state)
{
	static const char *const bad[] = {
		"",
		"{",
		"{\"a\" 1}",
		"{\"a\":1,}",
		"[1 2]",
		"\"abc",
		"tru",
		"{} x",
		"-",
		"\"\\x\"",
		"\"\\u12\"",
		"\"\\u0000\"",
		"{1:2}",
		"[\"a\n\"]",
	};
	char deep[100];
	char err[128];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vprn_jval *v = vprn_json_parse(bad[i], strlen(bad[i]), err, sizeof(err));

		if (v != NULL)
			fail_msg("accepted bad JSON '%s'", bad[i]);
	}
	memset(deep, '[', sizeof(deep));
	assert_null(vprn_json_parse(deep, sizeof(deep), err, sizeof(err)));
	assert_non_null(strstr(err, "deep"));
	/* an embedded NUL */
	assert_null(vprn_json_parse("\"a\0b\"", 5, err, sizeof(err)));
}

static void test_ipv4(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint32_t v;
	} rows[] = {
		{ "10.0.0.1", 0, 0x0a000001 },
		{ "255.255.255.255", 0, 0xffffffff },
		{ "0.0.0.0", 0, 0 },
		{ "256.0.0.1", -EINVAL, 0 },
		{ "1.2.3", -EINVAL, 0 },
		{ "1.2.3.4.5", -EINVAL, 0 },
		{ "01.2.3.4", -EINVAL, 0 },
		{ "1.2.3.4 ", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
		{ "a.b.c.d", -EINVAL, 0 },
		{ "1..2.3", -EINVAL, 0 },
		{ "1.2.3.1000", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t v = 0;

		assert_int_equal(vprn_parse_ipv4(rows[i].s, &v), rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(v, rows[i].v);
	}
}

static void test_prefix(void **state)
{
	static const struct {
		const char *s;
		int rc;
		uint8_t len;
	} rows[] = {
		{ "192.168.1.1/24", 0, 24 },
		{ "10.0.0.0/0", 0, 0 },
		{ "10.0.0.0/32", 0, 32 },
		{ "10.0.0.0/33", -EINVAL, 0 },
		{ "10.0.0.0/", -EINVAL, 0 },
		{ "10.0.0.0", -EINVAL, 0 },
		{ "10.0.0.0/08", -EINVAL, 0 },
		{ "10.0.0.0/2x", -EINVAL, 0 },
		{ "/24", -EINVAL, 0 },
		{ "10.0.0.0/100", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint32_t a;
		uint8_t len = 99;

		assert_int_equal(vprn_parse_prefix(rows[i].s, &a, &len), rows[i].rc);
		if (rows[i].rc == 0)
			assert_int_equal(len, rows[i].len);
	}
}

static int echo_cmd(
	void *ctx, int argc, char **argv, struct vprn_json *out, char *err, size_t errlen)
{
	int *calls = ctx;

	(*calls)++;
	if (argc > 0 && strcmp(argv[0], "fail") == 0) {
		snprintf(err, errlen, "asked to fail");
		return -EINVAL;
	}
	vprn_json_arr_begin(out);
	for (int i = 0; i < argc; i++)
		vprn_json_string(out, argv[i]);
	vprn_json_arr_end(out);
	return 0;
}

static const struct vprn_ctl_cmd cmds[] = {
	{ "echo", "echo ARGS...", echo_cmd },
};

static void test_dispatch(void **state)
{
	static const struct {
		const char *req;
		const char *answer;
	} rows[] = {
		{ "{\"cmd\":\"echo\",\"args\":[\"a\",\"b\"]}",
			"{\"ok\":true,\"result\":[\"a\",\"b\"]}" },
		{ "{\"cmd\":\"echo\"}", "{\"ok\":true,\"result\":[]}" },
		{ "{\"cmd\":\"echo\",\"args\":[\"fail\"]}",
			"{\"ok\":false,\"error\":\"asked to fail\"}" },
		{ "{\"cmd\":\"nope\"}",
			"{\"ok\":false,\"error\":\"unknown command 'nope' (try help)\"}" },
		{ "{\"args\":[]}",
			"{\"ok\":false,\"error\":\"request needs a string \\\"cmd\\\"\"}" },
		{ "{\"cmd\":\"echo\",\"args\":[1]}",
			"{\"ok\":false,\"error\":\"\\\"args\\\" must be strings\"}" },
		{ "{\"cmd\":\"help\"}", "{\"ok\":true,\"result\":[{\"command\":\"echo\",\"usage\":"
					"\"echo ARGS...\"}]}" },
	};
	char path[64];
	int calls = 0;
	struct vprn_ctlsock *s;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vprn-ctl-test-%d.sock", (int)getpid());
	s = vprn_ctlsock_open(path, &calls);
	assert_non_null(s);
	assert_int_equal(vprn_ctlsock_register(s, cmds, 1), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *a = vprn_ctlsock_dispatch(s, rows[i].req, strlen(rows[i].req));

		assert_non_null(a);
		assert_string_equal(a, rows[i].answer);
		free(a);
	}
	{
		char *a = vprn_ctlsock_dispatch(s, "not json", 8);

		assert_non_null(strstr(a, "\"ok\":false"));
		free(a);
	}
	assert_int_equal(calls, 3);
	vprn_ctlsock_close(s);
}

static void test_socket(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static const char req[] = "{\"cmd\":\"echo\",\"args\":[\"x\"]}\n";
	char path[64], buf[256];
	struct stat st;
	struct vprn_ctlsock *s;
	int calls = 0, fd;
	size_t n = 0;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/vprn-ctl-test-%d/sub/ctl.sock", (int)getpid());
	s = vprn_ctlsock_open(path, &calls);
	assert_non_null(s); /* parent directories are created */
	vprn_ctlsock_register(s, cmds, 1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	memcpy(sa.sun_path, path, strlen(path));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	for (int i = 0; i < 100 && calls == 0; i++) {
		vprn_ctlsock_poll(s);
		usleep(1000);
	}
	for (;;) {
		ssize_t r = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);

		if (r <= 0)
			break;
		n += (size_t)r;
	}
	buf[n] = '\0';
	assert_string_equal(buf, "{\"ok\":true,\"result\":[\"x\"]}\n");
	close(fd);
	vprn_ctlsock_close(s);
	assert_int_not_equal(stat(path, &st), 0); /* removed on close */
	snprintf(path, sizeof(path), "/tmp/vprn-ctl-test-%d/sub", (int)getpid());
	rmdir(path);
	snprintf(path, sizeof(path), "/tmp/vprn-ctl-test-%d", (int)getpid());
	rmdir(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_parser),
		cmocka_unit_test(test_parser_rejects),
		cmocka_unit_test(test_ipv4),
		cmocka_unit_test(test_prefix),
		cmocka_unit_test(test_dispatch),
		cmocka_unit_test(test_socket),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
