/* SPDX-License-Identifier: BSD-3-Clause */
/* Per-site expected installed state, StateDigest comparison and drift repair. */
#include "digest_track.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "common/digest.h"
#include "common/log.h"

#define PENDING_MAX 8192 /* per list per site: a site that never acks cannot grow it more */
#define REPAIRS_MAX 256	 /* actions per digest */

struct dsa {
	uint32_t spi;
	enum vprn_direction dir;
	uint64_t seq; /* pending: the SaInstall's seq */
};

struct dtree {
	struct vprn_installed_tree t;
	uint64_t seq; /* pending: the TreeUpdate's seq */
};

struct vec {
	void *v;
	size_t n, cap;
};

struct dsite {
	struct vec sa, psa; /* struct dsa: installed, pending */
	struct vec tr, ptr; /* struct dtree: installed (one per group), pending */
	uint64_t last_change_seq;
	struct vnoc_dtrack_site_info info;
};

struct vnoc_dtrack {
	struct vnoc_outbox out;
	struct vnoc_dtrack_repair rep;
	struct vnoc_dtrack_conf conf;
	uint64_t released_ms; /* start, or end of the startup hold (UINT64_MAX: holding) */
	struct dsite *sites;
	uint32_t n_sites;
};

static void *vec_push(struct vec *x, size_t sz)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 8;
		void *v = realloc(x->v, cap * sz);

		if (v == NULL)
			return NULL;
		x->v = v;
		x->cap = cap;
	}
	return (char *)x->v + sz * x->n++;
}

static void vec_del(struct vec *x, size_t i, size_t sz)
{
	memmove((char *)x->v + i * sz, (char *)x->v + (i + 1) * sz, (x->n - i - 1) * sz);
	x->n--;
}

#define SA(x) ((struct dsa *)(x)->v)
#define TR(x) ((struct dtree *)(x)->v)

struct vnoc_dtrack *vnoc_dtrack_create(uint32_t n_sites, const struct vnoc_outbox *out,
	const struct vnoc_dtrack_repair *repair, const struct vnoc_dtrack_conf *conf,
	uint64_t now_ms)
{
	struct vnoc_dtrack *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return NULL;
	d->sites = calloc(n_sites ? n_sites : 1, sizeof(*d->sites));
	if (d->sites == NULL) {
		free(d);
		return NULL;
	}
	d->n_sites = n_sites;
	d->out = *out;
	d->rep = *repair;
	d->conf = *conf;
	d->released_ms = now_ms;
	return d;
}

void vnoc_dtrack_destroy(struct vnoc_dtrack *d)
{
	if (d == NULL)
		return;
	for (uint32_t i = 0; i < d->n_sites; i++) {
		free(d->sites[i].sa.v);
		free(d->sites[i].psa.v);
		free(d->sites[i].tr.v);
		free(d->sites[i].ptr.v);
	}
	free(d->sites);
	free(d);
}

void vnoc_dtrack_set_conf(struct vnoc_dtrack *d, const struct vnoc_dtrack_conf *conf)
{
	d->conf = *conf;
}

static ssize_t sa_find(const struct vec *x, uint32_t spi, enum vprn_direction dir)
{
	for (size_t i = 0; i < x->n; i++)
		if (SA(x)[i].spi == spi && SA(x)[i].dir == dir)
			return (ssize_t)i;
	return -1;
}

static ssize_t tree_find(const struct vec *x, uint32_t group)
{
	for (size_t i = 0; i < x->n; i++)
		if (TR(x)[i].t.group == group)
			return (ssize_t)i;
	return -1;
}

static void sa_drop(struct vec *x, uint32_t spi, enum vprn_direction dir)
{
	ssize_t i;

	while ((i = sa_find(x, spi, dir)) >= 0)
		vec_del(x, (size_t)i, sizeof(struct dsa));
}

static void tree_drop(struct vec *x, uint32_t group)
{
	ssize_t i;

	while ((i = tree_find(x, group)) >= 0)
		vec_del(x, (size_t)i, sizeof(struct dtree));
}

