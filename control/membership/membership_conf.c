/* SPDX-License-Identifier: BSD-3-Clause */
#include "membership_conf.h"

#include "igmp.h"

#include "common/conf.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { OPT_U32, OPT_BOOL, OPT_PREFIX, OPT_GROUPS };

/* The options, described once: parsing, validation ranges and documentation. */
struct opt {
	const char *name;
	enum opt_type type;
	size_t off;
	uint32_t min, max, def;
	const char *doc;
};

#define U32(n, lo, hi, d, doc)                                                   \
	{                                                                        \
#n, OPT_U32, offsetof(struct membership_conf, n), lo, hi, d, doc \
	}

static const struct opt opts[] = {
	U32(version, 1, 3, 3,
		"IGMP version of the queries the ED sends (hosts of every version are served)"),
	U32(robustness, 1, 7, 2, "Robustness Variable, RFC 3376 §8.1"),
	U32(query_interval_ms, 1000, 3600000, 125000, "Query Interval, §8.2"),
	U32(query_response_interval_ms, 100, 3174400, 10000,
		"Query Response Interval (Max Resp of general queries), §8.3"),
	U32(last_member_query_interval_ms, 100, 25500, 1000, "Last Member Query Interval, §8.8"),
	U32(last_member_query_count, 0, 7, 0, "Last Member Query Count, §8.9 (0 = robustness)"),
	U32(startup_query_interval_ms, 0, 3600000, 0,
		"Startup Query Interval, §8.6 (0 = query_interval / 4)"),
	U32(startup_query_count, 0, 7, 0, "Startup Query Count, §8.7 (0 = robustness)"),
	U32(other_querier_present_timeout_ms, 0, 86400000, 0,
		"Other Querier Present Interval, §8.5 (0 = robustness * QI + QRI / 2)"),
	{ "fast_leave", OPT_BOOL, offsetof(struct membership_conf, fast_leave), 0, 1, 0,
		"remove a group at once when its last tracked host leaves (no last-member "
		"queries)" },
	{ "ssm_range", OPT_PREFIX, 0, 0, 0, 0,
		"SSM range, \"A.B.C.D/N\" (default \"232.0.0.0/8\"); ASM reports for it are "
		"ignored (RFC 4604)" },
	U32(source_inactivity_timeout_ms, 1000, 86400000, 60000,
		"sender role expires this long after the last local packet to the group"),
	U32(event_holddown_ms, 0, 600000, 1000,
		"minimum time between two events of one (group, role): flaps are coalesced"),
	U32(max_groups, 1, 65536, 1024, "groups tracked at most (learned, announced, discovered)"),
	U32(max_sources, 1, 256, 64, "sources per group (and per query) at most"),
	U32(max_hosts, 1, 4096, 64, "reporting hosts tracked per group (fast leave)"),
	U32(max_announcements, 1, 65536, 256, "announcements at most"),
	{ "predefined_groups", OPT_GROUPS, 0, 0, MEMBERSHIP_MAX_PREDEFINED, 0,
		"list of groups the ED reports itself on the LAN (answers queries) so inner "
		"sources' traffic reaches it" },
};

#define N_OPTS (sizeof(opts) / sizeof(opts[0]))

void membership_conf_defaults(struct membership_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	for (size_t i = 0; i < N_OPTS; i++)
		if (opts[i].type == OPT_U32)
			*(uint32_t *)((char *)conf + opts[i].off) = opts[i].def;
	conf->ssm_net = IGMP_SSM_DEFAULT_NET;
	conf->ssm_mask = 0xff000000u;
}

/* Every error names the setting's file and line, and the module. */
#define fail(s, err, fmt, ...) vprn_conf_fail(err, s, NULL, "membership: " fmt, ##__VA_ARGS__)

