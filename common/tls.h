/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_TLS_H
#define VPRN_COMMON_TLS_H

/**
 * @file
 * TLS 1.3-only channel with mutual certificate authentication (OpenSSL 3).
 *
 * Both ends load a CA, their certificate and key, and optionally a CRL. The
 * server requires a client certificate; both verify the chain against the CA
 * (and the CRL when given). The peer's certificate CN is returned to the
 * caller, who decides whether the name is acceptable (the VNOC checks its
 * site registry, the ED checks the VNOC's expected name).
 *
 * Everything is non-blocking: the socket must be O_NONBLOCK; the handshake,
 * read and write return -EAGAIN and vprn_tls_want_write() says whether to wait
 * for EPOLLOUT as well as EPOLLIN. Handshake timeouts are the caller's
 * (it knows its timers): see vprn_tls_started_ms().
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct vprn_tls_files {
	const char *ca;	  /**< PEM CA certificate(s) */
	const char *cert; /**< PEM certificate (chain) */
	const char *key;  /**< PEM private key */
	const char *crl;  /**< PEM CRL, NULL or "" for none */
};

struct vprn_tls_ctx;
struct vprn_tls;

/**
 * Load credentials. @return NULL on error with the reason in err.
 */
struct vprn_tls_ctx *vprn_tls_ctx_new(
	const struct vprn_tls_files *files, bool server, char *err, size_t errlen);
void vprn_tls_ctx_free(struct vprn_tls_ctx *ctx);

/** Is this peer CN acceptable? (e.g. a registered site). */
typedef bool (*vprn_tls_cn_fn)(void *arg, const char *cn);

/**
 * Check the peer's CN during the handshake, after the chain is verified: a
 * refused CN fails the handshake (alert to the peer, -EACCES from
 * vprn_tls_handshake()). Without it any CN passes (the caller decides later).
 */
void vprn_tls_ctx_set_cn_check(struct vprn_tls_ctx *ctx, vprn_tls_cn_fn fn, void *arg);

/**
 * Wrap a connected non-blocking socket (not owned: the caller closes it).
 * @param expect_cn  client side: required CN of the server, NULL = any
 */
struct vprn_tls *vprn_tls_new(struct vprn_tls_ctx *ctx, int fd, const char *expect_cn);
void vprn_tls_free(struct vprn_tls *t);

/**
 * Drive the handshake. @return 0 done (peer verified, CN available),
 * -EAGAIN in progress, -EPROTO refused/failed (reason in vprn_tls_error()),
 * -EACCES the CN check refused the peer, -ECONNRESET peer went away.
 */
int vprn_tls_handshake(struct vprn_tls *t);

/** True when the last -EAGAIN needs the socket writable. */
bool vprn_tls_want_write(const struct vprn_tls *t);

/** Peer certificate CN after a successful handshake ("" before). */
const char *vprn_tls_peer_cn(const struct vprn_tls *t);

/** Why the last operation failed. */
const char *vprn_tls_error(const struct vprn_tls *t);

/** vprn_io_fn-compatible read/write (ctx = struct vprn_tls *). 0 = end of stream. */
ssize_t vprn_tls_read(void *t, void *buf, size_t len);
ssize_t vprn_tls_write(void *t, void *buf, size_t len);

/** Send close_notify, best effort, never blocks. */
void vprn_tls_shutdown(struct vprn_tls *t);

/** CN of the first certificate of a PEM file. @return 0, -ENOENT, -EINVAL, -ENAMETOOLONG. */
int vprn_tls_file_cn(const char *path, char *cn, size_t cap);

#endif /* VPRN_COMMON_TLS_H */
