/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Solver API: parameter checks, the local working matrix, algorithm
 * dispatch, relays, stability and the result. The algorithms themselves are
 * in build.c (construction) and improve.c (local search).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "solver_priv.h"

/* Prim-Dijkstra blend factors tried by SHARED_DELAY and PER_SOURCE. */
static const double shared_c[] = { 0.0, 0.1, 0.2, 0.3, 0.4, 0.6 };
static const double source_c[] = { 1.0, 0.8, 0.6 };
/* Constructions improved by local search (the best ones by objective). */
#define SHARED_KEEP 2
/* Relay candidates tried, at most (each costs a full solve). */
#define MAX_RELAY_TRIALS 16
#define MAX_PASSES 30
/* Prim starting points tried by SHARED_MIN_COST. */
#define MIN_COST_STARTS 4

static const char *const algo_names[] = {
	[VPRN_SOLVER_STAR] = "star",
	[VPRN_SOLVER_SHARED_MIN_COST] = "shared_min_cost",
	[VPRN_SOLVER_SHARED_DELAY] = "shared_delay",
	[VPRN_SOLVER_PER_SOURCE] = "per_source",
	[VPRN_SOLVER_AUTO] = "auto",
};

const char *vprn_solver_algo_name(enum vprn_solver_algo a)
{
	if ((unsigned)a >= sizeof(algo_names) / sizeof(algo_names[0]))
		return "?";
	return algo_names[a];
}

