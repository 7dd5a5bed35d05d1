/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Physical-graph side of the evaluation: site placement, Dijkstra from every
 * site, and the per-tree metrics. Cost: O(N (E log V)) for the paths, O(N^2)
 * for the tree delays, O(N x path length) for the link stress.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "topo.h"

#define NIL UINT32_MAX

struct heap_item {
	double d;
	uint32_t v;
};

struct heap {
	struct heap_item *a;
	uint32_t n;
};

static void heap_push(struct heap *h, double d, uint32_t v)
{
	uint32_t i = h->n++;

	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (h->a[p].d < d || (h->a[p].d == d && h->a[p].v <= v))
			break;
		h->a[i] = h->a[p];
		i = p;
	}
	h->a[i].d = d;
	h->a[i].v = v;
}

static struct heap_item heap_pop(struct heap *h)
{
	struct heap_item top = h->a[0], last = h->a[--h->n];
	uint32_t i = 0;

	while (1) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n &&
			(h->a[c + 1].d < h->a[c].d ||
				(h->a[c + 1].d == h->a[c].d && h->a[c + 1].v < h->a[c].v)))
			c++;
		if (last.d < h->a[c].d || (last.d == h->a[c].d && last.v <= h->a[c].v))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	h->a[i] = last;
	return top;
}

/* Compressed adjacency: for node v, edge ids adj[off[v] .. off[v+1]). */
static int build_adj(const struct alt_graph *g, uint32_t **off, uint32_t **adj)
{
	*off = calloc(g->n_nodes + 1, sizeof(uint32_t));
	*adj = calloc(2 * (size_t)g->n_edges + 1, sizeof(uint32_t));
	if (*off == NULL || *adj == NULL)
		return -ENOMEM;
	for (uint32_t e = 0; e < g->n_edges; e++) {
		(*off)[g->edges[e].a + 1]++;
		(*off)[g->edges[e].b + 1]++;
	}
	for (uint32_t v = 0; v < g->n_nodes; v++)
		(*off)[v + 1] += (*off)[v];
	uint32_t *fill = calloc(g->n_nodes, sizeof(uint32_t));
	if (fill == NULL)
		return -ENOMEM;
	for (uint32_t e = 0; e < g->n_edges; e++) {
		uint32_t a = g->edges[e].a, b = g->edges[e].b;
		(*adj)[(*off)[a] + fill[a]++] = e;
		(*adj)[(*off)[b] + fill[b]++] = e;
	}
	free(fill);
	return 0;
}

static void dijkstra(const struct alt_graph *g, const uint32_t *off, const uint32_t *adj,
	struct heap *h, uint32_t src, double *dist, uint32_t *pred)
{
	for (uint32_t v = 0; v < g->n_nodes; v++) {
		dist[v] = INFINITY;
		pred[v] = NIL;
	}
	dist[src] = 0;
	h->n = 0;
	heap_push(h, 0, src);
	while (h->n) {
		struct heap_item it = heap_pop(h);
		if (it.d > dist[it.v])
			continue;
		for (uint32_t i = off[it.v]; i < off[it.v + 1]; i++) {
			const struct alt_edge *e = &g->edges[adj[i]];
			uint32_t w = e->a == it.v ? e->b : e->a;
			double nd = it.d + e->len;
			if (nd < dist[w]) {
				dist[w] = nd;
				pred[w] = adj[i];
				heap_push(h, nd, w);
			}
		}
	}
}

