/* SPDX-License-Identifier: BSD-3-Clause */
#include "session.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/log.h"
#include "common/tls.h"
#include "dispatch.h"
#include "vnoc.h"

#define CLOSING_GRACE_MS 1000

const char *vnoc_session_state_name(enum vnoc_sess_state st)
{
	switch (st) {
	case VNOC_SESS_HANDSHAKE:
		return "handshake";
	case VNOC_SESS_WAIT_HELLO:
		return "wait-hello";
	case VNOC_SESS_ESTABLISHED:
		return "established";
	case VNOC_SESS_CLOSING:
		return "closing";
	}
	return "?";
}

static const char *who(const struct vnoc_session *s)
{
	return s->site != NULL ? s->site->name : "?";
}

static void set_events(struct vnoc *v, struct vnoc_session *s, uint32_t mask)
{
	struct epoll_event ev = { .events = mask, .data.ptr = s };

	if (s->fd < 0 || mask == s->ev_mask)
		return;
	if (epoll_ctl(v->epfd, EPOLL_CTL_MOD, s->fd, &ev) == 0)
		s->ev_mask = mask;
}

struct vnoc_session *vnoc_session_new(struct vnoc *v, int fd, const char *peer)
{
	struct vnoc_session *s = calloc(1, sizeof(*s));
	struct epoll_event ev = { .events = EPOLLIN };

	if (s == NULL)
		return NULL;
	s->fd = fd;
	snprintf(s->peer, sizeof(s->peer), "%s", peer);
	s->tls = vprn_tls_new(v->tls, fd, NULL);
	if (s->tls == NULL) {
		free(s);
		return NULL;
	}
	s->state = VNOC_SESS_HANDSHAKE;
	s->deadline_ms = vprn_now_ms() + v->conf.tls.handshake_timeout_ms;
	vprn_frame_rx_init(&s->rx, VPRN_FRAME_MAX);
	vprn_frame_txq_init(&s->txq, VNOC_TXQ_BYTES);
	ev.data.ptr = s;
	if (epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
		vprn_tls_free(s->tls);
		free(s);
		return NULL;
	}
	s->ev_mask = EPOLLIN;
	s->next = v->sessions;
	if (v->sessions != NULL)
		v->sessions->prev = s;
	v->sessions = s;
	v->n_sessions++;
	v->n_pending++;
	return s;
}

void vnoc_session_close(struct vnoc *v, struct vnoc_session *s, const char *reason)
{
	if (s->fd < 0)
		return;
	if (s->state == VNOC_SESS_ESTABLISHED ||
		(s->state == VNOC_SESS_CLOSING && s->site != NULL &&
			vnoc_site_state(v, s->site->id)->session == s))
		LOG_INFO("session", "site %s (%s) disconnected: %s", who(s), s->peer, reason);
	else
		LOG_WARN("session", "connection from %s (site %s) closed: %s", s->peer, who(s),
			reason);
	if (s->site != NULL) {
		struct vnoc_site_state *st = vnoc_site_state(v, s->site->id);

		if (st->session == s) {
			st->session = NULL;
			st->last_change_ms = vprn_now_ms();
			vnoc_site_down(v, s->site->id);
		}
	}
	if (s->state == VNOC_SESS_HANDSHAKE || s->state == VNOC_SESS_WAIT_HELLO)
		v->n_pending--;
	vprn_tls_shutdown(s->tls);
	epoll_ctl(v->epfd, EPOLL_CTL_DEL, s->fd, NULL);
	close(s->fd);
	s->fd = -1; /* freed by the loop after this batch of events (no use-after-free) */
	vprn_tls_free(s->tls);
	s->tls = NULL;
	vprn_frame_rx_fini(&s->rx);
	vprn_frame_txq_fini(&s->txq);
}

