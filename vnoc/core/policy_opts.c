/* SPDX-License-Identifier: BSD-3-Clause */
#include "policy_opts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static const char *const tree_kinds[] = { "shared", "per-source", "star", "auto", NULL };
static const char *const sa_modes[] = { "pairwise", "group", NULL };
static const char *const transforms[] = { "aes-gcm-128", "aes-gcm-256", "aes-cbc-128-hmac-sha256",
	"aes-cbc-256-hmac-sha256", NULL };

#define CONF(f) offsetof(struct vnoc_core_conf, f)
#define GRP(f) offsetof(struct vnoc_group_policy, f)
#define CLS(f) offsetof(struct vnoc_site_class, f)
#define INT(n, off, d, lo, hi, h)                                                               \
	{                                                                                       \
		.name = n, .type = VNOC_OPT_INT, .offset = off, .def = d, .min = lo, .max = hi, \
		.help = h                                                                       \
	}

static const struct vnoc_opt timers_opts[] = {
	INT("refresh_interval_ms", CONF(refresh_interval_ms), 2000, 100, 600000,
		"ED refresh interval (read here for the debounce and rebuild logic; the session "
		"owns the rest of `timers`)"),
	INT("hold_time_ms", CONF(hold_time_ms), 6000, 300, 3600000,
		"a membership not refreshed for this long expires (about 3 refresh intervals)"),
	INT("startup_hold_ms", CONF(startup_hold_ms), -1, -1, 3600000,
		"after a start, no tree is computed until every site connected before the restart "
		"is back and has refreshed, at most this long (-1 = hold_time_ms, 0 = no hold)"),
};

static const struct vnoc_opt trees_opts[] = {
	INT("debounce_ms", CONF(debounce_ms), 200, 0, 60000,
		"membership changes of a group within this window cause one recomputation"),
	INT("reoptimise_interval_ms", CONF(reoptimise_interval_ms), 30000, 0, 86400000,
		"periodic re-solve of every tree with fresh metrics (0 = never)"),
	INT("hysteresis_pct", CONF(hysteresis_pct), 10, 0, 100,
		"a re-solved tree of the same members replaces the current one only if its cost is "
		"lower by this many percent"),
	INT("keep_forwarding_ms", CONF(keep_forwarding_ms), 10000, 0, 600000,
		"an ED that left implicitly keeps forwarding on the old tree at most this long"),
	INT("tree_grace_ms", CONF(tree_grace_ms), 5000, 0, 600000,
		"how long EDs still accept traffic from neighbours of the previous tree version"),
};

static const struct vnoc_opt keys_opts[] = {
	INT("ack_timeout_ms", CONF(ack_timeout_ms), 2000, 50, 600000,
		"an SA install not acknowledged within this time is sent again"),
	INT("ack_retries", CONF(ack_retries), 3, 0, 100,
		"installs sent again this many times; then the ED is declared failed for that SA "
		"and left out"),
	INT("retire_grace_ms", CONF(retire_grace_ms), 5000, 0, 600000,
		"after a sender switched to a new SA, receivers keep the old inbound SA this long"),
};

static const struct vnoc_opt metrics_opts[] = {
	INT("alpha_pct", CONF(metrics_alpha_pct), 25, 1, 100,
		"weight of a new RTT/loss report in the smoothed value (EWMA)"),
	INT("stale_ms", CONF(metrics_stale_ms), 20000, 100, 86400000,
		"a measurement older than this is replaced by the conservative estimate"),
	INT("default_rtt_us", CONF(metrics_default_rtt_us), 200000, 1, 10000000,
		"RTT assumed for a pair never measured (in either direction) while nothing else is "
		"known"),
};

static const struct vnoc_opt limits_opts[] = {
	INT("max_groups_per_site", CONF(max_groups_per_site), 1024, 1, 1000000,
		"memberships per site; more joins are refused with OVERLOADED"),
};

static const struct vnoc_opt class_opts[] = {
	{ .name = "name",
		.type = VNOC_OPT_NAME,
		.offset = CLS(name),
		.required = true,
		.help = "class name, referred to as `@name` in a group's receivers/senders" },
	{ .name = "sites",
		.type = VNOC_OPT_STRLIST,
		.offset = CLS(sites_s),
		.required = true,
		.help = "site names of this VPN" },
};