/* "A.B.C.D/N" with N in 0..32 and no host bits set. */
static int parse_prefix(const char *str, uint32_t *net, uint32_t *mask)
{
	char buf[32];
	char *slash, *end;
	struct in_addr a;
	long len;

	if (strlen(str) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, str);
	slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	errno = 0;
	len = strtol(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == slash + 1 || len < 0 || len > 32)
		return -EINVAL;
	if (inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*mask = len == 0 ? 0 : 0xffffffffu << (32 - len);
	*net = ntohl(a.s_addr);
	if ((*net & ~*mask) != 0)
		return -EINVAL;
	return 0;
}

static int parse_groups(
	const config_setting_t *s, struct membership_conf *conf, struct vprn_conf_err *err)
{
	int n = config_setting_length(s);

	if (config_setting_type(s) != CONFIG_TYPE_ARRAY &&
		config_setting_type(s) != CONFIG_TYPE_LIST)
		return fail(s, err, "predefined_groups must be a list of strings");
	if (n > MEMBERSHIP_MAX_PREDEFINED)
		return fail(
			s, err, "predefined_groups: at most %d groups", MEMBERSHIP_MAX_PREDEFINED);
	conf->n_predefined = 0;
	for (int i = 0; i < n; i++) {
		const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
		const char *str = config_setting_get_string(e);
		struct in_addr a;
		uint32_t g;

		if (str == NULL || inet_pton(AF_INET, str, &a) != 1)
			return fail(e, err, "predefined_groups[%d]: not an IPv4 address", i);
		g = ntohl(a.s_addr);
		if (!ipv4_is_multicast(g) || ipv4_is_link_local_mcast(g))
			return fail(e, err,
				"predefined_groups[%d]: %s is not a routable multicast group", i,
				str);
		for (uint32_t j = 0; j < conf->n_predefined; j++)
			if (conf->predefined[j] == g)
				return fail(e, err, "predefined_groups[%d]: duplicate %s", i, str);
		conf->predefined[conf->n_predefined++] = g;
	}
	return 0;
}

static const char *conf_problem(const struct membership_conf *c);

static int parse_one(const struct opt *o, const config_setting_t *s, struct membership_conf *conf,
	struct vprn_conf_err *err)
{
	const char *str;
	long long v;

	switch (o->type) {
	case OPT_U32:
		if (config_setting_type(s) != CONFIG_TYPE_INT &&
			config_setting_type(s) != CONFIG_TYPE_INT64)
			return fail(s, err, "%s must be an integer", o->name);
		v = config_setting_get_int64(s);
		if (v < o->min || v > o->max)
			return fail(s, err, "%s = %lld out of range [%u, %u]", o->name, v, o->min,
				o->max);
		*(uint32_t *)((char *)conf + o->off) = (uint32_t)v;
		return 0;
	case OPT_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return fail(s, err, "%s must be true or false", o->name);
		*(bool *)((char *)conf + o->off) = config_setting_get_bool(s) != 0;
		return 0;
	case OPT_PREFIX:
		str = config_setting_get_string(s);
		if (str == NULL || parse_prefix(str, &conf->ssm_net, &conf->ssm_mask) != 0)
			return fail(s, err, "%s must be \"A.B.C.D/N\"", o->name);
		if (!ipv4_is_multicast(conf->ssm_net) ||
			(conf->ssm_mask & IPV4_MCAST_MASK) != IPV4_MCAST_MASK)
			return fail(s, err, "%s must lie inside 224.0.0.0/4", o->name);
		return 0;
	case OPT_GROUPS:
		return parse_groups(s, conf, err);
	}
	return fail(s, err, "internal: option type");
}

int membership_conf_load(
	const config_setting_t *setting, struct membership_conf *conf, struct vprn_conf_err *err)
{
	int n, r;

	membership_conf_defaults(conf);
	if (setting == NULL)
		return 0;
	if (config_setting_type(setting) != CONFIG_TYPE_GROUP)
		return fail(setting, err, "must be a group { ... }");
	n = config_setting_length(setting);
	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(setting, (unsigned int)i);
		const char *name = config_setting_name(s);
		const struct opt *o = NULL;

		for (size_t j = 0; j < N_OPTS && name != NULL; j++)
			if (strcmp(opts[j].name, name) == 0)
				o = &opts[j];
		if (o == NULL)
			return fail(s, err, "unknown option '%s'", name != NULL ? name : "?");
		r = parse_one(o, s, conf, err);
		if (r != 0)
			return r;
	}
	if (conf_problem(conf) != NULL)
		return fail(setting, err, "%s", conf_problem(conf));
	return 0;
}