/* What a message sent to @site (result @rc) does to the shadow. */
static void observe(struct vnoc_dtrack *d, uint32_t site, const struct vprn_msg *m, int rc)
{
	struct dsite *s = &d->sites[site];

	switch (m->type) {
	case VPRN_MSG_SA_INSTALL: {
		struct dsa *p;

		if (rc != 0)
			return;
		if (s->psa.n >= PENDING_MAX)
			vec_del(&s->psa, 0, sizeof(struct dsa));
		p = vec_push(&s->psa, sizeof(*p));
		if (p != NULL)
			*p = (struct dsa){ m->u.sa_install.spi, m->u.sa_install.direction, m->seq };
		break;
	}
	case VPRN_MSG_SA_REMOVE:
		/* no longer wanted, delivered or not */
		sa_drop(&s->sa, m->u.sa_remove.spi, m->u.sa_remove.direction);
		sa_drop(&s->psa, m->u.sa_remove.spi, m->u.sa_remove.direction);
		break;
	case VPRN_MSG_TREE_UPDATE: {
		const struct vprn_tree_update *u = &m->u.tree_update;
		struct dtree *p;

		if (u->removed) {
			tree_drop(&s->tr, u->group);
			tree_drop(&s->ptr, u->group);
			break;
		}
		if (rc != 0)
			return;
		if (s->ptr.n >= PENDING_MAX)
			vec_del(&s->ptr, 0, sizeof(struct dtree));
		p = vec_push(&s->ptr, sizeof(*p));
		if (p != NULL)
			*p = (struct dtree){ { u->group, u->source, u->version }, m->seq };
		break;
	}
	default:
		return;
	}
	if (rc == 0 && m->seq > s->last_change_seq)
		s->last_change_seq = m->seq;
}

static int track_send(void *ctx, uint32_t site, struct vprn_msg *msg)
{
	struct vnoc_dtrack *d = ctx;
	int rc = d->out.send(d->out.ctx, site, msg);

	if (site < d->n_sites)
		observe(d, site, msg, rc);
	return rc;
}

struct vnoc_outbox vnoc_dtrack_outbox(struct vnoc_dtrack *d)
{
	return (struct vnoc_outbox){ .send = track_send, .ctx = d };
}

void vnoc_dtrack_session(struct vnoc_dtrack *d, uint32_t site)
{
	struct dsite *s;

	if (site >= d->n_sites)
		return;
	s = &d->sites[site];
	s->psa.n = 0;
	s->ptr.n = 0;
	s->last_change_seq = 0;
	s->info.streak = 0;
	s->info.checked = false;
	s->info.in_sync = false;
}

void vnoc_dtrack_ack(struct vnoc_dtrack *d, uint32_t site, uint64_t ref_seq, bool ok)
{
	struct dsite *s;

	if (site >= d->n_sites || ref_seq == 0)
		return;
	s = &d->sites[site];
	for (size_t i = 0; i < s->psa.n; i++) {
		struct dsa a = SA(&s->psa)[i];

		if (a.seq != ref_seq)
			continue;
		vec_del(&s->psa, i, sizeof(struct dsa));
		if (ok && sa_find(&s->sa, a.spi, a.dir) < 0) {
			struct dsa *p = vec_push(&s->sa, sizeof(*p));

			if (p != NULL)
				*p = (struct dsa){ a.spi, a.dir, 0 };
		}
		return;
	}
	for (size_t i = 0; i < s->ptr.n; i++) {
		struct dtree t = TR(&s->ptr)[i];
		ssize_t k;

		if (t.seq != ref_seq)
			continue;
		vec_del(&s->ptr, i, sizeof(struct dtree));
		if (!ok)
			return;
		/* the ED keeps one tree per group: the newest acknowledged one */
		k = tree_find(&s->tr, t.t.group);
		if (k >= 0) {
			TR(&s->tr)[k].t = t.t;
		} else {
			struct dtree *p = vec_push(&s->tr, sizeof(*p));

			if (p != NULL)
				*p = (struct dtree){ t.t, 0 };
		}
		return;
	}
}

void vnoc_dtrack_hello(struct vnoc_dtrack *d, uint32_t site, const uint8_t *digest, uint32_t len)
{
	if (site >= d->n_sites || len != VPRN_STATE_DIGEST_LEN)
		return;
	memcpy(d->sites[site].info.ed, digest, len);
	d->sites[site].info.have_ed = true;
}

