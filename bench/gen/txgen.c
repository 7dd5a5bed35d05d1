/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The generator: IPv4 UDP packets to every (source, group) flow of each TX
 * port in turn, sizes from a fixed pattern (IMIX spread out evenly), paced by
 * a token bucket on the TSC, each stamped with flow id, sequence number and
 * TSC. Bursts the device refuses are retried first on the next pass, never
 * dropped: a sequence number issued is a packet sent, so loss is never the
 * generator's own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_malloc.h>
#include <rte_udp.h>

#include "bench.h"
#include "espgen.h"
#include "stamp.h"

/* Smooth weighted round robin: spreads each size over the whole pattern. */
static void build_size_pattern(struct txgen *g)
{
	const struct bench_opts *o = g->o;
	int64_t cur[BENCH_MAX_SIZES] = { 0 };
	int64_t total = 0;

	for (unsigned int i = 0; i < o->n_sizes; i++)
		total += o->sizes[i].weight;
	if (total > (int64_t)RTE_DIM(g->size_pattern))
		total = RTE_DIM(g->size_pattern);
	for (int64_t n = 0; n < total; n++) {
		unsigned int best = 0;

		for (unsigned int i = 0; i < o->n_sizes; i++) {
			cur[i] += o->sizes[i].weight;
			if (cur[i] > cur[best])
				best = i;
		}
		cur[best] -= total;
		g->size_pattern[n] = (uint16_t)(o->sizes[best].len - BENCH_FCS_LEN);
	}
	g->n_pattern = (unsigned int)total;
}

static void flow_template(struct tx_flow *f, const struct bench_opts *o,
	const struct rte_ether_addr *src_mac, uint32_t src, uint32_t dst)
{
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f->hdr;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(eth + 1);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

	memset(f->hdr, 0, sizeof(f->hdr));
	if (o->dst_mac_set) {
		memcpy(eth->dst_addr.addr_bytes, o->dst_mac, 6);
	} else if ((dst >> 28) == 0xe) { /* RFC 1112 §6.4: 01:00:5e + low 23 bits */
		uint8_t m[6] = { 0x01, 0x00, 0x5e, (dst >> 16) & 0x7f, (dst >> 8) & 0xff,
			dst & 0xff };
		memcpy(eth->dst_addr.addr_bytes, m, 6);
	} else {
		memset(eth->dst_addr.addr_bytes, 0xff, 6);
	}
	eth->src_addr = *src_mac;
	eth->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->time_to_live = o->ttl;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = rte_cpu_to_be_32(src);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	udp->src_port = rte_cpu_to_be_16(o->sport);
	udp->dst_port = rte_cpu_to_be_16(o->dport);
	/* Total length and checksum 0: the per-packet length is added to this sum. */
	f->ip_cksum_base = rte_raw_cksum(ip, sizeof(*ip));
	f->seq = 0;
	f->issued = 0;
}

int txgen_init(struct txgen *g, const struct bench_opts *o, const uint16_t *ports,
	struct rte_mempool *pool)
{
	unsigned int per_port = o->n_src * o->n_groups;

	memset(g, 0, sizeof(*g));
	g->o = o;
	g->pool = pool;
	g->hz = rte_get_tsc_hz();
	g->swap_pending = UINT32_MAX;
	g->n_ports = o->n_tx;
	g->n_flows = per_port * o->n_tx;
	g->flows = rte_zmalloc("bench_tx_flows", sizeof(*g->flows) * (g->n_flows ? g->n_flows : 1),
		RTE_CACHE_LINE_SIZE);
	if (g->flows == NULL)
		return -ENOMEM;
	for (unsigned int p = 0; p < o->n_tx; p++) {
		struct tx_port *tp = &g->ports[p];
		struct rte_ether_addr mac;

		tp->port_id = ports[p];
		tp->first_flow = p * per_port;
		tp->n_flows = per_port;
		if (rte_eth_macaddr_get(tp->port_id, &mac) != 0)
			memset(&mac, 0, sizeof(mac));
		for (unsigned int s = 0; s < o->n_src; s++)
			for (unsigned int q = 0; q < o->n_groups; q++)
				flow_template(&g->flows[tp->first_flow + s * o->n_groups + q], o,
					&mac, o->src + s, o->group + q);
	}
	build_size_pattern(g);
	return 0;
}

