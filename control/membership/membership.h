/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_H
#define VPRN_MEMBERSHIP_H

/**
 * @file
 * Site membership: IGMP v1/v2/v3 querier and snooping (RFC 2236, RFC 3376),
 * source discovery, announcements and pre-defined groups, reported upward as
 * one coalesced stream of join/leave events.
 *
 * A pure module (no DPDK, no I/O): the ED's control thread feeds it punted
 * IGMP frames, source-active punts, per-group data plane counters and
 * announcements, calls membership_timer() when membership_next_deadline() is
 * reached, and receives frames to transmit on the LAN and events through the
 * callbacks given at create time. Single-threaded: every call from the same
 * thread. Callbacks run inside the calling function and must not call back
 * into the module. Addresses are IPv4, host byte order.
 *
 * See docs/membership.md for states, timers and what of RFC 3376 is done.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "control/membership/membership_conf.h"

struct membership;

enum membership_role {
	MEMBERSHIP_ROLE_RECEIVER = 1, /**< hosts of the site want the group */
	MEMBERSHIP_ROLE_SENDER = 2,   /**< hosts of the site send to the group */
};

enum membership_filter_mode {
	MEMBERSHIP_INCLUDE = 1, /**< only from `sources` (SSM); sender: these are the sources */
	MEMBERSHIP_EXCLUDE = 2, /**< from all but `sources` (ASM: empty list) */
};

enum membership_event_type {
	MEMBERSHIP_JOIN = 1,  /**< the site now has (group, role), or its source filter changed */
	MEMBERSHIP_LEAVE = 2, /**< the site no longer has (group, role) */
};

/** One coalesced change, as the VNOC client sends it (Join / Leave of proto Membership). */
struct membership_event {
	enum membership_event_type type;
	enum membership_role role;
	uint32_t group;
	enum membership_filter_mode mode;
	uint32_t n_sources;
	const uint32_t *sources; /**< valid during the callback only */
};

/** Callbacks, all called on the caller's thread from inside the module. */
struct membership_ops {
	/** Transmit a complete Ethernet frame on the LAN (IGMP query or report). */
	void (*send_frame)(void *ctx, const uint8_t *frame, size_t len);
	/** A coalesced membership change. */
	void (*event)(void *ctx, const struct membership_event *ev);
	void *ctx;
};

struct membership_params {
	const struct membership_conf *conf; /**< copied; NULL = defaults */
	uint32_t lan_addr;		    /**< the ED's LAN address: query source, election */
	uint8_t lan_prefix_len; /**< reports from off-link sources are dropped; 0 = any */
	uint8_t lan_mac[6];
	struct vprn_clock clock; /**< .now_ms NULL = monotonic */
	struct membership_ops ops;
};

/** Create and start (startup queries go out on the first membership_timer()). NULL + errno. */
struct membership *membership_create(const struct membership_params *params);
void membership_destroy(struct membership *m);

/** Where the bytes given to membership_rx_igmp() start. */
struct membership_rx_info {
	bool l2;       /**< true: Ethernet II frame; false: the IPv4 header */
	uint32_t port; /**< ingress port, informational */
};

/**
 * A punted IGMP frame or IPv4 packet. Bad input is dropped and counted
 * (membership_get_stats()), never trusted.
 * @return 0 if used, -EINVAL if dropped (see the counters for why).
 */
int membership_rx_igmp(struct membership *m, const uint8_t *buf, size_t len,
	const struct membership_rx_info *info);

/** The data plane saw multicast from a local @p source to a group it had no entry for. */
int membership_source_active(struct membership *m, uint32_t group, uint32_t source);

/**
 * Per-group data plane counters: @p packets is the cumulative packet count of
 * local traffic to @p group, @p last_seen_ms the time of the last packet on the
 * module's clock (0 = unknown, use now when the count moved). Keeps the sender
 * role alive; it expires source_inactivity_timeout_ms after the last activity.
 */
