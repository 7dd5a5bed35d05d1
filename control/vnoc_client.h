/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_VNOC_CLIENT_H
#define VPRN_CONTROL_VNOC_CLIENT_H

/**
 * @file
 * The ED's session to the VNOC, driven by the control thread's epoll loop:
 * connect (non-blocking) -> TLS 1.3 handshake (the VNOC's certificate CN must
 * be vnoc.server_name) -> hello -> welcome -> up. While up it sends a
 * keepalive every refresh interval (the VNOC echoes it) and declares the VNOC
 * gone after hold_time without any message. Any failure closes the socket and
 * retries after an exponential back-off with jitter; the data plane keeps
 * forwarding meanwhile (its tables are not touched here).
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/json.h"
#include "common/msg.h"
#include "ed_conf.h"

enum ed_client_state {
	ED_CL_BACKOFF,	    /**< waiting before the next attempt */
	ED_CL_CONNECTING,   /**< TCP connect in progress */
	ED_CL_HANDSHAKE,    /**< TLS handshake */
	ED_CL_WAIT_WELCOME, /**< hello sent */
	ED_CL_UP,
};

/** What the rest of the ED wants to know; every hook is optional. */
struct ed_client_hooks {
	void *ctx;
	/** Welcome received (after a reconnect too: resynchronise everything). */
	void (*on_up)(void *ctx, const struct vprn_welcome *welcome);
	/** Session lost (the data plane keeps its state). */
	void (*on_down)(void *ctx);
	/** A VNOC -> ED message other than welcome/keepalive/error. -EPROTO closes. */
	int (*on_msg)(void *ctx, const struct vprn_msg *msg);
	/** Every refresh interval while up (soft-state refresh). */
	void (*on_refresh)(void *ctx);
	/** The state digest for the hello (up to VPRN_DIGEST_MAX bytes; *len 0: none). */
	void (*hello_digest)(void *ctx, uint8_t *digest, uint32_t *len);
};

struct ed_client;

/** @param tag  epoll data.u64 the client registers its socket with. */
struct ed_client *ed_client_new(
	const struct ed_conf *conf, int epfd, uint64_t tag, const struct ed_client_hooks *hooks);
void ed_client_free(struct ed_client *c);

/** Start connecting now. */
void ed_client_start(struct ed_client *c);
/** Socket event (epoll tag matched). */
void ed_client_io(struct ed_client *c, uint32_t events);
/** Timers: back-off, timeouts, keepalive. Call every ~100 ms. */
void ed_client_tick(struct ed_client *c, uint64_t now_ms);
/** Queue a message to the VNOC (seq set here). @return 0, -ENOTCONN, -EINVAL, -ENOBUFS. */
int ed_client_send(struct ed_client *c, struct vprn_msg *msg);
/** Send bye (best effort) and close; no reconnect after this. */
void ed_client_stop(struct ed_client *c, const char *reason);

enum ed_client_state ed_client_state(const struct ed_client *c);
const char *ed_client_state_name(enum ed_client_state st);
/** The last welcome (valid while up), NULL otherwise. */
const struct vprn_welcome *ed_client_welcome(const struct ed_client *c);
/** Write a JSON object describing the session. */
void ed_client_status_json(const struct ed_client *c, struct vprn_json *j);

#endif /* VPRN_CONTROL_VNOC_CLIENT_H */