/* Write what the socket takes; close on error. Returns false if closed. */
static bool flush(struct vnoc *v, struct vnoc_session *s)
{
	int rc = vprn_frame_txq_flush(&s->txq, vprn_tls_write, s->tls);
	uint32_t mask = EPOLLIN;

	if (rc < 0) {
		vnoc_session_close(v, s,
			rc == -ECONNRESET || rc == -EPIPE ? "peer went away" : "write failed");
		return false;
	}
	if (rc == 0 && s->state == VNOC_SESS_CLOSING) {
		vnoc_session_close(v, s, "closed after final message");
		return false;
	}
	if (rc == 1 || vprn_tls_want_write(s->tls))
		mask |= EPOLLOUT;
	set_events(v, s, mask);
	return true;
}

int vnoc_session_send(struct vnoc *v, struct vnoc_session *s, struct vprn_msg *msg)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (s->fd < 0 || s->state == VNOC_SESS_HANDSHAKE)
		return -ENOTCONN;
	msg->version = VPRN_PROTOCOL_VERSION;
	msg->seq = s->tx_seq + 1;
	rc = vprn_msg_encode(msg, &buf, &len);
	if (rc != 0) {
		LOG_ERR("session", "site %s: refusing to send an invalid %s", who(s),
			vprn_msg_type_name(msg->type));
		return rc;
	}
	rc = vprn_frame_txq_push(&s->txq, buf, len);
	explicit_bzero(buf, len); /* may hold SA keys */
	free(buf);
	if (rc == -ENOBUFS) {
		v->cnt.overflows++;
		vnoc_session_close(v, s, "send queue full (peer not reading)");
		return -ENOBUFS;
	}
	if (rc != 0)
		return rc;
	s->tx_seq++;
	s->tx_msgs++;
	v->cnt.tx_msgs++;
	LOG_DEBUG("session", "-> %s %s seq %llu", who(s), vprn_msg_type_name(msg->type),
		(unsigned long long)msg->seq);
	flush(v, s);
	return 0;
}

void vnoc_session_fail(
	struct vnoc *v, struct vnoc_session *s, enum vprn_error_code code, const char *text)
{
	struct vprn_msg m;

	if (s->fd < 0)
		return;
	LOG_WARN("session", "site %s (%s): %s: %s", who(s), s->peer, vprn_error_code_name(code),
		text);
	vprn_msg_init(&m, VPRN_MSG_ERROR, 0);
	m.u.error.code = code;
	vprn_msg_strcpy(m.u.error.text, sizeof(m.u.error.text), text);
	if (vnoc_session_send(v, s, &m) != 0 || s->fd < 0) {
		vnoc_session_close(v, s, text);
		return;
	}
	if (s->state == VNOC_SESS_HANDSHAKE || s->state == VNOC_SESS_WAIT_HELLO)
		v->n_pending--;
	/* Established sessions stay the site's until closed, so that site_down runs once. */
	s->state = VNOC_SESS_CLOSING;
	s->deadline_ms = vprn_now_ms() + CLOSING_GRACE_MS;
	flush(v, s);
}

static void handshake(struct vnoc *v, struct vnoc_session *s)
{
	int rc = vprn_tls_handshake(s->tls);
	const char *cn;

	if (rc == -EAGAIN) {
		set_events(v, s, vprn_tls_want_write(s->tls) ? EPOLLIN | EPOLLOUT : EPOLLIN);
		return;
	}
	if (rc == -EACCES) {
		v->cnt.refused_unknown++;
		vnoc_session_close(v, s, vprn_tls_error(s->tls));
		return;
	}
	if (rc != 0) {
		char reason[420];

		v->cnt.refused_tls++;
		snprintf(
			reason, sizeof(reason), "TLS handshake failed: %s", vprn_tls_error(s->tls));
		vnoc_session_close(v, s, reason);
		return;
	}
	cn = vprn_tls_peer_cn(s->tls);
	s->state = VNOC_SESS_WAIT_HELLO;
	s->deadline_ms = vprn_now_ms() + v->conf.tls.handshake_timeout_ms;
	s->site = vnoc_conf_site(&v->conf, cn);
	if (s->site == NULL) {
		char text[160];

		v->cnt.refused_unknown++;
		snprintf(text, sizeof(text), "certificate CN '%.64s' is not a registered site", cn);
		vnoc_session_fail(v, s, VPRN_ERR_UNKNOWN_SITE, text);
		return;
	}
	LOG_DEBUG("session", "%s: TLS up, certificate of site %s", s->peer, s->site->name);
	set_events(v, s, EPOLLIN);
}

