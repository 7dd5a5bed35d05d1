/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-bench: DPDK traffic generator and receiver for benchmarking vprn-ed
 * and its peers (see docs/bench.md). Usage: vprn-bench [EAL] -- --help.
 *
 * Lcores: with three or more, TX and RX each get a worker lcore and the
 * main lcore reports; with two, TX runs on the worker and RX plus the
 * reports on the main lcore; with one, the main lcore does everything.
 */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "common/log.h"
#include "espgen.h"
#include "ports.h"
#include "run.h"
#include "stamp.h"

#define POOL_MBUFS 16383
#define POOL_CACHE 256

static atomic_bool quit;	 /* SIGINT/SIGTERM: end the trials early */
static atomic_bool workers_stop; /* the run is over: worker lcores return */

static void on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&quit, true, memory_order_relaxed);
}

/* ---- lcore roles ---- */

static int worker_main(void *arg)
{
	struct bench_run *r = arg;
	unsigned int self = rte_lcore_id();
	bool tx = r->o.n_tx > 0 && self == r->tx_lcore;
	bool rx = r->o.n_rx > 0 && self == r->rx_lcore;

	while (!atomic_load_explicit(&workers_stop, memory_order_relaxed)) {
		if (tx)
			txgen_poll(&r->tx);
		if (rx)
			rxstat_poll(&r->rx);
	}
	return 0;
}

static void assign_lcores(struct bench_run *r)
{
	unsigned int w[2] = { RTE_MAX_LCORE, RTE_MAX_LCORE }, n = 0, id;
	unsigned int main_id = rte_get_main_lcore();

	RTE_LCORE_FOREACH_WORKER(id)
	{
		if (n < 2)
			w[n++] = id;
	}
	r->tx_lcore = r->rx_lcore = main_id;
	if (n >= 2 && r->o.n_tx > 0 && r->o.n_rx > 0) {
		r->tx_lcore = w[0];
		r->rx_lcore = w[1];
	} else if (n >= 1) {
		if (r->o.n_tx > 0)
			r->tx_lcore = w[0];
		else
			r->rx_lcore = w[0];
	}
	r->main_tx = r->o.n_tx > 0 && r->tx_lcore == main_id;
	r->main_rx = r->o.n_rx > 0 && r->rx_lcore == main_id;
}

/* --arp-reply: a port answers from the RX lcore on TX queue 0, which only
 * one lcore may use: not on a port the TX role sends on from another lcore. */
static void arp_setup(struct bench_run *r)
{
	for (unsigned int p = 0; p < r->o.n_rx && r->o.arp_reply; p++) {
		struct rx_port *rp = &r->rx.ports[p];
		bool sends = false;

		for (unsigned int t = 0; t < r->o.n_tx; t++)
			sends |= r->tx_ids[t] == rp->port_id;
		rp->arp_tx = !sends || r->tx_lcore == r->rx_lcore;
		if (rte_eth_macaddr_get(rp->port_id, &rp->mac) != 0)
			rp->arp_tx = false;
		if (!rp->arp_tx)
			printf("  arp-reply:     not on port %u (sent on by another lcore)\n",
				rp->port_id);
	}
}

/* The main lcore's share of the work, plus the progress line. */
static void pump(struct bench_run *r)
{
	uint64_t now;

	if (r->main_tx)
		txgen_poll(&r->tx);
	if (r->main_rx)
		rxstat_poll(&r->rx);
	now = rte_rdtsc();
	if (now >= r->next_progress_tsc) {
		r->next_progress_tsc = now + r->hz;
		if (!r->o.quiet)
			report_progress(r, now);
	}
}

static bool stopping(void)
{
	return atomic_load_explicit(&quit, memory_order_relaxed);
}

/* Snapshot and reset the RX trial counters; waits for the RX lcore. */
static void checkpoint(struct bench_run *r)
{
	uint32_t req;

	if (r->o.n_rx == 0)
		return;
	req = atomic_load_explicit(&r->rx.ck_req, memory_order_relaxed) + 1;
	atomic_store_explicit(&r->rx.ck_req, req, memory_order_release);
	while (atomic_load_explicit(&r->rx.ck_ack, memory_order_acquire) != req) {
		if (r->main_rx)
			rxstat_serve(&r->rx);
		else
			pump(r);
	}
}

