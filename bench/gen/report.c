/* SPDX-License-Identifier: BSD-3-Clause */
/* Progress line, trial lines, the final summary and the JSON document. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>

#include "espgen.h"
#include "run.h"

void report_progress(struct bench_run *r, uint64_t now)
{
	double secs = (double)(now - r->start_tsc) / (double)r->hz;
	char line[1024];
	int n;

	n = snprintf(line, sizeof(line), "[%6.1fs]", secs);
	for (unsigned int p = 0; p < r->tx.n_ports && n < (int)sizeof(line); p++) {
		struct tx_port *tp = &r->tx.ports[p];
		uint64_t pk = atomic_load_explicit(&tp->sent, memory_order_relaxed);
		uint64_t by = atomic_load_explicit(&tp->sent_bytes, memory_order_relaxed);

		n += snprintf(line + n, sizeof(line) - (size_t)n, " tx %s %.3f Mpps %.3f Gb/s |",
			r->o.tx_names[p], (double)(pk - r->last_tx_pkts[p]) / 1e6,
			(double)(by - r->last_tx_bytes[p]) * 8 / 1e9);
		r->last_tx_pkts[p] = pk;
		r->last_tx_bytes[p] = by;
	}
	for (unsigned int p = 0; p < r->rx.n_ports && n < (int)sizeof(line); p++) {
		struct rx_port *rp = &r->rx.ports[p];
		uint64_t pk = atomic_load_explicit(&rp->pkts, memory_order_relaxed);
		uint64_t by = atomic_load_explicit(&rp->bytes, memory_order_relaxed);
		struct rte_eth_stats st;

		if (rte_eth_stats_get(rp->port_id, &st) != 0)
			memset(&st, 0, sizeof(st));
		n += snprintf(line + n, sizeof(line) - (size_t)n,
			" rx %s %.3f Mpps %.3f Gb/s (missed %llu) |", r->o.rx_names[p],
			(double)(pk - r->last_rx_pkts[p]) / 1e6,
			(double)(by - r->last_rx_bytes[p]) * 8 / 1e9,
			(unsigned long long)(st.imissed + st.rx_nombuf));
		r->last_rx_pkts[p] = pk;
		r->last_rx_bytes[p] = by;
	}
	fprintf(stderr, "%s\n", line);
}

void report_trial(FILE *f, const struct trial_result *t)
{
	fprintf(f,
		"trial %-7s rate %10.0f pps/port: tx %llu (%.4f Mpps, %.3f Gb/s) rx %llu "
		"(%.4f Mpps, %.3f Gb/s) lost %llu (%.4f %%) dup %llu reord %llu",
		t->kind, t->rate_req_pps, (unsigned long long)t->tx_pkts, t->tx_pps / 1e6,
		t->tx_gbps, (unsigned long long)t->rx_pkts, t->rx_pps / 1e6, t->rx_gbps,
		(unsigned long long)t->lost, t->loss_pct, (unsigned long long)t->dup,
		(unsigned long long)t->reordered);
	if (t->lat_count > 0)
		fprintf(f, " lat p50 %.2f p99 %.2f p99.9 %.2f us", (double)t->lat_p50 / 1e3,
			(double)t->lat_p99 / 1e3, (double)t->lat_p999 / 1e3);
	fprintf(f, "\n");
	fflush(f);
}

/* Per-flow figures aggregated over the RX ports. */
struct flow_sum {
	uint64_t expected, received, unique, dup, reordered, lost, bytes;
};

static void flow_sum(const struct bench_run *r, unsigned int fl, struct flow_sum *s)
{
	uint64_t gaps = 0;

	memset(s, 0, sizeof(*s));
	for (unsigned int p = 0; p < r->rx.n_ports; p++) {
		const struct rx_flow *f = &r->rx.flows[(size_t)p * r->rx.n_flows + fl];

		s->received += f->st.received;
		s->unique += f->st.unique;
		s->dup += f->st.dup;
		s->reordered += f->st.reordered;
		s->bytes += f->bytes;
		gaps += seqtrack_lost(&f->st, 0);
	}
	if (r->o.n_rx == 0)
		return;
	if (r->tx.n_flows > 0) {
		s->expected = txgen_issued(&r->tx, fl) * r->o.expect_copies;
		s->lost = s->expected > s->unique ? s->expected - s->unique : 0;
	} else {
		s->lost = gaps;
	}
}

