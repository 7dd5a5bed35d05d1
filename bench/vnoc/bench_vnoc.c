/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * vprn-bench-vnoc: load client for a running vprn-vnoc (not a test).
 *
 * Simulates N EDs, each with its own TLS 1.3 session and certificate
 * (CN = site name), in one epoll loop with non-blocking sockets, using the
 * project's TLS channel, framing and message module. Every ED says hello,
 * refreshes its memberships every second, reports metrics every 2 s and
 * acknowledges what the VNOC asks it to (SaInstall, SaRemove, TreeUpdate).
 * Site i (i < groups) sends to group i; receivers churn (joins and leaves).
 * Measures join-to-TreeUpdate latency at the joining ED, and samples the
 * VNOC process's CPU (/proc/PID/stat) and resident memory (VmRSS).
 */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench/simed/simed.h"

#define MAX_GROUPS 256
#define METRIC_PEERS 20
#define CONNECT_WINDOW 64 /* handshakes in flight at once */

struct ed {
	struct simed s; /* first: the epoll data pointer is the struct simed */
	int idx;
	int recv_group; /* -1: not a receiver now */
	double join_t;	/* pending join time, 0 = none measured */
	double left_t;	/* time of the last leave */
	double next_refresh;
	double next_metrics;
	char peers[METRIC_PEERS][VPRN_NAME_MAX];
	int n_peers;
};

static struct {
	const char *addr;
	int port;
	const char *pki;
	const char *prefix;
	int sites;
	int groups;
	double duration;
	double churn; /* joins+leaves per second, all EDs */
	double recv_frac;
	int vnoc_pid;
	const char *json;
	double connect_timeout;
	double warmup; /* after the connect phase, before measuring */
} cfg = { "127.0.0.1", 7800, ".", "s", 500, 10, 30.0, 10.0, 0.1, 0, NULL, 30.0, 3.0 };

static struct ed *eds;
static int epfd;
static double *lat;
static size_t n_lat, cap_lat;
static unsigned long errors, joins_sent, joins_cancelled, refused, disconnects, msgs_in, msgs_out;
static bool measuring;
static volatile sig_atomic_t stop;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static uint32_t group_addr(int g)
{
	return (239u << 24) | (1u << 16) | (uint32_t)(g + 1);
}

static void send_join(struct ed *e, int g, bool leave)
{
	simed_join(&e->s, group_addr(g), VPRN_ROLE_RECEIVER, leave);
}

static void on_close(struct simed *s, const char *why)
{
	if (why) {
		errors++;
		if (s->st == SIMED_UP)
			disconnects++;
	}
}

static void send_refresh(struct ed *e)
{
	struct vprn_membership ms[2];
	uint32_t n = 0;
	if (e->idx < cfg.groups)
		simed_membership(&ms[n++], group_addr(e->idx), VPRN_ROLE_SENDER);
	if (e->recv_group >= 0)
		simed_membership(&ms[n++], group_addr(e->recv_group), VPRN_ROLE_RECEIVER);
	struct vprn_msg m;
	vprn_msg_init(&m, VPRN_MSG_REFRESH, 0);
	m.u.refresh.memberships = ms;
	m.u.refresh.n_memberships = n;
	simed_send(&e->s, &m);
}

static void send_metrics(struct ed *e)
{
	struct vprn_peer_metric pm[METRIC_PEERS];
	for (int i = 0; i < e->n_peers; i++) {
		memset(&pm[i], 0, sizeof(pm[i]));
		memcpy(pm[i].site, e->peers[i], sizeof(pm[i].site));
		pm[i].rtt_us = 5000 + (uint32_t)(rand() % 45000);
		pm[i].rttvar_us = 500;
		pm[i].loss_ppm = (uint32_t)(rand() % 1000);
		pm[i].samples = 2;
	}
	struct vprn_msg m;
	vprn_msg_init(&m, VPRN_MSG_METRICS, 0);
	m.u.metrics.peers = pm;
	m.u.metrics.n_peers = (uint32_t)e->n_peers;
	simed_send(&e->s, &m);
}

