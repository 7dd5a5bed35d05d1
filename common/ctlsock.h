/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_CTLSOCK_H
#define VPRN_COMMON_CTLSOCK_H

/**
 * @file
 * The daemons' local control socket (vprnctl's server side).
 *
 * A UNIX stream socket, mode 0600 and peers checked with SO_PEERCRED (root or
 * the daemon's own user). One request line of JSON
 *   {"cmd": "sites", "args": ["..."]}
 * gets one JSON answer line and the connection is closed:
 *   {"ok": true, "result": ...}   or   {"ok": false, "error": "..."}
 *
 * Commands come from tables of handlers registered by the daemon; "help" is
 * built in and lists them. Everything is non-blocking and driven from the
 * daemon's own event loop: the socket exposes one pollable fd (an internal
 * epoll set) and vprn_ctlsock_poll() does the work, so handlers run in the
 * loop's thread and may read daemon state without locks.
 */

#include <stddef.h>

#include "json.h"

#define VPRN_CTL_MAX_ARGS 16
#define VPRN_CTL_MAX_REQUEST 4096

/**
 * A command handler: write the "result" value into out (exactly one JSON
 * value), or return -errno with a message in err.
 */
typedef int (*vprn_ctl_fn)(
	void *ctx, int argc, char **argv, struct vprn_json *out, char *err, size_t errlen);

struct vprn_ctl_cmd {
	const char *name;  /**< "sites", "status", ... */
	const char *usage; /**< one line for help, e.g. "tree GROUP [--dot]" */
	vprn_ctl_fn fn;
};

struct vprn_ctlsock;

/**
 * Create the socket at path (the parent directory is created if missing; a
 * stale socket is replaced). @return NULL with errno set.
 */
struct vprn_ctlsock *vprn_ctlsock_open(const char *path, void *ctx);
void vprn_ctlsock_close(struct vprn_ctlsock *s);

/** Register a table of n commands (kept by pointer: static storage). -ENOSPC if too many tables. */
int vprn_ctlsock_register(struct vprn_ctlsock *s, const struct vprn_ctl_cmd *cmds, size_t n);

/** The fd to watch for EPOLLIN in the daemon's loop. */
int vprn_ctlsock_fd(const struct vprn_ctlsock *s);

/** Accept, read, answer what is ready; drop clients idle for too long. Never blocks. */
void vprn_ctlsock_poll(struct vprn_ctlsock *s);

/**
 * Run one request line through the command tables, as the socket would
 * (exposed for tests and the fuzz harness). @return the answer (free()).
 */
char *vprn_ctlsock_dispatch(struct vprn_ctlsock *s, const char *line, size_t len);

#endif /* VPRN_COMMON_CTLSOCK_H */
