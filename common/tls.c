/* SPDX-License-Identifier: BSD-3-Clause */
#include "tls.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define CN_MAX 128

struct vprn_tls_ctx {
	SSL_CTX *ssl;
	bool server;
	vprn_tls_cn_fn cn_ok;
	void *cn_arg;
};

struct vprn_tls {
	SSL *ssl;
	struct vprn_tls_ctx *ctx;
	bool want_write;
	bool done;
	bool cn_refused;
	char expect_cn[CN_MAX];
	char peer_cn[CN_MAX];
	char err[384];
};

/* Append OpenSSL's error queue (and clear it) to a message. */
static void ssl_errors(char *buf, size_t len, const char *what)
{
	unsigned long e = ERR_get_error();
	char detail[160] = "";

	if (e != 0)
		ERR_error_string_n(e, detail, sizeof(detail));
	ERR_clear_error();
	snprintf(buf, len, "%s%s%s", what, detail[0] != '\0' ? ": " : "", detail);
}

static int load_crl(SSL_CTX *ssl, const char *path, char *err, size_t errlen)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ssl);
	X509_LOOKUP *lookup = X509_STORE_add_lookup(store, X509_LOOKUP_file());

	if (lookup == NULL || X509_load_crl_file(lookup, path, X509_FILETYPE_PEM) <= 0) {
		ssl_errors(err, errlen, "cannot load CRL");
		return -EINVAL;
	}
	/* Leaf check only: the CA is ours and has no parent to revoke it. */
	X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
	return 0;
}

static int x509_cn(X509 *cert, char *cn, size_t cap);

/*
 * Chain verification hook: at the leaf, once OpenSSL found the chain valid,
 * ask the owner whether the CN is acceptable. Refusing here fails the
 * handshake itself (the peer gets an alert), so an unknown site never gets a
 * TLS session at all.
 */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct vprn_tls *t = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	char cn[CN_MAX];

	if (!preverify_ok || t == NULL || t->ctx->cn_ok == NULL ||
		X509_STORE_CTX_get_error_depth(store) != 0)
		return preverify_ok;
	if (x509_cn(X509_STORE_CTX_get_current_cert(store), cn, sizeof(cn)) != 0 ||
		!t->ctx->cn_ok(t->ctx->cn_arg, cn)) {
		t->cn_refused = true;
		snprintf(t->peer_cn, sizeof(t->peer_cn), "%s", cn);
		X509_STORE_CTX_set_error(store, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

void vprn_tls_ctx_set_cn_check(struct vprn_tls_ctx *ctx, vprn_tls_cn_fn fn, void *arg)
{
	ctx->cn_ok = fn;
	ctx->cn_arg = arg;
}

struct vprn_tls_ctx *vprn_tls_ctx_new(
	const struct vprn_tls_files *files, bool server, char *err, size_t errlen)
{
	struct vprn_tls_ctx *ctx = calloc(1, sizeof(*ctx));
	SSL_CTX *ssl;

	if (ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (ssl == NULL) {
		ssl_errors(err, errlen, "SSL_CTX_new");
		free(ctx);
		return NULL;
	}
	ctx->ssl = ssl;
	ctx->server = server;
	/* TLS 1.3 only: no downgrade, forward secrecy, encrypted certificates. */
	if (SSL_CTX_set_min_proto_version(ssl, TLS1_3_VERSION) != 1 ||
		SSL_CTX_set_max_proto_version(ssl, TLS1_3_VERSION) != 1) {
		ssl_errors(err, errlen, "cannot restrict to TLS 1.3");
		goto fail;
	}
	/* A peer that vanishes mid-stream reads as end of stream; framing says if it was mid-frame.
	 */
	SSL_CTX_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_load_verify_locations(ssl, files->ca, NULL) != 1) {
		ssl_errors(err, errlen, "cannot load CA");
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ssl, files->cert) != 1) {
		ssl_errors(err, errlen, "cannot load certificate");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ssl, files->key, SSL_FILETYPE_PEM) != 1) {
		ssl_errors(err, errlen, "cannot load key");
		goto fail;
	}
	if (SSL_CTX_check_private_key(ssl) != 1) {
		ssl_errors(err, errlen, "key does not match certificate");
		goto fail;
	}
	if (files->crl != NULL && files->crl[0] != '\0' &&
		load_crl(ssl, files->crl, err, errlen) != 0)
		goto fail;
	SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	SSL_CTX_set_verify_depth(ssl, 4);
	if (server)
		SSL_CTX_set_session_cache_mode(ssl, SSL_SESS_CACHE_OFF);
	return ctx;
fail:
	SSL_CTX_free(ssl);
	free(ctx);
	return NULL;
}

void vprn_tls_ctx_free(struct vprn_tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl);
	free(ctx);
}

struct vprn_tls *vprn_tls_new(struct vprn_tls_ctx *ctx, int fd, const char *expect_cn)
{
	struct vprn_tls *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ctx = ctx;
	t->ssl = SSL_new(ctx->ssl);
	if (t->ssl == NULL || SSL_set_fd(t->ssl, fd) != 1 || SSL_set_app_data(t->ssl, t) != 1) {
		SSL_free(t->ssl);
		free(t);
		ERR_clear_error();
		return NULL;
	}
	if (expect_cn != NULL)
		snprintf(t->expect_cn, sizeof(t->expect_cn), "%s", expect_cn);
	if (ctx->server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return t;
}

void vprn_tls_free(struct vprn_tls *t)
{
	if (t == NULL)
		return;
	SSL_free(t->ssl);
	free(t);
}

static int x509_cn(X509 *cert, char *cn, size_t cap)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int idx = name != NULL ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	ASN1_STRING *data;
	const unsigned char *s;
	int len;

