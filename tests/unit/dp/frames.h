/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TESTS_DP_FRAMES_H
#define VPRN_TESTS_DP_FRAMES_H

/* Frame builders for data plane tests (Ethernet/IPv4/ARP, checksums right). */

#include <stdint.h>
#include <string.h>

static inline void fr_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void fr_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint16_t fr_csum(const uint8_t *p, size_t len)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		s += (uint32_t)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline void fr_ip_csum(uint8_t *ip)
{
	unsigned int ihl = (ip[0] & 0xf) * 4u;

	ip[10] = ip[11] = 0;
	fr_put16(ip + 10, fr_csum(ip, ihl));
}

static const uint8_t fr_host_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x10 };

/*
 * Ethernet + IPv4 (IHL 5) + payload of `plen` bytes (pattern). dst MAC is
 * the IPv4 multicast MAC for a multicast dst, else `dmac`. Returns length.
 */
static inline size_t fr_ipv4(uint8_t *f, const uint8_t *dmac, uint32_t src, uint32_t dst,
	uint8_t proto, uint8_t ttl, size_t plen)
{
	uint8_t *ip = f + 14;

	if ((dst >> 28) == 0xe) {
		const uint8_t m[6] = { 0x01, 0x00, 0x5e, (uint8_t)((dst >> 16) & 0x7f),
			(uint8_t)(dst >> 8), (uint8_t)dst };
		memcpy(f, m, 6);
	} else {
		memcpy(f, dmac, 6);
	}
	memcpy(f + 6, fr_host_mac, 6);
	fr_put16(f + 12, 0x0800);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	fr_put16(ip + 2, (uint16_t)(20 + plen));
	fr_put16(ip + 4, 0x1234);
	ip[8] = ttl;
	ip[9] = proto;
	fr_put32(ip + 12, src);
	fr_put32(ip + 16, dst);
	fr_ip_csum(ip);
	for (size_t i = 0; i < plen; i++)
		ip[20 + i] = (uint8_t)(i * 13 + 5);
	return 14 + 20 + plen;
}

/* ARP request/reply frame (42 bytes). */
static inline size_t fr_arp(
	uint8_t *f, uint16_t op, const uint8_t *sha, uint32_t sip, const uint8_t *tha, uint32_t tip)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	memcpy(f, op == 1 ? bcast : tha, 6);
	memcpy(f + 6, sha, 6);
	fr_put16(f + 12, 0x0806);
	fr_put16(f + 14, 1);
	fr_put16(f + 16, 0x0800);
	f[18] = 6;
	f[19] = 4;
	fr_put16(f + 20, op);
	memcpy(f + 22, sha, 6);
	fr_put32(f + 28, sip);
	memcpy(f + 32, tha, 6);
	fr_put32(f + 38, tip);
	return 42;
}

#endif /* VPRN_TESTS_DP_FRAMES_H */
