/* SPDX-License-Identifier: BSD-3-Clause */
#include "vnoc_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/frame.h"
#include "common/log.h"
#include "common/tls.h"
#include "backoff.h"

#define TXQ_BYTES (4u << 20)
#define SOFTWARE "vprn-ed 0.1.0"

struct ed_client {
	const struct ed_conf *conf;
	struct ed_client_hooks hooks;
	int epfd;
	uint64_t tag;
	int fd;
	uint32_t ev_mask;
	struct vprn_tls_ctx *tls_ctx;
	struct vprn_tls *tls;
	enum ed_client_state state;
	bool stopped;
	uint64_t deadline_ms; /* back-off end, or connect/handshake/welcome deadline */
	uint64_t next_ka_ms;  /* next keepalive while up */
	uint64_t last_rx_ms;
	uint64_t up_since_ms;
	uint32_t hold_ms;    /* hold time of the last welcome */
	uint32_t attempts;   /* failed attempts since the last success */
	uint32_t backoff_ms; /* last delay chosen */
	uint64_t connects;   /* successful sessions */
	uint64_t failures;
	uint64_t tx_seq, rx_seq;
	uint64_t rx_msgs, tx_msgs;
	uint64_t boot_id;
	uint64_t rtt_us; /* last keepalive round trip */
	struct vprn_frame_rx rx;
	struct vprn_frame_txq txq;
	struct vprn_msg welcome; /* decoded, owned */
	bool have_welcome;
	char last_error[256];
};

const char *ed_client_state_name(enum ed_client_state st)
{
	switch (st) {
	case ED_CL_BACKOFF:
		return "backoff";
	case ED_CL_CONNECTING:
		return "connecting";
	case ED_CL_HANDSHAKE:
		return "handshake";
	case ED_CL_WAIT_WELCOME:
		return "wait-welcome";
	case ED_CL_UP:
		return "up";
	}
	return "?";
}

struct ed_client *ed_client_new(
	const struct ed_conf *conf, int epfd, uint64_t tag, const struct ed_client_hooks *hooks)
{
	struct vprn_tls_files files = { .ca = conf->vnoc.ca,
		.cert = conf->vnoc.cert,
		.key = conf->vnoc.key,
		.crl = conf->vnoc.crl };
	struct ed_client *c = calloc(1, sizeof(*c));
	char err[512];

	if (c == NULL)
		return NULL;
	c->conf = conf;
	if (hooks != NULL)
		c->hooks = *hooks;
	c->epfd = epfd;
	c->tag = tag;
	c->fd = -1;
	c->state = ED_CL_BACKOFF;
	c->deadline_ms = UINT64_MAX; /* until ed_client_start() */
	if (getrandom(&c->boot_id, sizeof(c->boot_id), 0) != sizeof(c->boot_id))
		c->boot_id = vprn_now_ns();
	c->tls_ctx = vprn_tls_ctx_new(&files, false, err, sizeof(err));
	if (c->tls_ctx == NULL) {
		LOG_ERR("client", "TLS setup: %s", err);
		free(c);
		return NULL;
	}
	return c;
}

static void drop_welcome(struct ed_client *c)
{
	if (c->have_welcome && c->welcome.u.welcome.peers != NULL) /* probe keys */
		explicit_bzero(c->welcome.u.welcome.peers,
			c->welcome.u.welcome.n_peers * sizeof(*c->welcome.u.welcome.peers));
	if (c->have_welcome)
		vprn_msg_free(&c->welcome);
	c->have_welcome = false;
}

