/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * GT-ITM .alt parser (table of malformed inputs, a real graph when the data
 * is present) and the evaluation metrics on a hand-computed graph.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alt.h"
#include "topo.h"

#define HDR "GRAPH (#nodes #edges id uu vv ww xx yy zz):\n"
#define VTX "VERTICES (index name u v w x y z):\n"
#define EDG "EDGES (from-node to-node length a b):\n"

/* transit 0 in the middle of three stub routers, 10 away each */
static const char star4[] =
	HDR "4 6 transtub(0)\n\n" VTX "0 T:0.0 5 5\n1 S:0.0/0.0 0 0\n"
	    "2 S:0.0/0.1 9 9\n3 S:0.0/0.2 0 9\n\n" EDG "0 1 10 1\n0 2 10 1\n0 3 10 1\n";

static void test_parse_valid(void **state)
{
	struct alt_graph *g;
	uint32_t line;
	(void)state;

	assert_int_equal(alt_parse(star4, strlen(star4), &g, &line), 0);
	assert_int_equal(line, 0);
	assert_int_equal(g->n_nodes, 4);
	assert_int_equal(g->n_edges, 3);
	assert_int_equal(g->stub[0], 0);
	assert_int_equal(g->stub[3], 1);
	assert_int_equal(g->edges[2].a, 0);
	assert_int_equal(g->edges[2].b, 3);
	assert_int_equal(g->edges[2].len, 10);
	alt_free(g);
}

static void test_parse_malformed(void **state)
{
	static const struct {
		const char *text;
		int rc;
		uint32_t line;
	} rows[] = {
		{ "", -EINVAL, 1 },
		{ "NOTGRAPH\n", -EINVAL, 1 },
		{ HDR "x 1\n", -EINVAL, 2 },
		{ HDR "0 1\n", -EINVAL, 2 },
		{ HDR "200000 1\n", -E2BIG, 2 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n", -EINVAL, 4 },		  /* missing vertex */
		{ HDR "2 1\n" VTX "0 T:0 1 1\n2 S:0 1 1\n", -EINVAL, 5 }, /* bad index */
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 X:0 1 1\n", -EINVAL, 5 }, /* bad name */
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1\n", -EINVAL, 5 },	  /* no y */
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n0 2 5\n", -EINVAL, 7 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n1 1 5\n", -EINVAL, 7 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n0 1 -5\n", -EINVAL, 7 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n0 1 99999999999\n", -EINVAL, 7 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n0 1 5\n1 0 5\n", -EINVAL, 8 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nNOEDGES\n", -EINVAL, 6 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n0 1\n", -EINVAL, 7 },
		{ HDR "2 1\n" VTX "0 T:0 1 1\n1 S:0 1 1\nEDGES\n0 1 5 1\n", 0, 0 },
		{ HDR "2 1\r\n" VTX "0 T:0 1 1\r\n1 S:0 1 1\r\n\r\nEDGES\r\n0 1 5\r\n", 0, 0 },
	};
	(void)state;

	for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct alt_graph *g = (void *)1;
		uint32_t line = 77;
		int rc = alt_parse(rows[i].text, strlen(rows[i].text), &g, &line);
		if (rc != rows[i].rc || line != rows[i].line)
			print_message("row %u: rc %d line %u\n", i, rc, line);
		assert_int_equal(rc, rows[i].rc);
		assert_int_equal(line, rows[i].line);
		if (rc == 0)
			alt_free(g);
		else
			assert_null(g);
	}
	/* not NUL-terminated: the parser must stop at len */
	char buf[sizeof(star4)];
	memcpy(buf, star4, sizeof(buf));
	struct alt_graph *g;
	uint32_t line;
	assert_int_equal(alt_parse(buf, strlen(star4) - 10, &g, &line), 0);
	assert_int_equal(g->n_edges, 2); /* the last edge line was cut away */
	alt_free(g);
}

static void test_real_graph(void **state)
{
	const char *dir = getenv("VPRN_GTITM_DIR");
	char path[512], *buf = malloc(1 << 20);
	struct alt_graph *g;
	uint32_t line, stubs = 0;
	(void)state;

	snprintf(path, sizeof(path), "%s/ts600-0.alt", dir ? dir : "/work/shared/data/gt-itm");
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		free(buf);
		print_message("skipped: %s not found (set VPRN_GTITM_DIR)\n", path);
		skip();
	}
	size_t len = fread(buf, 1, 1 << 20, f);
	fclose(f);
	assert_int_equal(alt_parse(buf, len, &g, &line), 0);
	assert_int_equal(g->n_nodes, 600);
	for (uint32_t v = 0; v < g->n_nodes; v++)
		stubs += g->stub[v];
	assert_int_equal(stubs, 576);
	assert_true(g->n_edges >= 1164 && g->n_edges <= 1250);
	alt_free(g);
	free(buf);
}

static void test_metrics_by_hand(void **state)
{
	struct alt_graph *g;
	struct topo t;
	uint32_t line, hist[4] = { 0 };
	struct topo_metrics m = { .stress_hist = hist };
	/* star from site 0: tree edges (0,1) and (0,2) */
	const struct vprn_solver_edge edges[2] = { { 0, 1 }, { 0, 2 } };
	(void)state;

	assert_int_equal(alt_parse(star4, strlen(star4), &g, &line), 0);
	assert_int_equal(topo_place(&t, g, 4, 1), -EINVAL); /* only 3 stub routers */
	assert_int_equal(topo_place(&t, g, 3, 1), 0);
	assert_true(t.mst_cost == 40);
	assert_true(t.unicast_diam == 20);
	assert_int_equal(t.delay_us[0 * 3 + 1], 20000);
	assert_int_equal(topo_measure(&t, edges, 2, &m), 0);
	assert_true(fabs(m.cost_ratio_mst - 1.0) < 1e-9);
	assert_true(fabs(m.cost_once_ratio_mst - 0.75) < 1e-9);
	assert_true(m.max_stress == 2);
	assert_true(fabs(m.mean_stress - 4.0 / 3) < 1e-9);
	assert_int_equal(hist[1], 2);
	assert_int_equal(hist[2], 1);
	assert_true(fabs(m.avg_delay - 80.0 / 3) < 1e-9);
	assert_true(fabs(m.diameter_ratio - 2.0) < 1e-9);
	assert_true(fabs(m.mean_stretch - 4.0 / 3) < 1e-9);
	assert_true(m.p90_stretch == 2 && m.max_stretch == 2);
	assert_true(m.max_degree == 2);
	assert_true(m.src_mean_stretch == 1); /* site 0 reaches both directly */
	topo_fini(&t);
	alt_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_valid),
		cmocka_unit_test(test_parse_malformed),
		cmocka_unit_test(test_real_graph),
		cmocka_unit_test(test_metrics_by_hand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
