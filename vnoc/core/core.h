/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_CORE_H
#define VPRN_VNOC_CORE_CORE_H

/*
 * The VNOC service core: policy + membership + metrics + trees + keys +
 * persistence behind one facade. The daemon hands it decoded messages of
 * established sessions, session up/down events and time; the core answers
 * through the outbox. Single-threaded (the daemon's event loop).
 *
 * Site ids are 0..n-1 in config order (VPN by VPN, site by site), that is the
 * daemon registry's id - 1.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/clock.h"
#include "common/json.h"
#include "common/msg.h"
#include "outbox.h"
#include "policy.h"

struct vnoc_core;

struct vnoc_core_params {
	struct vnoc_policy *policy; /* taken over (freed by the core) */
	const char *db_path;	    /* NULL: no persistence (tests) */
	struct vprn_clock clock;
	struct vnoc_outbox out;
	const char *config_path; /* for `policy reload`; may be NULL */
};

struct vnoc_core_counters {
	uint64_t joins, refusals, leaves, expiries, refreshes, metrics, acks, stray_acks;
	uint64_t traffic_reports, tree_recomputes, reloads, reload_failures;
};

struct vnoc_core *vnoc_core_create(const struct vnoc_core_params *p);
void vnoc_core_destroy(struct vnoc_core *c);

/** Site id by name, or -ENOENT. */
int vnoc_core_site_id(const struct vnoc_core *c, const char *name);
uint32_t vnoc_core_n_sites(const struct vnoc_core *c);

/** A site's session is established (hello accepted): it gets its state again. */
void vnoc_core_site_up(struct vnoc_core *c, uint32_t site);
/** Its session ended: soft state stays until the hold time. */
void vnoc_core_site_down(struct vnoc_core *c, uint32_t site);

/** JSON members for `vprnctl vnoc sites`: the site's state digest check (digest_track.h). */
void vnoc_core_site_json(const struct vnoc_core *c, uint32_t site, struct vprn_json *j);

/** The state digest of the site's hello: recorded, not compared (digest_track.h). */
void vnoc_core_hello_digest(struct vnoc_core *c, uint32_t site, const uint8_t *d, uint32_t len);

/**
 * Startup hold (timers.startup_hold_ms): true while the core computes no tree
 * because sites connected before the start are not all back and refreshed.
 */
bool vnoc_core_holding(const struct vnoc_core *c);

/** Probe key shared by @a and @b (32 bytes, derived from a per-boot secret). */
void vnoc_core_probe_key(const struct vnoc_core *c, uint32_t a, uint32_t b, uint8_t key[32]);

/**
 * One message of an established session of @site. Returns 0, or -EPROTO
 * when the message is not acceptable (the daemon closes the session).
 */
int vnoc_core_handle(struct vnoc_core *c, uint32_t site, const struct vprn_msg *m);

/** Timers: expiry, debounced recomputation, rekey, re-optimisation. */
void vnoc_core_poll(struct vnoc_core *c);
uint64_t vnoc_core_next_deadline(const struct vnoc_core *c);

/**
 * Reload the policy from @path (NULL: the config path given at create).
 * A bad file changes nothing: -EINVAL with "FILE:LINE: message" in @err.
 */
int vnoc_core_reload(struct vnoc_core *c, const char *path, char *err, size_t err_len);

/**
 * Runtime policy edit (persisted, replayed over the file at every load):
 * option @key of group @group of VPN @vpn becomes @value (libconfig syntax,
 * e.g. "[\"br1\"]" or "\"star\"" or "2048"). Validated like a reload.
 */
int vnoc_core_policy_set(struct vnoc_core *c, const char *vpn, const char *group, const char *key,
	const char *value, char *err, size_t err_len);

const struct vnoc_core_counters *vnoc_core_counters(const struct vnoc_core *c);
const struct vnoc_policy *vnoc_core_policy(const struct vnoc_core *c);

/*
 * Control commands (vprnctl vnoc ...): fill @out with one JSON value or
 * return -errno with a message in @err. Same signature as vprn_ctl_fn with
 * the core as context.
 */
int vnoc_core_ctl_groups(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out,
	char *err, size_t errlen);
int vnoc_core_ctl_tree(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out, char *err,
	size_t errlen);
int vnoc_core_ctl_sas(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out, char *err,
	size_t errlen);
/* rekey: start a make-before-break rekey of every active SA channel now (core_rekey.c). */
int vnoc_core_ctl_rekey(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out,
	char *err, size_t errlen);
int vnoc_core_ctl_accounting(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out,
	char *err, size_t errlen);
int vnoc_core_ctl_policy(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out,
	char *err, size_t errlen);
int vnoc_core_ctl_metrics(struct vnoc_core *c, int argc, char **argv, struct vprn_json *out,
	char *err, size_t errlen);

#endif /* VPRN_VNOC_CORE_CORE_H */
