/* SPDX-License-Identifier: BSD-3-Clause */
#include "trees.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "solver.h"

#define ROLE_RECV 1u
#define ROLE_SEND 2u
#define NO_SITE UINT32_MAX

/* One version of a tree: its edges (global site ids) and nodes with roles. */
struct ver {
	uint32_t (*edges)[2];
	size_t n_edges;
	uint32_t *nodes;
	uint8_t *roles;
	size_t n_nodes;
	double objective;
};

/* What an ED was last told about this tree. */
struct view {
	uint32_t site;
	uint8_t role;
	uint32_t *nb;
	size_t n_nb;
	uint64_t seq; /* TreeUpdate awaiting its Ack (0: none) */
	bool in_tree;
	bool stale; /* its outbound SPI changed: resend even if the neighbours did not */
};

/* An SA channel of the tree: pairwise edge direction, or a group sender (to = NO_SITE). */
struct tchan {
	uint32_t from, to;
	uint32_t chan;
	uint32_t spi;
	bool ready, failed, closing;
	uint32_t *rx; /* group mode: current receivers */
	size_t n_rx;
};

struct tree {
	uint32_t vpn, group, source;
	enum vnoc_tree_kind kind;
	struct vnoc_sa_params sa;
	uint32_t max_degree;
	uint32_t *receivers, *senders; /* latest spec */
	size_t n_receivers, n_senders;
	bool pending; /* spec changed while staging/settling */
	uint64_t version;
	struct ver cur, stg;
	bool staging, settling;
	uint64_t settle_deadline_ms;
	struct view *views;
	size_t n_views;
	uint32_t *leavers;
	size_t n_leavers;
	struct tchan *chans;
	size_t n_chans, cap_chans;
};

struct vnoc_trees {
	struct vnoc_trees_conf conf;
	struct vnoc_keys *keys;
	struct vnoc_metrics *metrics;
	struct vnoc_outbox out;
	struct vnoc_site_dir dir;
	struct vprn_solver *solver;
	struct tree **trees;
	size_t n_trees, cap_trees;
	/* solve workspace, n_sites each */
	uint32_t *loc2glob, *glob2loc, *delay, *members, *parent, *sources;
	uint16_t *degree;
	uint8_t *relay, *is_member;
	struct vprn_solver_edge *edges, *current;
};

static int ver_alloc(struct ver *v, size_t n)
{
	v->edges = calloc(n, sizeof(*v->edges));
	v->nodes = calloc(n, sizeof(*v->nodes));
	v->roles = calloc(n, sizeof(*v->roles));
	v->n_edges = v->n_nodes = 0;
	return v->edges && v->nodes && v->roles ? 0 : -ENOMEM;
}

static void ver_free(struct ver *v)
{
	free(v->edges);
	free(v->nodes);
	free(v->roles);
}

static void ver_copy(struct ver *dst, const struct ver *src)
{
	memcpy(dst->edges, src->edges, src->n_edges * sizeof(*src->edges));
	memcpy(dst->nodes, src->nodes, src->n_nodes * sizeof(*src->nodes));
	memcpy(dst->roles, src->roles, src->n_nodes * sizeof(*src->roles));
	dst->n_edges = src->n_edges;
	dst->n_nodes = src->n_nodes;
	dst->objective = src->objective;
}

struct vnoc_trees *vnoc_trees_create(const struct vnoc_trees_conf *conf, struct vnoc_keys *keys,
	struct vnoc_metrics *metrics, const struct vnoc_outbox *out,
	const struct vnoc_site_dir *dir)
{
	struct vnoc_trees *t = calloc(1, sizeof(*t));
	size_t n = dir->n_sites ? dir->n_sites : 1;

	if (t == NULL)
		return NULL;
	t->conf = *conf;
	t->keys = keys;
	t->metrics = metrics;
	t->out = *out;
	t->dir = *dir;
	if (dir->n_sites > VPRN_SOLVER_MAX_SITES)
		goto fail;
	t->solver = vprn_solver_create((uint32_t)n);
	t->loc2glob = calloc(n, sizeof(uint32_t));
	t->glob2loc = calloc(n, sizeof(uint32_t));
	t->delay = calloc(n * n, sizeof(uint32_t));
	t->members = calloc(n, sizeof(uint32_t));
	t->parent = calloc(n, sizeof(uint32_t));
	t->sources = calloc(n, sizeof(uint32_t));
	t->degree = calloc(n, sizeof(uint16_t));
	t->relay = calloc(n, 1);
	t->is_member = calloc(n, 1);
	t->edges = calloc(n, sizeof(*t->edges));
	t->current = calloc(n, sizeof(*t->current));
	if (t->solver && t->loc2glob && t->glob2loc && t->delay && t->members && t->parent &&
		t->sources && t->degree && t->relay && t->is_member && t->edges && t->current)
		return t;
fail:
	vnoc_trees_destroy(t);
	return NULL;
}

void vnoc_trees_set_conf(struct vnoc_trees *t, const struct vnoc_trees_conf *conf)
{
	t->conf = *conf;
}

static void tree_free(struct tree *tr)
{
	for (size_t i = 0; i < tr->n_views; i++)
		free(tr->views[i].nb);
	for (size_t i = 0; i < tr->n_chans; i++)
		free(tr->chans[i].rx);
	free(tr->views);
	free(tr->chans);
	free(tr->leavers);
	free(tr->receivers);
	free(tr->senders);
	ver_free(&tr->cur);
	ver_free(&tr->stg);
	free(tr);
}

