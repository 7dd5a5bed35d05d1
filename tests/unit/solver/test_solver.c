/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Solver properties on random instances, brute-force optimum on small ones,
 * determinism, stability, relays and every error path.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "solver.h"

#define MAXN 96

struct inst {
	uint32_t n;
	uint32_t d[MAXN * MAXN];
	uint32_t members[MAXN];
	uint32_t k;
	uint16_t bound[MAXN];
	uint8_t relay[MAXN];
	uint32_t src;
};

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Points in a square (a metric) with up to 20% noise: like measured RTTs. */
static void make_inst(struct inst *in, uint32_t n, uint32_t k, uint64_t seed, int noisy)
{
	double x[MAXN], y[MAXN];
	uint64_t s = seed * 2654435761u + 1;

	memset(in, 0, sizeof(*in));
	in->n = n;
	in->k = k;
	for (uint32_t i = 0; i < n; i++) {
		x[i] = rnd(&s) % 10000;
		y[i] = rnd(&s) % 10000;
	}
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < n; j++) {
			double d = hypot(x[i] - x[j], y[i] - y[j]) + 10;
			if (noisy)
				d *= 1.0 + (rnd(&s) % 200) / 1000.0;
			in->d[i * n + j] = i == j ? 0 : (uint32_t)d;
		}
	/* members: a random subset, in random order */
	uint32_t perm[MAXN];
	for (uint32_t i = 0; i < n; i++)
		perm[i] = i;
	for (uint32_t i = n - 1; i > 0; i--) {
		uint32_t j = rnd(&s) % (i + 1);
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	memcpy(in->members, perm, k * sizeof(uint32_t));
	in->src = in->members[rnd(&s) % k];
}

static void params_of(const struct inst *in, struct vprn_solver_params *p, enum vprn_solver_algo a)
{
	vprn_solver_params_init(p);
	p->n_sites = in->n;
	p->delay_us = in->d;
	p->missing_estimate_us = 100000;
	p->members = in->members;
	p->n_members = in->k;
	p->max_degree = in->bound;
	p->relay_ok = in->relay;
	p->sources = &in->src;
	p->n_sources = 1;
	p->algo = a;
	p->seed = 7;
}

struct out {
	uint32_t parent[MAXN];
	struct vprn_solver_edge edges[MAXN];
	struct vprn_solver_result r;
};

static int solve(struct vprn_solver *s, const struct vprn_solver_params *p, struct out *o)
{
	memset(o, 0, sizeof(*o));
	o->r.parent = o->parent;
	o->r.edges = o->edges;
	o->r.edges_cap = MAXN;
	return vprn_solver_solve(s, p, &o->r);
}

static uint32_t bound_of(const struct vprn_solver_params *p, uint32_t g)
{
	if (p->max_degree && p->max_degree[g])
		return p->max_degree[g];
	return p->default_degree ? p->default_degree : 6;
}

static int is_member(const struct vprn_solver_params *p, uint32_t g)
{
	for (uint32_t i = 0; i < p->n_members; i++)
		if (p->members[i] == g)
			return 1;
	return 0;
}

static double dly(const struct vprn_solver_params *p, uint32_t a, uint32_t b)
{
	return ((double)p->delay_us[a * p->n_sites + b] + p->delay_us[b * p->n_sites + a]) / 2;
}

/* Tree delays between all nodes of the result, by walking the edge list. */
static void tree_dist(const struct vprn_solver_params *p, const struct out *o, double *td)
{
	uint32_t n = p->n_sites;

	for (uint32_t i = 0; i < n * n; i++)
		td[i] = -1;
	for (uint32_t s = 0; s < n; s++) {
		if (o->parent[s] == VPRN_SOLVER_NONE)
			continue;
		uint32_t stack[MAXN], sp = 0;
		td[s * n + s] = 0;
		stack[sp++] = s;
		while (sp) {
			uint32_t x = stack[--sp];
			for (uint32_t e = 0; e < o->r.n_edges; e++) {
				uint32_t a = o->edges[e].a, b = o->edges[e].b, y;
				if (a == x)
					y = b;
				else if (b == x)
					y = a;
				else
					continue;
				if (td[s * n + y] >= 0)
					continue;
				td[s * n + y] = td[s * n + x] + dly(p, x, y);
				stack[sp++] = y;
			}
		}
	}
}

