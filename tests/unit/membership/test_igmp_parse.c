/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IGMP parser and builder: real packets (generated once with scapy 2.5 and
 * pasted here) for every message type and version, then malformed variants,
 * each rejected with its counted reason.
 */
#include "mship_test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

/* scapy: Ether()/IP(src=192.168.1.10, dst=239.1.1.1, ttl=1, options=[RA])/IGMP(type=0x16) */
static const uint8_t v2_report[] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x46, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x73,
	0x22, 0xc0, 0xa8, 0x01, 0x0a, 0xef, 0x01, 0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x16, 0x14,
	0xf9, 0xe8, 0xef, 0x01, 0x01, 0x01 };
/* v1 report from 192.168.1.11, no Router Alert (RFC 1112 hosts send none) */
static const uint8_t v1_report[] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x08,
	0x2a, 0xc0, 0xa8, 0x01, 0x0b, 0xef, 0x01, 0x01, 0x01, 0x12, 0x00, 0xfd, 0xfc, 0xef, 0x01,
	0x01, 0x01 };
/* v2 leave 239.1.1.1 to 224.0.0.2 */
static const uint8_t v2_leave[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x46, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x83,
	0x22, 0xc0, 0xa8, 0x01, 0x0a, 0xe0, 0x00, 0x00, 0x02, 0x94, 0x04, 0x00, 0x00, 0x17, 0x14,
	0xf8, 0xe8, 0xef, 0x01, 0x01, 0x01 };
/* v2 general query from 192.168.1.2, Max Resp 10 s */
static const uint8_t v2_query[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x46, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x83,
	0x2b, 0xc0, 0xa8, 0x01, 0x02, 0xe0, 0x00, 0x00, 0x01, 0x94, 0x04, 0x00, 0x00, 0x11, 0x64,
	0xee, 0x9b, 0x00, 0x00, 0x00, 0x00 };
/* v1 general query (Max Resp 0) */
static const uint8_t v1_query[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x18,
	0x34, 0xc0, 0xa8, 0x01, 0x02, 0xe0, 0x00, 0x00, 0x01, 0x11, 0x00, 0xee, 0xff, 0x00, 0x00,
	0x00, 0x00 };
/* v3 general query, QRV 2, QQIC 125 */
static const uint8_t v3_query[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x46, 0xc0, 0x00, 0x24, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x82,
	0x67, 0xc0, 0xa8, 0x01, 0x02, 0xe0, 0x00, 0x00, 0x01, 0x94, 0x04, 0x00, 0x00, 0x11, 0x64,
	0xec, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00 };
/* v3 group-and-source-specific query 232.1.1.1 {10.1.1.1, 10.1.1.2}, Max Resp 1 s */
static const uint8_t v3_gssq[] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
	0x0a, 0x08, 0x00, 0x46, 0xc0, 0x00, 0x2c, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x79, 0x5e,
	0xc0, 0xa8, 0x01, 0x02, 0xe8, 0x01, 0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x11, 0x0a, 0xed,
	0x6e, 0xe8, 0x01, 0x01, 0x01, 0x02, 0x7d, 0x00, 0x02, 0x0a, 0x01, 0x01, 0x01, 0x0a, 0x01,
	0x01, 0x02 };
/* v3 report: IS_EX(239.1.1.1, {}), IS_IN(232.1.1.1, {10.1.1.1, 10.1.1.2}) */
static const uint8_t v3_report[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00,
	0x00, 0x0a, 0x08, 0x00, 0x46, 0xc0, 0x00, 0x38, 0x00, 0x01, 0x00, 0x00, 0x01, 0x02, 0x82,
	0x36, 0xc0, 0xa8, 0x01, 0x0a, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00,
	0xeb, 0xf0, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0xef, 0x01, 0x01, 0x01, 0x01,
	0x00, 0x00, 0x02, 0xe8, 0x01, 0x01, 0x01, 0x0a, 0x01, 0x01, 0x01, 0x0a, 0x01, 0x01, 0x02 };

