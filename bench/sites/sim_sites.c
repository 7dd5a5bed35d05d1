/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vprn-sim-sites: the remote sites of a vprn-ed benchmark, simulated at the
 * protocol level (no data plane): each keeps its TLS session to the VNOC,
 * says hello with its WAN address, joins its group as a receiver or a sender,
 * refreshes it every refresh interval and acknowledges every TreeUpdate,
 * SaInstall and SaRemove, until SIGINT/SIGTERM (then Bye and exit 0).
 *
 * The one real vprn-ed under test thus sees a VPN of N sites, and the VNOC
 * builds trees and SAs to and from them; their ESP traffic is vprn-bench's.
 * Prints one line per event on stdout (never keys): "up SITE", "tree SITE
 * GROUP VERSION NEIGHBOURS", "sa SITE in|out SPI PEER", "sa-remove SITE SPI",
 * "refused SITE GROUP"; exits 1 when a session is lost.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bench/simed/simed.h"

#define MAX_SITES 64

struct site {
	struct simed s; /* first: the epoll data pointer */
	uint32_t group;
	enum vprn_role role;
	bool member; /* role != none */
	double refresh_s;
	double next_refresh;
};

static struct site sites[MAX_SITES];
static int n_sites;
static volatile sig_atomic_t stop;
static int lost;

