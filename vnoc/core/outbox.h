/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_OUTBOX_H
#define VPRN_VNOC_CORE_OUTBOX_H

/*
 * What the core hands to the daemon: messages for given sites, and what it
 * needs to know about sites. The core never does I/O; tests plug in a
 * recording outbox.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"

struct vnoc_outbox {
	/**
	 * Queue @msg for @site. The callee assigns msg->seq (the session's next
	 * sequence number) before returning, so that the core can match the
	 * site's Ack. Returns 0, or -ENOTCONN (no session: soft state will
	 * resynchronise it), -ENOBUFS (send queue full), ...
	 * The core wipes key material in @msg after the call: copy, never keep.
	 */
	int (*send)(void *ctx, uint32_t site, struct vprn_msg *msg);
	void *ctx;
};

/** What the core knows about a site (global id). */
struct vnoc_site_ref {
	const char *name;
	uint32_t wan_addr;
	uint32_t vpn;
	uint32_t max_degree;
	bool relay;
};

#endif /* VPRN_VNOC_CORE_OUTBOX_H */
