/* SPDX-License-Identifier: BSD-3-Clause */
/* The core's control commands: groups, tree, sas, accounting, policy, metrics. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/log.h"
#include "core_priv.h"

static int parse_group(const char *s, uint32_t *group)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*group = ntohl(a.s_addr);
	return 0;
}

static void kv_group(struct vprn_json *j, const char *key, uint32_t g)
{
	vprn_json_kv_ipv4(j, key, g);
}

/* ---- groups -------------------------------------------------------------- */

struct groups_ctx {
	struct vnoc_core *c;
	struct vprn_json *j;
	uint64_t now;
	uint32_t vpn, group;
};

static void member_json(void *ctx, const struct vnoc_member *m)
{
	struct groups_ctx *g = ctx;

	vprn_json_obj_begin(g->j);
	vprn_json_kv_str(g->j, "site", g->c->sites[m->site].name);
	vprn_json_kv_str(g->j, "role", vnoc_role_name((enum vnoc_role)m->role));
	vprn_json_kv_str(g->j, "filter", m->filter == VNOC_FILTER_INCLUDE ? "include" : "exclude");
	vprn_json_key(g->j, "sources");
	vprn_json_arr_begin(g->j);
	for (uint8_t i = 0; i < m->n_sources; i++) {
		char a[16];
		struct in_addr in = { htonl(m->sources[i]) };

		vprn_json_string(g->j, inet_ntop(AF_INET, &in, a, sizeof(a)));
	}
	vprn_json_arr_end(g->j);
	vprn_json_kv_u64(
		g->j, "expires_in_ms", m->expires_ms > g->now ? m->expires_ms - g->now : 0);
	vprn_json_obj_end(g->j);
}

static void tree_brief(void *ctx, const struct vnoc_tree_info *ti)
{
	struct groups_ctx *g = ctx;

	if (ti->vpn != g->vpn || ti->group != g->group)
		return;
	vprn_json_obj_begin(g->j);
	kv_group(g->j, "source", ti->source);
	vprn_json_kv_u64(g->j, "version", ti->version);
	vprn_json_kv_str(g->j, "kind", vnoc_tree_kind_name(ti->kind));
	vprn_json_kv_u64(g->j, "nodes", ti->n_nodes);
	vprn_json_kv_u64(g->j, "edges", ti->n_edges);
	vprn_json_kv_bool(g->j, "staging", ti->staging);
	vprn_json_obj_end(g->j);
}

struct seen_groups {
	struct {
		uint32_t vpn, group;
	} v[4096];
	size_t n;
};

static void collect_group(void *ctx, const struct vnoc_member *m)
{
	struct seen_groups *s = ctx;

	for (size_t i = 0; i < s->n; i++)
		if (s->v[i].vpn == m->vpn && s->v[i].group == m->group)
			return;
	if (s->n < 4096) {
		s->v[s->n].vpn = m->vpn;
		s->v[s->n++].group = m->group;
	}
}

