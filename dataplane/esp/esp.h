/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_ESP_H
#define VPRN_DATAPLANE_ESP_H

/**
 * @file
 * ESP engine: RFC 4303 tunnel mode on intel-ipsec-mb (no cryptodev).
 *
 * Transforms: AES-GCM-128/256 (RFC 4106) and AES-CBC-128/256 with
 * HMAC-SHA-256-128 (RFC 3602, RFC 4868); 64-bit ESN (RFC 4304); optional
 * UDP encapsulation (RFC 3948). docs/esp.md explains the packet layout, the
 * IV construction, the replay rules and who owns what.
 *
 * Objects:
 *  - struct esp_sa: one SA, one direction. Opaque. Created and destroyed by
 *    the control thread (esp_sa_create/destroy, or esp_sa_size/init/fini on
 *    memory you own, cache-line aligned). Immutable after init except for
 *    the run-time state listed under "Ownership".
 *  - struct esp_ctx: the per-lcore crypto context (one IMB_MGR, job scratch,
 *    per-lcore drop counters, pending lifetime events). Exactly one per
 *    lcore that calls the burst functions; never shared between lcores.
 *
 * Ownership (who writes what):
 *  - Outbound SA sequence number: reserved per burst with one atomic
 *    compare-and-swap, so several lcores may encrypt on the same outbound SA.
 *    Outbound per-SA counters are updated with relaxed atomics once per burst.
 *  - Inbound SA replay window and inbound per-SA counters: ONE writer. All
 *    packets of a given inbound SA must be processed by one lcore at a time
 *    (the data plane steers them; e.g. one WAN RX queue per worker and SAs
 *    assigned to workers, or a hand-off ring). Readers (control, telemetry)
 *    may read counters at any time (relaxed loads, values may be a burst old).
 *  - Lifetime/expiry flags: set by any lcore or by the control thread with
 *    atomics; each lifetime event is raised exactly once per SA.
 *
 * Burst conventions (all burst functions):
 *  - n may be any value; the engine works in chunks of ESP_MAX_BURST.
 *  - Return value r = number of packets that succeeded; they are in
 *    pkts[0..r) in their original relative order. Failed packets are moved
 *    to pkts[r..n) (stable), with reasons[i] (enum esp_drop_reason) for each
 *    i in [r, n). The engine never frees an input mbuf: the caller frees the
 *    failed ones (they are already counted, per lcore and per SA).
 *  - The mbufs of the burst are single-segment (multi-segment input is
 *    refused with ESP_DROP_MULTISEG, never corrupted).
 *
 * Thread safety: esp_sa_* setup functions are for the control thread; an SA
 * must not be destroyed before every lcore has stopped using it (RCU grace
 * period, the data plane's job).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;

/** Largest burst handled in one pass (larger bursts are split internally). */
#define ESP_MAX_BURST 64

/** Replay window limits (packets). 0 in the parameters means the default. */
#define ESP_REPLAY_WIN_MIN 64
#define ESP_REPLAY_WIN_MAX 4096
#define ESP_REPLAY_WIN_DEFAULT 1024

/** Default UDP port for RFC 3948 encapsulation. */
#define ESP_UDP_ENCAP_PORT 4500

/** Outer header lengths written by the engine (tunnel mode, IPv4 outer). */
#define ESP_OUTER_IPV4_LEN 20
#define ESP_OUTER_UDP_LEN 8

/** Most bytes an SA adds to an inner packet (outer IP+UDP, ESP, IV, pad, ICV). */
#define ESP_MAX_OVERHEAD (20 + 8 + 8 + 16 + 15 + 2 + 16)

/**
 * Drop reasons, as data: X(name, "description"). Each has a per-lcore and
 * (when an SA is known) a per-SA counter.
 */
