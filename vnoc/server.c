/* SPDX-License-Identifier: BSD-3-Clause */
/* The VNOC event loop: listening socket, sessions, control socket, signals, tick. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/ctlsock.h"
#include "common/log.h"
#include "common/tls.h"
#include "ctl.h"
#include "dispatch.h"
#include "session.h"
#include "vnoc.h"

/* epoll tags of the fixed fds; sessions use their pointer. */
enum { TAG_LISTEN = 1, TAG_SIGNAL, TAG_TICK, TAG_CTL, TAG_MAX = 4096 };

struct vnoc_site_state *vnoc_site_state(struct vnoc *v, uint32_t site_id)
{
	return &v->site_state[site_id - 1];
}

int vnoc_send_site(struct vnoc *v, uint32_t site_id, struct vprn_msg *msg)
{
	struct vnoc_site_state *st;

	if (site_id == 0 || site_id > v->conf.n_sites)
		return -EINVAL;
	st = vnoc_site_state(v, site_id);
	if (st->session == NULL || st->session->state != VNOC_SESS_ESTABLISHED)
		return -ENOTCONN;
	return vnoc_session_send(v, st->session, msg);
}

/* TLS-time CN check: only registered sites get a session. */
static bool cn_registered(void *arg, const char *cn)
{
	struct vnoc *v = arg;

	return vnoc_conf_site(&v->conf, cn) != NULL;
}

static int add_fd(struct vnoc *v, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(v->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

static int open_listen(struct vnoc *v)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons(v->conf.listen_port),
		.sin_addr.s_addr = htonl(v->conf.listen_addr) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	char a[16];

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 128) != 0) {
		int e = errno;

		LOG_ERR("vnoc", "cannot listen on %s:%u: %s", vprn_ipv4_str(v->conf.listen_addr, a),
			v->conf.listen_port, strerror(e));
		close(fd);
		return -e;
	}
	v->lfd = fd;
	LOG_INFO("vnoc", "listening on %s:%u", vprn_ipv4_str(v->conf.listen_addr, a),
		v->conf.listen_port);
	return add_fd(v, fd, TAG_LISTEN);
}

static int open_signals(struct vnoc *v)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP); /* policy reload (vnoc_modules_reload) */
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -errno;
	signal(SIGPIPE, SIG_IGN); /* a vanished peer is an error code, not a signal */
	v->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (v->sigfd < 0)
		return -errno;
	return add_fd(v, v->sigfd, TAG_SIGNAL);
}

static int open_tick(struct vnoc *v)
{
	struct itimerspec its = { .it_interval = { 0, VNOC_TICK_MS * 1000000L },
		.it_value = { 0, VNOC_TICK_MS * 1000000L } };

	v->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (v->tickfd < 0 || timerfd_settime(v->tickfd, 0, &its, NULL) != 0)
		return -errno;
	return add_fd(v, v->tickfd, TAG_TICK);
}

int vnoc_init(struct vnoc *v, const struct vnoc_conf *conf, const char *ctl_override)
{
	struct vprn_tls_files files;
	char err[512];
	const char *ctl_path;
	int rc;

	memset(v, 0, sizeof(*v));
	v->conf = *conf; /* ownership of the registry moves here */
	v->lfd = v->sigfd = v->tickfd = -1;
	v->start_ms = vprn_now_ms();
	if (getrandom(&v->boot_id, sizeof(v->boot_id), 0) != sizeof(v->boot_id))
		v->boot_id = vprn_now_ns();
	v->site_state = calloc(conf->n_sites != 0 ? conf->n_sites : 1, sizeof(*v->site_state));
	v->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (v->site_state == NULL || v->epfd < 0)
		return -ENOMEM;
	files = (struct vprn_tls_files){ .ca = conf->tls.ca,
		.cert = conf->tls.cert,
		.key = conf->tls.key,
		.crl = conf->tls.crl };
	v->tls = vprn_tls_ctx_new(&files, true, err, sizeof(err));
	if (v->tls == NULL) {
		LOG_ERR("vnoc", "TLS setup: %s", err);
		return -EINVAL;
	}
	vprn_tls_ctx_set_cn_check(v->tls, cn_registered, v);
	if ((rc = open_signals(v)) != 0 || (rc = open_tick(v)) != 0 || (rc = open_listen(v)) != 0)
		return rc;
	ctl_path = ctl_override != NULL ? ctl_override : conf->ctl_socket;
	v->ctl = vprn_ctlsock_open(ctl_path, v);
	if (v->ctl == NULL) {
		rc = -errno;
		LOG_ERR("vnoc", "control socket %s: %s", ctl_path, strerror(errno));
		return rc;
	}
	if ((rc = vnoc_ctl_register(v)) != 0 ||
		(rc = add_fd(v, vprn_ctlsock_fd(v->ctl), TAG_CTL)) != 0)
		return rc;
	return vnoc_modules_init(v);
}

