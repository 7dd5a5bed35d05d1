/* SPDX-License-Identifier: BSD-3-Clause */
#include "policy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_opts.h"

#define MCAST_NET 0xe0000000u /* 224.0.0.0/4, RFC 5771 */
#define MCAST_MASK 0xf0000000u
#define LINK_LOCAL_NET 0xe0000000u /* 224.0.0.0/24, never routed */
#define LINK_LOCAL_MASK 0xffffff00u

static uint64_t policy_generation;

int vnoc_prefix_parse(const char *s, struct vnoc_prefix *out)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr a;
	long len = 32;

	if (alen == 0 || alen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	if (slash != NULL) {
		char *end;

		if (slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		len = strtol(slash + 1, &end, 10);
		if (*end != '\0' || len < 0 || len > 32)
			return -EINVAL;
	}
	out->len = (uint8_t)len;
	out->mask = len == 0 ? 0 : ~0u << (32 - len);
	out->addr = ntohl(a.s_addr) & out->mask;
	return 0;
}

static void group_free(struct vnoc_group_policy *g)
{
	vnoc_strlist_free(&g->ranges_s);
	vnoc_strlist_free(&g->receivers_s);
	vnoc_strlist_free(&g->senders_s);
	vnoc_strlist_free(&g->sources_s);
	free(g->ranges);
	free(g->sources);
	free(g->may_recv);
	free(g->may_send);
}

void vnoc_policy_free(struct vnoc_policy *p)
{
	if (p == NULL)
		return;
	for (size_t v = 0; v < p->n_vpns; v++) {
		struct vnoc_vpn_policy *vpn = &p->vpns[v];

		for (size_t i = 0; i < vpn->n_groups; i++)
			group_free(&vpn->groups[i]);
		for (size_t i = 0; i < vpn->n_classes; i++)
			vnoc_strlist_free(&vpn->classes[i].sites_s);
		free(vpn->groups);
		free(vpn->classes);
		free(vpn->sites);
		free(vpn->site_wan);
		free(vpn->site_max_degree);
		free(vpn->site_relay);
	}
	free(p->vpns);
	free(p);
}

static int site_index(const struct vnoc_vpn_policy *vpn, const char *name)
{
	for (size_t i = 0; i < vpn->n_sites; i++)
		if (strcmp(vpn->sites[i], name) == 0)
			return (int)i;
	return -1;
}

/* The registry validates these strictly; here a bad value only needs to be refused. */
static int parse_site_attrs(const config_setting_t *s, struct vnoc_vpn_policy *vpn, size_t i,
	struct vnoc_policy_err *err)
{
	const char *wan = NULL;
	struct in_addr a;
	int deg = 0, relay = 1;

	if (config_setting_lookup_string(s, "wan", &wan)) {
		if (inet_pton(AF_INET, wan, &a) != 1) {
			vnoc_opts_err(err, s, "site %s: bad wan address '%s'", vpn->sites[i], wan);
			return -EINVAL;
		}
		vpn->site_wan[i] = ntohl(a.s_addr);
	}
	if (config_setting_lookup_int(s, "max_degree", &deg) && (deg < 1 || deg > 1024)) {
		vnoc_opts_err(err, s, "site %s: max_degree %d out of range [1, 1024]",
			vpn->sites[i], deg);
		return -EINVAL;
	}
	config_setting_lookup_bool(s, "relay", &relay);
	vpn->site_max_degree[i] = (uint32_t)deg;
	vpn->site_relay[i] = relay != 0;
	return 0;
}

static int parse_sites(
	const config_setting_t *vs, struct vnoc_vpn_policy *vpn, struct vnoc_policy_err *err)
{
	const config_setting_t *sites = config_setting_get_member(vs, "sites");
	int n = sites ? config_setting_length(sites) : 0;

	if (sites == NULL || !config_setting_is_list(sites) || n == 0) {
		vnoc_opts_err(err, sites ? sites : vs, "vpn %s: 'sites' must be a non-empty list",
			vpn->name);
		return -EINVAL;
	}
	vpn->sites = calloc((size_t)n, sizeof(*vpn->sites));
	vpn->site_wan = calloc((size_t)n, sizeof(*vpn->site_wan));
	vpn->site_max_degree = calloc((size_t)n, sizeof(*vpn->site_max_degree));
	vpn->site_relay = calloc((size_t)n, sizeof(*vpn->site_relay));
	if (vpn->sites == NULL || vpn->site_wan == NULL || vpn->site_max_degree == NULL ||
		vpn->site_relay == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(sites, (unsigned int)i);
		const char *name = NULL;

		if (!config_setting_lookup_string(s, "name", &name) || name[0] == '\0' ||
			strlen(name) >= VNOC_NAME_MAX) {
			vnoc_opts_err(err, s, "site: 'name' missing or too long");
			return -EINVAL;
		}
		if (site_index(vpn, name) >= 0) {
			vnoc_opts_err(err, s, "site %s: duplicate name", name);
			return -EINVAL;
		}
		memcpy(vpn->sites[i], name, strlen(name) + 1);
		vpn->n_sites = (size_t)i + 1;
		if (parse_site_attrs(s, vpn, (size_t)i, err) != 0)
			return -EINVAL;
	}
	return 0;
}

static int parse_list(const config_setting_t *vs, const char *key, enum vnoc_scope_id scope,
	void **arr, size_t elem, size_t *count, struct vnoc_policy_err *err)
{
	const config_setting_t *l = config_setting_get_member(vs, key);
	int n;
	int rc;

	*count = 0;
	if (l == NULL)
		return 0;
	if (!config_setting_is_list(l)) {
		vnoc_opts_err(err, l, "'%s' must be a list ( {...}, ... )", key);
		return -EINVAL;
	}
	n = config_setting_length(l);
	*arr = calloc(n > 0 ? (size_t)n : 1, elem);
	if (*arr == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(l, (unsigned int)i);
		char *obj = (char *)*arr + (size_t)i * elem;

		*count = (size_t)i + 1;
		rc = vnoc_opts_parse(e, vnoc_opt_scope(scope), obj, err);
		if (rc != 0)
			return rc;
		/* the line is the first int after the name in both structs */
		if (scope == VNOC_SCOPE_GROUP)
			((struct vnoc_group_policy *)obj)->line = config_setting_source_line(e);
		else
			((struct vnoc_site_class *)obj)->line = config_setting_source_line(e);
	}
	return 0;
}

static const config_setting_t *group_setting(const config_setting_t *vs, const char *key, size_t i)
{
	const config_setting_t *l = config_setting_get_member(vs, key);

	return l ? config_setting_get_elem(l, (unsigned int)i) : vs;
}

/* Mark the sites named by one receivers/senders entry in @bits. */
static int resolve_ref(const struct vnoc_vpn_policy *vpn, const char *ref, uint8_t *bits)
{
	int idx;

	if (strcmp(ref, "*") == 0) {
		memset(bits, 1, vpn->n_sites);
		return 0;
	}
	if (ref[0] == '@') {
		for (size_t c = 0; c < vpn->n_classes; c++) {
			const struct vnoc_site_class *cl = &vpn->classes[c];

			if (strcmp(cl->name, ref + 1) != 0)
				continue;
			for (size_t k = 0; k < cl->sites_s.n; k++)
				bits[site_index(vpn, cl->sites_s.v[k])] = 1;
			return 0;
		}
		return -ENOENT;
	}
	idx = site_index(vpn, ref);
	if (idx < 0)
		return -ENOENT;
	bits[idx] = 1;
	return 0;
}

static int resolve_refs(const struct vnoc_vpn_policy *vpn, const struct vnoc_strlist *l,
	bool dflt_all, uint8_t **out, const config_setting_t *s, const char *what,
	struct vnoc_policy_err *err)
{
	*out = calloc(vpn->n_sites, 1);
	if (*out == NULL)
		return -ENOMEM;
	if (l->n == 0 && dflt_all)
		memset(*out, 1, vpn->n_sites);
	for (size_t i = 0; i < l->n; i++) {
		if (resolve_ref(vpn, l->v[i], *out) != 0) {
			vnoc_opts_err(err, s,
				"%s: '%s' is neither a site nor a class (@name) of vpn %s", what,
				l->v[i], vpn->name);
			return -EINVAL;
		}
	}
	return 0;
}

static int resolve_prefixes(const struct vnoc_strlist *l, struct vnoc_prefix **out, size_t *n,
	bool multicast, const config_setting_t *s, const char *what, struct vnoc_policy_err *err)
{
	*out = calloc(l->n ? l->n : 1, sizeof(**out));
	*n = l->n;
	if (*out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < l->n; i++) {
		struct vnoc_prefix *p = &(*out)[i];

		if (vnoc_prefix_parse(l->v[i], p) != 0) {
			vnoc_opts_err(
				err, s, "%s: '%s' is not a prefix a.b.c.d/len", what, l->v[i]);
			return -EINVAL;
		}
		if (multicast && (p->len < 4 || (p->addr & MCAST_MASK) != MCAST_NET)) {
			vnoc_opts_err(err, s, "%s: '%s' is not within 224.0.0.0/4", what, l->v[i]);
			return -EINVAL;
		}
	}
	return 0;
}

static int validate_group(struct vnoc_vpn_policy *vpn, struct vnoc_group_policy *g,
	const config_setting_t *s, struct vnoc_policy_err *err)
{
	int rc;

	if (g->ranges_s.n == 0) {
		vnoc_opts_err(err, s, "group %s: 'ranges' is empty", g->name);
		return -EINVAL;
	}
	rc = resolve_prefixes(&g->ranges_s, &g->ranges, &g->n_ranges, true, s, "ranges", err);
	if (rc == 0)
		rc = resolve_prefixes(
			&g->sources_s, &g->sources, &g->n_sources, false, s, "sources", err);
	if (rc == 0)
		rc = resolve_refs(vpn, &g->receivers_s, true, &g->may_recv, s, "receivers", err);
	if (rc == 0)
		rc = resolve_refs(vpn, &g->senders_s, true, &g->may_send, s, "senders", err);
	if (rc != 0)
		return rc;
	if (g->hard_seconds <= g->soft_seconds) {
		vnoc_opts_err(err, s,
			"group %s: hard_seconds (%lld) must exceed soft_seconds (%lld)", g->name,
			(long long)g->hard_seconds, (long long)g->soft_seconds);
		return -EINVAL;
	}
	if (g->hard_bytes != 0 && g->hard_bytes <= g->soft_bytes) {
		vnoc_opts_err(err, s, "group %s: hard_bytes must exceed soft_bytes", g->name);
		return -EINVAL;
	}
	return 0;
}

static int validate_vpn(
	const config_setting_t *vs, struct vnoc_vpn_policy *vpn, struct vnoc_policy_err *err)
{
	for (size_t c = 0; c < vpn->n_classes; c++) {
		const struct vnoc_site_class *cl = &vpn->classes[c];
		const config_setting_t *s = group_setting(vs, "classes", c);

		for (size_t k = 0; k < cl->sites_s.n; k++) {
			if (site_index(vpn, cl->sites_s.v[k]) < 0) {
				vnoc_opts_err(err, s, "class %s: unknown site '%s' in vpn %s",
					cl->name, cl->sites_s.v[k], vpn->name);
				return -EINVAL;
			}
		}
		for (size_t d = 0; d < c; d++) {
			if (strcmp(vpn->classes[d].name, cl->name) == 0) {
				vnoc_opts_err(err, s, "class %s: duplicate name", cl->name);
				return -EINVAL;
			}
		}
	}
	for (size_t i = 0; i < vpn->n_groups; i++) {
		const config_setting_t *s = group_setting(vs, "groups", i);
		int rc = validate_group(vpn, &vpn->groups[i], s, err);

		if (rc != 0)
			return rc;
		for (size_t d = 0; d < i; d++) {
			if (strcmp(vpn->groups[d].name, vpn->groups[i].name) == 0) {
				vnoc_opts_err(
					err, s, "group %s: duplicate name", vpn->groups[i].name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int parse_vpn(
	const config_setting_t *vs, struct vnoc_vpn_policy *vpn, struct vnoc_policy_err *err)
{
	const char *name = NULL;
	int rc;

	if (!config_setting_lookup_string(vs, "name", &name) || name[0] == '\0' ||
		strlen(name) >= VNOC_NAME_MAX) {
		vnoc_opts_err(err, vs, "vpn: 'name' missing or too long");
		return -EINVAL;
	}
	memcpy(vpn->name, name, strlen(name) + 1);
	rc = parse_sites(vs, vpn, err);
	if (rc == 0)
		rc = parse_list(vs, "classes", VNOC_SCOPE_CLASS, (void **)&vpn->classes,
			sizeof(*vpn->classes), &vpn->n_classes, err);
	if (rc == 0)
		rc = parse_list(vs, "groups", VNOC_SCOPE_GROUP, (void **)&vpn->groups,
			sizeof(*vpn->groups), &vpn->n_groups, err);
	if (rc == 0)
		rc = validate_vpn(vs, vpn, err);
	return rc;
}

static int check_unique_sites(
	const config_setting_t *vpns, const struct vnoc_policy *p, struct vnoc_policy_err *err)
{
	for (size_t v = 0; v < p->n_vpns; v++) {
		for (size_t w = 0; w < v; w++) {
			if (strcmp(p->vpns[v].name, p->vpns[w].name) == 0) {
				vnoc_opts_err(err, config_setting_get_elem(vpns, (unsigned int)v),
					"vpn %s: duplicate name", p->vpns[v].name);
				return -EINVAL;
			}
			for (size_t s = 0; s < p->vpns[v].n_sites; s++) {
				if (site_index(&p->vpns[w], p->vpns[v].sites[s]) < 0)
					continue;
				vnoc_opts_err(err, config_setting_get_elem(vpns, (unsigned int)v),
					"site %s: also in vpn %s (site names are unique)",
					p->vpns[v].sites[s], p->vpns[w].name);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int parse_conf(const config_t *cfg, struct vnoc_core_conf *conf, struct vnoc_policy_err *err)
{
	static const struct {
		const char *key;
		enum vnoc_scope_id scope;
	} tops[] = {
		{ "timers", VNOC_SCOPE_TIMERS },
		{ "trees", VNOC_SCOPE_TREES },
		{ "keys", VNOC_SCOPE_KEYS },
		{ "metrics", VNOC_SCOPE_METRICS },
		{ "limits", VNOC_SCOPE_LIMITS },
	};

	for (size_t i = 0; i < sizeof(tops) / sizeof(tops[0]); i++) {
		const config_setting_t *s = config_lookup(cfg, tops[i].key);
		int rc = vnoc_opts_parse(s, vnoc_opt_scope(tops[i].scope), conf, err);

		if (rc != 0)
			return rc;
	}
	if (conf->hold_time_ms < conf->refresh_interval_ms) {
		vnoc_opts_err(err, config_lookup(cfg, "timers"),
			"timers: hold_time_ms must be at least refresh_interval_ms");
		return -EINVAL;
	}
	return 0;
}

struct vnoc_policy *vnoc_policy_build(const config_t *cfg, struct vnoc_policy_err *err)
{
	const config_setting_t *vpns = config_lookup(cfg, "vpns");
	struct vnoc_policy *p = calloc(1, sizeof(*p));
	int n;

	if (p == NULL)
		goto fail;
	if (parse_conf(cfg, &p->conf, err) != 0)
		goto fail;
	if (vpns == NULL || !config_setting_is_list(vpns) ||
		(n = config_setting_length(vpns)) == 0) {
		vnoc_opts_err(err, vpns ? vpns : config_root_setting(cfg),
			"'vpns' must be a non-empty list");
		goto fail;
	}
	p->vpns = calloc((size_t)n, sizeof(*p->vpns));
	if (p->vpns == NULL)
		goto fail;
	for (int i = 0; i < n; i++) {
		p->n_vpns = (size_t)i + 1;
		if (parse_vpn(config_setting_get_elem(vpns, (unsigned int)i), &p->vpns[i], err) !=
			0)
			goto fail;
	}
	if (check_unique_sites(vpns, p, err) != 0)
		goto fail;
	p->generation = ++policy_generation;
	return p;
fail:
	if (p == NULL && err != NULL)
		snprintf(err->msg, sizeof(err->msg), "out of memory");
	vnoc_policy_free(p);
	return NULL;
}

/* Deep copy of a scalar or an array/list of scalars into @parent under @name. */
static int copy_setting(config_setting_t *parent, const char *name, const config_setting_t *src)
{
	int type = config_setting_type(src);
	config_setting_t *dst = config_setting_add(parent, name, type);

	if (dst == NULL)
		return -EINVAL;
	switch (type) {
	case CONFIG_TYPE_INT:
		return config_setting_set_int(dst, config_setting_get_int(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_INT64:
		return config_setting_set_int64(dst, config_setting_get_int64(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_BOOL:
		return config_setting_set_bool(dst, config_setting_get_bool(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_STRING:
		return config_setting_set_string(dst, config_setting_get_string(src)) ? 0 : -EINVAL;
	case CONFIG_TYPE_ARRAY:
	case CONFIG_TYPE_LIST:
		for (int i = 0; i < config_setting_length(src); i++)
			if (copy_setting(
				    dst, NULL, config_setting_get_elem(src, (unsigned int)i)) != 0)
				return -EINVAL;
		return 0;
	default:
		return -EINVAL; /* groups and floats are not group-policy values */
	}
}

static config_setting_t *find_named(const config_setting_t *list, const char *name)
{
	for (int i = 0; list != NULL && i < config_setting_length(list); i++) {
		config_setting_t *e = config_setting_get_elem(list, (unsigned int)i);
		const char *n = NULL;

		if (config_setting_lookup_string(e, "name", &n) && strcmp(n, name) == 0)
			return e;
	}
	return NULL;
}

static int apply_edit(config_t *cfg, const struct vnoc_policy_edit *e, struct vnoc_policy_err *err)
{
	config_setting_t *vpn = find_named(config_lookup(cfg, "vpns"), e->vpn);
	config_setting_t *grp =
		vpn ? find_named(config_setting_get_member(vpn, "groups"), e->group) : NULL;
	char *text = NULL;
	config_t val;
	int rc = -EINVAL;

	if (grp == NULL || strcmp(e->key, "name") == 0) {
		snprintf(err->msg, sizeof(err->msg),
			"policy edit: no group %s in vpn %s (or key 'name')", e->group, e->vpn);
		return -EINVAL;
	}
	if (asprintf(&text, "v = %s;", e->value) < 0)
		return -ENOMEM;
	config_init(&val);
	if (config_read_string(&val, text) && config_lookup(&val, "v") != NULL) {
		config_setting_remove(grp, e->key);
		rc = copy_setting(grp, e->key, config_lookup(&val, "v"));
	}
	if (rc != 0)
		snprintf(err->msg, sizeof(err->msg), "policy edit %s/%s: bad value for %s: %s",
			e->vpn, e->group, e->key, e->value);
	config_destroy(&val);
	free(text);
	return rc;
}

static struct vnoc_policy *load(bool file, const char *arg, const struct vnoc_policy_edit *edits,
	size_t n_edits, struct vnoc_policy_err *err)
{
	struct vnoc_policy_err dummy;
	struct vnoc_policy *p = NULL;
	config_t cfg;
	int ok;

	err = err != NULL ? err : &dummy;
	config_init(&cfg);
	ok = file ? config_read_file(&cfg, arg) : config_read_string(&cfg, arg);
	if (!ok) {
		snprintf(err->msg, sizeof(err->msg), "%s:%d: %s",
			config_error_file(&cfg) ? config_error_file(&cfg)
						: (file ? arg : "<config>"),
			config_error_line(&cfg),
			config_error_text(&cfg) ? config_error_text(&cfg) : "cannot read");
		config_destroy(&cfg);
		return NULL;
	}
	/* the edited settings keep a source line of 0: errors name the edit */
	for (size_t i = 0; i < n_edits; i++) {
		if (apply_edit(&cfg, &edits[i], err) != 0) {
			config_destroy(&cfg);
			return NULL;
		}
	}
	p = vnoc_policy_build(&cfg, err);
	config_destroy(&cfg);
	return p;
}

struct vnoc_policy *vnoc_policy_load_file(const char *path, struct vnoc_policy_err *err)
{
	return load(true, path, NULL, 0, err);
}

struct vnoc_policy *vnoc_policy_load_file_edits(const char *path,
	const struct vnoc_policy_edit *edits, size_t n_edits, struct vnoc_policy_err *err)
{
	return load(true, path, edits, n_edits, err);
}

struct vnoc_policy *vnoc_policy_load_string(const char *text, struct vnoc_policy_err *err)
{
	return load(false, text, NULL, 0, err);
}

int vnoc_policy_find_site(
	const struct vnoc_policy *p, const char *site, unsigned int *vpn, unsigned int *site_idx)
{
	for (size_t v = 0; v < p->n_vpns; v++) {
		int i = site_index(&p->vpns[v], site);

		if (i >= 0) {
			*vpn = (unsigned int)v;
			*site_idx = (unsigned int)i;
			return 0;
		}
	}
	return -ENOENT;
}

const struct vnoc_group_policy *vnoc_policy_group(
	const struct vnoc_policy *p, unsigned int vpn, uint32_t group)
{
	if (vpn >= p->n_vpns)
		return NULL;
	for (size_t i = 0; i < p->vpns[vpn].n_groups; i++) {
		const struct vnoc_group_policy *g = &p->vpns[vpn].groups[i];

		for (size_t r = 0; r < g->n_ranges; r++)
			if (vnoc_prefix_contains(&g->ranges[r], group))
				return g;
	}
	return NULL;
}

static bool source_allowed(const struct vnoc_group_policy *g, uint32_t src)
{
	if (g->n_sources == 0)
		return true;
	for (size_t i = 0; i < g->n_sources; i++)
		if (vnoc_prefix_contains(&g->sources[i], src))
			return true;
	return false;
}

static enum vnoc_refuse say(enum vnoc_refuse r, char *text, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static enum vnoc_refuse say(enum vnoc_refuse r, char *text, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (text != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(text, len, fmt, ap);
		va_end(ap);
	}
	return r;
}

static enum vnoc_refuse check_request(const struct vnoc_join_req *req, char *text, size_t len)
{
	if ((req->group & MCAST_MASK) != MCAST_NET ||
		(req->group & LINK_LOCAL_MASK) == LINK_LOCAL_NET)
		return say(VNOC_REFUSE_BAD_REQUEST, text, len,
			"%u.%u.%u.%u is not a routable multicast group", req->group >> 24,
			(req->group >> 16) & 0xff, (req->group >> 8) & 0xff, req->group & 0xff);
	if (req->role != VNOC_ROLE_RECEIVER && req->role != VNOC_ROLE_SENDER)
		return say(VNOC_REFUSE_BAD_REQUEST, text, len, "unknown role %d", req->role);
	/* a sender's filter mode means nothing: its sources are its sending hosts */
	if (req->role == VNOC_ROLE_RECEIVER && req->filter != VNOC_FILTER_INCLUDE &&
		req->filter != VNOC_FILTER_EXCLUDE)
		return say(
			VNOC_REFUSE_BAD_REQUEST, text, len, "unknown filter mode %d", req->filter);
	if (req->n_sources > VNOC_MAX_SOURCES || (req->n_sources > 0 && req->sources == NULL))
		return say(VNOC_REFUSE_BAD_REQUEST, text, len, "too many sources (%zu > %d)",
			req->n_sources, VNOC_MAX_SOURCES);
	if (req->filter == VNOC_FILTER_INCLUDE && req->n_sources == 0 &&
		req->role == VNOC_ROLE_RECEIVER)
		return say(VNOC_REFUSE_BAD_REQUEST, text, len, "INCLUDE with no source is a leave");
	return VNOC_GRANTED;
}

enum vnoc_refuse vnoc_policy_check_join(const struct vnoc_policy *p, unsigned int vpn,
	unsigned int site, const struct vnoc_join_req *req, char *text, size_t text_len)
{
	const struct vnoc_group_policy *g;
	enum vnoc_refuse r = check_request(req, text, text_len);

	if (r != VNOC_GRANTED)
		return r;
	if (vpn >= p->n_vpns || site >= p->vpns[vpn].n_sites)
		return say(VNOC_REFUSE_BAD_REQUEST, text, text_len, "unknown site");
	g = vnoc_policy_group(p, vpn, req->group);
	if (g == NULL)
		return say(VNOC_REFUSE_NO_POLICY, text, text_len,
			"no group policy of vpn %s covers the group", p->vpns[vpn].name);
	if (req->role == VNOC_ROLE_RECEIVER && !g->may_recv[site])
		return say(VNOC_REFUSE_NOT_ALLOWED_RECEIVE, text, text_len,
			"policy %s: site %s may not receive", g->name, p->vpns[vpn].sites[site]);
	if (req->role == VNOC_ROLE_SENDER && !g->may_send[site])
		return say(VNOC_REFUSE_NOT_ALLOWED_SEND, text, text_len,
			"policy %s: site %s may not send", g->name, p->vpns[vpn].sites[site]);
	/*
	 * A receiver's EXCLUDE list names sources it does NOT want: nothing to
	 * check, the tree only carries allowed sources anyway. INCLUDE lists and a
	 * sender's sending hosts must all be allowed.
	 */
	bool check_src = req->role == VNOC_ROLE_SENDER || req->filter == VNOC_FILTER_INCLUDE;

	for (size_t i = 0; check_src && i < req->n_sources; i++) {
		if (!source_allowed(g, req->sources[i]))
			return say(VNOC_REFUSE_SOURCE_NOT_ALLOWED, text, text_len,
				"policy %s: source %u.%u.%u.%u not allowed", g->name,
				req->sources[i] >> 24, (req->sources[i] >> 16) & 0xff,
				(req->sources[i] >> 8) & 0xff, req->sources[i] & 0xff);
	}
	return say(VNOC_GRANTED, text, text_len, "granted by policy %s", g->name);
}
