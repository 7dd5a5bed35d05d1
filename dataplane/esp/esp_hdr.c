/* SPDX-License-Identifier: BSD-3-Clause */
/* Outer IPv4 [+ UDP] header writing and the SPI extractor for the caller's lookup. */

#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_udp.h>

#include "esp_priv.h"

uint16_t esp_outer_hdr_write(
	void *buf, const struct esp_outer_hdr *h, uint16_t esp_len, uint16_t ip_id)
{
	struct rte_ipv4_hdr *ip = buf;
	uint16_t hl = ESP_IPV4_HDR_MIN + (h->udp_encap ? ESP_UDP_HDR_LEN : 0);

	ip->version_ihl = (ESP_IPV4_VERSION << 4) | (ESP_IPV4_HDR_MIN / 4);
	ip->type_of_service = h->tos;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(hl + esp_len));
	ip->packet_id = rte_cpu_to_be_16(ip_id);
	ip->fragment_offset = rte_cpu_to_be_16(h->df ? ESP_IPV4_DF : 0);
	ip->time_to_live = h->ttl;
	ip->next_proto_id = h->udp_encap ? ESP_IPPROTO_UDP : ESP_IPPROTO_ESP;
	ip->hdr_checksum = 0;
	ip->src_addr = rte_cpu_to_be_32(h->src);
	ip->dst_addr = rte_cpu_to_be_32(h->dst);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	if (h->udp_encap) {
		struct rte_udp_hdr *udp = (struct rte_udp_hdr *)(ip + 1);

		udp->src_port = rte_cpu_to_be_16(h->udp_sport);
		udp->dst_port = rte_cpu_to_be_16(h->udp_dport);
		udp->dgram_len = rte_cpu_to_be_16((uint16_t)(ESP_UDP_HDR_LEN + esp_len));
		udp->dgram_cksum = 0; /* RFC 3948 section 2.1: zero checksum allowed */
	}
	return hl;
}

int esp_pkt_spi(const struct rte_mbuf *m, uint16_t udp_port, uint32_t *spi)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct rte_ipv4_hdr *ip = (const struct rte_ipv4_hdr *)p;
	uint32_t ihl, off;
	uint32_t v;

	if (len < ESP_IPV4_HDR_MIN)
		return ESP_DROP_TRUNCATED;
	ihl = (uint32_t)(ip->version_ihl & 0xf) * 4;
	if ((ip->version_ihl >> 4) != ESP_IPV4_VERSION || ihl < ESP_IPV4_HDR_MIN)
		return ESP_DROP_BAD_OUTER_IP;
	off = ihl;
	if (ip->next_proto_id == ESP_IPPROTO_UDP && udp_port != 0) {
		const struct rte_udp_hdr *udp = (const struct rte_udp_hdr *)(p + ihl);

		if (len < ihl + ESP_UDP_HDR_LEN)
			return ESP_DROP_TRUNCATED;
		if (udp->dst_port != rte_cpu_to_be_16(udp_port))
			return ESP_DROP_NOT_ESP;
		off += ESP_UDP_HDR_LEN;
	} else if (ip->next_proto_id != ESP_IPPROTO_ESP) {
		return ESP_DROP_NOT_ESP;
	}
	if (len < off + 4)
		return ESP_DROP_TRUNCATED;
	memcpy(&v, p + off, 4);
	if (v == 0) /* RFC 3948 section 2.2: non-ESP marker (IKE); SPI 0 is never an SA */
		return off > ihl ? ESP_DROP_BAD_UDP : ESP_DROP_NO_SA;
	*spi = rte_be_to_cpu_32(v);
	return 0;
}
