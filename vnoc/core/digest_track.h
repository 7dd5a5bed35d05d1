/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_DIGEST_TRACK_H
#define VPRN_VNOC_CORE_DIGEST_TRACK_H

/*
 * What each site should have installed, and the check of its StateDigest
 * (docs/protocol.md, "State digest"; docs/vnoc.md, "Drift repair").
 *
 * The tracker sits between the core's modules and the daemon's outbox and
 * keeps, per site, a shadow of the ED's installed state built from what the
 * VNOC sent it:
 *   SaInstall / TreeUpdate  -> pending (seq) -> installed on its Ack OK
 *                              (a failed Ack drops it; one tree per group, as
 *                              the ED keeps it);
 *   SaRemove / TreeUpdate removed -> gone at once (even if the site is down:
 *                              it is no longer wanted), as the ED drops them
 *                              from its digest on receipt.
 * The expected digest is vprn_state_digest() over the installed shadow.
 *
 * A StateDigest is compared only when it is current: its vnoc_seq (the last
 * VNOC message the ED applied) covers every state change sent to the site in
 * this session, so installs in flight, make-before-break steps and tree
 * changes not yet acknowledged never count. A comparable digest that differs
 * counts a mismatch; two in a row trigger a repair: what the site lacks is
 * sent again (through the keys and trees modules: new seq), SPIs and trees
 * the VNOC does not expect are removed (SaRemove / TreeUpdate removed, with a
 * grace period) - but not during the startup hold nor `startup_ms` after it
 * (or after the start), while a restarted VNOC is still rebuilding its state
 * from the EDs' refreshes and installing fresh trees.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/json.h"
#include "common/msg.h"
#include "outbox.h"

struct vnoc_dtrack;

struct vnoc_dtrack_repair {
	/** Send @site its SaInstall of (@spi, @dir) again; 0, or -ENOENT (not wanted any more:
	 * the tracker forgets it), or another -errno (not sent). */
	int (*resend_sa)(void *ctx, uint32_t site, uint32_t spi, enum vprn_direction dir);
	/** Send @site its TreeUpdate for (@group, @source) again; 0, -ENOENT (forgotten), -errno.
	 */
	int (*resend_tree)(void *ctx, uint32_t site, uint32_t group, uint32_t source);
	/** Site name for the log. */
	const char *(*name)(void *ctx, uint32_t site);
	/** The VNOC builds no tree yet (startup hold): no removal; NULL = never. */
	bool (*holding)(void *ctx);
	void *ctx;
};

struct vnoc_dtrack_conf {
	uint64_t startup_ms; /* no removal before start (or the end of the startup hold) + this */
	uint32_t stale_sa_grace_ms;   /* grace of a repair's SaRemove */
	uint32_t stale_tree_grace_ms; /* grace of a repair's TreeUpdate removed */
};

/** Per-site figures for the CLI. */
struct vnoc_dtrack_site_info {
	bool in_sync;	 /* the last comparable digest matched */
	bool checked;	 /* a comparable digest arrived since the session started */
	bool have_ed;	 /* a digest was received (hello or StateDigest) */
	uint8_t ed[32];	 /* last digest received */
	uint8_t exp[32]; /* expected digest now */
	uint64_t digests, compared, mismatches, repairs;
	uint32_t streak; /* consecutive comparable mismatches */
	size_t n_trees, n_in, n_out;
};

struct vnoc_dtrack *vnoc_dtrack_create(uint32_t n_sites, const struct vnoc_outbox *out,
	const struct vnoc_dtrack_repair *repair, const struct vnoc_dtrack_conf *conf,
	uint64_t now_ms);
void vnoc_dtrack_destroy(struct vnoc_dtrack *d);
void vnoc_dtrack_set_conf(struct vnoc_dtrack *d, const struct vnoc_dtrack_conf *conf);

/** The outbox the modules must send through (it forwards to @out of create). */
struct vnoc_outbox vnoc_dtrack_outbox(struct vnoc_dtrack *d);

/** A session of @site starts or ends: what was in flight is forgotten. */
void vnoc_dtrack_session(struct vnoc_dtrack *d, uint32_t site);

/** An Ack of @site (any: the tracker looks for its own seqs). */
void vnoc_dtrack_ack(struct vnoc_dtrack *d, uint32_t site, uint64_t ref_seq, bool ok);

/** The digest of a hello (recorded, not compared: the session resends everything). */
void vnoc_dtrack_hello(struct vnoc_dtrack *d, uint32_t site, const uint8_t *digest, uint32_t len);

/** A StateDigest of @site: compare, count, repair (untrusted lists: bounded, validated). */
void vnoc_dtrack_report(
	struct vnoc_dtrack *d, uint32_t site, const struct vprn_digest *dg, uint64_t now_ms);

/** Figures of @site; -ENOENT. */
int vnoc_dtrack_site(const struct vnoc_dtrack *d, uint32_t site, struct vnoc_dtrack_site_info *out);

/** JSON members (inside the caller's object) for `vprnctl vnoc sites`. */
void vnoc_dtrack_site_json(const struct vnoc_dtrack *d, uint32_t site, struct vprn_json *j);

#endif /* VPRN_VNOC_CORE_DIGEST_TRACK_H */