int membership_conf_parse(
	const config_setting_t *setting, struct membership_conf *conf, char *err, size_t err_len)
{
	struct vprn_conf_err e;
	int r = membership_conf_load(setting, conf, &e);

	if (r != 0 && err != NULL && err_len > 0)
		snprintf(err, err_len, "%s:%d: %s", e.file, e.line, e.msg);
	return r;
}

int membership_conf_validate(const struct membership_conf *c, char *err, size_t err_len)
{
	const char *why = conf_problem(c);

	if (why == NULL)
		return 0;
	if (err != NULL && err_len > 0)
		snprintf(err, err_len, "membership: %s", why);
	return -EINVAL;
}

static const char *conf_problem(const struct membership_conf *c)
{
	const char *why = NULL;

	if (c->version < 1 || c->version > 3 || c->robustness < 1 || c->robustness > 7)
		why = "version must be 1..3 and robustness 1..7";
	else if (c->query_response_interval_ms >= c->query_interval_ms)
		why = "query_response_interval_ms must be less than query_interval_ms (RFC 3376 "
		      "§8.3)";
	else if (c->version == 2 && c->query_response_interval_ms > 25500)
		why = "query_response_interval_ms must be <= 25500 with version 2 (8-bit Max Resp "
		      "Time)";
	else if (c->max_groups == 0 || c->max_sources == 0 || c->max_sources > 256 ||
		 c->max_hosts == 0 || c->max_announcements == 0)
		why = "limits must be positive (max_sources <= 256)";
	else if (c->n_predefined > MEMBERSHIP_MAX_PREDEFINED)
		why = "too many predefined_groups";
	for (uint32_t i = 0; why == NULL && i < c->n_predefined; i++)
		if ((c->predefined[i] & c->ssm_mask) == c->ssm_net)
			why = "predefined_groups may not lie in the SSM range (they are ASM joins)";
	return why;
}

uint32_t membership_conf_lmqc(const struct membership_conf *c)
{
	return c->last_member_query_count != 0 ? c->last_member_query_count : c->robustness;
}

uint32_t membership_conf_startup_count(const struct membership_conf *c)
{
	return c->startup_query_count != 0 ? c->startup_query_count : c->robustness;
}

uint32_t membership_conf_startup_interval(const struct membership_conf *c)
{
	return c->startup_query_interval_ms != 0 ? c->startup_query_interval_ms
						 : c->query_interval_ms / 4;
}

uint32_t membership_conf_oqpt(const struct membership_conf *c)
{
	uint64_t v =
		(uint64_t)c->robustness * c->query_interval_ms + c->query_response_interval_ms / 2;

	if (c->other_querier_present_timeout_ms != 0)
		return c->other_querier_present_timeout_ms;
	return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

void membership_conf_describe(FILE *out)
{
	fprintf(out, "| option | type | default | range | meaning |\n|---|---|---|---|---|\n");
	for (size_t i = 0; i < N_OPTS; i++) {
		const struct opt *o = &opts[i];

		switch (o->type) {
		case OPT_U32:
			fprintf(out, "| `%s` | int | %u | %u..%u | %s |\n", o->name, o->def, o->min,
				o->max, o->doc);
			break;
		case OPT_BOOL:
			fprintf(out, "| `%s` | bool | false | | %s |\n", o->name, o->doc);
			break;
		case OPT_PREFIX:
			fprintf(out, "| `%s` | string | \"232.0.0.0/8\" | | %s |\n", o->name,
				o->doc);
			break;
		case OPT_GROUPS:
			fprintf(out, "| `%s` | list of strings | () | <= %u | %s |\n", o->name,
				o->max, o->doc);
			break;
		}
	}
}