void vnoc_trees_destroy(struct vnoc_trees *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->n_trees; i++)
		tree_free(t->trees[i]);
	free(t->trees);
	vprn_solver_free(t->solver);
	free(t->loc2glob);
	free(t->glob2loc);
	free(t->delay);
	free(t->members);
	free(t->parent);
	free(t->sources);
	free(t->degree);
	free(t->relay);
	free(t->is_member);
	free(t->edges);
	free(t->current);
	free(t);
}

static struct tree *tree_find(
	const struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source, size_t *idx)
{
	for (size_t i = 0; i < t->n_trees; i++) {
		struct tree *tr = t->trees[i];

		if (tr->vpn == vpn && tr->group == group && tr->source == source) {
			if (idx != NULL)
				*idx = i;
			return tr;
		}
	}
	return NULL;
}

static bool site_ref(const struct vnoc_trees *t, uint32_t site, struct vnoc_site_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	return site < t->dir.n_sites && t->dir.site(t->dir.ctx, site, ref) && ref->name != NULL;
}

/* ---- solving ------------------------------------------------------------ */

static enum vprn_solver_algo algo_of(enum vnoc_tree_kind kind)
{
	switch (kind) {
	case VNOC_TREE_SHARED:
		return VPRN_SOLVER_SHARED_DELAY;
	case VNOC_TREE_PER_SOURCE:
		return VPRN_SOLVER_PER_SOURCE;
	case VNOC_TREE_STAR:
		return VPRN_SOLVER_STAR;
	case VNOC_TREE_AUTO:
		break;
	}
	return VPRN_SOLVER_AUTO;
}

/* Map the VPN's sites to solver indices and fill matrix, bounds, relays. */
static uint32_t solve_prepare(struct vnoc_trees *t, const struct tree *tr, uint64_t now_ms)
{
	uint32_t n = 0;

	for (uint32_t g = 0; g < t->dir.n_sites; g++) {
		struct vnoc_site_ref ref;

		t->glob2loc[g] = NO_SITE;
		if (!site_ref(t, g, &ref) || ref.vpn != tr->vpn)
			continue;
		t->glob2loc[g] = n;
		t->loc2glob[n] = g;
		t->relay[n] = ref.relay;
		t->degree[n] = (uint16_t)(tr->max_degree ? tr->max_degree : ref.max_degree);
		t->is_member[n] = 0;
		n++;
	}
	vnoc_metrics_matrix(t->metrics, t->loc2glob, n, now_ms, 2 /* one-way */, t->delay);
	return n;
}

static uint8_t role_in_spec(const struct tree *tr, uint32_t site)
{
	uint8_t r = 0;

	for (size_t i = 0; i < tr->n_receivers; i++)
		r |= tr->receivers[i] == site ? ROLE_RECV : 0;
	for (size_t i = 0; i < tr->n_senders; i++)
		r |= tr->senders[i] == site ? ROLE_SEND : 0;
	return r;
}

static int solve(
	struct vnoc_trees *t, struct tree *tr, bool reoptimise, uint64_t now_ms, struct ver *out)
{
	uint32_t n = solve_prepare(t, tr, now_ms);
	uint32_t n_members = 0, n_sources = 0;
	struct vprn_solver_params p;
	struct vprn_solver_result r = { .parent = t->parent, .edges = t->edges, .edges_cap = n };
	int rc;

	for (int pass = 0; pass < 2; pass++) {
		const uint32_t *v = pass ? tr->senders : tr->receivers;
		size_t cnt = pass ? tr->n_senders : tr->n_receivers;

		for (size_t i = 0; i < cnt; i++) {
			uint32_t l = v[i] < t->dir.n_sites ? t->glob2loc[v[i]] : NO_SITE;

			if (l == NO_SITE)
				return -EINVAL;
			if (pass)
				t->sources[n_sources++] = l;
			if (!t->is_member[l]) {
				t->is_member[l] = 1;
				t->members[n_members++] = l;
			}
		}
	}
	vprn_solver_params_init(&p);
	p.n_sites = n;
	p.delay_us = t->delay;
	p.missing_estimate_us = 100000;
	p.members = t->members;
	p.n_members = n_members;
	p.sources = t->sources;
	p.n_sources = n_sources;
	p.max_degree = t->degree;
	p.relay_ok = t->relay;
	p.algo = algo_of(tr->kind);
	p.seed = tr->group ^ ((uint64_t)tr->source << 32);
	p.n_current = 0;
	for (size_t i = 0; i < tr->cur.n_edges; i++) {
		uint32_t a = t->glob2loc[tr->cur.edges[i][0]], b = t->glob2loc[tr->cur.edges[i][1]];

		if (a != NO_SITE && b != NO_SITE)
			t->current[p.n_current++] = (struct vprn_solver_edge){ a, b };
	}
	p.current = t->current;
	p.keep_bias_pct = t->conf.hysteresis_pct;
	rc = vprn_solver_solve(t->solver, &p, &r);
	if (rc != 0)
		return rc;
	/* hysteresis: same members, new tree must beat the current by the margin */
	if (reoptimise && r.current_objective >= 0 &&
		r.objective >= r.current_objective * (100.0 - t->conf.hysteresis_pct) / 100.0)
		return 0;
	out->n_edges = r.n_edges;
	for (uint32_t i = 0; i < r.n_edges; i++) {
		out->edges[i][0] = t->loc2glob[r.edges[i].a];
		out->edges[i][1] = t->loc2glob[r.edges[i].b];
	}
	out->n_nodes = 0;
	for (uint32_t l = 0; l < n; l++) {
		if (t->parent[l] == VPRN_SOLVER_NONE)
			continue;
		out->nodes[out->n_nodes] = t->loc2glob[l];
		out->roles[out->n_nodes++] = role_in_spec(tr, t->loc2glob[l]);
	}
	out->objective = r.objective;
	return 1;
}

