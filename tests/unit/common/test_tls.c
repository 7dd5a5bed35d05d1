/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TLS channel: certificate CN extraction, mutual authentication over a
 * socketpair, refusal of a foreign CA, of a revoked certificate, of an
 * unexpected server name and of TLS 1.2. Certificates are made at run time by
 * mkcerts.sh (never committed).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/ssl.h>

#include "common/frame.h"
#include "common/tls.h"

static char dir[PATH_MAX];

static const char *p(const char *name)
{
	static char bufs[8][PATH_MAX + 64];
	static int i;

	i = (i + 1) % 8;
	snprintf(bufs[i], sizeof(bufs[i]), "%s/%s", dir, name);
	return bufs[i];
}

static int setup(void **state)
{
	const char *src = getenv("VPRN_SRCDIR");
	char cmd[2 * PATH_MAX];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/vprn-tls-test-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(cmd, sizeof(cmd), "sh %s/tests/unit/common/mkcerts.sh %s vnoc hq",
		src != NULL ? src : ".", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_file_cn(void **state)
{
	char cn[64];

	(void)state;
	assert_int_equal(vprn_tls_file_cn(p("hq.pem"), cn, sizeof(cn)), 0);
	assert_string_equal(cn, "hq");
	assert_int_equal(vprn_tls_file_cn(p("vnoc.pem"), cn, sizeof(cn)), 0);
	assert_string_equal(cn, "vnoc");
	assert_int_equal(vprn_tls_file_cn(p("foreign-hq.pem"), cn, sizeof(cn)), 0);
	assert_string_equal(cn, "hq");
	assert_int_equal(vprn_tls_file_cn(p("hq.pem"), cn, 2), -ENAMETOOLONG);
	assert_int_equal(vprn_tls_file_cn(p("nope.pem"), cn, sizeof(cn)), -ENOENT);
	assert_int_equal(vprn_tls_file_cn(p("ca.cnf"), cn, sizeof(cn)), -EINVAL);
}

struct pair {
	struct vprn_tls_ctx *sctx, *cctx;
	struct vprn_tls *srv, *cli;
	int fds[2];
	int rs, rc;
};

static void pair_open(struct pair *pr, const char *client, const char *expect, const char *crl)
{
	struct vprn_tls_files sf = { p("ca.pem"), p("vnoc.pem"), p("vnoc.key"), crl };
	struct vprn_tls_files cf;
	char cert[PATH_MAX + 80], key[PATH_MAX + 80], err[256];

	snprintf(cert, sizeof(cert), "%s/%s.pem", dir, client);
	snprintf(key, sizeof(key), "%s/%s.key", dir, client);
	cf = (struct vprn_tls_files){ p("ca.pem"), cert, key, NULL };
	pr->sctx = vprn_tls_ctx_new(&sf, true, err, sizeof(err));
	assert_non_null(pr->sctx);
	pr->cctx = vprn_tls_ctx_new(&cf, false, err, sizeof(err));
	assert_non_null(pr->cctx);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, pr->fds), 0);
	pr->srv = vprn_tls_new(pr->sctx, pr->fds[0], NULL);
	pr->cli = vprn_tls_new(pr->cctx, pr->fds[1], expect);
	assert_non_null(pr->srv);
	assert_non_null(pr->cli);
}

/* Drive both ends until neither wants more (non-blocking, interleaved). */
static void pair_handshake(struct pair *pr)
{
	pr->rs = pr->rc = -EAGAIN;
	for (int i = 0; i < 100 && (pr->rs == -EAGAIN || pr->rc == -EAGAIN); i++) {
		if (pr->rc == -EAGAIN)
			pr->rc = vprn_tls_handshake(pr->cli);
		if (pr->rs == -EAGAIN)
			pr->rs = vprn_tls_handshake(pr->srv);
	}
}

static void pair_close(struct pair *pr)
{
	vprn_tls_free(pr->srv);
	vprn_tls_free(pr->cli);
	close(pr->fds[0]);
	close(pr->fds[1]);
	vprn_tls_ctx_free(pr->sctx);
	vprn_tls_ctx_free(pr->cctx);
}

static void test_mutual_auth_and_frames(void **state)
{
	struct pair pr;
	struct vprn_frame_txq q;
	struct vprn_frame_rx rx;
	uint8_t *payload = NULL;
	uint32_t len = 0;
	int rc = 0;

	(void)state;
	pair_open(&pr, "hq", "vnoc", NULL);
	pair_handshake(&pr);
	assert_int_equal(pr.rs, 0);
	assert_int_equal(pr.rc, 0);
	assert_string_equal(vprn_tls_peer_cn(pr.srv), "hq");
	assert_string_equal(vprn_tls_peer_cn(pr.cli), "vnoc");
	/* a frame client -> server through TLS */
	vprn_frame_txq_init(&q, 1 << 16);
	vprn_frame_rx_init(&rx, 1024);
	assert_int_equal(vprn_frame_txq_push(&q, (const uint8_t *)"envelope", 8), 0);
	assert_int_equal(vprn_frame_txq_flush(&q, vprn_tls_write, pr.cli), 0);
	for (int i = 0;
		i < 10 && (rc = vprn_frame_read(&rx, vprn_tls_read, pr.srv, &payload, &len)) == 0;
		i++)
		;
	assert_int_equal(rc, 1);
	assert_int_equal(len, 8);
	assert_memory_equal(payload, "envelope", 8);
	free(payload);
	/* nothing more: would block */
	assert_int_equal(vprn_frame_read(&rx, vprn_tls_read, pr.srv, &payload, &len), 0);
	vprn_frame_txq_fini(&q);
	vprn_frame_rx_fini(&rx);
	pair_close(&pr);
}