static void wait_until(struct bench_run *r, uint64_t deadline, bool until_tx_done)
{
	while (!stopping() && (deadline == 0 || rte_rdtsc() < deadline)) {
		pump(r);
		if (until_tx_done && atomic_load_explicit(&r->tx.ctl.done, memory_order_acquire))
			break;
	}
}

static uint64_t tx_bytes_total(const struct txgen *g)
{
	uint64_t n = 0;

	for (unsigned int p = 0; p < g->n_ports; p++)
		n += atomic_load_explicit(&g->ports[p].sent_bytes, memory_order_relaxed);
	return n;
}

static void fill_result(struct bench_run *r, struct trial_result *t)
{
	const struct rx_totals *s = &r->rx.snapshot;
	double secs = t->tx_secs > 0 ? t->tx_secs : 1e-9;
	uint64_t expected = t->tx_pkts * r->o.expect_copies;

	if (r->o.n_rx > 0) {
		t->rx_pkts = s->pkts;
		t->rx_bytes = s->bytes;
		t->rx_unique = s->unique;
		t->dup = s->dup;
		t->reordered = s->reordered;
		t->foreign = s->foreign;
		t->lat_count = s->lat.count;
		t->lat_min = s->lat.count ? s->lat.min_ns : 0;
		t->lat_p50 = hist_quantile(&s->lat, 0.5);
		t->lat_p99 = hist_quantile(&s->lat, 0.99);
		t->lat_p999 = hist_quantile(&s->lat, 0.999);
		t->lat_max = s->lat.max_ns;
		t->lat_mean = s->lat.count ? s->lat.sum_ns / s->lat.count : 0;
	}
	if (r->o.n_tx > 0 && r->o.n_rx > 0) {
		t->lost = expected > t->rx_unique ? expected - t->rx_unique : 0;
		t->loss_pct = expected ? 100.0 * (double)t->lost / (double)expected : 0;
	}
	t->tx_pps = (double)t->tx_pkts / secs;
	t->rx_pps = (double)t->rx_pkts / secs;
	t->tx_gbps = (double)t->tx_bytes * 8 / secs / 1e9;
	t->rx_gbps = (double)t->rx_bytes * 8 / secs / 1e9;
	t->pass = r->o.search_loss < 0 || t->loss_pct <= r->o.search_loss;
}

/* One trial: send at rate (per port) for secs (or count packets), drain, count. */
static struct trial_result *run_trial(
	struct bench_run *r, const char *kind, double rate, double secs, uint64_t count)
{
	struct trial_result *t = &r->trials[r->n_trials];
	uint64_t tx0, b0, start, end;

	if (r->n_trials >= BENCH_MAX_TRIALS)
		return NULL;
	r->n_trials++;
	memset(t, 0, sizeof(*t));
	t->kind = kind;
	t->rate_req_pps = rate;
	checkpoint(r); /* discard what arrived between trials */
	tx0 = txgen_sent_total(&r->tx);
	b0 = tx_bytes_total(&r->tx);
	r->tx.ctl.rate_pps = rate;
	r->tx.ctl.max_pkts = count;
	atomic_store_explicit(&r->tx.ctl.done, false, memory_order_relaxed);
	/* Release both, gen first: a TX lcore that sees on sees this trial (txgen_poll). */
	atomic_fetch_add_explicit(&r->tx.ctl.gen, 1, memory_order_release);
	atomic_store_explicit(&r->tx.ctl.on, true, memory_order_release);
	start = rte_rdtsc();
	wait_until(r, secs > 0 ? start + (uint64_t)(secs * (double)r->hz) : 0,
		r->o.n_tx > 0 && count > 0);
	atomic_store_explicit(&r->tx.ctl.on, false, memory_order_relaxed);
	end = rte_rdtsc();
	/* Drain: packets in flight (and the TX lcore's last retries) arrive. */
	wait_until(r, rte_rdtsc() + (uint64_t)r->o.drain_ms * r->hz / 1000, false);
	checkpoint(r);
	t->tx_pkts = txgen_sent_total(&r->tx) - tx0;
	t->tx_bytes = tx_bytes_total(&r->tx) - b0;
	t->tx_secs = (double)(end - start) / (double)r->hz;
	fill_result(r, t);
	report_trial(stdout, t);
	return t;
}