/* Every structural property the header promises. */
static void check_tree(const struct vprn_solver_params *p, const struct out *o)
{
	uint32_t n = p->n_sites, deg[MAXN] = { 0 }, in_tree = 0;
	static double td[MAXN * MAXN];
	double cost = 0;

	assert_int_equal(o->parent[o->r.root], o->r.root);
	for (uint32_t e = 0; e < o->r.n_edges; e++) {
		uint32_t a = o->edges[e].a, b = o->edges[e].b;
		assert_true(a < n && b < n && a != b);
		assert_int_equal(o->parent[b], a);
		deg[a]++;
		deg[b]++;
		cost += dly(p, a, b);
	}
	for (uint32_t g = 0; g < n; g++) {
		if (o->parent[g] == VPRN_SOLVER_NONE) {
			assert_false(is_member(p, g));
			continue;
		}
		in_tree++;
		/* acyclic: the root is reached within n steps */
		uint32_t x = g, steps = 0;
		while (x != o->r.root && steps <= n) {
			x = o->parent[x];
			steps++;
		}
		assert_int_equal(x, o->r.root);
		if (p->algo != VPRN_SOLVER_STAR || g != o->r.root)
			assert_true(deg[g] <= bound_of(p, g));
		if (!is_member(p, g)) {
			assert_true(p->relay_ok && p->relay_ok[g]);
			assert_true(deg[g] >= 2);
		}
	}
	assert_int_equal(o->r.n_edges, in_tree - 1);
	assert_true(fabs(cost - o->r.cost_us) < 1e-6 * (1 + cost));
	/* avg delay and diameter as documented, recomputed by brute force */
	tree_dist(p, o, td);
	double sum = 0, diam = 0, pairs = 0;
	int src = o->r.algo_used == VPRN_SOLVER_PER_SOURCE;
	for (uint32_t i = 0; i < p->n_members; i++) {
		for (uint32_t j = 0; j < p->n_members; j++) {
			uint32_t a = p->members[i], b = p->members[j];
			double d = td[a * n + b];
			assert_true(d >= 0);
			if (src ? (a != o->r.root || b == a) : j <= i)
				continue;
			sum += d;
			pairs++;
			diam = d > diam ? d : diam;
		}
	}
	if (src)
		assert_int_equal(o->r.root, p->sources[0]);
	if (pairs > 0) {
		assert_true(fabs(sum / pairs - o->r.avg_delay_us) < 1e-6 * (1 + sum));
		assert_true(fabs(diam - o->r.diameter_us) < 1e-6 * (1 + diam));
	}
}

