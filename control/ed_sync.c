/* SPDX-License-Identifier: BSD-3-Clause */
/* VNOC messages -> ed_apply + acks; soft-state refresh and traffic reports. */
#include "ed_sync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/ctlsock.h"
#include "common/digest.h"
#include "common/log.h"
#include "control/membership/membership_ed.h"
#include "dataplane/dp.h"
#include "ed.h"
#include "ed_apply.h"
#include "vnoc_client.h"

#define MAX_REPORT 256
#define ED_TRAFFIC_MAX MAX_REPORT

/* Counters at the last report, per group (one ED per process). */
struct ed_traffic_prev {
	uint32_t group;
	uint64_t packets, bytes;
};

static struct ed_traffic_prev prev_tab[ED_TRAFFIC_MAX];

/*
 * State digest (docs/protocol.md): recomputed every tick; sent after a change
 * has been quiet for ED_DIGEST_DEBOUNCE_MS, and every refresh interval.
 */
static struct {
	struct ed_apply_state st; /* the last computation */
	bool valid;
	uint64_t applied_seq; /* last VNOC message applied in this session */
	bool dirty;	      /* changed since the last StateDigest sent */
	uint64_t change_ms;   /* last change */
	uint64_t sent;	      /* StateDigest messages sent */
	uint8_t last_sent[VPRN_STATE_DIGEST_LEN];
} dg;

static void digest_update(struct ed *ed, uint64_t now)
{
	static uint8_t prev[VPRN_STATE_DIGEST_LEN];

	if (ed->apply == NULL || ed_apply_state(ed->apply, now, &dg.st) != 0) {
		dg.valid = false;
		return;
	}
	if (!dg.valid || memcmp(prev, dg.st.digest, sizeof(prev)) != 0) {
		memcpy(prev, dg.st.digest, sizeof(prev));
		dg.dirty = true;
		dg.change_ms = now;
	}
	dg.valid = true;
}

static void send_digest(struct ed *ed)
{
	struct vprn_msg m;

	digest_update(ed, vprn_now_ms());
	if (!dg.valid || ed->client == NULL || ed_client_state(ed->client) != ED_CL_UP)
		return;
	vprn_msg_init(&m, VPRN_MSG_DIGEST, 0);
	memcpy(m.u.digest.digest, dg.st.digest, VPRN_STATE_DIGEST_LEN);
	m.u.digest.digest_len = VPRN_STATE_DIGEST_LEN;
	m.u.digest.trees = dg.st.trees;
	m.u.digest.n_trees = dg.st.n_trees;
	m.u.digest.inbound_spis = dg.st.in;
	m.u.digest.n_inbound_spis = dg.st.n_in;
	m.u.digest.outbound_spis = dg.st.out;
	m.u.digest.n_outbound_spis = dg.st.n_out;
	m.u.digest.vnoc_seq = dg.applied_seq;
	if (ed_client_send(ed->client, &m) == 0) {
		dg.sent++;
		dg.dirty = false;
		memcpy(dg.last_sent, dg.st.digest, VPRN_STATE_DIGEST_LEN);
	}
}

void ed_sync_on_up(struct ed *ed)
{
	(void)ed;
	dg.applied_seq = 0; /* sequence numbers start again with each session */
	dg.dirty = true;
	dg.change_ms = vprn_now_ms();
}

void ed_sync_tick(struct ed *ed, uint64_t now_ms)
{
	digest_update(ed, now_ms);
	if (dg.dirty && now_ms - dg.change_ms >= ED_DIGEST_DEBOUNCE_MS)
		send_digest(ed);
}

void ed_sync_hello_digest(void *ctx, uint8_t *digest, uint32_t *len)
{
	struct ed *ed = ctx;

	digest_update(ed, vprn_now_ms());
	*len = 0;
	if (dg.valid) {
		memcpy(digest, dg.st.digest, VPRN_STATE_DIGEST_LEN);
		*len = VPRN_STATE_DIGEST_LEN;
	}
}

void ed_sync_status_json(struct ed *ed, struct vprn_json *j)
{
	char hex[2 * VPRN_STATE_DIGEST_LEN + 1];

	digest_update(ed, vprn_now_ms());
	vprn_json_obj_begin(j);
	vprn_json_kv_str(j, "digest", dg.valid ? vprn_digest_hex(dg.st.digest, 32, hex) : "");
	vprn_json_kv_u64(j, "trees", dg.valid ? dg.st.n_trees : 0);
	vprn_json_kv_u64(j, "inbound_spis", dg.valid ? dg.st.n_in : 0);
	vprn_json_kv_u64(j, "outbound_spis", dg.valid ? dg.st.n_out : 0);
	vprn_json_kv_u64(j, "vnoc_seq", dg.applied_seq);
	vprn_json_kv_u64(j, "sent", dg.sent);
	vprn_json_kv_str(j, "last_sent", dg.sent > 0 ? vprn_digest_hex(dg.last_sent, 32, hex) : "");
	vprn_json_obj_end(j);
}