#define ESP_DROP_REASONS(X)                                                                  \
	X(TRUNCATED, "packet shorter than the headers it announces")                         \
	X(BAD_OUTER_IP, "outer IPv4 header invalid (version, IHL, length, fragment)")        \
	X(BAD_UDP, "UDP encapsulation header invalid (length, port, non-ESP marker)")        \
	X(NOT_ESP, "outer protocol is neither ESP nor UDP-encapsulated ESP")                 \
	X(NO_SA, "no SA for this SPI")                                                       \
	X(SA_MISMATCH, "SA is of the wrong direction or its SPI differs")                    \
	X(SA_EXPIRED, "SA reached its hard lifetime")                                        \
	X(BAD_LENGTH, "ESP payload length not valid for the transform (block size, IV+ICV)") \
	X(REPLAYED, "sequence number already received")                                      \
	X(TOO_OLD, "sequence number left of the replay window")                              \
	X(BAD_ICV, "integrity check failed")                                                 \
	X(BAD_PADDING, "padding bytes not 1, 2, 3, ... or pad length too large")             \
	X(BAD_NEXT_HDR, "next header is not IPv4 (4)")                                       \
	X(DUMMY, "dummy packet (next header 59, RFC 4303 section 2.6), dropped on purpose")  \
	X(BAD_INNER, "inner packet not IPv4 or its length disagrees with the ESP payload")   \
	X(MULTISEG, "multi-segment mbuf not supported")                                      \
	X(NO_ROOM, "not enough headroom/tailroom (or output pool buffer too small)")         \
	X(NO_MBUF, "output mbuf allocation failed")                                          \
	X(SEQ_EXHAUSTED, "sequence number space exhausted, SA must be rekeyed")              \
	X(CRYPTO_ERR, "intel-ipsec-mb rejected the job")

enum esp_drop_reason {
#define ESP_DROP_ENUM_(name, desc) ESP_DROP_##name,
	ESP_DROP_REASONS(ESP_DROP_ENUM_)
#undef ESP_DROP_ENUM_
		ESP_DROP_MAX
};

/** Short lower-case name of a drop reason ("bad_icv"), or "unknown". */
const char *esp_drop_reason_name(unsigned int reason);
/** One-line description of a drop reason. */
const char *esp_drop_reason_desc(unsigned int reason);

enum esp_dir {
	ESP_DIR_OUTBOUND = 0,
	ESP_DIR_INBOUND = 1,
};

enum esp_xform {
	ESP_XFORM_AES_GCM_128 = 0,	   /**< RFC 4106, key 16 + salt 4, ICV 16 */
	ESP_XFORM_AES_GCM_256,		   /**< RFC 4106, key 32 + salt 4, ICV 16 */
	ESP_XFORM_AES_CBC_128_HMAC_SHA256, /**< RFC 3602 + RFC 4868, key 16 + auth 32, ICV 16 */
	ESP_XFORM_AES_CBC_256_HMAC_SHA256, /**< RFC 3602 + RFC 4868, key 32 + auth 32, ICV 16 */
	ESP_XFORM_MAX
};

/** Cipher key length of a transform in bytes (0 if invalid). */
unsigned int esp_xform_key_len(enum esp_xform xform);
/** Name ("aes-gcm-128", ...) or NULL. */
const char *esp_xform_name(enum esp_xform xform);

/** Outer DSCP (tunnel mode, RFC 2983) on outbound. */
enum esp_dscp_mode {
	ESP_DSCP_COPY = 0, /**< copy the inner DSCP (and ECN per RFC 6040 normal mode) */
	ESP_DSCP_SET,	   /**< use esp_sa_params.dscp; ECN copied */
};

/** Lifetime limits; 0 = no limit for that dimension. */
struct esp_lifetime {
	uint64_t bytes; /**< inner bytes protected/accepted */
	uint64_t packets;
	uint64_t seconds; /**< since esp_sa_params.now_ms (checked by esp_sa_check_time) */
};

