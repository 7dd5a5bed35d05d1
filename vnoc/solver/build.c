/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tree construction: the star (multi-unicast baseline) and the
 * degree-bounded Prim-Dijkstra family (c = 0 is Prim's minimum spanning tree,
 * c = 1 a shortest-path tree from the root; in between, a blend).
 */
#include <errno.h>
#include <float.h>

#include "solver_priv.h"

uint32_t delay_centre(const struct vprn_solver *s)
{
	uint32_t best = 0;
	double best_ecc = DBL_MAX;

	for (uint32_t v = 0; v < s->k; v++) {
		double ecc = 0;
		for (uint32_t u = 0; u < s->k; u++)
			if (u != v && W(s, v, u) > ecc)
				ecc = W(s, v, u);
		/* a leaf-only site cannot be a useful centre */
		if (s->k > 2 && s->bound[v] < 2)
			continue;
		if (ecc < best_ecc) {
			best_ecc = ecc;
			best = v;
		}
	}
	return best;
}

void build_star(const struct vprn_solver *s, struct tree *t, uint32_t root)
{
	tree_clear(t, s->m);
	t->root = root;
	t->pa[root] = root;
	for (uint32_t v = 0; v < s->k; v++) {
		if (v == root)
			continue;
		t->pa[v] = root;
		t->deg[v] = 1;
		t->deg[root]++;
	}
}

/* Best attachment of v among tree nodes with a free degree. */
static void rekey(struct vprn_solver *s, struct tree *t, uint32_t v, double c)
{
	s->key[v] = DBL_MAX;
	s->kpar[v] = NIL;
	for (uint32_t u = 0; u < s->m; u++) {
		if (!s->intree[u] || t->deg[u] >= s->bound[u])
			continue;
		double k = c * t->depth[u] + WB(s, u, v);
		if (k < s->key[v]) {
			s->key[v] = k;
			s->kpar[v] = u;
		}
	}
}

/*
 * Next node to attach: smallest key, but never one that would leave no free
 * degree while nodes remain (a leaf-only site when only one slot is left).
 * With sum of bounds >= 2(m-1) this rule always finds a node.
 */
static uint32_t pick(const struct vprn_solver *s, uint32_t remaining, int64_t cap)
{
	uint32_t best = NIL;

	for (uint32_t v = 0; v < s->m; v++) {
		if (!s->active[v] || s->intree[v] || s->kpar[v] == NIL)
			continue;
		if (remaining > 1 && cap + (int64_t)s->bound[v] - 2 < 1)
			continue;
		if (best == NIL || s->key[v] < s->key[best])
			best = v;
	}
	return best;
}

int build_prim_dijkstra(struct vprn_solver *s, struct tree *t, uint32_t root, double c)
{
	uint32_t remaining = 0;
	int64_t cap = s->bound[root];

	tree_clear(t, s->m);
	t->root = root;
	t->pa[root] = root;
	t->depth[root] = 0;
	for (uint32_t v = 0; v < s->m; v++) {
		s->intree[v] = v == root;
		s->key[v] = DBL_MAX;
		s->kpar[v] = NIL;
		if (s->active[v] && v != root) {
			remaining++;
			s->key[v] = WB(s, root, v);
			s->kpar[v] = root;
		}
	}
	while (remaining) {
		uint32_t v = pick(s, remaining, cap);
		if (v == NIL)
			return -ERANGE;
		uint32_t u = s->kpar[v];
		t->pa[v] = u;
		t->deg[u]++;
		t->deg[v] = 1;
		t->depth[v] = t->depth[u] + WB(s, u, v);
		s->intree[v] = 1;
		remaining--;
		cap += (int64_t)s->bound[v] - 2;
		if (t->deg[u] >= s->bound[u]) {
			for (uint32_t x = 0; x < s->m; x++)
				if (s->active[x] && !s->intree[x] && s->kpar[x] == u)
					rekey(s, t, x, c);
		}
		if (t->deg[v] >= s->bound[v])
			continue;
		for (uint32_t x = 0; x < s->m; x++) {
			if (!s->active[x] || s->intree[x])
				continue;
			double k = c * t->depth[v] + WB(s, v, x);
			if (k < s->key[x]) {
				s->key[x] = k;
				s->kpar[x] = v;
			}
		}
	}
	return 0;
}
