/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-(group, role) view reported upward, and its coalescing.
 *
 * Receiver view = union of the learned IGMP state and the receiver
 * announcements (RFC 3376 §3.2 merging rules: INCLUDE+INCLUDE = union,
 * EXCLUDE+EXCLUDE = intersection, INCLUDE(A)+EXCLUDE(B) = EXCLUDE(B-A)).
 * Sender view = discovered senders plus sender announcements (INCLUDE list of
 * the local sources; empty = unknown/any).
 *
 * Coalescing: a change is reported at once if the (group, role) has not
 * emitted for event_holddown_ms, otherwise when the hold-down ends, and then
 * only if the view differs from what was last reported. A host flapping
 * join/leave/join inside the hold-down costs one event, not three.
 */
#include "mship_priv.h"

#include <stdlib.h>
#include <string.h>

struct view {
	bool present;
	uint8_t mode;
	uint32_t n;
	uint32_t cap;
	uint32_t *s;
	uint32_t *tmp; /* cap entries */
};

static bool has(const uint32_t *list, uint32_t n, uint32_t x)
{
	for (uint32_t i = 0; i < n; i++)
		if (list[i] == x)
			return true;
	return false;
}

static void view_add(struct view *v, uint8_t mode, const uint32_t *list, uint32_t n)
{
	uint32_t j = 0;

	if (!v->present) {
		v->present = true;
		v->mode = mode;
		v->n = n < v->cap ? n : v->cap;
		if (v->n > 0)
			memmove(v->s, list, v->n * sizeof(uint32_t));
		return;
	}
	if (v->mode == MEMBERSHIP_INCLUDE && mode == MEMBERSHIP_INCLUDE) {
		for (uint32_t i = 0; i < n && v->n < v->cap; i++)
			if (!has(v->s, v->n, list[i]))
				v->s[v->n++] = list[i];
	} else if (v->mode == MEMBERSHIP_EXCLUDE && mode == MEMBERSHIP_EXCLUDE) {
		for (uint32_t i = 0; i < v->n; i++)
			if (has(list, n, v->s[i]))
				v->s[j++] = v->s[i];
		v->n = j;
	} else if (v->mode == MEMBERSHIP_EXCLUDE) { /* EXCLUDE(B) + INCLUDE(A) */
		for (uint32_t i = 0; i < v->n; i++)
			if (!has(list, n, v->s[i]))
				v->s[j++] = v->s[i];
		v->n = j;
	} else { /* INCLUDE(A) + EXCLUDE(B) = EXCLUDE(B - A) */
		for (uint32_t i = 0; i < n && j < v->cap; i++)
			if (!has(v->s, v->n, list[i]))
				v->tmp[j++] = list[i];
		memcpy(v->s, v->tmp, j * sizeof(uint32_t));
		v->n = j;
		v->mode = MEMBERSHIP_EXCLUDE;
	}
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static void view_compute(
	struct membership *m, const struct mgroup *g, int role, uint64_t now, struct view *v)
{
	enum membership_role want =
		role == REP_SENDER ? MEMBERSHIP_ROLE_SENDER : MEMBERSHIP_ROLE_RECEIVER;

	*v = (struct view){
		.cap = m->conf.max_sources, .s = m->scratch, .tmp = m->scratch + m->conf.max_sources
	};
	if (role == REP_RECEIVER && g->learned) {
		uint32_t n = 0;

		/* INCLUDE: the forwarded sources; EXCLUDE: the blocked ones (Y). */
		for (uint32_t i = 0; i < g->n_src; i++) {
			bool running = g->src[i].timer > now;

			if (running == (g->mode == MEMBERSHIP_INCLUDE))
				v->tmp[n++] = g->src[i].addr;
		}
		view_add(v, g->mode, v->tmp, n);
	}
	if (role == REP_SENDER && g->sender)
		view_add(v, MEMBERSHIP_INCLUDE, g->senders, g->n_senders);
	for (uint32_t i = 0; i < m->n_ann; i++) {
		const struct mannounce *a = &m->ann[i];

		if (a->group != g->group || a->role != want)
			continue;
		if (role == REP_SENDER || a->source != 0)
			view_add(v, MEMBERSHIP_INCLUDE, &a->source, a->source != 0);
		else
			view_add(v, MEMBERSHIP_EXCLUDE, NULL, 0);
	}
	qsort(v->s, v->n, sizeof(uint32_t), cmp_u32);
}

void me_mark(struct mgroup *g, int role)
{
	g->rep[role].pending = true;
}

static bool same(const struct mreported *r, const struct view *v)
{
	if (r->present != v->present)
		return false;
	if (!v->present)
		return true;
	return r->mode == v->mode && r->n_sources == v->n &&
	       memcmp(r->sources, v->s, v->n * sizeof(uint32_t)) == 0;
}

static void emit(struct membership *m, const struct mgroup *g, int role, const struct mreported *r,
	enum membership_event_type type)
{
	struct membership_event ev = {
		.type = type,
		.role = role == REP_SENDER ? MEMBERSHIP_ROLE_SENDER : MEMBERSHIP_ROLE_RECEIVER,
		.group = g->group,
		.mode = r->mode,
		.n_sources = r->n_sources,
		.sources = r->sources,
	};

	m->stats.events++;
	if (m->ops.event != NULL)
		m->ops.event(m->ops.ctx, &ev);
}

void me_flush(struct membership *m, struct mgroup *g, uint64_t now)
{
	for (int role = 0; role < REP_MAX; role++) {
		struct mreported *r = &g->rep[role];
		struct view v;

		if (!r->pending)
			continue;
		if (r->emitted && now < r->last_emit + m->conf.event_holddown_ms)
			continue;
		r->pending = false;
		view_compute(m, g, role, now, &v);
		if (same(r, &v)) {
			m->stats.coalesced++;
			continue;
		}
		if (!v.present) {
			r->present = false;
			emit(m, g, role, r, MEMBERSHIP_LEAVE);
			r->n_sources = 0;
		} else {
			r->present = true;
			r->mode = v.mode;
			r->n_sources = v.n;
			memcpy(r->sources, v.s, v.n * sizeof(uint32_t));
			emit(m, g, role, r, MEMBERSHIP_JOIN);
		}
		r->emitted = true;
		r->last_emit = now;
	}
}

uint64_t me_deadline(const struct membership *m, const struct mgroup *g)
{
	uint64_t d = UINT64_MAX;

	for (int role = 0; role < REP_MAX; role++) {
		const struct mreported *r = &g->rep[role];
		uint64_t t = r->emitted ? r->last_emit + m->conf.event_holddown_ms : 0;

		if (r->pending && t < d)
			d = t;
	}
	return d;
}
