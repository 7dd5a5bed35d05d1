/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Startup hold: a (re)started VNOC computes no tree until every site that was
 * connected before the restart is back and has sent its first full Refresh,
 * or until timers.startup_hold_ms expires. Until then the EDs forward on the
 * trees and SAs of the previous VNOC (headless operation), so a site that
 * reconnects a little later than the others loses nothing: the first trees
 * are solved over the complete membership.
 *
 * "Connected before the restart" is the `connected` table of the database,
 * kept equal to: sites up now, sites gone for less than one hold time (a
 * session that just dropped, or every session at a clean shutdown; not after
 * the ED's Bye, a planned departure), and,
 * while the hold lasts, the sites it waits for (so that a second restart in
 * the middle of the hold waits for the same sites). A database without a
 * record (first start) waits for every configured site.
 */
#include <errno.h>
#include <stdio.h>

#include "common/log.h"
#include "core_priv.h"

static uint64_t hold_ms(const struct vnoc_core *c)
{
	int64_t h = c->pol->conf.startup_hold_ms;

	return (uint64_t)(h < 0 ? c->pol->conf.hold_time_ms : h);
}

static void expect_cb(void *ctx, const char *site)
{
	struct vnoc_core *c = ctx;
	int id = vnoc_core_site_id(c, site);

	if (id >= 0) /* a site removed from the registry is not waited for */
		c->sites[id].expected = true;
}

/* What the `connected` table should hold for @s now. */
static bool should_persist(const struct vnoc_core *c, const struct core_site *s, uint64_t now)
{
	uint64_t hold = (uint64_t)c->pol->conf.hold_time_ms;

	return s->up || (c->holding && s->expected) ||
	       (s->down_ms != 0 && !s->said_bye && now - s->down_ms < hold);
}

static void persist(struct vnoc_core *c, uint64_t now)
{
	for (uint32_t i = 0; c->db != NULL && i < c->n_sites; i++) {
		struct core_site *s = &c->sites[i];
		bool want = should_persist(c, s, now);

		if (want == s->persisted)
			continue;
		/* best effort: a failed write must not leave a deadline in the past */
		if (vnoc_db_connected_set(c->db, s->name, want) != 0)
			LOG_ERR("core", "cannot record site %s as %s", s->name,
				want ? "connected" : "gone");
		s->persisted = want;
	}
}

int core_startup_init(struct vnoc_core *c)
{
	uint64_t now = core_now(c);
	uint32_t n = 0;
	int rc = -ENOENT;

	if (c->db != NULL) {
		rc = vnoc_db_connected(c->db, expect_cb, c);
		if (rc < 0 && rc != -ENOENT)
			return rc;
		for (uint32_t i = 0; i < c->n_sites; i++)
			c->sites[i].persisted = c->sites[i].expected;
		if (vnoc_db_connected_mark(c->db) != 0)
			return -EIO;
	}
	for (uint32_t i = 0; i < c->n_sites; i++) {
		if (rc == -ENOENT)
			c->sites[i].expected = true; /* no record: every configured site */
		n += c->sites[i].expected;
	}
	c->holding = hold_ms(c) > 0 && n > 0;
	c->hold_until_ms = now + hold_ms(c);
	c->hold_start_ms = now;
	/* the state digest repair removes unknown state only after the hold and one hold
	 * time more: the EDs' old trees and SAs are what keeps the data flowing */
	c->digest_quiet_ms = (c->holding ? hold_ms(c) : 0) + (uint64_t)c->pol->conf.hold_time_ms;
	core_dtrack_reconf(c);
	if (c->holding) {
		LOG_INFO("core",
			"startup hold: no tree until the %u %s site(s) are back (at most %llu ms)",
			n, rc == -ENOENT ? "configured" : "previously connected",
			(unsigned long long)hold_ms(c));
	}
	persist(c, now);
	return 0;
}

void core_startup_site_up(struct vnoc_core *c, uint32_t site)
{
	c->sites[site].refreshed = false;
	c->sites[site].said_bye = false;
	c->sites[site].down_ms = 0;
	persist(c, core_now(c));
}

void core_startup_site_down(struct vnoc_core *c, uint32_t site)
{
	c->sites[site].refreshed = false;
	c->sites[site].down_ms = core_now(c);
	if (c->sites[site].down_ms == 0)
		c->sites[site].down_ms = 1; /* 0 means "not down" */
	persist(c, core_now(c));
}

void core_startup_bye(struct vnoc_core *c, uint32_t site)
{
	c->sites[site].said_bye = true; /* a planned departure: not waited for */
}

void core_startup_refresh(struct vnoc_core *c, uint32_t site)
{
	c->sites[site].refreshed = true;
}

static void release(struct vnoc_core *c, uint64_t now, bool expired)
{
	char missing[512] = "";
	size_t len = 0;
	uint32_t n = 0;

	for (uint32_t i = 0; i < c->n_sites; i++) {
		const struct core_site *s = &c->sites[i];

		if (!s->expected || (s->up && s->refreshed))
			continue;
		n++;
		if (len < sizeof(missing) - 70)
			len += (size_t)snprintf(missing + len, sizeof(missing) - len, "%s%s",
				len ? ", " : "", s->name);
	}
	c->holding = false;
	c->digest_quiet_ms = now - c->hold_start_ms + (uint64_t)c->pol->conf.hold_time_ms;
	core_dtrack_reconf(c);
	if (expired)
		LOG_WARN("core", "startup hold expired after %llu ms; %u site(s) not back: %s%s",
			(unsigned long long)(now - c->hold_start_ms), n, missing,
			len >= sizeof(missing) - 70 ? ", ..." : "");
	else
		LOG_INFO("core", "startup hold over after %llu ms: every expected site is back",
			(unsigned long long)(now - c->hold_start_ms));
	persist(c, now);
}

bool core_startup_holding(struct vnoc_core *c, uint64_t now)
{
	bool all = true;

	if (!c->holding)
		return false;
	for (uint32_t i = 0; i < c->n_sites && all; i++)
		all = !c->sites[i].expected || (c->sites[i].up && c->sites[i].refreshed);
	if (all || now >= c->hold_until_ms)
		release(c, now, !all);
	return c->holding;
}

void core_startup_poll(struct vnoc_core *c, uint64_t now)
{
	persist(c, now); /* sites gone for a hold time leave the record */
}

uint64_t core_startup_deadline(const struct vnoc_core *c)
{
	uint64_t t = c->holding ? c->hold_until_ms : UINT64_MAX;
	uint64_t hold = (uint64_t)c->pol->conf.hold_time_ms;

	for (uint32_t i = 0; c->db != NULL && i < c->n_sites; i++) {
		const struct core_site *s = &c->sites[i];

		if (s->persisted && !s->up && !(c->holding && s->expected) && s->down_ms != 0 &&
			!s->said_bye && s->down_ms + hold < t)
			t = s->down_ms + hold;
	}
	return t;
}