/* ---- versions, views ---------------------------------------------------- */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_edge(const void *a, const void *b)
{
	const uint32_t *x = a, *y = b;

	return x[0] != y[0] ? cmp_u32(&x[0], &y[0]) : cmp_u32(&x[1], &y[1]);
}

static void ver_normalise(struct ver *v)
{
	for (size_t i = 0; i < v->n_edges; i++) {
		if (v->edges[i][0] > v->edges[i][1]) {
			uint32_t x = v->edges[i][0];

			v->edges[i][0] = v->edges[i][1];
			v->edges[i][1] = x;
		}
	}
	qsort(v->edges, v->n_edges, sizeof(v->edges[0]), cmp_edge);
}

static bool ver_equal(const struct ver *a, const struct ver *b)
{
	if (a->n_edges != b->n_edges || a->n_nodes != b->n_nodes)
		return false;
	if (memcmp(a->edges, b->edges, a->n_edges * sizeof(a->edges[0])) != 0)
		return false;
	for (size_t i = 0; i < a->n_nodes; i++) {
		size_t j = 0;

		while (j < b->n_nodes && b->nodes[j] != a->nodes[i])
			j++;
		if (j == b->n_nodes || b->roles[j] != a->roles[i])
			return false;
	}
	return true;
}

static int ver_node(const struct ver *v, uint32_t site)
{
	for (size_t i = 0; i < v->n_nodes; i++)
		if (v->nodes[i] == site)
			return (int)i;
	return -1;
}

static bool ver_has_edge(const struct ver *v, uint32_t a, uint32_t b)
{
	for (size_t i = 0; i < v->n_edges; i++)
		if ((v->edges[i][0] == a && v->edges[i][1] == b) ||
			(v->edges[i][0] == b && v->edges[i][1] == a))
			return true;
	return false;
}

/* Neighbours of @site in @v, sorted; returns the count. */
static size_t neighbours(const struct ver *v, uint32_t site, uint32_t *nb, size_t cap)
{
	size_t n = 0;

	for (size_t i = 0; i < v->n_edges && n < cap; i++) {
		if (v->edges[i][0] == site)
			nb[n++] = v->edges[i][1];
		else if (v->edges[i][1] == site)
			nb[n++] = v->edges[i][0];
	}
	qsort(nb, n, sizeof(*nb), cmp_u32);
	return n;
}

static struct view *view_get(struct tree *tr, uint32_t site, bool create)
{
	struct view *v;

	for (size_t i = 0; i < tr->n_views; i++)
		if (tr->views[i].site == site)
			return &tr->views[i];
	if (!create)
		return NULL;
	v = realloc(tr->views, (tr->n_views + 1) * sizeof(*v));
	if (v == NULL)
		return NULL;
	tr->views = v;
	v = &tr->views[tr->n_views++];
	memset(v, 0, sizeof(*v));
	v->site = site;
	return v;
}

/* The channel @from -> @to: the one of the version being built, else the closing one. */
static struct tchan *tchan_find(struct tree *tr, uint32_t from, uint32_t to)
{
	struct tchan *closing = NULL;

	for (size_t i = 0; i < tr->n_chans; i++) {
		if (tr->chans[i].from != from || tr->chans[i].to != to)
			continue;
		if (!tr->chans[i].closing)
			return &tr->chans[i];
		closing = &tr->chans[i];
	}
	return closing;
}

static uint32_t out_spi(struct tree *tr, uint32_t from, uint32_t to)
{
	struct tchan *c = tchan_find(tr, from, to);

	return c != NULL && c->ready ? c->spi : 0;
}

static bool flows(const struct ver *v, uint32_t a, uint32_t b);