int membership_group_counters(
	struct membership *m, uint32_t group, uint64_t packets, uint64_t last_seen_ms);

/**
 * Add or renew an announcement (vprnctl announce): (@p group, @p role,
 * optional @p source, 0 = any) lasts @p ttl_s seconds unless renewed; ttl 0
 * removes it. A receiver announcement without source in the SSM range is refused.
 * @return 0, -EINVAL (bad group/role/source), -ENOSPC (table full), -ENOENT (remove: none).
 */
int membership_announce(struct membership *m, uint32_t group, enum membership_role role,
	uint32_t source, uint32_t ttl_s);

/** Run every timer that is due (queries, expiries, event flush). */
void membership_timer(struct membership *m);

/** Absolute time (ms, module clock) of the next timer; UINT64_MAX if none. */
uint64_t membership_next_deadline(const struct membership *m);

/** Where a row of membership_members() comes from. */
enum membership_origin {
	MEMBERSHIP_ORIGIN_LEARNED = 1,	  /**< IGMP reports from hosts */
	MEMBERSHIP_ORIGIN_ANNOUNCED = 2,  /**< vprnctl announce */
	MEMBERSHIP_ORIGIN_PREDEFINED = 3, /**< configured: the ED reports it itself */
	MEMBERSHIP_ORIGIN_DISCOVERED = 4, /**< source discovery (data plane punts) */
};

/** One row of `vprnctl ed members`. */
struct membership_member {
	uint32_t group;
	uint32_t source; /**< 0 = the group row (any source) */
	enum membership_role role;
	enum membership_origin origin;
	enum membership_filter_mode mode; /**< group rows; source rows: INCLUDE = forwarded */
	uint8_t compat_version;		  /**< learned: group compatibility mode (1, 2, 3) */
	uint32_t n_hosts;		  /**< learned: tracked reporting hosts */
	uint64_t remaining_ms;		  /**< until expiry; UINT64_MAX = no expiry */
};

/**
 * Fill up to @p max rows (groups ascending, then learned, announced,
 * discovered, predefined). @return the number of rows that exist (may be > max).
 */
size_t membership_members(const struct membership *m, struct membership_member *out, size_t max);

const char *membership_role_name(enum membership_role role);
const char *membership_origin_name(enum membership_origin origin);
const char *membership_mode_name(enum membership_filter_mode mode);

/** Querier state, for status and tests. */
struct membership_querier_info {
	bool is_querier;
	uint32_t querier_addr;		     /**< the current querier (us or the other) */
	uint64_t other_querier_remaining_ms; /**< 0 when we are the querier */
	uint8_t version;		     /**< version of the queries we send */
	uint8_t robustness;	    /**< in use (learned from the querier's QRV if not us) */
	uint32_t query_interval_ms; /**< in use */
};

void membership_querier(const struct membership *m, struct membership_querier_info *info);

/**
 * Current reported state (what the VNOC was last told) for the soft-state
 * refresh: @p fn is called once per (group, role) with a JOIN event.
 */
void membership_foreach_reported(const struct membership *m,
	void (*fn)(void *ctx, const struct membership_event *ev), void *ctx);

/** Counters. Drop reasons are indexed by enum igmp_drop (igmp_parse.h). */
#define MEMBERSHIP_MAX_DROP 32
struct membership_stats {
	uint64_t rx[7];	     /**< accepted, per enum igmp_msg_type */
	uint64_t tx_queries; /**< general + specific queries sent */
	uint64_t tx_reports; /**< our own reports (pre-defined groups) */
	uint64_t drops[MEMBERSHIP_MAX_DROP];
	uint64_t events;    /**< events emitted */
	uint64_t coalesced; /**< state changes that did not need an event of their own */
	uint64_t querier_changes;
};

void membership_get_stats(const struct membership *m, struct membership_stats *stats);

#endif /* VPRN_MEMBERSHIP_H */
