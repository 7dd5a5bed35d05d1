/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_SOLVER_H
#define VPRN_VNOC_SOLVER_H

/**
 * @file
 * Overlay tree solver: degree-bounded distribution trees over VPRN sites.
 *
 * Pure C: no I/O, no globals, no logging; the only side effects are on the
 * solver object and on the caller's result buffers. One solver object must
 * not be used by two threads at once; distinct objects are independent.
 * Results are deterministic for given parameters (including the seed).
 *
 * Sites are identified by their index into a square delay matrix of
 * n_sites x n_sites entries (row-major, one-way delay in MICROSECONDS,
 * uint32). The matrix may hold sites that are not members of the group:
 * only the listed members must be spanned; sites whose relay flag is set may
 * be added as relays (Steiner points) when that improves the objective.
 *
 * Usage:
 *   struct vprn_solver *s = vprn_solver_create(max_sites);
 *   struct vprn_solver_params p;
 *   vprn_solver_params_init(&p);
 *   p.n_sites = n; p.delay_us = m; p.members = mem; p.n_members = k;
 *   p.algo = VPRN_SOLVER_AUTO; p.sources = &src; p.n_sources = 1;
 *   uint32_t parent[n];  struct vprn_solver_edge edges[n];
 *   struct vprn_solver_result r = { .parent = parent, .edges = edges, .edges_cap = n };
 *   int rc = vprn_solver_solve(s, &p, &r);   // 0 or -errno
 *   vprn_solver_free(s);
 *
 * The algorithms and their trade-offs are described in docs/solver.md.
 */

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Marker of a missing (unmeasured or stale) matrix entry. */
#define VPRN_SOLVER_DELAY_UNKNOWN UINT32_MAX
/** parent[] value of a site that is not in the tree. */
#define VPRN_SOLVER_NONE UINT32_MAX
/** Degree bound used when params.default_degree is 0. */
#define VPRN_SOLVER_DEFAULT_DEGREE 6
/** Largest n_sites a solver object accepts. */
#define VPRN_SOLVER_MAX_SITES 1024

/** Tree construction algorithm. */
enum vprn_solver_algo {
	/**
	 * Multi-unicast baseline: every member is a child of the root (the first
	 * source, else the delay centre). The ROOT's degree bound is ignored (it
	 * sends n-1 unicast copies by definition); every other site has degree 1.
	 */
	VPRN_SOLVER_STAR = 0,
	/** Degree-bounded minimum-cost shared tree: Prim, then edge exchange. */
	VPRN_SOLVER_SHARED_MIN_COST = 1,
	/**
	 * Delay-aware degree-bounded shared tree: Prim-Dijkstra blends rooted at
	 * the delay centre, then local search on the weighted objective
	 * (cost, average delay, diameter).
	 */
	VPRN_SOLVER_SHARED_DELAY = 2,
	/**
	 * Degree-bounded tree rooted at sources[0] minimising the
	 * source-to-receiver delays. Needs n_sources >= 1 (only sources[0] is
	 * used; solve once per source for one tree per source).
	 */
	VPRN_SOLVER_PER_SOURCE = 3,
	/** PER_SOURCE when n_sources == 1, SHARED_DELAY otherwise. */
	VPRN_SOLVER_AUTO = 4,
};

/** Flags for vprn_solver_params.flags. */
enum vprn_solver_flags {
	/** Skip local search (plain Prim / Prim-Dijkstra); for evaluation. */
	VPRN_SOLVER_F_NO_LOCAL_SEARCH = 1u << 0,
};

/** An undirected tree edge, as two matrix indices. */
struct vprn_solver_edge {
	uint32_t a;
	uint32_t b;
};

/**
 * Objective: J = w_cost * cost + w_avg_delay * avg_delay + w_diameter * diameter,
 * all three in microseconds, where cost = sum of the tree edges' delays,
 * avg_delay = mean tree delay over member pairs (PER_SOURCE: from the source
 * to each member), diameter = largest tree delay between two members
 * (PER_SOURCE: from the source). Lower is better. If all three weights are
 * 0, the algorithm's defaults are used (documented in docs/solver.md):
 * cost only for SHARED_MIN_COST and STAR, avg delay for PER_SOURCE, and a
 * blend for SHARED_DELAY.
 */
struct vprn_solver_weights {
	double w_cost;
	double w_avg_delay;
	double w_diameter;
};

/** Solve parameters; start from vprn_solver_params_init(). */
struct vprn_solver_params {
	/** Matrix dimension: number of known sites (members and relays). */
	uint32_t n_sites;
	/**
	 * n_sites * n_sites one-way delays in microseconds, row-major
	 * (delay_us[i * n_sites + j] = i to j). The diagonal is ignored. An
	 * asymmetric pair is used as the mean of both directions. Entries equal
	 * to VPRN_SOLVER_DELAY_UNKNOWN use the other direction if known, else
	 * missing_estimate_us.
	 */
	const uint32_t *delay_us;
	/** Delay used for a pair unknown in both directions (microseconds). */
	uint32_t missing_estimate_us;