/** Everything needed to set up one SA (one direction). */
struct esp_sa_params {
	uint32_t spi; /**< host byte order; 256..2^32-1 (RFC 4303 section 2.1) */
	enum esp_dir dir;
	enum esp_xform xform;
	uint8_t cipher_key[32]; /**< AES key, esp_xform_key_len() bytes used */
	uint8_t salt[4];	/**< GCM only: RFC 4106 section 4 salt */
	uint8_t auth_key[32];	/**< CBC/HMAC only: HMAC-SHA-256 key (32 bytes) */
	bool esn;		/**< 64-bit extended sequence numbers (RFC 4304) */
	uint32_t replay_window; /**< inbound: 64..4096 packets (any value), 0 = 1024 */
	/* Tunnel endpoints (outbound: written into the outer header). */
	uint32_t tun_src; /**< outer IPv4 source, host byte order */
	uint32_t tun_dst; /**< outer IPv4 destination, host byte order */
	uint8_t ttl;	  /**< outer TTL, 0 = 64 */
	enum esp_dscp_mode dscp_mode;
	uint8_t dscp; /**< for ESP_DSCP_SET (0..63) */
	bool df;      /**< set DF in the outer header */
	/* RFC 3948 UDP encapsulation. */
	bool udp_encap;
	uint16_t udp_sport; /**< 0 = 4500 */
	uint16_t udp_dport; /**< 0 = 4500 */
	/* Lifetimes. */
	struct esp_lifetime soft;
	struct esp_lifetime hard;
	uint64_t now_ms; /**< install time on the caller's monotonic clock (for seconds) */
	uint64_t cookie; /**< opaque, returned in lifetime events */
};

/** Fill defaults: GCM-128, window 1024, TTL 64, UDP ports 4500, no lifetimes. */
void esp_sa_params_default(struct esp_sa_params *p);

struct esp_sa;

/** Bytes needed for one SA (allocate cache-line aligned, e.g. rte_zmalloc). */
size_t esp_sa_size(void);

/**
 * Set up an SA in caller memory (esp_sa_size() bytes, 64-byte aligned).
 * Validates every parameter, expands keys, precomputes the header template
 * and job template. The caller may wipe params afterwards.
 * @return 0, -EINVAL (bad parameter), -ENOTSUP (CPU/library cannot do it).
 */
int esp_sa_init(struct esp_sa *sa, const struct esp_sa_params *params);

/** Wipe all key material and state (explicit_bzero). Safe on a zeroed or fini'd SA. */
void esp_sa_fini(struct esp_sa *sa);

/** rte_zmalloc_socket + esp_sa_init. NULL with errno set on failure. */
struct esp_sa *esp_sa_create(const struct esp_sa_params *params, int socket_id);
/** esp_sa_fini + rte_free. NULL is a no-op. */
void esp_sa_destroy(struct esp_sa *sa);

uint32_t esp_sa_spi(const struct esp_sa *sa); /**< host byte order */
enum esp_dir esp_sa_dir(const struct esp_sa *sa);
uint64_t esp_sa_cookie(const struct esp_sa *sa);

/**
 * Length of the outer header the engine writes in front of the ESP header
 * for this SA: 20 (IPv4) or 28 (IPv4 + UDP). An outbound packet produced by
 * the engine is: outer header (this many bytes) | ESP header | IV | ... | ICV.
 * Group mode: rte_pktmbuf_adj(m, esp_sa_outer_hdr_len(sa)) leaves the
 * shareable ESP part; each copy then gets its own outer header, written by
 * esp_outer_hdr_write() into a small header mbuf chained in front.
 */
uint16_t esp_sa_outer_hdr_len(const struct esp_sa *sa);

/** Outer-header parameters for esp_outer_hdr_write() (all host byte order). */
struct esp_outer_hdr {
	uint32_t src;
	uint32_t dst;
	uint8_t tos; /**< full TOS byte (DSCP << 2 | ECN) */
	uint8_t ttl;
	bool df;
	bool udp_encap;
	uint16_t udp_sport;
	uint16_t udp_dport;
};