static void test_properties_random(void **state)
{
	static struct inst in;
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(MAXN);
	const enum vprn_solver_algo algos[] = { VPRN_SOLVER_STAR, VPRN_SOLVER_SHARED_MIN_COST,
		VPRN_SOLVER_SHARED_DELAY, VPRN_SOLVER_PER_SOURCE, VPRN_SOLVER_AUTO };
	(void)state;

	assert_non_null(s);
	for (uint64_t seed = 1; seed <= 40; seed++) {
		uint32_t n = 2 + seed * 7 % (MAXN - 2);
		uint32_t k = 1 + seed * 13 % n;
		make_inst(&in, n, k, seed, seed & 1);
		uint64_t r = seed;
		for (uint32_t i = 0; i < n; i++) {
			/* bounds 1..6, a few leaf-only sites; relays on some */
			in.bound[i] = 1 + rnd(&r) % 6;
			if (in.bound[i] == 1 && rnd(&r) % 2)
				in.bound[i] = 2;
			in.relay[i] = seed % 3 == 0 && rnd(&r) % 8 == 0;
		}
		for (unsigned a = 0; a < sizeof(algos) / sizeof(algos[0]); a++) {
			struct vprn_solver_params p;
			params_of(&in, &p, algos[a]);
			int rc = solve(s, &p, &o);
			if (rc == -ERANGE) {
				/* only when the sum rule says so */
				uint64_t sum = 0;
				for (uint32_t i = 0; i < k; i++)
					sum += in.bound[in.members[i]] < k - 1
						       ? in.bound[in.members[i]]
						       : k - 1;
				assert_true(k >= 3 && sum < 2ull * (k - 1));
				continue;
			}
			assert_int_equal(rc, 0);
			p.algo = o.r.algo_used;
			check_tree(&p, &o);
		}
	}
	vprn_solver_free(s);
}

/* ---- brute force over all labelled trees (Pruefer sequences) ---------- */

static double brute_min_cost(const struct vprn_solver_params *p, const uint16_t *bound)
{
	uint32_t k = p->n_members, seq[8] = { 0 }, total = 1;
	double best = INFINITY;

	if (k == 2)
		return dly(p, p->members[0], p->members[1]);
	for (uint32_t i = 0; i < k - 2; i++)
		total *= k;
	for (uint32_t c = 0; c < total; c++) {
		uint32_t x = c, deg[8];
		for (uint32_t i = 0; i < k - 2; i++) {
			seq[i] = x % k;
			x /= k;
		}
		for (uint32_t i = 0; i < k; i++)
			deg[i] = 1;
		for (uint32_t i = 0; i < k - 2; i++)
			deg[seq[i]]++;
		int ok = 1;
		for (uint32_t i = 0; i < k; i++)
			ok &= deg[i] <= bound[p->members[i]];
		if (!ok)
			continue;
		double cost = 0;
		for (uint32_t i = 0; i < k - 2; i++) {
			uint32_t leaf = 0;
			while (deg[leaf] != 1)
				leaf++;
			cost += dly(p, p->members[leaf], p->members[seq[i]]);
			deg[leaf]--;
			deg[seq[i]]--;
		}
		uint32_t u = k, v = k;
		for (uint32_t i = 0; i < k; i++)
			if (deg[i] == 1)
				u == k ? (u = i) : (v = i);
		cost += dly(p, p->members[u], p->members[v]);
		if (cost < best)
			best = cost;
	}
	return best;
}

static void test_brute_force_small(void **state)
{
	static struct inst in;
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(16);
	uint32_t optimal = 0, total = 0;
	double worst = 1;
	(void)state;

	for (uint64_t seed = 1; seed <= 60; seed++) {
		uint32_t k = 3 + seed % 6; /* 3..8 */
		make_inst(&in, k, k, seed + 1000, seed & 1);
		for (uint32_t i = 0; i < k; i++)
			in.bound[i] = seed % 3 == 0 ? 2 : 2 + (seed + i) % 2; /* tight */
		struct vprn_solver_params p;
		params_of(&in, &p, VPRN_SOLVER_SHARED_MIN_COST);
		p.relay_ok = NULL;
		assert_int_equal(solve(s, &p, &o), 0);
		check_tree(&p, &o);
		double opt = brute_min_cost(&p, in.bound);
		assert_true(o.r.cost_us >= opt - 1e-6);
		double ratio = o.r.cost_us / opt;
		worst = ratio > worst ? ratio : worst;
		optimal += ratio < 1 + 1e-9;
		total++;
	}
	print_message("brute force: %u/%u optimal, worst ratio %.4f\n", optimal, total, worst);
	/* local search is a heuristic: near-optimal always, optimal mostly */
	assert_true(worst <= 1.05);
	assert_true(optimal * 10 >= total * 8);
	vprn_solver_free(s);
}

