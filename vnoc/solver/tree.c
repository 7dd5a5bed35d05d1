/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tree bookkeeping: everything the local search needs in O(1) per candidate
 * move is derived here in O(m) from the parent array (two sweeps over the
 * preorder, the classic "rerooting" technique for sums and eccentricities).
 */
#include <string.h>

#include "solver_priv.h"

static inline int is_member(const struct vprn_solver *s, uint32_t v)
{
	return v < s->k;
}

static inline double M(const struct vprn_solver *s, const double *mat, uint32_t a, uint32_t b)
{
	return mat[(uint64_t)a * s->stride + b];
}

void tree_clear(struct tree *t, uint32_t m)
{
	for (uint32_t i = 0; i < m; i++) {
		t->pa[i] = NIL;
		t->deg[i] = 0;
	}
	t->root = NIL;
	t->n = 0;
}

void tree_copy(struct tree *dst, const struct tree *src, uint32_t m)
{
	dst->root = src->root;
	memcpy(dst->pa, src->pa, m * sizeof(*dst->pa));
	memcpy(dst->deg, src->deg, m * sizeof(*dst->deg));
}

static void link_children(const struct vprn_solver *s, struct tree *t)
{
	for (uint32_t i = 0; i < s->m; i++) {
		t->head[i] = NIL;
		t->deg[i] = 0;
	}
	for (uint32_t i = 0; i < s->m; i++) {
		uint32_t p = t->pa[i];
		if (p == NIL || i == t->root)
			continue;
		t->next[i] = t->head[p];
		t->head[p] = i;
		t->deg[i]++;
		t->deg[p]++;
	}
}

static void preorder(struct tree *t)
{
	uint32_t sp = 0, n = 0;

	t->stack[sp++] = t->root;
	while (sp) {
		uint32_t v = t->stack[--sp];
		t->tin[v] = n;
		t->order[n++] = v;
		for (uint32_t c = t->head[v]; c != NIL; c = t->next[c])
			t->stack[sp++] = c;
	}
	t->n = n;
}

/* Bottom-up: subtree sizes, member counts, sums and heights. */
static void sweep_up(const struct vprn_solver *s, struct tree *t, const double *mat)
{
	for (uint32_t i = t->n; i-- > 0;) {
		uint32_t v = t->order[i];
		t->size[v] = 1;
		t->msub[v] = is_member(s, v);
		t->sdown[v] = 0;
		t->hdown[v] = is_member(s, v) ? 0 : -1;
		for (uint32_t c = t->head[v]; c != NIL; c = t->next[c]) {
			double w = M(s, mat, v, c);
			t->size[v] += t->size[c];
			t->msub[v] += t->msub[c];
			t->sdown[v] += t->sdown[c] + t->msub[c] * w;
			if (t->hdown[c] >= 0 && t->hdown[c] + w > t->hdown[v])
				t->hdown[v] = t->hdown[c] + w;
		}
	}
}

/* Top-down: depth, sum of distances to all members, farthest member above. */
static void sweep_down(const struct vprn_solver *s, struct tree *t, const double *mat)
{
	double km = s->k;

	t->depth[t->root] = 0;
	t->dall[t->root] = t->sdown[t->root];
	t->up[t->root] = -1;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t v = t->order[i];
		/* best two "down through a child" values at v, for up[] */
		double b1 = -1, b2 = -1;
		uint32_t c1 = NIL;
		for (uint32_t c = t->head[v]; c != NIL; c = t->next[c]) {
			double h = t->hdown[c] >= 0 ? t->hdown[c] + M(s, mat, v, c) : -1;
			if (h > b1) {
				b2 = b1;
				b1 = h;
				c1 = c;
			} else if (h > b2) {
				b2 = h;
			}
		}
		double base = t->up[v];
		if (is_member(s, v) && base < 0)
			base = 0;
		for (uint32_t c = t->head[v]; c != NIL; c = t->next[c]) {
			double w = M(s, mat, v, c);
			double other = c == c1 ? b2 : b1;
			double u = base > other ? base : other;
			t->up[c] = u >= 0 ? u + w : -1;
			t->depth[c] = t->depth[v] + w;
			t->dall[c] = t->dall[v] + w * (km - 2.0 * t->msub[c]);
		}
	}
}

