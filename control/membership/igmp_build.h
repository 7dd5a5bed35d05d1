/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_IGMP_BUILD_H
#define VPRN_MEMBERSHIP_IGMP_BUILD_H

/*
 * IGMP frame builder: complete Ethernet II frames (destination MAC from the
 * IPv4 group, RFC 1112 §6.4), IPv4 header with the Router Alert option
 * (RFC 2113), TTL 1, TOS 0xc0, both checksums. Returns the frame length, or
 * 0 if @p cap is too small (nothing useful is written then).
 */

#include <stddef.h>
#include <stdint.h>

#define IGMP_TX_HDR_LEN (14 + 24) /* Ethernet + IPv4 with Router Alert */

struct igmp_tx_src {
	uint8_t mac[6];
	uint32_t ip;	/**< host byte order */
	uint16_t ip_id; /**< IPv4 identification to use */
};

/** A v3 group record to send. */
struct igmp_tx_record {
	uint8_t type;
	uint32_t group;
	uint16_t n_sources;
	const uint32_t *sources; /**< host byte order */
};

/**
 * Membership query. @p version 1, 2 or 3; for v1/v2 the sources, S flag, QRV
 * and QQI are not sent; v1 has no max response time and no group.
 */
size_t igmp_build_query(uint8_t *buf, size_t cap, const struct igmp_tx_src *src, int version,
	uint32_t group, uint32_t max_resp_ms, int s_flag, uint8_t qrv, uint32_t qqi_s,
	const uint32_t *sources, uint16_t n_sources);

/** v1 report, v2 report or v2 leave (@p type IGMP_V1_REPORT, IGMP_V2_REPORT, IGMP_V2_LEAVE). */
size_t igmp_build_v12(
	uint8_t *buf, size_t cap, const struct igmp_tx_src *src, uint8_t type, uint32_t group);

/** v3 report to 224.0.0.22 with @p n records. */
size_t igmp_build_v3_report(uint8_t *buf, size_t cap, const struct igmp_tx_src *src,
	const struct igmp_tx_record *recs, uint16_t n);

#endif /* VPRN_MEMBERSHIP_IGMP_BUILD_H */
