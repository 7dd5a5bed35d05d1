/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprnctl [--json] [--socket PATH] ed|vnoc COMMAND [ARGS...]
 *
 * A generic client of the daemons' control sockets: it sends
 *   {"cmd": "COMMAND", "args": ["ARGS", ...]}
 * and prints the answer raw (--json) or rendered for humans: arrays of
 * objects as tables, objects as "key: value" lines, strings as they are (so
 * that e.g. a DOT graph prints verbatim). Commands live in the daemons only.
 * Exit status: 0 ok, 1 the daemon answered an error, 2 usage or connection.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/json.h"

#define MAX_ANSWER (64u << 20)
#define MAX_COLS 32

static void usage(FILE *out)
{
	fprintf(out,
		"usage: vprnctl [--json] [--socket PATH] ed|vnoc COMMAND [ARGS...]\n"
		"  ed:   status | stats | groups | sas | members | announce ... | help\n"
		"  vnoc: sites | status | groups | tree G [--dot] | sas [--export-keys wireshark]\n"
		"        | accounting | policy reload | help\n"
		"  default sockets: /run/vprn/ed.sock, /run/vprn/vnoc.sock\n");
}

static char *request(int argc, char **argv)
{
	struct vprn_json j;
	char *out;

	vprn_json_init(&j);
	vprn_json_obj_begin(&j);
	vprn_json_kv_str(&j, "cmd", argv[0]);
	vprn_json_key(&j, "args");
	vprn_json_arr_begin(&j);
	for (int i = 1; i < argc; i++)
		vprn_json_string(&j, argv[i]);
	vprn_json_arr_end(&j);
	vprn_json_obj_end(&j);
	out = vprn_json_str(&j) != NULL ? strdup(vprn_json_str(&j)) : NULL;
	vprn_json_fini(&j);
	return out;
}

static int talk(const char *path, const char *req, char **answer, size_t *len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 10 };
	size_t cap = 4096, n = 0;
	char *buf;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		send(fd, req, strlen(req), MSG_NOSIGNAL) != (ssize_t)strlen(req) ||
		send(fd, "\n", 1, MSG_NOSIGNAL) != 1) {
		int e = errno;

		close(fd);
		return -e;
	}
	buf = malloc(cap);
	for (;;) {
		ssize_t r;

		if (buf == NULL) {
			close(fd);
			return -ENOMEM;
		}
		if (n + 1 == cap) {
			char *nb = cap * 2 <= MAX_ANSWER ? realloc(buf, cap * 2) : NULL;

			if (nb == NULL) {
				free(buf);
				close(fd);
				return -EMSGSIZE;
			}
			buf = nb;
			cap *= 2;
		}
		r = recv(fd, buf + n, cap - 1 - n, 0);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			close(fd);
			return -e;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	buf[n] = '\0';
	*answer = buf;
	*len = n;
	return 0;
}

/* A scalar or nested value as one table cell / line. */
static char *cell(const struct vprn_jval *v)
{
	struct vprn_json j;
	char *out;

	switch (v->type) {
	case VPRN_J_STR:
		return strdup(v->str);
	case VPRN_J_NUM:
		return strdup(v->str);
	case VPRN_J_BOOL:
		return strdup(v->b ? "yes" : "no");
	case VPRN_J_NULL:
		return strdup("-");
	default:
		break;
	}
	vprn_json_init(&j);
	vprn_json_write_value(&j, v);
	out = strdup(vprn_json_str(&j) != NULL ? vprn_json_str(&j) : "?");
	vprn_json_fini(&j);
	return out;
}

static bool is_table(const struct vprn_jval *v)
{
	if (v->type != VPRN_J_ARR || v->n == 0)
		return false;
	for (size_t i = 0; i < v->n; i++)
		if (v->items[i].type != VPRN_J_OBJ)
			return false;
	return true;
}