static void send_ack(struct ed *ed, const struct vprn_ack *ack)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_ACK, 0);
	m.u.ack = *ack;
	(void)ed_client_send(ed->client, &m);
}

int ed_sync_on_msg(void *ctx, const struct vprn_msg *msg)
{
	struct ed *ed = ctx;
	struct vprn_ack ack;
	char g[16];
	int rc;

	if (msg->type == VPRN_MSG_JOIN_RESULT) {
		const struct vprn_join_result *r = &msg->u.join_result;

		if (r->granted)
			LOG_INFO("sync", "join %s %s granted", vprn_ipv4_str(r->m.group, g),
				vprn_role_name(r->m.role));
		else
			LOG_WARN("sync", "join %s %s refused: %s %s", vprn_ipv4_str(r->m.group, g),
				vprn_role_name(r->m.role), vprn_refuse_reason_name(r->reason),
				r->text);
		return 0;
	}
	if (msg->type == VPRN_MSG_ACK)
		return 0;
	if (ed->apply == NULL)
		return 0;
	rc = ed_apply_msg(ed->apply, msg, &ack);
	if (rc == 1)
		send_ack(ed, &ack);
	if (rc >= 0) {
		dg.applied_seq = msg->seq;
		dg.dirty = true;
		dg.change_ms = vprn_now_ms();
	} else if (rc == -ENOTSUP)
		LOG_DEBUG("sync", "ignoring %s from the VNOC", vprn_msg_type_name(msg->type));
	return 0;
}

struct collect {
	struct vprn_membership *ms;
	uint32_t n, cap;
};

static void collect_one(void *ctx, const struct membership_event *ev)
{
	struct collect *c = ctx;
	struct vprn_membership *vm;

	if (c->n == c->cap)
		return;
	vm = &c->ms[c->n++];
	memset(vm, 0, sizeof(*vm));
	vm->group = ev->group;
	vm->role = ev->role == MEMBERSHIP_ROLE_SENDER ? VPRN_ROLE_SENDER : VPRN_ROLE_RECEIVER;
	vm->filter_mode =
		ev->mode == MEMBERSHIP_INCLUDE ? VPRN_FILTER_INCLUDE : VPRN_FILTER_EXCLUDE;
	vm->n_sources = ev->n_sources < VPRN_MSG_MAX_SOURCES ? ev->n_sources : VPRN_MSG_MAX_SOURCES;
	memcpy(vm->sources, ev->sources, vm->n_sources * sizeof(uint32_t));
}

static void send_refresh(struct ed *ed)
{
	struct collect c = { .cap = 1024 };
	struct vprn_msg m;

	if (ed->membership == NULL)
		return;
	c.ms = calloc(c.cap, sizeof(*c.ms));
	if (c.ms == NULL)
		return;
	membership_foreach_reported(membership_ed_module(ed->membership), collect_one, &c);
	vprn_msg_init(&m, VPRN_MSG_REFRESH, 0);
	m.u.refresh.memberships = c.ms;
	m.u.refresh.n_memberships = c.n;
	(void)ed_client_send(ed->client, &m);
	free(c.ms);
}

/* Per-group counters since the last report. */
static void send_traffic(struct ed *ed)
{
	uint32_t groups[MAX_REPORT];
	bool sender[MAX_REPORT];
	struct vprn_group_traffic t[MAX_REPORT];
	unsigned int n, k = 0;
	struct vprn_msg m;

	if (ed->apply == NULL)
		return;
	n = ed_apply_groups(ed->apply, groups, sender, MAX_REPORT);
	for (unsigned int i = 0; i < n; i++) {
		struct dp_group_stats st;
		struct ed_traffic_prev *p = NULL;
		uint64_t pkts;

		if (dp_group_get_stats(ed->dp, groups[i], &st) != 0)
			continue;
		for (unsigned int j = 0; j < ED_TRAFFIC_MAX; j++)
			if (prev_tab[j].group == groups[i] || (p == NULL && prev_tab[j].group == 0))
				p = &prev_tab[j];
		if (p == NULL)
			continue;
		if (p->group != groups[i])
			*p = (struct ed_traffic_prev){ .group = groups[i] };
		pkts = st.lan_pkts + st.wan_pkts;
		if (pkts < p->packets || st.bytes < p->bytes) /* group re-created */
			p->packets = p->bytes = 0;
		if (pkts > p->packets) {
			t[k] = (struct vprn_group_traffic){ .group = groups[i],
				.role = sender[i] && st.lan_pkts > 0 ? VPRN_ROLE_SENDER
								     : VPRN_ROLE_RECEIVER,
				.packets = pkts - p->packets,
				.bytes = st.bytes - p->bytes };
			k++;
		}
		p->packets = pkts;
		p->bytes = st.bytes;
	}
	if (k == 0)
		return;
	vprn_msg_init(&m, VPRN_MSG_TRAFFIC, 0);
	m.u.traffic.groups = t;
	m.u.traffic.n_groups = k;
	(void)ed_client_send(ed->client, &m);
}

void ed_sync_on_refresh(void *ctx)
{
	struct ed *ed = ctx;

	send_refresh(ed);
	send_traffic(ed);
	send_digest(ed);
}

