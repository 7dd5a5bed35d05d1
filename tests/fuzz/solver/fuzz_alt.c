/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer harness of the GT-ITM .alt parser (vnoc/solver/alt.c). */
#include <stddef.h>
#include <stdint.h>

#include "alt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alt_graph *g = NULL;
	uint32_t line;

	if (alt_parse((const char *)data, size, &g, &line) == 0) {
		/* every index the parser accepted must be in range */
		for (uint32_t e = 0; e < g->n_edges; e++)
			if (g->edges[e].a >= g->n_nodes || g->edges[e].b >= g->n_nodes ||
				g->edges[e].a == g->edges[e].b)
				__builtin_trap();
		alt_free(g);
	} else if (g != NULL || line == 0) {
		__builtin_trap();
	}
	return 0;
}
