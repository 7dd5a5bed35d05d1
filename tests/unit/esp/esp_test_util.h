/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TESTS_ESP_TEST_UTIL_H
#define VPRN_TESTS_ESP_TEST_UTIL_H

/* Helpers shared by the ESP unit tests: packets, SAs, hex. */

#include <stdint.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "esp.h"

#define T_SRC 0x0a000001u /* 10.0.0.1 */
#define T_DST 0x0a000002u /* 10.0.0.2 */

static inline size_t hex2bin(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (hex[0] != '\0' && hex[1] != '\0' && n < max) {
		unsigned int v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* Inner IPv4/UDP packet with a UDP payload of plen bytes (pattern), TOS tos. */
static inline struct rte_mbuf *make_inner(struct rte_mempool *mp, uint16_t plen, uint8_t tos)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint16_t tl = (uint16_t)(20 + 8 + plen);
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *udp;
	uint8_t *pl;

	if (m == NULL)
		return NULL;
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_append(m, tl);
	if (ip == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->type_of_service = tos;
	ip->total_length = rte_cpu_to_be_16(tl);
	ip->time_to_live = 16;
	ip->next_proto_id = 17;
	ip->src_addr = rte_cpu_to_be_32(0xc0a80101);
	ip->dst_addr = rte_cpu_to_be_32(0xef010203);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	udp = (struct rte_udp_hdr *)(ip + 1);
	udp->src_port = rte_cpu_to_be_16(5000);
	udp->dst_port = rte_cpu_to_be_16(5001);
	udp->dgram_len = rte_cpu_to_be_16((uint16_t)(8 + plen));
	udp->dgram_cksum = 0;
	pl = (uint8_t *)(udp + 1);
	for (uint16_t i = 0; i < plen; i++)
		pl[i] = (uint8_t)(i * 7 + plen);
	return m;
}

static inline void sa_params(struct esp_sa_params *p, enum esp_xform x, enum esp_dir dir, bool esn,
	bool udp, uint32_t spi)
{
	esp_sa_params_default(p);
	p->spi = spi;
	p->dir = dir;
	p->xform = x;
	p->esn = esn;
	p->udp_encap = udp;
	p->tun_src = T_SRC;
	p->tun_dst = T_DST;
	for (unsigned int i = 0; i < sizeof(p->cipher_key); i++)
		p->cipher_key[i] = (uint8_t)(0x10 + i);
	for (unsigned int i = 0; i < sizeof(p->auth_key); i++)
		p->auth_key[i] = (uint8_t)(0x80 + i);
	memcpy(p->salt, "\x01\x02\x03\x04", 4);
}

#endif /* VPRN_TESTS_ESP_TEST_UTIL_H */
