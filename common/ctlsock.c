/* SPDX-License-Identifier: BSD-3-Clause */
#include "ctlsock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

#define MAX_TABLES 8
#define MAX_CLIENTS 16
#define CLIENT_TIMEOUT_MS 5000

struct client {
	int fd;
	uint64_t deadline_ms;
	char in[VPRN_CTL_MAX_REQUEST];
	size_t in_len;
	char *out; /* answer being written */
	size_t out_len, out_off;
};

struct table {
	const struct vprn_ctl_cmd *cmds;
	size_t n;
};

struct vprn_ctlsock {
	int lfd;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	void *ctx;
	struct table tables[MAX_TABLES];
	size_t n_tables;
	struct client clients[MAX_CLIENTS];
};

/* mkdir -p of the socket's directory (/run/vprn does not survive a reboot). */
static void mkdir_parent(const char *path)
{
	char dir[PATH_MAX];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	for (char *p = dir + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		(void)mkdir(dir, 0755);
		*p = '/';
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		LOG_WARN("ctlsock", "cannot create %s: %s", dir, strerror(errno));
}

struct vprn_ctlsock *vprn_ctlsock_open(const char *path, void *ctx)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct epoll_event ev = { .events = EPOLLIN };
	struct vprn_ctlsock *s;
	mode_t old;
	int e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	for (int i = 0; i < MAX_CLIENTS; i++)
		s->clients[i].fd = -1;
	s->ctx = ctx;
	snprintf(s->path, sizeof(s->path), "%s", path);
	memcpy(sa.sun_path, path, strlen(path));
	mkdir_parent(path);
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->epfd < 0 || s->lfd < 0)
		goto fail;
	(void)unlink(path); /* a stale socket of a previous run */
	/* 0600 from the start: no window where another user could connect. */
	old = umask(0177);
	e = bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (e != 0 || chmod(path, 0600) != 0 || listen(s->lfd, 8) != 0)
		goto fail;
	ev.data.fd = s->lfd;
	if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->lfd, &ev) != 0)
		goto fail;
	return s;
fail:
	e = errno;
	if (s->lfd >= 0)
		close(s->lfd);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s);
	errno = e;
	return NULL;
}

static void client_drop(struct vprn_ctlsock *s, struct client *c)
{
	if (c->fd < 0)
		return;
	epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->out);
	c->fd = -1;
	c->out = NULL;
	c->in_len = 0;
}

void vprn_ctlsock_close(struct vprn_ctlsock *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < MAX_CLIENTS; i++)
		client_drop(s, &s->clients[i]);
	close(s->lfd);
	close(s->epfd);
	(void)unlink(s->path);
	free(s);
}

int vprn_ctlsock_register(struct vprn_ctlsock *s, const struct vprn_ctl_cmd *cmds, size_t n)
{
	if (s->n_tables == MAX_TABLES)
		return -ENOSPC;
	s->tables[s->n_tables].cmds = cmds;
	s->tables[s->n_tables].n = n;
	s->n_tables++;
	return 0;
}

int vprn_ctlsock_fd(const struct vprn_ctlsock *s)
{
	return s->epfd;
}

static const struct vprn_ctl_cmd *find_cmd(const struct vprn_ctlsock *s, const char *name)
{
	for (size_t t = 0; t < s->n_tables; t++)
		for (size_t i = 0; i < s->tables[t].n; i++)
			if (strcmp(s->tables[t].cmds[i].name, name) == 0)
				return &s->tables[t].cmds[i];
	return NULL;
}

static void help(const struct vprn_ctlsock *s, struct vprn_json *j)
{
	vprn_json_arr_begin(j);
	for (size_t t = 0; t < s->n_tables; t++)
		for (size_t i = 0; i < s->tables[t].n; i++) {
			vprn_json_obj_begin(j);
			vprn_json_kv_str(j, "command", s->tables[t].cmds[i].name);
			vprn_json_kv_str(j, "usage", s->tables[t].cmds[i].usage);
			vprn_json_obj_end(j);
		}
	vprn_json_arr_end(j);
}

static char *answer_error(const char *msg)
{
	struct vprn_json j;
	char *out;

	vprn_json_init(&j);
	vprn_json_obj_begin(&j);
	vprn_json_kv_bool(&j, "ok", false);
	vprn_json_kv_str(&j, "error", msg);
	vprn_json_obj_end(&j);
	out = vprn_json_str(&j) != NULL ? strdup(vprn_json_str(&j)) : NULL;
	vprn_json_fini(&j);
	return out;
}

/* Parse {"cmd": "...", "args": ["...", ...]} into argv (pointers into req). */
static int parse_request(const struct vprn_jval *req, const char **cmd, int *argc, char **argv,
	char *err, size_t errlen)
{
	const struct vprn_jval *c = vprn_jval_get(req, "cmd");
	const struct vprn_jval *a = vprn_jval_get(req, "args");

	if (c == NULL || c->type != VPRN_J_STR) {
		snprintf(err, errlen, "request needs a string \"cmd\"");
		return -EINVAL;
	}
	*cmd = c->str;
	*argc = 0;
	if (a == NULL)
		return 0;
	if (a->type != VPRN_J_ARR || a->n > VPRN_CTL_MAX_ARGS) {
		snprintf(err, errlen, "\"args\" must be an array of at most %d strings",
			VPRN_CTL_MAX_ARGS);
		return -EINVAL;
	}
	for (size_t i = 0; i < a->n; i++) {
		if (a->items[i].type != VPRN_J_STR) {
			snprintf(err, errlen, "\"args\" must be strings");
			return -EINVAL;
		}
		argv[i] = a->items[i].str;
	}
	*argc = (int)a->n;
	argv[*argc] = NULL;
	return 0;
}

