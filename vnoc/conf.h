/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CONF_H
#define VPRN_VNOC_CONF_H

/**
 * @file
 * vprn-vnoc configuration and site registry (libconfig, CONVENTIONS.md):
 * parse -> validate -> immutable struct. Every error carries FILE:LINE.
 *
 * Extending: a VPN section's extra settings (e.g. `groups`, the group
 * policies) are parsed by entries of the extension table in conf.c
 * (vnoc_vpn_ext[]): each entry names a key, a parser that stores its result
 * in struct vnoc_vpn, and a destructor. Top-level keys work the same way
 * (vnoc_top_ext[]). Nothing is silently ignored: an unknown key is an error.
 */

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/msg.h"

struct vnoc_vpn;

struct vnoc_site {
	char name[VPRN_NAME_MAX]; /**< = certificate CN, unique across VPNs */
	uint32_t id;		  /**< 1..n_sites, stable for one config */
	uint32_t wan_addr;
	uint32_t max_degree; /**< overlay neighbours / uplink copies bound */
	bool relay;	     /**< may forward for others (transit node) */
	struct vnoc_vpn *vpn;
	int line; /**< config line, for messages */
};

struct vnoc_vpn {
	char name[VPRN_NAME_MAX];
	struct vnoc_site **sites; /**< into vnoc_conf.sites */
	uint32_t n_sites;
	/** Group policies (`groups`), owned by the policy module; NULL until it exists. */
	void *groups;
	void (*groups_free)(void *groups);
};

struct vnoc_tls_conf {
	char ca[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char crl[PATH_MAX]; /**< "" = none */
	uint32_t handshake_timeout_ms;
};

struct vnoc_timers {
	uint32_t refresh_interval_ms;
	uint32_t hold_time_ms;
	uint32_t probe_interval_ms;
	uint32_t metrics_interval_ms;
};

struct vnoc_conf {
	char path[PATH_MAX];
	int log_level; /**< enum vprn_log_level */
	char ctl_socket[108];
	uint32_t listen_addr;
	uint16_t listen_port;
	struct vnoc_tls_conf tls;
	struct vnoc_timers timers;
	char database[PATH_MAX];
	struct vnoc_vpn *vpns;
	uint32_t n_vpns;
	struct vnoc_site *sites; /**< all sites, id = index + 1 */
	uint32_t n_sites;
};

/** Load and validate. @return 0 or -errno with err filled (FILE:LINE: message). */
int vnoc_conf_load(const char *path, struct vnoc_conf *conf, struct vprn_conf_err *err);
void vnoc_conf_free(struct vnoc_conf *conf);

/** Registry lookups. NULL if unknown. */
const struct vnoc_site *vnoc_conf_site(const struct vnoc_conf *conf, const char *name);
const struct vnoc_site *vnoc_conf_site_by_id(const struct vnoc_conf *conf, uint32_t id);

#endif /* VPRN_VNOC_CONF_H */
