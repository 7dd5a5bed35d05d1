/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Path MTU on LAN ingress: an inner packet that would not fit the WAN once
 * encapsulated is fragmented before encryption when DF is clear (RFC 791
 * §3.2), or refused with ICMP "fragmentation needed" to the LAN sender when
 * DF is set (RFC 1191 §4), rate-limited. Fragmentation copies (there is no
 * other way to get single-segment fragments the ESP engine accepts).
 */

#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "dataplane/pipeline.h"
#include "dataplane/proto.h"

#define ICMP_HDR_LEN 8

unsigned int dp_fragment(struct dp_worker *w, struct rte_mbuf *m, unsigned int mtu,
	struct rte_mbuf **out, unsigned int max)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	unsigned int hl = IPV4_MIN_HDR_LEN, total = rte_be_to_cpu_16(ip->total_length);
	unsigned int chunk = (mtu - hl) & ~7u, off = 0, n = 0;
	uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);

	/* Options would need per-option copy rules (RFC 791 §3.1): not fragmented. */
	if (rte_ipv4_hdr_len(ip) != hl || chunk == 0 || (total - hl + chunk - 1) / chunk > max) {
		dp_drop(w, m, DP_DROP_MTU);
		return 0;
	}
	while (off < total - hl) {
		unsigned int len = RTE_MIN(chunk, total - hl - off);
		struct rte_mbuf *f = rte_pktmbuf_alloc(w->dp->pool);
		struct rte_ipv4_hdr *fh;
		uint16_t fo;

		fh = f != NULL ? (struct rte_ipv4_hdr *)rte_pktmbuf_append(f, (uint16_t)(hl + len))
			       : NULL;
		if (fh == NULL) {
			rte_pktmbuf_free(f);
			rte_pktmbuf_free_bulk(out, n);
			dp_drop(w, m, DP_DROP_NO_MBUF);
			return 0;
		}
		memcpy(fh, ip, hl);
		memcpy((uint8_t *)fh + hl, (const uint8_t *)ip + hl + off, len);
		fo = (uint16_t)((frag & IPV4_FRAG_MASK) + off / 8);
		if (off + len < total - hl || (frag & IPV4_FLAG_MF))
			fo |= IPV4_FLAG_MF;
		fh->fragment_offset = rte_cpu_to_be_16(fo);
		fh->total_length = rte_cpu_to_be_16((uint16_t)(hl + len));
		fh->hdr_checksum = 0;
		fh->hdr_checksum = rte_ipv4_cksum(fh);
		out[n++] = f;
		off += len;
	}
	rte_pktmbuf_free(m);
	return n;
}

void dp_icmp_frag_needed(
	struct dp_worker *w, const struct rte_mbuf *m, uint16_t l2_len, uint16_t mtu)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)(f + l2_len);
	unsigned int quote = rte_ipv4_hdr_len(ip) + 8; /* header + 64 bits (RFC 792) */
	struct rte_mbuf *r = rte_pktmbuf_alloc(w->dp->pool);
	struct rte_ipv4_hdr *rh;
	uint8_t *p, *icmp;
	uint16_t len = (uint16_t)(ETH_HDR_LEN + IPV4_MIN_HDR_LEN + ICMP_HDR_LEN + quote);

	p = r != NULL ? (uint8_t *)rte_pktmbuf_append(r, len) : NULL;
	if (p == NULL) {
		rte_pktmbuf_free(r);
		DP_CTR_ADD(w->ctr.drop[DP_DROP_NO_MBUF], 1);
		return;
	}
	memcpy(p, f + 6, 6); /* back to the sender's MAC, untagged */
	memcpy(p + 6, w->dp->port[DP_PORT_LAN].mac.addr_bytes, 6);
	p[12] = ETHERTYPE_IPV4 >> 8;
	p[13] = ETHERTYPE_IPV4 & 0xff;
	rh = (struct rte_ipv4_hdr *)(p + ETH_HDR_LEN);
	memset(rh, 0, IPV4_MIN_HDR_LEN);
	rh->version_ihl = 0x45;
	rh->total_length = rte_cpu_to_be_16((uint16_t)(len - ETH_HDR_LEN));
	rh->time_to_live = 64;
	rh->next_proto_id = IPPROTO_NUM_ICMP;
	rh->src_addr = rte_cpu_to_be_32(w->dp->conf.lan.addr);
	rh->dst_addr = ip->src_addr;
	rh->hdr_checksum = rte_ipv4_cksum(rh);
	icmp = (uint8_t *)(rh + 1);
	memset(icmp, 0, ICMP_HDR_LEN);
	icmp[0] = ICMP_DEST_UNREACH;
	icmp[1] = ICMP_FRAG_NEEDED;
	icmp[6] = (uint8_t)(mtu >> 8); /* next-hop MTU, RFC 1191 §4 */
	icmp[7] = (uint8_t)mtu;
	memcpy(icmp + ICMP_HDR_LEN, ip, quote);
	/* rte_raw_cksum folds to 16 bits; the ICMP checksum is its complement. */
	*(uint16_t *)(icmp + 2) = (uint16_t)~rte_raw_cksum(icmp, ICMP_HDR_LEN + quote);
	dp_tx(w, DP_PORT_LAN, r);
}
