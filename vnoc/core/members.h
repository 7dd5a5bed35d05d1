/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_MEMBERS_H
#define VPRN_VNOC_CORE_MEMBERS_H

/*
 * Membership soft state: what each site has joined, kept alive by joins and
 * refreshes, expired after the hold time. Changes mark the group dirty; a
 * dirty group is handed out for recomputation once its debounce window has
 * passed, so that a burst of joins costs one tree computation. Pure: time
 * comes in as arguments (ms of the injected clock).
 */

#include <stddef.h>
#include <stdint.h>

#include "types.h"

struct vnoc_member {
	uint32_t site;	/* global site id */
	uint32_t vpn;	/* VPN index */
	uint32_t group; /* host byte order */
	uint8_t role;	/* enum vnoc_role */
	uint8_t filter; /* enum vnoc_filter (receivers) */
	uint8_t n_sources;
	uint32_t sources[VNOC_MAX_SOURCES];
	uint64_t joined_ms;
	uint64_t expires_ms;
};

struct vnoc_members;

typedef void (*vnoc_member_cb)(void *ctx, const struct vnoc_member *m);

struct vnoc_members *vnoc_members_create(uint64_t hold_ms, uint64_t debounce_ms);
void vnoc_members_destroy(struct vnoc_members *ms);

/** New timers (policy reload); existing deadlines are kept. */
void vnoc_members_set_timers(struct vnoc_members *ms, uint64_t hold_ms, uint64_t debounce_ms);

/**
 * Join or refresh @m (its site, group, role identify it). Returns 1 when the
 * membership is new or its sources changed (the group becomes dirty), 0 when
 * it was only refreshed, -EINVAL for a bad record, -ENOMEM.
 */
int vnoc_members_join(struct vnoc_members *ms, const struct vnoc_member *m, uint64_t now_ms);

/** Explicit leave: 0 (group dirty) or -ENOENT. */
int vnoc_members_leave(
	struct vnoc_members *ms, uint32_t site, uint32_t group, uint8_t role, uint64_t now_ms);

/** Remove every membership whose hold time passed; @cb sees each before it goes. */
size_t vnoc_members_expire(struct vnoc_members *ms, uint64_t now_ms, vnoc_member_cb cb, void *ctx);

/** Remove all of a site's memberships (site removed from the registry). */
size_t vnoc_members_drop_site(
	struct vnoc_members *ms, uint32_t site, uint64_t now_ms, vnoc_member_cb cb, void *ctx);

/** Pop one dirty group whose debounce passed: 1 and (@vpn, @group), or 0. */
int vnoc_members_pop_dirty(
	struct vnoc_members *ms, uint64_t now_ms, uint32_t *vpn, uint32_t *group);

/** Mark a group dirty (periodic re-optimisation, policy reload). */
int vnoc_members_mark_dirty(struct vnoc_members *ms, uint32_t vpn, uint32_t group, uint64_t now_ms);

/** Earliest time something is due (expiry or debounce); UINT64_MAX if nothing. */
uint64_t vnoc_members_next_deadline(const struct vnoc_members *ms);
/** Earliest expiry alone (dirty groups not counted); UINT64_MAX if none. */
uint64_t vnoc_members_next_expiry(const struct vnoc_members *ms);

/** Call @cb for every membership of (@vpn, @group), in no particular order. */
size_t vnoc_members_for_group(
	const struct vnoc_members *ms, uint32_t vpn, uint32_t group, vnoc_member_cb cb, void *ctx);

/** Call @cb for every membership (CLI). */
size_t vnoc_members_for_each(const struct vnoc_members *ms, vnoc_member_cb cb, void *ctx);

/** The membership (@site, @group, @role), or NULL. O(1). */
const struct vnoc_member *vnoc_members_get(
	const struct vnoc_members *ms, uint32_t site, uint32_t group, uint8_t role);

size_t vnoc_members_count(const struct vnoc_members *ms);
size_t vnoc_members_count_site(const struct vnoc_members *ms, uint32_t site);

#endif /* VPRN_VNOC_CORE_MEMBERS_H */