/* What our builder must produce (scapy with the same fields: id, TOS 0xc0, RA). */
static const uint8_t ed_v3_gq[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x00, 0x46, 0xc0, 0x00, 0x24, 0x00, 0x07, 0x00, 0x00, 0x01, 0x02, 0x82,
	0x62, 0xc0, 0xa8, 0x01, 0x01, 0xe0, 0x00, 0x00, 0x01, 0x94, 0x04, 0x00, 0x00, 0x11, 0x64,
	0xec, 0x1e, 0x00, 0x00, 0x00, 0x00, 0x02, 0x7d, 0x00, 0x00 };
static const uint8_t ed_v3_gssq[] = { 0x01, 0x00, 0x5e, 0x01, 0x01, 0x01, 0x02, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x00, 0x46, 0xc0, 0x00, 0x28, 0x00, 0x08, 0x00, 0x00, 0x01, 0x02, 0x79,
	0x5c, 0xc0, 0xa8, 0x01, 0x01, 0xe8, 0x01, 0x01, 0x01, 0x94, 0x04, 0x00, 0x00, 0x11, 0x0a,
	0xf0, 0x72, 0xe8, 0x01, 0x01, 0x01, 0x0a, 0x7d, 0x00, 0x01, 0x0a, 0x01, 0x01, 0x01 };
static const uint8_t ed_v3_report[] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, 0x02, 0x00, 0x00, 0x00,
	0x01, 0x01, 0x08, 0x00, 0x46, 0xc0, 0x00, 0x28, 0x00, 0x09, 0x00, 0x00, 0x01, 0x02, 0x82,
	0x47, 0xc0, 0xa8, 0x01, 0x01, 0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00,
	0xe3, 0xeb, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0xef, 0x09, 0x09, 0x09 };

#define VEC(a) a, sizeof(a)

struct good_case {
	const char *name;
	const uint8_t *bytes;
	size_t len;
	enum igmp_msg_type type;
	uint32_t src, group;
	bool ra;
	uint32_t max_resp_ds;
	uint16_t n_sources, n_records;
};

static const struct good_case good[] = {
	{ "v1_report", VEC(v1_report), IGMP_MSG_V1_REPORT, IP(192, 168, 1, 11), IP(239, 1, 1, 1),
		false, 0, 0, 0 },
	{ "v2_report", VEC(v2_report), IGMP_MSG_V2_REPORT, IP(192, 168, 1, 10), IP(239, 1, 1, 1),
		true, 0, 0, 0 },
	{ "v2_leave", VEC(v2_leave), IGMP_MSG_V2_LEAVE, IP(192, 168, 1, 10), IP(239, 1, 1, 1), true,
		0, 0, 0 },
	{ "v1_query", VEC(v1_query), IGMP_MSG_V1_QUERY, IP(192, 168, 1, 2), 0, false, 100, 0, 0 },
	{ "v2_query", VEC(v2_query), IGMP_MSG_V2_QUERY, IP(192, 168, 1, 2), 0, true, 100, 0, 0 },
	{ "v3_query", VEC(v3_query), IGMP_MSG_V3_QUERY, IP(192, 168, 1, 2), 0, true, 100, 0, 0 },
	{ "v3_gssq", VEC(v3_gssq), IGMP_MSG_V3_QUERY, IP(192, 168, 1, 2), IP(232, 1, 1, 1), true,
		10, 2, 0 },
	{ "v3_report", VEC(v3_report), IGMP_MSG_V3_REPORT, IP(192, 168, 1, 10), 0, true, 0, 0, 2 },
};

static void test_good_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		const struct good_case *c = &good[i];
		struct igmp_msg msg;

		print_message("  %s\n", c->name);
		assert_int_equal(igmp_parse(c->bytes, c->len, IGMP_L2_ETHER, &msg), IGMP_OK);
		assert_int_equal(msg.type, c->type);
		assert_int_equal(msg.ip_src, c->src);
		assert_int_equal(msg.group, c->group);
		assert_int_equal(msg.router_alert, c->ra);
		assert_int_equal(msg.n_sources, c->n_sources);
		assert_int_equal(msg.n_records, c->n_records);
		if (c->max_resp_ds != 0)
			assert_int_equal(msg.max_resp_ds, c->max_resp_ds);
		/* The same packet without its Ethernet header parses the same. */
		assert_int_equal(
			igmp_parse(c->bytes + 14, c->len - 14, IGMP_L2_NONE, &msg), IGMP_OK);
		assert_int_equal(msg.type, c->type);
	}
}

