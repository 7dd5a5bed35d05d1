/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: inbound ESP processing on arbitrary bytes.
 * Byte 0 picks the SA (transform x ESN x UDP) and in place / out of place;
 * the rest is the packet from the outer IPv4 header on. Keys match
 * tests/e2e/test_esp_interop.py, so the seed corpus holds authentic packets
 * that reach the padding and inner checks. Aborts if any mbuf leaks.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "esp.h"
#include "esp_test.h"

#define POOL_N 63
#define N_SA 16

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rte_mempool *mp;
static struct esp_ctx *ctx;
static struct esp_sa *sas[N_SA];

/* The IMB_MGR lives behind a pointer in DPDK memory, which LeakSanitizer
 * does not scan: free everything at exit so that no false leak is reported. */
static void cleanup(void)
{
	for (int i = 0; i < N_SA; i++)
		esp_sa_destroy(sas[i]);
	esp_ctx_destroy(ctx);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char prefix[64];
	char *eal[] = { (char *)"fuzz", (char *)"-l0", (char *)"--no-huge", (char *)"--no-pci",
		(char *)"-m", (char *)"64", prefix, (char *)"--log-level=lib.*:error", NULL };

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "--file-prefix=vprn-fuzz-esp-%d", (int)getpid());
	if (rte_eal_init(8, eal) < 0)
		abort();
	mp = rte_pktmbuf_pool_create(
		"fz", POOL_N, 0, 0, 4096 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	ctx = esp_ctx_create(SOCKET_ID_ANY);
	if (mp == NULL || ctx == NULL)
		abort();
	atexit(cleanup);
	for (int i = 0; i < N_SA; i++) {
		struct esp_sa_params p;

		esp_sa_params_default(&p);
		p.spi = 0x1000abcd;
		p.dir = ESP_DIR_INBOUND;
		p.xform = (enum esp_xform)(i & 3);
		p.esn = (i & 4) != 0;
		p.udp_encap = (i & 8) != 0;
		p.replay_window = 64;
		for (int k = 0; k < 32; k++) {
			p.cipher_key[k] = (uint8_t)(0x20 + k);
			p.auth_key[k] = (uint8_t)(0x60 + k);
		}
		memcpy(p.salt, "\xc0\xff\xee\x01", 4);
		sas[i] = esp_sa_create(&p, SOCKET_ID_ANY);
		if (sas[i] == NULL)
			abort();
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rte_mbuf *m, *out = NULL;
	struct esp_sa *sa;
	uint8_t reason;
	bool oop;
	char *d;

	if (size < 1 || size > 4000)
		return 0;
	sa = sas[data[0] & (N_SA - 1)];
	oop = (data[0] & 0x10) != 0;
	/* Fresh window each run (as the seeds start at 5 or 2^32 + 5). */
	esp_sa_test_set_seq(sa, (data[0] & 4) ? (1ull << 32) + 5 : 5);
	m = rte_pktmbuf_alloc(mp);
	if (m == NULL)
		abort();
	d = rte_pktmbuf_append(m, (uint16_t)(size - 1));
	if (d == NULL)
		abort();
	memcpy(d, data + 1, size - 1);
	if (oop) {
		if (esp_inb_oop(ctx, &m, &sa, &out, 1, mp, &reason) == 1)
			rte_pktmbuf_free(out);
	} else {
		esp_inb(ctx, &m, &sa, 1, &reason);
	}
	rte_pktmbuf_free(m);
	if (rte_mempool_avail_count(mp) != POOL_N)
		abort(); /* an mbuf leaked */
	return 0;
}