int vnoc_core_ctl_groups(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct seen_groups *s;
	struct groups_ctx g = { c, j, core_now(c), 0, 0 };

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: groups");
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	vnoc_members_for_each(c->members, collect_group, s);
	vprn_json_arr_begin(j);
	for (size_t i = 0; i < s->n; i++) {
		const struct vnoc_group_policy *gp =
			vnoc_policy_group(c->pol, s->v[i].vpn, s->v[i].group);

		g.vpn = s->v[i].vpn;
		g.group = s->v[i].group;
		vprn_json_obj_begin(j);
		vprn_json_kv_str(j, "vpn", c->pol->vpns[g.vpn].name);
		kv_group(j, "group", g.group);
		vprn_json_kv_str(j, "policy", gp ? gp->name : "");
		vprn_json_kv_str(j, "tree_kind",
			gp ? vnoc_tree_kind_name((enum vnoc_tree_kind)gp->tree_kind) : "");
		vprn_json_kv_str(
			j, "sa_mode", gp ? vnoc_sa_mode_name((enum vnoc_sa_mode)gp->sa_mode) : "");
		vprn_json_key(j, "members");
		vprn_json_arr_begin(j);
		vnoc_members_for_group(c->members, g.vpn, g.group, member_json, &g);
		vprn_json_arr_end(j);
		vprn_json_key(j, "trees");
		vprn_json_arr_begin(j);
		vnoc_trees_for_each(c->trees, tree_brief, &g);
		vprn_json_arr_end(j);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	free(s);
	return 0;
}

/* ---- tree G [--dot] [--vpn V] [--source S] -------------------------------- */

struct tree_ctx {
	struct vnoc_core *c;
	struct vprn_json *j;
	uint32_t vpn, group, source;
	int found;
};

static void tree_json(void *ctx, const struct vnoc_tree_info *ti)
{
	struct tree_ctx *t = ctx;
	static const char *const roles[] = { "relay", "receiver", "sender", "sender+receiver" };

	if (ti->vpn != t->vpn || ti->group != t->group || ti->source != t->source)
		return;
	t->found = 1;
	vprn_json_obj_begin(t->j);
	vprn_json_kv_str(t->j, "vpn", t->c->pol->vpns[ti->vpn].name);
	kv_group(t->j, "group", ti->group);
	kv_group(t->j, "source", ti->source);
	vprn_json_kv_u64(t->j, "version", ti->version);
	vprn_json_kv_str(t->j, "kind", vnoc_tree_kind_name(ti->kind));
	vprn_json_kv_str(t->j, "sa_mode", vnoc_sa_mode_name(ti->sa_mode));
	vprn_json_kv_bool(t->j, "staging", ti->staging);
	vprn_json_key(t->j, "objective");
	vprn_json_double(t->j, ti->objective);
	vprn_json_key(t->j, "nodes");
	vprn_json_arr_begin(t->j);
	for (size_t i = 0; i < ti->n_nodes; i++) {
		vprn_json_obj_begin(t->j);
		vprn_json_kv_str(t->j, "site", t->c->sites[ti->nodes[i]].name);
		vprn_json_kv_str(t->j, "role", roles[ti->roles[i] & 3]);
		vprn_json_obj_end(t->j);
	}
	vprn_json_arr_end(t->j);
	vprn_json_key(t->j, "edges");
	vprn_json_arr_begin(t->j);
	for (size_t i = 0; i < ti->n_edges; i++) {
		vprn_json_arr_begin(t->j);
		vprn_json_string(t->j, t->c->sites[ti->edges[i][0]].name);
		vprn_json_string(t->j, t->c->sites[ti->edges[i][1]].name);
		vprn_json_arr_end(t->j);
	}
	vprn_json_arr_end(t->j);
	vprn_json_obj_end(t->j);
}

int vnoc_core_ctl_tree(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct tree_ctx t = { c, j, 0, 0, 0, 0 };
	bool dot = false;
	const char *gs = NULL;

	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--dot") == 0) {
			dot = true;
		} else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
			if (parse_group(argv[++i], &t.source) != 0)
				goto usage;
		} else if (strcmp(argv[i], "--vpn") == 0 && i + 1 < argc) {
			unsigned int v;

			for (v = 0; v < c->pol->n_vpns; v++)
				if (strcmp(c->pol->vpns[v].name, argv[i + 1]) == 0)
					break;
			if (v == c->pol->n_vpns)
				goto usage;
			t.vpn = v;
			i++;
		} else if (gs == NULL) {
			gs = argv[i];
		} else {
			goto usage;
		}
	}
	if (gs == NULL || parse_group(gs, &t.group) != 0)
		goto usage;
	if (dot) {
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);
		int rc;

		if (f == NULL)
			return -ENOMEM;
		rc = vnoc_trees_dot(c->trees, t.vpn, t.group, t.source, f);
		fclose(f);
		if (rc == 0)
			vprn_json_string(j, buf);
		free(buf);
		if (rc != 0) {
			snprintf(err, errlen, "no tree for %s", gs);
			return rc;
		}
		return 0;
	}
	vnoc_trees_for_each(c->trees, tree_json, &t);
	if (!t.found) {
		snprintf(err, errlen, "no tree for %s", gs);
		return -ENOENT;
	}
	return 0;
usage:
	snprintf(err, errlen, "usage: tree GROUP [--dot] [--vpn NAME] [--source ADDR]");
	return -EINVAL;
}

/* ---- sas [--export-keys wireshark] ---------------------------------------- */

struct sas_ctx {
	struct vnoc_core *c;
	struct vprn_json *j;
};

static const char *state_name(enum vnoc_chan_state st)
{
	switch (st) {
	case VNOC_CHAN_WAIT_RX:
		return "installing";
	case VNOC_CHAN_WAIT_TX:
		return "switching";
	case VNOC_CHAN_ACTIVE:
		return "active";
	case VNOC_CHAN_FAILED:
		return "failed";
	}
	return "?";
}