char *vprn_ctlsock_dispatch(struct vprn_ctlsock *s, const char *line, size_t len)
{
	char err[256] = "";
	char *argv[VPRN_CTL_MAX_ARGS + 1];
	const struct vprn_ctl_cmd *cmd;
	struct vprn_jval *req;
	struct vprn_json res;
	const char *name;
	char *out = NULL;
	int argc;
	int rc;

	req = vprn_json_parse(line, len, err, sizeof(err));
	if (req == NULL)
		return answer_error(err[0] != '\0' ? err : "bad request");
	if (parse_request(req, &name, &argc, argv, err, sizeof(err)) != 0) {
		vprn_jval_free(req);
		return answer_error(err);
	}
	vprn_json_init(&res);
	vprn_json_obj_begin(&res);
	vprn_json_kv_bool(&res, "ok", true);
	vprn_json_key(&res, "result");
	if (strcmp(name, "help") == 0) {
		help(s, &res);
		rc = 0;
	} else if ((cmd = find_cmd(s, name)) != NULL) {
		rc = cmd->fn(s->ctx, argc, argv, &res, err, sizeof(err));
	} else {
		snprintf(err, sizeof(err), "unknown command '%.64s' (try help)", name);
		rc = -ENOENT;
	}
	vprn_json_obj_end(&res);
	if (rc != 0)
		out = answer_error(err[0] != '\0' ? err : strerror(-rc));
	else if (vprn_json_str(&res) != NULL)
		out = strdup(vprn_json_str(&res));
	else
		out = answer_error("answer too large");
	vprn_json_fini(&res);
	vprn_jval_free(req);
	return out;
}

static bool peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return false;
	return cred.uid == 0 || cred.uid == geteuid();
}

static void accept_clients(struct vprn_ctlsock *s)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN };
		struct client *c = NULL;
		int fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0)
			return;
		if (!peer_allowed(fd)) {
			LOG_WARN("ctlsock", "refused a client that is neither root nor our user");
			close(fd);
			continue;
		}
		for (int i = 0; i < MAX_CLIENTS && c == NULL; i++)
			if (s->clients[i].fd < 0)
				c = &s->clients[i];
		if (c == NULL) {
			LOG_WARN("ctlsock", "too many clients, refusing one");
			close(fd);
			continue;
		}
		c->fd = fd;
		c->in_len = 0;
		c->deadline_ms = vprn_now_ms() + CLIENT_TIMEOUT_MS;
		ev.data.fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			client_drop(s, c);
	}
}

/* Write what we can; drop the client when done or broken. */
static void client_write(struct vprn_ctlsock *s, struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);

		if (n < 0 && errno == EAGAIN) {
			struct epoll_event ev = { .events = EPOLLOUT, .data.fd = c->fd };

			epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev);
			return;
		}
		if (n <= 0)
			break;
		c->out_off += (size_t)n;
	}
	client_drop(s, c);
}

static void client_answer(struct vprn_ctlsock *s, struct client *c, size_t line_len)
{
	char *ans = vprn_ctlsock_dispatch(s, c->in, line_len);
	size_t n;

	if (ans == NULL) {
		client_drop(s, c);
		return;
	}
	n = strlen(ans);
	c->out = malloc(n + 2);
	if (c->out == NULL) {
		free(ans);
		client_drop(s, c);
		return;
	}
	memcpy(c->out, ans, n);
	free(ans);
	c->out[n] = '\n';
	c->out[n + 1] = '\0';
	c->out_len = n + 1;
	c->out_off = 0;
	client_write(s, c);
}

static void client_read(struct vprn_ctlsock *s, struct client *c)
{
	char *nl;

	if (c->out != NULL) {
		client_write(s, c);
		return;
	}
	for (;;) {
		ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - 1 - c->in_len, 0);

		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			/* EOF without a newline: treat what we have as the request. */
			if (n == 0 && c->in_len > 0) {
				client_answer(s, c, c->in_len);
				return;
			}
			client_drop(s, c);
			return;
		}
		c->in_len += (size_t)n;
		nl = memchr(c->in, '\n', c->in_len);
		if (nl != NULL) {
			client_answer(s, c, (size_t)(nl - c->in));
			return;
		}
		if (c->in_len == sizeof(c->in) - 1) {
			LOG_WARN("ctlsock", "request longer than %d bytes, dropped",
				VPRN_CTL_MAX_REQUEST - 1);
			client_drop(s, c);
			return;
		}
	}
}

void vprn_ctlsock_poll(struct vprn_ctlsock *s)
{
	struct epoll_event evs[MAX_CLIENTS + 1];
	uint64_t now = vprn_now_ms();
	int n = epoll_wait(s->epfd, evs, MAX_CLIENTS + 1, 0);

	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == s->lfd) {
			accept_clients(s);
			continue;
		}
		for (int k = 0; k < MAX_CLIENTS; k++)
			if (s->clients[k].fd == evs[i].data.fd) {
				client_read(s, &s->clients[k]);
				break;
			}
	}
	for (int k = 0; k < MAX_CLIENTS; k++)
		if (s->clients[k].fd >= 0 && now > s->clients[k].deadline_ms)
			client_drop(s, &s->clients[k]);
}