	/** Member sites to span (matrix indices, distinct). */
	const uint32_t *members;
	uint32_t n_members;

	/** Sources of the group (matrix indices, each must be a member). */
	const uint32_t *sources;
	uint32_t n_sources;

	/**
	 * Per-site degree bound (n_sites entries) or NULL. An entry of 0 means
	 * default_degree. A bound of 1 makes the site a leaf.
	 */
	const uint16_t *max_degree;
	/** Degree bound of sites without an entry; 0 means 6. */
	uint16_t default_degree;

	/**
	 * Per-site flag (n_sites entries) or NULL: non-zero lets a NON-member
	 * site relay traffic (Steiner point). Relays are added only when they
	 * lower the objective; a relay in the result has degree >= 2.
	 */
	const uint8_t *relay_ok;

	enum vprn_solver_algo algo;
	struct vprn_solver_weights weights;
	uint32_t flags; /**< enum vprn_solver_flags */
	/** Seed for the randomised parts of local search (determinism). */
	uint64_t seed;

	/**
	 * Current tree for stability (hysteresis), or NULL / 0 edges. Edges
	 * whose ends are no longer members or allowed relays are ignored.
	 * keep_bias_pct (0..100) discounts the delay of current edges by that
	 * percentage while building the new tree, so that it keeps as many of
	 * them as the objective allows (100: keep every edge the degree bounds
	 * permit). The reported objectives always use the true delays.
	 */
	const struct vprn_solver_edge *current;
	uint32_t n_current;
	uint32_t keep_bias_pct;
};

/**
 * Result. The caller provides the arrays; the solver fills them.
 * parent: n_sites entries. parent[root] == root, parent[x] == VPRN_SOLVER_NONE
 *         for sites outside the tree, else the neighbour of x towards root.
 * edges:  capacity edges_cap (n_sites - 1 always suffices); each tree edge
 *         once, as (parent, child), in preorder from the root (an edge to a
 *         site comes before the edges to its children).
 */
struct vprn_solver_result {
	uint32_t *parent;
	struct vprn_solver_edge *edges;
	uint32_t edges_cap;

	/* Filled by vprn_solver_solve(): */
	uint32_t n_edges;
	uint32_t root;			 /**< source for STAR/PER_SOURCE, else delay centre */
	enum vprn_solver_algo algo_used; /**< resolved AUTO */
	uint32_t n_relays;		 /**< relay (non-member) sites in the tree */
	uint32_t max_degree;		 /**< largest degree in the tree */
	double objective;		 /**< J of the new tree */
	/** J of params.current with the same weights; -1 if none or not a
	 *  spanning tree of the members. */
	double current_objective;
	uint32_t n_kept;     /**< edges of params.current kept in the new tree */
	double cost_us;	     /**< sum of tree edge delays */
	double avg_delay_us; /**< as in the objective */
	double diameter_us;  /**< as in the objective */
};

/** Fill p with defaults (all zero, algo AUTO, degree 6). */
void vprn_solver_params_init(struct vprn_solver_params *p);

/**
 * Create a solver able to handle up to max_sites matrix sites
 * (1..VPRN_SOLVER_MAX_SITES). Allocates its workspace once.
 * @return the solver, or NULL (bad max_sites or out of memory).
 */
struct vprn_solver *vprn_solver_create(uint32_t max_sites);

/** Free a solver (NULL is fine). */
void vprn_solver_free(struct vprn_solver *s);

/**
 * Build a tree.
 * @return 0 on success, or
 *   -EINVAL  bad parameters (NULL pointers, index out of range, duplicate
 *            member, source not a member, n_members == 0, n_sites above the
 *            solver's max_sites, unknown algo, PER_SOURCE without a source);
 *   -ENOSPC  result.edges_cap too small for the tree;
 *   -ERANGE  the degree bounds make a spanning tree of the k members
 *            impossible: k >= 3 and sum over members of min(bound, k-1)
 *            < 2(k-1) (e.g. every bound 1). Relays are never needed for
 *            feasibility. Nothing is written in that case.
 * The solver never allocates after create().
 * A one-member group gives a one-node tree (n_edges 0).
 */
int vprn_solver_solve(
	struct vprn_solver *s, const struct vprn_solver_params *p, struct vprn_solver_result *r);

/** Name of an algorithm ("star", "shared_min_cost", ...), "?" if unknown. */
const char *vprn_solver_algo_name(enum vprn_solver_algo a);

/** Parse an algorithm name; returns the enum value or -EINVAL. */
int vprn_solver_algo_parse(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* VPRN_VNOC_SOLVER_H */
