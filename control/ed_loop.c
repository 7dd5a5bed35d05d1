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
#include "control/membership/membership_ed.h"
#include "dataplane/dp.h"
#include "ed.h"
#include "ed_apply.h"
#include "ed_probe_glue.h"
#include "ed_sync.h"
#include "ed_ctl.h"
#include "vnoc_client.h"

enum { TAG_SIGNAL = 1, TAG_TICK, TAG_CTL, TAG_CLIENT };

#define PUNT_BURST 32

static int add_fd(struct ed *ed, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ed->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? 0 : -errno;
}

/* Count every punt; membership takes IGMP and source-active, the rest is freed. */
static void drain_punts(struct ed *ed)
{
	struct dp_punt p[PUNT_BURST];
	unsigned int n;

	while ((n = dp_punt_dequeue(ed->dp, p, PUNT_BURST)) > 0)
		for (unsigned int i = 0; i < n; i++) {
			if ((unsigned int)p[i].kind < sizeof(ed->punts) / sizeof(ed->punts[0]))
				ed->punts[p[i].kind]++;
			if (ed_probes_punt(ed, &p[i]))
				continue;
			if (ed->membership != NULL && membership_ed_punt(ed->membership, &p[i]))
				continue;
			rte_pktmbuf_free(p[i].m);
		}
}

/* A coalesced membership change: tell the VNOC (a Join or Leave; dropped while down,
 * the full state is re-sent on the next welcome). */
static void membership_to_vnoc(void *ctx, const struct membership_event *ev)
{
	struct ed *ed = ctx;
	struct vprn_msg msg;
	struct vprn_membership *vm;

	vprn_msg_init(&msg, ev->type == MEMBERSHIP_JOIN ? VPRN_MSG_JOIN : VPRN_MSG_LEAVE, 0);
	vm = ev->type == MEMBERSHIP_JOIN ? &msg.u.join.m : &msg.u.leave.m;
	vm->group = ev->group;
	vm->role = ev->role == MEMBERSHIP_ROLE_SENDER ? VPRN_ROLE_SENDER : VPRN_ROLE_RECEIVER;
	vm->filter_mode =
		ev->mode == MEMBERSHIP_INCLUDE ? VPRN_FILTER_INCLUDE : VPRN_FILTER_EXCLUDE;
	vm->n_sources = ev->n_sources < VPRN_MSG_MAX_SOURCES ? ev->n_sources : VPRN_MSG_MAX_SOURCES;
	memcpy(vm->sources, ev->sources, vm->n_sources * sizeof(uint32_t));
	if (ed->client != NULL && ed_client_state(ed->client) == ED_CL_UP)
		(void)ed_client_send(ed->client, &msg);
}

static int membership_start(struct ed *ed)
{
	struct membership_ed_params p = {
		.dp = ed->dp,
		.conf = ed->conf.membership,
		.lan_addr = ed->conf.dp.lan.addr,
		.lan_prefix_len = ed->conf.dp.lan.prefix_len,
		.event = membership_to_vnoc,
		.ctx = ed,
	};

	ed->membership = membership_ed_new(&p);
	if (ed->membership == NULL) {
		LOG_ERR("ed", "membership: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

static void on_up(void *ctx, const struct vprn_welcome *w)
{
	struct ed *ed = ctx;

	ed_probes_welcome(ed, w);
	ed_sync_on_up(ed);
	/* Resynchronise: everything the site has, as joins. */
	if (ed->membership != NULL)
		membership_foreach_reported(
			membership_ed_module(ed->membership), membership_to_vnoc, ed);
}

int ed_loop_init(struct ed *ed, const char *ctl_override)
{
	struct itimerspec its = { .it_interval = { 0, ED_TICK_MS * 1000000L },
		.it_value = { 0, ED_TICK_MS * 1000000L } };
	struct ed_client_hooks hooks = { .ctx = ed,
		.on_up = on_up,
		.on_msg = ed_sync_on_msg,
		.on_refresh = ed_sync_on_refresh,
		.hello_digest = ed_sync_hello_digest };
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
	if ((rc = ed_ctl_register(ed, ed->ctl)) != 0 || (rc = ed_sync_register(ed, ed->ctl)) != 0 ||
		(rc = add_fd(ed, vprn_ctlsock_fd(ed->ctl), TAG_CTL)) != 0)
		return rc;
	if ((rc = membership_start(ed)) != 0 || (rc = ed_probes_start(ed)) != 0)
		return rc;
	ed->apply = ed_apply_new(ed->dp, ed->conf.dp.wan.addr);
	if (ed->apply == NULL)
		return -ENOMEM;
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
	ed_probes_tick(ed, vprn_now_ms());
	if (ed->membership != NULL)
		membership_ed_tick(ed->membership);
	if (ed->apply != NULL)
		ed_apply_tick(ed->apply, vprn_now_ms());
	ed_sync_tick(ed, vprn_now_ms());
	(void)dp_service(ed->dp); /* WAN ARP, tree grace expiry */
	if (ed_sync_drain_over(vprn_now_ms()))
		ed->stop = true;
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
					if (si.ssi_signo != SIGTERM || !ed_sync_planned_stop(ed))
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
	membership_ed_free(ed->membership);
	ed->membership = NULL;
	ed_probes_stop(ed);
	ed_apply_free(ed->apply); /* unpublishes, then wipes the SAs */
	ed->apply = NULL;
	vprn_ctlsock_close(ed->ctl);
	ed->ctl = NULL;
	if (ed->sigfd >= 0)
		close(ed->sigfd);
	if (ed->tickfd >= 0)
		close(ed->tickfd);
	if (ed->epfd >= 0)
		close(ed->epfd);
}
