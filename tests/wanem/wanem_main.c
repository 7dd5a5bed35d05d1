/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-wanem: command line, control socket and the poll loop.
 *
 *   vprn-wanem --ctl PATH --link NAME=IFACE,ADDR/PREFIX [--link ...]
 *              [--delay SRC,DST,MS[,JITTER_MS[,LOSS_PCT]] ...] [--seed N]
 *              [--queue-limit PKTS] [--probe-port PORT] [--log-level L]
 *   vprn-wanem --ctl PATH -e 'COMMAND' [-e ...]      (client: send, print answer)
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/log.h"
#include "wanem.h"
#include "wanem_ctl.h"

#define MAX_CLIENTS 16
#define RX_BUDGET 64
#define OUT_MAX (8u << 20) /* a client that never reads is dropped */
#define MAX_DELAY_ARGS 1024

struct client {
	int fd;
	char in[WANEM_CTL_LINE_MAX + 2];
	size_t in_len;
	struct wanem_out out;
	size_t out_off;
	int closing;
};

struct app {
	struct wanem w;
	const char *ctl_path;
	int ctl_fd;
	int sig_fd;
	struct client clients[MAX_CLIENTS];
	const char *delays[MAX_DELAY_ARGS];
	unsigned int n_delays;
	const char *cmds[MAX_DELAY_ARGS];
	unsigned int n_cmds;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vprn-wanem --ctl PATH --link NAME=IFACE,ADDR/PREFIX [--link ...]\n"
		"                  [--delay SRC,DST,MS[,JITTER_MS[,LOSS_PCT]] ...] [--seed N]\n"
		"                  [--queue-limit PKTS] [--probe-port PORT]\n"
		"                  [--log-level err|warn|info|debug]\n"
		"       vprn-wanem --ctl PATH -e COMMAND [-e COMMAND ...]\n"
		"Site names may be '*' in --delay and in control commands. See docs/testbed.md.\n");
}

/* "SRC,DST,MS[,JITTER[,LOSS]]" -> the control command "delay SRC DST MS ..." */
static int apply_delay_arg(struct wanem *w, const char *arg)
{
	char line[WANEM_CTL_LINE_MAX];
	struct wanem_out o = { 0 };
	int rc;

	if (strlen(arg) + 8 >= sizeof(line))
		return -EINVAL;
	snprintf(line, sizeof(line), "delay %s", arg);
	for (char *c = line; *c != '\0'; c++)
		if (*c == ',')
			*c = ' ';
	wanem_ctl_exec(w, line, &o);
	rc = o.len >= 3 && strcmp(o.buf + o.len - 3, "ok\n") == 0 ? 0 : -EINVAL;
	if (rc < 0)
		fprintf(stderr, "vprn-wanem: --delay %s: %.*s", arg, (int)o.len, o.buf);
	wanem_out_free(&o);
	return rc;
}

