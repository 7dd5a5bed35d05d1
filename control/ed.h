/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_H
#define VPRN_CONTROL_ED_H

/**
 * @file
 * The ED's control thread state (runs on the main lcore): one epoll loop with
 * the VNOC session, the control socket, signals, and a 100 ms tick that drains
 * the data plane's punt ring. Modules of the control plane (membership,
 * probes, table programming) hang off this struct.
 */

#include <stdbool.h>
#include <stdint.h>

#include "ed_conf.h"

#define ED_TICK_MS 100

struct dp;
struct membership_ed;
struct ed_client;
struct ed_apply;
struct vprn_ctlsock;
struct ed_probes;

struct ed {
	struct ed_conf conf;
	struct dp *dp;
	struct ed_client *client;
	struct vprn_ctlsock *ctl;
	struct membership_ed *membership; /**< IGMP querier, source discovery */
	struct ed_apply *apply;		  /**< VNOC trees and SAs -> data plane (ed_apply.h) */
	struct ed_probes *probes;	  /**< site-to-site probes (ed_probe_glue.h), NULL = off */
	int epfd;
	int sigfd;
	int tickfd;
	uint64_t start_ms;
	bool stop;
	uint64_t punts[5]; /**< punted packets by kind (dp_punt_kind), drained by the tick */
};

/** Set up the loop (after dp_create/dp_start). @return 0 or -errno (logged). */
int ed_loop_init(struct ed *ed, const char *ctl_override);
/** Run until SIGINT/SIGTERM. */
int ed_loop_run(struct ed *ed);
void ed_loop_fini(struct ed *ed);

#endif /* VPRN_CONTROL_ED_H */