static void send_tree_update(struct vnoc_trees *t, struct tree *tr, struct view *v, bool removed)
{
	struct vprn_neighbour nbs[VPRN_MSG_MAX_NEIGHBOURS];
	struct vprn_msg msg;
	struct vprn_tree_update *u = &msg.u.tree_update;
	uint32_t n = 0;

	vprn_msg_init(&msg, VPRN_MSG_TREE_UPDATE, 0);
	u->group = tr->group;
	u->source = tr->source;
	u->version = tr->version;
	u->kind = (enum vprn_tree_kind)tr->kind;
	u->sa_mode = (enum vprn_sa_mode)tr->sa.mode;
	u->transform = (enum vprn_transform)tr->sa.transform;
	u->removed = removed;
	u->grace_ms = t->conf.tree_grace_ms;
	if (!removed) {
		u->local_receivers = (v->role & ROLE_RECV) != 0;
		u->local_sender = (v->role & ROLE_SEND) != 0;
		for (size_t i = 0; i < v->n_nb && n < VPRN_MSG_MAX_NEIGHBOURS; i++) {
			struct vnoc_site_ref ref;

			if (!site_ref(t, v->nb[i], &ref))
				continue;
			memset(&nbs[n], 0, sizeof(nbs[n]));
			vprn_msg_strcpy(nbs[n].site, sizeof(nbs[n].site), ref.name);
			nbs[n].site_id = v->nb[i];
			nbs[n].wan_addr = ref.wan_addr;
			if (tr->sa.mode == VNOC_SA_PAIRWISE) {
				nbs[n].out_spi = out_spi(tr, v->site, v->nb[i]);
				nbs[n].in_spi = out_spi(tr, v->nb[i], v->site);
			}
			nbs[n].quiet = !flows(&tr->cur, v->nb[i], v->site);
			n++;
		}
		if (tr->sa.mode == VNOC_SA_GROUP && u->local_sender)
			u->group_out_spi = out_spi(tr, v->site, NO_SITE);
	}
	u->neighbours = nbs;
	u->n_neighbours = n;
	v->seq = 0;
	if (t->out.send(t->out.ctx, v->site, &msg) == 0 && !removed)
		v->seq = msg.seq;
}

static void send_keep_forwarding(struct vnoc_trees *t, struct tree *tr, uint32_t site, bool done)
{
	struct vprn_msg msg;

	vprn_msg_init(&msg, VPRN_MSG_KEEP_FORWARDING, 0);
	msg.u.keep_forwarding.group = tr->group;
	msg.u.keep_forwarding.source = tr->source;
	msg.u.keep_forwarding.until_version = tr->version;
	msg.u.keep_forwarding.timeout_ms = (uint32_t)t->conf.keep_forwarding_ms;
	msg.u.keep_forwarding.done = done;
	(void)t->out.send(t->out.ctx, site, &msg);
}

/* ---- channels ----------------------------------------------------------- */

static struct tchan *tchan_add(struct tree *tr, uint32_t from, uint32_t to)
{
	if (tr->n_chans == tr->cap_chans) {
		size_t cap = tr->cap_chans ? tr->cap_chans * 2 : 8;
		struct tchan *c = realloc(tr->chans, cap * sizeof(*c));

		if (c == NULL)
			return NULL;
		tr->chans = c;
		tr->cap_chans = cap;
	}
	memset(&tr->chans[tr->n_chans], 0, sizeof(tr->chans[0]));
	tr->chans[tr->n_chans].from = from;
	tr->chans[tr->n_chans].to = to;
	return &tr->chans[tr->n_chans++];
}

static void close_chan(struct vnoc_trees *t, struct tree *tr, size_t i, uint64_t now_ms);

/*
 * A channel whose sender never switched is closed and opened again at the
 * next staging; the sender's view is forgotten so that it hears its new SPI.
 */
static struct tchan *drop_failed(
	struct vnoc_trees *t, struct tree *tr, struct tchan *c, uint64_t now_ms)
{
	struct view *v;

	if (c == NULL || !c->failed)
		return c;
	v = view_get(tr, c->from, false);
	if (v != NULL)
		v->stale = true;
	close_chan(t, tr, (size_t)(c - tr->chans), now_ms);
	return NULL;
}

static int open_pairwise(struct vnoc_trees *t, struct tree *tr, uint32_t from, uint32_t to,
	bool fresh, uint64_t now_ms)
{
	struct tchan *c = drop_failed(t, tr, tchan_find(tr, from, to), now_ms);
	int64_t id;

	if (c != NULL && !c->closing)
		return 0;
	if (c != NULL && !fresh) {
		c->closing = false;
		return 0;
	}
	if (c != NULL) {
		/* both ends hear the new SPI even if their neighbours stay the same */
		struct view *v = view_get(tr, from, false);

		if (v != NULL)
			v->stale = true;
		v = view_get(tr, to, false);
		if (v != NULL)
			v->stale = true;
	}
	c = tchan_add(tr, from, to);
	if (c == NULL)
		return -ENOMEM;
	id = vnoc_keys_open(t->keys, tr->vpn, tr->group, from, &to, 1, &tr->sa, now_ms);
	if (id < 0) {
		tr->n_chans--;
		return (int)id;
	}
	c = tchan_find(tr, from, to); /* open may have called chan_ready already */
	c->chan = (uint32_t)id;
	return 0;
}

static bool in_list(const uint32_t *v, size_t n, uint32_t x)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] == x)
			return true;
	return false;
}

static int open_group(struct vnoc_trees *t, struct tree *tr, uint32_t sender, const struct ver *v,
	uint64_t now_ms)
{
	uint32_t *rx = calloc(v->n_nodes ? v->n_nodes : 1, sizeof(*rx));
	size_t n = 0;
	struct tchan *c;
	int64_t id;

	if (rx == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < v->n_nodes; i++)
		if ((v->roles[i] & ROLE_RECV) && v->nodes[i] != sender)
			rx[n++] = v->nodes[i];
	c = drop_failed(t, tr, tchan_find(tr, sender, NO_SITE), now_ms);
	if (c != NULL) {
		/* newcomers get the key; leavers lose theirs and trigger a rekey */
		for (size_t i = 0; i < n; i++)
			if (!in_list(c->rx, c->n_rx, rx[i]))
				(void)vnoc_keys_add_receiver(t->keys, c->chan, rx[i], now_ms);
		for (size_t i = 0; i < c->n_rx; i++)
			if (!in_list(rx, n, c->rx[i]))
				(void)vnoc_keys_remove_receiver(t->keys, c->chan, c->rx[i], now_ms);
		free(c->rx);
		c->rx = rx;
		c->n_rx = n;
		c->closing = false;
		return 0;
	}
	c = tchan_add(tr, sender, NO_SITE);
	if (c == NULL) {
		free(rx);
		return -ENOMEM;
	}
	c->rx = rx;
	c->n_rx = n;
	id = vnoc_keys_open(t->keys, tr->vpn, tr->group, sender, rx, n, &tr->sa, now_ms);
	c = tchan_find(tr, sender, NO_SITE);
	if (id < 0) {
		free(c->rx);
		*c = tr->chans[--tr->n_chans];
		return (int)id;
	}
	c->chan = (uint32_t)id;
	return 0;
}