int vprn_solver_algo_parse(const char *name)
{
	if (name == NULL)
		return -EINVAL;
	for (unsigned i = 0; i < sizeof(algo_names) / sizeof(algo_names[0]); i++)
		if (strcmp(name, algo_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void vprn_solver_params_init(struct vprn_solver_params *p)
{
	memset(p, 0, sizeof(*p));
	p->algo = VPRN_SOLVER_AUTO;
	p->default_degree = VPRN_SOLVER_DEFAULT_DEGREE;
}

/* ---- object ----------------------------------------------------------- */

#define ARR(ptr, n) ((ptr) = calloc((n), sizeof(*(ptr))), ok &= (ptr) != NULL)

static int tree_alloc(struct tree *t, uint32_t n)
{
	int ok = 1;

	ARR(t->pa, n);
	ARR(t->deg, n);
	ARR(t->head, n);
	ARR(t->next, n);
	ARR(t->order, n);
	ARR(t->tin, n);
	ARR(t->size, n);
	ARR(t->msub, n);
	ARR(t->stack, n);
	ARR(t->depth, n);
	ARR(t->sdown, n);
	ARR(t->hdown, n);
	ARR(t->up, n);
	ARR(t->dall, n);
	ARR(t->dv, n);
	return ok;
}

static void tree_free(struct tree *t)
{
	free(t->pa);
	free(t->deg);
	free(t->head);
	free(t->next);
	free(t->order);
	free(t->tin);
	free(t->size);
	free(t->msub);
	free(t->stack);
	free(t->depth);
	free(t->sdown);
	free(t->hdown);
	free(t->up);
	free(t->dall);
	free(t->dv);
}

struct vprn_solver *vprn_solver_create(uint32_t max_sites)
{
	struct vprn_solver *s;
	uint64_t n = max_sites;
	int ok = 1;

	if (max_sites == 0 || max_sites > VPRN_SOLVER_MAX_SITES)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->max = s->stride = max_sites;
	ARR(s->w, n * n);
	ARR(s->wb, n * n);
	ARR(s->g2l, n);
	ARR(s->l2g, n);
	ARR(s->bound, n);
	ARR(s->active, n);
	ARR(s->knn, n * SOLVER_KNN);
	ARR(s->cur_pa, n);
	ARR(s->key, n);
	ARR(s->kpar, n);
	ARR(s->intree, n);
	for (int i = 0; i < 5; i++)
		ok &= tree_alloc(&s->t[i], max_sites);
	if (!ok) {
		vprn_solver_free(s);
		return NULL;
	}
	return s;
}

void vprn_solver_free(struct vprn_solver *s)
{
	if (s == NULL)
		return;
	free(s->w);
	free(s->wb);
	free(s->g2l);
	free(s->l2g);
	free(s->bound);
	free(s->active);
	free(s->knn);
	free(s->cur_pa);
	free(s->key);
	free(s->kpar);
	free(s->intree);
	for (int i = 0; i < 5; i++)
		tree_free(&s->t[i]);
	free(s);
}

/* ---- parameters ------------------------------------------------------- */

static int check_params(const struct vprn_solver *s, const struct vprn_solver_params *p,
	const struct vprn_solver_result *r)
{
	uint32_t n = p->n_sites;

	if (n == 0 || n > s->max || p->delay_us == NULL || r->parent == NULL)
		return -EINVAL;
	if (p->members == NULL || p->n_members == 0 || p->n_members > n)
		return -EINVAL;
	if (r->edges == NULL && r->edges_cap > 0)
		return -EINVAL;
	if ((unsigned)p->algo > VPRN_SOLVER_AUTO || p->keep_bias_pct > 100)
		return -EINVAL;
	if (p->n_sources > 0 && p->sources == NULL)
		return -EINVAL;
	if (p->n_current > 0 && p->current == NULL)
		return -EINVAL;
	if (p->algo == VPRN_SOLVER_PER_SOURCE && p->n_sources == 0)
		return -EINVAL;
	const double wt[3] = { p->weights.w_cost, p->weights.w_avg_delay, p->weights.w_diameter };
	for (int i = 0; i < 3; i++)
		if (!isfinite(wt[i]) || wt[i] < 0)
			return -EINVAL;
	for (uint32_t i = 0; i < p->n_current; i++)
		if (p->current[i].a >= n || p->current[i].b >= n)
			return -EINVAL;
	return 0;
}

/* Map members (local 0..k-1) then relay candidates; -EINVAL on bad member. */
static int map_sites(struct vprn_solver *s, const struct vprn_solver_params *p)
{
	uint32_t n = p->n_sites, def = p->default_degree ? p->default_degree : 6;

	for (uint32_t g = 0; g < n; g++)
		s->g2l[g] = NIL;
	s->m = 0;
	for (uint32_t i = 0; i < p->n_members; i++) {
		uint32_t g = p->members[i];
		if (g >= n || s->g2l[g] != NIL)
			return -EINVAL;
		s->g2l[g] = s->m;
		s->l2g[s->m++] = g;
	}
	s->k = s->m;
	for (uint32_t i = 0; i < p->n_sources; i++)
		if (p->sources[i] >= n || s->g2l[p->sources[i]] == NIL)
			return -EINVAL;
	for (uint32_t g = 0; p->relay_ok != NULL && g < n; g++) {
		uint32_t b = p->max_degree && p->max_degree[g] ? p->max_degree[g] : def;
		if (p->relay_ok[g] && s->g2l[g] == NIL && b >= 2) {
			s->g2l[g] = s->m;
			s->l2g[s->m++] = g;
		}
	}
	for (uint32_t v = 0; v < s->m; v++) {
		uint32_t g = s->l2g[v];
		s->bound[v] = p->max_degree && p->max_degree[g] ? p->max_degree[g] : def;
	}
	return 0;
}

static int feasible(const struct vprn_solver *s)
{
	uint64_t sum = 0;

	if (s->k < 3)
		return 1;
	for (uint32_t v = 0; v < s->k; v++)
		sum += s->bound[v] < s->k - 1 ? s->bound[v] : s->k - 1;
	return sum >= 2ull * (s->k - 1);
}

static double pair_delay(const struct vprn_solver_params *p, uint32_t a, uint32_t b)
{
	uint32_t x = p->delay_us[(uint64_t)a * p->n_sites + b];
	uint32_t y = p->delay_us[(uint64_t)b * p->n_sites + a];

	if (x != VPRN_SOLVER_DELAY_UNKNOWN && y != VPRN_SOLVER_DELAY_UNKNOWN)
		return ((double)x + y) / 2;
	if (x != VPRN_SOLVER_DELAY_UNKNOWN)
		return x;
	if (y != VPRN_SOLVER_DELAY_UNKNOWN)
		return y;
	return p->missing_estimate_us;
}

static void fill_matrix(struct vprn_solver *s, const struct vprn_solver_params *p)
{
	double keep = (100.0 - p->keep_bias_pct) / 100.0;

	for (uint32_t a = 0; a < s->m; a++) {
		s->w[(uint64_t)a * s->stride + a] = 0;
		for (uint32_t b = a + 1; b < s->m; b++) {
			double d = pair_delay(p, s->l2g[a], s->l2g[b]);
			s->w[(uint64_t)a * s->stride + b] = d;
			s->w[(uint64_t)b * s->stride + a] = d;
		}
	}
	for (uint32_t a = 0; a < s->m; a++)
		memcpy(&s->wb[(uint64_t)a * s->stride], &s->w[(uint64_t)a * s->stride],
			s->m * sizeof(double));
	for (uint32_t i = 0; i < p->n_current; i++) {
		uint32_t a = s->g2l[p->current[i].a], b = s->g2l[p->current[i].b];
		if (a == NIL || b == NIL || a == b)
			continue;
		s->wb[(uint64_t)a * s->stride + b] = W(s, a, b) * keep;
		s->wb[(uint64_t)b * s->stride + a] = W(s, a, b) * keep;
	}
}

/* SOLVER_KNN nearest neighbours of each node by biased delay (ties: index). */
static void fill_knn(struct vprn_solver *s)
{
	s->n_knn = s->m - 1 < SOLVER_KNN ? s->m - 1 : SOLVER_KNN;
	for (uint32_t x = 0; x < s->m; x++) {
		uint32_t *nb = &s->knn[(uint64_t)x * SOLVER_KNN];
		uint32_t cnt = 0;
		for (uint32_t y = 0; y < s->m; y++) {
			if (y == x)
				continue;
			double d = WB(s, x, y);
			if (cnt == s->n_knn && d >= WB(s, x, nb[cnt - 1]))
				continue;
			uint32_t i = cnt < s->n_knn ? cnt++ : cnt - 1;
			while (i > 0 && WB(s, x, nb[i - 1]) > d) {
				nb[i] = nb[i - 1];
				i--;
			}
			nb[i] = y;
		}
	}
}

static struct objective make_objective(
	const struct vprn_solver *s, const struct vprn_solver_params *p, enum vprn_solver_algo algo)
{
	struct objective o = { OBJ_SHARED, p->weights.w_cost, p->weights.w_avg_delay,
		p->weights.w_diameter };
	double k1 = s->k > 1 ? s->k - 1 : 1;

	if (algo == VPRN_SOLVER_PER_SOURCE)
		o.kind = OBJ_SOURCE;
	if (o.wc > 0 || o.wa > 0 || o.wd > 0)
		return o;
	switch (algo) {
	case VPRN_SOLVER_SHARED_DELAY:
		o.wc = 1;
		o.wa = 0.045 * k1;
		o.wd = 0.01 * k1;
		break;
	case VPRN_SOLVER_PER_SOURCE:
		o.wc = 0.05 / k1;
		o.wa = 1;
		break;
	default:
		o.wc = 1;
		break;
	}
	return o;
}

/* ---- algorithms ------------------------------------------------------- */

static int run_shared(struct vprn_solver *s, const struct vprn_solver_params *p,
	const struct objective *o, uint32_t root, const double *cs, uint32_t ncs, struct tree *out)
{
	struct tree *t = &s->t[0];
	double bestj[SHARED_KEEP];
	double bestc[SHARED_KEEP];
	uint32_t nbest = 0;
	int rc;

	/* rank the constructions by objective, keep the best SHARED_KEEP */
	for (uint32_t i = 0; i < ncs; i++) {
		rc = build_prim_dijkstra(s, t, root, cs[i]);
		if (rc < 0)
			return rc;
		tree_derive(s, t, s->wb);
		double j = tree_objective(s, t, o);
		uint32_t pos = nbest < SHARED_KEEP ? nbest++ : SHARED_KEEP;
		while (pos > 0 && bestj[pos - 1] > j) {
			if (pos < SHARED_KEEP) {
				bestj[pos] = bestj[pos - 1];
				bestc[pos] = bestc[pos - 1];
			}
			pos--;
		}
		if (pos < SHARED_KEEP) {
			bestj[pos] = j;
			bestc[pos] = cs[i];
		}
	}
	double j_out = DBL_MAX;
	uint32_t tries = (p->flags & VPRN_SOLVER_F_NO_LOCAL_SEARCH) ? 1 : nbest;
	for (uint32_t i = 0; i < tries; i++) {
		rc = build_prim_dijkstra(s, t, root, bestc[i]);
		if (rc < 0)
			return rc;
		if (!(p->flags & VPRN_SOLVER_F_NO_LOCAL_SEARCH))
			improve(s, t, o, MAX_PASSES);
		tree_prune_relays(s, t);
		tree_derive(s, t, s->wb);
		double j = tree_objective(s, t, o);
		if (j < j_out) {
			j_out = j;
			tree_copy(out, t, s->m);
		}
	}
	return 0;
}

/*
 * Min-cost: degree-bounded Prim grown from several roots (the delay centre
 * and up to MIN_COST_STARTS - 1 others spread over the members), each
 * improved by local search; the cheapest wins. Tight bounds (2 or 3) make
 * the single-exchange neighbourhood small, and multiple starts are the
 * cheapest remedy. The result is re-rooted at the delay centre.
 */
static int run_min_cost(struct vprn_solver *s, const struct vprn_solver_params *p,
	const struct objective *o, uint32_t root, struct tree *out)
{
	static const double prim_c[] = { 0.0 };
	struct tree *t = &s->t[4];
	uint32_t starts = s->k < MIN_COST_STARTS ? s->k : MIN_COST_STARTS;
	double best = DBL_MAX;
	int rc;

	if (p->flags & VPRN_SOLVER_F_NO_LOCAL_SEARCH)
		starts = 1;
	for (uint32_t i = 0; i < starts; i++) {
		uint32_t r = (root + (uint64_t)i * s->k / starts) % s->k;
		if (s->k > 2 && s->bound[r] < 2)
			continue;
		rc = run_shared(s, p, o, r, prim_c, 1, t);
		if (rc < 0)
			return rc;
		tree_derive(s, t, s->wb);
		double j = tree_objective(s, t, o);
		if (j < best - 1e-9 * (1 + best)) {
			best = j;
			tree_reroot(t, root);
			tree_copy(out, t, s->m);
		}
	}
	return 0;
}

static int run_algo(struct vprn_solver *s, const struct vprn_solver_params *p,
	enum vprn_solver_algo algo, const struct objective *o, uint32_t root, struct tree *out)
{
	switch (algo) {
	case VPRN_SOLVER_STAR:
		build_star(s, out, root);
		return 0;
	case VPRN_SOLVER_SHARED_MIN_COST:
		return run_min_cost(s, p, o, root, out);
	case VPRN_SOLVER_SHARED_DELAY:
		return run_shared(
			s, p, o, root, shared_c, sizeof(shared_c) / sizeof(shared_c[0]), out);
	case VPRN_SOLVER_PER_SOURCE:
		return run_shared(
			s, p, o, root, source_c, sizeof(source_c) / sizeof(source_c[0]), out);
	default:
		return -EINVAL;
	}
}

/* Greedy relay insertion: keep a relay if the tree's objective drops. */
static int try_relays(struct vprn_solver *s, const struct vprn_solver_params *p,
	enum vprn_solver_algo algo, const struct objective *o, uint32_t root, struct tree *best)
{
	struct tree *cand = &s->t[3];
	double bj;
	int rc;

	tree_derive(s, best, s->wb);
	bj = tree_objective(s, best, o);
	for (uint32_t r = s->k, tried = 0; r < s->m && tried < MAX_RELAY_TRIALS; r++, tried++) {
		s->active[r] = 1;
		rc = run_algo(s, p, algo, o, root, cand);
		if (rc < 0)
			return rc;
		tree_derive(s, cand, s->wb);
		double j = tree_objective(s, cand, o);
		if (j < bj - 1e-9 * (1 + bj) && cand->pa[r] != NIL) {
			bj = j;
			tree_copy(best, cand, s->m);
		} else {
			s->active[r] = 0;
		}
	}
	return 0;
}

/* ---- current tree ----------------------------------------------------- */

/* Orient params.current from root into t; 0 if it spans the members. */
static int load_current(
	struct vprn_solver *s, const struct vprn_solver_params *p, struct tree *t, uint32_t root)
{
	uint32_t n_in = 1, n_edges = 0, changed = 1;

	tree_clear(t, s->m);
	t->root = root;
	t->pa[root] = root;
	while (changed) {
		changed = 0;
		for (uint32_t i = 0; i < p->n_current; i++) {
			uint32_t a = s->g2l[p->current[i].a], b = s->g2l[p->current[i].b];
			if (a == NIL || b == NIL || a == b)
				continue;
			if ((t->pa[a] == NIL) == (t->pa[b] == NIL))
				continue;
			if (t->pa[a] == NIL)
				t->pa[a] = b;
			else
				t->pa[b] = a;
			n_in++;
			changed = 1;
		}
	}
	for (uint32_t i = 0; i < p->n_current; i++) {
		uint32_t a = s->g2l[p->current[i].a], b = s->g2l[p->current[i].b];
		if (a != NIL && b != NIL && a != b && t->pa[a] != NIL)
			n_edges++;
	}
	for (uint32_t v = 0; v < s->k; v++)
		if (t->pa[v] == NIL)
			return -1;
	return n_edges == n_in - 1 ? 0 : -1; /* more edges than a tree: cycle/duplicate */
}

/*
 * The current tree, if it respects today's degree bounds, is one more
 * starting point for local search: the result is then never worse than the
 * tree in place (by the biased objective), which is what hysteresis needs.
 */
static void start_from_current(struct vprn_solver *s, const struct vprn_solver_params *p,
	const struct objective *o, struct tree *best)
{
	struct tree *t = &s->t[3];

	for (uint32_t v = 0; v < s->m; v++)
		if (t->pa[v] != NIL && t->deg[v] > s->bound[v])
			return;
	if (!(p->flags & VPRN_SOLVER_F_NO_LOCAL_SEARCH))
		improve(s, t, o, MAX_PASSES);
	tree_prune_relays(s, t);
	tree_derive(s, t, s->wb);
	double j = tree_objective(s, t, o);
	tree_derive(s, best, s->wb);
	if (j < tree_objective(s, best, o))
		tree_copy(best, t, s->m);
}

/* ---- result ----------------------------------------------------------- */

static int write_result(struct vprn_solver *s, const struct vprn_solver_params *p, struct tree *t,
	const struct objective *o, struct vprn_solver_result *r)
{
	tree_derive(s, t, s->w);
	if (t->n - 1 > r->edges_cap)
		return -ENOSPC;
	for (uint32_t g = 0; g < p->n_sites; g++)
		r->parent[g] = VPRN_SOLVER_NONE;
	r->n_edges = 0;
	r->n_relays = 0;
	r->max_degree = 0;
	r->root = s->l2g[t->root];
	for (uint32_t i = 0; i < t->n; i++) {
		uint32_t v = t->order[i];
		r->parent[s->l2g[v]] = s->l2g[t->pa[v]];
		if (t->deg[v] > r->max_degree)
			r->max_degree = t->deg[v];
		r->n_relays += v >= s->k;
		if (v == t->root)
			continue;
		r->edges[r->n_edges].a = s->l2g[t->pa[v]];
		r->edges[r->n_edges].b = s->l2g[v];
		r->n_edges++;
	}
	r->objective = tree_objective(s, t, o);
	r->cost_us = t->cost;
	if (o->kind == OBJ_SOURCE) {
		r->avg_delay_us = s->k > 1 ? t->src_sum / (s->k - 1) : 0;
		r->diameter_us = t->src_max;
	} else {
		r->avg_delay_us = s->k > 1 ? t->wiener / ((double)s->k * (s->k - 1) / 2) : 0;
		r->diameter_us = t->diameter;
	}
	r->n_kept = 0;
	for (uint32_t i = 0; i < p->n_current; i++) {
		uint32_t a = s->g2l[p->current[i].a], b = s->g2l[p->current[i].b];
		if (a == NIL || b == NIL || a == b || t->pa[a] == NIL || t->pa[b] == NIL)
			continue;
		r->n_kept += (t->pa[a] == b && a != t->root) || (t->pa[b] == a && b != t->root);
	}
	return 0;
}

int vprn_solver_solve(
	struct vprn_solver *s, const struct vprn_solver_params *p, struct vprn_solver_result *r)
{
	enum vprn_solver_algo algo;
	struct tree *best;
	struct tree *fin;
	uint32_t root;
	int rc;

	if (s == NULL || p == NULL || r == NULL)
		return -EINVAL;
	best = &s->t[1];
	fin = &s->t[0];
	rc = check_params(s, p, r);
	if (rc < 0)
		return rc;
	rc = map_sites(s, p);
	if (rc < 0)
		return rc;
	algo = p->algo;
	if (algo == VPRN_SOLVER_AUTO)
		algo = p->n_sources == 1 ? VPRN_SOLVER_PER_SOURCE : VPRN_SOLVER_SHARED_DELAY;
	if (algo != VPRN_SOLVER_STAR && !feasible(s))
		return -ERANGE;
	if (r->edges_cap < s->k - 1)
		return -ENOSPC;
	fill_matrix(s, p);
	if (algo != VPRN_SOLVER_STAR)
		fill_knn(s); /* O(m^2 KNN) worst case; the star needs no search */
	s->rng = p->seed;
	for (uint32_t v = 0; v < s->m; v++)
		s->active[v] = v < s->k;
	struct objective o = make_objective(s, p, algo);
	if (algo == VPRN_SOLVER_STAR || algo == VPRN_SOLVER_PER_SOURCE)
		root = p->n_sources ? s->g2l[p->sources[0]] : delay_centre(s);
	else
		root = delay_centre(s);

	/* t[1]: best tree; t[0] scratch of run_shared, t[2] of improve, t[3] relays */
	rc = run_algo(s, p, algo, &o, root, best);
	if (rc == 0 && algo != VPRN_SOLVER_STAR && s->m > s->k)
		rc = try_relays(s, p, algo, &o, root, best);
	if (rc < 0)
		return rc;
	r->current_objective = -1;
	if (p->n_current > 0 && load_current(s, p, &s->t[3], root) == 0) {
		tree_derive(s, &s->t[3], s->w);
		r->current_objective = tree_objective(s, &s->t[3], &o);
		if (algo != VPRN_SOLVER_STAR)
			start_from_current(s, p, &o, best);
	}
	tree_copy(fin, best, s->m);
	r->algo_used = algo;
	return write_result(s, p, fin, &o, r);
}
