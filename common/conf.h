/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_CONF_H
#define VPRN_COMMON_CONF_H

/**
 * @file
 * libconfig helpers shared by the ED and VNOC loaders: every error carries
 * FILE:LINE (libconfig knows both for parse errors and for each setting),
 * typed getters with range checks, strict IPv4 and prefix parsing, paths
 * relative to the config file, and refusal of unknown keys (a typo must not
 * be silently ignored).
 *
 * Getters return 0 (found and valid, or absent and optional: *out untouched),
 * or -EINVAL with err filled. Callers stop at the first error.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

struct vprn_conf_err {
	char file[256];
	int line;
	char msg[256];
};

/** Print "FILE:LINE: message\n". */
void vprn_conf_err_print(const struct vprn_conf_err *err, FILE *out);

/** Fill err from a setting's position (s may be NULL: the file, line 1). */
int vprn_conf_fail(struct vprn_conf_err *err, const config_setting_t *s, const char *path,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * config_init() + read the file (relative @include resolved from its
 * directory). On error the config is destroyed and err filled.
 */
int vprn_conf_read(config_t *cfg, const char *path, struct vprn_conf_err *err);

/** Directory of path (for relative paths inside the file), into dir. */
void vprn_conf_dirname(const char *path, char *dir, size_t cap);

/** Refuse any key of group g not in allowed (NULL-terminated). */
int vprn_conf_only_keys(
	const config_setting_t *g, const char *const allowed[], struct vprn_conf_err *err);

/** A group member that must be a group (or list with `list`); NULL if absent. */
int vprn_conf_group(const config_setting_t *g, const char *name, bool required,
	const config_setting_t **out, struct vprn_conf_err *err);
int vprn_conf_list(const config_setting_t *g, const char *name, bool required,
	const config_setting_t **out, struct vprn_conf_err *err);

int vprn_conf_str(const config_setting_t *g, const char *name, bool required, char *out, size_t cap,
	struct vprn_conf_err *err);
int vprn_conf_int(const config_setting_t *g, const char *name, bool required, long long min,
	long long max, long long *out, struct vprn_conf_err *err);
int vprn_conf_u32(const config_setting_t *g, const char *name, bool required, uint32_t min,
	uint32_t max, uint32_t *out, struct vprn_conf_err *err);
int vprn_conf_bool(const config_setting_t *g, const char *name, bool required, bool *out,
	struct vprn_conf_err *err);
int vprn_conf_ipv4(const config_setting_t *g, const char *name, bool required, uint32_t *out,
	struct vprn_conf_err *err);
/** "a.b.c.d/len": address kept as written (host bits allowed: an interface address). */
int vprn_conf_prefix(const config_setting_t *g, const char *name, bool required, uint32_t *addr,
	uint8_t *len, struct vprn_conf_err *err);
/** A path; relative ones are made relative to basedir. Empty string allowed if !required. */
int vprn_conf_path(const config_setting_t *g, const char *name, bool required, const char *basedir,
	char *out, size_t cap, struct vprn_conf_err *err);
/** Like vprn_conf_path(), and the file (if set) must be readable now. */
int vprn_conf_file(const config_setting_t *g, const char *name, bool required, const char *basedir,
	char *out, size_t cap, struct vprn_conf_err *err);
/** log_level = "err|warn|info|debug". */
int vprn_conf_log_level(
	const config_setting_t *g, const char *name, int *out, struct vprn_conf_err *err);

/** Strict dotted quad (no leading zeros, 4 parts, each 0..255), host byte order. */
int vprn_parse_ipv4(const char *s, uint32_t *out);
/** "a.b.c.d/n", n in 0..32. */
int vprn_parse_prefix(const char *s, uint32_t *addr, uint8_t *len);
/** Format host-order IPv4 into buf (>= 16 bytes); returns buf. */
char *vprn_ipv4_str(uint32_t addr, char *buf);

#endif /* VPRN_COMMON_CONF_H */
