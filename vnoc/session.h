/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_SESSION_H
#define VPRN_VNOC_SESSION_H

/**
 * @file
 * One ED connection of the VNOC: TLS handshake -> wait for hello -> established
 * -> closing (flush the last message, then close). Every failure is logged
 * with its reason and closes the connection; nothing here can block the loop.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/frame.h"
#include "common/msg.h"

struct vnoc;
struct vnoc_site;
struct vprn_tls;

enum vnoc_sess_state {
	VNOC_SESS_HANDSHAKE,
	VNOC_SESS_WAIT_HELLO,
	VNOC_SESS_ESTABLISHED,
	VNOC_SESS_CLOSING,
};

struct vnoc_session {
	struct vnoc_session *next, *prev;
	int fd;
	uint32_t ev_mask; /**< events currently registered with epoll */
	struct vprn_tls *tls;
	enum vnoc_sess_state state;
	char peer[48];		      /**< "ip:port" */
	const struct vnoc_site *site; /**< from the certificate CN (after handshake) */
	uint64_t deadline_ms;	      /**< handshake / hello / hold / closing deadline */
	uint64_t tx_seq;	      /**< last seq sent */
	uint64_t rx_seq;	      /**< last seq received */
	uint64_t rx_msgs, tx_msgs;
	struct vprn_frame_rx rx;
	struct vprn_frame_txq txq;
};

/** A new accepted connection (fd non-blocking, owned from now on). */
struct vnoc_session *vnoc_session_new(struct vnoc *v, int fd, const char *peer);

/** epoll says fd is ready. */
void vnoc_session_io(struct vnoc *v, struct vnoc_session *s, uint32_t events);

/** Tick: enforce the deadline. */
void vnoc_session_tick(struct vnoc *v, struct vnoc_session *s, uint64_t now_ms);

/** Queue a message (seq set here). @return 0, -EINVAL, -ENOBUFS (session closed). */
int vnoc_session_send(struct vnoc *v, struct vnoc_session *s, struct vprn_msg *msg);

/** Send an Error then close once it is flushed (or after a short grace). */
void vnoc_session_fail(
	struct vnoc *v, struct vnoc_session *s, enum vprn_error_code code, const char *text);

/** Close now (logged with reason) and free. */
void vnoc_session_close(struct vnoc *v, struct vnoc_session *s, const char *reason);

const char *vnoc_session_state_name(enum vnoc_sess_state st);

#endif /* VPRN_VNOC_SESSION_H */
