/* SPDX-License-Identifier: BSD-3-Clause */
#include "core_priv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/log.h"

#define SPI_BLOCK 1024 /* SPIs reserved per database write */

/* ---- plumbing between the modules --------------------------------------- */

static bool site_ref(void *ctx, uint32_t site, struct vnoc_site_ref *out)
{
	const struct vnoc_core *c = ctx;

	if (site >= c->n_sites)
		return false;
	out->name = c->sites[site].name;
	out->wan_addr = c->sites[site].wan;
	out->vpn = c->sites[site].vpn;
	out->max_degree = c->sites[site].max_degree;
	/* a Steiner relay must be there: not down, not leaving (Bye) */
	out->relay = c->sites[site].relay && c->sites[site].up && !c->sites[site].said_bye;
	return true;
}

static void on_chan_ready(void *ctx, uint32_t chan, uint32_t spi, uint64_t generation)
{
	struct vnoc_core *c = ctx;

	(void)generation;
	vnoc_trees_chan_ready(c->trees, chan, spi, core_now(c));
}

static void on_site_failed(void *ctx, uint32_t chan, uint32_t site)
{
	struct vnoc_core *c = ctx;

	LOG_WARN("core", "site %s failed to install an SA of channel %u",
		site < c->n_sites ? c->sites[site].name : "?", chan);
	vnoc_trees_chan_failed(c->trees, chan, site, core_now(c));
}

static int spi_reserve(void *ctx, uint32_t high_water)
{
	struct vnoc_core *c = ctx;

	return c->db != NULL ? vnoc_db_spi_set(c->db, high_water) : 0;
}

static void conf_of(const struct vnoc_policy *p, struct vnoc_keys_conf *k,
	struct vnoc_trees_conf *t, struct vnoc_metrics_conf *m)
{
	*k = (struct vnoc_keys_conf){ .ack_timeout_ms = (uint64_t)p->conf.ack_timeout_ms,
		.ack_retries = (uint32_t)p->conf.ack_retries,
		.retire_grace_ms = (uint64_t)p->conf.retire_grace_ms };
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts); /* see vnoc_trees_conf.version_base */
	*t = (struct vnoc_trees_conf){ .version_base = (uint64_t)ts.tv_sec * 1000 +
						       (uint64_t)ts.tv_nsec / 1000000,
		.hysteresis_pct = (uint32_t)p->conf.hysteresis_pct,
		.keep_forwarding_ms = (uint64_t)p->conf.keep_forwarding_ms,
		.tree_grace_ms = (uint32_t)p->conf.tree_grace_ms };
	*m = (struct vnoc_metrics_conf){ .alpha_pct = (uint32_t)p->conf.metrics_alpha_pct,
		.stale_ms = (uint64_t)p->conf.metrics_stale_ms,
		.default_rtt_us = (uint32_t)p->conf.metrics_default_rtt_us };
}

static int load_sites(struct vnoc_core *c, const struct vnoc_policy *p)
{
	size_t n = 0;

	for (size_t v = 0; v < p->n_vpns; v++)
		n += p->vpns[v].n_sites;
	c->sites = calloc(n ? n : 1, sizeof(*c->sites));
	if (c->sites == NULL)
		return -ENOMEM;
	for (size_t v = 0; v < p->n_vpns; v++) {
		const struct vnoc_vpn_policy *vp = &p->vpns[v];

		for (size_t i = 0; i < vp->n_sites; i++) {
			struct core_site *s = &c->sites[c->n_sites++];

			memcpy(s->name, vp->sites[i], sizeof(s->name));
			s->vpn = (uint32_t)v;
			s->idx = (uint32_t)i;
			s->wan = vp->site_wan[i];
			s->max_degree = vp->site_max_degree[i];
			s->relay = vp->site_relay[i];
		}
	}
	return 0;
}

/* ---- drift repair (digest_track.h) ---------------------------------------- */

static int dt_resend_sa(void *ctx, uint32_t site, uint32_t spi, enum vprn_direction dir)
{
	struct vnoc_core *c = ctx;

	return vnoc_keys_resend(c->keys, site, spi, dir);
}

static int dt_resend_tree(void *ctx, uint32_t site, uint32_t group, uint32_t source)
{
	struct vnoc_core *c = ctx;

	return vnoc_trees_resend(c->trees, c->sites[site].vpn, group, source, site);
}

static const char *dt_name(void *ctx, uint32_t site)
{
	const struct vnoc_core *c = ctx;

	return site < c->n_sites ? c->sites[site].name : NULL;
}

static bool dt_holding(void *ctx)
{
	const struct vnoc_core *c = ctx;

	return c->holding;
}

static struct vnoc_dtrack_conf dt_conf(const struct vnoc_core *c, const struct vnoc_policy *p)
{
	/* no removals before the startup hold is over and the first trees are up */
	uint64_t quiet =
		c->digest_quiet_ms != 0 ? c->digest_quiet_ms : (uint64_t)p->conf.hold_time_ms;