static void test_unbounded_matches_mst(void **state)
{
	/* with no effective degree bound, SHARED_MIN_COST must find the MST */
	static struct inst in;
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(MAXN);
	(void)state;

	make_inst(&in, 40, 40, 99, 1);
	for (uint32_t i = 0; i < in.n; i++)
		in.bound[i] = 100;
	struct vprn_solver_params p;
	params_of(&in, &p, VPRN_SOLVER_SHARED_MIN_COST);
	assert_int_equal(solve(s, &p, &o), 0);
	/* Prim by hand */
	double key[MAXN], mst = 0;
	int done[MAXN] = { 0 };
	for (uint32_t i = 0; i < in.n; i++)
		key[i] = INFINITY;
	key[0] = 0;
	for (uint32_t it = 0; it < in.n; it++) {
		uint32_t b = in.n;
		for (uint32_t i = 0; i < in.n; i++)
			if (!done[i] && (b == in.n || key[i] < key[b]))
				b = i;
		done[b] = 1;
		mst += key[b];
		for (uint32_t i = 0; i < in.n; i++)
			if (!done[i] && dly(&p, b, i) < key[i])
				key[i] = dly(&p, b, i);
	}
	assert_true(fabs(o.r.cost_us - mst) < 1e-6);
	vprn_solver_free(s);
}

static void test_determinism(void **state)
{
	static struct inst in;
	static struct out a, b;
	struct vprn_solver *s1 = vprn_solver_create(MAXN), *s2 = vprn_solver_create(MAXN);
	(void)state;

	make_inst(&in, 80, 70, 5, 1);
	for (uint32_t i = 0; i < in.n; i++)
		in.bound[i] = 3 + i % 3;
	for (int algo = 0; algo <= VPRN_SOLVER_AUTO; algo++) {
		struct vprn_solver_params p;
		params_of(&in, &p, algo);
		assert_int_equal(solve(s1, &p, &a), 0);
		assert_int_equal(solve(s1, &p, &b), 0); /* same object, reused */
		assert_memory_equal(a.parent, b.parent, sizeof(a.parent));
		assert_int_equal(solve(s2, &p, &b), 0); /* another object */
		assert_memory_equal(a.parent, b.parent, sizeof(a.parent));
		assert_memory_equal(a.edges, b.edges, a.r.n_edges * sizeof(a.edges[0]));
		assert_true(a.r.objective == b.r.objective);
	}
	vprn_solver_free(s1);
	vprn_solver_free(s2);
}

static void test_impossible_bounds(void **state)
{
	static struct inst in;
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(MAXN);
	const struct {
		uint32_t k;
		uint16_t b[6];
		int rc;
	} rows[] = {
		{ 3, { 1, 1, 1 }, -ERANGE },
		{ 2, { 1, 1 }, 0 },
		{ 5, { 1, 1, 1, 1, 2 }, -ERANGE },
		{ 5, { 1, 1, 1, 2, 3 }, 0 }, /* exactly enough: 2 * 4 = 8 */
		{ 5, { 1, 1, 1, 1, 4 }, 0 }, /* a star */
		{ 6, { 1, 1, 1, 1, 1, 9 }, 0 },
		{ 6, { 2, 2, 2, 2, 2, 2 }, 0 }, /* a path */
		{ 6, { 1, 1, 1, 1, 2, 2 }, -ERANGE },
	};
	(void)state;

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (int algo = VPRN_SOLVER_SHARED_MIN_COST; algo <= VPRN_SOLVER_PER_SOURCE;
			algo++) {
			make_inst(&in, rows[i].k, rows[i].k, 300 + i, 1);
			memcpy(in.bound, rows[i].b, sizeof(rows[i].b));
			struct vprn_solver_params p;
			params_of(&in, &p, algo);
			memset(o.parent, 0xab, sizeof(o.parent));
			assert_int_equal(solve(s, &p, &o), rows[i].rc);
			if (rows[i].rc == 0)
				check_tree(&p, &o);
		}
	}
	vprn_solver_free(s);
}

