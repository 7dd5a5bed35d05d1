/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_POLICY_OPTS_H
#define VPRN_VNOC_CORE_POLICY_OPTS_H

/*
 * The option table of the VNOC core configuration: one row per option, used
 * by the loader (type, bounds, default) and by the documentation generator
 * (vprn-vnoc-optdoc writes the tables of docs/vnoc.md).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

struct vnoc_policy_err;

enum vnoc_opt_type {
	VNOC_OPT_INT,
	VNOC_OPT_BOOL,
	VNOC_OPT_ENUM,	  /* string from `enums`; stored as index + 1 */
	VNOC_OPT_NAME,	  /* string up to VNOC_NAME_MAX - 1, stored in a char[] */
	VNOC_OPT_STRLIST, /* array/list of strings, or one string */
};

struct vnoc_opt {
	const char *name;
	enum vnoc_opt_type type;
	size_t offset;
	bool required;
	int64_t def, min, max;
	const char *const *enums; /* NULL-terminated */
	const char *def_text;	  /* default as shown in the docs for lists */
	const char *help;
};

struct vnoc_opt_scope {
	const char *path; /* as written in the docs, e.g. "vpns[].groups[]" */
	const char *help;
	const struct vnoc_opt *opts;
	size_t n_opts;
	bool strict; /* unknown keys are errors (false: the group is shared) */
};

enum vnoc_scope_id {
	VNOC_SCOPE_TIMERS,
	VNOC_SCOPE_TREES,
	VNOC_SCOPE_KEYS,
	VNOC_SCOPE_METRICS,
	VNOC_SCOPE_LIMITS,
	VNOC_SCOPE_CLASS,
	VNOC_SCOPE_GROUP,
	VNOC_SCOPE_COUNT,
};

const struct vnoc_opt_scope *vnoc_opt_scope(enum vnoc_scope_id id);

/**
 * Fill @obj from setting @s (NULL: all defaults) following @sc. Returns 0 or
 * -EINVAL with "FILE:LINE: message" in @err. Lists are allocated (free with
 * vnoc_strlist_free).
 */
int vnoc_opts_parse(const config_setting_t *s, const struct vnoc_opt_scope *sc, void *obj,
	struct vnoc_policy_err *err);

/** Print the markdown tables of every scope (docs/vnoc.md, section Configuration). */
void vnoc_opts_doc(FILE *f);

/** Error helper: "FILE:LINE: fmt" for setting @s (or "<config>" without a file). */
void vnoc_opts_err(struct vnoc_policy_err *err, const config_setting_t *s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

struct vnoc_strlist;
void vnoc_strlist_free(struct vnoc_strlist *l);

#endif /* VPRN_VNOC_CORE_POLICY_OPTS_H */