/** The outer-header parameters of an SA (its tunnel endpoints, TTL, UDP ports; tos = dscp << 2). */
void esp_sa_outer_hdr(const struct esp_sa *sa, struct esp_outer_hdr *hdr);

/**
 * Write an outer IPv4 header (+ UDP header if hdr->udp_encap, checksum 0 as
 * RFC 3948 allows) in front of an ESP packet of esp_len bytes (ESP header to
 * ICV). Writes 20 or 28 bytes at buf, IPv4 checksum computed, IP id 0
 * (DF recommended) or per-call @p ip_id. Returns the bytes written.
 */
uint16_t esp_outer_hdr_write(
	void *buf, const struct esp_outer_hdr *hdr, uint16_t esp_len, uint16_t ip_id);

/** Per-SA counters (a snapshot; may lag by a burst). */
struct esp_sa_stats {
	uint64_t packets;	      /**< packets protected (out) / accepted (in) */
	uint64_t bytes;		      /**< inner packet bytes */
	uint64_t drops[ESP_DROP_MAX]; /**< per reason */
	uint64_t seq;		      /**< out: last sequence number used; in: highest received */
	uint32_t lifetime_flags;      /**< ESP_EVENT_* bits raised so far */
};

int esp_sa_get_stats(const struct esp_sa *sa, struct esp_sa_stats *stats);

/* ---- lifetime events -------------------------------------------------- */

/** Lifetime event kinds (bit flags; each raised at most once per SA). */
#define ESP_EVENT_SOFT_BYTES (1u << 0)
#define ESP_EVENT_SOFT_PACKETS (1u << 1)
#define ESP_EVENT_SOFT_TIME (1u << 2)
#define ESP_EVENT_HARD_BYTES (1u << 3)
#define ESP_EVENT_HARD_PACKETS (1u << 4)
#define ESP_EVENT_HARD_TIME (1u << 5)
/** Outbound: sequence number space exhausted (2^32-1 or 2^64-1 with ESN); SA is now hard-expired.
 */
#define ESP_EVENT_SEQ_EXHAUSTED (1u << 6)
/** Outbound: sequence number passed the soft mark (2^31 or 2^63 with ESN): rekey now. */
#define ESP_EVENT_SEQ_SOFT (1u << 7)
#define ESP_EVENT_HARD_MASK                                                    \
	(ESP_EVENT_HARD_BYTES | ESP_EVENT_HARD_PACKETS | ESP_EVENT_HARD_TIME | \
		ESP_EVENT_SEQ_EXHAUSTED)

struct esp_event {
	uint64_t cookie; /**< esp_sa_params.cookie */
	uint32_t spi;
	uint8_t dir;	/**< enum esp_dir */
	uint32_t flags; /**< ESP_EVENT_* raised by this event */
};

/**
 * Control thread: check the seconds lifetimes against now_ms (same clock as
 * esp_sa_params.now_ms). A hard expiry makes the SA drop every further packet
 * (ESP_DROP_SA_EXPIRED). @return the ESP_EVENT_* bits newly raised (0 if none).
 */
uint32_t esp_sa_check_time(struct esp_sa *sa, uint64_t now_ms);

/** Control thread: expire an SA now (e.g. replaced after rekey). Idempotent. */
void esp_sa_expire(struct esp_sa *sa);

/* ---- per-lcore context ----------------------------------------------- */

struct esp_ctx;

/**
 * One per lcore: allocates and initialises an IMB_MGR (alloc_mb_mgr +
 * init_mb_mgr_auto, whatever flavour the CPU supports). NULL, errno set.
 */
struct esp_ctx *esp_ctx_create(int socket_id);
void esp_ctx_destroy(struct esp_ctx *ctx);

/** Name of the ipsec-mb code path chosen ("avx512", "avx2", "avx", "sse"). */
const char *esp_ctx_arch_name(const struct esp_ctx *ctx);