static void close_chan(struct vnoc_trees *t, struct tree *tr, size_t i, uint64_t now_ms)
{
	(void)vnoc_keys_close(t->keys, tr->chans[i].chan, now_ms);
	free(tr->chans[i].rx);
	tr->chans[i] = tr->chans[--tr->n_chans];
}

/* Open what version @v needs; mark the rest closing (closed once settled). */
/*
 * Does traffic ever flow from @a to its neighbour @b? Only if a sender sits on
 * @a's side of the edge: walk the tree from @a without crossing to @b. A
 * direction nobody sends on gets no SA (fewer keys handed out, fewer installs).
 */
static bool flows(const struct ver *v, uint32_t a, uint32_t b)
{
	uint32_t stack[VPRN_MSG_MAX_NEIGHBOURS * 4], prev[VPRN_MSG_MAX_NEIGHBOURS * 4];
	size_t top = 0, steps = 0;

	stack[top] = a;
	prev[top++] = b;
	while (top > 0 && steps++ < v->n_nodes + 1) {
		uint32_t x = stack[--top], from = prev[top];
		int idx = ver_node(v, x);

		if (idx >= 0 && (v->roles[idx] & ROLE_SEND))
			return true;
		for (size_t i = 0; i < v->n_edges; i++) {
			uint32_t y = v->edges[i][0] == x   ? v->edges[i][1]
				     : v->edges[i][1] == x ? v->edges[i][0]
							   : UINT32_MAX;

			if (y == UINT32_MAX || y == from)
				continue;
			if (top == sizeof(stack) / sizeof(stack[0]))
				return true; /* too deep to tell: be safe, carry traffic */
			stack[top] = y;
			prev[top++] = x;
		}
	}
	return false;
}

/* Edges of @v on @b's side of the edge (@a, @b), sorted; the count, SIZE_MAX if too many. */
static size_t side_edges(
	const struct ver *v, uint32_t a, uint32_t b, uint32_t (*out)[2], size_t cap)
{
	uint32_t stack[VPRN_MSG_MAX_NEIGHBOURS * 4], prev[VPRN_MSG_MAX_NEIGHBOURS * 4];
	size_t top = 0, n = 0, steps = 0;

	stack[top] = b;
	prev[top++] = a;
	while (top > 0 && steps++ < v->n_nodes + 1) {
		uint32_t x = stack[--top], from = prev[top];

		for (size_t i = 0; i < v->n_edges; i++) {
			uint32_t y = v->edges[i][0] == x   ? v->edges[i][1]
				     : v->edges[i][1] == x ? v->edges[i][0]
							   : UINT32_MAX;

			if (y == UINT32_MAX || y == from)
				continue;
			if (n == cap || top == sizeof(stack) / sizeof(stack[0]))
				return SIZE_MAX; /* too deep to tell */
			out[n][0] = v->edges[i][0];
			out[n++][1] = v->edges[i][1];
			stack[top] = y;
			prev[top++] = x;
		}
	}
	qsort(out, n, sizeof(out[0]), cmp_edge);
	return n;
}

/*
 * Does the direction @a -> @b, kept from the current version with traffic on
 * it in both, need a new SA in @v? Yes when the tree beyond @b differs: an ED
 * there forwards a datagram of the previous tree (old SPI) on the previous
 * tree and one of the new tree (new SPI) on the new one (docs/dataplane.md,
 * "Tree change"). Otherwise both versions forward alike beyond @b and the
 * channel is kept (a leave or join elsewhere does not rekey it).
 */
static bool needs_fresh(const struct tree *tr, const struct ver *v, uint32_t a, uint32_t b)
{
	size_t cap = tr->cur.n_edges + v->n_edges + 1;
	uint32_t(*x)[2], (*y)[2];
	size_t nx, ny;
	bool differ;

	if (tr->cur.n_nodes == 0 || !ver_has_edge(&tr->cur, a, b) || !flows(&tr->cur, a, b))
		return false;
	x = calloc(cap, sizeof(*x));
	y = calloc(cap, sizeof(*y));
	if (x == NULL || y == NULL) {
		free(x);
		free(y);
		return true;
	}
	nx = side_edges(&tr->cur, a, b, x, cap);
	ny = side_edges(v, a, b, y, cap);
	differ = nx == SIZE_MAX || nx != ny || memcmp(x, y, nx * sizeof(*x)) != 0;
	free(x);
	free(y);
	return differ;
}

