/* SPDX-License-Identifier: BSD-3-Clause */
#include "members.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * A chained hash on (site, group, role) so that a refresh of N memberships
 * costs N lookups; expiry and per-group walks scan everything, which is
 * bounded by the per-site limit and runs only on timers and tree changes.
 */
#define MEMBERS_BUCKETS 4096u

struct node {
	struct vnoc_member m;
	struct node *next;
};

struct dirty {
	uint32_t vpn, group;
	uint64_t due_ms;
};

struct vnoc_members {
	uint64_t hold_ms, debounce_ms;
	size_t count;
	struct node *bucket[MEMBERS_BUCKETS];
	struct dirty *dirty;
	size_t n_dirty, cap_dirty;
};

static uint32_t hash(uint32_t site, uint32_t group, uint8_t role)
{
	uint32_t h = site * 0x9e3779b1u ^ group * 0x85ebca6bu ^ role;

	h ^= h >> 15;
	return h % MEMBERS_BUCKETS;
}

struct vnoc_members *vnoc_members_create(uint64_t hold_ms, uint64_t debounce_ms)
{
	struct vnoc_members *ms = calloc(1, sizeof(*ms));

	if (ms != NULL)
		vnoc_members_set_timers(ms, hold_ms, debounce_ms);
	return ms;
}

void vnoc_members_set_timers(struct vnoc_members *ms, uint64_t hold_ms, uint64_t debounce_ms)
{
	ms->hold_ms = hold_ms;
	ms->debounce_ms = debounce_ms;
}

void vnoc_members_destroy(struct vnoc_members *ms)
{
	if (ms == NULL)
		return;
	for (size_t b = 0; b < MEMBERS_BUCKETS; b++) {
		for (struct node *n = ms->bucket[b], *nx; n != NULL; n = nx) {
			nx = n->next;
			free(n);
		}
	}
	free(ms->dirty);
	free(ms);
}

int vnoc_members_mark_dirty(struct vnoc_members *ms, uint32_t vpn, uint32_t group, uint64_t now_ms)
{
	/* already pending: keep the first deadline so a storm cannot starve it */
	for (size_t i = 0; i < ms->n_dirty; i++)
		if (ms->dirty[i].vpn == vpn && ms->dirty[i].group == group)
			return 0;
	if (ms->n_dirty == ms->cap_dirty) {
		size_t cap = ms->cap_dirty ? ms->cap_dirty * 2 : 16;
		struct dirty *d = realloc(ms->dirty, cap * sizeof(*d));

		if (d == NULL)
			return -ENOMEM;
		ms->dirty = d;
		ms->cap_dirty = cap;
	}
	ms->dirty[ms->n_dirty++] = (struct dirty){ vpn, group, now_ms + ms->debounce_ms };
	return 0;
}

static struct node **find(struct vnoc_members *ms, uint32_t site, uint32_t group, uint8_t role)
{
	struct node **pp = &ms->bucket[hash(site, group, role)];

	for (; *pp != NULL; pp = &(*pp)->next) {
		const struct vnoc_member *m = &(*pp)->m;

		if (m->site == site && m->group == group && m->role == role)
			break;
	}
	return pp;
}

static bool same_sources(const struct vnoc_member *a, const struct vnoc_member *b)
{
	return a->filter == b->filter && a->n_sources == b->n_sources &&
	       memcmp(a->sources, b->sources, a->n_sources * sizeof(a->sources[0])) == 0;
}

