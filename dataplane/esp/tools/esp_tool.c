/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-esp-tool: run hex packets through the real ESP engine, for interop
 * tests (tests/e2e/test_esp_interop.py drives it against scapy).
 *
 *   vprn-esp-tool encrypt|decrypt --xform gcm128|gcm256|cbc128|cbc256
 *       --spi N --key HEX [--salt HEX] [--auth-key HEX] [--esn] [--udp]
 *       [--seq N] [--window N] [--oop] [--src A.B.C.D --dst A.B.C.D]
 *
 * stdin: one packet per line in hex (encrypt: the inner IPv4 packet;
 * decrypt: outer IPv4 [+ UDP] + ESP). stdout, one line per packet:
 * "OK <hex>" or "DROP <reason>". --seq: encrypt, the last sequence number
 * used (the first packet gets N + 1); decrypt, the replay window's top.
 * DPDK runs with --no-huge --no-pci and a per-process --file-prefix.
 */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "esp.h"
#include "esp_test.h"

#define LINE_MAX_ 20000

static int eal_init(const char *prog)
{
	char prefix[64];
	char *argv[] = { (char *)prog, (char *)"-l0", (char *)"--no-huge", (char *)"--no-pci",
		(char *)"-m", (char *)"64", prefix, (char *)"--log-level=lib.*:error", NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=vprn-esptool-%d", (int)getpid());
	return rte_eal_init(8, argv);
}

static int parse_hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0, len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len; i += 2) {
		unsigned int v;

		if (sscanf(s + i, "%2x", &v) != 1)
			return -1;
		out[n++] = (uint8_t)v;
	}
	return (int)n;
}

static int parse_xform(const char *s, enum esp_xform *x)
{
	static const struct {
		const char *name;
		enum esp_xform x;
	} t[] = {
		{ "gcm128", ESP_XFORM_AES_GCM_128 },
		{ "gcm256", ESP_XFORM_AES_GCM_256 },
		{ "cbc128", ESP_XFORM_AES_CBC_128_HMAC_SHA256 },
		{ "cbc256", ESP_XFORM_AES_CBC_256_HMAC_SHA256 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (strcmp(s, t[i].name) == 0) {
			*x = t[i].x;
			return 0;
		}
	}
	return -EINVAL;
}

static void usage(void)
{
	fprintf(stderr, "usage: vprn-esp-tool encrypt|decrypt --xform gcm128|gcm256|cbc128|cbc256 "
			"--spi N --key HEX [--salt HEX] [--auth-key HEX] [--esn] [--udp] "
			"[--seq N] [--window N] [--oop] [--src IP] [--dst IP]\n");
}

static void print_result(struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);

	fputs("OK ", stdout);
	for (uint16_t i = 0; i < rte_pktmbuf_data_len(m); i++)
		printf("%02x", p[i]);
	putchar('\n');
}

static int process(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mempool *mp, bool enc,
	bool oop, const uint8_t *pkt, int len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp), *out = NULL;
	uint8_t reason = 0;
	uint16_t ok;
	char *d;

	if (m == NULL)
		return -ENOMEM;
	d = rte_pktmbuf_append(m, (uint16_t)len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		printf("DROP no_room\n");
		return 0;
	}
	memcpy(d, pkt, (size_t)len);
	if (enc)
		ok = oop ? esp_outb_oop(ctx, sa, &m, &out, 1, mp, &reason)
			 : esp_outb_inplace(ctx, sa, &m, 1, &reason);
	else
		ok = oop ? esp_inb_oop(ctx, &m, &sa, &out, 1, mp, &reason)
			 : esp_inb(ctx, &m, &sa, 1, &reason);
	if (ok == 1)
		print_result(oop ? out : m);
	else
		printf("DROP %s\n", esp_drop_reason_name(reason));
	rte_pktmbuf_free(out);
	rte_pktmbuf_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "xform", required_argument, NULL, 'x' },
		{ "spi", required_argument, NULL, 's' },
		{ "key", required_argument, NULL, 'k' },
		{ "salt", required_argument, NULL, 'S' },
		{ "auth-key", required_argument, NULL, 'a' },
		{ "esn", no_argument, NULL, 'e' },
		{ "udp", no_argument, NULL, 'u' },
		{ "seq", required_argument, NULL, 'q' },
		{ "window", required_argument, NULL, 'w' },
		{ "oop", no_argument, NULL, 'o' },
		{ "src", required_argument, NULL, '1' },
		{ "dst", required_argument, NULL, '2' },
		{ NULL, 0, NULL, 0 },
	};
	struct esp_sa_params p;
	struct esp_sa *sa;
	struct esp_ctx *ctx;
	struct rte_mempool *mp;
	uint64_t seq = 0;
	bool enc, oop = false;
	static char line[LINE_MAX_];
	static uint8_t pkt[LINE_MAX_ / 2];
	int c;

	if (argc < 2 || (strcmp(argv[1], "encrypt") != 0 && strcmp(argv[1], "decrypt") != 0)) {
		usage();
		return 2;
	}
	enc = strcmp(argv[1], "encrypt") == 0;
	esp_sa_params_default(&p);
	p.dir = enc ? ESP_DIR_OUTBOUND : ESP_DIR_INBOUND;
	p.tun_src = 0xc0000201; /* 192.0.2.1 */
	p.tun_dst = 0xc0000202;
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		struct in_addr a;

		switch (c) {
		case 'x':
			if (parse_xform(optarg, &p.xform) != 0)
				return 2;
			break;
		case 's':
			p.spi = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'k':
			if (parse_hex(optarg, p.cipher_key, sizeof(p.cipher_key)) < 0)
				return 2;
			break;
		case 'S':
			if (parse_hex(optarg, p.salt, sizeof(p.salt)) != 4)
				return 2;
			break;
		case 'a':
			if (parse_hex(optarg, p.auth_key, sizeof(p.auth_key)) != 32)
				return 2;
			break;
		case 'e':
			p.esn = true;
			break;
		case 'u':
			p.udp_encap = true;
			break;
		case 'q':
			seq = strtoull(optarg, NULL, 0);
			break;
		case 'w':
			p.replay_window = (uint32_t)strtoul(optarg, NULL, 0);
			break;
		case 'o':
			oop = true;
			break;
		case '1':
		case '2':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				return 2;
			if (c == '1')
				p.tun_src = ntohl(a.s_addr);
			else
				p.tun_dst = ntohl(a.s_addr);
			break;
		default:
			usage();
			return 2;
		}
	}
	if (eal_init(argv[0]) < 0) {
		fprintf(stderr, "vprn-esp-tool: EAL init failed\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create(
		"esptool", 255, 0, 0, 4096 + RTE_PKTMBUF_HEADROOM, SOCKET_ID_ANY);
	ctx = esp_ctx_create(SOCKET_ID_ANY);
	sa = esp_sa_create(&p, SOCKET_ID_ANY);
	explicit_bzero(&p, sizeof(p));
	if (mp == NULL || ctx == NULL || sa == NULL) {
		fprintf(stderr, "vprn-esp-tool: setup failed (bad SA parameters?)\n");
		return 1;
	}
	esp_sa_test_set_seq(sa, seq);
	while (fgets(line, sizeof(line), stdin) != NULL) {
		int len = parse_hex(line, pkt, sizeof(pkt));

		if (len <= 0) {
			printf("DROP bad_hex\n");
			continue;
		}
		process(ctx, sa, mp, enc, oop, pkt, len);
		fflush(stdout);
	}
	esp_sa_destroy(sa);
	esp_ctx_destroy(ctx);
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
