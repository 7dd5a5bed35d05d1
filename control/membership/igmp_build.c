/* SPDX-License-Identifier: BSD-3-Clause */
#include "igmp_build.h"

#include "igmp.h"

#include <string.h>

#define IP_HLEN_RA 24

/* Ethernet + IPv4 (with Router Alert) headers for @p igmp_len bytes of IGMP to @p dst. */
static void put_headers(
	uint8_t *buf, const struct igmp_tx_src *src, uint32_t dst, uint32_t igmp_len)
{
	uint8_t *ip = buf + ETH_HLEN;

	/* 01:00:5e + low 23 bits of the group, RFC 1112 §6.4 */
	buf[0] = 0x01;
	buf[1] = 0x00;
	buf[2] = 0x5e;
	buf[3] = (uint8_t)((dst >> 16) & 0x7f);
	buf[4] = (uint8_t)(dst >> 8);
	buf[5] = (uint8_t)dst;
	memcpy(buf + 6, src->mac, 6);
	wr16(buf + 12, IPV4_ETHERTYPE);

	ip[0] = 0x40 | (IP_HLEN_RA / 4);
	ip[1] = IPV4_TOS_INETCTL;
	wr16(ip + 2, (uint16_t)(IP_HLEN_RA + igmp_len));
	wr16(ip + 4, src->ip_id);
	wr16(ip + 6, 0);
	ip[8] = IGMP_TTL;
	ip[9] = IPV4_PROTO_IGMP;
	wr16(ip + 10, 0);
	wr32(ip + 12, src->ip);
	wr32(ip + 16, dst);
	ip[20] = IPV4_OPT_RA;
	ip[21] = IPV4_OPT_RA_LEN;
	ip[22] = 0;
	ip[23] = 0;
	wr16(ip + 10, inet_csum(ip, IP_HLEN_RA));
}

static size_t finish(uint8_t *buf, const struct igmp_tx_src *src, uint32_t dst, uint32_t igmp_len)
{
	uint8_t *igmp = buf + IGMP_TX_HDR_LEN;

	wr16(igmp + 2, 0);
	wr16(igmp + 2, inet_csum(igmp, igmp_len));
	put_headers(buf, src, dst, igmp_len);
	return IGMP_TX_HDR_LEN + igmp_len;
}

static uint8_t max_resp_v2(uint32_t ms)
{
	uint32_t ds = (ms + 99) / 100;

	if (ds == 0)
		ds = 1;
	return ds > 255 ? 255 : (uint8_t)ds;
}

size_t igmp_build_query(uint8_t *buf, size_t cap, const struct igmp_tx_src *src, int version,
	uint32_t group, uint32_t max_resp_ms, int s_flag, uint8_t qrv, uint32_t qqi_s,
	const uint32_t *sources, uint16_t n_sources)
{
	uint32_t len = version == 3 ? IGMP_V3_QUERY_MIN + 4u * n_sources : IGMP_MIN_LEN;
	uint8_t *q = buf + IGMP_TX_HDR_LEN;
	uint32_t ds = (max_resp_ms + 99) / 100;

	if (version < 1 || version > 3 || cap < IGMP_TX_HDR_LEN + (size_t)len)
		return 0;
	memset(q, 0, len);
	q[0] = IGMP_QUERY;
	if (version == 1) {
		group = 0; /* v1 has only general queries */
	} else if (version == 2) {
		q[1] = max_resp_v2(max_resp_ms);
	} else {
		q[1] = igmp_code_encode(ds == 0 ? 1 : ds);
		q[8] = (uint8_t)((s_flag ? IGMP_V3_S_FLAG : 0) | (qrv <= 7 ? qrv : 0));
		q[9] = igmp_code_encode(qqi_s);
		wr16(q + 10, n_sources);
		for (uint16_t i = 0; i < n_sources; i++)
			wr32(q + IGMP_V3_QUERY_MIN + 4 * i, sources[i]);
	}
	wr32(q + 4, group);
	return finish(buf, src, group == 0 ? IGMP_ALL_SYSTEMS : group, len);
}

size_t igmp_build_v12(
	uint8_t *buf, size_t cap, const struct igmp_tx_src *src, uint8_t type, uint32_t group)
{
	uint8_t *q = buf + IGMP_TX_HDR_LEN;

	if (cap < IGMP_TX_HDR_LEN + IGMP_MIN_LEN)
		return 0;
	if (type != IGMP_V1_REPORT && type != IGMP_V2_REPORT && type != IGMP_V2_LEAVE)
		return 0;
	memset(q, 0, IGMP_MIN_LEN);
	q[0] = type;
	wr32(q + 4, group);
	return finish(buf, src, type == IGMP_V2_LEAVE ? IGMP_ALL_ROUTERS : group, IGMP_MIN_LEN);
}

size_t igmp_build_v3_report(uint8_t *buf, size_t cap, const struct igmp_tx_src *src,
	const struct igmp_tx_record *recs, uint16_t n)
{
	size_t len = IGMP_V3_REPORT_MIN;
	uint8_t *q = buf + IGMP_TX_HDR_LEN;
	uint8_t *r;

	for (uint16_t i = 0; i < n; i++)
		len += IGMP_V3_RECORD_MIN + 4u * recs[i].n_sources;
	if (cap < IGMP_TX_HDR_LEN + len || len > 0xffff - IP_HLEN_RA)
		return 0;
	memset(q, 0, IGMP_V3_REPORT_MIN);
	q[0] = IGMP_V3_REPORT;
	wr16(q + 6, n);
	r = q + IGMP_V3_REPORT_MIN;
	for (uint16_t i = 0; i < n; i++) {
		r[0] = recs[i].type;
		r[1] = 0;
		wr16(r + 2, recs[i].n_sources);
		wr32(r + 4, recs[i].group);
		for (uint16_t j = 0; j < recs[i].n_sources; j++)
			wr32(r + 8 + 4 * j, recs[i].sources[j]);
		r += IGMP_V3_RECORD_MIN + 4u * recs[i].n_sources;
	}
	return finish(buf, src, IGMP_V3_ROUTERS, (uint32_t)len);
}
