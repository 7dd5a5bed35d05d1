/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_CONF_H
#define VPRN_CONTROL_ED_CONF_H

/**
 * @file
 * vprn-ed configuration (ed.conf, libconfig; options in docs/ed.md):
 * parse -> validate -> immutable struct, errors with FILE:LINE.
 * The `membership` group belongs to the membership module: its parser is an
 * entry of the extension table in ed_conf.c.
 */

#include <limits.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/msg.h"
#include "dataplane/dp.h"

struct ed_vnoc_conf {
	uint32_t addr;
	uint16_t port;
	char server_name[VPRN_NAME_MAX]; /**< expected CN of the VNOC certificate */
	char ca[PATH_MAX];
	char cert[PATH_MAX];
	char key[PATH_MAX];
	char crl[PATH_MAX];
	uint32_t handshake_timeout_ms;
	uint32_t backoff_min_ms; /**< first reconnect delay */
	uint32_t backoff_max_ms; /**< cap of the exponential back-off */
};

struct ed_conf {
	char path[PATH_MAX];
	char site[VPRN_NAME_MAX];
	int log_level;
	char ctl_socket[108];
	struct ed_vnoc_conf vnoc;
	struct dp_conf dp;
	/** Membership settings, owned by the membership module (NULL until wired). */
	void *membership;
	void (*membership_free)(void *membership);
};

int ed_conf_load(const char *path, struct ed_conf *conf, struct vprn_conf_err *err);
void ed_conf_free(struct ed_conf *conf);

#endif /* VPRN_CONTROL_ED_CONF_H */