/** Per-lcore drop counters (all reasons, including NO_SA); copies ESP_DROP_MAX values. */
void esp_ctx_get_drops(const struct esp_ctx *ctx, uint64_t drops[ESP_DROP_MAX]);

/**
 * Lifetime events raised on this lcore since the last call (the worker
 * drains them after its bursts and punts them to the control thread).
 * Up to max events are copied; the queue holds 64, and an event that did not
 * fit is raised again by a later packet of the same SA. @return count.
 */
unsigned int esp_ctx_take_events(struct esp_ctx *ctx, struct esp_event *ev, unsigned int max);

/* ---- bursts ---------------------------------------------------------- */

/**
 * Outbound, in place. Input: mbuf data starts at the inner IPv4 packet
 * (data_len = its length; L2 already removed). Output: the same mbuf, data
 * starts at the outer IPv4 header (prepended in the headroom), trailer and
 * ICV appended in the tailroom. Needs headroom >= outer + 8 + IV (<= 52
 * bytes) plus whatever L2 the caller prepends, tailroom >= 33.
 * All packets use the same outbound SA. See the burst conventions above.
 */
uint16_t esp_outb_inplace(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf **pkts,
	uint16_t n, uint8_t *reasons);

/**
 * Outbound, out of place. src[i] holds the inner IPv4 packet as above; it is
 * not modified (its data, data_off, lengths and refcount are untouched), so
 * the same src can be encrypted again for other SAs. Out[i] is a new mbuf
 * from @p pool, data starting at the outer IPv4 header, with the pool's
 * normal headroom (RTE_PKTMBUF_HEADROOM) left in front for L2. The cipher
 * writes straight into out[i] (no extra copy).
 * Caveat: the engine writes the ESP trailer (<= 17 bytes) right after the
 * inner packet's IPv4 total length, i.e. into src's tailroom (or over
 * Ethernet padding beyond it); so src needs that room (else ESP_DROP_NO_ROOM)
 * and must not be used by another lcore during the call.
 * On return out[0..r) correspond to src[0..r); src is reordered with failures
 * at the tail (reasons for [r, n)); out[r..n) are NULL.
 */
uint16_t esp_outb_oop(struct esp_ctx *ctx, struct esp_sa *sa, struct rte_mbuf **src,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons);

/**
 * Extract the SPI of a received packet whose data starts at the outer IPv4
 * header: ESP (protocol 50), or UDP to @p udp_port (RFC 3948; 0 = no UDP
 * encapsulation accepted) with a non-zero first word. Checks only what it
 * reads. For the caller's SPI -> SA lookup.
 * @return 0 (spi set, host byte order), or a positive enum esp_drop_reason.
 */
int esp_pkt_spi(const struct rte_mbuf *m, uint16_t udp_port, uint32_t *spi);

/**
 * Inbound, in place. pkts[i] data starts at the outer IPv4 header; sas[i]
 * is the inbound SA for its SPI (looked up by the caller, e.g. with
 * esp_pkt_spi(); NULL means unknown SPI -> ESP_DROP_NO_SA). Header checks,
 * anti-replay check, ICV check and decryption, then replay window update,
 * padding and next-header checks. On success pkts[i] data starts at the
 * inner IPv4 packet and its length is the inner total length. sas[] is
 * reordered along with pkts[].
 */
uint16_t esp_inb(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas, uint16_t n,
	uint8_t *reasons);

/**
 * Inbound, out of place: as esp_inb(), but the input is never modified (use
 * when the ciphertext is still shared by pending copies, group mode). out[i]
 * is a new mbuf from @p pool holding the inner IPv4 packet (pool headroom in
 * front for L2). pkts[], sas[] reordered as in esp_inb(); out[r..n) NULL.
 */
uint16_t esp_inb_oop(struct esp_ctx *ctx, struct rte_mbuf **pkts, struct esp_sa **sas,
	struct rte_mbuf **out, uint16_t n, struct rte_mempool *pool, uint8_t *reasons);

#endif /* VPRN_DATAPLANE_ESP_H */
