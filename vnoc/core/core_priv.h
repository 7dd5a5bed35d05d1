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
	struct vnoc_core_counters cnt;
	struct vnoc_policy_edit *edits; /* runtime edits (strings owned), replayed at load */
	size_t n_edits;
};

static inline uint64_t core_now(const struct vnoc_core *c)
{
	return c->clock.now_ms(c->clock.ctx);
}

/* Recompute the trees of one group (core.c). */
void vnoc_core_recompute(struct vnoc_core *c, uint32_t vpn, uint32_t group, bool reoptimise);

#endif /* VPRN_VNOC_CORE_CORE_PRIV_H */
