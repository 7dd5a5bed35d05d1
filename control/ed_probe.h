/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_PROBE_H
#define VPRN_CONTROL_ED_PROBE_H

/**
 * @file
 * Authenticated site-to-site probing (docs/ed.md, "Probes").
 *
 * Every probe interval the ED sends each peer of its Welcome a PROBE request
 * (clear UDP between WAN addresses, see dp_inject_probe()); the peer answers
 * with an ECHO. Both carry an HMAC-SHA-256 (truncated to 16 bytes) with the
 * pair's probe key from the VNOC. The requester accepts an echo only for a
 * seq it sent and has not yet seen answered; the responder accepts a request
 * only inside a sliding anti-replay window of the requester's seqs. RTT is
 * smoothed as in RFC 6298 (SRTT, RTTVAR); loss is counted over the last
 * ED_PROBE_WINDOW probes (lost = no echo within max(1 s, 3 SRTT)).
 *
 * Pure logic: no DPDK. Time (ns) and the send function are injected; probe
 * packets come in as IPv4 packets with their arrival time. Untrusted input:
 * ed_probe_input() (fuzzed: tests/fuzz/control/fuzz_probe.c).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/msg.h"

#define ED_PROBE_PORT_DEFAULT 7801 /**< wan.probe_port when not configured */
#define ED_PROBE_MAGIC 0x56505242u /**< "VPRB" */
#define ED_PROBE_VERSION 1
#define ED_PROBE_REQUEST 1
#define ED_PROBE_ECHO 2
#define ED_PROBE_MAC_LEN 16 /**< HMAC-SHA-256 truncated (RFC 2104 §5) */
#define ED_PROBE_HDR_LEN 40 /**< bytes covered by the MAC */
#define ED_PROBE_LEN (ED_PROBE_HDR_LEN + ED_PROBE_MAC_LEN)
#define ED_PROBE_WINDOW 32	  /**< probes in the loss window (and outstanding seqs) */
#define ED_PROBE_REPLAY_WINDOW 64 /**< responder anti-replay window (seqs) */
#define ED_PROBE_MAX_PEERS 512
#define ED_PROBE_MIN_TIMEOUT_NS 1000000000ull /**< a probe is lost after max(1 s, 3 SRTT) */

struct ed_probe_params {
	uint16_t port; /**< UDP port of probes (both ends) */
	/** Send one probe payload to `dst` (host order). @return 0 or -errno. */
	int (*send)(void *ctx, uint32_t dst, const uint8_t *payload, size_t len);
	void *send_ctx;
	/** Monotonic time in ns; NULL = vprn_now_ns(). */
	uint64_t (*now_ns)(void *ctx);
	void *clock_ctx;
	/** First seq of each peer; 0 = the wall clock in ns (grows across restarts). */
	uint64_t seq0;
};

/** Counters no peer can be blamed for (nothing authenticated yet). */
struct ed_probe_counters {
	uint64_t malformed;	 /**< not IPv4/UDP to our port, bad length, magic, version, type */
	uint64_t wrong_receiver; /**< receiver id is not ours */
	uint64_t unknown_peer;	 /**< sender id is not a peer of the Welcome */
	uint64_t bad_mac;	 /**< sum over peers */
	uint64_t replay;	 /**< sum over peers */
};

/** Per-peer view for vprnctl (never the key). */
struct ed_probe_peer_info {
	char site[VPRN_NAME_MAX];
	uint32_t site_id;
	uint32_t wan_addr;
	uint32_t srtt_us, rttvar_us, last_rtt_us;
	uint32_t loss_ppm; /**< over the resolved probes of the window */
	uint64_t samples;  /**< RTT samples since the peer was set */
	uint64_t tx;	   /**< requests sent */
	uint64_t send_errors;
	uint64_t echoes;      /**< accepted echoes */
	uint64_t lost;	      /**< requests never (or too late) answered */
	uint64_t late;	      /**< authentic echoes after the loss deadline */
	uint64_t requests_rx; /**< accepted requests (answered) */
	uint64_t bad_mac;
	uint64_t replay;
};

struct ed_probe;

struct ed_probe *ed_probe_new(const struct ed_probe_params *params);
/** Wipes every key, then frees. */
void ed_probe_free(struct ed_probe *p);

/**
 * A new Welcome: our site id, the peers and the probe interval. Peers
 * without a probe key are not probed. Every previous key is wiped; a peer
 * with the same site id and key keeps its measurements and replay state.
 * @return 0, -EINVAL.
 */
int ed_probe_set_peers(struct ed_probe *p, uint32_t my_id, const struct vprn_peer *peers,
	uint32_t n_peers, uint32_t interval_ms);
/** Forget every peer (keys wiped); nothing is sent any more. */
void ed_probe_clear(struct ed_probe *p);

/** Declare lost probes, send the requests that are due. Call every ~100 ms. */
void ed_probe_tick(struct ed_probe *p);

/**
 * One packet punted as a probe: `ip` is an IPv4 packet, `rx_ns` its arrival
 * time on the injected clock. Anything invalid is counted and ignored.
 */
void ed_probe_input(struct ed_probe *p, const uint8_t *ip, size_t len, uint64_t rx_ns);

/**
 * Measured peers (at least one RTT sample) into `out` for a MetricsReport.
 * @return how many were written (≤ max).
 */
uint32_t ed_probe_metrics(const struct ed_probe *p, struct vprn_peer_metric *out, uint32_t max);

uint32_t ed_probe_n_peers(const struct ed_probe *p);
/** @return 0 or -ENOENT. */
int ed_probe_peer(const struct ed_probe *p, uint32_t i, struct ed_probe_peer_info *out);
const struct ed_probe_counters *ed_probe_counters(const struct ed_probe *p);
/** `{"site_id", "port", "interval_ms", counters..., "peers": [...]}` (never keys). */
void ed_probe_json(const struct ed_probe *p, struct vprn_json *j);

/**
 * Build an authenticated probe packet (UDP payload) into `out`
 * (ED_PROBE_LEN bytes). Exposed for tests and the fuzz harness.
 */
void ed_probe_encode(uint8_t out[ED_PROBE_LEN], const uint8_t key[VPRN_PROBE_KEY_LEN], uint8_t type,
	uint32_t sender, uint32_t receiver, uint64_t seq, uint64_t ts_ns, uint64_t hold_ns);

/** The module's memory (tests: no key survives its peer). */
const void *ed_probe_raw(const struct ed_probe *p, size_t *len);

#endif /* VPRN_CONTROL_ED_PROBE_H */
