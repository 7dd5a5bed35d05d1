/* SPDX-License-Identifier: BSD-3-Clause */
#include "igmp_parse.h"

#include "igmp.h"

#include <string.h>

static const char *const drop_names[IGMP_DROP_MAX] = { [IGMP_OK] = "ok",
#define IGMP_DROP_NAME(n, s) [IGMP_DROP_##n] = s,
	IGMP_DROP_REASONS(IGMP_DROP_NAME)
#undef IGMP_DROP_NAME
};

const char *igmp_drop_name(enum igmp_drop reason)
{
	if ((unsigned int)reason >= IGMP_DROP_MAX)
		return "invalid";
	return drop_names[reason];
}

static const char *const msg_names[IGMP_MSG_MAX] = {
	[IGMP_MSG_V1_QUERY] = "v1_query",
	[IGMP_MSG_V2_QUERY] = "v2_query",
	[IGMP_MSG_V3_QUERY] = "v3_query",
	[IGMP_MSG_V1_REPORT] = "v1_report",
	[IGMP_MSG_V2_REPORT] = "v2_report",
	[IGMP_MSG_V2_LEAVE] = "v2_leave",
	[IGMP_MSG_V3_REPORT] = "v3_report",
};

const char *igmp_msg_name(enum igmp_msg_type type)
{
	if ((unsigned int)type >= IGMP_MSG_MAX)
		return "invalid";
	return msg_names[type];
}

/* Walk the IPv4 options (bytes 20..ihl): every length checked; notes Router Alert. */
static enum igmp_drop parse_ip_options(const uint8_t *opt, uint32_t len, bool *ra)
{
	uint32_t i = 0;

	while (i < len) {
		uint8_t type = opt[i];

		if (type == IPV4_OPT_EOL)
			break;
		if (type == IPV4_OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len || opt[i + 1] < 2 || opt[i + 1] > len - i)
			return IGMP_DROP_BAD_IP_OPTION;
		if (type == IPV4_OPT_RA) {
			if (opt[i + 1] != IPV4_OPT_RA_LEN)
				return IGMP_DROP_BAD_IP_OPTION;
			*ra = true;
		}
		i += opt[i + 1];
	}
	return IGMP_OK;
}

/* IPv4 header: returns the IGMP bytes through *igmp / *igmp_len. */
static enum igmp_drop parse_ipv4(const uint8_t *ip, size_t len, struct igmp_msg *msg,
	const uint8_t **igmp, uint32_t *igmp_len)
{
	uint32_t ihl, tot;
	enum igmp_drop r;

	if (len < IPV4_MIN_HLEN)
		return IGMP_DROP_TOO_SHORT;
	if ((ip[0] >> 4) != 4)
		return IGMP_DROP_NOT_IPV4;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	if (ihl < IPV4_MIN_HLEN || ihl > len)
		return IGMP_DROP_BAD_IP_HEADER;
	tot = rd16(ip + 2);
	if (tot < ihl || tot > len)
		return IGMP_DROP_BAD_IP_LENGTH;
	if (inet_csum(ip, ihl) != 0)
		return IGMP_DROP_BAD_IP_CHECKSUM;
	if ((rd16(ip + 6) & 0x3fff) != 0) /* MF or fragment offset */
		return IGMP_DROP_FRAGMENT;
	if (ip[9] != IPV4_PROTO_IGMP)
		return IGMP_DROP_NOT_IGMP;
	if (ip[8] != IGMP_TTL)
		return IGMP_DROP_BAD_TTL;
	msg->ip_src = rd32(ip + 12);
	msg->ip_dst = rd32(ip + 16);
	/* A multicast or broadcast source is never a host or router on the link. */
	if (ipv4_is_multicast(msg->ip_src) || msg->ip_src == 0xffffffffu ||
		(msg->ip_src & IPV4_MCAST_MASK) == IPV4_MCAST_MASK)
		return IGMP_DROP_BAD_SOURCE;
	msg->router_alert = false;
	r = parse_ip_options(ip + IPV4_MIN_HLEN, ihl - IPV4_MIN_HLEN, &msg->router_alert);
	if (r != IGMP_OK)
		return r;
	*igmp = ip + ihl;
	*igmp_len = tot - ihl;
	return IGMP_OK;
}

