/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_POLICY_H
#define VPRN_VNOC_CORE_POLICY_H

/*
 * VNOC policy: the core's tunables (`trees`, `keys`, `metrics` groups at the
 * top of vnoc.conf) and, per VPN, the site classes and group policies
 * (`vpns[].classes`, `vpns[].groups`). Parsed from libconfig through the
 * option table of policy_opts.c, validated, then immutable: a reload builds a
 * new policy and swaps the pointer only when the whole file is valid.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libconfig.h>

#include "types.h"

struct vnoc_prefix {
	uint32_t addr; /* host byte order, already masked */
	uint32_t mask;
	uint8_t len;
};

struct vnoc_strlist {
	char **v;
	size_t n;
};

/** Core tunables; every field is one row of the option table (int64 for the table). */
struct vnoc_core_conf {
	int64_t hold_time_ms;
	int64_t refresh_interval_ms;
	int64_t startup_hold_ms; /* -1: hold_time_ms */
	int64_t debounce_ms;
	int64_t reoptimise_interval_ms;
	int64_t hysteresis_pct;
	int64_t keep_forwarding_ms;
	int64_t tree_grace_ms;
	int64_t ack_timeout_ms;
	int64_t ack_retries;
	int64_t retire_grace_ms;
	int64_t metrics_alpha_pct;
	int64_t metrics_stale_ms;
	int64_t metrics_default_rtt_us;
	int64_t max_groups_per_site;
};

struct vnoc_group_policy {
	char name[VNOC_NAME_MAX];
	struct vnoc_strlist ranges_s;
	struct vnoc_strlist receivers_s;
	struct vnoc_strlist senders_s;
	struct vnoc_strlist sources_s;
	int64_t tree_kind; /* enum vnoc_tree_kind */
	int64_t sa_mode;   /* enum vnoc_sa_mode */
	int64_t transform; /* enum vnoc_transform */
	int64_t replay_window;
	int64_t soft_seconds;
	int64_t hard_seconds;
	int64_t soft_bytes;
	int64_t hard_bytes;
	int64_t max_degree; /* 0 = the sites' own budgets */
	/* resolved at validation */
	struct vnoc_prefix *ranges;
	size_t n_ranges;
	struct vnoc_prefix *sources; /* n_sources == 0: any source */
	size_t n_sources;
	uint8_t *may_recv; /* per site index of the VPN */
	uint8_t *may_send;
	int line;
};

struct vnoc_site_class {
	char name[VNOC_NAME_MAX];
	struct vnoc_strlist sites_s;
	int line;
};

struct vnoc_vpn_policy {
	char name[VNOC_NAME_MAX];
	char (*sites)[VNOC_NAME_MAX]; /* site names, config order = site index */
	size_t n_sites;
	/* read-only copies of the registry's site fields (the daemon's loader owns them) */
	uint32_t *site_wan;	   /* `wan`, host order; 0 if absent */
	uint32_t *site_max_degree; /* `max_degree`; 0 = solver default */
	uint8_t *site_relay;	   /* `relay`; default true */
	struct vnoc_site_class *classes;
	size_t n_classes;
	struct vnoc_group_policy *groups;
	size_t n_groups;
};

struct vnoc_policy {
	struct vnoc_core_conf conf;
	struct vnoc_vpn_policy *vpns;
	size_t n_vpns;
	uint64_t generation;
};

/** Error text of a failed load: "FILE:LINE: message". */
struct vnoc_policy_err {
	char msg[512]; /* the whole "FILE:LINE: message" */
	char file[256];
	int line;
	const char *text; /* into msg: the message without "FILE:LINE: " */
};

/**
 * Build a policy from a parsed config (root setting). Returns NULL and fills
 * @err on the first error. Sites are read by name only (the registry owns
 * their other fields).
 */
struct vnoc_policy *vnoc_policy_build(const config_t *cfg, struct vnoc_policy_err *err);

/** Read and build from a file (used by --check and reload). */
struct vnoc_policy *vnoc_policy_load_file(const char *path, struct vnoc_policy_err *err);

/** A runtime edit: option @key of group @group of VPN @vpn becomes @value (libconfig syntax). */
struct vnoc_policy_edit {
	const char *vpn, *group, *key, *value;
};

/**
 * Read @path, apply @edits in order over it, then build. An edit naming an
 * unknown VPN or group, or a value that does not parse, is an error.
 */
struct vnoc_policy *vnoc_policy_load_file_edits(const char *path,
	const struct vnoc_policy_edit *edits, size_t n_edits, struct vnoc_policy_err *err);

/** Same from a string (tests, fuzzing). */
struct vnoc_policy *vnoc_policy_load_string(const char *text, struct vnoc_policy_err *err);

void vnoc_policy_free(struct vnoc_policy *p);

/** Find a site by name; 0 and indices, or -ENOENT. */
int vnoc_policy_find_site(
	const struct vnoc_policy *p, const char *site, unsigned int *vpn, unsigned int *site_idx);

/** The group policy covering @group in @vpn (first range match in config order), or NULL. */
const struct vnoc_group_policy *vnoc_policy_group(
	const struct vnoc_policy *p, unsigned int vpn, uint32_t group);

/** A join request as the core sees it. */
struct vnoc_join_req {
	uint32_t group;
	int role;   /* enum vnoc_role; other values refused */
	int filter; /* enum vnoc_filter; other values refused */
	const uint32_t *sources;
	size_t n_sources;
};

/**
 * Check one join against the policy. Returns VNOC_GRANTED or a refusal
 * reason; @text (may be NULL) receives a readable explanation either way.
 */
enum vnoc_refuse vnoc_policy_check_join(const struct vnoc_policy *p, unsigned int vpn,
	unsigned int site, const struct vnoc_join_req *req, char *text, size_t text_len);

/** Parse "a.b.c.d/len" (len optional = 32); 0 or -EINVAL. */
int vnoc_prefix_parse(const char *s, struct vnoc_prefix *out);

static inline bool vnoc_prefix_contains(const struct vnoc_prefix *p, uint32_t addr)
{
	return (addr & p->mask) == p->addr;
}

#endif /* VPRN_VNOC_CORE_POLICY_H */