static void establish(struct vnoc *v, struct vnoc_session *s, const struct vprn_hello *h)
{
	struct vnoc_site_state *st = vnoc_site_state(v, s->site->id);
	struct vprn_msg w;

	if (st->session != NULL && st->session != s) {
		struct vnoc_session *old = st->session;

		v->cnt.replaced++;
		LOG_INFO("session", "site %s reconnected from %s: replacing session from %s",
			s->site->name, s->peer, old->peer);
		vnoc_session_fail(v, old, VPRN_ERR_REPLACED, "replaced by a newer session");
		/* The old session is CLOSING; the site belongs to the new one from now on. */
		if (st->session == old) {
			st->session = NULL;
			vnoc_site_down(v, s->site->id);
		}
	}
	if (h->wan_addr != s->site->wan_addr) {
		char a[16], b[16];

		/* Not fatal (NAT, renumbering): the registry's address is what peers use. */
		LOG_WARN("session", "site %s announces WAN %s, the registry says %s", s->site->name,
			vprn_ipv4_str(h->wan_addr, a), vprn_ipv4_str(s->site->wan_addr, b));
	}
	s->state = VNOC_SESS_ESTABLISHED;
	v->n_pending--;
	v->cnt.established++;
	st->session = s;
	st->sessions++;
	st->up_since_ms = st->last_change_ms = vprn_now_ms();
	st->wan_addr_seen = h->wan_addr;
	st->lan_prefix = h->lan_prefix;
	st->lan_prefix_len = h->lan_prefix_len;
	snprintf(st->software, sizeof(st->software), "%s", h->software);
	snprintf(st->peer_addr, sizeof(st->peer_addr), "%s", s->peer);
	s->deadline_ms = vprn_now_ms() + v->conf.timers.hold_time_ms;
	if (vnoc_build_welcome(v, s->site->id, &w) != 0) {
		vnoc_session_close(v, s, "out of memory building welcome");
		return;
	}
	if (vnoc_session_send(v, s, &w) == 0)
		LOG_INFO("session", "site %s registered from %s (%s), %u peers", s->site->name,
			s->peer, h->software[0] != '\0' ? h->software : "?", w.u.welcome.n_peers);
	vnoc_build_welcome_done(&w);
	if (s->fd >= 0) {
		vnoc_site_up(v, s->site->id);
		vnoc_site_hello_digest(v, s->site->id, h->state_digest, h->state_digest_len);
	}
}

