/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_IGMP_H
#define VPRN_MEMBERSHIP_IGMP_H

/*
 * IGMP protocol constants (RFC 1112, RFC 2236, RFC 3376, RFC 4604) and the
 * exponential code of RFC 3376 §4.1.1 / §4.1.7. Addresses are host byte order.
 */

#include <stdint.h>

/* Message types, RFC 3376 §4 */
#define IGMP_QUERY 0x11	    /* v1/v2/v3 Membership Query, RFC 3376 §4.1 */
#define IGMP_V1_REPORT 0x12 /* RFC 1112 appendix I */
#define IGMP_V2_REPORT 0x16 /* RFC 2236 §2.1 */
#define IGMP_V2_LEAVE 0x17  /* RFC 2236 §2.1 */
#define IGMP_V3_REPORT 0x22 /* RFC 3376 §4.2 */

/* Sizes */
#define IGMP_MIN_LEN 8	     /* v1/v2 message and v1/v2 query, RFC 2236 §2 */
#define IGMP_V3_QUERY_MIN 12 /* RFC 3376 §4.1 */
#define IGMP_V3_REPORT_MIN 8 /* RFC 3376 §4.2 */
#define IGMP_V3_RECORD_MIN 8 /* RFC 3376 §4.2.4 */

/* Group record types, RFC 3376 §4.2.12 */
#define IGMP_MODE_IS_INCLUDE 1
#define IGMP_MODE_IS_EXCLUDE 2
#define IGMP_CHANGE_TO_INCLUDE 3
#define IGMP_CHANGE_TO_EXCLUDE 4
#define IGMP_ALLOW_NEW_SOURCES 5
#define IGMP_BLOCK_OLD_SOURCES 6

/* v3 query flags byte: Resv(4) | S(1) | QRV(3), RFC 3376 §4.1.5-4.1.6 */
#define IGMP_V3_S_FLAG 0x08
#define IGMP_V3_QRV_MASK 0x07

/* Addresses */
#define IGMP_ALL_SYSTEMS 0xe0000001u	/* 224.0.0.1: general queries, RFC 3376 §4.1.12 */
#define IGMP_ALL_ROUTERS 0xe0000002u	/* 224.0.0.2: v2 leaves, RFC 2236 §3 */
#define IGMP_V3_ROUTERS 0xe0000016u	/* 224.0.0.22: v3 reports, RFC 3376 §4.2.14 */
#define IGMP_LINK_LOCAL_NET 0xe0000000u /* 224.0.0.0/24 is never reported, RFC 3376 §6 */
#define IGMP_LINK_LOCAL_MASK 0xffffff00u
#define IPV4_MCAST_NET 0xe0000000u /* 224.0.0.0/4 */
#define IPV4_MCAST_MASK 0xf0000000u
#define IGMP_SSM_DEFAULT_NET 0xe8000000u /* 232.0.0.0/8, RFC 4607 §1 */

/* IPv4 bits the parser and builder need */
#define IPV4_ETHERTYPE 0x0800
#define ETH_HLEN 14
#define IPV4_MIN_HLEN 20
#define IPV4_PROTO_IGMP 2
#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1
#define IPV4_OPT_RA 0x94 /* Router Alert, RFC 2113 */
#define IPV4_OPT_RA_LEN 4
#define IPV4_TOS_INETCTL 0xc0 /* what Linux uses for IGMP */
#define IGMP_TTL 1	      /* every IGMP message is sent with TTL 1, RFC 3376 §4 */

static inline int ipv4_is_multicast(uint32_t a)
{
	return (a & IPV4_MCAST_MASK) == IPV4_MCAST_NET;
}

static inline int ipv4_is_link_local_mcast(uint32_t a)
{
	return (a & IGMP_LINK_LOCAL_MASK) == IGMP_LINK_LOCAL_NET;
}

/*
 * Max Resp Code / QQIC: values < 128 are literal, others are
 * 1|exp(3)|mant(4) meaning (mant | 0x10) << (exp + 3). RFC 3376 §4.1.1, §4.1.7.
 */
static inline uint32_t igmp_code_decode(uint8_t code)
{
	if (code < 128)
		return code;
	return ((uint32_t)(code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3);
}

/* Smallest code whose value is >= v (rounding up keeps a timer at least as long). */
static inline uint8_t igmp_code_encode(uint32_t v)
{
	if (v < 128)
		return (uint8_t)v;
	if (v > 31744) /* 0x1f << 10: the largest representable value */
		return 0xff;
	for (unsigned int exp = 0; exp < 8; exp++) {
		uint32_t mant = (v + (1u << (exp + 3)) - 1) >> (exp + 3); /* ceil */
		if (mant < 0x20)
			return (uint8_t)(0x80 | (exp << 4) | (mant & 0x0f));
	}
	return 0xff;
}

/* Internet checksum of a buffer (RFC 1071); returns the value to store (network order bytes). */
static inline uint16_t inet_csum(const uint8_t *p, uint32_t len)
{
	uint32_t sum = 0;

	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

#endif /* VPRN_MEMBERSHIP_IGMP_H */