void txgen_fini(struct txgen *g)
{
	for (unsigned int p = 0; p < g->n_ports; p++)
		rte_pktmbuf_free_bulk(g->ports[p].pending, g->ports[p].n_pending);
	rte_free(g->flows);
	g->flows = NULL;
}

/* Flow 0's sequence numbers go through the --inject test seam. */
static uint32_t flow0_next_seq(struct txgen *g, struct tx_flow *f)
{
	const struct bench_opts *o = g->o;
	uint32_t s;

	if (g->swap_pending != UINT32_MAX) {
		s = g->swap_pending;
		g->swap_pending = UINT32_MAX;
		return s;
	}
	for (unsigned int i = 0; i < o->n_inject; i++) {
		if (g->inject_done[i] || o->inject[i].seq != f->seq)
			continue;
		g->inject_done[i] = true;
		switch (o->inject[i].kind) {
		case INJECT_DROP: /* issued, never sent */
			f->seq++;
			f->issued++;
			break;
		case INJECT_DUP: /* sent now and again next time */
			g->swap_pending = f->seq;
			break;
		case INJECT_SWAP: /* S+1 now, S next time */
			g->swap_pending = f->seq;
			f->seq += 2;
			f->issued += 2;
			return g->swap_pending + 1;
		}
		break;
	}
	f->issued++;
	return f->seq++;
}

static inline void build_one(struct txgen *g, struct tx_port *tp, struct rte_mbuf *m, uint64_t tsc)
{
	unsigned int fi = tp->first_flow + tp->next_flow;
	struct tx_flow *f = &g->flows[fi];
	uint16_t len = g->size_pattern[g->next_size];
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(d + sizeof(struct rte_ether_hdr));
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	struct bench_stamp *st = (struct bench_stamp *)(udp + 1);
	uint16_t ip_len = (uint16_t)(len - sizeof(struct rte_ether_hdr));
	uint32_t sum;

	if (++tp->next_flow == tp->n_flows)
		tp->next_flow = 0;
	if (++g->next_size == g->n_pattern)
		g->next_size = 0;
	memcpy(d, f->hdr, BENCH_HDR_LEN);
	ip->total_length = rte_cpu_to_be_16(ip_len);
	sum = (uint32_t)f->ip_cksum_base + ip->total_length;
	sum = (sum & 0xffff) + (sum >> 16);
	ip->hdr_checksum = (uint16_t)(sum == 0xffff ? sum : ~sum);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ip_len - sizeof(*ip)));
	st->magic = BENCH_STAMP_MAGIC;
	st->flow = (uint16_t)fi;
	st->seq = fi == 0 && g->o->n_inject > 0 ? flow0_next_seq(g, f) : (f->issued++, f->seq++);
	st->tsc = tsc;
	m->data_len = len;
	m->pkt_len = len;
}

/* How many packets the token bucket allows now (rate 0: a full burst). */
static unsigned int bucket_take(struct txgen *g, struct tx_port *tp, uint64_t now)
{
	double rate = g->ctl.rate_pps;
	double cap;

	if (rate <= 0)
		return g->o->burst;
	/*
	 * Credit of up to 1 ms (at most 512 packets, half a typical ring): a
	 * generator preempted by the OS catches up on its mean rate in one
	 * burst instead of losing the time; on a dedicated core it never has
	 * more than a burst or two of credit.
	 */
	cap = rate * 1e-3;
	if (cap > 512)
		cap = 512;
	if (cap < 2.0 * g->o->burst)
		cap = 2.0 * g->o->burst;
	tp->tokens += (double)(now - tp->last_tsc) * rate / (double)g->hz;
	tp->last_tsc = now;
	if (tp->tokens > cap)
		tp->tokens = cap;
	return tp->tokens >= g->o->burst ? g->o->burst : (unsigned int)tp->tokens;
}

