/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_SOLVER_PRIV_H
#define VPRN_VNOC_SOLVER_PRIV_H

/*
 * Private to the solver. The solver works on "local" node indices: the
 * members first (0..k-1), then the relay candidates (k..m-1). A tree is a
 * parent array over local nodes; nodes outside the tree have pa == NIL.
 * Everything derived from the parent array (preorder, depths, subtree member
 * counts, sums of distances, eccentricities) is recomputed in O(m) after each
 * change, which is what makes O(1) evaluation of an edge exchange possible
 * (see improve.c and docs/solver.md).
 */

#include <stdint.h>

#include "solver.h"

#define NIL UINT32_MAX
/* Nearest neighbours considered by local search for each node. */
#define SOLVER_KNN 48

/* A tree over local nodes plus its derived data. */
struct tree {
	uint32_t root;
	uint32_t *pa;  /* parent, pa[root] == root, NIL if not in the tree */
	uint32_t *deg; /* degree in the tree */
	/* derived by tree_derive(): */
	uint32_t n;	 /* nodes in the tree */
	uint32_t *head;	 /* first child */
	uint32_t *next;	 /* next sibling */
	uint32_t *order; /* preorder, n entries */
	uint32_t *tin;	 /* position in order[] */
	uint32_t *size;	 /* nodes in the subtree */
	uint32_t *msub;	 /* members in the subtree */
	double *depth;	 /* tree delay from the root */
	double *sdown;	 /* sum over members y below v of d(v, y) */
	double *hdown;	 /* max over members y below v of d(v, y), -1 if none */
	double *up;	 /* max d(v, y) over members y outside the subtree, -1 */
	double *dall;	 /* sum over all members y of d(v, y) */
	double *dv;	 /* scratch: tree distances from one node */
	uint32_t *stack; /* scratch */
	/* metrics (members only): */
	double cost, wiener, diameter, src_sum, src_max;
};

/* Objective kind: shared (all member pairs) or from the root (per-source). */
enum obj_kind {
	OBJ_SHARED = 0,
	OBJ_SOURCE = 1,
};

struct objective {
	enum obj_kind kind;
	double wc, wa, wd; /* weights of cost, avg delay, diameter */
};

struct vprn_solver {
	uint32_t max;
	uint32_t m;	 /* local nodes in this solve */
	uint32_t k;	 /* members (local 0..k-1) */
	uint32_t stride; /* row length of the matrices (== max) */
	double *w;	 /* true delays, local x local */
	double *wb;	 /* delays biased towards the current tree */
	uint32_t *g2l;	 /* global -> local, NIL if not used */
	uint32_t *l2g;	 /* local -> global */
	uint32_t *bound; /* degree bound per local node */
	uint8_t *active; /* local node may be in the tree in this attempt */
	uint32_t *knn;	 /* SOLVER_KNN nearest (by wb) per local node */
	uint32_t n_knn;
	uint32_t *cur_pa; /* current tree as parent array (local), NIL */
	/* Prim scratch */
	double *key;
	uint32_t *kpar;
	uint8_t *intree;

	struct tree
		t[5]; /* 0 work, 1 best, 2 improve() undo, 3 relay candidate, 4 min-cost start */
	uint64_t rng;
	void *mem;
};

static inline double W(const struct vprn_solver *s, uint32_t a, uint32_t b)
{
	return s->w[(uint64_t)a * s->stride + b];
}

static inline double WB(const struct vprn_solver *s, uint32_t a, uint32_t b)
{
	return s->wb[(uint64_t)a * s->stride + b];
}

/* tree.c */
void tree_clear(struct tree *t, uint32_t m);
void tree_copy(struct tree *dst, const struct tree *src, uint32_t m);
/* Recompute derived data and metrics using matrix mat (s->w or s->wb). */
void tree_derive(const struct vprn_solver *s, struct tree *t, const double *mat);
double tree_objective(const struct vprn_solver *s, const struct tree *t, const struct objective *o);
/* Re-hang the tree from new_root (parent pointers flipped on the path). */
void tree_reroot(struct tree *t, uint32_t new_root);
/* Tree distances from v to every tree node into t->dv, using matrix mat. */
void tree_dist_from(const struct vprn_solver *s, struct tree *t, uint32_t v, const double *mat);
/* Remove relay (non-member) leaves repeatedly. */
void tree_prune_relays(const struct vprn_solver *s, struct tree *t);

/* build.c */
void build_star(const struct vprn_solver *s, struct tree *t, uint32_t root);
/* Degree-bounded Prim-Dijkstra: key = c * depth(u) + w(u, v). c = 0: Prim. */
int build_prim_dijkstra(struct vprn_solver *s, struct tree *t, uint32_t root, double c);
uint32_t delay_centre(const struct vprn_solver *s);

/* improve.c: edge-exchange local search; returns moves applied. */
uint32_t improve(
	struct vprn_solver *s, struct tree *t, const struct objective *o, uint32_t max_passes);

#endif /* VPRN_VNOC_SOLVER_PRIV_H */