/* One decoded frame. */
static void on_frame(struct vnoc *v, struct vnoc_session *s, const uint8_t *buf, uint32_t len)
{
	struct vprn_msg m;
	int rc = vprn_msg_decode(buf, len, &m);

	if (rc != 0) {
		/*
		 * Bytes that are not a valid envelope: the peer may not speak this
		 * protocol at all, so no Error message, just the logged reason.
		 */
		v->cnt.protocol_errors++;
		vnoc_session_close(v, s,
			rc == -EBADMSG ? "undecodable message (not a protobuf envelope)"
				       : "invalid message (a rule of docs/protocol.md broken)");
		return;
	}
	s->rx_msgs++;
	v->cnt.rx_msgs++;
	LOG_DEBUG("session", "<- %s %s seq %llu", who(s), vprn_msg_type_name(m.type),
		(unsigned long long)m.seq);
	if (m.seq <= s->rx_seq) {
		v->cnt.protocol_errors++;
		vnoc_session_fail(v, s, VPRN_ERR_PROTOCOL, "sequence number not increasing");
		goto out;
	}
	s->rx_seq = m.seq;
	if (s->state == VNOC_SESS_WAIT_HELLO) {
		if (m.type != VPRN_MSG_HELLO) {
			v->cnt.protocol_errors++;
			vnoc_session_fail(v, s, VPRN_ERR_PROTOCOL, "first message is not hello");
		} else if (strcmp(m.u.hello.site, s->site->name) != 0) {
			v->cnt.protocol_errors++;
			vnoc_session_fail(
				v, s, VPRN_ERR_PROTOCOL, "hello site differs from certificate CN");
		} else {
			establish(v, s, &m.u.hello);
		}
		goto out;
	}
	if (s->state != VNOC_SESS_ESTABLISHED)
		goto out; /* closing: ignore */
	s->deadline_ms = vprn_now_ms() + v->conf.timers.hold_time_ms;
	if (m.type == VPRN_MSG_HELLO) {
		v->cnt.protocol_errors++;
		vnoc_session_fail(v, s, VPRN_ERR_PROTOCOL, "second hello in a session");
	} else if (m.type == VPRN_MSG_BYE) {
		/* The modules see the planned departure first (its row in dispatch.c). */
		(void)vnoc_dispatch(v, s, &m);
		vnoc_session_close(v, s, m.u.bye.reason[0] != '\0' ? m.u.bye.reason : "bye");
	} else if (vnoc_dispatch(v, s, &m) != 0) {
		v->cnt.protocol_errors++;
		vnoc_session_fail(v, s, VPRN_ERR_PROTOCOL, "message refused");
	}
out:
	vprn_msg_free(&m);
}

static void read_frames(struct vnoc *v, struct vnoc_session *s)
{
	for (;;) {
		uint8_t *buf;
		uint32_t len;
		int rc = vprn_frame_read(&s->rx, vprn_tls_read, s->tls, &buf, &len);

		if (rc == 0)
			return;
		if (rc == 1) {
			on_frame(v, s, buf, len);
			free(buf);
			if (s->fd < 0)
				return;
			continue;
		}
		switch (rc) {
		case -EMSGSIZE:
			v->cnt.protocol_errors++;
			vnoc_session_close(v, s, "frame length over the maximum");
			break;
		case -EBADMSG:
			v->cnt.protocol_errors++;
			vnoc_session_close(v, s, "zero-length frame");
			break;
		case -ECONNRESET:
			vnoc_session_close(v, s, "peer closed the connection");
			break;
		case -EPIPE:
			v->cnt.protocol_errors++;
			vnoc_session_close(v, s, "truncated frame (peer closed mid-frame)");
			break;
		default:
			v->cnt.protocol_errors++;
			vnoc_session_close(v, s,
				vprn_tls_error(s->tls)[0] != '\0' ? vprn_tls_error(s->tls)
								  : "read error");
			break;
		}
		return;
	}
}

void vnoc_session_io(struct vnoc *v, struct vnoc_session *s, uint32_t events)
{
	(void)events; /* errors and hang-ups surface as read/write results */
	if (s->fd < 0)
		return;
	if (s->state == VNOC_SESS_HANDSHAKE) {
		handshake(v, s);
		if (s->fd < 0 || s->state == VNOC_SESS_HANDSHAKE)
			return;
	}
	if (s->state != VNOC_SESS_CLOSING) {
		read_frames(v, s);
		if (s->fd < 0)
			return;
	}
	flush(v, s);
}

void vnoc_session_tick(struct vnoc *v, struct vnoc_session *s, uint64_t now_ms)
{
	if (s->fd < 0 || now_ms < s->deadline_ms)
		return;
	switch (s->state) {
	case VNOC_SESS_HANDSHAKE:
		v->cnt.timeouts++;
		vnoc_session_close(v, s, "TLS handshake timeout");
		break;
	case VNOC_SESS_WAIT_HELLO:
		v->cnt.timeouts++;
		vnoc_session_close(v, s, "no hello before the timeout");
		break;
	case VNOC_SESS_ESTABLISHED:
		v->cnt.timeouts++;
		vnoc_session_close(v, s, "hold time expired (no message from the ED)");
		break;
	case VNOC_SESS_CLOSING:
		vnoc_session_close(v, s, "peer did not take the final message");
		break;
	}
}
