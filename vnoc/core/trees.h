/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_TREES_H
#define VPRN_VNOC_CORE_TREES_H

/*
 * Distribution trees: one per (VPN, group) for shared trees, one per
 * (VPN, group, source address) for per-source trees. For each the manager
 * solves a tree (vprn_solver) over the member sites and relay-capable sites
 * of the VPN, keeps the current tree on re-optimisation unless the new one is
 * better by the hysteresis margin, versions it, and brings it up
 * make-before-break:
 *
 *   stage   : open the SA channels the new version needs (pairwise: one per
 *             edge direction; group: one per sending site) and wait until
 *             each sender has switched (keys.h);
 *   commit  : send every ED whose part changed its own neighbours and role
 *             (least knowledge), with the outbound SPIs; EDs leaving the tree
 *             that relayed for others are told to keep forwarding;
 *   settle  : when every ED acknowledged the new version (or after
 *             keep_forwarding_ms), leavers are released (KeepForwarding done,
 *             TreeUpdate removed) and SAs of vanished edges are closed.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "keys.h"
#include "metrics.h"
#include "outbox.h"

struct vnoc_trees;

struct vnoc_trees_conf {
	uint32_t hysteresis_pct;
	uint64_t keep_forwarding_ms;
	uint32_t tree_grace_ms;
	/*
	 * First version number of new trees. The core uses the wall-clock ms at
	 * start, so that versions keep growing across VNOC restarts and an ED
	 * never sees an older-looking version from a newer VNOC.
	 */
	uint64_t version_base;
};

/** Site directory: the core's sites (global ids 0..n_sites-1). */
struct vnoc_site_dir {
	bool (*site)(void *ctx, uint32_t site, struct vnoc_site_ref *out);
	uint32_t n_sites;
	void *ctx;
};

/** What one tree must span, from membership and policy. */
struct vnoc_tree_spec {
	uint32_t vpn, group;
	uint32_t source; /* 0: shared tree; else the source address of a per-source tree */
	enum vnoc_tree_kind kind;
	struct vnoc_sa_params sa;
	uint32_t max_degree; /* 0: the sites' own */
	const uint32_t *receivers;
	size_t n_receivers;
	const uint32_t *senders; /* per-source: the one site announcing `source` */
	size_t n_senders;
};

struct vnoc_trees *vnoc_trees_create(const struct vnoc_trees_conf *conf, struct vnoc_keys *keys,
	struct vnoc_metrics *metrics, const struct vnoc_outbox *out,
	const struct vnoc_site_dir *dir);
void vnoc_trees_destroy(struct vnoc_trees *t);
void vnoc_trees_set_conf(struct vnoc_trees *t, const struct vnoc_trees_conf *conf);

/**
 * Recompute the tree of @spec (membership changed, or @reoptimise with fresh
 * metrics: then hysteresis applies). A spec without receivers or senders
 * tears the tree down. Returns 1 if a new version was staged, 0 if the
 * current tree stays, -errno.
 */
int vnoc_trees_update(
	struct vnoc_trees *t, const struct vnoc_tree_spec *spec, bool reoptimise, uint64_t now_ms);

/** Events from the key manager (wire keys events to these). */
void vnoc_trees_chan_ready(struct vnoc_trees *t, uint32_t chan, uint32_t spi, uint64_t now_ms);
void vnoc_trees_chan_failed(struct vnoc_trees *t, uint32_t chan, uint32_t site, uint64_t now_ms);

/** An Ack of a TreeUpdate: 1 if it was one of ours, else 0. */
int vnoc_trees_ack(struct vnoc_trees *t, uint32_t site, uint64_t ref_seq, uint64_t now_ms);

/** A site's session restarted: send it its current part of every tree. */
void vnoc_trees_site_reset(struct vnoc_trees *t, uint32_t site, uint64_t now_ms);

/** Drift repair: send @site its part of (@vpn, @group, @source) again; 0 or -ENOENT. */
int vnoc_trees_resend(
	struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source, uint32_t site);

/** Timers (settle timeouts). */
void vnoc_trees_poll(struct vnoc_trees *t, uint64_t now_ms);
uint64_t vnoc_trees_next_deadline(const struct vnoc_trees *t);

/** One tree for the CLI. Edges are global site ids (a, b). */
struct vnoc_tree_info {
	uint32_t vpn, group, source;
	enum vnoc_tree_kind kind;
	enum vnoc_sa_mode sa_mode;
	uint64_t version;
	bool staging;
	double objective;
	const uint32_t (*edges)[2];
	size_t n_edges;
	const uint32_t *nodes; /* every site in the tree */
	const uint8_t *roles;  /* per node: bit 0 receiver, bit 1 sender (0: relay) */
	size_t n_nodes;
};

typedef void (*vnoc_tree_cb)(void *ctx, const struct vnoc_tree_info *ti);
size_t vnoc_trees_for_each(const struct vnoc_trees *t, vnoc_tree_cb cb, void *ctx);

/** Graphviz DOT of one tree; -ENOENT if (@vpn, @group, @source) has none. */
int vnoc_trees_dot(
	const struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source, FILE *f);

size_t vnoc_trees_count(const struct vnoc_trees *t);

/** Test seam: is (@a, @b) an edge of the committed tree. */
bool vnoc_trees_has_edge(const struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source,
	uint32_t a, uint32_t b);

#endif /* VPRN_VNOC_CORE_TREES_H */