static void new_trial(struct txgen *g, uint32_t gen)
{
	uint64_t now = rte_rdtsc();

	g->seen_gen = gen;
	for (unsigned int p = 0; p < g->n_ports; p++) {
		g->ports[p].built = 0;
		g->ports[p].tokens = 0;
		g->ports[p].last_tsc = now;
	}
}

/* Retry what the device refused, else build a new burst if `on`. */
static unsigned int port_poll(struct txgen *g, struct tx_port *tp, bool on, bool *busy)
{
	struct rte_mbuf *pkts[BENCH_MAX_BURST];
	uint64_t now, bytes = 0;
	unsigned int n, sent;

	if (tp->n_pending > 0) {
		sent = rte_eth_tx_burst(tp->port_id, 0, tp->pending, (uint16_t)tp->n_pending);
		for (unsigned int i = 0; i < sent; i++)
			bytes += tp->pending[i]->pkt_len + BENCH_FCS_LEN;
		memmove(tp->pending, tp->pending + sent, (tp->n_pending - sent) * sizeof(pkts[0]));
		tp->n_pending -= sent;
		*busy = true;
		goto count;
	}
	if (!on || (g->ctl.max_pkts != 0 && tp->built >= g->ctl.max_pkts))
		return 0;
	*busy = true;
	now = rte_rdtsc();
	n = bucket_take(g, tp, now);
	if (g->ctl.max_pkts != 0 && tp->built + n > g->ctl.max_pkts)
		n = (unsigned int)(g->ctl.max_pkts - tp->built);
	if (n == 0 || rte_pktmbuf_alloc_bulk(g->pool, pkts, n) != 0)
		return 0;
	for (unsigned int i = 0; i < n; i++)
		build_one(g, tp, pkts[i], now);
	if (g->esp != NULL)
		n = espgen_encrypt(g->esp, pkts, (uint16_t)n);
	if (g->ctl.rate_pps > 0)
		tp->tokens -= n;
	tp->built += n;
	sent = rte_eth_tx_burst(tp->port_id, 0, pkts, (uint16_t)n);
	for (unsigned int i = 0; i < sent; i++)
		bytes += pkts[i]->pkt_len + BENCH_FCS_LEN;
	memcpy(tp->pending, pkts + sent, (n - sent) * sizeof(pkts[0]));
	tp->n_pending = n - sent;
count:
	/* Single writer; relaxed: progress readers only need a recent value. */
	atomic_store_explicit(&tp->sent,
		atomic_load_explicit(&tp->sent, memory_order_relaxed) + sent, memory_order_relaxed);
	atomic_store_explicit(&tp->sent_bytes,
		atomic_load_explicit(&tp->sent_bytes, memory_order_relaxed) + bytes,
		memory_order_relaxed);
	return sent;
}

unsigned int txgen_poll(struct txgen *g)
{
	unsigned int total = 0;
	uint32_t gen;
	bool on, busy = false;

	/*
	 * Acquire on `on`, then on `gen`: main bumps gen before it sets on (both
	 * release), so seeing on == true means this trial's gen, rate and max_pkts
	 * are visible too and the bucket is reset before the first packet.
	 */
	on = atomic_load_explicit(&g->ctl.on, memory_order_acquire);
	gen = atomic_load_explicit(&g->ctl.gen, memory_order_acquire);
	if (gen != g->seen_gen)
		new_trial(g, gen);
	on = on && !atomic_load_explicit(&g->ctl.done, memory_order_relaxed);
	for (unsigned int p = 0; p < g->n_ports; p++)
		total += port_poll(g, &g->ports[p], on, &busy);
	if (on && !busy)
		atomic_store_explicit(&g->ctl.done, true, memory_order_release);
	return total;
}

uint64_t txgen_issued(const struct txgen *g, unsigned int flow)
{
	return flow < g->n_flows ? g->flows[flow].issued : 0;
}

uint64_t txgen_sent_total(const struct txgen *g)
{
	uint64_t n = 0;

	for (unsigned int p = 0; p < g->n_ports; p++)
		n += atomic_load_explicit(&g->ports[p].sent, memory_order_relaxed);
	return n;
}
