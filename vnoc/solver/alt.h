/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_ALT_H
#define VPRN_VNOC_ALT_H

/*
 * Parser of GT-ITM ".alt" graph files (format: shared/data/gt-itm/README.md),
 * working on a memory buffer so that the fuzz harness can call it directly.
 * No I/O, no globals. Input is untrusted: every number is range checked and
 * the sizes are capped before anything is allocated.
 */

#include <stddef.h>
#include <stdint.h>

/* Caps, far above GT-ITM's largest published graphs. */
#define ALT_MAX_NODES 100000u
#define ALT_MAX_EDGES 1000000u
#define ALT_MAX_LENGTH 10000000u

struct alt_edge {
	uint32_t a, b; /* node indices, a != b */
	uint32_t len;  /* link delay, in the file's unit */
};

struct alt_graph {
	uint32_t n_nodes;
	uint32_t n_edges;
	uint8_t *stub;		/* per node: 1 for a stub router ("S:..."), 0 transit */
	struct alt_edge *edges; /* n_edges undirected edges */
	uint32_t cap_edges;	/* allocated */
};

/**
 * Parse buf[0..len) (need not be NUL-terminated).
 * @param err_line set to the 1-based line of the first error (0 if none).
 * @return 0 and *out (free with alt_free()), -EINVAL on a malformed file,
 *         -E2BIG above the caps, -ENOMEM.
 */
int alt_parse(const char *buf, size_t len, struct alt_graph **out, uint32_t *err_line);

void alt_free(struct alt_graph *g);

#endif /* VPRN_VNOC_ALT_H */
