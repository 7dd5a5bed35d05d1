/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_PARSE_H
#define VPRN_DATAPLANE_PARSE_H

/*
 * Frame validation for both ingress paths. Pure functions over a byte
 * buffer (no mbuf), so that the unit tests and the fuzz harness drive them
 * directly. Every check reads only bytes it has proven to be there.
 */

#include <stddef.h>
#include <stdint.h>

#include "dataplane/drop.h"

enum dp_l3 {
	DP_L3_IPV4 = 1,
	DP_L3_ARP = 2,
};

struct dp_parsed {
	uint16_t l2_len; /* Ethernet (+ 802.1Q) header length */
	uint16_t vlan;	 /* VLAN id, 0 = untagged */
	uint8_t l3;	 /* enum dp_l3 */
	/* IPv4 only: */
	uint8_t ihl; /* header length in bytes */
	uint8_t proto;
	uint8_t ttl;
	uint16_t ip_len; /* total length (frame may carry padding after it) */
	uint16_t frag;	 /* flags + fragment offset, host order */
	uint32_t src;	 /* host order */
	uint32_t dst;	 /* host order */
};

/*
 * Validate Ethernet (+ one 802.1Q tag when allow_vlan), then ARP or IPv4
 * (version, IHL, total length vs frame, header checksum, option encoding,
 * source address). Returns -1 when the frame is valid (info filled), or
 * the drop reason.
 */
int dp_parse_frame(const uint8_t *frame, size_t len, int allow_vlan, struct dp_parsed *info);

/* IPv4 header alone (at `ip`, `len` bytes available). Same return convention. */
int dp_parse_ipv4(const uint8_t *ip, size_t len, struct dp_parsed *info);

/* ARP body (after L2) for Ethernet/IPv4: -1 if well formed, else DP_DROP_ARP_BAD. */
int dp_parse_arp(const uint8_t *arp, size_t len);

#define DP_PARSE_OK (-1)

#endif /* VPRN_DATAPLANE_PARSE_H */