static void test_errors(void **state)
{
	static struct inst in;
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(16);
	struct vprn_solver_params p;
	(void)state;

	assert_null(vprn_solver_create(0));
	assert_null(vprn_solver_create(VPRN_SOLVER_MAX_SITES + 1));
	make_inst(&in, 10, 6, 1, 0);
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	assert_int_equal(solve(s, &p, &o), 0);
	assert_int_equal(vprn_solver_solve(NULL, &p, &o.r), -EINVAL);
	assert_int_equal(vprn_solver_solve(s, NULL, &o.r), -EINVAL);

	in.members[1] = in.members[0]; /* duplicate */
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	make_inst(&in, 10, 6, 1, 0);
	in.members[2] = 10; /* out of range */
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	make_inst(&in, 10, 6, 1, 0);
	in.src = in.members[0] == 9 ? 8 : 9; /* maybe a member: find a non-member */
	for (uint32_t g = 0; g < 10; g++)
		if (!is_member(&p, g))
			in.src = g;
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	in.src = in.members[0];
	p.n_sources = 0;
	p.algo = VPRN_SOLVER_PER_SOURCE;
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	p.algo = 77;
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	p.weights.w_cost = -1;
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	p.keep_bias_pct = 101;
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	p.n_members = 0;
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	p.n_sites = 17; /* above the object's max */
	assert_int_equal(solve(s, &p, &o), -EINVAL);
	/* output too small */
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	memset(&o, 0, sizeof(o));
	o.r.parent = o.parent;
	o.r.edges = o.edges;
	o.r.edges_cap = 4; /* 6 members need 5 */
	assert_int_equal(vprn_solver_solve(s, &p, &o.r), -ENOSPC);
	o.r.edges_cap = 5;
	assert_int_equal(vprn_solver_solve(s, &p, &o.r), 0);
	/* one member: a one-node tree */
	p.n_members = 1;
	p.sources = &in.members[0];
	assert_int_equal(solve(s, &p, &o), 0);
	assert_int_equal(o.r.n_edges, 0);
	assert_int_equal(o.parent[in.members[0]], in.members[0]);

	assert_string_equal(vprn_solver_algo_name(VPRN_SOLVER_PER_SOURCE), "per_source");
	assert_int_equal(vprn_solver_algo_parse("shared_delay"), VPRN_SOLVER_SHARED_DELAY);
	assert_int_equal(vprn_solver_algo_parse("nope"), -EINVAL);
	assert_string_equal(vprn_solver_algo_name(99), "?");
	vprn_solver_free(s);
}

static void test_missing_and_asymmetric(void **state)
{
	/* a--b unknown both ways (estimate huge), b->c known one way only */
	uint32_t d[9] = {
		0,
		VPRN_SOLVER_DELAY_UNKNOWN,
		300,
		VPRN_SOLVER_DELAY_UNKNOWN,
		0,
		100,
		100,
		VPRN_SOLVER_DELAY_UNKNOWN,
		0,
	};
	uint32_t mem[3] = { 0, 1, 2 };
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(3);
	struct vprn_solver_params p;
	(void)state;

	vprn_solver_params_init(&p);
	p.n_sites = 3;
	p.delay_us = d;
	p.members = mem;
	p.n_members = 3;
	p.algo = VPRN_SOLVER_SHARED_MIN_COST;
	p.missing_estimate_us = 1000000;
	assert_int_equal(solve(s, &p, &o), 0);
	/* edges a-c (mean of 300 and 100 = 200) and b-c (100, one way) */
	assert_true(o.r.cost_us == 300);
	assert_int_equal(o.r.n_edges, 2);
	/* with a small estimate, a-b (50) replaces a-c */
	p.missing_estimate_us = 50;
	assert_int_equal(solve(s, &p, &o), 0);
	assert_true(o.r.cost_us == 150);
	vprn_solver_free(s);
}

