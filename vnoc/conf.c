/* SPDX-License-Identifier: BSD-3-Clause */
#include "conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "core/policy.h"

#define DEFAULT_CTL "/run/vprn/vnoc.sock"
#define DEFAULT_PORT 7800

/* ---- extension points ------------------------------------------------------ */

struct vnoc_vpn_ext {
	const char *key;
	int (*parse)(const config_setting_t *s, struct vnoc_vpn *vpn, const struct vnoc_conf *conf,
		struct vprn_conf_err *err);
};

/*
 * `groups` is the policy module's (vnoc helper). Until it is wired in, the
 * loader only checks the shape: a list of groups { ... }. It keeps nothing.
 */
static int groups_shape(const config_setting_t *s, struct vnoc_vpn *vpn,
	const struct vnoc_conf *conf, struct vprn_conf_err *err)
{
	(void)vpn;
	(void)conf;
	if (!config_setting_is_list(s))
		return vprn_conf_fail(err, s, NULL, "'groups' must be a list ( { ... }, ... )");
	for (int i = 0; i < config_setting_length(s); i++)
		if (!config_setting_is_group(config_setting_get_elem(s, (unsigned int)i)))
			return vprn_conf_fail(err, config_setting_get_elem(s, (unsigned int)i),
				NULL, "each group policy must be a group { ... }");
	return 0;
}

static int classes_shape(const config_setting_t *s, struct vnoc_vpn *vpn,
	const struct vnoc_conf *conf, struct vprn_conf_err *err)
{
	(void)vpn;
	(void)conf;
	if (!config_setting_is_list(s))
		return vprn_conf_fail(err, s, NULL, "'classes' must be a list ( { ... }, ... )");
	return 0;
}

static const struct vnoc_vpn_ext vnoc_vpn_ext[] = {
	{ "groups", groups_shape },   /* group policies (vnoc/core/policy.c) */
	{ "classes", classes_shape }, /* site classes (vnoc/core/policy.c) */
};

/* Top-level sections of the service modules (vnoc/core, docs/vnoc.md). */
struct vnoc_top_ext {
	const char *key;
	int (*parse)(const config_setting_t *s, struct vnoc_conf *conf, struct vprn_conf_err *err);
};

static int group_shape(const config_setting_t *s, struct vnoc_conf *conf, struct vprn_conf_err *err)
{
	(void)conf;
	if (!config_setting_is_group(s))
		return vprn_conf_fail(
			err, s, NULL, "'%s' must be a group { ... }", config_setting_name(s));
	return 0;
}

static const struct vnoc_top_ext vnoc_top_ext[] = {
	{ "trees", group_shape },
	{ "keys", group_shape },
	{ "metrics", group_shape },
	{ "limits", group_shape },
};

/* ---- loader ---------------------------------------------------------------- */

