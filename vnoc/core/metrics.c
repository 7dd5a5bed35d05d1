/* SPDX-License-Identifier: BSD-3-Clause */
#include "metrics.h"

#include <errno.h>
#include <stdlib.h>

struct cell {
	uint32_t rtt_us;
	uint32_t loss_ppm;
	uint64_t at_ms; /* 0 = never measured */
};

struct vnoc_metrics {
	struct vnoc_metrics_conf conf;
	size_t n;
	struct cell cells[]; /* n * n, row = reporting site */
};

struct vnoc_metrics *vnoc_metrics_create(size_t n_sites, const struct vnoc_metrics_conf *conf)
{
	struct vnoc_metrics *mx;

	if (n_sites == 0 || n_sites > 65536)
		return NULL;
	mx = calloc(1, sizeof(*mx) + n_sites * n_sites * sizeof(struct cell));
	if (mx == NULL)
		return NULL;
	mx->n = n_sites;
	vnoc_metrics_set_conf(mx, conf);
	return mx;
}

void vnoc_metrics_destroy(struct vnoc_metrics *mx)
{
	free(mx);
}

void vnoc_metrics_set_conf(struct vnoc_metrics *mx, const struct vnoc_metrics_conf *conf)
{
	mx->conf = *conf;
	if (mx->conf.alpha_pct == 0 || mx->conf.alpha_pct > 100)
		mx->conf.alpha_pct = 25;
}

size_t vnoc_metrics_sites(const struct vnoc_metrics *mx)
{
	return mx->n;
}

static uint32_t ewma(uint32_t old, uint32_t sample, uint32_t alpha_pct)
{
	uint64_t v = ((uint64_t)old * (100 - alpha_pct) + (uint64_t)sample * alpha_pct + 50) / 100;

	return (uint32_t)v;
}

int vnoc_metrics_report(struct vnoc_metrics *mx, uint32_t from, uint32_t to, uint32_t rtt_us,
	uint32_t loss_ppm, uint64_t now_ms)
{
	struct cell *c;

	if (from >= mx->n || to >= mx->n)
		return -ERANGE;
	if (from == to)
		return -EINVAL;
	if (loss_ppm > 1000000)
		loss_ppm = 1000000;
	c = &mx->cells[from * mx->n + to];
	/* a stale value says nothing about now: restart the average */
	if (c->at_ms == 0 || now_ms - c->at_ms > mx->conf.stale_ms) {
		c->rtt_us = rtt_us;
		c->loss_ppm = loss_ppm;
	} else {
		c->rtt_us = ewma(c->rtt_us, rtt_us, mx->conf.alpha_pct);
		c->loss_ppm = ewma(c->loss_ppm, loss_ppm, mx->conf.alpha_pct);
	}
	c->at_ms = now_ms ? now_ms : 1;
	return 0;
}

static bool fresh(const struct vnoc_metrics *mx, const struct cell *c, uint64_t now_ms)
{
	return c->at_ms != 0 && now_ms - c->at_ms <= mx->conf.stale_ms;
}

static uint32_t max_fresh_rtt(const struct vnoc_metrics *mx, uint32_t site, uint64_t now_ms)
{
	uint32_t best = 0;

	for (size_t k = 0; k < mx->n; k++) {
		const struct cell *row = &mx->cells[site * mx->n + k];
		const struct cell *col = &mx->cells[k * mx->n + site];

		if (fresh(mx, row, now_ms) && row->rtt_us > best)
			best = row->rtt_us;
		if (fresh(mx, col, now_ms) && col->rtt_us > best)
			best = col->rtt_us;
	}
	return best;
}

static struct vnoc_metric get_with(const struct vnoc_metrics *mx, uint32_t from, uint32_t to,
	uint64_t now_ms, uint32_t max_from, uint32_t max_to);

struct vnoc_metric vnoc_metrics_get(
	const struct vnoc_metrics *mx, uint32_t from, uint32_t to, uint64_t now_ms)
{
	if (from >= mx->n || to >= mx->n)
		return (struct vnoc_metric){ mx->conf.default_rtt_us, 0, VNOC_METRIC_DEFAULT,
			UINT64_MAX };
	if (from == to)
		return (struct vnoc_metric){ 0, 0, VNOC_METRIC_MEASURED, 0 };
	return get_with(mx, from, to, now_ms, max_fresh_rtt(mx, from, now_ms),
		max_fresh_rtt(mx, to, now_ms));
}

static struct vnoc_metric get_with(const struct vnoc_metrics *mx, uint32_t from, uint32_t to,
	uint64_t now_ms, uint32_t a, uint32_t b)
{
	struct vnoc_metric m = { .rtt_us = mx->conf.default_rtt_us,
		.source = VNOC_METRIC_DEFAULT,
		.age_ms = UINT64_MAX };
	const struct cell *c = &mx->cells[from * mx->n + to], *r = &mx->cells[to * mx->n + from];

	if (fresh(mx, c, now_ms))
		return (struct vnoc_metric){ c->rtt_us, c->loss_ppm, VNOC_METRIC_MEASURED,
			now_ms - c->at_ms };
	if (fresh(mx, r, now_ms))
		return (struct vnoc_metric){ r->rtt_us, r->loss_ppm, VNOC_METRIC_REVERSE,
			now_ms - r->at_ms };
	if (a != 0 || b != 0) {
		uint64_t est = 2ull * (a > b ? a : b);

		m.rtt_us = est > UINT32_MAX ? UINT32_MAX : (uint32_t)est;
		m.source = VNOC_METRIC_NEIGHBOURHOOD;
	}
	return m;
}

static uint32_t cost_of(const struct vnoc_metric *m)
{
	uint64_t cost = (uint64_t)m->rtt_us * (100000 + m->loss_ppm) / 100000;

	return cost > UINT32_MAX ? UINT32_MAX : (uint32_t)cost;
}

uint32_t vnoc_metrics_cost(
	const struct vnoc_metrics *mx, uint32_t from, uint32_t to, uint64_t now_ms)
{
	struct vnoc_metric m = vnoc_metrics_get(mx, from, to, now_ms);

	return cost_of(&m);
}

void vnoc_metrics_matrix(const struct vnoc_metrics *mx, const uint32_t *sites, size_t n,
	uint64_t now_ms, uint32_t div, uint32_t *out)
{
	uint32_t *maxr = calloc(n ? n : 1, sizeof(*maxr));

	for (size_t i = 0; maxr != NULL && i < n; i++)
		maxr[i] = sites[i] < mx->n ? max_fresh_rtt(mx, sites[i], now_ms) : 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < n; j++) {
			struct vnoc_metric m;

			if (i == j) {
				out[i * n + j] = 0;
				continue;
			}
			if (sites[i] >= mx->n || sites[j] >= mx->n)
				m = (struct vnoc_metric){ mx->conf.default_rtt_us, 0,
					VNOC_METRIC_DEFAULT, UINT64_MAX };
			else if (maxr != NULL)
				m = get_with(mx, sites[i], sites[j], now_ms, maxr[i], maxr[j]);
			else
				m = vnoc_metrics_get(mx, sites[i], sites[j], now_ms);
			out[i * n + j] = cost_of(&m) / (div ? div : 1);
		}
	}
	free(maxr);
}