static void test_stability(void **state)
{
	static struct inst in, in2;
	static struct out a, b;
	struct vprn_solver *s = vprn_solver_create(MAXN);
	struct vprn_solver_params p;
	(void)state;

	make_inst(&in, 60, 60, 11, 1);
	for (uint32_t i = 0; i < in.n; i++)
		in.bound[i] = 4;
	params_of(&in, &p, VPRN_SOLVER_SHARED_DELAY);
	assert_int_equal(solve(s, &p, &a), 0);
	assert_true(a.r.current_objective == -1);
	/* new measurements: a different noisy matrix over the same sites */
	in2 = in;
	make_inst(&in2, 60, 60, 11, 0);
	memcpy(in2.members, in.members, sizeof(in.members));
	memcpy(in2.bound, in.bound, sizeof(in.bound));
	params_of(&in2, &p, VPRN_SOLVER_SHARED_DELAY);
	p.current = a.edges;
	p.n_current = a.r.n_edges;
	assert_int_equal(solve(s, &p, &b), 0);
	check_tree(&p, &b);
	/* the old tree is evaluated on the new matrix; new one is no worse */
	assert_true(b.r.current_objective > 0);
	assert_true(b.r.objective <= b.r.current_objective * 1.0001);
	uint32_t kept_free = b.r.n_kept;
	/* full bias: every old edge is kept (the degree bounds still hold) */
	p.keep_bias_pct = 100;
	assert_int_equal(solve(s, &p, &b), 0);
	check_tree(&p, &b);
	assert_int_equal(b.r.n_kept, a.r.n_edges);
	assert_true(b.r.n_kept >= kept_free);
	assert_true(fabs(b.r.objective - b.r.current_objective) < 1e-6 * b.r.objective);
	/* a current tree that does not span the members: objective -1 */
	p.n_current = a.r.n_edges - 3;
	assert_int_equal(solve(s, &p, &b), 0);
	assert_true(b.r.current_objective == -1);
	vprn_solver_free(s);
}

static void test_relays(void **state)
{
	/* 6 members 100 apart from each other, relay 7 is 30 from each */
	uint32_t d[8 * 8], mem[6] = { 0, 1, 2, 3, 4, 5 };
	uint8_t relay[8] = { 0, 0, 0, 0, 0, 0, 1, 1 };
	static struct out o;
	struct vprn_solver *s = vprn_solver_create(8);
	struct vprn_solver_params p;
	(void)state;

	for (uint32_t i = 0; i < 8; i++)
		for (uint32_t j = 0; j < 8; j++)
			d[i * 8 + j] = i == j		    ? 0
				       : (i == 7 || j == 7) ? 30
				       : (i == 6 || j == 6) ? 500
							    : 100;
	for (int algo = VPRN_SOLVER_SHARED_MIN_COST; algo <= VPRN_SOLVER_PER_SOURCE; algo++) {
		vprn_solver_params_init(&p);
		p.n_sites = 8;
		p.delay_us = d;
		p.members = mem;
		p.n_members = 6;
		p.sources = mem;
		p.n_sources = 1;
		p.algo = algo;
		assert_int_equal(solve(s, &p, &o), 0);
		double without = o.r.objective;
		assert_int_equal(o.r.n_relays, 0);
		p.relay_ok = relay;
		assert_int_equal(solve(s, &p, &o), 0);
		check_tree(&p, &o);
		/* the good relay is used, the far one is not */
		assert_int_equal(o.r.n_relays, 1);
		assert_true(o.parent[7] != VPRN_SOLVER_NONE);
		assert_true(o.parent[6] == VPRN_SOLVER_NONE);
		assert_true(o.r.objective < without);
	}
	vprn_solver_free(s);
}

