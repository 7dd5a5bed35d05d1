/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_APPLY_H
#define VPRN_CONTROL_ED_APPLY_H

/**
 * @file
 * VNOC -> data plane: TreeUpdate, SaInstall, SaRemove and KeepForwarding are
 * applied to the ED's data plane tables. Every change is one staged
 * transaction (dp_txn_*) committed atomically; dp_txn_commit() returns after
 * an RCU grace period, so the Ack sent afterwards means "installed".
 *
 * Make-before-break (DESIGN sections 3 and 5):
 *  - an outbound SaInstall switches the neighbour (pairwise) or the group
 *    (group mode) to the newest installed outbound SA at once (the VNOC sends
 *    it only after every receiver acknowledged the matching inbound SA);
 *  - SaRemove keeps the SA for its grace_ms, then unpublishes and wipes it;
 *  - a tree whose version changes keeps accepting the previous neighbours for
 *    the data plane's grace period; a removed tree keeps forwarding (without
 *    LAN delivery) for its grace_ms, or until KeepForwarding says done /
 *    times out.
 * Control thread only.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/json.h"
#include "common/msg.h"

#define ED_APPLY_MAX_SAS 1024
#define ED_APPLY_MAX_TREES 256

struct dp;
struct ed_apply;

/**
 * What the state digest covers (docs/protocol.md, "State digest"): the trees
 * not removed and the SAs not removed (by SaRemove or their hard lifetime),
 * as committed to the data plane; lists canonical (sorted, unique).
 */
struct ed_apply_state {
	struct vprn_installed_tree trees[ED_APPLY_MAX_TREES];
	uint32_t in[ED_APPLY_MAX_SAS], out[ED_APPLY_MAX_SAS];
	uint32_t n_trees, n_in, n_out;
	uint8_t digest[32];
};

/** @return NULL with errno set. */
struct ed_apply *ed_apply_new(struct dp *dp, uint32_t wan_addr);
/** Call after the data plane's workers stopped (wipes every SA). */
void ed_apply_free(struct ed_apply *a);

/**
 * Apply one VNOC message (tree_update, sa_install, sa_remove, keep_forwarding).
 * @param ack  filled when the message must be acknowledged
 * @return 1 if `ack` must be sent, 0 if not, -ENOTSUP for other message types.
 */
int ed_apply_msg(struct ed_apply *a, const struct vprn_msg *m, struct vprn_ack *ack);

/** Timers (SA grace periods, hard lifetimes, removed trees). Every tick. */
void ed_apply_tick(struct ed_apply *a, uint64_t now_ms);

/** Groups this ED has a tree for (for traffic reports): up to max, @return count. */
unsigned int ed_apply_groups(
	const struct ed_apply *a, uint32_t *groups, bool *sender, unsigned int max);

/** The installed state and its digest. @return 0 or -errno. */
int ed_apply_state(const struct ed_apply *a, uint64_t now_ms, struct ed_apply_state *st);

/** JSON: trees and SAs as the control thread sees them (no keys). */
void ed_apply_status_json(const struct ed_apply *a, struct vprn_json *j);

#endif /* VPRN_CONTROL_ED_APPLY_H */
