/* SPDX-License-Identifier: BSD-3-Clause */
#include "espgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_malloc.h>

#include "esp.h"
#include "esp_priv.h" /* seq_out: the first sequence number (seq=N) */
#include "opts.h"

#define ESPGEN_MAX_BURST 64

struct espgen {
	struct esp_ctx *ctx;
	struct esp_sa *sa;
	uint32_t spi, src, dst;
	uint64_t refused;
};

static int hexbyte(const char *s, uint8_t *out)
{
	char b[3] = { s[0], s[1], '\0' };
	char *end;
	unsigned long v = strtoul(b, &end, 16);

	if (end != b + 2)
		return -EINVAL;
	*out = (uint8_t)v;
	return 0;
}

static int parse_spec(const char *spec, struct esp_sa_params *p, uint64_t *seq_start)
{
	char buf[256], *f[4], *opt, *save = NULL;
	struct in_addr a;
	char *end;
	unsigned long spi;

	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", spec);
	for (int i = 0; i < 4; i++) {
		f[i] = strtok_r(i == 0 ? buf : NULL, ":", &save);
		if (f[i] == NULL)
			return -EINVAL;
	}
	/* optional: "esn" (64-bit sequence numbers), "seq=N" (first sequence number: a
	 * later process on the same SA starts past the receiver's replay window) */
	*seq_start = 1;
	while ((opt = strtok_r(NULL, ":", &save)) != NULL) {
		if (strcmp(opt, "esn") == 0) {
			p->esn = true;
		} else if (strncmp(opt, "seq=", 4) == 0) {
			errno = 0;
			*seq_start = strtoull(opt + 4, &end, 0);
			if (errno != 0 || *end != '\0' || *seq_start == 0)
				return -EINVAL;
		} else {
			return -EINVAL;
		}
	}
	if (!p->esn && *seq_start > UINT32_MAX)
		return -EINVAL;
	errno = 0;
	spi = strtoul(f[0], &end, 0);
	if (errno != 0 || *end != '\0' || spi < 256 || spi > UINT32_MAX || strlen(f[1]) != 40)
		return -EINVAL;
	p->spi = (uint32_t)spi;
	for (int i = 0; i < 20; i++)
		if (hexbyte(f[1] + 2 * i, i < 16 ? &p->cipher_key[i] : &p->salt[i - 16]) != 0)
			return -EINVAL;
	if (inet_pton(AF_INET, f[2], &a) != 1)
		return -EINVAL;
	p->tun_src = ntohl(a.s_addr);
	if (inet_pton(AF_INET, f[3], &a) != 1)
		return -EINVAL;
	p->tun_dst = ntohl(a.s_addr);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

struct espgen *espgen_create(const char *spec, int socket_id)
{
	struct esp_sa_params p;
	uint64_t seq_start;
	struct espgen *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	esp_sa_params_default(&p);
	p.dir = ESP_DIR_OUTBOUND;
	p.xform = ESP_XFORM_AES_GCM_128;
	if (parse_spec(spec, &p, &seq_start) != 0) {
		fprintf(stderr,
			"vprn-bench: --esp wants SPI:KEYHEX(40):TUN_SRC:TUN_DST[:esn][:seq=N]\n");
		goto fail;
	}
	e->spi = p.spi;
	e->src = p.tun_src;
	e->dst = p.tun_dst;
	e->sa = esp_sa_create(&p, socket_id);
	e->ctx = esp_ctx_create(socket_id);
	if (e->sa == NULL || e->ctx == NULL) {
		fprintf(stderr, "vprn-bench: --esp: the ESP engine refused the SA\n");
		goto fail;
	}
	/* Not yet shared with any lcore: the engine hands out seq_out + 1 next. */
	e->sa->seq_out = seq_start - 1;
	explicit_bzero(&p, sizeof(p));
	return e;
fail:
	explicit_bzero(&p, sizeof(p));
	espgen_destroy(e);
	return NULL;
}

void espgen_destroy(struct espgen *e)
{
	if (e == NULL)
		return;
	esp_sa_destroy(e->sa);
	if (e->ctx != NULL)
		esp_ctx_destroy(e->ctx);
	free(e);
}

void espgen_describe(const struct espgen *e, char *buf, size_t len)
{
	char a[16], b[16];

	snprintf(buf, len, "SPI 0x%08x tunnel %s -> %s, AES-GCM-128 (key not shown)", e->spi,
		bench_ip_str(e->src, a), bench_ip_str(e->dst, b));
}

uint64_t espgen_refused(const struct espgen *e)
{
	return e->refused;
}

uint16_t espgen_encrypt(struct espgen *e, struct rte_mbuf **pkts, uint16_t n)
{
	struct rte_ether_hdr l2[ESPGEN_MAX_BURST];
	uint8_t reasons[ESPGEN_MAX_BURST];
	uint16_t ok;

	if (n > ESPGEN_MAX_BURST)
		n = ESPGEN_MAX_BURST;
	/* The engine takes the inner IPv4 packet: keep each L2 header aside. */
	for (uint16_t i = 0; i < n; i++) {
		memcpy(&l2[i], rte_pktmbuf_mtod(pkts[i], void *), sizeof(l2[i]));
		rte_pktmbuf_adj(pkts[i], sizeof(l2[i]));
	}
	ok = esp_outb_inplace(e->ctx, e->sa, pkts, n, reasons);
	/* Failures are moved to the tail (burst convention), so the saved L2
	 * headers may be permuted among the survivors: harmless, every frame of
	 * a port carries the same addresses but for a group's multicast MAC,
	 * and an ESP frame goes to the tunnel's next hop (--dst-mac) anyway.
	 * Headroom: 128 bytes, the engine takes at most 52, L2 needs 14. */
	for (uint16_t i = 0; i < ok; i++) {
		struct rte_ether_hdr *h =
			(struct rte_ether_hdr *)rte_pktmbuf_prepend(pkts[i], sizeof(*h));

		*h = l2[i];
	}
	if (ok < n) {
		e->refused += n - ok;
		rte_pktmbuf_free_bulk(pkts + ok, n - ok);
	}
	return ok;
}