static void test_v3_details(void **state)
{
	struct igmp_record_iter it = { 0 };
	struct igmp_record rec;
	struct igmp_msg msg;

	(void)state;
	assert_int_equal(igmp_parse(VEC(v3_query), IGMP_L2_ETHER, &msg), IGMP_OK);
	assert_int_equal(msg.qrv, 2);
	assert_int_equal(msg.qqi_s, 125);
	assert_false(msg.s_flag);
	assert_int_equal(igmp_parse(VEC(v3_gssq), IGMP_L2_ETHER, &msg), IGMP_OK);
	assert_int_equal(igmp_src_at(msg.sources, 0), IP(10, 1, 1, 1));
	assert_int_equal(igmp_src_at(msg.sources, 1), IP(10, 1, 1, 2));

	assert_int_equal(igmp_parse(VEC(v3_report), IGMP_L2_ETHER, &msg), IGMP_OK);
	assert_true(igmp_record_next(&msg, &it, &rec));
	assert_int_equal(rec.type, IGMP_MODE_IS_EXCLUDE);
	assert_int_equal(rec.group, IP(239, 1, 1, 1));
	assert_int_equal(rec.n_sources, 0);
	assert_true(igmp_record_next(&msg, &it, &rec));
	assert_int_equal(rec.type, IGMP_MODE_IS_INCLUDE);
	assert_int_equal(rec.group, IP(232, 1, 1, 1));
	assert_int_equal(rec.n_sources, 2);
	assert_int_equal(igmp_src_at(rec.sources, 1), IP(10, 1, 1, 2));
	assert_false(igmp_record_next(&msg, &it, &rec));
}

/* ---- malformed variants ----------------------------------------------------- */

enum fix { NOFIX, FIX };

struct bad_case {
	const char *name;
	const uint8_t *base;
	size_t base_len;
	size_t len; /* bytes to keep, 0 = all */
	int off;    /* byte to overwrite (-1 = none) */
	uint8_t val;
	int off2;
	uint8_t val2;
	enum fix fix; /* recompute checksums after the change */
	enum igmp_l2 l2;
	enum igmp_drop want;
};

