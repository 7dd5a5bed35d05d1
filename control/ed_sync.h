/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_SYNC_H
#define VPRN_CONTROL_ED_SYNC_H

/**
 * @file
 * The ED's side of the VNOC conversation beyond the session itself: hooks for
 * the VNOC client (struct ed_client_hooks) that
 *  - apply TreeUpdate / SaInstall / SaRemove / KeepForwarding through
 *    ed_apply and acknowledge them once installed;
 *  - log JoinResults (a refused join is kept by the VNOC's records, the site
 *    simply gets no tree);
 *  - every refresh interval send the full membership list (Refresh) and the
 *    per-group data plane counters since the last report (TrafficReport).
 * Join/Leave on membership changes are sent by ed_loop.c.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"

/** How long a stopping ED keeps forwarding after its Bye. */
#define ED_DRAIN_MS 4000

struct ed;
struct vprn_ctlsock;

/** on_msg hook (ctx = struct ed). */
int ed_sync_on_msg(void *ctx, const struct vprn_msg *msg);
/** on_refresh hook (ctx = struct ed). */
void ed_sync_on_refresh(void *ctx);

/** A change of the installed state is reported after this much quiet. */
#define ED_DIGEST_DEBOUNCE_MS 500

struct vprn_json;

/** Welcome received: a new session (its sequence numbers start again). */
void ed_sync_on_up(struct ed *ed);
/** Every tick: recompute the state digest; send it once a change is quiet. */
void ed_sync_tick(struct ed *ed, uint64_t now_ms);
/** hello_digest hook of the VNOC client (ctx = struct ed): the current digest. */
void ed_sync_hello_digest(void *ctx, uint8_t *digest, uint32_t *len);
/** JSON object: the state digest (hex) and what it covers (for `status`). */
void ed_sync_status_json(struct ed *ed, struct vprn_json *j);

/** Register `groups`, `sas` and `digest` on the ED's control socket. @return 0 or -errno. */
int ed_sync_register(struct ed *ed, struct vprn_ctlsock *ctl);

/**
 * SIGTERM: if the ED carries trees and the session is up, send Bye and start
 * draining (keep forwarding for ED_DRAIN_MS). @return true if draining started
 * (the caller keeps running until ed_sync_drain_over()), false to stop now.
 */
bool ed_sync_planned_stop(struct ed *ed);
/** The drain after a planned stop has ended. */
bool ed_sync_drain_over(uint64_t now_ms);

#endif /* VPRN_CONTROL_ED_SYNC_H */
