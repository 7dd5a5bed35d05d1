/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_METRICS_H
#define VPRN_VNOC_CORE_METRICS_H

/*
 * Site-to-site RTT/loss matrix from the EDs' metrics reports. Each directed
 * pair keeps an EWMA of RTT and loss and the time of the last report. The
 * solver asks for a cost of every pair; a missing or stale measurement gets a
 * conservative estimate (never optimistic, so an unmeasured pair is not
 * preferred over a measured one):
 *   1. the reverse direction, if fresh (RTT is symmetric enough);
 *   2. else the largest fresh RTT reported by either site, times 2;
 *   3. else the configured default.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vnoc_metrics;

struct vnoc_metrics_conf {
	uint32_t alpha_pct;	 /* weight of a new sample, 1..100 */
	uint64_t stale_ms;	 /* older than this: estimate instead */
	uint32_t default_rtt_us; /* nothing known at all */
};

enum vnoc_metric_source {
	VNOC_METRIC_MEASURED = 0,
	VNOC_METRIC_REVERSE = 1,
	VNOC_METRIC_NEIGHBOURHOOD = 2,
	VNOC_METRIC_DEFAULT = 3,
};

struct vnoc_metric {
	uint32_t rtt_us;
	uint32_t loss_ppm;
	enum vnoc_metric_source source;
	uint64_t age_ms; /* of the measurement used; UINT64_MAX for the default */
};

/** Matrix for @n_sites global site ids 0..n_sites-1. */
struct vnoc_metrics *vnoc_metrics_create(size_t n_sites, const struct vnoc_metrics_conf *conf);
void vnoc_metrics_destroy(struct vnoc_metrics *mx);
void vnoc_metrics_set_conf(struct vnoc_metrics *mx, const struct vnoc_metrics_conf *conf);

/** One report of @from about @to: 0, -ERANGE (bad site), -EINVAL (from == to). */
int vnoc_metrics_report(struct vnoc_metrics *mx, uint32_t from, uint32_t to, uint32_t rtt_us,
	uint32_t loss_ppm, uint64_t now_ms);

/** The value to use for (@from, @to) now (see the estimate rules above). */
struct vnoc_metric vnoc_metrics_get(
	const struct vnoc_metrics *mx, uint32_t from, uint32_t to, uint64_t now_ms);

/**
 * Edge cost for the solver in microseconds: RTT inflated by loss
 * (rtt * (1 + 10 * loss)), so a lossy path needs to be much faster to win.
 */
uint32_t vnoc_metrics_cost(
	const struct vnoc_metrics *mx, uint32_t from, uint32_t to, uint64_t now_ms);

/**
 * Costs of every ordered pair of @sites into @out (n x n, row-major, diagonal
 * 0), divided by @div (2: one-way). Same values as vnoc_metrics_cost(), in
 * O(n^2) instead of O(n^3) for the estimates.
 */
void vnoc_metrics_matrix(const struct vnoc_metrics *mx, const uint32_t *sites, size_t n,
	uint64_t now_ms, uint32_t div, uint32_t *out);

size_t vnoc_metrics_sites(const struct vnoc_metrics *mx);

#endif /* VPRN_VNOC_CORE_METRICS_H */
