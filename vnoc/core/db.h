/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_DB_H
#define VPRN_VNOC_CORE_DB_H

/*
 * VNOC persistence in SQLite (WAL journal, synchronous=NORMAL: a committed
 * row survives kill -9 of the VNOC; FULL would also cover power loss).
 * What must never be lost is written here as it happens:
 *   accounting   append-only: grants, refusals, leaves, expiries;
 *   traffic      per (site, group, source, role) counters reported by EDs;
 *   state        the SPI allocator's high-water mark;
 *   policy_edits runtime policy changes, replayed over the file at load;
 *   connected    the sites connected (or only just gone): a restarted VNOC
 *                holds tree computation until they are back (core_startup.c).
 * Membership and trees are NOT stored: they are soft state, rebuilt from the
 * EDs' refreshes within one refresh interval after a restart.
 */

#include <stdbool.h>
#include <stdint.h>

struct vnoc_db;

enum vnoc_acct_event {
	VNOC_ACCT_GRANT = 1,
	VNOC_ACCT_REFUSE = 2,
	VNOC_ACCT_LEAVE = 3,
	VNOC_ACCT_EXPIRE = 4,
};

struct vnoc_acct {
	enum vnoc_acct_event event;
	const char *vpn;
	const char *site;
	uint32_t group;
	int role;   /* enum vnoc_role */
	int reason; /* enum vnoc_refuse for refusals */
	const char *text;
};

/** Open or create; NULL on error (logged). ":memory:" works for tests. */
struct vnoc_db *vnoc_db_open(const char *path);
void vnoc_db_close(struct vnoc_db *db);

/** Append one accounting record (committed before return): 0 or -EIO. */
int vnoc_db_account(struct vnoc_db *db, const struct vnoc_acct *rec);

/** Add a traffic report (increments) to the site's counters: 0 or -EIO. */
int vnoc_db_traffic(struct vnoc_db *db, const char *vpn, const char *site, uint32_t group,
	uint32_t source, int role, uint64_t packets, uint64_t bytes);

/** SPI high-water mark: get (VNOC_SPI_MIN-compatible 0 if none) and set. */
int vnoc_db_spi_get(struct vnoc_db *db, uint32_t *high_water);
int vnoc_db_spi_set(struct vnoc_db *db, uint32_t high_water);

/** Runtime policy edit: set option @key of group @group of VPN @vpn to @value (libconfig syntax).
 */
int vnoc_db_policy_edit(
	struct vnoc_db *db, const char *vpn, const char *group, const char *key, const char *value);

typedef void (*vnoc_db_edit_cb)(
	void *ctx, const char *vpn, const char *group, const char *key, const char *value);
/** Every policy edit in order: count or -EIO. */
int vnoc_db_policy_edits(struct vnoc_db *db, vnoc_db_edit_cb cb, void *ctx);

/** One accounting row for the CLI. */
struct vnoc_acct_row {
	int64_t id;
	int64_t wall_ms;
	const char *event, *vpn, *site, *role, *reason, *text;
	uint32_t group;
};
typedef void (*vnoc_db_acct_cb)(void *ctx, const struct vnoc_acct_row *row);

/** The last @limit accounting rows, oldest first: count or -EIO. */
int vnoc_db_accounting(struct vnoc_db *db, int limit, vnoc_db_acct_cb cb, void *ctx);

struct vnoc_traffic_row {
	const char *vpn, *site, *role;
	uint32_t group, source;
	uint64_t packets, bytes;
};
typedef void (*vnoc_db_traffic_cb)(void *ctx, const struct vnoc_traffic_row *row);
int vnoc_db_traffic_rows(struct vnoc_db *db, vnoc_db_traffic_cb cb, void *ctx);

typedef void (*vnoc_db_site_cb)(void *ctx, const char *site);
/**
 * The recorded set of connected sites: @cb per site, then the count;
 * -ENOENT when no set was ever recorded (a new database), -EIO.
 */
int vnoc_db_connected(struct vnoc_db *db, vnoc_db_site_cb cb, void *ctx);
/** Add @site to the set (@connected) or remove it: 0 or -EIO. */
int vnoc_db_connected_set(struct vnoc_db *db, const char *site, bool connected);
/** Note that the set is recorded from now on (even while empty): 0 or -EIO. */
int vnoc_db_connected_mark(struct vnoc_db *db);

const char *vnoc_acct_event_name(enum vnoc_acct_event ev);

#endif /* VPRN_VNOC_CORE_DB_H */
