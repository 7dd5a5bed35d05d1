/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-topo-eval: the VPRN paper's evaluation (figures 3 and 4) on GT-ITM
 * graphs. For each graph and seed, N sites are placed on stub routers and
 * every requested algorithm builds a tree with degree bound D; the metrics
 * (topo.h) are averaged over graphs x seeds.
 *
 *   vprn-topo-eval --graph F.alt [--graph F.alt ...] --sites N
 *                  [--seeds 1,2,3] [--algo NAME|all] [--degree 6] [--json]
 *
 * Algorithms: the solver's star, shared_min_cost, shared_delay, per_source,
 * plus two references without local search: prim (plain degree-bounded
 * Prim from the delay centre) and pd (best Prim-Dijkstra blend).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alt.h"
#include "solver.h"
#include "topo.h"

#define MAX_GRAPHS 64
#define MAX_SEEDS 64
#define MAX_FILE (64u << 20)

struct algo_def {
	const char *name;
	enum vprn_solver_algo algo;
	uint32_t flags;
};

static const struct algo_def algos[] = {
	{ "star", VPRN_SOLVER_STAR, 0 },
	{ "prim", VPRN_SOLVER_SHARED_MIN_COST, VPRN_SOLVER_F_NO_LOCAL_SEARCH },
	{ "pd", VPRN_SOLVER_SHARED_DELAY, VPRN_SOLVER_F_NO_LOCAL_SEARCH },
	{ "shared_min_cost", VPRN_SOLVER_SHARED_MIN_COST, 0 },
	{ "shared_delay", VPRN_SOLVER_SHARED_DELAY, 0 },
	{ "per_source", VPRN_SOLVER_PER_SOURCE, 0 },
};
#define N_ALGOS (sizeof(algos) / sizeof(algos[0]))

struct opts {
	const char *graphs[MAX_GRAPHS];
	uint32_t n_graphs;
	uint32_t sites;
	uint64_t seeds[MAX_SEEDS];
	uint32_t n_seeds;
	int algo; /* index into algos[], -1 for all */
	uint16_t degree;
	int json;
	/* objective weights of avg delay and diameter, in units of (N - 1) x
	 * the cost weight; negative: the solver's defaults */
	double w_avg, w_diam;
};

/* Sums over runs for one algorithm. */
struct acc {
	struct topo_metrics sum;
	uint32_t runs;
	uint64_t *hist; /* stress histogram summed over runs */
};

static void usage(FILE *f)
{
	fprintf(f, "usage: vprn-topo-eval --graph FILE.alt [--graph ...] --sites N\n"
		   "                      [--seeds 1,2,3] [--algo NAME|all] [--degree 6] [--json]\n"
		   "                      [--w-avg X] [--w-diam Y]  (weights, x (N-1) x cost)\n"
		   "algorithms:");
	for (unsigned i = 0; i < N_ALGOS; i++)
		fprintf(f, " %s", algos[i].name);
	fprintf(f, " all\n");
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || v > max || s[0] == '-')
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_seeds(char *list, struct opts *o)
{
	char *save = NULL;

	for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->n_seeds == MAX_SEEDS ||
			parse_u64(tok, UINT64_MAX, &o->seeds[o->n_seeds]) < 0)
			return -EINVAL;
		o->n_seeds++;
	}
	return o->n_seeds ? 0 : -EINVAL;
}