/* Offsets in v3_report: Ethernet 0, IP 14 (IHL 6), IGMP 38, record 1 at 46, record 2 at 54. */
static const struct bad_case bad[] = {
	{ "empty", VEC(v2_report), 0, -1, 0, -1, 0, NOFIX, IGMP_L2_ETHER, IGMP_DROP_TOO_SHORT },
	{ "eth_only", VEC(v2_report), 14, -1, 0, -1, 0, NOFIX, IGMP_L2_ETHER, IGMP_DROP_TOO_SHORT },
	{ "short_ip", VEC(v2_report), 33, -1, 0, -1, 0, NOFIX, IGMP_L2_ETHER, IGMP_DROP_TOO_SHORT },
	{ "ethertype_ipv6", VEC(v2_report), 0, 12, 0x86, 13, 0xdd, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_NOT_IPV4 },
	{ "ip_version_6", VEC(v2_report), 0, 14, 0x66, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_NOT_IPV4 },
	{ "ihl_4", VEC(v2_report), 0, 14, 0x44, -1, 0, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_HEADER },
	{ "ihl_past_end", VEC(v2_report), 0, 14, 0x4f, -1, 0, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_HEADER },
	{ "total_len_past_end", VEC(v2_report), 0, 17, 0x40, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_LENGTH },
	{ "total_len_below_ihl", VEC(v2_report), 0, 17, 0x10, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_LENGTH },
	{ "truncated_frame", VEC(v2_report), 44, -1, 0, -1, 0, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_LENGTH },
	{ "bad_ip_checksum", VEC(v2_report), 0, 25, 0x23, -1, 0, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_CHECKSUM },
	{ "ra_len_3", VEC(v2_report), 0, 35, 0x03, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_OPTION },
	{ "option_len_past_header", VEC(v2_report), 0, 35, 0x20, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_IP_OPTION },
	{ "more_fragments", VEC(v2_report), 0, 20, 0x20, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_FRAGMENT },
	{ "udp_not_igmp", VEC(v2_report), 0, 23, 17, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_NOT_IGMP },
	{ "ttl_2", VEC(v2_report), 0, 22, 2, -1, 0, FIX, IGMP_L2_ETHER, IGMP_DROP_BAD_TTL },
	{ "multicast_source", VEC(v2_report), 0, 26, 0xe0, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_SOURCE },
	{ "igmp_7_bytes", VEC(v2_report), 0, 17, 0x1f, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_IGMP_TOO_SHORT },
	{ "bad_igmp_checksum", VEC(v2_report), 0, 41, 0xe9, -1, 0, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_CHECKSUM },
	{ "bad_v3_checksum", VEC(v3_report), 0, 69, 0x03, -1, 0, NOFIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_CHECKSUM },
	{ "unknown_type_0x13", VEC(v2_report), 0, 38, 0x13, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_UNKNOWN_TYPE },
	{ "report_group_unicast", VEC(v2_report), 0, 42, 10, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_GROUP },
	{ "query_group_unicast", VEC(v2_query), 0, 42, 10, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_GROUP },
	{ "v3_query_10_bytes", VEC(v3_query), 48, 17, 0x22, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_QUERY_LENGTH },
	{ "v3_query_source_count", VEC(v3_gssq), 0, 49, 3, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_SOURCE_COUNT_OVERFLOW },
	{ "v3_query_source_count_ffff", VEC(v3_gssq), 0, 48, 0xff, 49, 0xff, FIX, IGMP_L2_ETHER,
		IGMP_DROP_SOURCE_COUNT_OVERFLOW },
	{ "v3_query_group_unicast", VEC(v3_gssq), 0, 42, 0, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_BAD_GROUP },
	{ "record_count_3", VEC(v3_report), 0, 45, 3, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_RECORD_COUNT_OVERFLOW },
	{ "record_count_ffff", VEC(v3_report), 0, 44, 0xff, 45, 0xff, FIX, IGMP_L2_ETHER,
		IGMP_DROP_RECORD_COUNT_OVERFLOW },
	{ "record_source_count_3", VEC(v3_report), 0, 57, 3, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_SOURCE_COUNT_OVERFLOW },
	{ "record_source_count_ffff", VEC(v3_report), 0, 56, 0xff, 57, 0xff, FIX, IGMP_L2_ETHER,
		IGMP_DROP_SOURCE_COUNT_OVERFLOW },
	{ "record_aux_len_past_end", VEC(v3_report), 0, 47, 1, -1, 0, FIX, IGMP_L2_ETHER,
		IGMP_DROP_SOURCE_COUNT_OVERFLOW },
};

static void make_bad(const struct bad_case *c, uint8_t *buf, size_t *len)
{
	*len = c->len != 0 ? c->len : c->base_len;
	if (c->len == 0 && c->off < 0 && strcmp(c->name, "empty") == 0)
		*len = 0;
	memcpy(buf, c->base, c->base_len);
	if (c->off >= 0)
		buf[c->off] = c->val;
	if (c->off2 >= 0)
		buf[c->off2] = c->val2;
	if (c->fix == FIX)
		fix_csums(buf, c->base_len);
}

static void test_bad_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad_case *c = &bad[i];
		struct membership_rx_info info = { .l2 = true };
		struct membership_stats st;
		struct capture *cap = calloc(1, sizeof(*cap));
		struct membership *m;
		struct igmp_msg msg;
		uint8_t buf[128];
		size_t len;

		assert_non_null(cap);
		print_message("  %s -> %s\n", c->name, igmp_drop_name(c->want));
		make_bad(c, buf, &len);
		assert_int_equal(igmp_parse(buf, len, c->l2, &msg), c->want);
		/* Through the module: refused, counted under its reason, nothing learned. */
		m = cap_create(cap, NULL);
		assert_non_null(m);
		assert_int_equal(membership_rx_igmp(m, buf, len, &info), -EINVAL);
		membership_get_stats(m, &st);
		assert_int_equal(st.drops[c->want], 1);
		assert_int_equal(membership_members(m, NULL, 0), 0);
		membership_destroy(m);
		free(cap);
	}
}

