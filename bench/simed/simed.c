/* SPDX-License-Identifier: BSD-3-Clause */
#include "simed.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

double simed_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void ep_set(struct simed *e, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = e };

	if (epoll_ctl(e->epfd, EPOLL_CTL_MOD, e->fd, &ev) == 0)
		e->want_out = out;
}

void simed_close(struct simed *e, const char *why)
{
	if (e->st == SIMED_DEAD || e->st == SIMED_IDLE)
		return;
	if (why)
		fprintf(stderr, "simed: %s: %s\n", e->name, why);
	if (e->on_close)
		e->on_close(e, why);
	if (e->tls) {
		vprn_tls_shutdown(e->tls);
		vprn_tls_free(e->tls);
		e->tls = NULL;
	}
	if (e->fd >= 0) {
		epoll_ctl(e->epfd, EPOLL_CTL_DEL, e->fd, NULL);
		close(e->fd);
		e->fd = -1;
	}
	vprn_frame_rx_fini(&e->rx);
	vprn_frame_txq_fini(&e->txq);
	e->st = SIMED_DEAD;
}

static void flush(struct simed *e)
{
	int rc = vprn_frame_txq_flush(&e->txq, vprn_tls_write, e->tls);

	if (rc < 0) {
		simed_close(e, "write failed");
		return;
	}
	if ((rc == 1) != e->want_out)
		ep_set(e, rc == 1);
}

void simed_send(struct simed *e, struct vprn_msg *m)
{
	uint8_t *buf;
	size_t len;
	int rc;

	if (e->st == SIMED_DEAD)
		return;
	m->seq = ++e->seq;
	if (vprn_msg_encode(m, &buf, &len) != 0) {
		simed_close(e, "encode failed");
		return;
	}
	rc = vprn_frame_txq_push(&e->txq, buf, len);
	free(buf);
	if (rc != 0) {
		simed_close(e, "send queue full");
		return;
	}
	e->msgs_out++;
	flush(e);
}

void simed_ack(struct simed *e, uint64_t ref_seq)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_ACK, 0);
	m.u.ack.ref_seq = ref_seq;
	m.u.ack.status = VPRN_ACK_OK;
	simed_send(e, &m);
}

void simed_membership(struct vprn_membership *m, uint32_t group, enum vprn_role role)
{
	memset(m, 0, sizeof(*m));
	m->group = group;
	m->role = role;
	m->filter_mode = VPRN_FILTER_EXCLUDE;
}

void simed_join(struct simed *e, uint32_t group, enum vprn_role role, bool leave)
{
	struct vprn_msg m;

	vprn_msg_init(&m, leave ? VPRN_MSG_LEAVE : VPRN_MSG_JOIN, 0);
	simed_membership(leave ? &m.u.leave.m : &m.u.join.m, group, role);
	simed_send(e, &m);
}

static void do_read(struct simed *e, double t)
{
	for (;;) {
		uint8_t *p;
		uint32_t len;
		struct vprn_msg m;
		int rc = vprn_frame_read(&e->rx, vprn_tls_read, e->tls, &p, &len);

		if (rc == 0)
			return;
		if (rc < 0) {
			simed_close(
				e, rc == -ECONNRESET ? "VNOC closed the session" : "read failed");
			return;
		}
		rc = vprn_msg_decode(p, len, &m);
		free(p);
		if (rc != 0) {
			simed_close(e, "undecodable message");
			return;
		}
		e->msgs_in++;
		if (m.type == VPRN_MSG_WELCOME && e->st == SIMED_HELLO)
			e->st = SIMED_UP;
		if (e->on_msg)
			e->on_msg(e, &m, t);
		vprn_msg_free(&m);
		if (e->st == SIMED_DEAD)
			return;
	}
}

static void do_handshake(struct simed *e)
{
	struct vprn_msg m;
	int rc = vprn_tls_handshake(e->tls);

	if (rc == -EAGAIN) {
		if (vprn_tls_want_write(e->tls) != e->want_out)
			ep_set(e, vprn_tls_want_write(e->tls));
		return;
	}
	if (rc != 0) {
		char why[300];

		snprintf(why, sizeof(why), "handshake: %s", vprn_tls_error(e->tls));
		simed_close(e, why);
		return;
	}
	e->st = SIMED_HELLO;
	vprn_msg_init(&m, VPRN_MSG_HELLO, 0);
	vprn_msg_strcpy(m.u.hello.site, sizeof(m.u.hello.site), e->name);
	vprn_msg_strcpy(m.u.hello.software, sizeof(m.u.hello.software),
		e->software ? e->software : "simed");
	m.u.hello.wan_addr = e->wan_addr;
	m.u.hello.boot_id = e->boot_id;
	simed_send(e, &m);
}

void simed_event(struct simed *e, uint32_t ev, double t)
{
	if (e->st == SIMED_CONNECTING) {
		int err = 0;
		socklen_t sl = sizeof(err);

		getsockopt(e->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
		if (err) {
			simed_close(e, strerror(err));
			return;
		}
		e->st = SIMED_HANDSHAKE;
	}
	if (e->st == SIMED_HANDSHAKE) {
		do_handshake(e);
		return;
	}
	if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR))
		do_read(e, t);
	if (e->st != SIMED_DEAD && (ev & EPOLLOUT))
		flush(e);
}

int simed_start(struct simed *e, int epfd, const char *addr, int port, struct vprn_tls_ctx *ctx)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.ptr = e };
	int one = 1;

	e->epfd = epfd;
	e->fd = -1;
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return -EINVAL;
	e->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (e->fd < 0)
		return -errno;
	setsockopt(e->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	vprn_frame_rx_init(&e->rx, VPRN_FRAME_MAX);
	vprn_frame_txq_init(&e->txq, 4u << 20);
	e->st = SIMED_CONNECTING;
	e->want_out = true;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, e->fd, &ev) != 0)
		return -errno;
	if (connect(e->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS)
		return -errno;
	e->tls = vprn_tls_new(ctx, e->fd, "vnoc");
	return e->tls ? 0 : -ENOMEM;
}