	return (struct vnoc_dtrack_conf){ .startup_ms = quiet,
		.stale_sa_grace_ms = (uint32_t)p->conf.retire_grace_ms,
		.stale_tree_grace_ms = (uint32_t)p->conf.tree_grace_ms };
}

void core_dtrack_reconf(struct vnoc_core *c)
{
	struct vnoc_dtrack_conf dc = dt_conf(c, c->pol);

	vnoc_dtrack_set_conf(c->dtrack, &dc);
}

/* Modules send through the tracker, which keeps each site's expected state. */
static int dtrack_start(struct vnoc_core *c)
{
	struct vnoc_dtrack_repair rep = { dt_resend_sa, dt_resend_tree, dt_name, dt_holding, c };
	struct vnoc_dtrack_conf conf = dt_conf(c, c->pol);

	c->dtrack = vnoc_dtrack_create(c->n_sites, &c->out, &rep, &conf, core_now(c));
	if (c->dtrack == NULL)
		return -ENOMEM;
	c->out = vnoc_dtrack_outbox(c->dtrack);
	return 0;
}

void vnoc_core_hello_digest(struct vnoc_core *c, uint32_t site, const uint8_t *d, uint32_t len)
{
	vnoc_dtrack_hello(c->dtrack, site, d, len);
}

void vnoc_core_site_json(const struct vnoc_core *c, uint32_t site, struct vprn_json *j)
{
	if (c != NULL && site < c->n_sites)
		vnoc_dtrack_site_json(c->dtrack, site, j);
}

static void edit_cb(
	void *ctx, const char *vpn, const char *group, const char *key, const char *value);
static struct vnoc_policy *load_policy(
	struct vnoc_core *c, const char *path, struct vnoc_policy_err *perr);
static void adopt(struct vnoc_core *c, struct vnoc_policy *np);
static int build_name_index(struct vnoc_core *c);

struct vnoc_core *vnoc_core_create(const struct vnoc_core_params *p)
{
	struct vnoc_core *c = calloc(1, sizeof(*c));
	struct vnoc_keys_conf kc;
	struct vnoc_trees_conf tc;
	struct vnoc_metrics_conf mc;
	uint32_t hw = 0;

	if (c == NULL) {
		vnoc_policy_free(p->policy);
		return NULL;
	}
	c->pol = p->policy;
	c->clock = p->clock;
	c->out = p->out;
	if (p->config_path != NULL)
		snprintf(c->config_path, sizeof(c->config_path), "%s", p->config_path);
	if (c->pol == NULL || load_sites(c, c->pol) != 0 || c->n_sites == 0 ||
		build_name_index(c) != 0 || dtrack_start(c) != 0 ||
		RAND_bytes(c->probe_secret, sizeof(c->probe_secret)) != 1)
		goto fail;
	if (p->db_path != NULL) {
		c->db = vnoc_db_open(p->db_path);
		if (c->db == NULL || vnoc_db_spi_get(c->db, &hw) != 0)
			goto fail;
	}
	if (hw < VNOC_SPI_MIN)
		hw = VNOC_SPI_MIN; /* fresh database */
	conf_of(c->pol, &kc, &tc, &mc);
	c->members = vnoc_members_create(
		(uint64_t)c->pol->conf.hold_time_ms, (uint64_t)c->pol->conf.debounce_ms);
	c->metrics = vnoc_metrics_create(c->n_sites, &mc);
	c->spis = vnoc_spi_create(hw, SPI_BLOCK, spi_reserve, c);
	{
		struct vnoc_keys_events ev = { on_chan_ready, on_site_failed, site_ref, c };
		struct vnoc_site_dir dir = { site_ref, c->n_sites, c };

		c->keys = vnoc_keys_create(&kc, c->spis, &c->out, &ev);
		c->trees = vnoc_trees_create(&tc, c->keys, c->metrics, &c->out, &dir);
	}
	if (c->members == NULL || c->metrics == NULL || c->spis == NULL || c->keys == NULL ||
		c->trees == NULL)
		goto fail;
	if (c->db != NULL && vnoc_db_policy_edits(c->db, edit_cb, c) > 0 && c->config_path[0]) {
		struct vnoc_policy_err perr = { .text = NULL };
		struct vnoc_policy *np = load_policy(c, c->config_path, &perr);

		/* the file changed under stored edits: run on the file alone, loudly */
		if (np == NULL)
			LOG_ERR("core", "runtime policy edits no longer apply: %s", perr.msg);
		else
			adopt(c, np);
	}
	c->next_reopt_ms = core_now(c) + (uint64_t)c->pol->conf.reoptimise_interval_ms;
	LOG_INFO("core", "%u sites, SPIs from 0x%08x, database %s", c->n_sites, hw,
		p->db_path ? p->db_path : "(none)");
	if (core_startup_init(c) != 0)
		goto fail;
	return c;
fail:
	vnoc_core_destroy(c);
	return NULL;
}

