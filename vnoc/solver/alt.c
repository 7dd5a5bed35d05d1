/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GT-ITM .alt parser. Layout:
 *   GRAPH ...                          (header line)
 *   <#nodes> <#edges> ...              (counts; #edges may count both ways)
 *   (blank)
 *   VERTICES ...
 *   <index> <name> <x> <y>             #nodes lines, index = 0, 1, 2 ...
 *   (blank)
 *   EDGES ...
 *   <from> <to> <length> [<policy>]    until the end
 * Blank lines are allowed anywhere. Duplicate edges are kept (the evaluation
 * tool's shortest paths do not care); self-loops are an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alt.h"

struct cursor {
	const char *p, *end;
	uint32_t line;
};

/* Next line as [*ls, *le); 0 at the end of the buffer. */
static int next_line(struct cursor *c, const char **ls, const char **le)
{
	if (c->p >= c->end)
		return 0;
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*ls = c->p;
	*le = nl ? nl : c->end;
	c->p = nl ? nl + 1 : c->end;
	c->line++;
	if (*le > *ls && (*le)[-1] == '\r')
		(*le)--;
	return 1;
}

static int is_space(char ch)
{
	return ch == ' ' || ch == '\t';
}

static int blank(const char *s, const char *e)
{
	while (s < e && is_space(*s))
		s++;
	return s == e;
}

/* Next token in [*s, e) as [*ts, *te); 0 if none. */
static int token(const char **s, const char *e, const char **ts, const char **te)
{
	const char *p = *s;

	while (p < e && is_space(*p))
		p++;
	if (p == e)
		return 0;
	*ts = p;
	while (p < e && !is_space(*p))
		p++;
	*te = p;
	*s = p;
	return 1;
}

/* Unsigned decimal token, at most max. */
static int number(const char **s, const char *e, uint32_t max, uint32_t *out)
{
	const char *ts, *te;
	uint64_t v = 0;

	if (!token(s, e, &ts, &te))
		return -EINVAL;
	if (te - ts > 10)
		return -EINVAL;
	for (const char *p = ts; p < te; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

static int starts_with(const char *s, const char *e, const char *word)
{
	size_t n = strlen(word);

	while (s < e && is_space(*s))
		s++;
	return (size_t)(e - s) >= n && memcmp(s, word, n) == 0;
}

/* Next non-blank line; 0 at the end. */
static int content_line(struct cursor *c, const char **ls, const char **le)
{
	while (next_line(c, ls, le))
		if (!blank(*ls, *le))
			return 1;
	return 0;
}

static int parse_counts(struct cursor *c, uint32_t *nodes, uint32_t *edges)
{
	const char *ls, *le;

	if (!content_line(c, &ls, &le) || !starts_with(ls, le, "GRAPH"))
		return -EINVAL;
	if (!content_line(c, &ls, &le))
		return -EINVAL;
	if (number(&ls, le, UINT32_MAX, nodes) < 0 || number(&ls, le, UINT32_MAX, edges) < 0)
		return -EINVAL;
	if (*nodes == 0)
		return -EINVAL;
	if (*nodes > ALT_MAX_NODES || *edges > 2 * ALT_MAX_EDGES)
		return -E2BIG;
	return 0;
}

static int parse_vertices(struct cursor *c, struct alt_graph *g)
{
	const char *ls, *le, *ts, *te;
	uint32_t idx, x, y;

	if (!content_line(c, &ls, &le) || !starts_with(ls, le, "VERTICES"))
		return -EINVAL;
	for (uint32_t i = 0; i < g->n_nodes; i++) {
		if (!content_line(c, &ls, &le))
			return -EINVAL;
		if (number(&ls, le, UINT32_MAX, &idx) < 0 || idx != i)
			return -EINVAL;
		if (!token(&ls, le, &ts, &te))
			return -EINVAL;
		if (te - ts < 2 || (ts[0] != 'S' && ts[0] != 'T') || ts[1] != ':')
			return -EINVAL;
		g->stub[i] = ts[0] == 'S';
		/* coordinates: present in GT-ITM output, unused here */
		if (number(&ls, le, UINT32_MAX, &x) < 0 || number(&ls, le, UINT32_MAX, &y) < 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_edges(struct cursor *c, struct alt_graph *g, uint32_t cap)
{
	const char *ls, *le;

	if (!content_line(c, &ls, &le) || !starts_with(ls, le, "EDGES"))
		return -EINVAL;
	while (content_line(c, &ls, &le)) {
		struct alt_edge e;
		if (g->n_edges >= cap)
			return -EINVAL; /* more edges than declared */
		if (g->n_edges == g->cap_edges) {
			/* grow by doubling: the declared count is not trusted */
			uint32_t nc = g->cap_edges ? 2 * g->cap_edges : 1024;
			struct alt_edge *ne = realloc(g->edges, (size_t)nc * sizeof(*ne));
			if (ne == NULL)
				return -ENOMEM;
			g->edges = ne;
			g->cap_edges = nc;
		}
		if (number(&ls, le, g->n_nodes - 1, &e.a) < 0 ||
			number(&ls, le, g->n_nodes - 1, &e.b) < 0 ||
			number(&ls, le, ALT_MAX_LENGTH, &e.len) < 0 || e.a == e.b)
			return -EINVAL;
		g->edges[g->n_edges++] = e;
	}
	return 0;
}

int alt_parse(const char *buf, size_t len, struct alt_graph **out, uint32_t *err_line)
{
	struct cursor c = { buf, buf + len, 0 };
	struct alt_graph *g;
	uint32_t nodes, edges;
	int rc;

	*out = NULL;
	*err_line = 0;
	if (buf == NULL)
		return -EINVAL;
	rc = parse_counts(&c, &nodes, &edges);
	if (rc < 0)
		goto err_line;
	if (edges > ALT_MAX_EDGES)
		edges = ALT_MAX_EDGES; /* declared count may be both directions */
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return -ENOMEM;
	g->n_nodes = nodes;
	g->stub = calloc(nodes, 1);
	if (g->stub == NULL) {
		alt_free(g);
		return -ENOMEM;
	}
	rc = parse_vertices(&c, g);
	if (rc == 0)
		rc = parse_edges(&c, g, edges);
	if (rc < 0) {
		alt_free(g);
		goto err_line;
	}
	*out = g;
	return 0;
err_line:
	*err_line = c.line ? c.line : 1;
	return rc;
}

void alt_free(struct alt_graph *g)
{
	if (g == NULL)
		return;
	free(g->stub);
	free(g->edges);
	free(g);
}