static void add_lat(double ms)
{
	if (n_lat == cap_lat) {
		size_t nc = cap_lat ? cap_lat * 2 : 1024;
		double *p = realloc(lat, nc * sizeof(*p));
		if (!p)
			return;
		lat = p;
		cap_lat = nc;
	}
	lat[n_lat++] = ms;
}

static void on_msg(struct simed *s, struct vprn_msg *m, double t)
{
	struct ed *e = (struct ed *)s;

	msgs_in++;
	switch (m->type) {
	case VPRN_MSG_WELCOME:
		e->n_peers = 0;
		for (uint32_t i = 0; i < m->u.welcome.n_peers && e->n_peers < METRIC_PEERS; i++)
			if (strcmp(m->u.welcome.peers[i].site, e->s.name) != 0)
				memcpy(e->peers[e->n_peers++], m->u.welcome.peers[i].site,
					VPRN_NAME_MAX);
		e->next_refresh = t + (double)(rand() % 1000) / 1000.0;
		e->next_metrics = t + (double)(rand() % 2000) / 1000.0;
		if (e->idx < cfg.groups) {
			simed_join(&e->s, group_addr(e->idx), VPRN_ROLE_SENDER, false);
		} else if ((double)rand() / RAND_MAX < cfg.recv_frac) {
			e->recv_group = rand() % cfg.groups;
			send_join(e, e->recv_group, false);
		}
		break;
	case VPRN_MSG_JOIN_RESULT:
		if (!m->u.join_result.granted) {
			refused++;
			errors++;
		}
		break;
	case VPRN_MSG_TREE_UPDATE: {
		const struct vprn_tree_update *tu = &m->u.tree_update;
		if (e->join_t > 0 && !tu->removed && e->recv_group >= 0 &&
			tu->group == group_addr(e->recv_group)) {
			add_lat((t - e->join_t) * 1000.0);
			e->join_t = 0;
		}
		simed_ack(&e->s, m->seq);
		break;
	}
	case VPRN_MSG_SA_INSTALL:
	case VPRN_MSG_SA_REMOVE:
		simed_ack(&e->s, m->seq);
		break;
	case VPRN_MSG_ERROR:
		fprintf(stderr, "bench-vnoc: %s: error from VNOC: %s %s\n", e->s.name,
			vprn_error_code_name(m->u.error.code), m->u.error.text);
		errors++;
		break;
	default:
		break;
	}
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	if (n_lat == 0)
		return 0;
	size_t i = (size_t)(p / 100.0 * (double)(n_lat - 1) + 0.5);
	return lat[i];
}

