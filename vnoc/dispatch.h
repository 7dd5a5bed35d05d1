/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_DISPATCH_H
#define VPRN_VNOC_DISPATCH_H

/**
 * @file
 * What the VNOC does with each message kind, as one table (dispatch.c), plus
 * the events modules need: a site came up / went down, the periodic tick.
 * To wire a module in: add its handler to the table and its calls to the
 * event functions; the session layer stays untouched.
 */

#include <stdint.h>

#include "common/msg.h"

struct vnoc;
struct vnoc_session;

/**
 * A message handler for an established session. Return 0, or -EPROTO to
 * close the session as a protocol error (the handler logs why).
 */
typedef int (*vnoc_msg_fn)(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m);

/** Messages accepted from an established ED session (hello is handled by the session). */
int vnoc_dispatch(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m);

/** Hello accepted: build the welcome for site (peers of its VPN). Fills msg; free with _done. */
int vnoc_build_welcome(struct vnoc *v, uint32_t site_id, struct vprn_msg *msg);
void vnoc_build_welcome_done(struct vprn_msg *msg);

/** Module hooks, called by the core. */
int vnoc_modules_init(struct vnoc *v);
void vnoc_modules_fini(struct vnoc *v);
void vnoc_site_up(struct vnoc *v, uint32_t site_id);
void vnoc_site_down(struct vnoc *v, uint32_t site_id);
/** The state digest of the site's hello (recorded for `vnoc sites`). */
void vnoc_site_hello_digest(struct vnoc *v, uint32_t site_id, const uint8_t *d, uint32_t len);
void vnoc_modules_tick(struct vnoc *v, uint64_t now_ms);
/* Earliest monotonic ms at which the service core has work (UINT64_MAX: none). */
uint64_t vnoc_modules_next_deadline(struct vnoc *v);
struct vprn_json;
/** Members of a site's object in `vprnctl vnoc sites` (state digest check). */
void vnoc_modules_site_json(struct vnoc *v, uint32_t site_id, struct vprn_json *j);
/** SIGHUP: reload the policy (a bad file keeps the old one, logged). */
void vnoc_modules_reload(struct vnoc *v);

#endif /* VPRN_VNOC_DISPATCH_H */