/* vprnctl ed sas: trees and SAs as applied (never keys). */
static int cmd_sas(void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct ed *ed = ctx;

	(void)argc;
	(void)argv;
	(void)err;
	(void)errlen;
	ed_apply_status_json(ed->apply, j);
	return 0;
}

/* vprnctl ed groups: the published group table with counters. */
static int cmd_groups(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	static struct dp_group_info gi[DP_MAX_GROUPS];
	struct ed *ed = ctx;
	int n = dp_groups_list(ed->dp, gi, DP_MAX_GROUPS);

	(void)argc;
	(void)argv;
	if (n < 0) {
		snprintf(err, errlen, "%s", strerror(-n));
		return n;
	}
	vprn_json_arr_begin(j);
	for (int i = 0; i < n && i < DP_MAX_GROUPS; i++) {
		char ip[16];

		vprn_json_obj_begin(j);
		vprn_json_kv_ipv4(j, "group", gi[i].group);
		vprn_json_kv_str(j, "mode", gi[i].mode == DP_SA_GROUP ? "group" : "pairwise");
		vprn_json_kv_u64(j, "version", gi[i].tree_version);
		vprn_json_kv_bool(j, "receivers", gi[i].local_receivers);
		vprn_json_key(j, "neighbours");
		vprn_json_arr_begin(j);
		for (unsigned int k = 0; k < gi[i].n_nbrs; k++)
			vprn_json_string(j, vprn_ipv4_str(gi[i].nbrs[k], ip));
		vprn_json_arr_end(j);
		vprn_json_kv_u64(j, "lan_pkts", gi[i].stats.lan_pkts);
		vprn_json_kv_u64(j, "wan_pkts", gi[i].stats.wan_pkts);
		vprn_json_kv_u64(j, "bytes", gi[i].stats.bytes);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	return 0;
}

/* vprnctl ed digest: the state digest and the lists it covers. */
static int cmd_digest(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct ed *ed = ctx;

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: digest");
		return -EINVAL;
	}
	digest_update(ed, vprn_now_ms());
	vprn_json_obj_begin(j);
	vprn_json_key(j, "summary");
	ed_sync_status_json(ed, j);
	vprn_json_key(j, "trees");
	vprn_json_arr_begin(j);
	for (uint32_t i = 0; dg.valid && i < dg.st.n_trees; i++) {
		vprn_json_obj_begin(j);
		vprn_json_kv_ipv4(j, "group", dg.st.trees[i].group);
		vprn_json_kv_ipv4(j, "source", dg.st.trees[i].source);
		vprn_json_kv_u64(j, "version", dg.st.trees[i].version);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	vprn_json_key(j, "inbound_spis");
	vprn_json_arr_begin(j);
	for (uint32_t i = 0; dg.valid && i < dg.st.n_in; i++)
		vprn_json_u64(j, dg.st.in[i]);
	vprn_json_arr_end(j);
	vprn_json_key(j, "outbound_spis");
	vprn_json_arr_begin(j);
	for (uint32_t i = 0; dg.valid && i < dg.st.n_out; i++)
		vprn_json_u64(j, dg.st.out[i]);
	vprn_json_arr_end(j);
	vprn_json_obj_end(j);
	return 0;
}

static const struct vprn_ctl_cmd sync_cmds[] = {
	{ "digest", "digest: the state digest and the trees and SPIs it covers", cmd_digest },
	{ "groups", "groups: the data plane's group table (trees, counters)", cmd_groups },
	{ "sas", "sas: trees and SAs installed from the VNOC (no keys)", cmd_sas },
};

int ed_sync_register(struct ed *ed, struct vprn_ctlsock *ctl)
{
	(void)ed;
	return vprn_ctlsock_register(ctl, sync_cmds, sizeof(sync_cmds) / sizeof(sync_cmds[0]));
}

/* Planned departure: when the drain (forwarding after the Bye) ends, 0 = not draining. */
static uint64_t drain_end_ms;

bool ed_sync_planned_stop(struct ed *ed)
{
	unsigned int n = 0;
	uint32_t g[1];
	bool snd[1];

	if (drain_end_ms != 0 || ed->client == NULL || ed->apply == NULL ||
		ed_client_state(ed->client) != ED_CL_UP)
		return false;
	n = ed_apply_groups(ed->apply, g, snd, 1);
	if (n == 0)
		return false;
	/*
	 * The Bye makes the VNOC drop this site's memberships and re-solve without
	 * it; meanwhile this ED keeps forwarding on its installed trees, and the
	 * other EDs accept the old neighbours during their tree grace period.
	 */
	ed_client_stop(ed->client, "planned stop");
	drain_end_ms = vprn_now_ms() + ED_DRAIN_MS;
	LOG_INFO("sync", "planned stop: forwarding %u ms more while the VNOC moves the trees",
		ED_DRAIN_MS);
	return true;
}

bool ed_sync_drain_over(uint64_t now_ms)
{
	return drain_end_ms != 0 && now_ms >= drain_end_ms;
}