static int ctl_listen(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

static void client_close(struct client *c)
{
	close(c->fd);
	wanem_out_free(&c->out);
	*c = (struct client){ .fd = -1 };
}

static void ctl_accept(struct app *a)
{
	int fd = accept4(a->ctl_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++) {
		if (a->clients[i].fd < 0) {
			a->clients[i] = (struct client){ .fd = fd };
			return;
		}
	}
	(void)!write(fd, "error: too many clients\n", 24);
	close(fd);
}

static void client_read(struct app *a, struct client *c)
{
	ssize_t r = read(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len);
	char *nl;

	if (r <= 0) {
		if (r == 0 || (errno != EAGAIN && errno != EINTR))
			c->closing = 1;
		return;
	}
	c->in_len += (size_t)r;
	c->in[c->in_len] = '\0';
	while (!c->closing && (nl = memchr(c->in, '\n', c->in_len)) != NULL) {
		size_t used = (size_t)(nl - c->in) + 1;

		*nl = '\0';
		if (memchr(c->in, '\0', used - 1) != NULL)
			wanem_out_printf(&c->out, "error: NUL byte in command\n");
		else if (wanem_ctl_exec(&a->w, c->in, &c->out) == 1)
			c->closing = 1;
		memmove(c->in, c->in + used, c->in_len - used);
		c->in_len -= used;
	}
	if (c->in_len >= sizeof(c->in) - 1) {
		wanem_out_printf(&c->out, "error: line too long\n");
		c->closing = 1;
	}
	if (c->out.oom || c->out.len > OUT_MAX)
		client_close(c);
}

static void client_write(struct client *c)
{
	while (c->out_off < c->out.len) {
		ssize_t r = write(c->fd, c->out.buf + c->out_off, c->out.len - c->out_off);

		if (r < 0) {
			if (errno != EAGAIN && errno != EINTR)
				client_close(c);
			return;
		}
		c->out_off += (size_t)r;
	}
	c->out.len = 0;
	c->out_off = 0;
	if (c->closing)
		client_close(c);
}

static uint64_t next_wait_ns(const struct app *a, uint64_t now_ns)
{
	const struct wanem_pkt *p = wanem_queue_peek(&a->w.queue);
	const uint64_t max = 100000000ull; /* housekeeping (ARP retries) every 100 ms */

	if (p == NULL)
		return max;
	if (p->due_ns <= now_ns)
		return 0;
	return p->due_ns - now_ns < max ? p->due_ns - now_ns : max;
}

static int run(struct app *a)
{
	unsigned int nl = a->w.n_links;
	struct pollfd pfd[WANEM_MAX_LINKS + MAX_CLIENTS + 2];

	for (;;) {
		uint64_t now = vprn_now_ns();
		struct timespec ts;
		unsigned int n = 0;
		uint64_t wait_ns;

		for (unsigned int i = 0; i < nl; i++)
			pfd[n++] = (struct pollfd){ .fd = a->w.links[i].fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->ctl_fd, .events = POLLIN };
		pfd[n++] = (struct pollfd){ .fd = a->sig_fd, .events = POLLIN };
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &a->clients[i];

			pfd[n++] = (struct pollfd){ .fd = c->fd,
				.events = (short)(POLLIN | (c->out.len > 0 ? POLLOUT : 0)) };
		}
		/* Sub-millisecond precision for the delay line: ppoll takes a timespec. */
		wait_ns = next_wait_ns(a, now);
		ts.tv_sec = (time_t)(wait_ns / 1000000000ull);
		ts.tv_nsec = (long)(wait_ns % 1000000000ull);
		if (ppoll(pfd, n, &ts, NULL) < 0 && errno != EINTR) {
			LOG_ERR("wanem", "poll: %s", strerror(errno));
			return 1;
		}
		now = vprn_now_ns();
		for (unsigned int i = 0; i < nl; i++)
			if (pfd[i].revents & POLLIN)
				wanem_link_rx(&a->w, i, RX_BUDGET, now);
		wanem_tx_due(&a->w, vprn_now_ns());
		if (pfd[nl].revents & POLLIN)
			ctl_accept(a);
		if (pfd[nl + 1].revents & POLLIN) {
			LOG_INFO("wanem", "signal received, exiting");
			return 0;
		}
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &a->clients[i];
			short ev = pfd[nl + 2 + (unsigned int)i].revents;

			if (c->fd < 0 || pfd[nl + 2 + (unsigned int)i].fd != c->fd)
				continue;
			if (ev & (POLLIN | POLLHUP | POLLERR))
				client_read(a, c);
			if (c->fd >= 0 && (c->out.len > 0 || c->closing))
				client_write(c);
		}
	}
}

/* Client mode: send each command, print the answer up to its ok/error line. */
static int client_main(const char *path, const char *const *cmds, unsigned int n)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[65536];
	size_t len = 0;
	int fd, status = 0;
	FILE *in;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "vprn-wanem: %s: %s\n", path, strerror(errno));
		return 2;
	}
	in = fdopen(fd, "r");
	if (in == NULL)
		return 2;
	for (unsigned int i = 0; i < n; i++) {
		len = strlen(cmds[i]);
		if (write(fd, cmds[i], len) != (ssize_t)len || write(fd, "\n", 1) != 1)
			return 2;
		while (fgets(buf, sizeof(buf), in) != NULL) {
			fputs(buf, stdout);
			if (strcmp(buf, "ok\n") == 0)
				break;
			if (strncmp(buf, "error", 5) == 0) {
				status = 1;
				break;
			}
		}
	}
	fclose(in);
	return status;
}

