/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TESTS_DP_ESP_UTIL_H
#define VPRN_TESTS_DP_ESP_UTIL_H

/* SA pairs for data plane tests: the data plane's side and the test's mirror. */

#include <string.h>

#include <rte_mbuf.h>

#include "dataplane/esp/esp.h"

static inline struct esp_sa *tsa_make(
	uint32_t spi, enum esp_dir dir, uint32_t src, uint32_t dst, uint8_t keyseed)
{
	struct esp_sa_params p;

	esp_sa_params_default(&p);
	p.spi = spi;
	p.dir = dir;
	for (unsigned int i = 0; i < sizeof(p.cipher_key); i++)
		p.cipher_key[i] = (uint8_t)(keyseed + i);
	memcpy(p.salt, &spi, 4);
	p.tun_src = src;
	p.tun_dst = dst;
	return esp_sa_create(&p, 0);
}

/*
 * Copy a frame (possibly a chain) minus `skip` leading bytes into one fresh
 * single-segment mbuf.
 */
static inline struct rte_mbuf *tlinear(
	struct rte_mempool *mp, const struct rte_mbuf *m, uint32_t skip)
{
	struct rte_mbuf *c = rte_pktmbuf_alloc(mp);
	uint32_t len = rte_pktmbuf_pkt_len(m) - skip;
	char *p;

	if (c == NULL)
		return NULL;
	p = rte_pktmbuf_append(c, (uint16_t)len);
	if (p == NULL || rte_pktmbuf_read(m, skip, len, p) == NULL) {
		rte_pktmbuf_free(c);
		return NULL;
	}
	if (rte_pktmbuf_read(m, skip, len, p) != p)
		memcpy(p, rte_pktmbuf_read(m, skip, len, p), len);
	return c;
}

/* Copy len bytes at off of a (possibly chained) mbuf into buf; 0 or -1. */
static inline int tread(const struct rte_mbuf *m, uint32_t off, uint32_t len, void *buf)
{
	const void *p = rte_pktmbuf_read(m, off, len, buf);

	if (p == NULL)
		return -1;
	if (p != buf)
		memcpy(buf, p, len);
	return 0;
}

#endif /* VPRN_TESTS_DP_ESP_UTIL_H */
