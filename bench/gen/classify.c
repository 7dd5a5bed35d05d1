/* SPDX-License-Identifier: BSD-3-Clause */
#include "classify.h"

#include <arpa/inet.h>
#include <string.h>

#define ETH_HDR_LEN 14u
#define ETHERTYPE_IPV4_NUM 0x0800u /* IEEE 802.3 */
#define IPV4_MIN_HDR 20u	   /* RFC 791 §3.1 */
#define IPPROTO_UDP_NUM 17u
#define IPPROTO_ESP_NUM 50u /* RFC 4303 */
#define UDP_HDR_LEN 8u
#define ESP_HDR_LEN 8u	     /* SPI + sequence number, RFC 4303 §2 */
#define UDP_ENCAP_PORT 4500u /* RFC 3948 §2.2: a non-zero first word is ESP */

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return ntohs(v);
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return ntohl(v);
}

static enum pkt_kind esp(const uint8_t *ip, const uint8_t *hdr, struct pkt_info *pi)
{
	pi->dst = rd32(ip + 16);
	pi->spi = rd32(hdr);
	pi->esp_seq = rd32(hdr + 4);
	return PKT_ESP;
}

enum pkt_kind bench_classify(const uint8_t *frame, uint32_t len, struct pkt_info *pi)
{
	const uint8_t *ip = frame + ETH_HDR_LEN;
	uint32_t ihl, l4;

	if (len < ETH_HDR_LEN + IPV4_MIN_HDR || rd16(frame + 12) != ETHERTYPE_IPV4_NUM ||
		(ip[0] >> 4) != 4)
		return PKT_FOREIGN;
	ihl = (uint32_t)(ip[0] & 0xf) * 4;
	l4 = ETH_HDR_LEN + ihl;
	if (ihl < IPV4_MIN_HDR || len < l4 + ESP_HDR_LEN)
		return PKT_FOREIGN;
	if (ip[9] == IPPROTO_ESP_NUM)
		return esp(ip, frame + l4, pi);
	if (ip[9] != IPPROTO_UDP_NUM)
		return PKT_FOREIGN;
	if (rd16(frame + l4 + 2) == UDP_ENCAP_PORT && len >= l4 + UDP_HDR_LEN + ESP_HDR_LEN &&
		rd32(frame + l4 + UDP_HDR_LEN) != 0)
		return esp(ip, frame + l4 + UDP_HDR_LEN, pi);
	if (len < l4 + UDP_HDR_LEN + BENCH_STAMP_LEN)
		return PKT_FOREIGN;
	memcpy(&pi->stamp, frame + l4 + UDP_HDR_LEN, sizeof(pi->stamp));
	return pi->stamp.magic == BENCH_STAMP_MAGIC ? PKT_STAMP : PKT_FOREIGN;
}
