/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_SIMED_H
#define VPRN_BENCH_SIMED_H

/*
 * A simulated ED's control session to a vprn-vnoc (benchmarks only): a
 * non-blocking TCP connection in the caller's epoll set, the TLS 1.3
 * handshake with the site's own certificate, Hello, and framed protocol
 * messages both ways, using the project's TLS, framing and message modules.
 * Shared by vprn-bench-vnoc (many EDs loading a VNOC) and vprn-sim-sites
 * (the remote sites of a vprn-ed benchmark).
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/frame.h"
#include "common/msg.h"
#include "common/tls.h"

enum simed_state {
	SIMED_IDLE,
	SIMED_CONNECTING,
	SIMED_HANDSHAKE,
	SIMED_HELLO,
	SIMED_UP,
	SIMED_DEAD
};

struct simed;

/** A decoded message for the session (Welcome moves it to SIMED_UP first). */
typedef void (*simed_msg_fn)(struct simed *e, struct vprn_msg *m, double t);
/** The session is closing; why is NULL on a deliberate close. */
typedef void (*simed_close_fn)(struct simed *e, const char *why);

struct simed {
	char name[VPRN_NAME_MAX];
	uint32_t wan_addr; /**< sent in Hello, host order */
	uint64_t boot_id;
	const char *software;
	int fd;
	int epfd;
	enum simed_state st;
	struct vprn_tls *tls;
	struct vprn_frame_rx rx;
	struct vprn_frame_txq txq;
	bool want_out;
	uint64_t seq;
	simed_msg_fn on_msg;
	simed_close_fn on_close;
	void *user;
	unsigned long msgs_in, msgs_out;
};

/** Connect to addr:port (non-blocking) and start TLS with ctx; 0 or -errno. */
int simed_start(struct simed *e, int epfd, const char *addr, int port, struct vprn_tls_ctx *ctx);
/** Handle the epoll events of e's socket at time t (seconds). */
void simed_event(struct simed *e, uint32_t ev, double t);
/** Encode and queue m with the next sequence number (closes e on failure). */
void simed_send(struct simed *e, struct vprn_msg *m);
/** Ack a message from the VNOC. */
void simed_ack(struct simed *e, uint64_t ref_seq);
/** Shut TLS down and close; why != NULL: an error, logged and passed to on_close. */
void simed_close(struct simed *e, const char *why);
/** An any-source membership (EXCLUDE {}) of group g (host order). */
void simed_membership(struct vprn_membership *m, uint32_t group, enum vprn_role role);
/** Send Join (leave = false) or Leave of one membership. */
void simed_join(struct simed *e, uint32_t group, enum vprn_role role, bool leave);

/** Monotonic time in seconds. */
double simed_now(void);

#endif /* VPRN_BENCH_SIMED_H */