/* Close the connection and schedule the next attempt. */
static void disconnect(struct ed_client *c, const char *reason)
{
	bool was_up = c->state == ED_CL_UP;
	uint32_t delay;
	uint32_t r;

	if (reason != NULL) {
		snprintf(c->last_error, sizeof(c->last_error), "%s", reason);
		if (was_up)
			LOG_WARN("client", "session to the VNOC lost: %s", reason);
		else
			LOG_WARN("client", "VNOC connection attempt failed: %s", reason);
	}
	if (c->tls != NULL) {
		vprn_tls_shutdown(c->tls);
		vprn_tls_free(c->tls);
		c->tls = NULL;
	}
	if (c->fd >= 0) {
		epoll_ctl(c->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
		c->fd = -1;
	}
	vprn_frame_rx_fini(&c->rx);
	vprn_frame_txq_fini(&c->txq);
	drop_welcome(c);
	c->state = ED_CL_BACKOFF;
	if (was_up && c->hooks.on_down != NULL)
		c->hooks.on_down(c->hooks.ctx);
	if (c->stopped) {
		c->deadline_ms = UINT64_MAX;
		return;
	}
	c->failures++;
	/*
	 * A session that lived a full hold time resets the back-off; a shorter one
	 * (e.g. replaced by a duplicate ED, refused right after welcome) does not,
	 * so two EDs with the same certificate cannot flap faster and faster.
	 */
	if (was_up && vprn_now_ms() - c->up_since_ms >= c->hold_ms)
		c->attempts = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = (uint32_t)vprn_now_ns();
	delay = ed_backoff_delay(
		c->conf->vnoc.backoff_min_ms, c->conf->vnoc.backoff_max_ms, c->attempts, r);
	c->attempts++;
	c->backoff_ms = delay;
	c->deadline_ms = vprn_now_ms() + delay;
	LOG_INFO("client", "reconnecting to the VNOC in %u ms", delay);
}

static void set_events(struct ed_client *c, uint32_t mask)
{
	struct epoll_event ev = { .events = mask, .data.u64 = c->tag };

	if (c->fd < 0 || mask == c->ev_mask)
		return;
	if (epoll_ctl(c->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->ev_mask = mask;
}

static void connect_now(struct ed_client *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons(c->conf->vnoc.port),
		.sin_addr.s_addr = htonl(c->conf->vnoc.addr) };
	struct epoll_event ev = { .events = EPOLLOUT, .data.u64 = c->tag };
	char a[16];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0) {
		disconnect(c, strerror(errno));
		return;
	}
	/* Small control messages: do not let Nagle hold them for an ACK. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &(int){ 1 }, sizeof(int));
	c->fd = fd;
	c->state = ED_CL_CONNECTING;
	c->deadline_ms = vprn_now_ms() + c->conf->vnoc.handshake_timeout_ms;
	c->tx_seq = c->rx_seq = 0;
	vprn_frame_rx_init(&c->rx, VPRN_FRAME_MAX);
	vprn_frame_txq_init(&c->txq, TXQ_BYTES);
	LOG_DEBUG("client", "connecting to %s:%u", vprn_ipv4_str(c->conf->vnoc.addr, a),
		c->conf->vnoc.port);
	if (epoll_ctl(c->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		disconnect(c, strerror(errno));
		return;
	}
	c->ev_mask = EPOLLOUT;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		char reason[128];

		snprintf(reason, sizeof(reason), "connect: %s", strerror(errno));
		disconnect(c, reason);
	}
}

void ed_client_start(struct ed_client *c)
{
	c->stopped = false;
	if (c->state == ED_CL_BACKOFF)
		connect_now(c);
}

static bool flush(struct ed_client *c)
{
	int rc = vprn_frame_txq_flush(&c->txq, vprn_tls_write, c->tls);

	if (rc < 0) {
		disconnect(c, "write to the VNOC failed");
		return false;
	}
	set_events(c, rc == 1 || vprn_tls_want_write(c->tls) ? EPOLLIN | EPOLLOUT : EPOLLIN);
	return true;
}

int ed_client_send(struct ed_client *c, struct vprn_msg *msg)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (c->tls == NULL ||
		(c->state != ED_CL_UP && msg->type != VPRN_MSG_HELLO && msg->type != VPRN_MSG_BYE))
		return -ENOTCONN;
	msg->version = VPRN_PROTOCOL_VERSION;
	msg->seq = c->tx_seq + 1;
	rc = vprn_msg_encode(msg, &buf, &len);
	if (rc != 0) {
		LOG_ERR("client", "refusing to send an invalid %s", vprn_msg_type_name(msg->type));
		return rc;
	}
	rc = vprn_frame_txq_push(&c->txq, buf, len);
	free(buf);
	if (rc == -ENOBUFS) {
		disconnect(c, "send queue to the VNOC full");
		return rc;
	}
	if (rc != 0)
		return rc;
	c->tx_seq++;
	c->tx_msgs++;
	LOG_DEBUG("client", "-> %s seq %llu", vprn_msg_type_name(msg->type),
		(unsigned long long)msg->seq);
	flush(c);
	return 0;
}

static void send_hello(struct ed_client *c)
{
	const struct dp_conf *dp = &c->conf->dp;
	struct vprn_msg m;
	struct vprn_hello *h = &m.u.hello;
	static const enum vprn_transform xf[] = { VPRN_XFORM_AES_GCM_128, VPRN_XFORM_AES_GCM_256,
		VPRN_XFORM_AES_CBC_128_HMAC_SHA256, VPRN_XFORM_AES_CBC_256_HMAC_SHA256 };

	vprn_msg_init(&m, VPRN_MSG_HELLO, 0);
	vprn_msg_strcpy(h->site, sizeof(h->site), c->conf->site);
	vprn_msg_strcpy(h->software, sizeof(h->software), SOFTWARE);
	h->wan_addr = dp->wan.addr;
	h->lan_prefix_len = dp->lan.prefix_len;
	h->lan_prefix =
		dp->lan.addr & (dp->lan.prefix_len == 0 ? 0 : ~0u << (32 - dp->lan.prefix_len));
	memcpy(h->caps.transforms, xf, sizeof(xf));
	h->caps.n_transforms = sizeof(xf) / sizeof(xf[0]);
	h->caps.group_sa = true;
	h->caps.max_neighbours = 64;
	h->caps.replay_window_max = 4096;
	h->caps.esn = true;
	h->boot_id = c->boot_id;
	if (c->hooks.hello_digest != NULL)
		c->hooks.hello_digest(c->hooks.ctx, h->state_digest, &h->state_digest_len);
	c->state = ED_CL_WAIT_WELCOME;
	ed_client_send(c, &m);
}

static void handshake(struct ed_client *c)
{
	int rc = vprn_tls_handshake(c->tls);
	char reason[420];

	if (rc == -EAGAIN) {
		set_events(c, vprn_tls_want_write(c->tls) ? EPOLLIN | EPOLLOUT : EPOLLIN);
		return;
	}
	if (rc != 0) {
		snprintf(reason, sizeof(reason), "TLS: %s", vprn_tls_error(c->tls));
		disconnect(c, reason);
		return;
	}
	LOG_DEBUG("client", "TLS up with %s", vprn_tls_peer_cn(c->tls));
	send_hello(c);
}

static void connected(struct ed_client *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	char reason[128];

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err != 0) {
		snprintf(reason, sizeof(reason), "connect: %s", strerror(err));
		disconnect(c, reason);
		return;
	}
	c->tls = vprn_tls_new(c->tls_ctx, c->fd, c->conf->vnoc.server_name);
	if (c->tls == NULL) {
		disconnect(c, "out of memory");
		return;
	}
	c->state = ED_CL_HANDSHAKE;
	handshake(c);
}

static void on_welcome(struct ed_client *c, struct vprn_msg *m)
{
	c->welcome = *m; /* take ownership of the peers array */
	m->owned = false;
	c->have_welcome = true;
	c->state = ED_CL_UP;
	c->hold_ms = c->welcome.u.welcome.hold_time_ms;
	c->connects++;
	c->up_since_ms = vprn_now_ms();
	c->next_ka_ms = c->up_since_ms + c->welcome.u.welcome.refresh_interval_ms;
	c->deadline_ms = UINT64_MAX;
	c->last_error[0] = '\0';
	LOG_INFO("client", "registered with the VNOC as site %s (id %u, VPN %s, %u peers)",
		c->conf->site, c->welcome.u.welcome.site_id, c->welcome.u.welcome.vpn,
		c->welcome.u.welcome.n_peers);
	if (c->hooks.on_up != NULL)
		c->hooks.on_up(c->hooks.ctx, &c->welcome.u.welcome);
}

/* Returns false if the connection was closed. */
static bool on_msg(struct ed_client *c, struct vprn_msg *m)
{
	char reason[320];

	c->rx_msgs++;
	c->last_rx_ms = vprn_now_ms();
	LOG_DEBUG("client", "<- %s seq %llu", vprn_msg_type_name(m->type),
		(unsigned long long)m->seq);
	if (m->seq <= c->rx_seq) {
		disconnect(c, "VNOC sequence number not increasing");
		return false;
	}
	c->rx_seq = m->seq;
	if (m->type == VPRN_MSG_ERROR) {
		snprintf(reason, sizeof(reason), "VNOC error %s: %s",
			vprn_error_code_name(m->u.error.code), m->u.error.text);
		disconnect(c, reason);
		return false;
	}
	if (c->state == ED_CL_WAIT_WELCOME) {
		if (m->type != VPRN_MSG_WELCOME) {
			disconnect(c, "VNOC did not answer hello with welcome");
			return false;
		}
		on_welcome(c, m);
		return true;
	}
	switch (m->type) {
	case VPRN_MSG_KEEPALIVE:
		if (m->u.keepalive.tsc_echo != 0)
			c->rtt_us = (vprn_now_ns() - m->u.keepalive.tsc_echo) / 1000;
		return true;
	case VPRN_MSG_WELCOME:
	case VPRN_MSG_HELLO:
		disconnect(c, "unexpected hello/welcome from the VNOC");
		return false;
	default:
		if (c->hooks.on_msg != NULL && c->hooks.on_msg(c->hooks.ctx, m) == -EPROTO) {
			snprintf(reason, sizeof(reason), "could not handle %s",
				vprn_msg_type_name(m->type));
			disconnect(c, reason);
			return false;
		}
		return true;
	}
}

static void read_frames(struct ed_client *c)
{
	for (;;) {
		uint8_t *buf;
		uint32_t len;
		struct vprn_msg m;
		int rc = vprn_frame_read(&c->rx, vprn_tls_read, c->tls, &buf, &len);
		bool alive;

		if (rc == 0)
			return;
		if (rc < 0) {
			char reason[420];

			snprintf(reason, sizeof(reason), "%s",
				rc == -ECONNRESET ? "VNOC closed the connection"
				: rc == -EMSGSIZE ? "oversize frame from the VNOC"
				: rc == -EBADMSG  ? "zero-length frame from the VNOC"
				: rc == -EPIPE	  ? "truncated frame from the VNOC"
						  : "");
			if (reason[0] == '\0')
				snprintf(reason, sizeof(reason), "TLS: %s", vprn_tls_error(c->tls));
			disconnect(c, reason);
			return;
		}
		rc = vprn_msg_decode(buf, len, &m);
		explicit_bzero(buf, len); /* may hold SA keys */
		free(buf);
		if (rc != 0) {
			disconnect(c, "invalid message from the VNOC");
			return;
		}
		alive = on_msg(c, &m);
		vprn_msg_free(&m);
		if (!alive)
			return;
	}
}

void ed_client_io(struct ed_client *c, uint32_t events)
{
	(void)events;
	if (c->fd < 0)
		return;
	if (c->state == ED_CL_CONNECTING) {
		connected(c);
		return;
	}
	if (c->state == ED_CL_HANDSHAKE) {
		handshake(c);
		if (c->state == ED_CL_HANDSHAKE || c->fd < 0)
			return;
	}
	read_frames(c);
	if (c->fd >= 0)
		flush(c);
}

void ed_client_tick(struct ed_client *c, uint64_t now_ms)
{
	if (c->state == ED_CL_BACKOFF) {
		if (!c->stopped && now_ms >= c->deadline_ms)
			connect_now(c);
		return;
	}
	if (c->state != ED_CL_UP) {
		if (now_ms >= c->deadline_ms)
			disconnect(c, c->state == ED_CL_WAIT_WELCOME
					      ? "no welcome before the timeout"
					      : "connect/handshake timeout");
		return;
	}
	if (now_ms - c->last_rx_ms > c->welcome.u.welcome.hold_time_ms) {
		disconnect(c, "VNOC silent for longer than the hold time");
		return;
	}
	if (now_ms >= c->next_ka_ms) {
		struct vprn_msg m;

		c->next_ka_ms = now_ms + c->welcome.u.welcome.refresh_interval_ms;
		if (c->hooks.on_refresh != NULL)
			c->hooks.on_refresh(c->hooks.ctx);
		vprn_msg_init(&m, VPRN_MSG_KEEPALIVE, 0);
		m.u.keepalive.tsc_echo = vprn_now_ns();
		ed_client_send(c, &m);
	}
}

void ed_client_stop(struct ed_client *c, const char *reason)
{
	struct vprn_msg m;

	c->stopped = true;
	if (c->state == ED_CL_UP) {
		vprn_msg_init(&m, VPRN_MSG_BYE, 0);
		vprn_msg_strcpy(m.u.bye.reason, sizeof(m.u.bye.reason), reason);
		ed_client_send(c, &m); /* one flush attempt, never blocks */
	}
	if (c->fd >= 0)
		disconnect(c, NULL);
}

void ed_client_free(struct ed_client *c)
{
	if (c == NULL)
		return;
	c->stopped = true;
	if (c->fd >= 0)
		disconnect(c, NULL);
	drop_welcome(c);
	vprn_tls_ctx_free(c->tls_ctx);
	free(c);
}

enum ed_client_state ed_client_state(const struct ed_client *c)
{
	return c->state;
}

const struct vprn_welcome *ed_client_welcome(const struct ed_client *c)
{
	return c->state == ED_CL_UP && c->have_welcome ? &c->welcome.u.welcome : NULL;
}

void ed_client_status_json(const struct ed_client *c, struct vprn_json *j)
{
	uint64_t now = vprn_now_ms();
	char a[32], ip[16];
	const struct vprn_welcome *w = ed_client_welcome(c);

	vprn_json_obj_begin(j);
	vprn_json_kv_str(j, "state", ed_client_state_name(c->state));
	snprintf(a, sizeof(a), "%s:%u", vprn_ipv4_str(c->conf->vnoc.addr, ip), c->conf->vnoc.port);
	vprn_json_kv_str(j, "vnoc", a);
	vprn_json_kv_u64(j, "up_s", w != NULL ? (now - c->up_since_ms) / 1000 : 0);
	vprn_json_kv_u64(j, "site_id", w != NULL ? w->site_id : 0);
	vprn_json_kv_str(j, "vpn", w != NULL ? w->vpn : "");
	vprn_json_kv_u64(j, "connects", c->connects);
	vprn_json_kv_u64(j, "failures", c->failures);
	vprn_json_kv_u64(j, "retry_in_ms",
		c->state == ED_CL_BACKOFF && c->deadline_ms != UINT64_MAX && c->deadline_ms > now
			? c->deadline_ms - now
			: 0);
	vprn_json_kv_u64(j, "rtt_us", c->rtt_us);
	vprn_json_kv_u64(j, "rx", c->rx_msgs);
	vprn_json_kv_u64(j, "tx", c->tx_msgs);
	vprn_json_kv_str(j, "last_error", c->last_error);
	vprn_json_key(j, "peers");
	vprn_json_arr_begin(j);
	for (uint32_t i = 0; w != NULL && i < w->n_peers; i++) {
		vprn_json_obj_begin(j);
		vprn_json_kv_str(j, "site", w->peers[i].site);
		vprn_json_kv_u64(j, "id", w->peers[i].site_id);
		vprn_json_kv_ipv4(j, "wan", w->peers[i].wan_addr);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	vprn_json_obj_end(j);
}