static int proc_cpu_ticks(int pid, unsigned long long *ticks)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	unsigned long long ut, st;
	/* after ")": state(3) ... utime(14) stime(15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			  &st) != 2)
		return -EINVAL;
	*ticks = ut + st;
	return 0;
}

static long proc_rss_kb(int pid)
{
	char path[64], line[256];
	long kb = -1;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: vprn-bench-vnoc --pki DIR [--addr A] [--port P] [--sites N] [--groups G]\n"
		"       [--duration S] [--churn R] [--receivers FRAC] [--prefix P]\n"
		"       [--vnoc-pid PID] [--connect-timeout S] [--warmup S]\n"
		"       [--json FILE]\n"
		"  site i is named PREFIX<i> (i = 1..N) with DIR/PREFIX<i>.pem/.key and "
		"DIR/ca.pem\n");
}

static int parse_args(int argc, char **argv)
{
	static const struct option opts[] = { { "addr", required_argument, 0, 'a' },
		{ "port", required_argument, 0, 'p' }, { "pki", required_argument, 0, 'k' },
		{ "prefix", required_argument, 0, 'x' }, { "sites", required_argument, 0, 'n' },
		{ "groups", required_argument, 0, 'g' }, { "duration", required_argument, 0, 'd' },
		{ "churn", required_argument, 0, 'c' }, { "receivers", required_argument, 0, 'r' },
		{ "vnoc-pid", required_argument, 0, 'P' }, { "json", required_argument, 0, 'j' },
		{ "connect-timeout", required_argument, 0, 't' },
		{ "warmup", required_argument, 0, 'w' }, { "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			cfg.addr = optarg;
			break;
		case 'p':
			cfg.port = atoi(optarg);
			break;
		case 'k':
			cfg.pki = optarg;
			break;
		case 'x':
			cfg.prefix = optarg;
			break;
		case 'n':
			cfg.sites = atoi(optarg);
			break;
		case 'g':
			cfg.groups = atoi(optarg);
			break;
		case 'd':
			cfg.duration = atof(optarg);
			break;
		case 'c':
			cfg.churn = atof(optarg);
			break;
		case 'r':
			cfg.recv_frac = atof(optarg);
			break;
		case 'P':
			cfg.vnoc_pid = atoi(optarg);
			break;
		case 'j':
			cfg.json = optarg;
			break;
		case 't':
			cfg.connect_timeout = atof(optarg);
			break;
		case 'w':
			cfg.warmup = atof(optarg);
			break;
		default:
			usage();
			return -EINVAL;
		}
	}
	if (cfg.sites < 1 || cfg.groups < 1 || cfg.groups > MAX_GROUPS || cfg.groups > cfg.sites ||
		cfg.duration <= 0 || cfg.port <= 0 || cfg.port > 65535 || cfg.churn < 0 ||
		cfg.warmup < 0) {
		usage();
		return -EINVAL;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (parse_args(argc, argv) != 0)
		return 2;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);
	srand(12345);

	printf("vprn-bench-vnoc: %d sites to %s:%d, %d groups (site i sends to group i), "
	       "%.0f%% receivers at start, churn %.1f joins+leaves/s, refresh 1 s, metrics 2 s "
	       "(%d peers), warm-up %.0f s, duration %.0f s, VNOC pid %d\n",
		cfg.sites, cfg.addr, cfg.port, cfg.groups, cfg.recv_frac * 100, cfg.churn,
		METRIC_PEERS, cfg.warmup, cfg.duration, cfg.vnoc_pid);
	fflush(stdout);

	eds = calloc((size_t)cfg.sites, sizeof(*eds));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!eds || epfd < 0)
		return 1;
	/* one context per ED: each has its own certificate */
	struct vprn_tls_ctx **ctxs = calloc((size_t)cfg.sites, sizeof(*ctxs));
	if (!ctxs)
		return 1;
	for (int i = 0; i < cfg.sites; i++) {
		struct ed *e = &eds[i];
		char cert[512], key[512], ca[512], err[256];
		e->idx = i;
		e->s.fd = -1;
		e->s.software = "vprn-bench-vnoc";
		/* the WAN address run-bench writes for site i: 10.(100 + i / 250).(i % 250 + 1).2
		 */
		e->s.wan_addr = (10u << 24) | ((100u + (uint32_t)i / 250) << 16) |
				(((uint32_t)i % 250 + 1) << 8) | 2u;
		e->s.boot_id = (uint64_t)i + 1;
		e->s.on_msg = on_msg;
		e->s.on_close = on_close;
		e->recv_group = -1;
		snprintf(e->s.name, sizeof(e->s.name), "%s%d", cfg.prefix, i + 1);
		snprintf(ca, sizeof(ca), "%s/ca.pem", cfg.pki);
		snprintf(cert, sizeof(cert), "%s/%s.pem", cfg.pki, e->s.name);
		snprintf(key, sizeof(key), "%s/%s.key", cfg.pki, e->s.name);
		struct vprn_tls_files f = { .ca = ca, .cert = cert, .key = key, .crl = NULL };
		ctxs[i] = vprn_tls_ctx_new(&f, false, err, sizeof(err));
		if (!ctxs[i]) {
			fprintf(stderr, "bench-vnoc: %s: %s\n", e->s.name, err);
			return 1;
		}
	}

	double t0 = simed_now(), t = t0, meas_t0 = 0, connected_t = 0, meas_end = 0,
	       next_sample = 0;
	double next_churn = 0, churn_step = cfg.churn > 0 ? 1.0 / cfg.churn : 1e9;
	int started = 0, up = 0;
	unsigned long long cpu0 = 0, cpu1 = 0;
	long rss_max = -1;
	long clk = sysconf(_SC_CLK_TCK);
	double wait_up_s = 0;
	bool churn_leave = false;

	while (!stop) {
		/* start connections, a window at a time */
		int inflight = 0;
		up = 0;
		for (int i = 0; i < started; i++) {
			if (eds[i].s.st == SIMED_CONNECTING || eds[i].s.st == SIMED_HANDSHAKE ||
				eds[i].s.st == SIMED_HELLO)
				inflight++;
			else if (eds[i].s.st == SIMED_UP)
				up++;
		}
		while (started < cfg.sites && inflight < CONNECT_WINDOW) {
			struct ed *e = &eds[started];
			if (simed_start(&e->s, epfd, cfg.addr, cfg.port, ctxs[started++]) != 0) {
				simed_close(&e->s, "connect failed");
				continue;
			}
			inflight++;
		}
		if (connected_t == 0 &&
			(up == cfg.sites || (started == cfg.sites && inflight == 0) ||
				t - t0 > cfg.connect_timeout)) {
			connected_t = t;
			wait_up_s = t - t0;
			printf("sessions up: %d/%d after %.2f s; warm-up %.0f s\n", up, cfg.sites,
				wait_up_s, cfg.warmup);
			fflush(stdout);
		}
		if (!measuring && connected_t > 0 && t - connected_t >= cfg.warmup) {
			measuring = true;
			meas_t0 = t;
			meas_end = t + cfg.duration;
			next_churn = t;
			next_sample = t;
			printf("measuring for %.0f s\n", cfg.duration);
			fflush(stdout);
			if (cfg.vnoc_pid > 0 && proc_cpu_ticks(cfg.vnoc_pid, &cpu0) != 0) {
				fprintf(stderr, "bench-vnoc: cannot read /proc/%d/stat\n",
					cfg.vnoc_pid);
				cfg.vnoc_pid = 0;
			}
		}
		if (measuring && t >= meas_end)
			break;

		struct epoll_event evs[128];
		int n = epoll_wait(epfd, evs, 128, 5);
		t = simed_now();
		for (int i = 0; i < n; i++)
			simed_event(evs[i].data.ptr, evs[i].events, t);

		/* timers */
		for (int i = 0; i < started; i++) {
			struct ed *e = &eds[i];
			if (e->s.st != SIMED_UP)
				continue;
			if (t >= e->next_refresh) {
				e->next_refresh += 1.0;
				send_refresh(e);
			}
			if (e->s.st == SIMED_UP && t >= e->next_metrics) {
				e->next_metrics += 2.0;
				send_metrics(e);
			}
		}
		/* churn: alternate a join (of a non-receiver) and a leave (of a receiver) */
		while (measuring && t >= next_churn) {
			/* Poisson arrivals: never phase-locked with the VNOC's timers */
			next_churn += -log(((double)rand() + 1.0) / ((double)RAND_MAX + 2.0)) *
				      churn_step;
			for (int tries = 0; tries < 32; tries++) {
				struct ed *e = &eds[cfg.groups + rand() % (cfg.sites - cfg.groups)];
				if (cfg.sites == cfg.groups)
					break;
				if (e->s.st != SIMED_UP)
					continue;
				if (churn_leave && e->recv_group >= 0) {
					send_join(e, e->recv_group, true);
					joins_cancelled += e->join_t > 0;
					e->recv_group = -1;
					e->join_t = 0;
					e->left_t = t;
					break;
				}
				if (!churn_leave && e->recv_group < 0 && t - e->left_t > 5.0) {
					e->recv_group = rand() % cfg.groups;
					e->join_t = t;
					joins_sent++;
					send_join(e, e->recv_group, false);
					break;
				}
			}
			churn_leave = !churn_leave;
		}
		if (measuring && cfg.vnoc_pid > 0 && t >= next_sample) {
			next_sample += 0.5;
			long kb = proc_rss_kb(cfg.vnoc_pid);
			if (kb > rss_max)
				rss_max = kb;
		}
	}
	double meas_s = t - meas_t0;
	double cpu_pct = -1;
	if (cfg.vnoc_pid > 0 && proc_cpu_ticks(cfg.vnoc_pid, &cpu1) == 0 && meas_s > 0)
		cpu_pct = (double)(cpu1 - cpu0) / (double)clk / meas_s * 100.0;
	up = 0;
	for (int i = 0; i < cfg.sites; i++)
		up += eds[i].s.st == SIMED_UP;
	unsigned long pending = 0;
	for (int i = 0; i < cfg.sites; i++)
		pending += eds[i].join_t > 0;
	for (int i = 0; i < cfg.sites; i++)
		msgs_out += eds[i].s.msgs_out;
	qsort(lat, n_lat, sizeof(*lat), cmp_d);
	double p50 = pct(50), p99 = pct(99), pmax = n_lat ? lat[n_lat - 1] : 0;
	double rss_mb = rss_max > 0 ? (double)rss_max / 1024.0 : -1;

	printf("results over %.1f s:\n", meas_s);
	printf("  sessions up        %d/%d (connect phase %.2f s)\n", up, cfg.sites, wait_up_s);
	printf("  VNOC CPU           %.2f %% of one core\n", cpu_pct);
	printf("  VNOC RSS (max)     %.1f MB\n", rss_mb);
	printf("  join->TreeUpdate   n=%zu p50=%.2f ms p99=%.2f ms max=%.2f ms (joins %lu, "
	       "left before their TreeUpdate %lu, unanswered at the end %lu)\n",
		n_lat, p50, p99, pmax, joins_sent, joins_cancelled, pending);
	printf("  messages           %lu sent, %lu received\n", msgs_out, msgs_in);
	printf("  errors             %lu (refused joins %lu, lost sessions %lu)\n", errors, refused,
		disconnects);
	printf("  goal: CPU < 20%% of one core: %s; p99 < 50 ms: %s\n",
		cpu_pct >= 0 && cpu_pct < 20 ? "met" : "NOT met",
		n_lat && p99 < 50 ? "met" : "NOT met");

	if (cfg.json) {
		FILE *f = fopen(cfg.json, "w");
		if (!f) {
			perror(cfg.json);
		} else {
			fprintf(f,
				"{\"sites\": %d, \"groups\": %d, \"duration_s\": %.1f, "
				"\"vnoc_cpu_pct\": %.2f, \"vnoc_rss_mb\": %.1f, "
				"\"join_to_tree_p50_ms\": %.2f, \"join_to_tree_p99_ms\": %.2f, "
				"\"join_to_tree_max_ms\": %.2f, \"join_samples\": %zu, "
				"\"sessions_up\": %d, \"errors\": %lu, \"messages_sent\": %lu, "
				"\"messages_received\": %lu}\n",
				cfg.sites, cfg.groups, meas_s, cpu_pct, rss_mb, p50, p99, pmax,
				n_lat, up, errors, msgs_out, msgs_in);
			fclose(f);
		}
	}
	for (int i = 0; i < cfg.sites; i++) {
		simed_close(&eds[i].s, NULL);
		vprn_tls_ctx_free(ctxs[i]);
	}
	free(ctxs);
	free(eds);
	free(lat);
	close(epfd);
	return 0;
}