static const struct vnoc_opt group_opts[] = {
	{ .name = "name",
		.type = VNOC_OPT_NAME,
		.offset = GRP(name),
		.required = true,
		.help = "policy name (unique in the VPN), shown by the CLI" },
	{ .name = "ranges",
		.type = VNOC_OPT_STRLIST,
		.offset = GRP(ranges_s),
		.required = true,
		.help = "multicast prefixes `a.b.c.d/len` this policy covers (within 224.0.0.0/4, "
			"not 224.0.0.0/24); the first policy whose range matches a group applies" },
	{ .name = "receivers",
		.type = VNOC_OPT_STRLIST,
		.offset = GRP(receivers_s),
		.def_text = "[\"*\"]",
		.help = "sites that may receive: site names, `@class`, or `*` (every site of the "
			"VPN)" },
	{ .name = "senders",
		.type = VNOC_OPT_STRLIST,
		.offset = GRP(senders_s),
		.def_text = "[\"*\"]",
		.help = "sites that may send, same syntax" },
	{ .name = "sources",
		.type = VNOC_OPT_STRLIST,
		.offset = GRP(sources_s),
		.def_text = "[] (any)",
		.help = "allowed source prefixes; a join naming another source, or a sender "
			"announcing one, is refused (SOURCE_NOT_ALLOWED)" },
	{ .name = "tree",
		.type = VNOC_OPT_ENUM,
		.offset = GRP(tree_kind),
		.def = 4,
		.enums = tree_kinds,
		.help = "tree kind: one shared tree, one tree per sending site, a star "
			"(multi-unicast), or auto (solver decides)" },
	{ .name = "sa_mode",
		.type = VNOC_OPT_ENUM,
		.offset = GRP(sa_mode),
		.def = 1,
		.enums = sa_modes,
		.help = "pairwise: one SA per direction per tree edge; group: one SA per (group, "
			"sending site)" },
	{ .name = "transform",
		.type = VNOC_OPT_ENUM,
		.offset = GRP(transform),
		.def = 1,
		.enums = transforms,
		.help = "ESP transform" },
	INT("replay_window", GRP(replay_window), 1024, 64, 65536, "anti-replay window (packets)"),
	INT("soft_seconds", GRP(soft_seconds), 3000, 10, 86400 * 30,
		"soft lifetime: the VNOC rekeys an SA this long after its installation"),
	INT("hard_seconds", GRP(hard_seconds), 3600, 20, 86400 * 30,
		"hard lifetime: EDs drop an SA this long after installation (must exceed "
		"soft_seconds)"),
	INT("soft_bytes", GRP(soft_bytes), 0, 0, INT64_MAX, "soft byte lifetime (0 = none)"),
	INT("hard_bytes", GRP(hard_bytes), 0, 0, INT64_MAX,
		"hard byte lifetime (0 = none; must exceed soft_bytes)"),
	INT("max_degree", GRP(max_degree), 0, 0, 1024,
		"tree degree bound for this group (0 = each site's own max_degree)"),
};

#define SCOPE(p, h, o, s)                                                                          \
	{                                                                                          \
		.path = p, .help = h, .opts = o, .n_opts = sizeof(o) / sizeof((o)[0]), .strict = s \
	}

static const struct vnoc_opt_scope scopes[VNOC_SCOPE_COUNT] = {
	[VNOC_SCOPE_TIMERS] = SCOPE(
		"timers", "soft-state timers (shared with the session module)", timers_opts, false),
	[VNOC_SCOPE_TREES] = SCOPE("trees", "tree computation", trees_opts, true),
	[VNOC_SCOPE_KEYS] = SCOPE("keys", "SA distribution and rekey", keys_opts, true),
	[VNOC_SCOPE_METRICS] = SCOPE("metrics", "RTT/loss matrix", metrics_opts, true),
	[VNOC_SCOPE_LIMITS] = SCOPE("limits", "abuse limits", limits_opts, true),
	[VNOC_SCOPE_CLASS] = SCOPE("vpns[].classes[]", "site classes of a VPN", class_opts, true),
	[VNOC_SCOPE_GROUP] = SCOPE("vpns[].groups[]", "group policies of a VPN", group_opts, true),
};

