/* SPDX-License-Identifier: BSD-3-Clause */
#include "db.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "common/log.h"
#include "types.h"

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS accounting("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, wall_ms INTEGER NOT NULL, event TEXT NOT NULL,"
	" vpn TEXT, site TEXT, grp INTEGER, role TEXT, reason TEXT, text TEXT);"
	"CREATE TABLE IF NOT EXISTS traffic("
	" vpn TEXT, site TEXT NOT NULL, grp INTEGER NOT NULL, source INTEGER NOT NULL,"
	" role TEXT NOT NULL, packets INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	" wall_ms INTEGER NOT NULL, PRIMARY KEY(site, grp, source, role));"
	"CREATE TABLE IF NOT EXISTS state(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS policy_edits("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, wall_ms INTEGER NOT NULL, vpn TEXT NOT NULL,"
	" grp TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS connected(site TEXT PRIMARY KEY);";

enum stmt_id {
	ST_ACCOUNT,
	ST_TRAFFIC,
	ST_SPI_GET,
	ST_SPI_SET,
	ST_EDIT,
	ST_EDITS,
	ST_ACCT_LIST,
	ST_TRAFFIC_LIST,
	ST_CONN_LIST,
	ST_CONN_ADD,
	ST_CONN_DEL,
	ST_CONN_MARK_GET,
	ST_CONN_MARK_SET,
	ST_COUNT,
};

static const char *const stmt_sql[ST_COUNT] = {
	[ST_ACCOUNT] = "INSERT INTO accounting(wall_ms, event, vpn, site, grp, role, reason, text)"
		       " VALUES(?,?,?,?,?,?,?,?)",
	[ST_TRAFFIC] =
		"INSERT INTO traffic VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(site, grp, source, role)"
		" DO UPDATE SET packets = packets + excluded.packets,"
		" bytes = bytes + excluded.bytes, wall_ms = excluded.wall_ms",
	[ST_SPI_GET] = "SELECT value FROM state WHERE key = 'spi_high_water'",
	[ST_SPI_SET] = "INSERT OR REPLACE INTO state VALUES('spi_high_water', ?)",
	[ST_EDIT] = "INSERT INTO policy_edits(wall_ms, vpn, grp, key, value) VALUES(?,?,?,?,?)",
	[ST_EDITS] = "SELECT vpn, grp, key, value FROM policy_edits ORDER BY id",
	[ST_ACCT_LIST] =
		"SELECT * FROM (SELECT id, wall_ms, event, vpn, site, grp, role, reason, text"
		" FROM accounting ORDER BY id DESC LIMIT ?) ORDER BY id",
	[ST_TRAFFIC_LIST] = "SELECT vpn, site, grp, source, role, packets, bytes FROM traffic"
			    " ORDER BY site, grp",
	[ST_CONN_LIST] = "SELECT site FROM connected ORDER BY site",
	[ST_CONN_ADD] = "INSERT OR IGNORE INTO connected VALUES(?)",
	[ST_CONN_DEL] = "DELETE FROM connected WHERE site = ?",
	[ST_CONN_MARK_GET] = "SELECT value FROM state WHERE key = 'connected_recorded'",
	[ST_CONN_MARK_SET] = "INSERT OR IGNORE INTO state VALUES('connected_recorded', 1)",
};

struct vnoc_db {
	sqlite3 *h;
	sqlite3_stmt *st[ST_COUNT];
};

