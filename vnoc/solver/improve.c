/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Edge-exchange local search under the degree bounds.
 *
 * A move removes the tree edge (v, p = parent of v), which splits off the
 * subtree S of v, and reconnects S through a new edge (x, q) with x in S and
 * q outside it (S is re-hung from x). Every spanning tree is reachable by such
 * exchanges. With the data of tree_derive() and the tree distances from v, the
 * change of cost, of the sum of member-pair delays (Wiener index) and of the
 * sum of source delays is exact and O(1) per candidate:
 *
 *   cross(S) = sum over members a in S, b outside of d(a, b)
 *            = ms (K - ms) w(x, q) + (K - ms) D_S(x) + ms D_out(q)
 *
 * with ms members in S, K members in all, D_S(x) the sum of distances from x
 * to the members of S and D_out(q) from q to the members outside S. The
 * diameter (or largest source delay) is not O(1); the best candidate for each
 * v is applied, the true objective recomputed in O(m), and the move reverted
 * if it did not improve. Candidates (x, q) are limited to the SOLVER_KNN
 * nearest neighbours of x, so a pass costs O(m^2 + m * depth * KNN).
 */
#include "solver_priv.h"

#define EPS 1e-9

struct move {
	uint32_t x, q;
	double delta;
};

static double move_delta(const struct vprn_solver *s, const struct tree *t,
	const struct objective *o, uint32_t v, uint32_t x, uint32_t q)
{
	uint32_t p = t->pa[v];
	double K = s->k, ms = t->msub[v];
	double wvp = WB(s, v, p), wxq = WB(s, x, q);
	double dxv = t->depth[x] - t->depth[v];
	double dout_p = t->dall[p] - (ms * wvp + t->sdown[v]);
	double ds_x = t->dall[x] - ((K - ms) * (dxv + wvp) + dout_p);
	double d = o->wc * (wxq - wvp);

	if (o->kind == OBJ_SOURCE) {
		double nsum = ms * (t->depth[q] + wxq) + ds_x;
		double osum = ms * t->depth[v] + t->sdown[v];
		return d + o->wa * (nsum - osum) / (K - 1);
	}
	if (o->wa == 0)
		return d;
	double dout_q = t->dall[q] - (ms * t->dv[q] + t->sdown[v]);
	double cold = ms * (K - ms) * wvp + (K - ms) * t->sdown[v] + ms * dout_p;
	double cnew = ms * (K - ms) * wxq + (K - ms) * ds_x + ms * dout_q;
	return d + o->wa * (cnew - cold) / (K * (K - 1) / 2);
}

/* Best exchange that removes (v, parent(v)) and the runner-up; x == NIL if none. */
static struct move best_move(struct vprn_solver *s, struct tree *t, const struct objective *o,
	uint32_t v, struct move *second)
{
	struct move best = { NIL, NIL, -EPS };

	*second = best;
	uint32_t p = t->pa[v];
	uint32_t lo = t->tin[v], hi = t->tin[v] + t->size[v];

	if (o->kind == OBJ_SHARED && o->wa > 0)
		tree_dist_from(s, t, v, s->wb);
	for (uint32_t i = lo; i < hi; i++) {
		uint32_t x = t->order[i];
		if (t->deg[x] + 1 - (x == v) > s->bound[x])
			continue;
		const uint32_t *nb = &s->knn[(uint64_t)x * SOLVER_KNN];
		for (uint32_t j = 0; j < s->n_knn; j++) {
			uint32_t q = nb[j];
			if (t->pa[q] == NIL || (t->tin[q] >= lo && t->tin[q] < hi))
				continue;
			if (x == v && q == p)
				continue;
			if (t->deg[q] + 1 - (q == p) > s->bound[q])
				continue;
			double d = move_delta(s, t, o, v, x, q);
			if (d < best.delta) {
				*second = best;
				best.delta = d;
				best.x = x;
				best.q = q;
			} else if (d < second->delta) {
				second->delta = d;
				second->x = x;
				second->q = q;
			}
		}
	}
	return best;
}

/* Detach the subtree of v, re-hang it from x and attach x under q. */
static void apply_move(struct tree *t, uint32_t v, uint32_t x, uint32_t q)
{
	uint32_t prev = q, cur = x;

	while (1) {
		uint32_t nx = t->pa[cur];
		t->pa[cur] = prev;
		if (cur == v)
			break;
		prev = cur;
		cur = nx;
	}
}

static uint64_t rng_next(uint64_t *st)
{
	/* xorshift64*: deterministic for a given seed, no global state */
	uint64_t x = *st ? *st : 0x9e3779b97f4a7c15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545f4914f6cdd1dull;
}

uint32_t improve(
	struct vprn_solver *s, struct tree *t, const struct objective *o, uint32_t max_passes)
{
	struct tree *save = &s->t[2];
	uint32_t moves = 0, max_moves = 40 * s->m + 100;
	double j;

	if (s->k < 3)
		return 0;
	tree_derive(s, t, s->wb);
	j = tree_objective(s, t, o);
	for (uint32_t pass = 0; pass < max_passes && moves < max_moves; pass++) {
		int improved = 0;
		uint32_t start = (uint32_t)(rng_next(&s->rng) % s->m);
		for (uint32_t i = 0; i < s->m && moves < max_moves; i++) {
			uint32_t v = (start + i) % s->m;
			if (t->pa[v] == NIL || v == t->root)
				continue;
			struct move mv[2];
			mv[0] = best_move(s, t, o, v, &mv[1]);
			/* the diameter is only checked after the fact: if the best
			 * candidate fails, the runner-up often does not */
			for (int c = 0; c < 2 && mv[c].x != NIL; c++) {
				tree_copy(save, t, s->m);
				apply_move(t, v, mv[c].x, mv[c].q);
				tree_derive(s, t, s->wb);
				double nj = tree_objective(s, t, o);
				if (nj < j - EPS * (1 + j)) {
					j = nj;
					moves++;
					improved = 1;
					break;
				}
				tree_copy(t, save, s->m);
				tree_derive(s, t, s->wb);
			}
		}
		if (!improved)
			break;
	}
	return moves;
}