static void on_sig(int sig)
{
	(void)sig;
	stop = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static const char *ip_str(uint32_t a, char buf[16])
{
	struct in_addr in = { htonl(a) };

	return inet_ntop(AF_INET, &in, buf, 16);
}

static void send_refresh(struct site *x)
{
	struct vprn_membership m;
	struct vprn_msg msg;

	vprn_msg_init(&msg, VPRN_MSG_REFRESH, 0);
	if (x->member) {
		simed_membership(&m, x->group, x->role);
		msg.u.refresh.memberships = &m;
		msg.u.refresh.n_memberships = 1;
	}
	simed_send(&x->s, &msg);
}

static void on_msg(struct simed *s, struct vprn_msg *m, double t)
{
	struct site *x = (struct site *)s;
	char a[16], b[16];

	switch (m->type) {
	case VPRN_MSG_WELCOME:
		x->refresh_s = m->u.welcome.refresh_interval_ms / 1000.0;
		x->next_refresh = t + x->refresh_s;
		say("up %s\n", s->name);
		if (x->member)
			simed_join(s, x->group, x->role, false);
		break;
	case VPRN_MSG_JOIN_RESULT:
		if (!m->u.join_result.granted)
			say("refused %s %s %s\n", s->name, ip_str(m->u.join_result.m.group, a),
				m->u.join_result.text);
		break;
	case VPRN_MSG_TREE_UPDATE: {
		const struct vprn_tree_update *tu = &m->u.tree_update;

		say("tree %s %s %llu %u%s\n", s->name, ip_str(tu->group, a),
			(unsigned long long)tu->version, tu->n_neighbours,
			tu->removed ? " removed" : "");
		simed_ack(s, m->seq);
		break;
	}
	case VPRN_MSG_SA_INSTALL:
		say("sa %s %s 0x%08x %s\n", s->name,
			m->u.sa_install.direction == VPRN_DIR_OUTBOUND ? "out" : "in",
			m->u.sa_install.spi, ip_str(m->u.sa_install.peer_addr, b));
		simed_ack(s, m->seq);
		break;
	case VPRN_MSG_SA_REMOVE:
		say("sa-remove %s\n", s->name);
		simed_ack(s, m->seq);
		break;
	case VPRN_MSG_ERROR:
		fprintf(stderr, "vprn-sim-sites: %s: error from VNOC: %s %s\n", s->name,
			vprn_error_code_name(m->u.error.code), m->u.error.text);
		break;
	default:
		break;
	}
}

static void on_close(struct simed *s, const char *why)
{
	if (why) {
		fprintf(stderr, "vprn-sim-sites: %s: session lost: %s\n", s->name, why);
		lost = 1;
	}
}

/* NAME,WAN[,receiver|sender,GROUP] */
static int parse_site(const char *arg, struct site *x)
{
	char buf[256], *save = NULL, *name, *wan, *role, *grp;
	struct in_addr a;

	if (strlen(arg) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, arg);
	name = strtok_r(buf, ",", &save);
	wan = strtok_r(NULL, ",", &save);
	role = strtok_r(NULL, ",", &save);
	grp = strtok_r(NULL, ",", &save);
	if (!name || !wan || strlen(name) >= sizeof(x->s.name) || inet_pton(AF_INET, wan, &a) != 1)
		return -EINVAL;
	snprintf(x->s.name, sizeof(x->s.name), "%s", name);
	x->s.wan_addr = ntohl(a.s_addr);
	if (!role)
		return 0;
	if (strcmp(role, "receiver") == 0)
		x->role = VPRN_ROLE_RECEIVER;
	else if (strcmp(role, "sender") == 0)
		x->role = VPRN_ROLE_SENDER;
	else
		return -EINVAL;
	if (!grp || inet_pton(AF_INET, grp, &a) != 1)
		return -EINVAL;
	x->group = ntohl(a.s_addr);
	x->member = true;
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vprn-sim-sites --pki DIR [--addr A] [--port P]\n"
			"       --site NAME,WAN[,receiver|sender,GROUP] [--site ...]\n"
			"  DIR holds ca.pem and NAME.pem/NAME.key for every site\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "addr", required_argument, 0, 'a' },
		{ "port", required_argument, 0, 'p' }, { "pki", required_argument, 0, 'k' },
		{ "site", required_argument, 0, 's' }, { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	struct vprn_tls_ctx *ctx[MAX_SITES] = { 0 };
	const char *addr = "127.0.0.1", *pki = ".";
	int port = 7800, c, epfd, rc = 0;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'p':
			port = atoi(optarg);
			break;
		case 'k':
			pki = optarg;
			break;
		case 's':
			if (n_sites == MAX_SITES || parse_site(optarg, &sites[n_sites]) != 0) {
				fprintf(stderr, "vprn-sim-sites: bad --site %s\n", optarg);
				return 2;
			}
			n_sites++;
			break;
		default:
			usage();
			return 2;
		}
	}
	if (n_sites == 0 || port <= 0 || port > 65535) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return 1;
	for (int i = 0; i < n_sites; i++) {
		struct site *x = &sites[i];
		char ca[512], cert[512], key[512], err[256];
		struct vprn_tls_files f = { .ca = ca, .cert = cert, .key = key, .crl = NULL };

		snprintf(ca, sizeof(ca), "%s/ca.pem", pki);
		snprintf(cert, sizeof(cert), "%s/%.63s.pem", pki, x->s.name);
		snprintf(key, sizeof(key), "%s/%.63s.key", pki, x->s.name);
		ctx[i] = vprn_tls_ctx_new(&f, false, err, sizeof(err));
		if (!ctx[i]) {
			fprintf(stderr, "vprn-sim-sites: %s: %s\n", x->s.name, err);
			return 1;
		}
		x->s.software = "vprn-sim-sites";
		x->s.boot_id = (uint64_t)getpid() * 100 + (uint64_t)i;
		x->s.on_msg = on_msg;
		x->s.on_close = on_close;
		x->refresh_s = 1.0;
		if (simed_start(&x->s, epfd, addr, port, ctx[i]) != 0) {
			fprintf(stderr, "vprn-sim-sites: %s: cannot connect to %s:%d\n", x->s.name,
				addr, port);
			return 1;
		}
	}
	while (!stop && !lost) {
		struct epoll_event evs[64];
		int n = epoll_wait(epfd, evs, 64, 50);
		double t = simed_now();

		for (int i = 0; i < n; i++)
			simed_event(evs[i].data.ptr, evs[i].events, t);
		for (int i = 0; i < n_sites; i++) {
			struct site *x = &sites[i];

			if (x->s.st == SIMED_UP && t >= x->next_refresh) {
				x->next_refresh = t + x->refresh_s;
				send_refresh(x);
			}
		}
	}
	for (int i = 0; i < n_sites; i++) {
		struct vprn_msg m;

		if (sites[i].s.st == SIMED_UP) {
			vprn_msg_init(&m, VPRN_MSG_BYE, 0);
			simed_send(&sites[i].s, &m);
		}
		simed_close(&sites[i].s, NULL);
		vprn_tls_ctx_free(ctx[i]);
	}
	close(epfd);
	if (lost)
		rc = 1;
	return rc;
}