void vnoc_core_destroy(struct vnoc_core *c)
{
	if (c == NULL)
		return;
	vnoc_trees_destroy(c->trees);
	vnoc_keys_destroy(c->keys);
	vnoc_dtrack_destroy(c->dtrack);
	vnoc_spi_destroy(c->spis);
	vnoc_metrics_destroy(c->metrics);
	vnoc_members_destroy(c->members);
	vnoc_db_close(c->db);
	vnoc_policy_free(c->pol);
	for (size_t i = 0; i < c->n_edits; i++) {
		free((char *)c->edits[i].vpn);
		free((char *)c->edits[i].group);
		free((char *)c->edits[i].key);
		free((char *)c->edits[i].value);
	}
	free(c->edits);
	free(c->name_index);
	free(c->sites);
	OPENSSL_cleanse(c->probe_secret, sizeof(c->probe_secret));
	free(c);
}

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	while (*s != '\0')
		h = (h ^ (uint8_t)*s++) * 16777619u;
	return h;
}

/* Open addressing, twice the sites: metrics reports name hundreds of peers. */
static int build_name_index(struct vnoc_core *c)
{
	c->name_slots = 2 * c->n_sites + 1;
	c->name_index = malloc(c->name_slots * sizeof(*c->name_index));
	if (c->name_index == NULL)
		return -ENOMEM;
	memset(c->name_index, 0xff, c->name_slots * sizeof(*c->name_index));
	for (uint32_t i = 0; i < c->n_sites; i++) {
		uint32_t h = name_hash(c->sites[i].name) % c->name_slots;

		while (c->name_index[h] != UINT32_MAX)
			h = (h + 1) % c->name_slots;
		c->name_index[h] = i;
	}
	return 0;
}

int vnoc_core_site_id(const struct vnoc_core *c, const char *name)
{
	uint32_t h = name_hash(name) % c->name_slots;

	for (; c->name_index[h] != UINT32_MAX; h = (h + 1) % c->name_slots)
		if (strcmp(c->sites[c->name_index[h]].name, name) == 0)
			return (int)c->name_index[h];
	return -ENOENT;
}

uint32_t vnoc_core_n_sites(const struct vnoc_core *c)
{
	return c->n_sites;
}

const struct vnoc_core_counters *vnoc_core_counters(const struct vnoc_core *c)
{
	return &c->cnt;
}

const struct vnoc_policy *vnoc_core_policy(const struct vnoc_core *c)
{
	return c->pol;
}

void vnoc_core_probe_key(const struct vnoc_core *c, uint32_t a, uint32_t b, uint8_t key[32])
{
	uint8_t in[32 + 8];
	uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
	unsigned int len = 32;

	/* both ends of a pair get the same key; another pair's key says nothing about it */
	memcpy(in, c->probe_secret, 32);
	memcpy(in + 32, &lo, 4);
	memcpy(in + 36, &hi, 4);
	if (EVP_Digest(in, sizeof(in), key, &len, EVP_sha256(), NULL) != 1)
		memset(key, 0, 32);
	OPENSSL_cleanse(in, sizeof(in));
}

struct dirty_ctx {
	struct vnoc_core *c;
	uint32_t site;
};

static void dirty_site_cb(void *ctx, const struct vnoc_member *m)
{
	struct dirty_ctx *d = ctx;

	if (m->site == d->site)
		(void)vnoc_members_mark_dirty(d->c->members, m->vpn, m->group, core_now(d->c));
}

void vnoc_core_site_up(struct vnoc_core *c, uint32_t site)
{
	struct dirty_ctx d = { c, site };

	uint64_t now = core_now(c);

	if (site >= c->n_sites)
		return;
	c->sites[site].up = true;
	c->sites[site].last_seen_ms = now;
	vnoc_dtrack_session(c->dtrack, site);
	/* a reconnecting ED resynchronises completely: its SAs and tree parts again */
	vnoc_keys_site_reset(c->keys, site, now);
	vnoc_trees_site_reset(c->trees, site, now);
	/* its groups are looked at again: SAs that failed with it are retried */
	vnoc_members_for_each(c->members, dirty_site_cb, &d);
	core_startup_site_up(c, site);
}

void vnoc_core_site_down(struct vnoc_core *c, uint32_t site)
{
	if (site >= c->n_sites)
		return;
	c->sites[site].up = false;
	vnoc_dtrack_session(c->dtrack, site);
	core_startup_site_down(c, site);
}

bool vnoc_core_holding(const struct vnoc_core *c)
{
	return c->holding;
}

/* ---- membership ---------------------------------------------------------- */

