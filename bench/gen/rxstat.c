/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The receiver: classifies every packet as one of ours (the stamp after an
 * IPv4/UDP header: flow id, sequence number, TSC), ESP (flow = outer
 * destination + SPI, sequence = the ESP sequence number, no latency: the
 * payload is encrypted), or foreign; tracks sequence numbers per
 * (RX port, flow) and the latency of stamped packets.
 */
#include <errno.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>

#include "bench.h"
#include "classify.h"
#include "stamp.h"

static void totals_reset(struct rx_totals *t)
{
	memset(t, 0, sizeof(*t));
	hist_reset(&t->lat);
}

int rxstat_init(
	struct rxstat *r, const struct bench_opts *o, const uint16_t *ports, unsigned int n_flows)
{
	size_t n;

	memset(r, 0, sizeof(*r));
	r->o = o;
	r->n_ports = o->n_rx;
	r->n_flows = n_flows;
	for (unsigned int p = 0; p < r->n_ports; p++)
		r->ports[p].port_id = ports[p];
	n = (size_t)r->n_ports * n_flows;
	r->flows =
		rte_zmalloc("bench_rx_flows", sizeof(*r->flows) * (n ? n : 1), RTE_CACHE_LINE_SIZE);
	if (r->flows == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		seqtrack_init(&r->flows[i].st, 0);
	totals_reset(&r->trial);
	totals_reset(&r->run);
	totals_reset(&r->snapshot);
	r->ns_per_tsc = 1e9 / (double)rte_get_tsc_hz();
	return 0;
}

void rxstat_fini(struct rxstat *r)
{
	rte_free(r->flows);
	r->flows = NULL;
}

static struct rx_flow *esp_flow(struct rxstat *r, unsigned int port, uint32_t dst, uint32_t spi)
{
	uint32_t h = (dst * 2654435761u) ^ (spi * 40503u) ^ port;

	for (unsigned int i = 0; i < BENCH_ESP_FLOWS; i++) {
		unsigned int s = (h + i) & (BENCH_ESP_FLOWS - 1);
		struct esp_key *k = &r->esp_keys[s];

		if (!k->used) {
			*k = (struct esp_key){ dst, spi, (uint16_t)port, true };
			seqtrack_init(&r->esp_flows[s].st, 1); /* ESP sequence numbers start at 1 */
			r->n_esp++;
			return &r->esp_flows[s];
		}
		if (k->dst == dst && k->spi == spi && k->port == port)
			return &r->esp_flows[s];
	}
	return NULL;
}

static void count(struct rxstat *r, struct rx_flow *f, uint32_t seq, uint32_t bytes)
{
	enum seqtrack_verdict v = seqtrack_add(&f->st, seq);

	f->bytes += bytes;
	r->trial.pkts++;
	r->trial.bytes += bytes;
	r->run.pkts++;
	r->run.bytes += bytes;
	if (v == SEQ_DUP) {
		r->trial.dup++;
		r->run.dup++;
		return;
	}
	r->trial.unique++;
	r->run.unique++;
	if (v == SEQ_REORDERED || v == SEQ_LATE) {
		r->trial.reordered++;
		r->run.reordered++;
	}
}

static void count_esp(
	struct rxstat *r, unsigned int port, const struct pkt_info *pi, uint32_t bytes)
{
	struct rx_flow *f = esp_flow(r, port, pi->dst, pi->spi);