static void sa_json(void *ctx, const struct vnoc_sa_info *sa)
{
	struct sas_ctx *s = ctx;
	char spi[16];

	snprintf(spi, sizeof(spi), "0x%08x", sa->spi);
	vprn_json_obj_begin(s->j);
	vprn_json_kv_str(s->j, "spi", spi);
	vprn_json_kv_u64(s->j, "channel", sa->chan);
	vprn_json_kv_str(s->j, "vpn", s->c->pol->vpns[s->c->sites[sa->sender].vpn].name);
	kv_group(s->j, "group", sa->group);
	vprn_json_kv_str(s->j, "mode", vnoc_sa_mode_name(sa->mode));
	vprn_json_kv_str(s->j, "transform", vnoc_transform_name(sa->transform));
	vprn_json_kv_str(s->j, "sender", s->c->sites[sa->sender].name);
	vprn_json_key(s->j, "receivers");
	vprn_json_arr_begin(s->j);
	for (size_t i = 0; i < sa->n_receivers; i++)
		vprn_json_string(s->j, s->c->sites[sa->receivers[i]].name);
	vprn_json_arr_end(s->j);
	vprn_json_kv_u64(s->j, "generation", sa->generation);
	vprn_json_kv_str(s->j, "state", sa->current ? state_name(sa->state) : "pending/retiring");
	vprn_json_kv_u64(s->j, "age_s", sa->age_ms / 1000);
	vprn_json_obj_end(s->j);
}

static void hex(char *dst, const uint8_t *a, unsigned int la, const uint8_t *b, unsigned int lb)
{
	static const char d[] = "0123456789abcdef";
	char *p = dst;

	*p++ = '0';
	*p++ = 'x';
	for (unsigned int i = 0; i < la + lb; i++) {
		uint8_t x = i < la ? a[i] : b[i - la];

		*p++ = d[x >> 4];
		*p++ = d[x & 15];
	}
	*p = '\0';
}

/* One Wireshark `esp_sa` UAT line per (SA, receiver): protocol, src, dst, SPI, cipher, key, auth,
 * key. */
static void sa_wireshark(void *ctx, const struct vnoc_sa_info *sa)
{
	struct sas_ctx *s = ctx;
	bool gcm = sa->salt_len != 0;
	/* Wireshark names the cipher only; the key length tells 128 from 256 */
	const char *enc = gcm ? "AES-GCM with 16 octet ICV [RFC4106]" : "AES-CBC [RFC3602]";
	const char *auth = gcm ? "NULL" : "HMAC-SHA-256-128 [RFC4868]";
	char key[2 + 2 * 36 + 1], akey[2 + 64 + 1], line[512], src[16], dst[16];

	if (sa->key == NULL)
		return;
	hex(key, sa->key, sa->key_len, sa->salt, sa->salt_len); /* GCM: key || salt */
	if (gcm)
		akey[0] = '\0';
	else
		hex(akey, sa->auth, sa->auth_len, NULL, 0);
	for (size_t i = 0; i < sa->n_receivers; i++) {
		/* group SAs are sent by every transit ED: any source, any destination */
		struct in_addr a = { htonl(s->c->sites[sa->sender].wan) };
		struct in_addr b = { htonl(s->c->sites[sa->receivers[i]].wan) };
		bool any = sa->mode == VNOC_SA_GROUP;

		snprintf(line, sizeof(line),
			"\"IPv4\",\"%s\",\"%s\",\"0x%08x\",\"%s\",\"%s\",\"%s\",\"%s\"",
			any ? "*" : inet_ntop(AF_INET, &a, src, sizeof(src)),
			any ? "*" : inet_ntop(AF_INET, &b, dst, sizeof(dst)), sa->spi, enc, key,
			auth, akey);
		vprn_json_string(s->j, line);
		if (any)
			break;
	}
	OPENSSL_cleanse(key, sizeof(key));
	OPENSSL_cleanse(akey, sizeof(akey));
	OPENSSL_cleanse(line, sizeof(line));
}

int vnoc_core_ctl_sas(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct sas_ctx s = { c, j };
	bool keys = argc == 2 && strcmp(argv[0], "--export-keys") == 0 &&
		    strcmp(argv[1], "wireshark") == 0;

	if (argc != 0 && !keys) {
		snprintf(err, errlen, "usage: sas [--export-keys wireshark]");
		return -EINVAL;
	}
	if (keys)
		LOG_WARN("core", "SA keys exported through the control socket (Wireshark table)");
	vprn_json_arr_begin(j);
	vnoc_keys_for_each(c->keys, keys, core_now(c), keys ? sa_wireshark : sa_json, &s);
	vprn_json_arr_end(j);
	return 0;
}

/* ---- accounting [N] ------------------------------------------------------- */