static void account(struct vnoc_core *c, enum vnoc_acct_event ev, uint32_t site, uint32_t group,
	int role, int reason, const char *text)
{
	struct vnoc_acct a = { ev, c->pol->vpns[c->sites[site].vpn].name, c->sites[site].name,
		group, role, reason, text };

	if (c->db != NULL && vnoc_db_account(c->db, &a) != 0)
		LOG_ERR("core", "accounting write failed (%s %s)", vnoc_acct_event_name(ev),
			c->sites[site].name);
}

static void send_join_result(struct vnoc_core *c, uint32_t site, const struct vprn_membership *m,
	enum vnoc_refuse r, const char *text)
{
	struct vprn_msg msg;

	vprn_msg_init(&msg, VPRN_MSG_JOIN_RESULT, 0);
	msg.u.join_result.m = *m;
	msg.u.join_result.granted = r == VNOC_GRANTED;
	msg.u.join_result.reason = (enum vprn_refuse_reason)r;
	vprn_msg_strcpy(msg.u.join_result.text, sizeof(msg.u.join_result.text), text);
	(void)c->out.send(c->out.ctx, site, &msg);
}

static void send_ack(struct vnoc_core *c, uint32_t site, uint64_t ref_seq)
{
	struct vprn_msg msg;

	vprn_msg_init(&msg, VPRN_MSG_ACK, 0);
	msg.u.ack.ref_seq = ref_seq;
	msg.u.ack.status = VPRN_ACK_OK;
	(void)c->out.send(c->out.ctx, site, &msg);
}

static struct vnoc_member member_of(
	const struct vnoc_core *c, uint32_t site, const struct vprn_membership *m)
{
	struct vnoc_member x = { .site = site,
		.vpn = c->sites[site].vpn,
		.group = m->group,
		.role = (uint8_t)m->role,
		.filter = (uint8_t)m->filter_mode };
	uint32_t n = m->n_sources < VNOC_MAX_SOURCES ? m->n_sources : VNOC_MAX_SOURCES;

	x.n_sources = (uint8_t)n;
	memcpy(x.sources, m->sources, n * sizeof(x.sources[0]));
	return x;
}

/*
 * Check and apply one membership (join, or one entry of a refresh).
 * @explicit: a Join message (always answered and accounted); a refresh entry
 * is answered only when new or refused.
 */
static void apply_membership(
	struct vnoc_core *c, uint32_t site, const struct vprn_membership *m, bool explicit_join)
{
	uint64_t now = core_now(c);
	struct vnoc_member x = member_of(c, site, m);
	struct vnoc_join_req req = { m->group, (int)m->role, (int)m->filter_mode, m->sources,
		m->n_sources };
	char text[VPRN_TEXT_MAX];
	enum vnoc_refuse r;
	int rc;

	r = vnoc_policy_check_join(c->pol, x.vpn, c->sites[site].idx, &req, text, sizeof(text));
	/* the limit counts (a full scan) only for memberships not yet held */
	if (r == VNOC_GRANTED &&
		vnoc_members_get(c->members, site, m->group, (uint8_t)m->role) == NULL &&
		vnoc_members_count_site(c->members, site) >=
			(size_t)c->pol->conf.max_groups_per_site) {
		r = VNOC_REFUSE_OVERLOADED;
		snprintf(text, sizeof(text), "more than %lld memberships",
			(long long)c->pol->conf.max_groups_per_site);
	}
	if (r != VNOC_GRANTED) {
		c->cnt.refusals++;
		/* a refused membership gets no tree entry and no key; a stale one goes */
		if (vnoc_members_leave(c->members, site, m->group, (uint8_t)m->role, now) == 0)
			account(c, VNOC_ACCT_LEAVE, site, m->group, (int)m->role, 0,
				"revoked by policy");
		send_join_result(c, site, m, r, text);
		if (explicit_join || now - c->sites[site].last_refusal_acct_ms >=
					     (uint64_t)c->pol->conf.hold_time_ms) {
			c->sites[site].last_refusal_acct_ms = now;
			account(c, VNOC_ACCT_REFUSE, site, m->group, (int)m->role, (int)r, text);
		}
		LOG_INFO("core", "site %s %s %08x refused: %s", c->sites[site].name,
			vnoc_role_name((enum vnoc_role)m->role), m->group, text);
		return;
	}
	rc = vnoc_members_join(c->members, &x, now);
	if (rc < 0) {
		LOG_ERR("core", "membership of %s: %d", c->sites[site].name, rc);
		return;
	}
	if (explicit_join || rc == 1) {
		send_join_result(c, site, m, VNOC_GRANTED, text);
		if (rc == 1) {
			c->cnt.joins++;
			account(c, VNOC_ACCT_GRANT, site, m->group, (int)m->role, 0, text);
		}
	}
}

static void on_leave(struct vnoc_core *c, uint32_t site, const struct vprn_msg *msg)
{
	const struct vprn_membership *m = &msg->u.leave.m;

	if (vnoc_members_leave(c->members, site, m->group, (uint8_t)m->role, core_now(c)) == 0) {
		c->cnt.leaves++;
		account(c, VNOC_ACCT_LEAVE, site, m->group, (int)m->role, 0, "leave");
	}
	send_ack(c, site, msg->seq);
}

