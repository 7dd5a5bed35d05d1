/* SPDX-License-Identifier: BSD-3-Clause */
/* Frame validation, table-driven: every malformed class maps to its reason. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dataplane/drop.h"
#include "dataplane/parse.h"
#include "frames.h"

enum mut {
	M_NONE,
	M_TRUNC_ETH, /* 13 bytes */
	M_TRUNC_IP,  /* Ethernet + 19 bytes */
	M_VERSION6,
	M_IHL4,
	M_IHL_BEYOND, /* IHL 15 in a 30-byte packet */
	M_LEN_SHORT,  /* total length < IHL */
	M_LEN_LONG,   /* total length > frame */
	M_CSUM,
	M_OPT_BAD,  /* option length 0 */
	M_OPT_OVER, /* option runs past the header */
	M_OPT_OK,   /* NOP, NOP, RA (len 4) */
	M_SRC_MCAST,
	M_PADDED, /* Ethernet padding after the packet: fine */
	M_VLAN,	  /* 802.1Q tag */
	M_QINQ,
	M_VLAN_TRUNC,
	M_IPV6,
	M_ARP_OK,
	M_ARP_SHORT,
	M_ARP_HLEN,
	M_ARP_OP,
};

struct row {
	const char *name;
	enum mut mut;
	int allow_vlan;
	int expect; /* DP_PARSE_OK or a reason */
};

static size_t build(uint8_t *f, enum mut mut)
{
	const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	size_t len = fr_ipv4(f, mac, 0x0a000102, 0xef010203, 17, 8, 40);
	uint8_t *ip = f + 14;

	switch (mut) {
	case M_NONE:
		break;
	case M_TRUNC_ETH:
		return 13;
	case M_TRUNC_IP:
		return 14 + 19;
	case M_VERSION6:
		ip[0] = 0x65;
		fr_ip_csum(ip);
		break;
	case M_IHL4:
		ip[0] = 0x44;
		break;
	case M_IHL_BEYOND:
		ip[0] = 0x4f;
		return 14 + 30;
	case M_LEN_SHORT:
		fr_put16(ip + 2, 19);
		fr_ip_csum(ip);
		break;
	case M_LEN_LONG:
		fr_put16(ip + 2, 61);
		fr_ip_csum(ip);
		break;
	case M_CSUM:
		ip[10] ^= 0x55;
		break;
	case M_OPT_BAD:
	case M_OPT_OVER:
	case M_OPT_OK:
		memmove(ip + 24, ip + 20, 40);
		ip[0] = 0x46;
		fr_put16(ip + 2, 64);
		if (mut == M_OPT_BAD) {
			ip[20] = 0x94;
			ip[21] = 0;
			ip[22] = 0;
			ip[23] = 0;
		} else if (mut == M_OPT_OVER) {
			ip[20] = 1;
			ip[21] = 0x94;
			ip[22] = 4;
			ip[23] = 0;
		} else {
			ip[20] = 1;
			ip[21] = 1;
			ip[22] = 0x94;
			ip[23] = 2;
		}
		fr_ip_csum(ip);
		return len + 4;
	case M_SRC_MCAST:
		fr_put32(ip + 12, 0xe0000001);
		fr_ip_csum(ip);
		break;
	case M_PADDED:
		memset(f + len, 0, 10);
		return len + 10;
	case M_VLAN:
	case M_QINQ:
	case M_VLAN_TRUNC:
		memmove(f + 16, f + 12, len - 12);
		fr_put16(f + 12, 0x8100);
		fr_put16(f + 14, 0x0064);
		if (mut == M_QINQ)
			fr_put16(f + 16, 0x8100);
		return mut == M_VLAN_TRUNC ? 16 : len + 4;
	case M_IPV6:
		fr_put16(f + 12, 0x86dd);
		break;
	case M_ARP_OK:
	case M_ARP_SHORT:
	case M_ARP_HLEN:
	case M_ARP_OP:
		len = fr_arp(f, 1, mac, 0x0a000102, mac, 0x0a000101);
		if (mut == M_ARP_SHORT)
			return len - 1;
		if (mut == M_ARP_HLEN)
			f[18] = 8;
		if (mut == M_ARP_OP)
			f[21] = 9;
		break;
	}
	return len;
}