static uint64_t mix(uint64_t x)
{
	/* splitmix64 */
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static int place(struct topo *t, uint64_t seed)
{
	const struct alt_graph *g = t->g;
	uint32_t n_stub = 0, *stub = calloc(g->n_nodes, sizeof(uint32_t));
	uint64_t st = seed;

	if (stub == NULL)
		return -ENOMEM;
	for (uint32_t v = 0; v < g->n_nodes; v++)
		if (g->stub[v])
			stub[n_stub++] = v;
	if (n_stub < t->n_sites) {
		free(stub);
		return -EINVAL;
	}
	/* partial Fisher-Yates: uniform without replacement */
	for (uint32_t i = 0; i < t->n_sites; i++) {
		st = mix(st);
		uint32_t j = i + (uint32_t)(st % (n_stub - i));
		uint32_t tmp = stub[i];
		stub[i] = stub[j];
		stub[j] = tmp;
		t->site_node[i] = stub[i];
	}
	free(stub);
	return 0;
}

static double site_mst(const struct topo *t)
{
	uint32_t n = t->n_sites;
	double *key = malloc(n * sizeof(double)), cost = 0;
	uint8_t *done = calloc(n, 1);

	if (key == NULL || done == NULL) {
		free(key);
		free(done);
		return NAN;
	}
	for (uint32_t i = 0; i < n; i++)
		key[i] = INFINITY;
	key[0] = 0;
	for (uint32_t it = 0; it < n; it++) {
		uint32_t b = NIL;
		for (uint32_t i = 0; i < n; i++)
			if (!done[i] && (b == NIL || key[i] < key[b]))
				b = i;
		done[b] = 1;
		cost += key[b];
		for (uint32_t i = 0; i < n; i++) {
			double d = t->dist[(size_t)b * t->g->n_nodes + t->site_node[i]];
			if (!done[i] && d < key[i])
				key[i] = d;
		}
	}
	free(key);
	free(done);
	return cost;
}

int topo_place(struct topo *t, const struct alt_graph *g, uint32_t n_sites, uint64_t seed)
{
	uint32_t *off = NULL, *adj = NULL;
	struct heap h = { NULL, 0 };
	size_t nn = g->n_nodes;
	int rc;

	memset(t, 0, sizeof(*t));
	t->g = g;
	t->n_sites = n_sites;
	t->site_node = calloc(n_sites, sizeof(uint32_t));
	t->dist = calloc(n_sites * nn, sizeof(double));
	t->pred = calloc(n_sites * nn, sizeof(uint32_t));
	t->delay_us = calloc((size_t)n_sites * n_sites, sizeof(uint32_t));
	h.a = calloc(2 * (size_t)g->n_edges + 2, sizeof(*h.a));
	rc = -ENOMEM;
	if (!t->site_node || !t->dist || !t->pred || !t->delay_us || !h.a)
		goto out;
	rc = build_adj(g, &off, &adj);
	if (rc < 0)
		goto out;
	rc = place(t, seed);
	if (rc < 0)
		goto out;
	for (uint32_t i = 0; i < n_sites; i++)
		dijkstra(g, off, adj, &h, t->site_node[i], &t->dist[i * nn], &t->pred[i * nn]);
	for (uint32_t i = 0; i < n_sites; i++) {
		for (uint32_t j = 0; j < n_sites; j++) {
			double d = t->dist[i * nn + t->site_node[j]];
			/* graph units are taken as milliseconds; unreachable: unknown */
			t->delay_us[(size_t)i * n_sites + j] = isfinite(d) && d * 1000 < 4e9
								       ? (uint32_t)llround(d * 1000)
								       : VPRN_SOLVER_DELAY_UNKNOWN;
			if (isfinite(d) && d > t->unicast_diam)
				t->unicast_diam = d;
		}
	}
	t->mst_cost = site_mst(t);
	rc = 0;
out:
	free(off);
	free(adj);
	free(h.a);
	if (rc < 0)
		topo_fini(t);
	return rc;
}

void topo_fini(struct topo *t)
{
	free(t->site_node);
	free(t->dist);
	free(t->pred);
	free(t->delay_us);
	memset(t, 0, sizeof(*t));
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Link stress and costs: walk each tree edge's unicast path. */
static int measure_links(const struct topo *t, const struct vprn_solver_edge *edges,
	uint32_t n_edges, struct topo_metrics *m)
{
	const struct alt_graph *g = t->g;
	size_t nn = g->n_nodes;
	uint32_t *stress = calloc(g->n_edges + 1, sizeof(uint32_t));
	double cost = 0, once = 0, used = 0, sum = 0, mx = 0;

	if (stress == NULL)
		return -ENOMEM;
	for (uint32_t e = 0; e < n_edges; e++) {
		uint32_t i = edges[e].a, j = edges[e].b;
		uint32_t v = t->site_node[j], target = t->site_node[i];
		cost += t->dist[i * nn + v];
		while (v != target && t->pred[i * nn + v] != NIL) {
			uint32_t id = t->pred[i * nn + v];
			stress[id]++;
			v = g->edges[id].a == v ? g->edges[id].b : g->edges[id].a;
		}
	}
	for (uint32_t id = 0; id < g->n_edges; id++) {
		if (stress[id] == 0)
			continue;
		once += g->edges[id].len;
		used++;
		sum += stress[id];
		if (stress[id] > mx)
			mx = stress[id];
		if (m->stress_hist)
			m->stress_hist[stress[id] < t->n_sites ? stress[id] : t->n_sites]++;
	}
	m->cost_ratio_mst = cost / t->mst_cost;
	m->cost_once_ratio_mst = once / t->mst_cost;
	m->max_stress = mx;
	m->mean_stress = used > 0 ? sum / used : 0;
	free(stress);
	return 0;
}

/* Tree delays between all sites, stretch and diameter. */
static int measure_delays(const struct topo *t, const struct vprn_solver_edge *edges,
	uint32_t n_edges, struct topo_metrics *m)
{
	uint32_t n = t->n_sites, *off = calloc(n + 1, sizeof(uint32_t));
	uint32_t *nb = calloc(2 * (size_t)n_edges + 1, sizeof(uint32_t));
	uint32_t *fill = calloc(n, sizeof(uint32_t)), *stack = calloc(n, sizeof(uint32_t));
	double *td = calloc(n, sizeof(double));
	double *st = calloc((size_t)n * (n - 1) / 2 + 1, sizeof(double));
	size_t nst = 0, nn = t->g->n_nodes;
	double sum = 0, pairs = 0, diam = 0;
	int rc = -ENOMEM;

	if (!off || !nb || !fill || !stack || !td || !st)
		goto out;
	for (uint32_t e = 0; e < n_edges; e++) {
		off[edges[e].a + 1]++;
		off[edges[e].b + 1]++;
	}
	for (uint32_t i = 0; i < n; i++)
		off[i + 1] += off[i];
	for (uint32_t e = 0; e < n_edges; e++) {
		uint32_t a = edges[e].a, b = edges[e].b;
		nb[off[a] + fill[a]++] = b;
		nb[off[b] + fill[b]++] = a;
	}
	m->max_degree = 0;
	for (uint32_t i = 0; i < n; i++)
		if (off[i + 1] - off[i] > m->max_degree)
			m->max_degree = off[i + 1] - off[i];
	for (uint32_t s = 0; s < n; s++) {
		uint32_t sp = 0;
		for (uint32_t i = 0; i < n; i++)
			td[i] = -1;
		td[s] = 0;
		stack[sp++] = s;
		while (sp) {
			uint32_t x = stack[--sp];
			for (uint32_t k = off[x]; k < off[x + 1]; k++) {
				uint32_t y = nb[k];
				if (td[y] >= 0)
					continue;
				td[y] = td[x] + t->dist[(size_t)x * nn + t->site_node[y]];
				stack[sp++] = y;
			}
		}
		if (s == 0) {
			double ss = 0;
			for (uint32_t j = 1; j < n; j++) {
				double u = t->dist[t->site_node[j]];
				ss += u > 0 ? td[j] / u : 1;
			}
			m->src_mean_stretch = n > 1 ? ss / (n - 1) : 0;
		}
		for (uint32_t j = s + 1; j < n; j++) {
			double u = t->dist[(size_t)s * nn + t->site_node[j]];
			sum += td[j];
			pairs++;
			if (td[j] > diam)
				diam = td[j];
			if (u > 0)
				st[nst++] = td[j] / u;
		}
	}
	m->avg_delay = pairs > 0 ? sum / pairs : 0;
	m->diameter_ratio = t->unicast_diam > 0 ? diam / t->unicast_diam : 0;
	qsort(st, nst, sizeof(double), cmp_double);
	double ssum = 0;
	for (size_t i = 0; i < nst; i++)
		ssum += st[i];
	m->mean_stretch = nst ? ssum / nst : 0;
	m->p90_stretch = nst ? st[(size_t)ceil(0.9 * nst) - 1] : 0;
	m->max_stretch = nst ? st[nst - 1] : 0;
	rc = 0;
out:
	free(off);
	free(nb);
	free(fill);
	free(stack);
	free(td);
	free(st);
	return rc;
}

int topo_measure(const struct topo *t, const struct vprn_solver_edge *edges, uint32_t n_edges,
	struct topo_metrics *m)
{
	int rc = measure_links(t, edges, n_edges, m);

	return rc < 0 ? rc : measure_delays(t, edges, n_edges, m);
}