static void flow_name(const struct bench_run *r, unsigned int fl, char *buf, size_t len)
{
	unsigned int per_port = r->o.n_src * r->o.n_groups, in = fl % per_port;
	char a[16], b[16];

	if (r->o.n_tx == 0) { /* receiver only: the flow ids are the sender's */
		snprintf(buf, len, "-");
		return;
	}
	snprintf(buf, len, "%s>%s", bench_ip_str(r->o.src + in / r->o.n_groups, a),
		bench_ip_str(r->o.group + in % r->o.n_groups, b));
}

/* Totals over every stamped flow: what the functional test checks. */
static void totals(const struct bench_run *r, struct flow_sum *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned int fl = 0; fl < r->rx.n_flows && r->rx.flows != NULL; fl++) {
		struct flow_sum s;

		flow_sum(r, fl, &s);
		t->expected += s.expected;
		t->received += s.received;
		t->unique += s.unique;
		t->dup += s.dup;
		t->reordered += s.reordered;
		t->lost += s.lost;
	}
}

void report_summary(FILE *f, const struct bench_run *r)
{
	struct flow_sum t;
	unsigned int shown = 0;

	totals(r, &t);
	fprintf(f, "summary:\n");
	fprintf(f,
		"  sent %llu, stamped received %llu (unique %llu), lost %llu, dup %llu, "
		"reordered %llu, foreign %llu\n",
		(unsigned long long)txgen_sent_total(&r->tx), (unsigned long long)t.received,
		(unsigned long long)t.unique, (unsigned long long)t.lost, (unsigned long long)t.dup,
		(unsigned long long)t.reordered, (unsigned long long)r->rx.run.foreign);
	for (unsigned int fl = 0; fl < r->rx.n_flows && r->o.n_rx > 0 && shown < 16; fl++) {
		struct flow_sum s;
		char name[40];

		flow_sum(r, fl, &s);
		if (s.expected == 0 && s.received == 0)
			continue;
		flow_name(r, fl, name, sizeof(name));
		fprintf(f, "  flow %4u %-32s exp %10llu rx %10llu lost %llu dup %llu reord %llu\n",
			fl, name, (unsigned long long)s.expected, (unsigned long long)s.received,
			(unsigned long long)s.lost, (unsigned long long)s.dup,
			(unsigned long long)s.reordered);
		shown++;
	}
	for (unsigned int i = 0; i < BENCH_ESP_FLOWS; i++) {
		const struct esp_key *k = &r->rx.esp_keys[i];
		const struct seqtrack *st = &r->rx.esp_flows[i].st;
		char a[16];

		if (!k->used)
			continue;
		fprintf(f,
			"  esp  port %s dst %s spi 0x%08x: rx %llu gaps %llu dup %llu reord %llu\n",
			r->o.rx_names[k->port], bench_ip_str(k->dst, a), k->spi,
			(unsigned long long)st->received, (unsigned long long)seqtrack_lost(st, 0),
			(unsigned long long)st->dup, (unsigned long long)st->reordered);
	}
	if (r->rx.run.lat.count > 0)
		fprintf(f,
			"  latency (all trials): p50 %.2f us, p99 %.2f us, p99.9 %.2f us, max %.2f "
			"us\n",
			(double)hist_quantile(&r->rx.run.lat, 0.5) / 1e3,
			(double)hist_quantile(&r->rx.run.lat, 0.99) / 1e3,
			(double)hist_quantile(&r->rx.run.lat, 0.999) / 1e3,
			(double)r->rx.run.lat.max_ns / 1e3);
	if (r->searched) {
		fprintf(f, "  maximum throughput:   %.4f Mpps, %.3f Gb/s (received)\n",
			r->max_pps / 1e6, r->max_gbps);
		fprintf(f, "  zero-loss throughput: %.4f Mpps, %.3f Gb/s (loss <= %g %%)\n",
			r->zero_loss_pps / 1e6, r->zero_loss_gbps, r->o.search_loss);
		if (r->latency_trial >= 0) {
			const struct trial_result *l = &r->trials[r->latency_trial];

			fprintf(f,
				"  latency at %.0f %%: p50 %.2f us, p99 %.2f us, p99.9 %.2f us\n",
				r->o.latency_load * 100, (double)l->lat_p50 / 1e3,
				(double)l->lat_p99 / 1e3, (double)l->lat_p999 / 1e3);
		}
	}
}