static void on_metrics(struct vnoc_core *c, uint32_t site, const struct vprn_metrics *m)
{
	uint64_t now = core_now(c);

	c->cnt.metrics++;
	for (uint32_t i = 0; i < m->n_peers; i++) {
		int peer = vnoc_core_site_id(c, m->peers[i].site);

		/* only peers of its own VPN: it was never told about others */
		if (peer < 0 || (uint32_t)peer == site || c->sites[peer].vpn != c->sites[site].vpn)
			continue;
		(void)vnoc_metrics_report(c->metrics, site, (uint32_t)peer, m->peers[i].rtt_us,
			m->peers[i].loss_ppm, now);
	}
}

static void on_traffic(struct vnoc_core *c, uint32_t site, const struct vprn_msg *msg)
{
	const struct vprn_traffic *t = &msg->u.traffic;
	const char *vpn = c->pol->vpns[c->sites[site].vpn].name;

	c->cnt.traffic_reports++;
	for (uint32_t i = 0; c->db != NULL && i < t->n_groups; i++)
		(void)vnoc_db_traffic(c->db, vpn, c->sites[site].name, t->groups[i].group,
			t->groups[i].source, (int)t->groups[i].role, t->groups[i].packets,
			t->groups[i].bytes);
	send_ack(c, site, msg->seq);
}

static void leave_cb(void *ctx, const struct vnoc_member *m)
{
	struct vnoc_core *c = ctx;

	c->cnt.leaves++;
	account(c, VNOC_ACCT_LEAVE, m->site, m->group, m->role, 0, "bye");
}

int vnoc_core_handle(struct vnoc_core *c, uint32_t site, const struct vprn_msg *m)
{
	if (site >= c->n_sites)
		return -EPROTO;
	c->sites[site].last_seen_ms = core_now(c);
	switch (m->type) {
	case VPRN_MSG_JOIN:
		apply_membership(c, site, &m->u.join.m, true);
		return 0;
	case VPRN_MSG_LEAVE:
		on_leave(c, site, m);
		return 0;
	case VPRN_MSG_REFRESH:
		c->cnt.refreshes++;
		for (uint32_t i = 0; i < m->u.refresh.n_memberships; i++)
			apply_membership(c, site, &m->u.refresh.memberships[i], false);
		core_startup_refresh(c, site);
		return 0;
	case VPRN_MSG_METRICS:
		on_metrics(c, site, &m->u.metrics);
		return 0;
	case VPRN_MSG_ACK:
		c->cnt.acks++;
		vnoc_dtrack_ack(c->dtrack, site, m->u.ack.ref_seq, m->u.ack.status == VPRN_ACK_OK);
		if (vnoc_keys_ack(c->keys, site, m->u.ack.ref_seq, m->u.ack.status == VPRN_ACK_OK,
			    core_now(c)) == 0 &&
			vnoc_trees_ack(c->trees, site, m->u.ack.ref_seq, core_now(c)) == 0)
			c->cnt.stray_acks++;
		return 0;
	case VPRN_MSG_TRAFFIC:
		on_traffic(c, site, m);
		return 0;
	case VPRN_MSG_BYE:
		vnoc_members_drop_site(c->members, site, core_now(c), leave_cb, c);
		core_startup_bye(c, site);
		return 0;
	case VPRN_MSG_DIGEST:
		vnoc_dtrack_report(c->dtrack, site, &m->u.digest, core_now(c));
		return 0;
	case VPRN_MSG_KEEPALIVE:
	case VPRN_MSG_ERROR:
		return 0;
	default:
		LOG_WARN("core", "site %s sent %s, which an ED may not send", c->sites[site].name,
			vprn_msg_type_name(m->type));
		return -EPROTO;
	}
}

/* ---- trees --------------------------------------------------------------- */

struct gather {
	uint32_t *recv, *send;
	size_t n_recv, n_send;
	struct vnoc_member *ms;
	size_t n_ms, cap_ms;
};

static void gather_cb(void *ctx, const struct vnoc_member *m)
{
	struct gather *g = ctx;

	if (g->n_ms < g->cap_ms)
		g->ms[g->n_ms++] = *m;
}

static bool wants_source(const struct vnoc_member *m, uint32_t src)
{
	bool listed = false;

	for (uint8_t i = 0; i < m->n_sources; i++)
		listed = listed || m->sources[i] == src;
	return m->filter == VNOC_FILTER_INCLUDE ? listed : !listed;
}