static void test_foreign_ca_refused(void **state)
{
	struct pair pr;

	(void)state;
	pair_open(&pr, "foreign-hq", NULL, NULL);
	pair_handshake(&pr);
	assert_int_equal(pr.rs, -EPROTO);
	assert_non_null(strstr(vprn_tls_error(pr.srv), "certificate"));
	assert_string_equal(vprn_tls_peer_cn(pr.srv), "");
	pair_close(&pr);
}

static void test_revoked_refused(void **state)
{
	struct pair pr;

	(void)state;
	pair_open(&pr, "revoked", NULL, p("crl.pem"));
	pair_handshake(&pr);
	assert_int_equal(pr.rs, -EPROTO);
	assert_non_null(strstr(vprn_tls_error(pr.srv), "revoked"));
	pair_close(&pr);
	/* the CRL does not refuse a good certificate */
	pair_open(&pr, "hq", NULL, p("crl.pem"));
	pair_handshake(&pr);
	assert_int_equal(pr.rs, 0);
	pair_close(&pr);
}

static bool only_vnoc_and_br1(void *arg, const char *cn)
{
	int *calls = arg;

	(*calls)++;
	return strcmp(cn, "br1") == 0;
}

static void test_cn_check(void **state)
{
	struct pair pr;
	int calls = 0;

	(void)state;
	pair_open(&pr, "hq", "vnoc", NULL);
	vprn_tls_ctx_set_cn_check(pr.sctx, only_vnoc_and_br1, &calls);
	pair_handshake(&pr);
	assert_int_equal(pr.rs, -EACCES);
	assert_int_equal(calls, 1);
	assert_non_null(strstr(vprn_tls_error(pr.srv), "'hq' refused"));
	assert_string_equal(vprn_tls_peer_cn(pr.srv), "");
	pair_close(&pr);
	/* a foreign chain never reaches the CN check */
	calls = 0;
	pair_open(&pr, "foreign-hq", NULL, NULL);
	vprn_tls_ctx_set_cn_check(pr.sctx, only_vnoc_and_br1, &calls);
	pair_handshake(&pr);
	assert_int_equal(pr.rs, -EPROTO);
	assert_int_equal(calls, 0);
	pair_close(&pr);
}

static void test_wrong_server_name(void **state)
{
	struct pair pr;

	(void)state;
	pair_open(&pr, "hq", "not-the-vnoc", NULL);
	pair_handshake(&pr);
	assert_int_equal(pr.rc, -EPROTO);
	assert_non_null(strstr(vprn_tls_error(pr.cli), "expected"));
	pair_close(&pr);
}

static void test_tls12_refused(void **state)
{
	struct vprn_tls_files sf = { p("ca.pem"), p("vnoc.pem"), p("vnoc.key"), NULL };
	char err[256];
	struct vprn_tls_ctx *sctx = vprn_tls_ctx_new(&sf, true, err, sizeof(err));
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	struct vprn_tls *srv;
	SSL *cli;
	int fds[2], rs = -EAGAIN, rc = -1;

	(void)state;
	assert_non_null(sctx);
	assert_non_null(cctx);
	SSL_CTX_set_max_proto_version(cctx, TLS1_2_VERSION);
	SSL_CTX_use_certificate_file(cctx, p("hq.pem"), SSL_FILETYPE_PEM);
	SSL_CTX_use_PrivateKey_file(cctx, p("hq.key"), SSL_FILETYPE_PEM);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	srv = vprn_tls_new(sctx, fds[0], NULL);
	cli = SSL_new(cctx);
	SSL_set_fd(cli, fds[1]);
	SSL_set_connect_state(cli);
	for (int i = 0; i < 50 && rs == -EAGAIN; i++) {
		rc = SSL_do_handshake(cli);
		rs = vprn_tls_handshake(srv);
	}
	assert_int_equal(rs, -EPROTO);
	assert_int_not_equal(rc, 1);
	SSL_free(cli);
	SSL_CTX_free(cctx);
	vprn_tls_free(srv);
	vprn_tls_ctx_free(sctx);
	close(fds[0]);
	close(fds[1]);
}

static void test_bad_files(void **state)
{
	struct vprn_tls_files f = { p("ca.pem"), p("hq.pem"), p("vnoc.key"), NULL };
	char err[256] = "";

	(void)state;
	/* key of another certificate */
	assert_null(vprn_tls_ctx_new(&f, false, err, sizeof(err)));
	assert_non_null(strstr(err, "key"));
	f.key = p("hq.key");
	f.ca = p("missing.pem");
	assert_null(vprn_tls_ctx_new(&f, false, err, sizeof(err)));
	assert_non_null(strstr(err, "CA"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_cn),
		cmocka_unit_test(test_mutual_auth_and_frames),
		cmocka_unit_test(test_foreign_ca_refused),
		cmocka_unit_test(test_revoked_refused),
		cmocka_unit_test(test_cn_check),
		cmocka_unit_test(test_wrong_server_name),
		cmocka_unit_test(test_tls12_refused),
		cmocka_unit_test(test_bad_files),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