static int parse_algo(const char *name)
{
	if (strcmp(name, "all") == 0)
		return -1;
	for (unsigned i = 0; i < N_ALGOS; i++)
		if (strcmp(name, algos[i].name) == 0)
			return (int)i;
	return -2;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "graph", required_argument, NULL, 'g' },
		{ "sites", required_argument, NULL, 'n' },
		{ "seeds", required_argument, NULL, 's' },
		{ "algo", required_argument, NULL, 'a' },
		{ "degree", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "w-avg", required_argument, NULL, 'A' },
		{ "w-diam", required_argument, NULL, 'D' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->algo = -1;
	o->degree = 6;
	o->w_avg = o->w_diam = -1;
	while ((c = getopt_long(argc, argv, "g:n:s:a:d:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'g':
			if (o->n_graphs == MAX_GRAPHS)
				return -EINVAL;
			o->graphs[o->n_graphs++] = optarg;
			break;
		case 'n':
			if (parse_u64(optarg, VPRN_SOLVER_MAX_SITES, &v) < 0 || v < 2)
				return -EINVAL;
			o->sites = (uint32_t)v;
			break;
		case 's':
			if (parse_seeds(optarg, o) < 0)
				return -EINVAL;
			break;
		case 'a':
			o->algo = parse_algo(optarg);
			if (o->algo == -2)
				return -EINVAL;
			break;
		case 'd':
			if (parse_u64(optarg, 1000, &v) < 0 || v < 2)
				return -EINVAL;
			o->degree = (uint16_t)v;
			break;
		case 'j':
			o->json = 1;
			break;
		case 'A':
		case 'D': {
			char *end;
			double w = strtod(optarg, &end);
			if (*end || end == optarg || !(w >= 0 && w < 1e6))
				return -EINVAL;
			*(c == 'A' ? &o->w_avg : &o->w_diam) = w;
			break;
		}
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
	}
	if (optind != argc || o->n_graphs == 0 || o->sites == 0)
		return -EINVAL;
	if (o->n_seeds == 0) {
		o->seeds[0] = 1;
		o->n_seeds = 1;
	}
	return 0;
}

static struct alt_graph *load_graph(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct alt_graph *g = NULL;
	uint32_t line;
	char *buf;
	size_t len;
	int rc;

	if (f == NULL) {
		fprintf(stderr, "vprn-topo-eval: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_FILE);
	len = buf ? fread(buf, 1, MAX_FILE, f) : 0;
	fclose(f);
	if (buf == NULL || len == MAX_FILE) {
		fprintf(stderr, "vprn-topo-eval: %s: unreadable or too large\n", path);
		free(buf);
		return NULL;
	}
	rc = alt_parse(buf, len, &g, &line);
	free(buf);
	if (rc < 0)
		fprintf(stderr, "vprn-topo-eval: %s:%u: %s\n", path, line, strerror(-rc));
	return g;
}

/* CPU time of this thread: the solve time on one core, even on a busy host. */
static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void acc_add(struct acc *a, const struct topo_metrics *m, const uint32_t *hist, uint32_t n)
{
	struct topo_metrics *d = &a->sum;

	d->cost_ratio_mst += m->cost_ratio_mst;
	d->cost_once_ratio_mst += m->cost_once_ratio_mst;
	d->max_stress += m->max_stress;
	d->mean_stress += m->mean_stress;
	d->avg_delay += m->avg_delay;
	d->diameter_ratio += m->diameter_ratio;
	d->mean_stretch += m->mean_stretch;
	d->p90_stretch += m->p90_stretch;
	d->max_stretch += m->max_stretch;
	d->max_degree += m->max_degree;
	d->src_mean_stretch += m->src_mean_stretch;
	d->solve_ms += m->solve_ms;
	for (uint32_t s = 0; s <= n; s++)
		a->hist[s] += hist[s];
	a->runs++;
}

/* One graph x seed: place the sites, run every selected algorithm. */
static int run_one(const struct opts *o, const struct alt_graph *g, uint64_t seed,
	struct vprn_solver *sv, struct acc *acc)
{
	uint32_t n = o->sites, *members = calloc(n, sizeof(uint32_t));
	uint32_t *parent = calloc(n, sizeof(uint32_t)), *hist = calloc(n + 1, sizeof(uint32_t));
	struct vprn_solver_edge *edges = calloc(n, sizeof(*edges));
	struct topo t;
	int rc = -ENOMEM;

	if (!members || !parent || !hist || !edges)
		goto out;
	rc = topo_place(&t, g, n, seed);
	if (rc == -EINVAL)
		fprintf(stderr, "vprn-topo-eval: fewer stub routers than %u sites\n", n);
	if (rc < 0)
		goto out;
	for (uint32_t i = 0; i < n; i++)
		members[i] = i;
	for (unsigned a = 0; a < N_ALGOS; a++) {
		if (o->algo >= 0 && (unsigned)o->algo != a)
			continue;
		struct vprn_solver_params p;
		struct vprn_solver_result r = { .parent = parent, .edges = edges, .edges_cap = n };
		struct topo_metrics m = { .stress_hist = hist };
		uint32_t source = 0; /* site 0 is the sender of star / per_source */
		vprn_solver_params_init(&p);
		p.n_sites = n;
		p.delay_us = t.delay_us;
		p.missing_estimate_us = (uint32_t)(t.unicast_diam * 1000);
		p.members = members;
		p.n_members = n;
		p.default_degree = o->degree;
		p.algo = algos[a].algo;
		p.flags = algos[a].flags;
		p.seed = seed;
		if (o->w_avg >= 0 || o->w_diam >= 0) {
			p.weights.w_cost = 1;
			p.weights.w_avg_delay = (o->w_avg > 0 ? o->w_avg : 0) * (n - 1);
			p.weights.w_diameter = (o->w_diam > 0 ? o->w_diam : 0) * (n - 1);
		}
		if (p.algo == VPRN_SOLVER_STAR || p.algo == VPRN_SOLVER_PER_SOURCE) {
			p.sources = &source;
			p.n_sources = 1;
		}
		double t0 = now_ms();
		rc = vprn_solver_solve(sv, &p, &r);
		double t1 = now_ms();
		if (rc < 0) {
			fprintf(stderr, "vprn-topo-eval: %s: %s\n", algos[a].name, strerror(-rc));
			break;
		}
		memset(hist, 0, (n + 1) * sizeof(uint32_t));
		rc = topo_measure(&t, edges, r.n_edges, &m);
		if (rc < 0)
			break;
		m.solve_ms = t1 - t0;
		acc_add(&acc[a], &m, hist, n);
	}
	topo_fini(&t);
out:
	free(members);
	free(parent);
	free(hist);
	free(edges);
	return rc;
}

static void print_text(const struct opts *o, const struct acc *acc)
{
	printf("# vprn-topo-eval: %u graph(s) x %u seed(s), %u sites, degree <= %u\n", o->n_graphs,
		o->n_seeds, o->sites, o->degree);
	printf("%-16s %8s %9s %7s %7s %9s %7s %7s %7s %7s %5s %7s %9s\n", "algo", "cost/MST",
		"once/MST", "maxstr", "meanstr", "avgdelay", "diam_r", "str_avg", "str_p90",
		"str_max", "maxdg", "src_str", "solve_ms");
	for (unsigned a = 0; a < N_ALGOS; a++) {
		const struct acc *c = &acc[a];
		if (c->runs == 0)
			continue;
		double r = c->runs;
		const struct topo_metrics *s = &c->sum;
		printf("%-16s %8.3f %9.3f %7.2f %7.3f %9.1f %7.3f %7.3f %7.3f %7.2f %5.1f %7.3f "
		       "%9.3f\n",
			algos[a].name, s->cost_ratio_mst / r, s->cost_once_ratio_mst / r,
			s->max_stress / r, s->mean_stress / r, s->avg_delay / r,
			s->diameter_ratio / r, s->mean_stretch / r, s->p90_stretch / r,
			s->max_stretch / r, s->max_degree / r, s->src_mean_stretch / r,
			s->solve_ms / r);
	}
}

static void print_json(const struct opts *o, const struct acc *acc)
{
	int first = 1;

	printf("[\n");
	for (unsigned a = 0; a < N_ALGOS; a++) {
		const struct acc *c = &acc[a];
		if (c->runs == 0)
			continue;
		double r = c->runs;
		const struct topo_metrics *s = &c->sum;
		printf("%s  {\"algo\": \"%s\", \"sites\": %u, \"degree\": %u, \"runs\": %u, "
		       "\"cost_ratio_mst\": %.4f, \"cost_once_ratio_mst\": %.4f, "
		       "\"max_stress\": %.3f, \"mean_stress\": %.4f, \"avg_delay\": %.3f, "
		       "\"diameter_ratio\": %.4f, \"mean_stretch\": %.4f, \"p90_stretch\": %.4f, "
		       "\"max_stretch\": %.4f, \"max_degree\": %.2f, \"src_mean_stretch\": %.4f, "
		       "\"solve_ms\": %.4f, "
		       "\"stress_hist\": [",
			first ? "" : ",\n", algos[a].name, o->sites, o->degree, c->runs,
			s->cost_ratio_mst / r, s->cost_once_ratio_mst / r, s->max_stress / r,
			s->mean_stress / r, s->avg_delay / r, s->diameter_ratio / r,
			s->mean_stretch / r, s->p90_stretch / r, s->max_stretch / r,
			s->max_degree / r, s->src_mean_stretch / r, s->solve_ms / r);
		/* [stress, links with that stress per run], stress >= 1 */
		int f2 = 1;
		for (uint32_t st = 1; st <= o->sites; st++) {
			if (c->hist[st] == 0)
				continue;
			printf("%s[%u, %.3f]", f2 ? "" : ", ", st, c->hist[st] / r);
			f2 = 0;
		}
		printf("]}");
		first = 0;
	}
	printf("\n]\n");
}

int main(int argc, char **argv)
{
	struct alt_graph *graphs[MAX_GRAPHS] = { NULL };
	struct acc acc[N_ALGOS];
	struct vprn_solver *sv = NULL;
	struct opts o;
	int rc = 1;

	memset(acc, 0, sizeof(acc));
	if (parse_opts(argc, argv, &o) < 0) {
		usage(stderr);
		return 2;
	}
	for (unsigned a = 0; a < N_ALGOS; a++) {
		acc[a].hist = calloc(o.sites + 1, sizeof(uint64_t));
		if (acc[a].hist == NULL)
			goto out;
	}
	sv = vprn_solver_create(o.sites);
	if (sv == NULL)
		goto out;
	for (uint32_t i = 0; i < o.n_graphs; i++) {
		graphs[i] = load_graph(o.graphs[i]);
		if (graphs[i] == NULL)
			goto out;
	}
	for (uint32_t i = 0; i < o.n_graphs; i++) {
		for (uint32_t s = 0; s < o.n_seeds; s++) {
			/* one draw per (graph, seed): graphs do not share placements */
			uint64_t seed = o.seeds[s] * 1000003ull + i;
			if (run_one(&o, graphs[i], seed, sv, acc) < 0) {
				fprintf(stderr, "vprn-topo-eval: %s seed %llu failed\n",
					o.graphs[i], (unsigned long long)o.seeds[s]);
				goto out;
			}
		}
	}
	if (o.json)
		print_json(&o, acc);
	else
		print_text(&o, acc);
	rc = 0;
out:
	for (uint32_t i = 0; i < o.n_graphs; i++)
		alt_free(graphs[i]);
	for (unsigned a = 0; a < N_ALGOS; a++)
		free(acc[a].hist);
	vprn_solver_free(sv);
	return rc;
}
