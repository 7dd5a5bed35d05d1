/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_RUN_H
#define VPRN_BENCH_RUN_H

/*
 * One vprn-bench invocation: the roles of the lcores, the trials run (one
 * for a plain run; maximum, search steps and the latency trial for
 * --search) and what the report needs.
 */

#include <stdbool.h>
#include <stdint.h>

#include "bench.h"

#define BENCH_MAX_TRIALS 40

struct trial_result {
	const char *kind;    /**< "run", "max", "search" or "latency" */
	double rate_req_pps; /**< per TX port, 0 = as fast as possible */
	double tx_secs;
	uint64_t tx_pkts, tx_bytes;
	uint64_t rx_pkts, rx_bytes, rx_unique, dup, reordered, foreign;
	uint64_t lost; /**< tx_pkts x copies - rx_unique (if TX ports) */
	double loss_pct;
	double tx_pps, rx_pps, tx_gbps, rx_gbps; /**< L2 incl. FCS, over tx_secs */
	uint64_t lat_count, lat_min, lat_p50, lat_p99, lat_p999, lat_max, lat_mean;
	bool pass; /**< loss within the search target */
};

struct bench_run {
	struct bench_opts o;
	uint16_t tx_ids[BENCH_MAX_PORTS];
	uint16_t rx_ids[BENCH_MAX_PORTS];
	struct txgen tx;
	struct rxstat rx;
	bool main_tx, main_rx; /**< roles the main lcore plays itself */
	unsigned int tx_lcore, rx_lcore;
	uint64_t hz;
	uint64_t start_tsc;
	uint64_t next_progress_tsc;
	uint64_t last_tx_pkts[BENCH_MAX_PORTS], last_tx_bytes[BENCH_MAX_PORTS];
	uint64_t last_rx_pkts[BENCH_MAX_PORTS], last_rx_bytes[BENCH_MAX_PORTS];
	struct trial_result trials[BENCH_MAX_TRIALS];
	unsigned int n_trials;
	bool searched;
	double max_pps, max_gbps;	      /**< received, in the maximum trial */
	double zero_loss_pps, zero_loss_gbps; /**< received, best passing trial */
	double zero_loss_rate_req;	      /**< per-port rate that passed */
	int latency_trial;		      /**< index, -1 if none */
};

/** Live progress line (once a second, from the main lcore). */
void report_progress(struct bench_run *r, uint64_t now);
/** One line per finished trial. */
void report_trial(FILE *f, const struct trial_result *t);
/** Final summary on f. */
void report_summary(FILE *f, const struct bench_run *r);
/** JSON to path; 0 or -errno. */
int report_json(const char *path, const struct bench_run *r);

#endif /* VPRN_BENCH_RUN_H */
