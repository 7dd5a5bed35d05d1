/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_WANEM_H
#define VPRN_WANEM_H

/*
 * vprn-wanem: a small WAN emulator for the namespace testbed. It owns one
 * AF_PACKET socket per site link, is the IPv4 gateway of every site, routes
 * by destination address between the links and delays, jitters and drops
 * packets per (source link, destination link) pair. See docs/testbed.md.
 *
 * Single-threaded: one poll loop owns everything below.
 */

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "wanem_queue.h"

#define WANEM_MAX_LINKS 256
#define WANEM_NAME_MAX 32
#define WANEM_ARP_MAX 16     /* neighbours per link (a site has one ED, maybe a host) */
#define WANEM_PEND_MAX 256   /* packets per link waiting for an ARP answer */
#define WANEM_FRAME_MAX 9216 /* jumbo-safe receive buffer */
#define WANEM_MAX_MS 60000.0 /* upper bound for delay and jitter */

/* Per-link drop reasons: one list, names and counters generated from it. */
#define WANEM_DROPS(X)                                                              \
	X(bad_frame)  /* too short, bad IPv4 header */                              \
	X(not_ipv4)   /* neither IPv4 nor ARP */                                    \
	X(not_for_us) /* L2 destination is not our MAC */                           \
	X(no_route)   /* destination in no site prefix, or back to the same link */ \
	X(ttl)	      /* TTL <= 1 */                                                \
	X(loss)	      /* emulated loss */                                           \
	X(queue_full) /* delay queue at its limit */                                \
	X(arp_fail)   /* next hop never answered ARP */                             \
	X(tx_error)   /* send() failed */

enum wanem_drop {
#define X(n) WANEM_DROP_##n,
	WANEM_DROPS(X)
#undef X
		WANEM_DROP_MAX
};

extern const char *const wanem_drop_names[WANEM_DROP_MAX];

struct wanem_link_stats {
	uint64_t rx_pkts, rx_bytes;
	uint64_t tx_pkts, tx_bytes;
	uint64_t arp_rx, arp_tx, icmp_echo;
	uint64_t sock_drops; /* dropped by the kernel before we read them (PACKET_STATISTICS) */
	uint64_t drops[WANEM_DROP_MAX];
};

struct wanem_arp {
	uint32_t ip; /* host order; 0 = free */
	uint8_t mac[6];
};

struct wanem_pending {
	struct wanem_pkt *pkt;
	uint32_t nexthop;
	uint64_t expire_ns;
};

struct wanem_link {
	char name[WANEM_NAME_MAX];
	char ifname[IF_NAMESIZE];
	int ifindex;
	int fd;
	uint8_t mac[6];
	uint32_t addr; /* host order: our gateway address on this link */
	uint32_t mask;
	uint8_t prefix;
	struct wanem_arp arp[WANEM_ARP_MAX];
	unsigned int arp_next; /* round-robin victim when the table is full */
	struct wanem_pending pend[WANEM_PEND_MAX];
	unsigned int n_pend;
	uint64_t arp_req_next_ns;
	struct wanem_link_stats st;
};

/* One direction between two links. */
struct wanem_pair {
	uint64_t delay_ns;
	uint64_t jitter_ns;
	double loss;	      /* probability 0..1 */
	uint64_t last_due_ns; /* keeps FIFO order when jitter is 0 */
	uint64_t fwd_pkts, fwd_bytes, lost, queued;
	/*
	 * Forwarded packets by IP protocol: lets tests check that only ESP crosses.
	 * UDP to or from the probe port (vprn-ed's authenticated site-to-site
	 * probes, no user data) is counted apart, as fwd_probe, not as fwd_udp.
	 */
	uint64_t fwd_esp, fwd_udp, fwd_probe, fwd_icmp, fwd_other;
};

/* vprn-ed's default probe port (wan.probe_port); --probe-port changes it. */
#define WANEM_PROBE_PORT 7801

struct wanem {
	struct wanem_link links[WANEM_MAX_LINKS];
	unsigned int n_links;
	struct wanem_pair *pairs; /* n_links * n_links, [src * n + dst] */
	struct wanem_queue queue;
	uint64_t rng;
	uint16_t probe_port; /* 0: no UDP counts as a probe */
};

static inline struct wanem_pair *wanem_pair(struct wanem *w, unsigned int src, unsigned int dst)
{
	return &w->pairs[src * w->n_links + dst];
}

/** Find a link by name; returns its index or -ENOENT. */
int wanem_link_find(const struct wanem *w, const char *name);

/** Parse "NAME=IFACE,ADDR/PREFIX" into the next link slot (no socket yet). 0 or -errno. */
int wanem_link_parse(struct wanem *w, const char *spec);

/** Allocate the pair table once all links are known. 0 or -ENOMEM. */
int wanem_pairs_init(struct wanem *w);

/**
 * Set the parameters of src -> dst; names may be "*" for every link.
 * delay/jitter in ms (0..WANEM_MAX_MS), loss in percent (0..100); a negative
 * value means "leave unchanged". 0 or -errno (-ENOENT for a name, -ERANGE).
 */
int wanem_set_pair(struct wanem *w, const char *src, const char *dst, double delay_ms,
	double jitter_ms, double loss_pct);

/** Deterministic PRNG (xorshift64*), 0 <= r < 1. */
double wanem_rand(struct wanem *w);

/* wanem_link.c: sockets and packet handling. */
int wanem_link_open(struct wanem_link *l);
void wanem_link_close(struct wanem_link *l);
/** Receive up to `budget` frames from link i and route them. Returns frames handled. */
unsigned int wanem_link_rx(struct wanem *w, unsigned int i, unsigned int budget, uint64_t now_ns);
/** Transmit every queued packet that is due; expire ARP waits. */
void wanem_tx_due(struct wanem *w, uint64_t now_ns);
/** Route one received frame (exported for tests and fuzzing); the frame may be modified. */
void wanem_route(struct wanem *w, unsigned int in, uint8_t *frame, size_t len, uint64_t now_ns);
/** Fold the kernel's per-socket drop counters into the link stats. */
void wanem_link_sock_stats(struct wanem *w);
/** Release every queued and pending packet. */
void wanem_flush(struct wanem *w);

#endif /* VPRN_WANEM_H */
