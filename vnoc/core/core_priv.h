/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_CORE_PRIV_H
#define VPRN_VNOC_CORE_CORE_PRIV_H

/* State shared by core.c (messages, timers) and core_ctl.c (CLI). */

#include <stdbool.h>

#include "core.h"
#include "db.h"
#include "digest_track.h"
#include "keys.h"
#include "members.h"
#include "metrics.h"
#include "spi.h"
#include "trees.h"

struct core_site {
	char name[VNOC_NAME_MAX];
	uint32_t vpn;
	uint32_t idx; /* index in its VPN's policy */
	uint32_t wan;
	uint32_t max_degree;
	bool relay;
	bool up;
	uint64_t last_seen_ms;
	uint64_t last_refusal_acct_ms;
	/* startup hold (core_startup.c) */
	bool expected;	  /* connected before the start: waited for */
	bool refreshed;	  /* sent a Refresh on its current session */
	bool persisted;	  /* in the database's `connected` table */
	bool said_bye;	  /* its ED left with Bye (planned): not waited for */
	uint64_t down_ms; /* when its session ended, 0 = up or never seen */
};

struct vnoc_core {
	struct vnoc_policy *pol;
	struct vprn_clock clock;
	struct vnoc_outbox out;
	struct vnoc_db *db;
	char config_path[4096];
	struct core_site *sites;
	uint32_t n_sites;
	uint32_t *name_index; /* hash of site names -> id (UINT32_MAX: empty slot) */
	uint32_t name_slots;
	struct vnoc_members *members;
	struct vnoc_metrics *metrics;
	struct vnoc_spi_alloc *spis;
	struct vnoc_keys *keys;
	struct vnoc_trees *trees;
	struct vnoc_dtrack *dtrack; /* expected state per site, StateDigest checks */
	uint8_t probe_secret[32];
	uint64_t next_reopt_ms;
	bool holding; /* startup hold: no tree computation yet */
	uint64_t hold_start_ms, hold_until_ms;
	uint64_t digest_quiet_ms; /* digest repairs remove nothing before start + this */
	struct vnoc_core_counters cnt;
	struct vnoc_policy_edit *edits; /* runtime edits (strings owned), replayed at load */
	size_t n_edits;
};

static inline uint64_t core_now(const struct vnoc_core *c)
{
	return c->clock.now_ms(c->clock.ctx);
}

/* Startup hold (core_startup.c): read the record, hook up/down/refresh, poll. */
int core_startup_init(struct vnoc_core *c);
void core_startup_site_up(struct vnoc_core *c, uint32_t site);
void core_startup_site_down(struct vnoc_core *c, uint32_t site);
void core_startup_refresh(struct vnoc_core *c, uint32_t site);
void core_startup_bye(struct vnoc_core *c, uint32_t site);
/* The digest tracker's conf again (core.c), after digest_quiet_ms changed. */
void core_dtrack_reconf(struct vnoc_core *c);
/* Ends the hold when every expected site is back or it expired; true while it lasts. */
bool core_startup_holding(struct vnoc_core *c, uint64_t now);
void core_startup_poll(struct vnoc_core *c, uint64_t now);
uint64_t core_startup_deadline(const struct vnoc_core *c);

/* Recompute the trees of one group (core.c). */
void vnoc_core_recompute(struct vnoc_core *c, uint32_t vpn, uint32_t group, bool reoptimise);

#endif /* VPRN_VNOC_CORE_CORE_PRIV_H */