	if (f == NULL) {
		r->esp_overflow++;
		r->trial.foreign++;
		r->run.foreign++;
		return;
	}
	count(r, f, pi->esp_seq, bytes);
}

static void count_stamp(struct rxstat *r, unsigned int port, const struct bench_stamp *st,
	uint32_t bytes, uint64_t now)
{
	uint64_t ns;

	count(r, &r->flows[(size_t)port * r->n_flows + st->flow], st->seq, bytes);
	/* TSCs of two cores may differ by a few cycles: a negative delay counts as 0. */
	ns = st->tsc < now ? (uint64_t)((double)(now - st->tsc) * r->ns_per_tsc) : 0;
	hist_add(&r->trial.lat, ns);
	hist_add(&r->run.lat, ns);
}

/* --arp-reply: turn an ARP request (Ethernet/IPv4) into the reply from this
 * port's MAC, whatever address it asks for, and send it; true if consumed. */
static bool arp_reply(struct rxstat *r, unsigned int port, struct rte_mbuf *m)
{
	struct rx_port *rp = &r->ports[port];
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *ah = (struct rte_arp_hdr *)(eh + 1);
	uint32_t ip;

	if (!rp->arp_tx || m->data_len < sizeof(*eh) + sizeof(*ah) ||
		eh->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP) ||
		ah->arp_opcode != rte_cpu_to_be_16(RTE_ARP_OP_REQUEST) ||
		ah->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
		ah->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) || ah->arp_hlen != 6 ||
		ah->arp_plen != 4)
		return false;
	eh->dst_addr = eh->src_addr;
	eh->src_addr = rp->mac;
	ah->arp_opcode = rte_cpu_to_be_16(RTE_ARP_OP_REPLY);
	ah->arp_data.arp_tha = ah->arp_data.arp_sha;
	ah->arp_data.arp_sha = rp->mac;
	ip = ah->arp_data.arp_tip;
	ah->arp_data.arp_tip = ah->arp_data.arp_sip;
	ah->arp_data.arp_sip = ip;
	if (rte_eth_tx_burst(rp->port_id, 0, &m, 1) != 1)
		rte_pktmbuf_free(m);
	else
		r->arp_replies++;
	return true;
}

/* One packet: ours, ESP or foreign (headers in the first segment only). */
static void classify(struct rxstat *r, unsigned int port, struct rte_mbuf *m, uint64_t now)
{
	uint32_t bytes = m->pkt_len + BENCH_FCS_LEN;
	struct pkt_info pi;

	switch (bench_classify(rte_pktmbuf_mtod(m, const uint8_t *), m->data_len, &pi)) {
	case PKT_STAMP:
		if (pi.stamp.flow < r->n_flows) {
			count_stamp(r, port, &pi.stamp, bytes, now);
			return;
		}
		break;
	case PKT_ESP:
		count_esp(r, port, &pi, bytes);
		return;
	case PKT_FOREIGN:
		break;
	}
	r->trial.foreign++;
	r->run.foreign++;
}

unsigned int rxstat_poll(struct rxstat *r)
{
	struct rte_mbuf *pkts[BENCH_MAX_BURST];
	unsigned int total = 0;

	for (unsigned int pq = 0; pq < r->n_ports * r->o->n_queues; pq++) {
		unsigned int p = pq / r->o->n_queues;
		struct rx_port *rp = &r->ports[p];
		uint16_t n = rte_eth_rx_burst(
			rp->port_id, (uint16_t)(pq % r->o->n_queues), pkts, BENCH_MAX_BURST);
		uint64_t now, bytes = 0;

		if (n == 0)
			continue;
		now = rte_rdtsc();
		if (r->trial.first_tsc == 0)
			r->trial.first_tsc = now;
		if (r->run.first_tsc == 0)
			r->run.first_tsc = now;
		r->trial.last_tsc = now;
		r->run.last_tsc = now;
		for (uint16_t i = 0; i < n; i++) {
			bytes += pkts[i]->pkt_len + BENCH_FCS_LEN;
			if (r->o->arp_reply && arp_reply(r, p, pkts[i]))
				pkts[i] = NULL; /* sent or freed; free_bulk skips NULL */
			else
				classify(r, p, pkts[i], now);
		}
		rte_pktmbuf_free_bulk(pkts, n);
		/* Single writer; relaxed: progress readers only need a recent value. */
		atomic_store_explicit(&rp->pkts,
			atomic_load_explicit(&rp->pkts, memory_order_relaxed) + n,
			memory_order_relaxed);
		atomic_store_explicit(&rp->bytes,
			atomic_load_explicit(&rp->bytes, memory_order_relaxed) + bytes,
			memory_order_relaxed);
		total += n;
	}
	rxstat_serve(r);
	return total;
}

void rxstat_serve(struct rxstat *r)
{
	/* Acquire/release: main reads `snapshot` only after seeing the ack. */
	uint32_t req = atomic_load_explicit(&r->ck_req, memory_order_acquire);

	if (req == atomic_load_explicit(&r->ck_ack, memory_order_relaxed))
		return;
	r->snapshot = r->trial;
	totals_reset(&r->trial);
	atomic_store_explicit(&r->ck_ack, req, memory_order_release);
}
