/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_CFG_H
#define VPRN_DATAPLANE_CFG_H

/*
 * Control-side configuration of the tables (control thread only): what the
 * control thread asked for, from which cfg.c builds immutable versions. A
 * transaction (struct dp_txn) is a private copy edited off-path.
 */

#include <stdint.h>

#include "dataplane/dp.h"
#include "dataplane/dp_priv.h"

struct dp_group_cfg {
	struct dp_group_conf conf;
	uint16_t slot;	     /* counter slot, stable while the group exists */
	unsigned int n_prev; /* neighbours of the previous tree, still accepted */
	uint32_t prev[DP_MAX_TREE_NBRS];
	uint16_t kept;		 /* bit k: conf.nbrs[k] was a neighbour of the previous tree too */
	uint64_t prev_expiry_ms; /* monotonic */
};

struct dp_cfg {
	unsigned int n_nbrs;
	struct dp_nbr_conf nbrs[DP_MAX_NEIGHBOURS];
	unsigned int n_groups;
	struct dp_group_cfg groups[DP_MAX_GROUPS];
	unsigned int n_spis;
	struct dp_spi_conf spis[DP_MAX_SPIS];
};

/* ARP state of one WAN next hop (control thread only). */
struct dp_arp_entry {
	uint32_t ip;
	uint8_t mac[6];
	bool resolved;
	bool in_use;
	bool wanted; /* next hop of a configured neighbour or of a recent probe */
	uint64_t last_req_ms;
	uint64_t last_reply_ms;
};

#define DP_ARP_ENTRIES (DP_MAX_NEIGHBOURS + DP_PROBE_NH_MAX + 1)

struct dp_txn {
	struct dp *dp;
	struct dp_cfg cfg;
};

struct dp;
int dp_cfg_init(struct dp *dp);
void dp_cfg_fini(struct dp *dp);
/* Build a version from cfg + ARP state and publish it (grace period included). */
int dp_cfg_publish(struct dp *dp, const struct dp_cfg *cfg);

#endif /* VPRN_DATAPLANE_CFG_H */