int vnoc_members_join(struct vnoc_members *ms, const struct vnoc_member *m, uint64_t now_ms)
{
	struct node **pp;
	struct node *n;

	if (m->n_sources > VNOC_MAX_SOURCES ||
		(m->role != VNOC_ROLE_RECEIVER && m->role != VNOC_ROLE_SENDER))
		return -EINVAL;
	pp = find(ms, m->site, m->group, m->role);
	if (*pp != NULL) {
		bool changed = !same_sources(&(*pp)->m, m);
		uint64_t joined = (*pp)->m.joined_ms;

		(*pp)->m = *m;
		(*pp)->m.joined_ms = joined;
		(*pp)->m.expires_ms = now_ms + ms->hold_ms;
		if (!changed)
			return 0;
		/* -ENOMEM only delays the tree update to the next change or re-optimisation */
		(void)vnoc_members_mark_dirty(ms, m->vpn, m->group, now_ms);
		return 1;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	n->m = *m;
	n->m.joined_ms = now_ms;
	n->m.expires_ms = now_ms + ms->hold_ms;
	*pp = n;
	ms->count++;
	(void)vnoc_members_mark_dirty(ms, m->vpn, m->group, now_ms);
	return 1;
}

static void unlink_node(struct vnoc_members *ms, struct node **pp, uint64_t now_ms)
{
	struct node *n = *pp;

	*pp = n->next;
	ms->count--;
	/* -ENOMEM here only delays the tree update to the next change or re-optimisation */
	(void)vnoc_members_mark_dirty(ms, n->m.vpn, n->m.group, now_ms);
	free(n);
}

int vnoc_members_leave(
	struct vnoc_members *ms, uint32_t site, uint32_t group, uint8_t role, uint64_t now_ms)
{
	struct node **pp = find(ms, site, group, role);

	if (*pp == NULL)
		return -ENOENT;
	unlink_node(ms, pp, now_ms);
	return 0;
}

static size_t remove_if(struct vnoc_members *ms, uint64_t now_ms, bool by_site, uint32_t site,
	vnoc_member_cb cb, void *ctx)
{
	size_t removed = 0;

	for (size_t b = 0; b < MEMBERS_BUCKETS; b++) {
		struct node **pp = &ms->bucket[b];

		while (*pp != NULL) {
			const struct vnoc_member *m = &(*pp)->m;
			bool gone = by_site ? m->site == site : m->expires_ms <= now_ms;

			if (!gone) {
				pp = &(*pp)->next;
				continue;
			}
			if (cb != NULL)
				cb(ctx, m);
			unlink_node(ms, pp, now_ms);
			removed++;
		}
	}
	return removed;
}

size_t vnoc_members_expire(struct vnoc_members *ms, uint64_t now_ms, vnoc_member_cb cb, void *ctx)
{
	return remove_if(ms, now_ms, false, 0, cb, ctx);
}

size_t vnoc_members_drop_site(
	struct vnoc_members *ms, uint32_t site, uint64_t now_ms, vnoc_member_cb cb, void *ctx)
{
	return remove_if(ms, now_ms, true, site, cb, ctx);
}

int vnoc_members_pop_dirty(struct vnoc_members *ms, uint64_t now_ms, uint32_t *vpn, uint32_t *group)
{
	for (size_t i = 0; i < ms->n_dirty; i++) {
		if (ms->dirty[i].due_ms > now_ms)
			continue;
		*vpn = ms->dirty[i].vpn;
		*group = ms->dirty[i].group;
		ms->dirty[i] = ms->dirty[--ms->n_dirty];
		return 1;
	}
	return 0;
}

uint64_t vnoc_members_next_deadline(const struct vnoc_members *ms)
{
	uint64_t t = vnoc_members_next_expiry(ms);

	for (size_t i = 0; i < ms->n_dirty; i++)
		if (ms->dirty[i].due_ms < t)
			t = ms->dirty[i].due_ms;
	return t;
}

uint64_t vnoc_members_next_expiry(const struct vnoc_members *ms)
{
	uint64_t t = UINT64_MAX;

	for (size_t b = 0; b < MEMBERS_BUCKETS; b++)
		for (const struct node *n = ms->bucket[b]; n != NULL; n = n->next)
			if (n->m.expires_ms < t)
				t = n->m.expires_ms;
	return t;
}

static size_t walk(const struct vnoc_members *ms, bool all, uint32_t vpn, uint32_t group,
	vnoc_member_cb cb, void *ctx)
{
	size_t k = 0;

	for (size_t b = 0; b < MEMBERS_BUCKETS; b++) {
		for (const struct node *n = ms->bucket[b]; n != NULL; n = n->next) {
			if (!all && (n->m.vpn != vpn || n->m.group != group))
				continue;
			if (cb != NULL)
				cb(ctx, &n->m);
			k++;
		}
	}
	return k;
}

size_t vnoc_members_for_group(
	const struct vnoc_members *ms, uint32_t vpn, uint32_t group, vnoc_member_cb cb, void *ctx)
{
	return walk(ms, false, vpn, group, cb, ctx);
}

size_t vnoc_members_for_each(const struct vnoc_members *ms, vnoc_member_cb cb, void *ctx)
{
	return walk(ms, true, 0, 0, cb, ctx);
}

const struct vnoc_member *vnoc_members_get(
	const struct vnoc_members *ms, uint32_t site, uint32_t group, uint8_t role)
{
	struct node **pp = find((struct vnoc_members *)ms, site, group, role);

	return *pp != NULL ? &(*pp)->m : NULL;
}

size_t vnoc_members_count(const struct vnoc_members *ms)
{
	return ms->count;
}

static void count_cb(void *ctx, const struct vnoc_member *m)
{
	struct {
		uint32_t site;
		size_t n;
	} *c = ctx;

	c->n += m->site == c->site;
}

size_t vnoc_members_count_site(const struct vnoc_members *ms, uint32_t site)
{
	struct {
		uint32_t site;
		size_t n;
	} c = { site, 0 };

	vnoc_members_for_each(ms, count_cb, &c);
	return c.n;
}