static void accept_all(struct vnoc *v)
{
	const int one = 1;

	for (;;) {
		struct sockaddr_in sa;
		socklen_t len = sizeof(sa);
		char peer[48], a[16];
		int fd =
			accept4(v->lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				LOG_WARN("vnoc", "accept: %s", strerror(errno));
			return;
		}
		snprintf(peer, sizeof(peer), "%s:%u", vprn_ipv4_str(ntohl(sa.sin_addr.s_addr), a),
			ntohs(sa.sin_port));
		v->cnt.accepted++;
		if (v->n_sessions >= VNOC_MAX_SESSIONS || v->n_pending >= VNOC_MAX_PENDING) {
			LOG_WARN("vnoc", "refusing connection from %s: too many connections", peer);
			close(fd);
			continue;
		}
		/* Small control messages: do not let Nagle hold them for an ACK. */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (vnoc_session_new(v, fd, peer) == NULL) {
			LOG_ERR("vnoc", "cannot create a session for %s", peer);
			close(fd);
			continue;
		}
		LOG_DEBUG("vnoc", "connection from %s", peer);
	}
}

/* Free sessions closed during the last batch (their fd is -1). */
static void reap(struct vnoc *v)
{
	struct vnoc_session *s = v->sessions;

	while (s != NULL) {
		struct vnoc_session *next = s->next;

		if (s->fd < 0) {
			if (s->prev != NULL)
				s->prev->next = s->next;
			else
				v->sessions = s->next;
			if (s->next != NULL)
				s->next->prev = s->prev;
			v->n_sessions--;
			free(s);
		}
		s = next;
	}
}

static void on_tick(struct vnoc *v)
{
	uint64_t expirations;
	uint64_t now = vprn_now_ms();

	while (read(v->tickfd, &expirations, sizeof(expirations)) > 0)
		;
	for (struct vnoc_session *s = v->sessions; s != NULL; s = s->next)
		vnoc_session_tick(v, s, now);
	vnoc_modules_tick(v, now);
	vprn_ctlsock_poll(v->ctl); /* also expires idle control clients */
}

static void on_signal(struct vnoc *v)
{
	struct signalfd_siginfo si;

	while (read(v->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			vnoc_modules_reload(v);
			continue;
		}
		LOG_INFO("vnoc", "signal %u: shutting down", si.ssi_signo);
		v->stop = true;
	}
}

/* Wait no longer than the service core's next deadline; the tick covers the rest. */
static int core_timeout_ms(struct vnoc *v)
{
	uint64_t dl = vnoc_modules_next_deadline(v);
	uint64_t now = vprn_now_ms();

	if (dl == UINT64_MAX)
		return -1;
	if (dl <= now)
		return 1; /* due now: handled after this wait; never spin on a stuck deadline */
	return dl - now < VNOC_TICK_MS ? (int)(dl - now) : VNOC_TICK_MS;
}

int vnoc_run(struct vnoc *v)
{
	struct epoll_event evs[64];

	while (!v->stop) {
		int n = epoll_wait(v->epfd, evs, 64, core_timeout_ms(v));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			LOG_ERR("vnoc", "epoll_wait: %s", strerror(errno));
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;

			if (tag == TAG_LISTEN)
				accept_all(v);
			else if (tag == TAG_SIGNAL)
				on_signal(v);
			else if (tag == TAG_TICK)
				on_tick(v);
			else if (tag == TAG_CTL)
				vprn_ctlsock_poll(v->ctl);
			else if (tag >= TAG_MAX)
				vnoc_session_io(v, evs[i].data.ptr, evs[i].events);
		}
		reap(v);
		/* The service core's deadlines (join debounce, rekey steps) are met
		 * when due, not on the next 100 ms tick: join-to-tree latency. */
		if (vnoc_modules_next_deadline(v) <= vprn_now_ms())
			vnoc_modules_tick(v, vprn_now_ms());
	}
	return 0;
}

void vnoc_fini(struct vnoc *v)
{
	/* Tell every ED we are going (one flush attempt each), then close. */
	for (struct vnoc_session *s = v->sessions; s != NULL; s = s->next)
		if (s->state == VNOC_SESS_ESTABLISHED)
			vnoc_session_fail(v, s, VPRN_ERR_SHUTDOWN, "VNOC shutting down");
	for (struct vnoc_session *s = v->sessions; s != NULL; s = s->next)
		vnoc_session_close(v, s, "VNOC shutting down");
	reap(v);
	vnoc_modules_fini(v);
	vprn_ctlsock_close(v->ctl);
	vprn_tls_ctx_free(v->tls);
	if (v->lfd >= 0)
		close(v->lfd);
	if (v->sigfd >= 0)
		close(v->sigfd);
	if (v->tickfd >= 0)
		close(v->tickfd);
	if (v->epfd >= 0)
		close(v->epfd);
	free(v->site_state);
	vnoc_conf_free(&v->conf);
}
