/* SPDX-License-Identifier: BSD-3-Clause */
/* The ED control thread's event loop. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <rte_mbuf.h>

#include "common/clock.h"
#include "common/ctlsock.h"
#include "common/log.h"
#include "dataplane/dp.h"
#include "ed.h"
#include "ed_ctl.h"
#include "vnoc_client.h"

enum { TAG_SIGNAL = 1, TAG_TICK, TAG_CTL, TAG_CLIENT };

#define PUNT_BURST 32

static int add_fd(struct ed *ed, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ed->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

/* Until the membership module consumes punts: count and free them, never let the ring fill. */
static void drain_punts(struct ed *ed)
{
	struct dp_punt p[PUNT_BURST];
	unsigned int n;

	while ((n = dp_punt_dequeue(ed->dp, p, PUNT_BURST)) > 0)
		for (unsigned int i = 0; i < n; i++) {
			if ((unsigned int)p[i].kind < sizeof(ed->punts) / sizeof(ed->punts[0]))
				ed->punts[p[i].kind]++;
			rte_pktmbuf_free(p[i].m);
		}
}

static void on_up(void *ctx, const struct vprn_welcome *w)
{
	struct ed *ed = ctx;

	(void)ed;
	(void)w; /* resynchronisation with the VNOC goes here (membership refresh) */
}

int ed_loop_init(struct ed *ed, const char *ctl_override)
{
	struct itimerspec its = { .it_interval = { 0, ED_TICK_MS * 1000000L },
		.it_value = { 0, ED_TICK_MS * 1000000L } };
	struct ed_client_hooks hooks = { .ctx = ed, .on_up = on_up };
	const char *ctl_path = ctl_override != NULL ? ctl_override : ed->conf.ctl_socket;
	sigset_t set;
	int rc;

	ed->start_ms = vprn_now_ms();
	ed->sigfd = ed->tickfd = -1;
	ed->epfd = epoll_create1(EPOLL_CLOEXEC); /* -1 on failure: fini skips it */
	if (ed->epfd < 0)
		return -errno;
	/* SIGINT/SIGTERM are blocked in main() before EAL starts its threads. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	ed->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	ed->tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (ed->sigfd < 0 || ed->tickfd < 0 || timerfd_settime(ed->tickfd, 0, &its, NULL) != 0)
		return -errno;
	if ((rc = add_fd(ed, ed->sigfd, TAG_SIGNAL)) != 0 ||
		(rc = add_fd(ed, ed->tickfd, TAG_TICK)) != 0)
		return rc;
	ed->ctl = vprn_ctlsock_open(ctl_path, ed);
	if (ed->ctl == NULL) {
		rc = -errno;
		LOG_ERR("ed", "control socket %s: %s", ctl_path, strerror(errno));
		return rc;
	}
	if ((rc = ed_ctl_register(ed, ed->ctl)) != 0 ||
		(rc = add_fd(ed, vprn_ctlsock_fd(ed->ctl), TAG_CTL)) != 0)
		return rc;
	ed->client = ed_client_new(&ed->conf, ed->epfd, TAG_CLIENT, &hooks);
	if (ed->client == NULL)
		return -EINVAL;
	ed_client_start(ed->client);
	return 0;
}

static void on_tick(struct ed *ed)
{
	uint64_t expirations;

	while (read(ed->tickfd, &expirations, sizeof(expirations)) > 0)
		;
	ed_client_tick(ed->client, vprn_now_ms());
	drain_punts(ed);
	vprn_ctlsock_poll(ed->ctl);
}

int ed_loop_run(struct ed *ed)
{
	struct epoll_event evs[16];

	while (!ed->stop) {
		int n = epoll_wait(ed->epfd, evs, 16, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			switch (evs[i].data.u64) {
			case TAG_SIGNAL:
				while (read(ed->sigfd, &si, sizeof(si)) == sizeof(si)) {
					LOG_INFO("ed", "signal %u: shutting down", si.ssi_signo);
					ed->stop = true;
				}
				break;
			case TAG_TICK:
				on_tick(ed);
				break;
			case TAG_CTL:
				vprn_ctlsock_poll(ed->ctl);
				break;
			case TAG_CLIENT:
				ed_client_io(ed->client, evs[i].events);
				break;
			default:
				break;
			}
		}
	}
	return 0;
}

void ed_loop_fini(struct ed *ed)
{
	if (ed->client != NULL)
		ed_client_stop(ed->client, "ED shutting down");
	ed_client_free(ed->client);
	ed->client = NULL;
	vprn_ctlsock_close(ed->ctl);
	ed->ctl = NULL;
	if (ed->sigfd >= 0)
		close(ed->sigfd);
	if (ed->tickfd >= 0)
		close(ed->tickfd);
	if (ed->epfd >= 0)
		close(ed->epfd);
}
