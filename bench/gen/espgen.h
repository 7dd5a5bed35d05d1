/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_ESPGEN_H
#define VPRN_BENCH_ESPGEN_H

/*
 * --esp: the generator's stamped packets leave as ESP (tunnel mode,
 * AES-GCM-128, one SA) through vprn's own ESP engine, to load the WAN side of
 * an ED: the ED decrypts and delivers the inner packets, whose stamp the
 * receiver reads on the LAN side (loss, order, latency through the ED).
 *
 * Spec: SPI:KEYHEX:TUN_SRC:TUN_DST, KEYHEX = 40 hex digits (16-byte key and
 * 4-byte salt, RFC 4106 §8.1 keying material, as ipsec-secgw's aead_key).
 * The key is never printed.
 */

#include <stdint.h>

#include <rte_mbuf.h>

struct espgen;

/** Parse and set up; NULL on a bad spec or engine refusal (message on stderr). */
struct espgen *espgen_create(const char *spec, int socket_id);
void espgen_destroy(struct espgen *e);

/** "SPI 0x... tunnel a -> b, AES-GCM-128" for the configuration print. */
void espgen_describe(const struct espgen *e, char *buf, size_t len);

/**
 * Encrypt a burst of Ethernet frames in place: each becomes
 * L2 (same addresses, IPv4) | outer IPv4 | ESP | inner IPv4 ... | ICV.
 * Frames the engine refuses are freed. TX lcore only (it owns the engine
 * context). @return frames left at pkts[0..r).
 */
uint16_t espgen_encrypt(struct espgen *e, struct rte_mbuf **pkts, uint16_t n);

/** Frames the engine refused (freed, their sequence numbers show as loss). */
uint64_t espgen_refused(const struct espgen *e);

#endif /* VPRN_BENCH_ESPGEN_H */