static int64_t wall_ms(void)
{
	struct timespec ts;

	/* a record's timestamp is wall time by nature (not a timer) */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void vnoc_db_close(struct vnoc_db *db)
{
	if (db == NULL)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(db->st[i]);
	sqlite3_close(db->h);
	free(db);
}

/* The default path (/var/lib/vprn/) may not exist on a fresh host: create
 * the last directory level (0700: accounting is operator data). */
static int make_parent_dir(const char *path)
{
	char dir[4096];
	char *slash;

	if (strlen(path) >= sizeof(dir))
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return 0;
	*slash = '\0';
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		LOG_ERR("db", "%s: cannot create directory: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

struct vnoc_db *vnoc_db_open(const char *path)
{
	struct vnoc_db *db = calloc(1, sizeof(*db));
	char *err = NULL;

	if (db == NULL)
		return NULL;
	if (make_parent_dir(path) < 0)
		goto fail;
	if (sqlite3_open(path, &db->h) != SQLITE_OK) {
		LOG_ERR("db", "%s: %s", path, db->h ? sqlite3_errmsg(db->h) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db->h, 1000);
	if (sqlite3_exec(db->h, schema, NULL, NULL, &err) != SQLITE_OK) {
		LOG_ERR("db", "%s: schema: %s", path, err ? err : "?");
		sqlite3_free(err);
		goto fail;
	}
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v2(db->h, stmt_sql[i], -1, &db->st[i], NULL) != SQLITE_OK) {
			LOG_ERR("db", "prepare %d: %s", i, sqlite3_errmsg(db->h));
			goto fail;
		}
	}
	return db;
fail:
	vnoc_db_close(db);
	return NULL;
}

static int step_done(struct vnoc_db *db, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		LOG_ERR("db", "write: %s", sqlite3_errmsg(db->h));
		return -EIO;
	}
	return 0;
}

const char *vnoc_acct_event_name(enum vnoc_acct_event ev)
{
	switch (ev) {
	case VNOC_ACCT_GRANT:
		return "grant";
	case VNOC_ACCT_REFUSE:
		return "refuse";
	case VNOC_ACCT_LEAVE:
		return "leave";
	case VNOC_ACCT_EXPIRE:
		return "expire";
	}
	return "?";
}

int vnoc_db_account(struct vnoc_db *db, const struct vnoc_acct *rec)
{
	sqlite3_stmt *st = db->st[ST_ACCOUNT];

	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_text(st, 2, vnoc_acct_event_name(rec->event), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rec->vpn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, rec->site, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, rec->group);
	sqlite3_bind_text(st, 6, vnoc_role_name((enum vnoc_role)rec->role), -1, SQLITE_STATIC);
	if (rec->event == VNOC_ACCT_REFUSE)
		sqlite3_bind_text(
			st, 7, vnoc_refuse_name((enum vnoc_refuse)rec->reason), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, rec->text, -1, SQLITE_TRANSIENT);
	return step_done(db, st);
}

int vnoc_db_traffic(struct vnoc_db *db, const char *vpn, const char *site, uint32_t group,
	uint32_t source, int role, uint64_t packets, uint64_t bytes)
{
	sqlite3_stmt *st = db->st[ST_TRAFFIC];

	/* counters are signed 64-bit in SQLite: clamp absurd reports */
	if (packets > INT64_MAX / 2 || bytes > INT64_MAX / 2)
		return -ERANGE;
	sqlite3_bind_text(st, 1, vpn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, site, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, group);
	sqlite3_bind_int64(st, 4, source);
	sqlite3_bind_text(st, 5, vnoc_role_name((enum vnoc_role)role), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (int64_t)packets);
	sqlite3_bind_int64(st, 7, (int64_t)bytes);
	sqlite3_bind_int64(st, 8, wall_ms());
	return step_done(db, st);
}

int vnoc_db_spi_get(struct vnoc_db *db, uint32_t *high_water)
{
	sqlite3_stmt *st = db->st[ST_SPI_GET];
	int rc = sqlite3_step(st);

	*high_water = 0;
	if (rc == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(st, 0);

		*high_water = v < 0 || v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int vnoc_db_spi_set(struct vnoc_db *db, uint32_t high_water)
{
	sqlite3_stmt *st = db->st[ST_SPI_SET];

	sqlite3_bind_int64(st, 1, high_water);
	return step_done(db, st);
}

int vnoc_db_policy_edit(
	struct vnoc_db *db, const char *vpn, const char *group, const char *key, const char *value)
{
	sqlite3_stmt *st = db->st[ST_EDIT];

	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_text(st, 2, vpn, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, group, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, key, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 5, value, -1, SQLITE_TRANSIENT);
	return step_done(db, st);
}

static const char *col(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);

	return s ? (const char *)s : "";
}

int vnoc_db_policy_edits(struct vnoc_db *db, vnoc_db_edit_cb cb, void *ctx)
{
	sqlite3_stmt *st = db->st[ST_EDITS];
	int n = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cb(ctx, col(st, 0), col(st, 1), col(st, 2), col(st, 3));
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

int vnoc_db_accounting(struct vnoc_db *db, int limit, vnoc_db_acct_cb cb, void *ctx)
{
	sqlite3_stmt *st = db->st[ST_ACCT_LIST];
	int n = 0, rc;

	sqlite3_bind_int(st, 1, limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vnoc_acct_row r = {
			.id = sqlite3_column_int64(st, 0),
			.wall_ms = sqlite3_column_int64(st, 1),
			.event = col(st, 2),
			.vpn = col(st, 3),
			.site = col(st, 4),
			.group = (uint32_t)sqlite3_column_int64(st, 5),
			.role = col(st, 6),
			.reason = col(st, 7),
			.text = col(st, 8),
		};

		cb(ctx, &r);
		n++;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

int vnoc_db_traffic_rows(struct vnoc_db *db, vnoc_db_traffic_cb cb, void *ctx)
{
	sqlite3_stmt *st = db->st[ST_TRAFFIC_LIST];
	int n = 0, rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct vnoc_traffic_row r = {
			.vpn = col(st, 0),
			.site = col(st, 1),
			.group = (uint32_t)sqlite3_column_int64(st, 2),
			.source = (uint32_t)sqlite3_column_int64(st, 3),
			.role = col(st, 4),
			.packets = (uint64_t)sqlite3_column_int64(st, 5),
			.bytes = (uint64_t)sqlite3_column_int64(st, 6),
		};

		cb(ctx, &r);
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

int vnoc_db_connected(struct vnoc_db *db, vnoc_db_site_cb cb, void *ctx)
{
	sqlite3_stmt *st = db->st[ST_CONN_MARK_GET];
	int n = 0, rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return -ENOENT;
	if (rc != SQLITE_ROW)
		return -EIO;
	st = db->st[ST_CONN_LIST];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cb(ctx, col(st, 0));
		n++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? n : -EIO;
}

int vnoc_db_connected_set(struct vnoc_db *db, const char *site, bool connected)
{
	sqlite3_stmt *st = db->st[connected ? ST_CONN_ADD : ST_CONN_DEL];

	sqlite3_bind_text(st, 1, site, -1, SQLITE_TRANSIENT);
	return step_done(db, st);
}

int vnoc_db_connected_mark(struct vnoc_db *db)
{
	return step_done(db, db->st[ST_CONN_MARK_SET]);
}
