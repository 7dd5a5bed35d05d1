/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_TOPO_H
#define VPRN_VNOC_TOPO_H

/*
 * Evaluation of overlay trees on a physical graph (vprn-topo-eval): sites
 * placed on stub routers, unicast shortest paths, and the metrics of the
 * VPRN paper (cost, link stress, delay, stretch). Not part of the solver
 * library; used by the tool only.
 */

#include <stdint.h>

#include "alt.h"
#include "solver.h"

/* Sites placed on a graph, with shortest paths from each of them. */
struct topo {
	const struct alt_graph *g;
	uint32_t n_sites;
	uint32_t *site_node; /* router of each site */
	double *dist;	     /* n_sites x n_nodes shortest-path delay */
	uint32_t *pred;	     /* n_sites x n_nodes: edge used to reach the node */
	uint32_t *delay_us;  /* n_sites x n_sites site matrix for the solver */
	double unicast_diam; /* largest site-to-site delay */
	double mst_cost;     /* unconstrained MST over the site matrix */
};

/* Metrics of one tree (graph units for delays). */
struct topo_metrics {
	double cost_ratio_mst;		/* sum over links of delay x copies / MST */
	double cost_once_ratio_mst;	/* sum of the delays of links used / MST */
	double max_stress, mean_stress; /* copies per used link */
	double avg_delay;		/* mean tree delay over site pairs */
	double diameter_ratio;		/* tree diameter / unicast diameter */
	double mean_stretch, p90_stretch, max_stretch;
	double max_degree;
	double src_mean_stretch; /* from site 0 (the sender of star/per_source) */
	double solve_ms;
	uint32_t *stress_hist; /* [0..n_sites]: links with that stress (caller's) */
};

/*
 * Place n_sites on distinct stub routers drawn uniformly with the given seed
 * and compute shortest paths. 0, -EINVAL (too few stub routers), -ENOMEM.
 */
int topo_place(struct topo *t, const struct alt_graph *g, uint32_t n_sites, uint64_t seed);
void topo_fini(struct topo *t);

/* Metrics of a tree given by its edges (site indices). 0 or -ENOMEM. */
int topo_measure(const struct topo *t, const struct vprn_solver_edge *edges, uint32_t n_edges,
	struct topo_metrics *m);

#endif /* VPRN_VNOC_TOPO_H */
