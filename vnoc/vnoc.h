/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_VNOC_H
#define VPRN_VNOC_VNOC_H

/**
 * @file
 * The vprn-vnoc daemon core: one epoll loop (single thread) owning the
 * listening socket, every ED session, the control socket, signals and a
 * periodic tick. Modules (membership, policy, keys, trees...) run inside this
 * thread: they get messages through the dispatch table (dispatch.c), session
 * up/down events and the tick, and send with vnoc_send_site().
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"
#include "conf.h"

#define VNOC_TICK_MS 100
#define VNOC_MAX_SESSIONS 4096
#define VNOC_MAX_PENDING 256	  /**< connections still in handshake/hello */
#define VNOC_TXQ_BYTES (4u << 20) /**< per-session send queue bound */

struct vnoc_session;
struct vprn_tls_ctx;
struct vprn_ctlsock;

/** Daemon-wide counters (status, tests). */
struct vnoc_counters {
	uint64_t accepted;	  /**< TCP connections accepted */
	uint64_t established;	  /**< sessions that completed hello/welcome */
	uint64_t refused_tls;	  /**< handshake failed (bad/foreign cert, garbage...) */
	uint64_t refused_unknown; /**< valid cert, CN not a registered site */
	uint64_t timeouts;	  /**< handshake/hello/hold timer expired */
	uint64_t protocol_errors; /**< bad frame, bad message, bad sequence */
	uint64_t replaced;	  /**< sessions replaced by a newer one of the same site */
	uint64_t overflows;	  /**< send queue full */
	uint64_t rx_msgs, tx_msgs;
};

/** Per registered site: its live session (if any) and history. */
struct vnoc_site_state {
	struct vnoc_session *session; /**< established session or NULL */
	uint64_t up_since_ms;	      /**< monotonic, when established */
	uint64_t last_change_ms;
	uint32_t sessions;	/**< how many times it connected */
	uint32_t wan_addr_seen; /**< from its last hello */
	uint32_t lan_prefix;
	uint8_t lan_prefix_len;
	char software[VPRN_TEXT_MAX];
	char peer_addr[48]; /**< "ip:port" of the session */
};

struct vnoc {
	struct vnoc_conf conf;
	int epfd;
	int lfd;
	int sigfd;
	int tickfd;
	struct vprn_tls_ctx *tls;
	struct vprn_ctlsock *ctl;
	struct vnoc_session *sessions; /**< all connections (list) */
	uint32_t n_sessions;
	uint32_t n_pending;
	struct vnoc_site_state *site_state; /**< [conf.n_sites], index = site id - 1 */
	struct vnoc_counters cnt;
	uint64_t boot_id;
	uint64_t start_ms;
	bool stop;
	void *modules; /**< state of the modules wired in dispatch.c */
};

/** Set up sockets, TLS and the control socket. @return 0 or -errno (logged). */
int vnoc_init(struct vnoc *v, const struct vnoc_conf *conf, const char *ctl_override);
/** Run until SIGINT/SIGTERM. @return 0 or -errno. */
int vnoc_run(struct vnoc *v);
void vnoc_fini(struct vnoc *v);

/**
 * Send a message to a site's established session (seq is set here).
 * @return 0, -ENOTCONN (site down), -EINVAL (invalid message), -ENOBUFS (queue
 * full: the session is closed).
 */
int vnoc_send_site(struct vnoc *v, uint32_t site_id, struct vprn_msg *msg);

/** State of a registered site by id (1..n). */
struct vnoc_site_state *vnoc_site_state(struct vnoc *v, uint32_t site_id);

#endif /* VPRN_VNOC_VNOC_H */
