/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_OPTS_H
#define VPRN_BENCH_OPTS_H

/*
 * vprn-bench's application options (after the EAL's "--"). Described once in
 * a table in opts.c, which also prints --help.
 */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_MAX_PORTS 8
#define BENCH_MAX_SIZES 16
#define BENCH_MAX_FLOWS 4096
#define BENCH_MAX_INJECT 8
#define BENCH_MAX_QUEUES 8
#define BENCH_PORT_NAME_LEN 64

enum inject_kind {
	INJECT_DROP, /**< skip one sequence number of flow 0 */
	INJECT_DUP,  /**< send one sequence number of flow 0 twice */
	INJECT_SWAP, /**< send seq S+1 of flow 0 before S */
};

struct inject {
	enum inject_kind kind;
	uint32_t seq;
};

struct frame_size {
	uint16_t len;	 /**< Ethernet frame length including FCS */
	uint16_t weight; /**< relative frequency (IMIX) */
};

struct bench_opts {
	char tx_names[BENCH_MAX_PORTS][BENCH_PORT_NAME_LEN];
	unsigned int n_tx;
	char rx_names[BENCH_MAX_PORTS][BENCH_PORT_NAME_LEN];
	unsigned int n_rx;

	uint32_t src; /**< first source address, host order */
	unsigned int n_src;
	uint32_t group; /**< first destination (group) address, host order */
	unsigned int n_groups;
	uint8_t dst_mac[6];
	bool dst_mac_set; /**< else 01:00:5e:.. for multicast, broadcast otherwise */
	uint16_t sport, dport;
	uint8_t ttl;

	struct frame_size sizes[BENCH_MAX_SIZES];
	unsigned int n_sizes;
	char size_spec[128]; /**< as given, for the report */

	double rate_pps;   /**< per TX port; 0 = as fast as possible */
	double duration_s; /**< 0 = until --count or SIGINT */
	bool duration_set;
	uint64_t count; /**< packets per TX port; 0 = unlimited */
	unsigned int burst;
	unsigned int drain_ms;
	unsigned int expect_copies;
	unsigned int link_wait_s;
	double delay_s;	   /**< after links are up, before the first trial */
	uint16_t n_queues; /**< RX queues per port, all polled (one TX queue) */
	uint16_t mtu;	   /**< 0 = leave the device default */

	double search_loss; /**< < 0: no search; else binary search for loss <= this (percent) */
	unsigned int search_steps;
	double trial_s;
	double latency_load; /**< fraction of the zero-loss rate for the latency trial */

	struct inject inject[BENCH_MAX_INJECT];
	unsigned int n_inject;

	char esp_spec[256]; /**< --esp: frames leave as ESP of this SA (espgen.h) */
	char json_path[256];
	bool quiet;
	bool arp_reply; /**< answer every ARP request on an RX port with its MAC */
};

/** Parse argv (the part after "--"); 0, or -EINVAL with a message on stderr. */
int bench_opts_parse(struct bench_opts *o, int argc, char **argv);

/** Print the usage, generated from the option table. */
void bench_opts_usage(FILE *f, const char *prog);

/** Print the configuration, one "key: value" per line. */
void bench_opts_print(FILE *f, const struct bench_opts *o);

/** "a.b.c.d" of a host-order address into buf (16 bytes). */
const char *bench_ip_str(uint32_t ip, char buf[16]);

#endif /* VPRN_BENCH_OPTS_H */