/* Maximum trial, then a binary search on the rate, then latency at a fraction. */
static void search(struct bench_run *r)
{
	struct trial_result *t = run_trial(r, "max", 0, r->o.trial_s, 0);
	double lo = 0, hi, probe;

	if (t == NULL)
		return;
	r->searched = true;
	r->latency_trial = -1;
	r->max_pps = t->rx_pps;
	r->max_gbps = t->rx_gbps;
	hi = t->tx_pps / r->o.n_tx; /* per port */
	if (t->pass) {
		r->zero_loss_pps = t->rx_pps;
		r->zero_loss_gbps = t->rx_gbps;
		r->zero_loss_rate_req = hi;
		lo = hi;
	} else {
		/* The receive rate under overload is a good first guess. */
		probe = t->rx_pps / r->o.expect_copies / r->o.n_tx;
		for (unsigned int i = 0; i < r->o.search_steps && !stopping(); i++) {
			if (probe <= lo || probe >= hi)
				probe = (lo + hi) / 2;
			t = run_trial(r, "search", probe, r->o.trial_s, 0);
			if (t == NULL)
				break;
			if (t->pass) {
				lo = probe;
				/* A preempted generator may send less than asked: keep the best. */
				if (t->rx_pps > r->zero_loss_pps) {
					r->zero_loss_pps = t->rx_pps;
					r->zero_loss_gbps = t->rx_gbps;
					r->zero_loss_rate_req = probe;
				}
			} else {
				hi = probe;
			}
			probe = (lo + hi) / 2;
		}
	}
	if (r->zero_loss_rate_req > 0 && !stopping()) {
		/* At a fraction of the rate measured, not of the rate asked. */
		double rate = r->zero_loss_pps / r->o.expect_copies / r->o.n_tx;

		t = run_trial(r, "latency", rate * r->o.latency_load, r->o.trial_s, 0);
		if (t != NULL)
			r->latency_trial = (int)r->n_trials - 1;
	}
}

/* ---- setup ---- */

static int resolve_ports(struct bench_run *r)
{
	for (unsigned int i = 0; i < r->o.n_tx; i++)
		if (bench_port_resolve(r->o.tx_names[i], &r->tx_ids[i]) != 0)
			goto bad_tx;
	for (unsigned int i = 0; i < r->o.n_rx; i++)
		if (bench_port_resolve(r->o.rx_names[i], &r->rx_ids[i]) != 0) {
			fprintf(stderr, "vprn-bench: no port '%s' (%u ports probed)\n",
				r->o.rx_names[i], rte_eth_dev_count_avail());
			return -ENODEV;
		}
	return 0;
bad_tx:
	fprintf(stderr, "vprn-bench: no such TX port (%u ports probed)\n",
		rte_eth_dev_count_avail());
	return -ENODEV;
}

static uint16_t data_room(const struct bench_opts *o)
{
	unsigned int max = RTE_MBUF_DEFAULT_DATAROOM;

	for (unsigned int i = 0; i < o->n_sizes; i++)
		if (o->sizes[i].len > max)
			max = o->sizes[i].len;
	if (o->mtu + 18u > max)
		max = o->mtu + 18u;
	return (uint16_t)(max + RTE_PKTMBUF_HEADROOM);
}