static void spec_of(const struct vnoc_group_policy *gp, struct vnoc_tree_spec *s)
{
	s->kind = (enum vnoc_tree_kind)gp->tree_kind;
	s->max_degree = (uint32_t)gp->max_degree;
	s->sa = (struct vnoc_sa_params){
		.mode = (enum vnoc_sa_mode)gp->sa_mode,
		.transform = (enum vnoc_transform)gp->transform,
		.replay_window = (uint32_t)gp->replay_window,
		.soft_seconds = (uint32_t)gp->soft_seconds,
		.hard_seconds = (uint32_t)gp->hard_seconds,
		.soft_bytes = (uint64_t)gp->soft_bytes,
		.hard_bytes = (uint64_t)gp->hard_bytes,
	};
}

struct tree_src {
	uint32_t vpn, group;
	uint32_t *sources;
	size_t n;
};

static void tree_src_cb(void *ctx, const struct vnoc_tree_info *ti)
{
	struct tree_src *t = ctx;

	if (ti->vpn == t->vpn && ti->group == t->group && t->n < 256)
		t->sources[t->n++] = ti->source;
}

static void update_tree(struct vnoc_core *c, struct vnoc_tree_spec *s, bool reopt)
{
	int rc = vnoc_trees_update(c->trees, s, reopt, core_now(c));

	c->cnt.tree_recomputes++;
	if (rc < 0)
		LOG_WARN("core", "tree %08x/%08x: %d", s->group, s->source, rc);
}

/* One tree per announced source; a sender announcing no source uses the shared tree. */
static void per_source(struct vnoc_core *c, struct vnoc_tree_spec *base, struct gather *g,
	uint32_t *kept, size_t *n_kept, bool reopt)
{
	for (size_t i = 0; i < g->n_ms; i++) {
		const struct vnoc_member *snd = &g->ms[i];

		if (snd->role != VNOC_ROLE_SENDER)
			continue;
		for (uint8_t k = 0; k < snd->n_sources && *n_kept < 256; k++) {
			struct vnoc_tree_spec s = *base;
			size_t nr = 0;

			for (size_t j = 0; j < g->n_ms; j++)
				if (g->ms[j].role == VNOC_ROLE_RECEIVER &&
					wants_source(&g->ms[j], snd->sources[k]))
					g->recv[nr++] = g->ms[j].site;
			s.source = snd->sources[k];
			s.receivers = g->recv;
			s.n_receivers = nr;
			s.senders = &snd->site;
			s.n_senders = 1;
			kept[(*n_kept)++] = s.source;
			update_tree(c, &s, reopt);
		}
	}
}

void vnoc_core_recompute(struct vnoc_core *c, uint32_t vpn, uint32_t group, bool reopt)
{
	const struct vnoc_group_policy *gp = vnoc_policy_group(c->pol, vpn, group);
	size_t n = vnoc_members_for_group(c->members, vpn, group, NULL, NULL);
	struct gather g = { 0 };
	struct vnoc_tree_spec base = { .vpn = vpn, .group = group };
	uint32_t kept[256], existing[256];
	struct tree_src ts = { vpn, group, existing, 0 };
	size_t n_kept = 0;

	g.cap_ms = n;
	g.ms = calloc(n ? n : 1, sizeof(*g.ms));
	g.recv = calloc(n ? n : 1, sizeof(*g.recv));
	g.send = calloc(n ? n : 1, sizeof(*g.send));
	if (g.ms == NULL || g.recv == NULL || g.send == NULL)
		goto out;
	vnoc_members_for_group(c->members, vpn, group, gather_cb, &g);
	if (gp != NULL) {
		spec_of(gp, &base);
		for (size_t i = 0; i < g.n_ms; i++) {
			if (g.ms[i].role == VNOC_ROLE_RECEIVER)
				g.recv[g.n_recv++] = g.ms[i].site;
			else if (gp->tree_kind != VNOC_TREE_PER_SOURCE || g.ms[i].n_sources == 0)
				g.send[g.n_send++] = g.ms[i].site;
		}
		base.receivers = g.recv;
		base.n_receivers = g.n_recv;
		base.senders = g.send;
		base.n_senders = g.n_send;
		kept[n_kept++] = 0;
		update_tree(c, &base, reopt);
		if (gp->tree_kind == VNOC_TREE_PER_SOURCE)
			per_source(c, &base, &g, kept, &n_kept, reopt);
	}
	/* trees of sources nobody announces any more (or of a vanished policy) go */
	vnoc_trees_for_each(c->trees, tree_src_cb, &ts);
	for (size_t i = 0; i < ts.n; i++) {
		bool keep = false;
		struct vnoc_tree_spec s = { .vpn = vpn, .group = group, .source = existing[i] };

		for (size_t k = 0; k < n_kept; k++)
			keep = keep || kept[k] == existing[i];
		if (!keep)
			update_tree(c, &s, false);
	}
out:
	free(g.ms);
	free(g.recv);
	free(g.send);
}

/* ---- timers -------------------------------------------------------------- */