/* An unknown record type is skipped and counted; the other records still count. */
static void test_unknown_record_type(void **state)
{
	struct membership_rx_info info = { .l2 = true };
	struct capture *cap = calloc(1, sizeof(*cap));
	struct membership_member rows[8];
	struct membership_stats st;
	struct membership *m;
	uint8_t buf[128];

	(void)state;
	memcpy(buf, v3_report, sizeof(v3_report));
	buf[46] = 9; /* record 1 (239.1.1.1): type 9 */
	fix_csums(buf, sizeof(v3_report));
	m = cap_create(cap, NULL);
	assert_int_equal(membership_rx_igmp(m, buf, sizeof(v3_report), &info), 0);
	membership_get_stats(m, &st);
	assert_int_equal(st.drops[IGMP_DROP_UNKNOWN_RECORD_TYPE], 1);
	assert_int_equal(st.rx[IGMP_MSG_V3_REPORT], 1);
	/* 232.1.1.1 INCLUDE {2 sources}: group row + 2 source rows; nothing for 239.1.1.1 */
	assert_int_equal(membership_members(m, rows, 8), 3);
	assert_int_equal(rows[0].group, IP(232, 1, 1, 1));
	assert_int_equal(rows[0].mode, MEMBERSHIP_INCLUDE);
	membership_destroy(m);
	free(cap);
}

/* Record-level refusals: link-local group, unicast group, ASM in the SSM range. */
static void test_record_refusals(void **state)
{
	struct capture *cap = calloc(1, sizeof(*cap));
	struct membership_rx_info info = { .l2 = true };
	struct igmp_tx_record r[3] = {
		{ .type = IGMP_MODE_IS_EXCLUDE, .group = IP(224, 0, 0, 251) },
		{ .type = IGMP_MODE_IS_EXCLUDE, .group = IP(10, 0, 0, 1) },
		{ .type = IGMP_CHANGE_TO_EXCLUDE, .group = IP(232, 5, 5, 5) },
	};
	struct membership_stats st;
	struct membership *m;
	uint8_t buf[1600];
	size_t len;

	(void)state;
	m = cap_create(cap, NULL);
	len = host_v3(buf, IP(192, 168, 1, 20), r, 3);
	assert_int_equal(membership_rx_igmp(m, buf, len, &info), 0);
	len = host_v12(buf, IP(192, 168, 1, 20), IGMP_V2_REPORT, IP(232, 5, 5, 5));
	assert_int_equal(membership_rx_igmp(m, buf, len, &info), 0);
	membership_get_stats(m, &st);
	assert_int_equal(st.drops[IGMP_DROP_LINK_LOCAL_GROUP], 1);
	assert_int_equal(st.drops[IGMP_DROP_BAD_GROUP], 1);
	assert_int_equal(st.drops[IGMP_DROP_SSM_ASM_IGNORED], 2);
	assert_int_equal(membership_members(m, NULL, 0), 0);
	/* An off-link reporter and our own address are refused too. */
	len = host_v12(buf, IP(10, 9, 9, 9), IGMP_V2_REPORT, IP(239, 5, 5, 5));
	assert_int_equal(membership_rx_igmp(m, buf, len, &info), -EINVAL);
	len = host_v12(buf, ED_LAN, IGMP_V2_REPORT, IP(239, 5, 5, 5));
	assert_int_equal(membership_rx_igmp(m, buf, len, &info), -EINVAL);
	membership_get_stats(m, &st);
	assert_int_equal(st.drops[IGMP_DROP_BAD_SOURCE], 1);
	assert_int_equal(st.drops[IGMP_DROP_OWN_PACKET], 1);
	membership_destroy(m);
	free(cap);
}

/* ---- builder ------------------------------------------------------------------ */