static void acct_json(void *ctx, const struct vnoc_acct_row *r)
{
	struct vprn_json *j = ctx;

	vprn_json_obj_begin(j);
	vprn_json_kv_i64(j, "id", r->id);
	vprn_json_kv_i64(j, "time_ms", r->wall_ms);
	vprn_json_kv_str(j, "event", r->event);
	vprn_json_kv_str(j, "vpn", r->vpn);
	vprn_json_kv_str(j, "site", r->site);
	kv_group(j, "group", r->group);
	vprn_json_kv_str(j, "role", r->role);
	vprn_json_kv_str(j, "reason", r->reason);
	vprn_json_kv_str(j, "text", r->text);
	vprn_json_obj_end(j);
}

static void traffic_json(void *ctx, const struct vnoc_traffic_row *r)
{
	struct vprn_json *j = ctx;

	vprn_json_obj_begin(j);
	vprn_json_kv_str(j, "vpn", r->vpn);
	vprn_json_kv_str(j, "site", r->site);
	kv_group(j, "group", r->group);
	kv_group(j, "source", r->source);
	vprn_json_kv_str(j, "role", r->role);
	vprn_json_kv_u64(j, "packets", r->packets);
	vprn_json_kv_u64(j, "bytes", r->bytes);
	vprn_json_obj_end(j);
}

int vnoc_core_ctl_accounting(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	long limit = 100;
	char *end;

	if (argc > 1 || (argc == 1 && ((limit = strtol(argv[0], &end, 10)) <= 0 || *end != '\0' ||
					      limit > 100000))) {
		snprintf(err, errlen, "usage: accounting [LAST_N (1..100000)]");
		return -EINVAL;
	}
	if (c->db == NULL) {
		snprintf(err, errlen, "no database");
		return -ENOENT;
	}
	vprn_json_obj_begin(j);
	vprn_json_key(j, "events");
	vprn_json_arr_begin(j);
	vnoc_db_accounting(c->db, (int)limit, acct_json, j);
	vprn_json_arr_end(j);
	vprn_json_key(j, "traffic");
	vprn_json_arr_begin(j);
	vnoc_db_traffic_rows(c->db, traffic_json, j);
	vprn_json_arr_end(j);
	vprn_json_obj_end(j);
	return 0;
}

/* ---- policy reload --------------------------------------------------------- */

int vnoc_core_ctl_policy(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	int rc;

	if (argc == 1 && strcmp(argv[0], "edits") == 0) {
		vprn_json_arr_begin(j);
		for (size_t i = 0; i < c->n_edits; i++) {
			vprn_json_obj_begin(j);
			vprn_json_kv_str(j, "vpn", c->edits[i].vpn);
			vprn_json_kv_str(j, "group", c->edits[i].group);
			vprn_json_kv_str(j, "key", c->edits[i].key);
			vprn_json_kv_str(j, "value", c->edits[i].value);
			vprn_json_obj_end(j);
		}
		vprn_json_arr_end(j);
		return 0;
	}
	if (argc == 5 && strcmp(argv[0], "set") == 0)
		rc = vnoc_core_policy_set(c, argv[1], argv[2], argv[3], argv[4], err, errlen);
	else if (argc == 1 && strcmp(argv[0], "reload") == 0)
		rc = vnoc_core_reload(c, NULL, err, errlen);
	else {
		snprintf(err, errlen,
			"usage: policy reload | policy set VPN GROUP KEY VALUE | policy edits");
		return -EINVAL;
	}
	if (rc != 0)
		return rc;
	vprn_json_obj_begin(j);
	vprn_json_kv_bool(j, "reloaded", true);
	vprn_json_kv_u64(j, "generation", c->pol->generation);
	vprn_json_obj_end(j);
	return 0;
}

/* ---- metrics (RTT matrix as the solver sees it) ----------------------------- */

int vnoc_core_ctl_metrics(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	static const char *const src[] = { "measured", "reverse", "estimate", "default" };
	uint64_t now = core_now(c);

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: metrics");
		return -EINVAL;
	}
	vprn_json_arr_begin(j);
	for (uint32_t a = 0; a < c->n_sites; a++) {
		for (uint32_t b = 0; b < c->n_sites; b++) {
			struct vnoc_metric m;

			if (a == b || c->sites[a].vpn != c->sites[b].vpn)
				continue;
			m = vnoc_metrics_get(c->metrics, a, b, now);
			vprn_json_obj_begin(j);
			vprn_json_kv_str(j, "from", c->sites[a].name);
			vprn_json_kv_str(j, "to", c->sites[b].name);
			vprn_json_kv_u64(j, "rtt_us", m.rtt_us);
			vprn_json_kv_u64(j, "loss_ppm", m.loss_ppm);
			vprn_json_kv_str(j, "source", src[m.source & 3]);
			vprn_json_obj_end(j);
		}
	}
	vprn_json_arr_end(j);
	return 0;
}