static void expire_cb(void *ctx, const struct vnoc_member *m)
{
	struct vnoc_core *c = ctx;

	c->cnt.expiries++;
	LOG_INFO("core", "site %s: %s of %08x expired", c->sites[m->site].name,
		vnoc_role_name((enum vnoc_role)m->role), m->group);
	account(c, VNOC_ACCT_EXPIRE, m->site, m->group, m->role, 0, "hold time");
}

struct group_key {
	uint32_t vpn, group;
};

struct group_list {
	struct group_key v[1024];
	size_t n;
};

static void reopt_cb(void *ctx, const struct vnoc_tree_info *ti)
{
	struct group_list *l = ctx;

	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].vpn == ti->vpn && l->v[i].group == ti->group)
			return;
	if (l->n < 1024)
		l->v[l->n++] = (struct group_key){ ti->vpn, ti->group };
}

static void reoptimise(struct vnoc_core *c, uint64_t now)
{
	struct group_list *l;

	if (c->pol->conf.reoptimise_interval_ms == 0 || now < c->next_reopt_ms)
		return;
	c->next_reopt_ms = now + (uint64_t)c->pol->conf.reoptimise_interval_ms;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return;
	vnoc_trees_for_each(c->trees, reopt_cb, l);
	for (size_t i = 0; i < l->n; i++)
		vnoc_core_recompute(c, l->v[i].vpn, l->v[i].group, true);
	free(l);
}

void vnoc_core_poll(struct vnoc_core *c)
{
	uint64_t now = core_now(c);
	uint32_t vpn, group;

	vnoc_members_expire(c->members, now, expire_cb, c);
	core_startup_poll(c, now);
	/* during the startup hold, dirty groups wait for the complete membership */
	while (!core_startup_holding(c, now) &&
		vnoc_members_pop_dirty(c->members, now, &vpn, &group) == 1)
		vnoc_core_recompute(c, vpn, group, false);
	vnoc_keys_poll(c->keys, now);
	vnoc_trees_poll(c->trees, now);
	if (!c->holding)
		reoptimise(c, now);
}

uint64_t vnoc_core_next_deadline(const struct vnoc_core *c)
{
	/* during the startup hold, dirty groups are not due before it ends */
	uint64_t t = c->holding ? vnoc_members_next_expiry(c->members)
				: vnoc_members_next_deadline(c->members);
	uint64_t k = vnoc_keys_next_deadline(c->keys);
	uint64_t r = vnoc_trees_next_deadline(c->trees);
	uint64_t h = core_startup_deadline(c);

	t = h < t ? h : t;

	t = k < t ? k : t;
	t = r < t ? r : t;
	if (!c->holding && c->pol->conf.reoptimise_interval_ms != 0 && c->next_reopt_ms < t)
		t = c->next_reopt_ms;
	return t;
}

/* ---- reload -------------------------------------------------------------- */

static bool same_sites(const struct vnoc_core *c, const struct vnoc_policy *p)
{
	uint32_t k = 0;

	for (size_t v = 0; v < p->n_vpns; v++)
		for (size_t i = 0; i < p->vpns[v].n_sites; i++, k++)
			if (k >= c->n_sites || strcmp(c->sites[k].name, p->vpns[v].sites[i]) != 0 ||
				c->sites[k].vpn != v)
				return false;
	return k == c->n_sites;
}

static void recheck_cb(void *ctx, const struct vnoc_member *m)
{
	struct {
		struct vnoc_core *c;
		struct vnoc_member *revoke;
		size_t n, cap;
	} *r = ctx;
	struct vnoc_join_req req = { m->group, m->role, m->filter, m->sources, m->n_sources };
	unsigned int vpn, idx;

	if (vnoc_policy_find_site(r->c->pol, r->c->sites[m->site].name, &vpn, &idx) != 0 ||
		vnoc_policy_check_join(r->c->pol, vpn, idx, &req, NULL, 0) != VNOC_GRANTED) {
		if (r->n < r->cap)
			r->revoke[r->n++] = *m;
	}
	/* every group is recomputed: tree kind, SA mode or degree may have changed */
	(void)vnoc_members_mark_dirty(r->c->members, m->vpn, m->group, core_now(r->c));
}

static int edit_push(
	struct vnoc_core *c, const char *vpn, const char *group, const char *key, const char *value)
{
	struct vnoc_policy_edit *e = realloc(c->edits, (c->n_edits + 1) * sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	c->edits = e;
	e = &c->edits[c->n_edits];
	e->vpn = strdup(vpn);
	e->group = strdup(group);
	e->key = strdup(key);
	e->value = strdup(value);
	if (e->vpn == NULL || e->group == NULL || e->key == NULL || e->value == NULL) {
		free((char *)e->vpn);
		free((char *)e->group);
		free((char *)e->key);
		free((char *)e->value);
		return -ENOMEM;
	}
	c->n_edits++;
	return 0;
}

static void edit_cb(
	void *ctx, const char *vpn, const char *group, const char *key, const char *value)
{
	if (edit_push(ctx, vpn, group, key, value) != 0)
		LOG_ERR("core", "out of memory loading policy edits");
}

/* The file plus the runtime edits; NULL with @perr on error. */
static struct vnoc_policy *load_policy(
	struct vnoc_core *c, const char *path, struct vnoc_policy_err *perr)
{
	struct vnoc_policy *np = vnoc_policy_load_file_edits(path, c->edits, c->n_edits, perr);

