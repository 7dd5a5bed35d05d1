/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Clear UDP site-to-site probes (docs/ed.md, "Probes"). Every pair of sites
 * is probed, tree neighbours or not, so probes cannot ride a pairwise SA:
 * they travel as plain UDP between WAN addresses, authenticated end to end
 * by the control thread (HMAC), never trusted here.
 *
 * Worker side: a UDP packet to our WAN address and conf.probe_port is punted
 * (DP_PUNT_PROBE, data at the IPv4 header, like a probe received inside
 * ESP), through a token bucket (probe_rate per second per worker), stamped
 * with the TSC so that the control thread's polling period does not add to
 * the measured RTT.
 * Control side: dp_inject_probe() builds Ethernet + IPv4 + UDP from our WAN
 * address to one unicast peer and hands it to worker 0.
 */

#include <errno.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_udp.h>

#include "common/clock.h"
#include "dataplane/cfg.h"
#include "dataplane/dp_priv.h"
#include "dataplane/parse.h"
#include "dataplane/pipeline.h"
#include "dataplane/proto.h"

#define DP_DEFAULT_PROBE_RATE 200
#define UDP_HDR_LEN 8
#define PROBE_TTL 64

int dp_probe_init(struct dp *dp)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "vprn_dp_punt_tsc",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	int off = rte_mbuf_dynfield_register(&desc); /* same offset on every call */

	dp->punt_ts_off = off;
	return off < 0 ? -rte_errno : 0;
}

void dp_wan_probe(struct dp_worker *w, struct rte_mbuf *m, const struct dp_parsed *pi)
{
	uint64_t rate =
		w->dp->conf.probe_rate != 0 ? w->dp->conf.probe_rate : DP_DEFAULT_PROBE_RATE;
	uint64_t now = rte_rdtsc();

	if (!dp_bucket_take(&w->probe_tokens, &w->probe_last_tsc, now, rate)) {
		dp_drop(w, m, DP_DROP_PROBE_RATE);
		return;
	}
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - pi->l2_len - pi->ip_len));
	rte_pktmbuf_adj(m, pi->l2_len);
	dp_punt(w, m, DP_PORT_WAN, DP_PUNT_PROBE);
}

/* Punt side: stamp a probe (dp_punt); dequeue side: back to monotonic ns. */
void dp_probe_stamp(const struct dp *dp, struct rte_mbuf *m)
{
	if (dp->punt_ts_off >= 0)
		*RTE_MBUF_DYNFIELD(m, dp->punt_ts_off, uint64_t *) = rte_rdtsc();
}

uint64_t dp_probe_rx_ns(const struct dp *dp, const struct rte_mbuf *m)
{
	uint64_t now_ns = vprn_now_ns(), now = rte_rdtsc(), then, age;

	if (dp->punt_ts_off < 0)
		return now_ns;
	then = *RTE_MBUF_DYNFIELD(m, dp->punt_ts_off, const uint64_t *);
	age = now > then ? (now - then) * 1000000000ull / rte_get_tsc_hz() : 0;
	return age < now_ns ? now_ns - age : now_ns;
}

/* Fail-closed: only a plain unicast peer address. */
static bool probe_dst_ok(const struct dp *dp, uint32_t dst)
{
	uint32_t mask = dp->conf.wan.prefix_len == 0 ? 0 : ~0u << (32 - dp->conf.wan.prefix_len);

	if ((dst >> 24) == 0 || (dst >> 24) == 127)
		return false; /* "this network", loopback (RFC 1122 §3.2.1.3) */
	if ((dst & IPV4_MCAST_MASK) == IPV4_MCAST_NET || (dst >> 28) == 0xf)
		return false; /* multicast 224/4, reserved 240/4 and 255.255.255.255 */
	if (dst == dp->conf.wan.addr)
		return false;
	if (dp->conf.wan.prefix_len <= 30 && (dst & mask) == (dp->conf.wan.addr & mask) &&
		((dst & ~mask) == 0 || (dst & ~mask) == ~mask))
		return false; /* the WAN subnet's network or directed broadcast */
	return true;
}

/* Note that `nh` is in use (caller holds cfg_lock). @return 0 or -ENOSPC. */
static int probe_nh_use(struct dp *dp, uint32_t nh, uint64_t now_ms)
{
	struct dp_probe_nh *free_e = NULL;

	for (unsigned int i = 0; i < DP_PROBE_NH_MAX; i++) {
		struct dp_probe_nh *p = &dp->probe_nh[i];

		if (p->ip == nh) {
			p->last_use_ms = now_ms;
			return 0;
		}
		if (free_e == NULL && (p->ip == 0 || now_ms - p->last_use_ms > DP_PROBE_NH_IDLE_MS))
			free_e = p;
	}
	if (free_e == NULL)
		return -ENOSPC;
	free_e->ip = nh;
	free_e->last_use_ms = now_ms;
	return 0;
}

int dp_inject_probe(struct dp *dp, uint32_t dst, const void *payload, size_t len)
{
	uint8_t f[ETH_HDR_LEN + IPV4_MIN_HDR_LEN + UDP_HDR_LEN + DP_PROBE_MAX_PAYLOAD];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + ETH_HDR_LEN);
	struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);
	uint64_t now_ms = vprn_now_ms();
	uint8_t mac[6];
	uint16_t id;
	uint32_t nh;
	int rc;

	if (dp == NULL || (payload == NULL && len != 0) || len > DP_PROBE_MAX_PAYLOAD ||
		dp->conf.probe_port == 0 || dp->conf.wan.addr == 0 || !probe_dst_ok(dp, dst))
		return -EINVAL;
	nh = dp_next_hop(dp, dst);
	pthread_mutex_lock(&dp->cfg_lock);
	rc = probe_nh_use(dp, nh, now_ms);
	if (rc == 0)
		rc = dp_arp_lookup(dp, nh, mac); /* dp_service() asks ARP for it */
	id = rc == 0 ? dp->probe_ip_id++ : 0;
	pthread_mutex_unlock(&dp->cfg_lock);
	if (rc == -ENOENT)
		rc = -EAGAIN;
	if (rc != 0)
		return rc;
	memcpy(&eth->dst_addr, mac, 6);
	eth->src_addr = dp->port[DP_PORT_WAN].mac;
	eth->ether_type = rte_cpu_to_be_16(ETHERTYPE_IPV4);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IPV4_MIN_HDR_LEN + UDP_HDR_LEN + len));
	ip->packet_id = rte_cpu_to_be_16(id);
	ip->fragment_offset = rte_cpu_to_be_16(IPV4_FLAG_DF);
	ip->time_to_live = PROBE_TTL;
	ip->next_proto_id = IPPROTO_NUM_UDP;
	ip->src_addr = rte_cpu_to_be_32(dp->conf.wan.addr);
	ip->dst_addr = rte_cpu_to_be_32(dst);
	udp->src_port = udp->dst_port = rte_cpu_to_be_16(dp->conf.probe_port);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(UDP_HDR_LEN + len));
	udp->dgram_cksum = 0;
	if (len != 0)
		memcpy(udp + 1, payload, len);
	udp->dgram_cksum = rte_ipv4_udptcp_cksum(ip, udp);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	return dp_inject_frame(dp, DP_WAN, f, ETH_HDR_LEN + IPV4_MIN_HDR_LEN + UDP_HDR_LEN + len);
}