const struct vnoc_opt_scope *vnoc_opt_scope(enum vnoc_scope_id id)
{
	return id < VNOC_SCOPE_COUNT ? &scopes[id] : NULL;
}

void vnoc_opts_err(struct vnoc_policy_err *err, const config_setting_t *s, const char *fmt, ...)
{
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? (int)config_setting_source_line(s) : 0;
	va_list ap;
	int n;

	if (err == NULL)
		return;
	snprintf(err->file, sizeof(err->file), "%s", file ? file : "<config>");
	err->line = line;
	n = snprintf(err->msg, sizeof(err->msg), "%s:%d: ", file ? file : "<config>", line);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return;
	err->text = err->msg + n;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

void vnoc_strlist_free(struct vnoc_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int parse_strlist(
	const config_setting_t *v, struct vnoc_strlist *out, struct vnoc_policy_err *err)
{
	int type = config_setting_type(v);
	int n;

	if (type == CONFIG_TYPE_STRING) {
		out->v = calloc(1, sizeof(char *));
		if (out->v == NULL || (out->v[0] = strdup(config_setting_get_string(v))) == NULL)
			return -ENOMEM;
		out->n = 1;
		return 0;
	}
	if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST) {
		vnoc_opts_err(err, v, "%s: expected a list of strings", config_setting_name(v));
		return -EINVAL;
	}
	n = config_setting_length(v);
	out->v = calloc(n > 0 ? (size_t)n : 1, sizeof(char *));
	if (out->v == NULL)
		return -ENOMEM;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(v, (unsigned int)i);
		const char *str = config_setting_get_string(e);

		if (str == NULL) {
			vnoc_opts_err(err, e, "%s: element %d is not a string",
				config_setting_name(v), i);
			return -EINVAL;
		}
		out->v[i] = strdup(str);
		if (out->v[i] == NULL)
			return -ENOMEM;
		out->n = (size_t)i + 1;
	}
	return 0;
}

static int parse_int(const config_setting_t *v, const struct vnoc_opt *o, int64_t *dst,
	struct vnoc_policy_err *err)
{
	int type = config_setting_type(v);
	int64_t x;

	if (o->type == VNOC_OPT_BOOL) {
		if (type != CONFIG_TYPE_BOOL) {
			vnoc_opts_err(err, v, "%s: expected true or false", o->name);
			return -EINVAL;
		}
		*dst = config_setting_get_bool(v);
		return 0;
	}
	if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64) {
		vnoc_opts_err(err, v, "%s: expected an integer", o->name);
		return -EINVAL;
	}
	x = config_setting_get_int64(v);
	if (x < o->min || x > o->max) {
		vnoc_opts_err(err, v, "%s: %lld out of range [%lld, %lld]", o->name, (long long)x,
			(long long)o->min, (long long)o->max);
		return -EINVAL;
	}
	*dst = x;
	return 0;
}

static int parse_enum(const config_setting_t *v, const struct vnoc_opt *o, int64_t *dst,
	struct vnoc_policy_err *err)
{
	const char *str = config_setting_get_string(v);

	if (str != NULL) {
		for (int i = 0; o->enums[i] != NULL; i++) {
			if (strcmp(str, o->enums[i]) == 0) {
				*dst = i + 1;
				return 0;
			}
		}
	}
	vnoc_opts_err(err, v, "%s: expected one of", o->name);
	for (int i = 0; o->enums[i] != NULL; i++) {
		size_t len = strlen(err->msg);

		snprintf(
			err->msg + len, sizeof(err->msg) - len, "%s %s", i ? "," : "", o->enums[i]);
	}
	return -EINVAL;
}

static int parse_one(const config_setting_t *v, const struct vnoc_opt *o, char *base,
	struct vnoc_policy_err *err)
{
	const char *str;