static int setup(struct bench_run *r)
{
	uint16_t all[2 * BENCH_MAX_PORTS];
	unsigned int n_all = 0;
	struct rte_mempool *tx_pool, *rx_pool;
	int rc;

	rc = resolve_ports(r);
	if (rc != 0)
		return rc;
	tx_pool = rte_pktmbuf_pool_create(
		"bench_tx", POOL_MBUFS, POOL_CACHE, 0, data_room(&r->o), rte_socket_id());
	rx_pool = rte_pktmbuf_pool_create(
		"bench_rx", POOL_MBUFS, POOL_CACHE, 0, data_room(&r->o), rte_socket_id());
	if (tx_pool == NULL || rx_pool == NULL) {
		fprintf(stderr, "vprn-bench: mbuf pools: %s\n", rte_strerror(rte_errno));
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < r->o.n_tx; i++)
		all[n_all++] = r->tx_ids[i];
	for (unsigned int i = 0; i < r->o.n_rx; i++)
		all[n_all++] = r->rx_ids[i];
	rc = bench_ports_start(all, n_all, &r->o, rx_pool);
	if (rc != 0)
		return rc;
	rc = txgen_init(&r->tx, &r->o, r->tx_ids, tx_pool);
	if (rc == 0 && r->o.esp_spec[0] != '\0') {
		char d[128];

		r->tx.esp = espgen_create(r->o.esp_spec, (int)rte_socket_id());
		if (r->tx.esp == NULL)
			return -EINVAL;
		espgen_describe(r->tx.esp, d, sizeof(d));
		printf("  esp:           %s\n", d);
	}
	if (rc == 0)
		rc = rxstat_init(
			&r->rx, &r->o, r->rx_ids, r->tx.n_flows ? r->tx.n_flows : BENCH_MAX_FLOWS);
	return rc;
}

static void teardown(struct bench_run *r)
{
	uint16_t all[2 * BENCH_MAX_PORTS];
	unsigned int n_all = 0;

	espgen_destroy(r->tx.esp);
	txgen_fini(&r->tx);
	rxstat_fini(&r->rx);
	for (unsigned int i = 0; i < r->o.n_tx; i++)
		all[n_all++] = r->tx_ids[i];
	for (unsigned int i = 0; i < r->o.n_rx; i++)
		all[n_all++] = r->rx_ids[i];
	bench_ports_stop(all, n_all);
}

int main(int argc, char **argv)
{
	static struct bench_run run; /* large (histograms, ESP table): not on the stack */
	struct bench_run *r = &run;
	int n, rc;

	vprn_log_init("vprn-bench", VPRN_LOG_INFO);
	n = rte_eal_init(argc, argv);
	if (n < 0)
		rte_exit(EXIT_FAILURE, "vprn-bench: EAL init failed\n");
	argc -= n;
	argv += n;
	argv[0] = (char *)"vprn-bench";
	if (bench_opts_parse(&r->o, argc, argv) != 0)
		rte_exit(EXIT_FAILURE, "vprn-bench: bad options (--help)\n");
	bench_opts_print(stdout, &r->o);
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	r->hz = rte_get_tsc_hz();
	if (setup(r) != 0)
		rte_exit(EXIT_FAILURE, "vprn-bench: setup failed\n");
	assign_lcores(r);
	arp_setup(r);
	printf("  lcores:        main %u, tx %u, rx %u, TSC %.3f GHz\n", rte_get_main_lcore(),
		r->tx_lcore, r->rx_lcore, (double)r->hz / 1e9);
	fflush(stdout);
	if (!r->main_tx && r->o.n_tx > 0)
		rte_eal_remote_launch(worker_main, r, r->tx_lcore);
	if (!r->main_rx && r->o.n_rx > 0)
		rte_eal_remote_launch(worker_main, r, r->rx_lcore);
	r->start_tsc = rte_rdtsc();
	r->next_progress_tsc = r->start_tsc + r->hz;
	r->latency_trial = -1;
	if (r->o.delay_s > 0) /* RX keeps draining meanwhile */
		wait_until(r, rte_rdtsc() + (uint64_t)(r->o.delay_s * (double)r->hz), false);
	if (r->o.search_loss >= 0)
		search(r);
	else
		run_trial(r, "run", r->o.rate_pps, r->o.duration_s, r->o.count);
	atomic_store_explicit(&workers_stop, true, memory_order_relaxed);
	rte_eal_mp_wait_lcore();
	report_summary(stdout, r);
	rc = r->o.json_path[0] != '\0' ? report_json(r->o.json_path, r) : 0;
	teardown(r);
	rte_eal_cleanup();
	return rc == 0 ? 0 : 1;
}