static const struct row rows[] = {
	{ "valid", M_NONE, 0, DP_PARSE_OK },
	{ "eth truncated", M_TRUNC_ETH, 1, DP_DROP_ETH_TRUNC },
	{ "ip truncated", M_TRUNC_IP, 1, DP_DROP_IP_TRUNC },
	{ "version 6 in ipv4", M_VERSION6, 1, DP_DROP_IP_VERSION },
	{ "ihl 4", M_IHL4, 1, DP_DROP_IP_IHL },
	{ "ihl beyond frame", M_IHL_BEYOND, 1, DP_DROP_IP_TRUNC },
	{ "total length < ihl", M_LEN_SHORT, 1, DP_DROP_IP_LEN },
	{ "total length > frame", M_LEN_LONG, 1, DP_DROP_IP_LEN },
	{ "bad checksum", M_CSUM, 1, DP_DROP_IP_CSUM },
	{ "option length 0", M_OPT_BAD, 1, DP_DROP_IP_OPTIONS },
	{ "option overruns", M_OPT_OVER, 1, DP_DROP_IP_OPTIONS },
	{ "router alert option", M_OPT_OK, 1, DP_PARSE_OK },
	{ "multicast source", M_SRC_MCAST, 1, DP_DROP_IP_SRC },
	{ "ethernet padding", M_PADDED, 0, DP_PARSE_OK },
	{ "802.1Q on LAN", M_VLAN, 1, DP_PARSE_OK },
	{ "802.1Q on WAN", M_VLAN, 0, DP_DROP_VLAN_BAD },
	{ "double tag", M_QINQ, 1, DP_DROP_VLAN_BAD },
	{ "truncated tag", M_VLAN_TRUNC, 1, DP_DROP_VLAN_BAD },
	{ "ipv6", M_IPV6, 1, DP_DROP_ETHERTYPE },
	{ "arp", M_ARP_OK, 0, DP_PARSE_OK },
	{ "arp short", M_ARP_SHORT, 0, DP_DROP_ARP_BAD },
	{ "arp hlen 8", M_ARP_HLEN, 0, DP_DROP_ARP_BAD },
	{ "arp op 9", M_ARP_OP, 0, DP_DROP_ARP_BAD },
};

static void test_rows(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint8_t f[256] = { 0 };
		struct dp_parsed pi;
		size_t len = build(f, rows[i].mut);
		int r = dp_parse_frame(f, len, rows[i].allow_vlan, &pi);

		if (r != rows[i].expect)
			fail_msg("row '%s': got %d (%s), want %d (%s)", rows[i].name, r,
				r < 0 ? "ok" : dp_drop_name((unsigned int)r), rows[i].expect,
				rows[i].expect < 0 ? "ok"
						   : dp_drop_name((unsigned int)rows[i].expect));
	}
}

static void test_fields(void **state)
{
	uint8_t f[256];
	struct dp_parsed pi;
	size_t len;

	(void)state;
	len = build(f, M_VLAN);
	assert_int_equal(dp_parse_frame(f, len, 1, &pi), DP_PARSE_OK);
	assert_int_equal(pi.l2_len, 18);
	assert_int_equal(pi.vlan, 100);
	assert_int_equal(pi.l3, DP_L3_IPV4);
	assert_int_equal(pi.ihl, 20);
	assert_int_equal(pi.ip_len, 60);
	assert_int_equal(pi.proto, 17);
	assert_int_equal(pi.ttl, 8);
	assert_int_equal(pi.src, 0x0a000102);
	assert_int_equal(pi.dst, 0xef010203);
}

/* Every prefix of a valid frame is refused with a reason, never read past. */
static void test_every_truncation(void **state)
{
	uint8_t f[256];
	size_t len = build(f, M_NONE);
	struct dp_parsed pi;

	(void)state;
	for (size_t l = 0; l < len; l++) {
		int r = dp_parse_frame(f, l, 1, &pi);

		assert_true(r >= 0 && r < DP_DROP__MAX);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_every_truncation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