static void test_relays_only_when_they_help(void **state)
{
	static struct inst in;
	static struct out a, b;
	struct vprn_solver *s = vprn_solver_create(MAXN);
	(void)state;

	for (uint64_t seed = 1; seed <= 10; seed++) {
		make_inst(&in, 50, 35, seed + 500, 1);
		for (uint32_t i = 0; i < in.n; i++) {
			in.bound[i] = 3;
			in.relay[i] = 1;
		}
		for (int algo = VPRN_SOLVER_SHARED_MIN_COST; algo <= VPRN_SOLVER_PER_SOURCE;
			algo++) {
			struct vprn_solver_params p;
			params_of(&in, &p, algo);
			p.relay_ok = NULL;
			assert_int_equal(solve(s, &p, &a), 0);
			p.relay_ok = in.relay;
			assert_int_equal(solve(s, &p, &b), 0);
			check_tree(&p, &b);
			/* relays (degree >= 2, checked above) never make it worse */
			assert_true(b.r.objective <= a.r.objective * (1 + 1e-9));
		}
	}
	vprn_solver_free(s);
}

static void test_per_source(void **state)
{
	static struct inst in;
	static struct out o, star, mc;
	struct vprn_solver *s = vprn_solver_create(MAXN);
	struct vprn_solver_params p;
	(void)state;

	/* metric, unbounded: the direct edges are the shortest paths */
	make_inst(&in, 50, 50, 21, 0);
	for (uint32_t i = 0; i < in.n; i++)
		in.bound[i] = 200;
	params_of(&in, &p, VPRN_SOLVER_PER_SOURCE);
	assert_int_equal(solve(s, &p, &o), 0);
	p.algo = VPRN_SOLVER_STAR;
	assert_int_equal(solve(s, &p, &star), 0);
	assert_int_equal(star.r.root, in.src);
	assert_true(o.r.avg_delay_us <= star.r.avg_delay_us * 1.0001);
	/* bounded: far better source delays than the min-cost tree */
	for (uint32_t i = 0; i < in.n; i++)
		in.bound[i] = 4;
	params_of(&in, &p, VPRN_SOLVER_PER_SOURCE);
	assert_int_equal(solve(s, &p, &o), 0);
	check_tree(&p, &o);
	assert_int_equal(o.r.root, in.src);
	params_of(&in, &p, VPRN_SOLVER_SHARED_MIN_COST);
	assert_int_equal(solve(s, &p, &mc), 0);
	/* source delays of the min-cost tree, from the tree distances */
	static double td[MAXN * MAXN];
	double sum = 0;
	tree_dist(&p, &mc, td);
	for (uint32_t i = 0; i < in.k; i++)
		sum += td[in.src * in.n + in.members[i]];
	assert_true(o.r.avg_delay_us < sum / (in.k - 1));
	assert_true(o.r.avg_delay_us < o.r.diameter_us);
	/* AUTO with one source is PER_SOURCE, with two SHARED_DELAY */
	params_of(&in, &p, VPRN_SOLVER_AUTO);
	assert_int_equal(solve(s, &p, &o), 0);
	assert_int_equal(o.r.algo_used, VPRN_SOLVER_PER_SOURCE);
	p.sources = in.members;
	p.n_sources = 2;
	assert_int_equal(solve(s, &p, &o), 0);
	assert_int_equal(o.r.algo_used, VPRN_SOLVER_SHARED_DELAY);
	vprn_solver_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_properties_random),
		cmocka_unit_test(test_brute_force_small),
		cmocka_unit_test(test_unbounded_matches_mst),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_impossible_bounds),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_missing_and_asymmetric),
		cmocka_unit_test(test_stability),
		cmocka_unit_test(test_relays),
		cmocka_unit_test(test_relays_only_when_they_help),
		cmocka_unit_test(test_per_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