static int stage_chans(struct vnoc_trees *t, struct tree *tr, const struct ver *v, uint64_t now_ms)
{
	int rc = 0;

	for (size_t i = 0; i < tr->n_chans; i++)
		tr->chans[i].closing = true;
	if (tr->sa.mode == VNOC_SA_PAIRWISE) {
		for (size_t i = 0; i < v->n_edges && rc == 0; i++) {
			uint32_t a = v->edges[i][0], b = v->edges[i][1];

			if (flows(v, a, b))
				rc = open_pairwise(t, tr, a, b, needs_fresh(tr, v, a, b), now_ms);
			if (rc == 0 && flows(v, b, a))
				rc = open_pairwise(t, tr, b, a, needs_fresh(tr, v, b, a), now_ms);
		}
		return rc;
	}
	for (size_t i = 0; i < v->n_nodes && rc == 0; i++)
		if (v->roles[i] & ROLE_SEND)
			rc = open_group(t, tr, v->nodes[i], v, now_ms);
	return rc;
}

static bool chans_ready(const struct tree *tr)
{
	for (size_t i = 0; i < tr->n_chans; i++)
		if (!tr->chans[i].closing && !tr->chans[i].ready && !tr->chans[i].failed)
			return false;
	return true;
}

/* ---- commit and settle -------------------------------------------------- */

static void add_leaver(struct tree *tr, uint32_t site)
{
	uint32_t *l = realloc(tr->leavers, (tr->n_leavers + 1) * sizeof(*l));

	if (l == NULL)
		return; /* it will not be told "done": its keep-forwarding times out */
	tr->leavers = l;
	tr->leavers[tr->n_leavers++] = site;
}

static void settle(struct vnoc_trees *t, struct tree *tr, uint64_t now_ms);
static int run_update(struct vnoc_trees *t, struct tree *tr, bool reoptimise, uint64_t now_ms);

static void commit(struct vnoc_trees *t, struct tree *tr, uint64_t now_ms)
{
	uint32_t nb[VPRN_MSG_MAX_NEIGHBOURS];

	tr->version++;
	tr->staging = false;
	/* leavers: relays keep forwarding until the others have the new version */
	for (size_t i = 0; i < tr->n_views; i++) {
		struct view *v = &tr->views[i];

		if (!v->in_tree || ver_node(&tr->stg, v->site) >= 0)
			continue;
		v->in_tree = false;
		if (neighbours(&tr->cur, v->site, nb, VPRN_MSG_MAX_NEIGHBOURS) >= 2) {
			send_keep_forwarding(t, tr, v->site, false);
			add_leaver(tr, v->site);
		} else {
			send_tree_update(t, tr, v, true);
		}
	}
	ver_copy(&tr->cur, &tr->stg);
	for (size_t i = 0; i < tr->cur.n_nodes; i++) {
		struct view *v = view_get(tr, tr->cur.nodes[i], true);
		size_t n = neighbours(&tr->cur, tr->cur.nodes[i], nb, VPRN_MSG_MAX_NEIGHBOURS);
		uint32_t *copy;

		if (v == NULL)
			continue;
		if (v->in_tree && !v->stale && v->role == tr->cur.roles[i] && v->n_nb == n &&
			memcmp(v->nb, nb, n * sizeof(*nb)) == 0)
			continue; /* its part did not change: it hears nothing */
		v->stale = false;
		copy = malloc((n ? n : 1) * sizeof(*nb));
		if (copy == NULL)
			continue;
		memcpy(copy, nb, n * sizeof(*nb));
		free(v->nb);
		v->nb = copy;
		v->n_nb = n;
		v->role = tr->cur.roles[i];
		v->in_tree = true;
		send_tree_update(t, tr, v, false);
	}
	LOG_INFO("trees", "group %08x/%08x: version %llu, %zu nodes, %zu edges", tr->group,
		tr->source, (unsigned long long)tr->version, tr->cur.n_nodes, tr->cur.n_edges);
	tr->settling = true;
	tr->settle_deadline_ms = now_ms + t->conf.keep_forwarding_ms;
	settle(t, tr, now_ms);
}

static void settle(struct vnoc_trees *t, struct tree *tr, uint64_t now_ms)
{
	if (!tr->settling)
		return;
	if (now_ms < tr->settle_deadline_ms) {
		for (size_t i = 0; i < tr->n_views; i++)
			if (tr->views[i].in_tree && tr->views[i].seq != 0)
				return;
	}
	for (size_t i = 0; i < tr->n_leavers; i++) {
		struct view *v = view_get(tr, tr->leavers[i], false);

		send_keep_forwarding(t, tr, tr->leavers[i], true);
		if (v != NULL && !v->in_tree)
			send_tree_update(t, tr, v, true);
	}
	tr->n_leavers = 0;
	for (size_t i = 0; i < tr->n_chans;) {
		if (tr->chans[i].closing)
			close_chan(t, tr, i, now_ms);
		else
			i++;
	}
	for (size_t i = 0; i < tr->n_views;) {
		if (!tr->views[i].in_tree) {
			free(tr->views[i].nb);
			tr->views[i] = tr->views[--tr->n_views];
		} else {
			i++;
		}
	}
	tr->settling = false;
	if (tr->pending) {
		tr->pending = false;
		(void)run_update(t, tr, false, now_ms);
	}
}