	switch (o->type) {
	case VNOC_OPT_INT:
	case VNOC_OPT_BOOL:
		return parse_int(v, o, (int64_t *)(base + o->offset), err);
	case VNOC_OPT_ENUM:
		return parse_enum(v, o, (int64_t *)(base + o->offset), err);
	case VNOC_OPT_NAME:
		str = config_setting_get_string(v);
		if (str == NULL || str[0] == '\0' || strlen(str) >= VNOC_NAME_MAX) {
			vnoc_opts_err(err, v, "%s: expected a non-empty string shorter than %d",
				o->name, VNOC_NAME_MAX);
			return -EINVAL;
		}
		memcpy(base + o->offset, str, strlen(str) + 1);
		return 0;
	case VNOC_OPT_STRLIST:
		return parse_strlist(v, (struct vnoc_strlist *)(base + o->offset), err);
	}
	return -EINVAL;
}

static int check_unknown(
	const config_setting_t *s, const struct vnoc_opt_scope *sc, struct vnoc_policy_err *err)
{
	int n = config_setting_length(s);

	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		const char *name = config_setting_name(e);
		bool known = false;

		for (size_t k = 0; name != NULL && k < sc->n_opts; k++)
			known = known || strcmp(name, sc->opts[k].name) == 0;
		if (!known) {
			vnoc_opts_err(
				err, e, "unknown option '%s' in %s", name ? name : "?", sc->path);
			return -EINVAL;
		}
	}
	return 0;
}

int vnoc_opts_parse(const config_setting_t *s, const struct vnoc_opt_scope *sc, void *obj,
	struct vnoc_policy_err *err)
{
	char *base = obj;
	int rc;

	if (s != NULL && !config_setting_is_group(s)) {
		vnoc_opts_err(err, s, "%s: expected a group { ... }", sc->path);
		return -EINVAL;
	}
	if (s != NULL && sc->strict && (rc = check_unknown(s, sc, err)) != 0)
		return rc;
	for (size_t k = 0; k < sc->n_opts; k++) {
		const struct vnoc_opt *o = &sc->opts[k];
		const config_setting_t *v = s ? config_setting_get_member(s, o->name) : NULL;

		if (v == NULL) {
			if (o->required) {
				vnoc_opts_err(err, s, "%s: missing required option '%s'", sc->path,
					o->name);
				return -EINVAL;
			}
			if (o->type == VNOC_OPT_INT || o->type == VNOC_OPT_BOOL ||
				o->type == VNOC_OPT_ENUM)
				*(int64_t *)(base + o->offset) = o->def;
			continue;
		}
		rc = parse_one(v, o, base, err);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static void doc_default(FILE *f, const struct vnoc_opt *o)
{
	if (o->required)
		fputs("(required)", f);
	else if (o->def_text != NULL)
		fprintf(f, "`%s`", o->def_text);
	else if (o->type == VNOC_OPT_ENUM)
		fprintf(f, "`\"%s\"`", o->enums[o->def - 1]);
	else if (o->type == VNOC_OPT_BOOL)
		fputs(o->def ? "`true`" : "`false`", f);
	else
		fprintf(f, "`%lld`", (long long)o->def);
}

static void doc_type(FILE *f, const struct vnoc_opt *o)
{
	switch (o->type) {
	case VNOC_OPT_INT:
		fprintf(f, "integer %lld..%lld", (long long)o->min, (long long)o->max);
		break;
	case VNOC_OPT_BOOL:
		fputs("boolean", f);
		break;
	case VNOC_OPT_ENUM:
		for (int i = 0; o->enums[i] != NULL; i++)
			fprintf(f, "%s`%s`", i ? " \\| " : "", o->enums[i]);
		break;
	case VNOC_OPT_NAME:
		fputs("string", f);
		break;
	case VNOC_OPT_STRLIST:
		fputs("list of strings", f);
		break;
	}
}

void vnoc_opts_doc(FILE *f)
{
	for (int i = 0; i < VNOC_SCOPE_COUNT; i++) {
		const struct vnoc_opt_scope *sc = &scopes[i];

		fprintf(f, "### `%s`: %s\n\n", sc->path, sc->help);
		fputs("| option | type | default | meaning |\n|---|---|---|---|\n", f);
		for (size_t k = 0; k < sc->n_opts; k++) {
			const struct vnoc_opt *o = &sc->opts[k];

			fprintf(f, "| `%s` | ", o->name);
			doc_type(f, o);
			fputs(" | ", f);
			doc_default(f, o);
			fprintf(f, " | %s |\n", o->help);
		}
		fputs("\n", f);
	}
}