static void test_builder_matches_scapy(void **state)
{
	struct igmp_tx_src src = {
		.mac = { 0x02, 0, 0, 0, 0x01, 0x01 }, .ip = ED_ADDR, .ip_id = 7
	};
	uint32_t s1 = IP(10, 1, 1, 1);
	struct igmp_tx_record rec = { .type = IGMP_MODE_IS_EXCLUDE, .group = IP(239, 9, 9, 9) };
	uint8_t buf[256];
	size_t len;

	(void)state;
	len = igmp_build_query(buf, sizeof(buf), &src, 3, 0, 10000, 0, 2, 125, NULL, 0);
	assert_int_equal(len, sizeof(ed_v3_gq));
	assert_memory_equal(buf, ed_v3_gq, len);
	src.ip_id = 8;
	len = igmp_build_query(
		buf, sizeof(buf), &src, 3, IP(232, 1, 1, 1), 1000, 1, 2, 125, &s1, 1);
	assert_int_equal(len, sizeof(ed_v3_gssq));
	assert_memory_equal(buf, ed_v3_gssq, len);
	src.ip_id = 9;
	len = igmp_build_v3_report(buf, sizeof(buf), &src, &rec, 1);
	assert_int_equal(len, sizeof(ed_v3_report));
	assert_memory_equal(buf, ed_v3_report, len);
	/* Too small a buffer: nothing built. */
	assert_int_equal(igmp_build_v3_report(buf, 40, &src, &rec, 1), 0);
	assert_int_equal(igmp_build_query(buf, 45, &src, 3, 0, 1000, 0, 2, 125, NULL, 0), 0);
}

static void test_builder_versions(void **state)
{
	struct igmp_tx_src src = { .ip = ED_ADDR };
	struct igmp_msg msg;
	uint8_t buf[256];
	size_t len;

	(void)state;
	len = igmp_build_query(
		buf, sizeof(buf), &src, 1, IP(239, 1, 1, 1), 10000, 0, 2, 125, NULL, 0);
	assert_int_equal(igmp_parse(buf, len, IGMP_L2_ETHER, &msg), IGMP_OK);
	assert_int_equal(msg.type, IGMP_MSG_V1_QUERY);
	assert_int_equal(msg.group, 0); /* v1 has no group-specific query */
	len = igmp_build_query(
		buf, sizeof(buf), &src, 2, IP(239, 1, 1, 1), 1000, 0, 2, 125, NULL, 0);
	assert_int_equal(igmp_parse(buf, len, IGMP_L2_ETHER, &msg), IGMP_OK);
	assert_int_equal(msg.type, IGMP_MSG_V2_QUERY);
	assert_int_equal(msg.max_resp_ds, 10);
	assert_int_equal(msg.ip_dst, IP(239, 1, 1, 1));
	len = igmp_build_v12(buf, sizeof(buf), &src, IGMP_V2_LEAVE, IP(239, 1, 1, 1));
	assert_int_equal(igmp_parse(buf, len, IGMP_L2_ETHER, &msg), IGMP_OK);
	assert_int_equal(msg.type, IGMP_MSG_V2_LEAVE);
	assert_int_equal(msg.ip_dst, IGMP_ALL_ROUTERS);
	assert_int_equal(buf[0], 0x01);
	assert_int_equal(buf[5], 0x02); /* 01:00:5e:00:00:02 */
}

/* RFC 3376 §4.1.1 exponential code: decode(encode(v)) >= v, exact where representable. */
static void test_code(void **state)
{
	static const struct {
		uint32_t v;
		uint8_t code;
	} t[] = { { 0, 0 }, { 100, 100 }, { 127, 127 }, { 128, 0x80 }, { 136, 0x81 }, { 137, 0x82 },
		{ 248, 0x8f }, { 256, 0x90 }, { 1250, 0xb4 }, { 31744, 0xff }, { 40000, 0xff } };

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(igmp_code_encode(t[i].v), t[i].code);
		if (t[i].v <= 31744)
			assert_true(igmp_code_decode(t[i].code) >= t[i].v);
	}
	for (uint32_t c = 0; c < 256; c++)
		assert_int_equal(igmp_code_encode(igmp_code_decode((uint8_t)c)), c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_vectors),
		cmocka_unit_test(test_v3_details),
		cmocka_unit_test(test_bad_vectors),
		cmocka_unit_test(test_unknown_record_type),
		cmocka_unit_test(test_record_refusals),
		cmocka_unit_test(test_builder_matches_scapy),
		cmocka_unit_test(test_builder_versions),
		cmocka_unit_test(test_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