/* RFC 3376 §7.1: the query version is told by its length and Max Resp Code. */
static enum igmp_drop parse_query(const uint8_t *p, uint32_t len, struct igmp_msg *msg)
{
	msg->group = rd32(p + 4);
	if (msg->group != 0 && !ipv4_is_multicast(msg->group))
		return IGMP_DROP_BAD_GROUP;
	if (len == IGMP_MIN_LEN) {
		msg->type = p[1] == 0 ? IGMP_MSG_V1_QUERY : IGMP_MSG_V2_QUERY;
		/* A v1 query means 10 s (RFC 2236 §4: a v1 router's Max Resp is 0 = 100 ds). */
		msg->max_resp_ds = p[1] == 0 ? 100 : p[1];
		return IGMP_OK;
	}
	if (len < IGMP_V3_QUERY_MIN)
		return IGMP_DROP_BAD_QUERY_LENGTH;
	msg->type = IGMP_MSG_V3_QUERY;
	msg->max_resp_ds = igmp_code_decode(p[1]);
	msg->s_flag = (p[8] & IGMP_V3_S_FLAG) != 0;
	msg->qrv = p[8] & IGMP_V3_QRV_MASK;
	msg->qqi_s = igmp_code_decode(p[9]);
	msg->n_sources = rd16(p + 10);
	/* Trailing bytes after the source list are allowed (RFC 3376 §4.1.10). */
	if ((uint32_t)msg->n_sources * 4 > len - IGMP_V3_QUERY_MIN)
		return IGMP_DROP_SOURCE_COUNT_OVERFLOW;
	if (msg->n_sources > 0 && msg->group == 0)
		return IGMP_DROP_BAD_GROUP; /* a general query with sources is malformed */
	msg->sources = p + IGMP_V3_QUERY_MIN;
	return IGMP_OK;
}

/* Walk every record once so that igmp_record_next() can trust the counts. */
static enum igmp_drop parse_v3_report(const uint8_t *p, uint32_t len, struct igmp_msg *msg)
{
	uint32_t off = IGMP_V3_REPORT_MIN;

	msg->type = IGMP_MSG_V3_REPORT;
	msg->n_records = rd16(p + 6);
	msg->records = p + IGMP_V3_REPORT_MIN;
	msg->records_len = len - IGMP_V3_REPORT_MIN;
	for (uint32_t i = 0; i < msg->n_records; i++) {
		uint32_t nsrc, aux, rlen;

		if (len - off < IGMP_V3_RECORD_MIN)
			return IGMP_DROP_RECORD_COUNT_OVERFLOW;
		aux = (uint32_t)p[off + 1] * 4;
		nsrc = rd16(p + off + 2);
		rlen = IGMP_V3_RECORD_MIN + nsrc * 4 + aux;
		if (rlen > len - off)
			return IGMP_DROP_SOURCE_COUNT_OVERFLOW;
		off += rlen;
	}
	return IGMP_OK;
}

enum igmp_drop igmp_parse(const uint8_t *buf, size_t len, enum igmp_l2 l2, struct igmp_msg *msg)
{
	const uint8_t *p;
	uint32_t ilen;
	enum igmp_drop r;

	memset(msg, 0, sizeof(*msg));
	if (l2 == IGMP_L2_ETHER) {
		if (len < ETH_HLEN)
			return IGMP_DROP_TOO_SHORT;
		if (rd16(buf + 12) != IPV4_ETHERTYPE)
			return IGMP_DROP_NOT_IPV4;
		buf += ETH_HLEN;
		len -= ETH_HLEN;
	}
	r = parse_ipv4(buf, len, msg, &p, &ilen);
	if (r != IGMP_OK)
		return r;
	if (ilen < IGMP_MIN_LEN)
		return IGMP_DROP_IGMP_TOO_SHORT;
	if (inet_csum(p, ilen) != 0)
		return IGMP_DROP_BAD_CHECKSUM;
	switch (p[0]) {
	case IGMP_QUERY:
		return parse_query(p, ilen, msg);
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
	case IGMP_V2_LEAVE:
		msg->type = p[0] == IGMP_V1_REPORT   ? IGMP_MSG_V1_REPORT
			    : p[0] == IGMP_V2_REPORT ? IGMP_MSG_V2_REPORT
						     : IGMP_MSG_V2_LEAVE;
		msg->group = rd32(p + 4);
		if (!ipv4_is_multicast(msg->group))
			return IGMP_DROP_BAD_GROUP;
		return IGMP_OK;
	case IGMP_V3_REPORT:
		return parse_v3_report(p, ilen, msg);
	default:
		return IGMP_DROP_UNKNOWN_TYPE;
	}
}

bool igmp_record_next(
	const struct igmp_msg *msg, struct igmp_record_iter *it, struct igmp_record *rec)
{
	const uint8_t *r;

	if (msg->type != IGMP_MSG_V3_REPORT || it->index >= msg->n_records)
		return false;
	/* Bounds were proven by parse_v3_report(); re-check cheaply anyway. */
	if (msg->records_len - it->offset < IGMP_V3_RECORD_MIN)
		return false;
	r = msg->records + it->offset;
	rec->type = r[0];
	rec->n_sources = rd16(r + 2);
	rec->group = rd32(r + 4);
	rec->sources = r + IGMP_V3_RECORD_MIN;
	it->offset += IGMP_V3_RECORD_MIN + (uint32_t)rec->n_sources * 4 + (uint32_t)r[1] * 4;
	it->index++;
	return true;
}