static void teardown(struct vnoc_trees *t, size_t idx, uint64_t now_ms)
{
	struct tree *tr = t->trees[idx];

	tr->version++;
	for (size_t i = 0; i < tr->n_views; i++)
		send_tree_update(t, tr, &tr->views[i], true);
	while (tr->n_chans > 0)
		close_chan(t, tr, 0, now_ms);
	LOG_INFO("trees", "group %08x/%08x: torn down", tr->group, tr->source);
	tree_free(tr);
	t->trees[idx] = t->trees[--t->n_trees];
}

static bool any_failed(const struct tree *tr)
{
	for (size_t i = 0; i < tr->n_chans; i++)
		if (tr->chans[i].failed)
			return true;
	return false;
}

static int run_update(struct vnoc_trees *t, struct tree *tr, bool reoptimise, uint64_t now_ms)
{
	int rc;

	if (tr->staging || tr->settling) {
		tr->pending = true;
		return 0;
	}
	rc = solve(t, tr, reoptimise, now_ms, &tr->stg);
	if (rc <= 0) {
		if (rc < 0)
			LOG_WARN("trees", "group %08x: solver: %d, keeping version %llu", tr->group,
				rc, (unsigned long long)tr->version);
		return rc;
	}
	ver_normalise(&tr->stg);
	if (tr->cur.n_nodes > 0 && ver_equal(&tr->stg, &tr->cur) && !any_failed(tr))
		return 0;
	tr->staging = true;
	rc = stage_chans(t, tr, &tr->stg, now_ms);
	if (rc != 0)
		LOG_ERR("trees", "group %08x: cannot open SAs (%d)", tr->group, rc);
	if (chans_ready(tr))
		commit(t, tr, now_ms);
	return 1;
}

static int store_spec(struct tree *tr, const struct vnoc_tree_spec *spec)
{
	uint32_t *r = malloc((spec->n_receivers ? spec->n_receivers : 1) * sizeof(*r));
	uint32_t *s = malloc((spec->n_senders ? spec->n_senders : 1) * sizeof(*s));

	if (r == NULL || s == NULL) {
		free(r);
		free(s);
		return -ENOMEM;
	}
	memcpy(r, spec->receivers, spec->n_receivers * sizeof(*r));
	memcpy(s, spec->senders, spec->n_senders * sizeof(*s));
	free(tr->receivers);
	free(tr->senders);
	tr->receivers = r;
	tr->senders = s;
	tr->n_receivers = spec->n_receivers;
	tr->n_senders = spec->n_senders;
	tr->kind = spec->kind;
	tr->max_degree = spec->max_degree;
	/* SA parameters change only for new channels (the next rekey of old ones) */
	tr->sa = spec->sa;
	return 0;
}

static bool spec_viable(const struct vnoc_tree_spec *spec)
{
	/* a tree needs a sender and someone else to receive */
	for (size_t i = 0; i < spec->n_receivers; i++)
		for (size_t j = 0; j < spec->n_senders; j++)
			if (spec->receivers[i] != spec->senders[j])
				return true;
	return false;
}

static struct tree *tree_new(struct vnoc_trees *t, const struct vnoc_tree_spec *spec)
{
	struct tree *tr;

	if (t->n_trees == t->cap_trees) {
		size_t cap = t->cap_trees ? t->cap_trees * 2 : 16;
		struct tree **v = realloc(t->trees, cap * sizeof(*v));

		if (v == NULL)
			return NULL;
		t->trees = v;
		t->cap_trees = cap;
	}
	tr = calloc(1, sizeof(*tr));
	if (tr == NULL)
		return NULL;
	tr->vpn = spec->vpn;
	tr->group = spec->group;
	tr->source = spec->source;
	tr->version = t->conf.version_base;
	if (ver_alloc(&tr->cur, t->dir.n_sites + 1) != 0 ||
		ver_alloc(&tr->stg, t->dir.n_sites + 1) != 0) {
		tree_free(tr);
		return NULL;
	}
	t->trees[t->n_trees++] = tr;
	return tr;
}

int vnoc_trees_update(
	struct vnoc_trees *t, const struct vnoc_tree_spec *spec, bool reoptimise, uint64_t now_ms)
{
	size_t idx;
	struct tree *tr = tree_find(t, spec->vpn, spec->group, spec->source, &idx);

	if (!spec_viable(spec)) {
		if (tr != NULL)
			teardown(t, idx, now_ms);
		return 0;
	}
	if (tr == NULL && (tr = tree_new(t, spec)) == NULL)
		return -ENOMEM;
	if (store_spec(tr, spec) != 0)
		return -ENOMEM;
	return run_update(t, tr, reoptimise, now_ms);
}

/* ---- events ------------------------------------------------------------- */

static struct tree *tree_of_chan(struct vnoc_trees *t, uint32_t chan, struct tchan **c)
{
	for (size_t i = 0; i < t->n_trees; i++) {
		for (size_t k = 0; k < t->trees[i]->n_chans; k++) {
			if (t->trees[i]->chans[k].chan == chan) {
				*c = &t->trees[i]->chans[k];
				return t->trees[i];
			}
		}
	}
	return NULL;
}

void vnoc_trees_chan_ready(struct vnoc_trees *t, uint32_t chan, uint32_t spi, uint64_t now_ms)
{
	struct tchan *c;
	struct tree *tr = tree_of_chan(t, chan, &c);

	if (tr == NULL)
		return; /* vnoc_keys_open() has not returned yet: found by its caller */
	c->spi = spi;
	c->ready = true;
	if (tr->staging && chans_ready(tr))
		commit(t, tr, now_ms);
}