static int parse_args(struct app *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "link", required_argument, NULL, 'l' },
		{ "delay", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "queue-limit", required_argument, NULL, 'q' },
		{ "probe-port", required_argument, NULL, 'p' },
		{ "log-level", required_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long qlimit = 1u << 16; /* ~100 MB of 1500-byte frames at most */
	unsigned long port;
	int o, lvl;
	char *end;

	a->w.rng = (uint64_t)vprn_now_ns() ^ ((uint64_t)getpid() << 32);
	a->w.probe_port = WANEM_PROBE_PORT;
	while ((o = getopt_long(argc, argv, "c:l:d:s:q:p:L:e:h", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			a->ctl_path = optarg;
			break;
		case 'l':
			if (wanem_link_parse(&a->w, optarg) < 0) {
				fprintf(stderr,
					"vprn-wanem: bad --link %s (NAME=IFACE,ADDR/PREFIX)\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'd':
		case 'e':
			if (a->n_delays >= MAX_DELAY_ARGS || a->n_cmds >= MAX_DELAY_ARGS)
				return -E2BIG;
			if (o == 'd')
				a->delays[a->n_delays++] = optarg;
			else
				a->cmds[a->n_cmds++] = optarg;
			break;
		case 's':
			errno = 0;
			a->w.rng = strtoull(optarg, &end, 0);
			if (errno != 0 || *end != '\0')
				return -EINVAL;
			break;
		case 'q':
			errno = 0;
			qlimit = strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || qlimit == 0 || qlimit > (1u << 24))
				return -EINVAL;
			break;
		case 'p':
			errno = 0;
			port = strtoul(optarg, &end, 0);
			if (errno != 0 || *end != '\0' || port > 65535) {
				fprintf(stderr, "vprn-wanem: bad --probe-port %s (0..65535)\n",
					optarg);
				return -EINVAL;
			}
			a->w.probe_port = (uint16_t)port;
			break;
		case 'L':
			lvl = vprn_log_parse_level(optarg);
			if (lvl < 0)
				return -EINVAL;
			vprn_log_set_level((enum vprn_log_level)lvl);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || a->ctl_path == NULL)
		return -EINVAL;
	if (a->w.rng == 0)
		a->w.rng = 0x9e3779b97f4a7c15ull;
	return wanem_queue_init(&a->w.queue, qlimit);
}

static int setup(struct app *a)
{
	sigset_t mask;
	int rc;

	if (a->w.n_links == 0) {
		fprintf(stderr, "vprn-wanem: at least one --link is needed\n");
		return -EINVAL;
	}
	if (wanem_pairs_init(&a->w) < 0)
		return -ENOMEM;
	for (unsigned int i = 0; i < a->n_delays; i++)
		if (apply_delay_arg(&a->w, a->delays[i]) < 0)
			return -EINVAL;
	for (unsigned int i = 0; i < a->w.n_links; i++) {
		rc = wanem_link_open(&a->w.links[i]);
		if (rc < 0) {
			fprintf(stderr, "vprn-wanem: %s: %s\n", a->w.links[i].ifname,
				strerror(-rc));
			return rc;
		}
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	a->sig_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (a->sig_fd < 0)
		return -errno;
	a->ctl_fd = ctl_listen(a->ctl_path);
	if (a->ctl_fd < 0) {
		fprintf(stderr, "vprn-wanem: %s: %s\n", a->ctl_path, strerror(-a->ctl_fd));
		return a->ctl_fd;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct app a; /* large (link tables): not on the stack */
	int rc;

	vprn_log_init("vprn-wanem", VPRN_LOG_INFO);
	for (int i = 0; i < MAX_CLIENTS; i++)
		a.clients[i].fd = -1;
	a.ctl_fd = a.sig_fd = -1;
	if (parse_args(&a, argc, argv) < 0) {
		usage(stderr);
		return 2;
	}
	if (a.n_cmds > 0)
		return client_main(a.ctl_path, a.cmds, a.n_cmds);
	rc = setup(&a);
	if (rc == 0) {
		LOG_INFO("wanem", "%u links, control socket %s", a.w.n_links, a.ctl_path);
		rc = run(&a);
	}
	for (int i = 0; i < MAX_CLIENTS; i++)
		if (a.clients[i].fd >= 0)
			client_close(&a.clients[i]);
	if (a.ctl_fd >= 0) {
		close(a.ctl_fd);
		unlink(a.ctl_path);
	}
	for (unsigned int i = 0; i < a.w.n_links; i++)
		wanem_link_close(&a.w.links[i]);
	wanem_flush(&a.w);
	free(a.w.pairs);
	return rc == 0 ? 0 : 1;
}
