/* SPDX-License-Identifier: BSD-3-Clause */
/* `vprnctl ed members|igmp|announce`: JSON views and the announce command. */
#include "membership_ctl.h"

#include "igmp_parse.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ROWS 4096

static void row_json(struct vprn_json *j, const struct membership_member *r)
{
	vprn_json_obj_begin(j);
	vprn_json_kv_ipv4(j, "group", r->group);
	if (r->source != 0)
		vprn_json_kv_ipv4(j, "source", r->source);
	else
		vprn_json_kv_str(j, "source", "*");
	vprn_json_kv_str(j, "role", membership_role_name(r->role));
	vprn_json_kv_str(j, "origin", membership_origin_name(r->origin));
	vprn_json_kv_str(j, "mode", membership_mode_name(r->mode));
	if (r->origin == MEMBERSHIP_ORIGIN_LEARNED) {
		vprn_json_kv_u64(j, "version", r->compat_version);
		vprn_json_kv_u64(j, "hosts", r->n_hosts);
	}
	vprn_json_key(j, "remaining_ms");
	if (r->remaining_ms == UINT64_MAX)
		vprn_json_null(j);
	else
		vprn_json_u64(j, r->remaining_ms);
	vprn_json_obj_end(j);
}

int membership_ctl_members(struct membership *m, int argc, char **argv, struct vprn_json *out,
	char *err, size_t err_len)
{
	struct membership_member *rows;
	size_t n;

	(void)argv;
	if (argc != 0) {
		snprintf(err, err_len, "usage: members");
		return -EINVAL;
	}
	n = membership_members(m, NULL, 0);
	if (n > MAX_ROWS)
		n = MAX_ROWS;
	rows = calloc(n + 1, sizeof(*rows));
	if (rows == NULL) {
		snprintf(err, err_len, "out of memory");
		return -ENOMEM;
	}
	n = membership_members(m, rows, n);
	if (n > MAX_ROWS)
		n = MAX_ROWS;
	vprn_json_arr_begin(out);
	for (size_t i = 0; i < n; i++)
		row_json(out, &rows[i]);
	vprn_json_arr_end(out);
	free(rows);
	return 0;
}

int membership_ctl_igmp(struct membership *m, int argc, char **argv, struct vprn_json *out,
	char *err, size_t err_len)
{
	struct membership_querier_info q;
	struct membership_stats st;

	(void)argv;
	if (argc != 0) {
		snprintf(err, err_len, "usage: igmp");
		return -EINVAL;
	}
	membership_querier(m, &q);
	membership_get_stats(m, &st);
	vprn_json_obj_begin(out);
	vprn_json_kv_bool(out, "querier", q.is_querier);
	vprn_json_kv_ipv4(out, "querier_address", q.querier_addr);
	vprn_json_kv_u64(out, "other_querier_remaining_ms", q.other_querier_remaining_ms);
	vprn_json_kv_u64(out, "version", q.version);
	vprn_json_kv_u64(out, "robustness", q.robustness);
	vprn_json_kv_u64(out, "query_interval_ms", q.query_interval_ms);
	vprn_json_key(out, "rx");
	vprn_json_obj_begin(out);
	for (int t = 0; t < IGMP_MSG_MAX; t++)
		vprn_json_kv_u64(out, igmp_msg_name((enum igmp_msg_type)t), st.rx[t]);
	vprn_json_obj_end(out);
	vprn_json_kv_u64(out, "tx_queries", st.tx_queries);
	vprn_json_kv_u64(out, "tx_reports", st.tx_reports);
	vprn_json_kv_u64(out, "events", st.events);
	vprn_json_kv_u64(out, "coalesced", st.coalesced);
	vprn_json_kv_u64(out, "querier_changes", st.querier_changes);
	vprn_json_key(out, "drops");
	vprn_json_obj_begin(out);
	for (int r = 1; r < IGMP_DROP_MAX; r++)
		vprn_json_kv_u64(out, igmp_drop_name((enum igmp_drop)r), st.drops[r]);
	vprn_json_obj_end(out);
	vprn_json_obj_end(out);
	return 0;
}

static int parse_ipv4(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

static int parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

struct announce_args {
	uint32_t group, source, ttl;
	int role;
	bool has_group, has_ttl;
};

static int parse_announce(int argc, char **argv, struct announce_args *a, char *err, size_t err_len)
{
	for (int i = 0; i < argc; i += 2) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		int r = 0;

		if (v == NULL) {
			snprintf(err, err_len, "%s needs a value", k);
			return -EINVAL;
		}
		if (strcmp(k, "--group") == 0) {
			r = parse_ipv4(v, &a->group);
			a->has_group = r == 0;
		} else if (strcmp(k, "--source") == 0) {
			r = parse_ipv4(v, &a->source);
		} else if (strcmp(k, "--ttl") == 0) {
			r = parse_u32(v, 86400 * 365, &a->ttl);
			a->has_ttl = r == 0;
		} else if (strcmp(k, "--role") == 0) {
			a->role = strcmp(v, "receiver") == 0 ? MEMBERSHIP_ROLE_RECEIVER
				  : strcmp(v, "sender") == 0 ? MEMBERSHIP_ROLE_SENDER
							     : 0;
			r = a->role != 0 ? 0 : -EINVAL;
		} else {
			snprintf(err, err_len, "unknown option %s", k);
			return -EINVAL;
		}
		if (r != 0) {
			snprintf(err, err_len, "bad value for %s: %s", k, v);
			return -EINVAL;
		}
	}
	if (!a->has_group || !a->has_ttl || a->role == 0) {
		snprintf(err, err_len,
			"usage: announce --group G --role receiver|sender [--source S] --ttl "
			"SECONDS");
		return -EINVAL;
	}
	return 0;
}

int membership_ctl_announce(struct membership *m, int argc, char **argv, struct vprn_json *out,
	char *err, size_t err_len)
{
	struct announce_args a = { 0 };
	int r = parse_announce(argc, argv, &a, err, err_len);

	if (r != 0)
		return r;
	r = membership_announce(m, a.group, (enum membership_role)a.role, a.source, a.ttl);
	switch (r) {
	case 0:
		break;
	case -ENOENT:
		snprintf(err, err_len, "no such announcement");
		return r;
	case -ENOSPC:
		snprintf(err, err_len, "announcement table full");
		return r;
	default:
		snprintf(err, err_len,
			"refused: group must be routable multicast, source unicast, and an SSM "
			"group needs --source");
		return r;
	}
	vprn_json_obj_begin(out);
	vprn_json_kv_ipv4(out, "group", a.group);
	vprn_json_kv_str(out, "role", membership_role_name((enum membership_role)a.role));
	vprn_json_kv_ipv4(out, "source", a.source);
	vprn_json_kv_u64(out, "ttl", a.ttl);
	vprn_json_kv_bool(out, "removed", a.ttl == 0);
	vprn_json_obj_end(out);
	return 0;
}