static void metrics(const struct vprn_solver *s, struct tree *t, const double *mat)
{
	double km = s->k;

	t->cost = t->wiener = t->diameter = t->src_sum = t->src_max = 0;
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t v = t->order[i];
		if (v != t->root) {
			double w = M(s, mat, v, t->pa[v]);
			t->cost += w;
			t->wiener += w * t->msub[v] * (km - t->msub[v]);
		}
		if (!is_member(s, v))
			continue;
		double e = t->hdown[v] > t->up[v] ? t->hdown[v] : t->up[v];
		if (e > t->diameter)
			t->diameter = e;
		t->src_sum += t->depth[v];
		if (t->depth[v] > t->src_max)
			t->src_max = t->depth[v];
	}
}

void tree_derive(const struct vprn_solver *s, struct tree *t, const double *mat)
{
	link_children(s, t);
	preorder(t);
	sweep_up(s, t, mat);
	sweep_down(s, t, mat);
	metrics(s, t, mat);
}

double tree_objective(const struct vprn_solver *s, const struct tree *t, const struct objective *o)
{
	double pairs = (double)s->k * (s->k - 1) / 2.0;

	if (s->k < 2)
		return 0;
	if (o->kind == OBJ_SOURCE)
		return o->wc * t->cost + o->wa * t->src_sum / (s->k - 1) + o->wd * t->src_max;
	return o->wc * t->cost + o->wa * t->wiener / pairs + o->wd * t->diameter;
}

void tree_reroot(struct tree *t, uint32_t new_root)
{
	uint32_t prev = new_root, v = t->pa[new_root];

	if (new_root == t->root)
		return;
	while (1) {
		uint32_t nx = t->pa[v];
		t->pa[v] = prev;
		if (v == t->root)
			break;
		prev = v;
		v = nx;
	}
	t->pa[new_root] = new_root;
	t->root = new_root;
}

void tree_dist_from(const struct vprn_solver *s, struct tree *t, uint32_t v, const double *mat)
{
	/* Walk the tree as an undirected graph (children lists + parent). */
	uint32_t sp = 0;

	for (uint32_t i = 0; i < t->n; i++)
		t->dv[t->order[i]] = -1;
	t->dv[v] = 0;
	t->stack[sp++] = v;
	while (sp) {
		uint32_t x = t->stack[--sp];
		uint32_t p = t->pa[x];
		if (x != t->root && t->dv[p] < 0) {
			t->dv[p] = t->dv[x] + M(s, mat, x, p);
			t->stack[sp++] = p;
		}
		for (uint32_t c = t->head[x]; c != NIL; c = t->next[c]) {
			if (t->dv[c] < 0) {
				t->dv[c] = t->dv[x] + M(s, mat, x, c);
				t->stack[sp++] = c;
			}
		}
	}
}

void tree_prune_relays(const struct vprn_solver *s, struct tree *t)
{
	int changed = 1;

	while (changed) {
		changed = 0;
		for (uint32_t v = s->k; v < s->m; v++) {
			if (t->pa[v] == NIL || t->deg[v] > 1)
				continue;
			if (v == t->root) {
				/* a relay root with one child: hand the root over */
				uint32_t c = NIL;
				for (uint32_t i = 0; i < s->m && c == NIL; i++)
					if (i != v && t->pa[i] == v)
						c = i;
				if (c == NIL)
					continue;
				tree_reroot(t, c);
			}
			t->deg[t->pa[v]]--;
			t->pa[v] = NIL;
			t->deg[v] = 0;
			changed = 1;
		}
	}
}
