/* SPDX-License-Identifier: BSD-3-Clause */
#include "ed_conf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "control/membership/membership_conf.h"
#include "control/ed_probe.h"

#define DEFAULT_CTL "/run/vprn/ed.sock"

/* ---- extension point: sections owned by other modules --------------------- */

struct ed_ext {
	const char *key;
	int (*parse)(const config_setting_t *s, struct ed_conf *conf, struct vprn_conf_err *err);
};

/* The membership module's group: parsed and validated by its own parser. */
static int membership_section(
	const config_setting_t *s, struct ed_conf *conf, struct vprn_conf_err *err)
{
	struct membership_conf *mc = malloc(sizeof(*mc));
	int rc;

	if (mc == NULL)
		return vprn_conf_fail(err, s, NULL, "out of memory");
	rc = membership_conf_load(s, mc, err);
	if (rc != 0) {
		free(mc);
		return rc;
	}
	if (conf->membership_free != NULL)
		conf->membership_free(conf->membership);
	conf->membership = mc;
	conf->membership_free = free;
	return 0;
}

static const struct ed_ext ed_ext[] = {
	{ "membership", membership_section },
};

/* ---- sections --------------------------------------------------------------- */

static uint32_t mask_of(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

static int load_vnoc(
	const config_setting_t *root, const char *dir, struct ed_conf *c, struct vprn_conf_err *err)
{
	static const char *const keys[] = { "address", "port", "server_name", "ca", "cert", "key",
		"crl", "handshake_timeout_ms", "backoff_min_ms", "backoff_max_ms", NULL };
	struct ed_vnoc_conf *v = &c->vnoc;
	const config_setting_t *g;
	uint32_t port = v->port;
	int rc;

	if ((rc = vprn_conf_group(root, "vnoc", true, &g, err)) != 0 ||
		(rc = vprn_conf_only_keys(g, keys, err)) != 0 ||
		(rc = vprn_conf_ipv4(g, "address", true, &v->addr, err)) != 0 ||
		(rc = vprn_conf_u32(g, "port", false, 1, 65535, &port, err)) != 0 ||
		(rc = vprn_conf_str(g, "server_name", false, v->server_name, sizeof(v->server_name),
			 err)) != 0 ||
		(rc = vprn_conf_file(g, "ca", true, dir, v->ca, sizeof(v->ca), err)) != 0 ||
		(rc = vprn_conf_file(g, "cert", true, dir, v->cert, sizeof(v->cert), err)) != 0 ||
		(rc = vprn_conf_file(g, "key", true, dir, v->key, sizeof(v->key), err)) != 0 ||
		(rc = vprn_conf_file(g, "crl", false, dir, v->crl, sizeof(v->crl), err)) != 0 ||
		(rc = vprn_conf_u32(g, "handshake_timeout_ms", false, 100, 600000,
			 &v->handshake_timeout_ms, err)) != 0 ||
		(rc = vprn_conf_u32(
			 g, "backoff_min_ms", false, 10, 600000, &v->backoff_min_ms, err)) != 0 ||
		(rc = vprn_conf_u32(
			 g, "backoff_max_ms", false, 10, 3600000, &v->backoff_max_ms, err)) != 0)
		return rc;
	v->port = (uint16_t)port;
	if (v->backoff_max_ms < v->backoff_min_ms)
		return vprn_conf_fail(err, g, NULL, "backoff_max_ms < backoff_min_ms");
	return 0;
}

static int load_port(const config_setting_t *root, const char *name, struct dp_port_conf *p,
	uint32_t *gateway, uint16_t *probe_port, struct vprn_conf_err *err)
{
	static const char *const lan_keys[] = { "device", "address", "mtu", NULL };
	static const char *const wan_keys[] = { "device", "address", "gateway", "mtu", "probe_port",
		NULL };
	uint32_t probe = 0; /* off unless configured (ED_PROBE_PORT_DEFAULT is the usual port) */
	const config_setting_t *g;
	uint32_t mtu = 1500;
	int rc;

	if ((rc = vprn_conf_group(root, name, true, &g, err)) != 0 ||
		(rc = vprn_conf_only_keys(g, gateway != NULL ? wan_keys : lan_keys, err)) != 0 ||
		(rc = vprn_conf_str(g, "device", true, p->devargs, sizeof(p->devargs), err)) != 0 ||
		(rc = vprn_conf_prefix(g, "address", true, &p->addr, &p->prefix_len, err)) != 0 ||
		(rc = vprn_conf_u32(g, "mtu", false, 576, 9000, &mtu, err)) != 0)
		return rc;
	p->mtu = (uint16_t)mtu;
	if (p->prefix_len == 0 || p->prefix_len > 30)
		return vprn_conf_fail(err, config_setting_get_member(g, "address"), NULL,
			"'%s.address' prefix length must be 1..30", name);
	if ((p->addr & ~mask_of(p->prefix_len)) == 0 || (p->addr | mask_of(p->prefix_len)) == ~0u ||
		(p->addr >> 28) >= 0xe)
		return vprn_conf_fail(err, config_setting_get_member(g, "address"), NULL,
			"'%s.address' is not a usable host address", name);
	if (gateway == NULL)
		return 0;
	if ((rc = vprn_conf_ipv4(g, "gateway", false, gateway, err)) != 0 ||
		(rc = vprn_conf_u32(g, "probe_port", false, 0, 65535, &probe, err)) != 0)
		return rc;
	*probe_port = (uint16_t)probe; /* 0 = no probing */
	if (*gateway != 0 && ((*gateway ^ p->addr) & mask_of(p->prefix_len)) != 0)
		return vprn_conf_fail(err, config_setting_get_member(g, "gateway"), NULL,
			"'%s.gateway' is not on the %s subnet", name, name);
	if (*gateway == p->addr)
		return vprn_conf_fail(err, config_setting_get_member(g, "gateway"), NULL,
			"'%s.gateway' is the port's own address", name);
	return 0;
}

static int load_dataplane(
	const config_setting_t *root, struct ed_conf *c, struct vprn_conf_err *err)
{
	static const char *const keys[] = { "workers", "idle_sleep_us", "mbufs", "stage_cycles",
		NULL };
	const config_setting_t *g;
	uint32_t workers = c->dp.n_workers;
	int rc;

	if ((rc = vprn_conf_group(root, "dataplane", false, &g, err)) != 0 || g == NULL)
		return rc;
	if ((rc = vprn_conf_only_keys(g, keys, err)) != 0 ||
		(rc = vprn_conf_u32(g, "workers", false, 1, DP_MAX_WORKERS, &workers, err)) != 0 ||
		(rc = vprn_conf_u32(
			 g, "idle_sleep_us", false, 0, 100000, &c->dp.idle_sleep_us, err)) != 0 ||
		(rc = vprn_conf_u32(g, "mbufs", false, 511, 1048575, &c->dp.n_mbufs, err)) != 0 ||
		(rc = vprn_conf_bool(g, "stage_cycles", false, &c->dp.stage_cycles, err)) != 0)
		return rc;
	c->dp.n_workers = workers;
	return 0;
}

static void defaults(struct ed_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->log_level = VPRN_LOG_INFO;
	snprintf(c->ctl_socket, sizeof(c->ctl_socket), "%s", DEFAULT_CTL);
	c->vnoc.port = 7800;
	snprintf(c->vnoc.server_name, sizeof(c->vnoc.server_name), "vnoc");
	c->vnoc.handshake_timeout_ms = 5000;
	c->vnoc.backoff_min_ms = 250;
	c->vnoc.backoff_max_ms = 8000;
	c->dp.n_workers = 1;
	c->dp.idle_sleep_us = 200;
	c->dp.n_mbufs = 4095;
}

static int subnets_overlap(const struct dp_port_conf *a, const struct dp_port_conf *b)
{
	uint8_t len = a->prefix_len < b->prefix_len ? a->prefix_len : b->prefix_len;

	return ((a->addr ^ b->addr) & mask_of(len)) == 0;
}

int ed_conf_load(const char *path, struct ed_conf *conf, struct vprn_conf_err *err)
{
	static const char *const keys[] = { "site", "log_level", "ctl_socket", "vnoc", "lan", "wan",
		"dataplane", "membership", NULL };
	const config_setting_t *root;
	char dir[PATH_MAX];
	config_t cfg;
	int rc;

	defaults(conf);
	snprintf(conf->path, sizeof(conf->path), "%s", path);
	rc = vprn_conf_read(&cfg, path, err);
	if (rc != 0)
		return rc;
	vprn_conf_dirname(path, dir, sizeof(dir));
	root = config_root_setting(&cfg);
	if ((rc = vprn_conf_only_keys(root, keys, err)) != 0 ||
		(rc = vprn_conf_str(root, "site", true, conf->site, sizeof(conf->site), err)) !=
			0 ||
		(rc = vprn_conf_log_level(root, "log_level", &conf->log_level, err)) != 0 ||
		(rc = vprn_conf_str(root, "ctl_socket", false, conf->ctl_socket,
			 sizeof(conf->ctl_socket), err)) != 0 ||
		(rc = load_vnoc(root, dir, conf, err)) != 0 ||
		(rc = load_port(root, "lan", &conf->dp.lan, NULL, NULL, err)) != 0 ||
		(rc = load_port(root, "wan", &conf->dp.wan, &conf->dp.wan_gateway,
			 &conf->dp.probe_port, err)) != 0 ||
		(rc = load_dataplane(root, conf, err)) != 0)
		goto out;
	for (const char *p = conf->site; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.')) {
			rc = vprn_conf_fail(err, config_setting_get_member(root, "site"), NULL,
				"site name: use letters, digits, '-', '_', '.'");
			goto out;
		}
	if (subnets_overlap(&conf->dp.lan, &conf->dp.wan)) {
		rc = vprn_conf_fail(err, config_setting_get_member(root, "wan"), NULL,
			"LAN and WAN subnets overlap");
		goto out;
	}
	for (size_t i = 0; i < sizeof(ed_ext) / sizeof(ed_ext[0]); i++) {
		const config_setting_t *s = config_setting_get_member(root, ed_ext[i].key);

		if (s != NULL && (rc = ed_ext[i].parse(s, conf, err)) != 0)
			goto out;
	}
out:
	config_destroy(&cfg);
	if (rc != 0)
		ed_conf_free(conf);
	return rc;
}

void ed_conf_free(struct ed_conf *conf)
{
	if (conf->membership_free != NULL)
		conf->membership_free(conf->membership);
	conf->membership = NULL;
	conf->membership_free = NULL;
}