/* The installed shadow as lists (heap, canonical) and its digest. */
struct lists {
	struct vprn_installed_tree *t;
	uint32_t *in, *out;
	uint32_t nt, ni, no;
};

static void lists_free(struct lists *l)
{
	free(l->t);
	free(l->in);
	free(l->out);
}

static int expected(const struct dsite *s, struct lists *l, uint8_t digest[32])
{
	memset(l, 0, sizeof(*l));
	l->t = malloc((s->tr.n ? s->tr.n : 1) * sizeof(*l->t));
	l->in = malloc((s->sa.n ? s->sa.n : 1) * sizeof(uint32_t));
	l->out = malloc((s->sa.n ? s->sa.n : 1) * sizeof(uint32_t));
	if (l->t == NULL || l->in == NULL || l->out == NULL) {
		lists_free(l);
		return -ENOMEM;
	}
	for (size_t i = 0; i < s->tr.n; i++)
		l->t[l->nt++] = TR(&s->tr)[i].t;
	for (size_t i = 0; i < s->sa.n; i++) {
		if (SA(&s->sa)[i].dir == VPRN_DIR_INBOUND)
			l->in[l->ni++] = SA(&s->sa)[i].spi;
		else
			l->out[l->no++] = SA(&s->sa)[i].spi;
	}
	vprn_state_canon(l->t, &l->nt, l->in, &l->ni, l->out, &l->no);
	if (vprn_state_digest(l->t, l->nt, l->in, l->ni, l->out, l->no, digest) != 0) {
		lists_free(l);
		return -ENOMEM;
	}
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static bool has_spi(const uint32_t *v, uint32_t n, uint32_t spi)
{
	return n > 0 && bsearch(&spi, v, n, sizeof(*v), cmp_u32) != NULL;
}

static bool has_tree(const struct lists *l, const struct vprn_installed_tree *t, bool any_version)
{
	for (uint32_t i = 0; i < l->nt; i++)
		if (l->t[i].group == t->group &&
			(any_version ||
				(l->t[i].source == t->source && l->t[i].version == t->version)))
			return true;
	return false;
}

static const char *site_name(const struct vnoc_dtrack *d, uint32_t site)
{
	const char *n = d->rep.name != NULL ? d->rep.name(d->rep.ctx, site) : NULL;

	return n != NULL ? n : "?";
}

static const char *dir_name(enum vprn_direction dir)
{
	return dir == VPRN_DIR_INBOUND ? "inbound" : "outbound";
}

static bool send_checked(struct vnoc_dtrack *d, uint32_t site, struct vprn_msg *m)
{
	const char *why;

	m->version = VPRN_PROTOCOL_VERSION;
	m->seq = 1; /* the session sets the real one */
	if (vprn_msg_validate(m, &why) != 0)
		return false; /* e.g. an SPI < 256 or a unicast "group" in a garbage list */
	return track_send(d, site, m) == 0;
}

/* Unknown state is removed only once the VNOC has rebuilt its own (start-up window). */
static bool removal_allowed(struct vnoc_dtrack *d, uint64_t now_ms)
{
	if (d->rep.holding != NULL && d->rep.holding(d->rep.ctx)) {
		d->released_ms = UINT64_MAX;
		return false;
	}
	if (d->released_ms == UINT64_MAX)
		d->released_ms = now_ms;
	return now_ms >= d->released_ms + d->conf.startup_ms;
}

/* What the site lacks is sent again; what it should not have is removed. */
static unsigned int repair(struct vnoc_dtrack *d, uint32_t site, const struct lists *want,
	const struct lists *have, uint64_t now_ms, unsigned int *forgot)
{
	struct dsite *s = &d->sites[site];
	const char *name = site_name(d, site);
	bool may_remove = removal_allowed(d, now_ms);
	unsigned int n = 0;
	struct vprn_msg m;

	for (uint32_t i = 0; i < want->nt && n < REPAIRS_MAX; i++) {
		int rc;

		if (has_tree(have, &want->t[i], false) || d->rep.resend_tree == NULL)
			continue;
		rc = d->rep.resend_tree(d->rep.ctx, site, want->t[i].group, want->t[i].source);
		if (rc == -ENOENT) {
			/* the trees module no longer puts the site in it: nothing to expect */
			tree_drop(&s->tr, want->t[i].group);
			(*forgot)++;
		}
		if (rc != 0)
			continue;
		n++;
		LOG_INFO("digest", "site %s: repair: TreeUpdate %08x/%08x version %llu sent again",
			name, want->t[i].group, want->t[i].source,
			(unsigned long long)want->t[i].version);
	}
	for (int pass = 0; pass < 2; pass++) {
		enum vprn_direction dir = pass == 0 ? VPRN_DIR_INBOUND : VPRN_DIR_OUTBOUND;
		const uint32_t *w = pass == 0 ? want->in : want->out;
		const uint32_t *h = pass == 0 ? have->in : have->out;
		uint32_t nw = pass == 0 ? want->ni : want->no, nh = pass == 0 ? have->ni : have->no;

		for (uint32_t i = 0; i < nw && n < REPAIRS_MAX; i++) {
			int rc;

			if (has_spi(h, nh, w[i]) || d->rep.resend_sa == NULL)
				continue;
			rc = d->rep.resend_sa(d->rep.ctx, site, w[i], dir);
			if (rc == -ENOENT) {
				/* no generation of any channel holds it (e.g. hard lifetime) */
				sa_drop(&s->sa, w[i], dir);
				(*forgot)++;
			}
			if (rc != 0)
				continue;
			n++;
			LOG_INFO("digest",
				"site %s: repair: SaInstall %s SPI 0x%08x sent again (missing)",
				name, dir_name(dir), w[i]);
		}
		for (uint32_t i = 0; i < nh && n < REPAIRS_MAX && may_remove; i++) {
			if (has_spi(w, nw, h[i]) || sa_find(&s->psa, h[i], dir) >= 0)
				continue;
			vprn_msg_init(&m, VPRN_MSG_SA_REMOVE, 0);
			m.u.sa_remove.spi = h[i];
			m.u.sa_remove.direction = dir;
			m.u.sa_remove.grace_ms = d->conf.stale_sa_grace_ms;
			if (!send_checked(d, site, &m))
				continue;
			n++;
			LOG_INFO("digest",
				"site %s: repair: SaRemove %s SPI 0x%08x (unknown to the VNOC)",
				name, dir_name(dir), h[i]);
		}
	}
	for (uint32_t i = 0; i < have->nt && n < REPAIRS_MAX && may_remove; i++) {
		const struct vprn_installed_tree *t = &have->t[i];

		if (has_tree(want, t, true) || tree_find(&s->ptr, t->group) >= 0 ||
			(i > 0 && have->t[i - 1].group == t->group))
			continue;
		vprn_msg_init(&m, VPRN_MSG_TREE_UPDATE, 0);
		m.u.tree_update.group = t->group;
		m.u.tree_update.source = t->source;
		m.u.tree_update.version = t->version != 0 ? t->version : 1;
		m.u.tree_update.removed = true;
		m.u.tree_update.grace_ms = d->conf.stale_tree_grace_ms;
		if (!send_checked(d, site, &m))
			continue;
		n++;
		LOG_INFO("digest",
			"site %s: repair: TreeUpdate %08x/%08x removed (unknown to the VNOC)", name,
			t->group, t->source);
	}
	return n;
}

void vnoc_dtrack_report(
	struct vnoc_dtrack *d, uint32_t site, const struct vprn_digest *dg, uint64_t now_ms)
{
	struct dsite *s;
	struct lists want, have = { 0 };
	uint8_t exp[VPRN_STATE_DIGEST_LEN];
	unsigned int n, forgot = 0;

	if (site >= d->n_sites)
		return;
	s = &d->sites[site];
	s->info.digests++;
	memset(s->info.ed, 0, sizeof(s->info.ed));
	memcpy(s->info.ed, dg->digest, dg->digest_len <= 32 ? dg->digest_len : 32);
	s->info.have_ed = true;
	/* only a digest computed after every change sent in this session tells */
	if (dg->vnoc_seq < s->last_change_seq)
		return;
	/* what the ED applied without acknowledging was not installed */
	for (size_t i = 0; i < s->psa.n;)
		if (SA(&s->psa)[i].seq <= dg->vnoc_seq)
			vec_del(&s->psa, i, sizeof(struct dsa));
		else
			i++;
	for (size_t i = 0; i < s->ptr.n;)
		if (TR(&s->ptr)[i].seq <= dg->vnoc_seq)
			vec_del(&s->ptr, i, sizeof(struct dtree));
		else
			i++;
	if (expected(s, &want, exp) != 0)
		return;
	s->info.compared++;
	s->info.checked = true;
	if (dg->digest_len == VPRN_STATE_DIGEST_LEN && memcmp(dg->digest, exp, sizeof(exp)) == 0) {
		s->info.in_sync = true;
		s->info.streak = 0;
		lists_free(&want);
		return;
	}
	s->info.in_sync = false;
	s->info.mismatches++;
	if (++s->info.streak < 2) {
		LOG_INFO("digest",
			"site %s: state digest differs from the expected one (%u trees, "
			"%u+%u SPIs expected; reported %u trees, %u+%u SPIs)",
			site_name(d, site), want.nt, want.ni, want.no, dg->n_trees,
			dg->n_inbound_spis, dg->n_outbound_spis);
		lists_free(&want);
		return;
	}
	/* the ED's lists are untrusted: canonical copies (bounded by the decoder) */
	have.nt = dg->n_trees;
	have.ni = dg->n_inbound_spis;
	have.no = dg->n_outbound_spis;
	have.t = malloc((have.nt ? have.nt : 1) * sizeof(*have.t));
	have.in = malloc((have.ni ? have.ni : 1) * sizeof(uint32_t));
	have.out = malloc((have.no ? have.no : 1) * sizeof(uint32_t));
	if (have.t != NULL && have.in != NULL && have.out != NULL) {
		if (have.nt > 0)
			memcpy(have.t, dg->trees, have.nt * sizeof(*have.t));
		if (have.ni > 0)
			memcpy(have.in, dg->inbound_spis, have.ni * sizeof(uint32_t));
		if (have.no > 0)
			memcpy(have.out, dg->outbound_spis, have.no * sizeof(uint32_t));
		vprn_state_canon(have.t, &have.nt, have.in, &have.ni, have.out, &have.no);
		n = repair(d, site, &want, &have, now_ms, &forgot);
		s->info.repairs += n;
		if (n > 0 || forgot > 0)
			s->info.streak = 0;
	}
	lists_free(&have);
	lists_free(&want);
}

int vnoc_dtrack_site(const struct vnoc_dtrack *d, uint32_t site, struct vnoc_dtrack_site_info *out)
{
	const struct dsite *s;
	struct lists l;

	if (site >= d->n_sites)
		return -ENOENT;
	s = &d->sites[site];
	*out = s->info;
	if (expected(s, &l, out->exp) == 0) {
		out->n_trees = l.nt;
		out->n_in = l.ni;
		out->n_out = l.no;
		lists_free(&l);
	}
	return 0;
}

void vnoc_dtrack_site_json(const struct vnoc_dtrack *d, uint32_t site, struct vprn_json *j)
{
	struct vnoc_dtrack_site_info i;
	char hex[2 * VPRN_STATE_DIGEST_LEN + 1];

	if (vnoc_dtrack_site(d, site, &i) != 0)
		return;
	vprn_json_kv_bool(j, "in_sync", i.in_sync);
	vprn_json_kv_bool(j, "digest_checked", i.checked);
	vprn_json_kv_str(j, "digest_ed", i.have_ed ? vprn_digest_hex(i.ed, 32, hex) : "");
	vprn_json_kv_str(j, "digest_expected", vprn_digest_hex(i.exp, 32, hex));
	vprn_json_kv_u64(j, "expected_trees", i.n_trees);
	vprn_json_kv_u64(j, "expected_inbound_spis", i.n_in);
	vprn_json_kv_u64(j, "expected_outbound_spis", i.n_out);
	vprn_json_kv_u64(j, "digests", i.digests);
	vprn_json_kv_u64(j, "digest_mismatch", i.mismatches);
	vprn_json_kv_u64(j, "repairs", i.repairs);
}