static void json_trial(FILE *f, const struct trial_result *t)
{
	fprintf(f,
		"{\"kind\": \"%s\", \"rate_req_pps\": %.1f, \"tx_secs\": %.6f, \"tx_pkts\": %llu, "
		"\"tx_bytes\": %llu, \"rx_pkts\": %llu, \"rx_bytes\": %llu, \"rx_unique\": %llu, "
		"\"lost\": %llu, \"loss_pct\": %.6f, \"dup\": %llu, \"reordered\": %llu, "
		"\"foreign\": %llu, \"tx_pps\": %.1f, \"rx_pps\": %.1f, \"tx_gbps\": %.6f, "
		"\"rx_gbps\": %.6f, \"pass\": %s, \"latency_ns\": {\"count\": %llu, \"min\": %llu, "
		"\"p50\": %llu, \"p99\": %llu, \"p999\": %llu, \"max\": %llu, \"mean\": %llu}}",
		t->kind, t->rate_req_pps, t->tx_secs, (unsigned long long)t->tx_pkts,
		(unsigned long long)t->tx_bytes, (unsigned long long)t->rx_pkts,
		(unsigned long long)t->rx_bytes, (unsigned long long)t->rx_unique,
		(unsigned long long)t->lost, t->loss_pct, (unsigned long long)t->dup,
		(unsigned long long)t->reordered, (unsigned long long)t->foreign, t->tx_pps,
		t->rx_pps, t->tx_gbps, t->rx_gbps, t->pass ? "true" : "false",
		(unsigned long long)t->lat_count, (unsigned long long)t->lat_min,
		(unsigned long long)t->lat_p50, (unsigned long long)t->lat_p99,
		(unsigned long long)t->lat_p999, (unsigned long long)t->lat_max,
		(unsigned long long)t->lat_mean);
}