	if (np != NULL && !same_sites(c, np)) {
		snprintf(perr->msg, sizeof(perr->msg),
			"%.400s: the sites changed: restart the VNOC to change the registry", path);
		vnoc_policy_free(np);
		np = NULL;
	}
	return np;
}

/* Make @np the policy: timers, site attributes, revocations, recomputation. */
static void adopt(struct vnoc_core *c, struct vnoc_policy *np)
{
	struct vnoc_keys_conf kc;
	struct vnoc_trees_conf tc;
	struct vnoc_metrics_conf mc;
	struct {
		struct vnoc_core *c;
		struct vnoc_member *revoke;
		size_t n, cap;
	} r = { c, NULL, 0, 0 };

	vnoc_policy_free(c->pol);
	c->pol = np;
	conf_of(np, &kc, &tc, &mc);
	vnoc_keys_set_conf(c->keys, &kc);
	vnoc_trees_set_conf(c->trees, &tc);
	vnoc_metrics_set_conf(c->metrics, &mc);
	{
		struct vnoc_dtrack_conf dc = dt_conf(c, np);

		vnoc_dtrack_set_conf(c->dtrack, &dc);
	}
	vnoc_members_set_timers(
		c->members, (uint64_t)np->conf.hold_time_ms, (uint64_t)np->conf.debounce_ms);
	for (uint32_t i = 0; i < c->n_sites; i++) {
		unsigned int v, k;

		if (vnoc_policy_find_site(np, c->sites[i].name, &v, &k) == 0) {
			c->sites[i].wan = np->vpns[v].site_wan[k];
			c->sites[i].max_degree = np->vpns[v].site_max_degree[k];
			c->sites[i].relay = np->vpns[v].site_relay[k];
		}
	}
	/* memberships the new policy no longer allows are revoked now */
	r.cap = vnoc_members_count(c->members);
	r.revoke = calloc(r.cap ? r.cap : 1, sizeof(*r.revoke));
	if (r.revoke != NULL) {
		vnoc_members_for_each(c->members, recheck_cb, &r);
		for (size_t i = 0; i < r.n; i++) {
			vnoc_members_leave(c->members, r.revoke[i].site, r.revoke[i].group,
				r.revoke[i].role, core_now(c));
			account(c, VNOC_ACCT_LEAVE, r.revoke[i].site, r.revoke[i].group,
				r.revoke[i].role, 0, "revoked by policy change");
		}
		free(r.revoke);
	}
	LOG_INFO("core", "policy generation %llu in force (%zu edits, %zu revoked)",
		(unsigned long long)np->generation, c->n_edits, r.n);
}

int vnoc_core_reload(struct vnoc_core *c, const char *path, char *err, size_t err_len)
{
	struct vnoc_policy_err perr = { .text = NULL };
	struct vnoc_policy *np;

	path = path != NULL ? path : c->config_path;
	np = load_policy(c, path, &perr);
	if (np == NULL) {
		c->cnt.reload_failures++;
		snprintf(err, err_len, "%s", perr.msg);
		LOG_WARN("core", "policy reload refused, old policy kept: %s", perr.msg);
		return -EINVAL;
	}
	c->cnt.reloads++;
	LOG_INFO("core", "policy reloaded from %s", path);
	adopt(c, np);
	return 0;
}

int vnoc_core_policy_set(struct vnoc_core *c, const char *vpn, const char *group, const char *key,
	const char *value, char *err, size_t err_len)
{
	struct vnoc_policy_err perr = { .text = NULL };
	struct vnoc_policy *np;
	int rc;

	if (c->db == NULL || c->config_path[0] == '\0') {
		snprintf(err, err_len, "runtime edits need a database and a config file");
		return -ENOTSUP;
	}
	rc = edit_push(c, vpn, group, key, value);
	if (rc != 0)
		return rc;
	np = load_policy(c, c->config_path, &perr);
	if (np == NULL || vnoc_db_policy_edit(c->db, vpn, group, key, value) != 0) {
		struct vnoc_policy_edit *e = &c->edits[--c->n_edits];

		free((char *)e->vpn);
		free((char *)e->group);
		free((char *)e->key);
		free((char *)e->value);
		snprintf(err, err_len, "%s", np == NULL ? perr.msg : "database write failed");
		vnoc_policy_free(np);
		return -EINVAL;
	}
	LOG_INFO("core", "policy edit: %s/%s %s = %s", vpn, group, key, value);
	adopt(c, np);
	return 0;
}