	if (idx < 0)
		return -EINVAL;
	/* Exactly one CN: two would make "which one is the site" ambiguous. */
	if (X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0)
		return -EINVAL;
	data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
	s = ASN1_STRING_get0_data(data);
	len = ASN1_STRING_length(data);
	if (s == NULL || len <= 0)
		return -EINVAL;
	if ((size_t)len >= cap)
		return -ENAMETOOLONG;
	/* An embedded NUL would let "hq\0evil" pass as "hq". */
	if (memchr(s, '\0', (size_t)len) != NULL)
		return -EINVAL;
	memcpy(cn, s, (size_t)len);
	cn[len] = '\0';
	return 0;
}

int vprn_tls_file_cn(const char *path, char *cn, size_t cap)
{
	FILE *f = fopen(path, "r");
	X509 *cert;
	int rc;

	if (f == NULL)
		return -ENOENT;
	cert = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (cert == NULL) {
		ERR_clear_error();
		return -EINVAL;
	}
	rc = x509_cn(cert, cn, cap);
	X509_free(cert);
	return rc;
}

/* Map an SSL_get_error() for an operation; returns -EAGAIN, 0 (EOF) or -errno. */
static int ssl_result(struct vprn_tls *t, int ret, const char *what)
{
	int e = SSL_get_error(t->ssl, ret);

	t->want_write = false;
	switch (e) {
	case SSL_ERROR_WANT_READ:
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		t->want_write = true;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		if (errno == 0 || errno == ECONNRESET || errno == EPIPE) {
			snprintf(t->err, sizeof(t->err), "%s: connection closed by peer", what);
			ERR_clear_error();
			return -ECONNRESET;
		}
		snprintf(t->err, sizeof(t->err), "%s: %s", what, strerror(errno));
		ERR_clear_error();
		return -errno;
	default:
		ssl_errors(t->err, sizeof(t->err), what);
		return -EPROTO;
	}
}

static int check_peer(struct vprn_tls *t)
{
	X509 *cert = SSL_get0_peer_certificate(t->ssl);
	long vr = SSL_get_verify_result(t->ssl);
	int rc;

	if (cert == NULL) {
		snprintf(t->err, sizeof(t->err), "peer sent no certificate");
		return -EPROTO;
	}
	if (vr != X509_V_OK) {
		snprintf(t->err, sizeof(t->err), "peer certificate: %s",
			X509_verify_cert_error_string(vr));
		return -EPROTO;
	}
	rc = x509_cn(cert, t->peer_cn, sizeof(t->peer_cn));
	if (rc != 0) {
		t->peer_cn[0] = '\0';
		snprintf(t->err, sizeof(t->err), "peer certificate has no usable CN");
		return -EPROTO;
	}
	if (t->expect_cn[0] != '\0' && strcmp(t->expect_cn, t->peer_cn) != 0) {
		snprintf(t->err, sizeof(t->err), "peer CN '%s', expected '%s'", t->peer_cn,
			t->expect_cn);
		return -EPROTO;
	}
	return 0;
}

int vprn_tls_handshake(struct vprn_tls *t)
{
	int ret;

	if (t->done)
		return 0;
	errno = 0;
	ret = SSL_do_handshake(t->ssl);
	if (ret == 1) {
		t->want_write = false;
		if (check_peer(t) != 0)
			return -EPROTO;
		t->done = true;
		return 0;
	}
	ret = ssl_result(t, ret, "handshake");
	if (t->cn_refused) {
		snprintf(t->err, sizeof(t->err),
			"certificate CN '%s' refused (not a registered name)", t->peer_cn);
		t->peer_cn[0] = '\0';
		return -EACCES;
	}
	if (ret == 0) {
		snprintf(t->err, sizeof(t->err), "handshake: connection closed by peer");
		return -ECONNRESET;
	}
	if (ret == -EPROTO && SSL_get_verify_result(t->ssl) != X509_V_OK)
		snprintf(t->err, sizeof(t->err), "handshake: peer certificate: %s",
			X509_verify_cert_error_string(SSL_get_verify_result(t->ssl)));
	return ret == -EAGAIN || ret == -ECONNRESET ? ret : -EPROTO;
}

bool vprn_tls_want_write(const struct vprn_tls *t)
{
	return t->want_write;
}

const char *vprn_tls_peer_cn(const struct vprn_tls *t)
{
	return t->done ? t->peer_cn : "";
}

const char *vprn_tls_error(const struct vprn_tls *t)
{
	return t->err;
}

ssize_t vprn_tls_read(void *ctx, void *buf, size_t len)
{
	struct vprn_tls *t = ctx;
	size_t got = 0;
	int ret;

	if (len == 0)
		return 0;
	errno = 0;
	ret = SSL_read_ex(t->ssl, buf, len, &got);
	if (ret == 1)
		return (ssize_t)got;
	ret = ssl_result(t, ret, "read");
	return ret == -ECONNRESET ? 0 : ret;
}

ssize_t vprn_tls_write(void *ctx, void *buf, size_t len)
{
	struct vprn_tls *t = ctx;
	size_t put = 0;
	int ret;

	errno = 0;
	ret = SSL_write_ex(t->ssl, buf, len, &put);
	if (ret == 1)
		return (ssize_t)put;
	ret = ssl_result(t, ret, "write");
	return ret == 0 ? -EPIPE : ret;
}

void vprn_tls_shutdown(struct vprn_tls *t)
{
	if (t->done)
		(void)SSL_shutdown(t->ssl);
	ERR_clear_error();
}