static void print_table(const struct vprn_jval *v, int indent)
{
	const char *cols[MAX_COLS];
	size_t width[MAX_COLS];
	size_t n_cols = 0;

	for (size_t r = 0; r < v->n; r++)
		for (size_t k = 0; k < v->items[r].n && n_cols < MAX_COLS; k++) {
			bool seen = false;

			for (size_t c = 0; c < n_cols && !seen; c++)
				seen = strcmp(cols[c], v->items[r].keys[k]) == 0;
			if (!seen)
				cols[n_cols++] = v->items[r].keys[k];
		}
	for (size_t c = 0; c < n_cols; c++) {
		width[c] = strlen(cols[c]);
		for (size_t r = 0; r < v->n; r++) {
			const struct vprn_jval *x = vprn_jval_get(&v->items[r], cols[c]);
			char *s = x != NULL ? cell(x) : NULL;

			if (s != NULL && strlen(s) > width[c])
				width[c] = strlen(s);
			free(s);
		}
	}
	printf("%*s", indent, "");
	for (size_t c = 0; c < n_cols; c++)
		printf("%-*s%s", (int)width[c], cols[c], c + 1 < n_cols ? "  " : "\n");
	for (size_t r = 0; r < v->n; r++) {
		printf("%*s", indent, "");
		for (size_t c = 0; c < n_cols; c++) {
			const struct vprn_jval *x = vprn_jval_get(&v->items[r], cols[c]);
			char *s = x != NULL ? cell(x) : strdup("");

			printf("%-*s%s", (int)width[c], s != NULL ? s : "",
				c + 1 < n_cols ? "  " : "\n");
			free(s);
		}
	}
}

static void print_value(const struct vprn_jval *v, int indent);

static void print_object(const struct vprn_jval *v, int indent)
{
	size_t kw = 0;

	if (v->n == 0)
		printf("%*s(none)\n", indent, "");
	for (size_t i = 0; i < v->n; i++)
		if (strlen(v->keys[i]) > kw)
			kw = strlen(v->keys[i]);
	for (size_t i = 0; i < v->n; i++) {
		const struct vprn_jval *x = &v->items[i];

		if (x->type == VPRN_J_OBJ || is_table(x)) {
			printf("%*s%s:\n", indent, "", v->keys[i]);
			print_value(x, indent + 2);
		} else {
			char *s = cell(x);

			printf("%*s%-*s  %s\n", indent, "", (int)kw + 1, v->keys[i],
				s != NULL ? s : "?");
			free(s);
		}
	}
}

static void print_value(const struct vprn_jval *v, int indent)
{
	if (is_table(v)) {
		print_table(v, indent);
	} else if (v->type == VPRN_J_OBJ) {
		print_object(v, indent);
	} else if (v->type == VPRN_J_ARR) {
		if (v->n == 0)
			printf("%*s(none)\n", indent, "");
		for (size_t i = 0; i < v->n; i++) {
			char *s = cell(&v->items[i]);

			printf("%*s%s\n", indent, "", s != NULL ? s : "?");
			free(s);
		}
	} else if (v->type == VPRN_J_STR) {
		/* verbatim (DOT graphs, key tables) */
		fputs(v->str, stdout);
		if (v->str[0] != '\0' && v->str[strlen(v->str) - 1] != '\n')
			putchar('\n');
	} else {
		char *s = cell(v);

		printf("%*s%s\n", indent, "", s != NULL ? s : "?");
		free(s);
	}
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	bool json = false;
	char *req, *ans = NULL;
	char err[160] = "";
	struct vprn_jval *v;
	const struct vprn_jval *ok, *res;
	size_t len = 0;
	int i = 1, rc;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--socket") == 0 && i + 1 < argc) {
			sock = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (argc - i < 2 || (strcmp(argv[i], "ed") != 0 && strcmp(argv[i], "vnoc") != 0)) {
		usage(stderr);
		return 2;
	}
	if (sock == NULL)
		sock = strcmp(argv[i], "ed") == 0 ? "/run/vprn/ed.sock" : "/run/vprn/vnoc.sock";
	req = request(argc - i - 1, argv + i + 1);
	if (req == NULL)
		return 2;
	rc = talk(sock, req, &ans, &len);
	free(req);
	if (rc != 0) {
		fprintf(stderr, "vprnctl: %s: %s\n", sock, strerror(-rc));
		return 2;
	}
	if (json) {
		puts(ans);
	}
	v = vprn_json_parse(ans, len, err, sizeof(err));
	if (v == NULL) {
		fprintf(stderr, "vprnctl: bad answer from %s: %s\n", sock, err);
		free(ans);
		return 2;
	}
	ok = vprn_jval_get(v, "ok");
	rc = ok != NULL && ok->type == VPRN_J_BOOL && ok->b ? 0 : 1;
	if (!json) {
		if (rc != 0) {
			res = vprn_jval_get(v, "error");
			fprintf(stderr, "error: %s\n",
				res != NULL && res->type == VPRN_J_STR ? res->str : "?");
		} else if ((res = vprn_jval_get(v, "result")) != NULL) {
			print_value(res, 0);
		}
	}
	vprn_jval_free(v);
	free(ans);
	return rc;
}