static void json_config(FILE *f, const struct bench_opts *o)
{
	char a[16], b[16];

	fprintf(f, "  \"config\": {\"tx\": [");
	for (unsigned int i = 0; i < o->n_tx; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", o->tx_names[i]);
	fprintf(f, "], \"rx\": [");
	for (unsigned int i = 0; i < o->n_rx; i++)
		fprintf(f, "%s\"%s\"", i ? ", " : "", o->rx_names[i]);
	fprintf(f,
		"], \"src\": \"%s\", \"n_src\": %u, \"group\": \"%s\", \"n_groups\": %u, "
		"\"size\": \"%s\", \"rate_pps\": %.1f, \"duration_s\": %.3f, \"count\": %llu, "
		"\"burst\": %u, \"expect_copies\": %u, \"search_loss_pct\": %g, \"trial_s\": %.3f, "
		"\"latency_load\": %.3f, \"lcores\": %u},\n",
		bench_ip_str(o->src, a), o->n_src, bench_ip_str(o->group, b), o->n_groups,
		o->size_spec, o->rate_pps, o->duration_s, (unsigned long long)o->count, o->burst,
		o->expect_copies, o->search_loss, o->trial_s, o->latency_load, rte_lcore_count());
}

static void json_ports(FILE *f, const struct bench_run *r)
{
	fprintf(f, "  \"ports\": [");
	for (unsigned int i = 0; i < r->o.n_tx + r->o.n_rx; i++) {
		bool tx = i < r->o.n_tx;
		uint16_t id = tx ? r->tx_ids[i] : r->rx_ids[i - r->o.n_tx];
		struct rte_eth_stats st;

		if (rte_eth_stats_get(id, &st) != 0)
			memset(&st, 0, sizeof(st));
		fprintf(f,
			"%s\n    {\"name\": \"%s\", \"id\": %u, \"role\": \"%s\", \"ipackets\": "
			"%llu, "
			"\"opackets\": %llu, \"imissed\": %llu, \"ierrors\": %llu, \"oerrors\": "
			"%llu, "
			"\"rx_nombuf\": %llu}",
			i ? "," : "", tx ? r->o.tx_names[i] : r->o.rx_names[i - r->o.n_tx], id,
			tx ? "tx" : "rx", (unsigned long long)st.ipackets,
			(unsigned long long)st.opackets, (unsigned long long)st.imissed,
			(unsigned long long)st.ierrors, (unsigned long long)st.oerrors,
			(unsigned long long)st.rx_nombuf);
	}
	fprintf(f, "],\n");
}

static void json_flows(FILE *f, const struct bench_run *r)
{
	bool first = true;

	fprintf(f, "  \"flows\": [");
	for (unsigned int fl = 0; fl < r->rx.n_flows && r->o.n_rx > 0; fl++) {
		struct flow_sum s;
		char name[40];

		flow_sum(r, fl, &s);
		if (s.expected == 0 && s.received == 0)
			continue;
		flow_name(r, fl, name, sizeof(name));
		fprintf(f,
			"%s\n    {\"flow\": %u, \"name\": \"%s\", \"expected\": %llu, "
			"\"received\": %llu, "
			"\"unique\": %llu, \"lost\": %llu, \"dup\": %llu, \"reordered\": %llu}",
			first ? "" : ",", fl, name, (unsigned long long)s.expected,
			(unsigned long long)s.received, (unsigned long long)s.unique,
			(unsigned long long)s.lost, (unsigned long long)s.dup,
			(unsigned long long)s.reordered);
		first = false;
	}
	fprintf(f, "],\n  \"esp_flows\": [");
	first = true;
	for (unsigned int i = 0; i < BENCH_ESP_FLOWS; i++) {
		const struct esp_key *k = &r->rx.esp_keys[i];
		const struct seqtrack *st = &r->rx.esp_flows[i].st;
		char a[16];

		if (!k->used)
			continue;
		fprintf(f,
			"%s\n    {\"port\": \"%s\", \"dst\": \"%s\", \"spi\": %u, \"received\": "
			"%llu, "
			"\"unique\": %llu, \"gaps\": %llu, \"dup\": %llu, \"reordered\": %llu}",
			first ? "" : ",", r->o.rx_names[k->port], bench_ip_str(k->dst, a), k->spi,
			(unsigned long long)st->received, (unsigned long long)st->unique,
			(unsigned long long)seqtrack_lost(st, 0), (unsigned long long)st->dup,
			(unsigned long long)st->reordered);
		first = false;
	}
	fprintf(f, "],\n");
}

int report_json(const char *path, const struct bench_run *r)
{
	FILE *f = fopen(path, "w");
	struct flow_sum t;

	if (f == NULL) {
		fprintf(stderr, "vprn-bench: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	totals(r, &t);
	fprintf(f, "{\n  \"tool\": \"vprn-bench\",\n");
	json_config(f, &r->o);
	json_ports(f, r);
	json_flows(f, r);
	fprintf(f, "  \"trials\": [");
	for (unsigned int i = 0; i < r->n_trials; i++) {
		fprintf(f, "%s\n    ", i ? "," : "");
		json_trial(f, &r->trials[i]);
	}
	fprintf(f, "],\n");
	fprintf(f,
		"  \"totals\": {\"sent\": %llu, \"expected\": %llu, \"received\": %llu, "
		"\"unique\": %llu, "
		"\"lost\": %llu, \"dup\": %llu, \"reordered\": %llu, \"foreign\": %llu, "
		"\"esp_overflow\": %llu, \"esp_refused\": %llu, \"arp_replies\": %llu}",
		(unsigned long long)txgen_sent_total(&r->tx), (unsigned long long)t.expected,
		(unsigned long long)t.received, (unsigned long long)t.unique,
		(unsigned long long)t.lost, (unsigned long long)t.dup,
		(unsigned long long)t.reordered, (unsigned long long)r->rx.run.foreign,
		(unsigned long long)r->rx.esp_overflow,
		(unsigned long long)(r->tx.esp ? espgen_refused(r->tx.esp) : 0),
		(unsigned long long)r->rx.arp_replies);
	if (r->searched) {
		fprintf(f,
			",\n  \"search\": {\"max_pps\": %.1f, \"max_gbps\": %.6f, "
			"\"zero_loss_pps\": %.1f, "
			"\"zero_loss_gbps\": %.6f, \"zero_loss_rate_req_pps\": %.1f, \"loss_pct\": "
			"%g",
			r->max_pps, r->max_gbps, r->zero_loss_pps, r->zero_loss_gbps,
			r->zero_loss_rate_req, r->o.search_loss);
		if (r->latency_trial >= 0) {
			fprintf(f, ", \"latency\": ");
			json_trial(f, &r->trials[r->latency_trial]);
		}
		fprintf(f, "}");
	}
	fprintf(f, "\n}\n");
	return fclose(f) == 0 ? 0 : -errno;
}