static bool valid_site_name(const char *s)
{
	for (const char *p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.'))
			return false;
	return s[0] != '\0';
}

static int load_tls(const config_setting_t *root, const char *dir, struct vnoc_conf *c,
	struct vprn_conf_err *err)
{
	static const char *const keys[] = { "ca", "cert", "key", "crl", "handshake_timeout_ms",
		NULL };
	const config_setting_t *g;
	int rc;

	if ((rc = vprn_conf_group(root, "tls", true, &g, err)) != 0 ||
		(rc = vprn_conf_only_keys(g, keys, err)) != 0 ||
		(rc = vprn_conf_file(g, "ca", true, dir, c->tls.ca, sizeof(c->tls.ca), err)) != 0 ||
		(rc = vprn_conf_file(
			 g, "cert", true, dir, c->tls.cert, sizeof(c->tls.cert), err)) != 0 ||
		(rc = vprn_conf_file(g, "key", true, dir, c->tls.key, sizeof(c->tls.key), err)) !=
			0 ||
		(rc = vprn_conf_file(g, "crl", false, dir, c->tls.crl, sizeof(c->tls.crl), err)) !=
			0 ||
		(rc = vprn_conf_u32(g, "handshake_timeout_ms", false, 100, 600000,
			 &c->tls.handshake_timeout_ms, err)) != 0)
		return rc;
	return 0;
}

static int load_timers(const config_setting_t *root, struct vnoc_conf *c, struct vprn_conf_err *err)
{
	static const char *const keys[] = { "refresh_interval_ms", "hold_time_ms",
		"probe_interval_ms", "metrics_interval_ms", "startup_hold_ms", NULL };
	const config_setting_t *g;
	int rc;

	if ((rc = vprn_conf_group(root, "timers", false, &g, err)) != 0 || g == NULL)
		return rc;
	if ((rc = vprn_conf_only_keys(g, keys, err)) != 0 ||
		(rc = vprn_conf_u32(g, "refresh_interval_ms", false, 100, 3600000,
			 &c->timers.refresh_interval_ms, err)) != 0 ||
		(rc = vprn_conf_u32(g, "hold_time_ms", false, 100, 3600000, &c->timers.hold_time_ms,
			 err)) != 0 ||
		(rc = vprn_conf_u32(g, "probe_interval_ms", false, 10, 3600000,
			 &c->timers.probe_interval_ms, err)) != 0 ||
		(rc = vprn_conf_u32(g, "metrics_interval_ms", false, 100, 3600000,
			 &c->timers.metrics_interval_ms, err)) != 0)
		return rc;
	if (c->timers.hold_time_ms < 2 * c->timers.refresh_interval_ms)
		return vprn_conf_fail(err, config_setting_get_member(g, "hold_time_ms"), NULL,
			"hold_time_ms (%u) must be at least twice refresh_interval_ms "
			"(%u)",
			c->timers.hold_time_ms, c->timers.refresh_interval_ms);
	return 0;
}

static int load_listen(const config_setting_t *root, struct vnoc_conf *c, struct vprn_conf_err *err)
{
	static const char *const keys[] = { "address", "port", NULL };
	const config_setting_t *g;
	uint32_t port = DEFAULT_PORT;
	int rc;

	if ((rc = vprn_conf_group(root, "listen", false, &g, err)) != 0 || g == NULL)
		return rc;
	if ((rc = vprn_conf_only_keys(g, keys, err)) != 0 ||
		(rc = vprn_conf_ipv4(g, "address", false, &c->listen_addr, err)) != 0 ||
		(rc = vprn_conf_u32(g, "port", false, 1, 65535, &port, err)) != 0)
		return rc;
	c->listen_port = (uint16_t)port;
	return 0;
}

static int load_site(const config_setting_t *s, struct vnoc_conf *c, struct vnoc_vpn *vpn,
	struct vprn_conf_err *err)
{
	static const char *const keys[] = { "name", "wan", "max_degree", "relay", NULL };
	struct vnoc_site *site = &c->sites[c->n_sites];
	int rc;

	if (!config_setting_is_group(s))
		return vprn_conf_fail(err, s, NULL, "each site must be a group { ... }");
	site->max_degree = 8;
	site->relay = true;
	if ((rc = vprn_conf_only_keys(s, keys, err)) != 0 ||
		(rc = vprn_conf_str(s, "name", true, site->name, sizeof(site->name), err)) != 0 ||
		(rc = vprn_conf_ipv4(s, "wan", true, &site->wan_addr, err)) != 0 ||
		(rc = vprn_conf_u32(s, "max_degree", false, 1, 1024, &site->max_degree, err)) !=
			0 ||
		(rc = vprn_conf_bool(s, "relay", false, &site->relay, err)) != 0)
		return rc;
	if (!valid_site_name(site->name))
		return vprn_conf_fail(err, config_setting_get_member(s, "name"), NULL,
			"site name '%s': use letters, digits, '-', '_', '.'", site->name);
	for (uint32_t i = 0; i < c->n_sites; i++) {
		if (strcmp(c->sites[i].name, site->name) == 0)
			return vprn_conf_fail(err, config_setting_get_member(s, "name"), NULL,
				"duplicate site name '%s' (first at line %d)", site->name,
				c->sites[i].line);
		if (c->sites[i].wan_addr == site->wan_addr)
			return vprn_conf_fail(err, config_setting_get_member(s, "wan"), NULL,
				"site '%s' has the same WAN address as '%s'", site->name,
				c->sites[i].name);
	}
	site->line = (int)config_setting_source_line(s);
	site->id = c->n_sites + 1;
	site->vpn = vpn;
	vpn->sites[vpn->n_sites++] = site;
	c->n_sites++;
	return 0;
}

static int load_vpn(const config_setting_t *v, struct vnoc_conf *c, struct vnoc_vpn *vpn,
	struct vprn_conf_err *err)
{
	static const char *const keys[] = { "name", "sites", "groups", "classes", NULL };
	const config_setting_t *sites;
	int rc;

	if (!config_setting_is_group(v))
		return vprn_conf_fail(err, v, NULL, "each VPN must be a group { ... }");
	if ((rc = vprn_conf_only_keys(v, keys, err)) != 0 ||
		(rc = vprn_conf_str(v, "name", true, vpn->name, sizeof(vpn->name), err)) != 0 ||
		(rc = vprn_conf_list(v, "sites", true, &sites, err)) != 0)
		return rc;
	for (uint32_t i = 0; i < c->n_vpns; i++)
		if (strcmp(c->vpns[i].name, vpn->name) == 0)
			return vprn_conf_fail(err, config_setting_get_member(v, "name"), NULL,
				"duplicate VPN name '%s'", vpn->name);
	if (config_setting_length(sites) == 0)
		return vprn_conf_fail(err, sites, NULL, "VPN '%s' has no sites", vpn->name);
	vpn->sites = calloc((size_t)config_setting_length(sites), sizeof(*vpn->sites));
	if (vpn->sites == NULL)
		return -ENOMEM;
	for (int i = 0; i < config_setting_length(sites); i++)
		if ((rc = load_site(
			     config_setting_get_elem(sites, (unsigned int)i), c, vpn, err)) != 0)
			return rc;
	for (size_t i = 0; i < sizeof(vnoc_vpn_ext) / sizeof(vnoc_vpn_ext[0]); i++) {
		const config_setting_t *s = config_setting_get_member(v, vnoc_vpn_ext[i].key);

		if (s != NULL && (rc = vnoc_vpn_ext[i].parse(s, vpn, c, err)) != 0)
			return rc;
	}
	return 0;
}

static int count_sites(const config_setting_t *vpns, size_t *n)
{
	*n = 0;
	for (int i = 0; i < config_setting_length(vpns); i++) {
		const config_setting_t *s = config_setting_get_member(
			config_setting_get_elem(vpns, (unsigned int)i), "sites");

		if (s != NULL && config_setting_is_list(s))
			*n += (size_t)config_setting_length(s);
	}
	return 0;
}

static int load_vpns(const config_setting_t *root, struct vnoc_conf *c, struct vprn_conf_err *err)
{
	const config_setting_t *vpns;
	size_t n_sites;
	int rc;

	if ((rc = vprn_conf_list(root, "vpns", true, &vpns, err)) != 0)
		return rc;
	if (config_setting_length(vpns) == 0)
		return vprn_conf_fail(err, vpns, NULL, "no VPN defined");
	count_sites(vpns, &n_sites);
	c->vpns = calloc((size_t)config_setting_length(vpns), sizeof(*c->vpns));
	c->sites = calloc(n_sites != 0 ? n_sites : 1, sizeof(*c->sites));
	if (c->vpns == NULL || c->sites == NULL)
		return -ENOMEM;
	for (int i = 0; i < config_setting_length(vpns); i++) {
		rc = load_vpn(config_setting_get_elem(vpns, (unsigned int)i), c, &c->vpns[i], err);
		c->n_vpns = (uint32_t)i + 1; /* so that free() sees a partly loaded VPN */
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* Group policies and the core's options are validated by the service core's own loader. */
static int check_policy(const config_t *cfg, struct vprn_conf_err *err)
{
	struct vnoc_policy_err perr = { .text = NULL };
	struct vnoc_policy *p = vnoc_policy_build(cfg, &perr);

	if (p != NULL) {
		vnoc_policy_free(p);
		return 0;
	}
	snprintf(err->file, sizeof(err->file), "%s", perr.file);
	err->line = perr.line;
	snprintf(err->msg, sizeof(err->msg), "%.255s", perr.text != NULL ? perr.text : perr.msg);
	return -EINVAL;
}

static void defaults(struct vnoc_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = VPRN_LOG_INFO;
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", DEFAULT_CTL);
	c->listen_port = DEFAULT_PORT;
	c->tls.handshake_timeout_ms = 5000;
	c->timers.refresh_interval_ms = 2000;
	c->timers.hold_time_ms = 6000;
	c->timers.probe_interval_ms = 1000;
	c->timers.metrics_interval_ms = 2000;
	snprintf(c->database, sizeof(c->database), "/var/lib/vprn/vnoc.db");
}

int vnoc_conf_load(const char *path, struct vnoc_conf *conf, struct vprn_conf_err *err)
{
	/* trees, keys, metrics, limits: the service core's options (vnoc/core/policy_opts.c) */
	static const char *const keys[] = { "log_level", "ctl_socket", "listen", "tls", "timers",
		"database", "vpns", "trees", "keys", "metrics", "limits", NULL };
	char dir[PATH_MAX];
	config_t cfg;
	const config_setting_t *root;
	int rc;

	defaults(conf);
	snprintf(conf->path, sizeof(conf->path), "%s", path);
	rc = vprn_conf_read(&cfg, path, err);
	if (rc != 0)
		return rc;
	vprn_conf_dirname(path, dir, sizeof(dir));
	root = config_root_setting(&cfg);
	if ((rc = vprn_conf_only_keys(root, keys, err)) != 0 ||
		(rc = vprn_conf_log_level(root, "log_level", &conf->log_level, err)) != 0 ||
		(rc = vprn_conf_str(root, "ctl_socket", false, conf->ctl_socket,
			 sizeof(conf->ctl_socket), err)) != 0 ||
		(rc = load_listen(root, conf, err)) != 0 ||
		(rc = load_tls(root, dir, conf, err)) != 0 ||
		(rc = load_timers(root, conf, err)) != 0 ||
		(rc = vprn_conf_path(root, "database", false, dir, conf->database,
			 sizeof(conf->database), err)) != 0 ||
		(rc = load_vpns(root, conf, err)) != 0) {
		config_destroy(&cfg);
		vnoc_conf_free(conf);
		return rc == -ENOMEM ? vprn_conf_fail(err, NULL, path, "out of memory"),
		       -ENOMEM	     : rc;
	}
	for (size_t i = 0; i < sizeof(vnoc_top_ext) / sizeof(vnoc_top_ext[0]); i++) {
		const config_setting_t *s = config_setting_get_member(root, vnoc_top_ext[i].key);

		if (s != NULL && (rc = vnoc_top_ext[i].parse(s, conf, err)) != 0) {
			config_destroy(&cfg);
			vnoc_conf_free(conf);
			return rc;
		}
	}
	/* after the shape checks: group policies and the core's options in full */
	if ((rc = check_policy(&cfg, err)) != 0) {
		config_destroy(&cfg);
		vnoc_conf_free(conf);
		return rc;
	}
	config_destroy(&cfg);
	return 0;
}

void vnoc_conf_free(struct vnoc_conf *conf)
{
	for (uint32_t i = 0; i < conf->n_vpns; i++) {
		if (conf->vpns[i].groups_free != NULL)
			conf->vpns[i].groups_free(conf->vpns[i].groups);
		free(conf->vpns[i].sites);
	}
	free(conf->vpns);
	free(conf->sites);
	conf->vpns = NULL;
	conf->sites = NULL;
	conf->n_vpns = 0;
	conf->n_sites = 0;
}

const struct vnoc_site *vnoc_conf_site(const struct vnoc_conf *conf, const char *name)
{
	/* Linear: hundreds of sites, looked up once per session. */
	for (uint32_t i = 0; i < conf->n_sites; i++)
		if (strcmp(conf->sites[i].name, name) == 0)
			return &conf->sites[i];
	return NULL;
}

const struct vnoc_site *vnoc_conf_site_by_id(const struct vnoc_conf *conf, uint32_t id)
{
	return id >= 1 && id <= conf->n_sites ? &conf->sites[id - 1] : NULL;
}
