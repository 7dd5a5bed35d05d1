/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame validation (see parse.h). */

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

#include "dataplane/parse.h"
#include "dataplane/proto.h"

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* RFC 791 §3.1: every option but EOL/NOP carries a length >= 2 that fits. */
static int options_ok(const uint8_t *opt, unsigned int len)
{
	unsigned int i = 0;

	while (i < len) {
		uint8_t type = opt[i];

		if (type == IPV4_OPT_EOL)
			return 1;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || i + opt[i + 1] > len)
			return 0;
		i += opt[i + 1];
	}
	return 1;
}

int dp_parse_ipv4(const uint8_t *ip, size_t len, struct dp_parsed *info)
{
	unsigned int ihl;

	if (len < IPV4_MIN_HDR_LEN)
		return DP_DROP_IP_TRUNC;
	if ((ip[0] >> 4) != 4)
		return DP_DROP_IP_VERSION;
	ihl = (ip[0] & 0xfu) * 4u;
	if (ihl < IPV4_MIN_HDR_LEN)
		return DP_DROP_IP_IHL;
	if (ihl > len)
		return DP_DROP_IP_TRUNC;
	info->ip_len = rd16(ip + 2);
	if (info->ip_len < ihl || info->ip_len > len)
		return DP_DROP_IP_LEN;
	/* A correct header sums to 0xffff (RFC 1071); rte_raw_cksum folds to 16 bits. */
	if (rte_raw_cksum(ip, ihl) != 0xffff)
		return DP_DROP_IP_CSUM;
	if (ihl > IPV4_MIN_HDR_LEN && !options_ok(ip + IPV4_MIN_HDR_LEN, ihl - IPV4_MIN_HDR_LEN))
		return DP_DROP_IP_OPTIONS;
	info->ihl = (uint8_t)ihl;
	info->ttl = ip[8];
	info->proto = ip[9];
	info->frag = rd16(ip + 6);
	info->src = rd32(ip + 12);
	info->dst = rd32(ip + 16);
	/* A multicast or broadcast source is never legitimate (RFC 1812 §5.3.7). */
	if (ipv4_is_mcast(info->src) || info->src == IPV4_BCAST)
		return DP_DROP_IP_SRC;
	info->l3 = DP_L3_IPV4;
	return DP_PARSE_OK;
}

int dp_parse_arp(const uint8_t *arp, size_t len)
{
	if (len < ARP_PKT_LEN)
		return DP_DROP_ARP_BAD;
	if (rd16(arp) != ARP_HRD_ETHER || rd16(arp + 2) != ETHERTYPE_IPV4 || arp[4] != 6 ||
		arp[5] != 4)
		return DP_DROP_ARP_BAD;
	if (rd16(arp + 6) != ARP_OP_REQUEST && rd16(arp + 6) != ARP_OP_REPLY)
		return DP_DROP_ARP_BAD;
	return DP_PARSE_OK;
}

int dp_parse_frame(const uint8_t *frame, size_t len, int allow_vlan, struct dp_parsed *info)
{
	uint16_t type;
	size_t l2 = ETH_HDR_LEN;

	memset(info, 0, sizeof(*info));
	if (len < ETH_HDR_LEN)
		return DP_DROP_ETH_TRUNC;
	type = rd16(frame + 12);
	if (type == ETHERTYPE_VLAN) {
		if (!allow_vlan || len < ETH_HDR_LEN + VLAN_HDR_LEN)
			return DP_DROP_VLAN_BAD;
		info->vlan = rd16(frame + 14) & 0x0fff;
		type = rd16(frame + 16);
		l2 += VLAN_HDR_LEN;
		if (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ)
			return DP_DROP_VLAN_BAD;
	} else if (type == ETHERTYPE_QINQ) {
		return DP_DROP_VLAN_BAD;
	}
	info->l2_len = (uint16_t)l2;
	switch (type) {
	case ETHERTYPE_IPV4:
		return dp_parse_ipv4(frame + l2, len - l2, info);
	case ETHERTYPE_ARP:
		info->l3 = DP_L3_ARP;
		return dp_parse_arp(frame + l2, len - l2);
	default:
		return DP_DROP_ETHERTYPE;
	}
}