void vnoc_trees_chan_failed(struct vnoc_trees *t, uint32_t chan, uint32_t site, uint64_t now_ms)
{
	struct tchan *c;
	struct tree *tr = tree_of_chan(t, chan, &c);

	if (tr == NULL)
		return;
	if (site == c->from && !c->ready) {
		/* the sender never switched: the tree goes on without this SA */
		c->failed = true;
		if (tr->staging && chans_ready(tr))
			commit(t, tr, now_ms);
	}
}

int vnoc_trees_ack(struct vnoc_trees *t, uint32_t site, uint64_t ref_seq, uint64_t now_ms)
{
	for (size_t i = 0; i < t->n_trees; i++) {
		struct tree *tr = t->trees[i];
		struct view *v = view_get(tr, site, false);

		if (v == NULL || v->seq == 0 || v->seq != ref_seq)
			continue;
		v->seq = 0;
		settle(t, tr, now_ms);
		return 1;
	}
	return 0;
}

void vnoc_trees_site_reset(struct vnoc_trees *t, uint32_t site, uint64_t now_ms)
{
	(void)now_ms;
	for (size_t i = 0; i < t->n_trees; i++) {
		struct view *v = view_get(t->trees[i], site, false);

		if (v != NULL && v->in_tree)
			send_tree_update(t, t->trees[i], v, false);
	}
}

void vnoc_trees_poll(struct vnoc_trees *t, uint64_t now_ms)
{
	for (size_t i = 0; i < t->n_trees; i++)
		if (t->trees[i]->settling && now_ms >= t->trees[i]->settle_deadline_ms)
			settle(t, t->trees[i], now_ms);
}

uint64_t vnoc_trees_next_deadline(const struct vnoc_trees *t)
{
	uint64_t d = UINT64_MAX;

	for (size_t i = 0; i < t->n_trees; i++)
		if (t->trees[i]->settling && t->trees[i]->settle_deadline_ms < d)
			d = t->trees[i]->settle_deadline_ms;
	return d;
}

size_t vnoc_trees_for_each(const struct vnoc_trees *t, vnoc_tree_cb cb, void *ctx)
{
	for (size_t i = 0; i < t->n_trees; i++) {
		const struct tree *tr = t->trees[i];
		struct vnoc_tree_info ti = {
			.vpn = tr->vpn,
			.group = tr->group,
			.source = tr->source,
			.kind = tr->kind,
			.sa_mode = tr->sa.mode,
			.version = tr->version,
			.staging = tr->staging,
			.objective = tr->cur.objective,
			.edges = (const uint32_t(*)[2])tr->cur.edges,
			.n_edges = tr->cur.n_edges,
			.nodes = tr->cur.nodes,
			.roles = tr->cur.roles,
			.n_nodes = tr->cur.n_nodes,
		};

		cb(ctx, &ti);
	}
	return t->n_trees;
}

int vnoc_trees_dot(
	const struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source, FILE *f)
{
	const struct tree *tr = tree_find(t, vpn, group, source, NULL);
	static const char *const shape[] = { "ellipse", "box", "doubleoctagon", "doubleoctagon" };

	if (tr == NULL)
		return -ENOENT;
	fprintf(f, "graph \"%u.%u.%u.%u\" {\n\tlabel=\"group %u.%u.%u.%u version %llu\";\n",
		group >> 24, (group >> 16) & 0xff, (group >> 8) & 0xff, group & 0xff, group >> 24,
		(group >> 16) & 0xff, (group >> 8) & 0xff, group & 0xff,
		(unsigned long long)tr->version);
	for (size_t i = 0; i < tr->cur.n_nodes; i++) {
		struct vnoc_site_ref ref;

		if (site_ref(t, tr->cur.nodes[i], &ref))
			fprintf(f, "\t\"%s\" [shape=%s%s];\n", ref.name,
				shape[tr->cur.roles[i] & 3],
				tr->cur.roles[i] == 0 ? ", style=dashed" : "");
	}
	for (size_t i = 0; i < tr->cur.n_edges; i++) {
		struct vnoc_site_ref a, b;

		if (site_ref(t, tr->cur.edges[i][0], &a) && site_ref(t, tr->cur.edges[i][1], &b))
			fprintf(f, "\t\"%s\" -- \"%s\";\n", a.name, b.name);
	}
	fputs("}\n", f);
	return 0;
}

size_t vnoc_trees_count(const struct vnoc_trees *t)
{
	return t->n_trees;
}

bool vnoc_trees_has_edge(const struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source,
	uint32_t a, uint32_t b)
{
	const struct tree *tr = tree_find(t, vpn, group, source, NULL);

	return tr != NULL && ver_has_edge(&tr->cur, a, b);
}

int vnoc_trees_resend(
	struct vnoc_trees *t, uint32_t vpn, uint32_t group, uint32_t source, uint32_t site)
{
	struct tree *tr = tree_find(t, vpn, group, source, NULL);
	struct view *v = tr != NULL ? view_get(tr, site, false) : NULL;

	if (v == NULL || !v->in_tree)
		return -ENOENT;
	send_tree_update(t, tr, v, false);
	return v->seq != 0 ? 0 : -EIO;
}
