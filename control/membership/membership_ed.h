/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_ED_H
#define VPRN_MEMBERSHIP_ED_H

/**
 * @file
 * Glue between the pure membership module and the ED's data plane (the only
 * part of control/membership/ that uses DPDK, built as vprn_membership_ed):
 * punted IGMP and source-active packets in, IGMP frames out through
 * dp_inject_frame() on the LAN port, per-group data plane counters polled for
 * the sender role. Called from the ED's control thread only.
 */

#include <stdbool.h>
#include <stdint.h>

#include "control/membership/membership.h"

struct dp;
struct dp_punt;
struct membership_ed;

struct membership_ed_params {
	struct dp *dp;			    /**< running data plane (LAN MAC read from it) */
	const struct membership_conf *conf; /**< NULL = defaults */
	uint32_t lan_addr;
	uint8_t lan_prefix_len;
	/** Coalesced membership changes (for the VNOC client); may be NULL. */
	void (*event)(void *ctx, const struct membership_event *ev);
	void *ctx;
};

/** @return NULL with errno set. */
struct membership_ed *membership_ed_new(const struct membership_ed_params *p);
void membership_ed_free(struct membership_ed *e);

/**
 * Take a punted packet if it is ours (IGMP, source-active): the mbuf is
 * consumed (freed) and true returned; otherwise false and the caller keeps it.
 */
bool membership_ed_punt(struct membership_ed *e, struct dp_punt *p);

/** Timers and counters; call every control tick (~100 ms). */
void membership_ed_tick(struct membership_ed *e);

/** The membership module, for queries and control commands. */
struct membership *membership_ed_module(struct membership_ed *e);

#endif /* VPRN_MEMBERSHIP_ED_H */
