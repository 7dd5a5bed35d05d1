/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * WAN ingress (DESIGN section 2): validate, answer ARP, accept only IPv4
 * addressed to our WAN address carrying ESP (or ESP in UDP to the
 * configured port, RFC 3948) or a probe (probe.c); strip L2 and hand the rest to the inbound ESP
 * stage (inbound.c). Everything else is dropped with its reason.
 */

#include <rte_mbuf.h>

#include "dataplane/parse.h"
#include "dataplane/pipeline.h"
#include "dataplane/proto.h"
#include "dataplane/tables.h"

#define UDP_HDR_LEN 8

static bool wan_is_esp(const struct dp *dp, const struct dp_parsed *pi, const uint8_t *ip)
{
	const uint8_t *udp = ip + pi->ihl;

	if (pi->proto == IPPROTO_NUM_ESP)
		return true;
	if (pi->proto != IPPROTO_NUM_UDP || dp->conf.udp_encap_port == 0)
		return false;
	if (pi->ip_len < pi->ihl + UDP_HDR_LEN)
		return false;
	return ((udp[2] << 8) | udp[3]) == dp->conf.udp_encap_port;
}

/* A clear UDP probe (probe.c): unfragmented UDP to the probe port. */
static bool wan_is_probe(const struct dp *dp, const struct dp_parsed *pi, const uint8_t *ip)
{
	const uint8_t *udp = ip + pi->ihl;

	if (pi->proto != IPPROTO_NUM_UDP || dp->conf.probe_port == 0 ||
		(pi->frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) != 0 ||
		pi->ip_len < pi->ihl + UDP_HDR_LEN)
		return false;
	return ((udp[2] << 8) | udp[3]) == dp->conf.probe_port;
}

/* Returns true when m is an ESP packet for us, L2 removed; otherwise consumed. */
static bool wan_classify(struct dp_worker *w, struct rte_mbuf *m)
{
	const struct dp *dp = w->dp;
	struct dp_parsed pi;
	const uint8_t *data;
	int r;

	if (unlikely(m->nb_segs != 1)) {
		dp_drop(w, m, DP_DROP_MULTISEG);
		return false;
	}
	data = rte_pktmbuf_mtod(m, const uint8_t *);
	r = dp_parse_frame(data, m->data_len, 0, &pi);
	if (unlikely(r != DP_PARSE_OK)) {
		dp_drop(w, m, (enum dp_drop)r);
		return false;
	}
	if (pi.l3 == DP_L3_ARP) {
		dp_arp_input(w, DP_PORT_WAN, m, pi.l2_len);
		return false;
	}
	if (pi.dst != dp->conf.wan.addr) {
		dp_drop(w, m, DP_DROP_WAN_NOT_US);
		return false;
	}
	if (wan_is_probe(dp, &pi, data + pi.l2_len)) {
		dp_wan_probe(w, m, &pi);
		return false;
	}
	if (!wan_is_esp(dp, &pi, data + pi.l2_len)) {
		dp_drop(w, m, DP_DROP_WAN_PROTO);
		return false;
	}
	if (pi.frag & (IPV4_FLAG_MF | IPV4_FRAG_MASK)) {
		/* Outer fragments: we send DF and never reassemble (RFC 4303 §3.4.1). */
		dp_drop(w, m, DP_DROP_WAN_PROTO);
		return false;
	}
	rte_pktmbuf_trim(m, (uint16_t)(m->data_len - pi.l2_len - pi.ip_len));
	rte_pktmbuf_adj(m, pi.l2_len);
	return true;
}

void dp_wan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	/* Acquire: pairs with the release store in dp_cfg_publish(). */
	const struct dp_tables *t = __atomic_load_n(&w->dp->tables, __ATOMIC_ACQUIRE);
	struct rte_mbuf *esp[DP_MAX_BURST];
	unsigned int ne = 0;

	for (unsigned int i = 0; i < n; i++)
		if (wan_classify(w, pkts[i]))
			esp[ne++] = pkts[i];
	if (ne != 0)
		dp_wan_esp(w, t, esp, ne);
}
