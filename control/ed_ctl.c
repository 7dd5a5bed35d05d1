/* SPDX-License-Identifier: BSD-3-Clause */
/* Control socket commands of the ED core: status, stats. */
#include "ed_ctl.h"

#include <errno.h>
#include <stdio.h>

#include "common/clock.h"
#include "common/conf.h"
#include "dataplane/dp.h"
#include "dataplane/drop.h"
#include "control/membership/membership_ctl.h"
#include "control/membership/membership_ed.h"
#include "ed.h"
#include "ed_sync.h"
#include "vnoc_client.h"

static void port_json(struct vprn_json *j, const char *key, const struct dp_port_conf *p)
{
	char a[16], buf[24];

	vprn_json_key(j, key);
	vprn_json_obj_begin(j);
	vprn_json_kv_str(j, "device", p->devargs);
	snprintf(buf, sizeof(buf), "%s/%u", vprn_ipv4_str(p->addr, a), p->prefix_len);
	vprn_json_kv_str(j, "address", buf);
	vprn_json_kv_u64(j, "mtu", p->mtu);
	vprn_json_obj_end(j);
}

static int cmd_status(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct ed *ed = ctx;

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: status");
		return -EINVAL;
	}
	vprn_json_obj_begin(j);
	vprn_json_kv_str(j, "daemon", "vprn-ed");
	vprn_json_kv_str(j, "site", ed->conf.site);
	vprn_json_kv_u64(j, "uptime_s", (vprn_now_ms() - ed->start_ms) / 1000);
	vprn_json_key(j, "vnoc");
	ed_client_status_json(ed->client, j);
	vprn_json_key(j, "state_digest");
	ed_sync_status_json(ed, j);
	vprn_json_key(j, "dataplane");
	vprn_json_obj_begin(j);
	port_json(j, "lan", &ed->conf.dp.lan);
	port_json(j, "wan", &ed->conf.dp.wan);
	vprn_json_kv_ipv4(j, "gateway", ed->conf.dp.wan_gateway);
	vprn_json_kv_u64(j, "workers", ed->conf.dp.n_workers);
	vprn_json_kv_u64(j, "idle_sleep_us", ed->conf.dp.idle_sleep_us);
	vprn_json_obj_end(j);
	vprn_json_obj_end(j);
	return 0;
}

/* "stages": per-stage cycles and packets (dataplane.stage_cycles, docs/dataplane.md). */
static void stage_entry(struct vprn_json *j, const char *name, uint64_t cycles, uint64_t pkts)
{
	vprn_json_key(j, name);
	vprn_json_obj_begin(j);
	vprn_json_kv_u64(j, "cycles", cycles);
	vprn_json_kv_u64(j, "packets", pkts);
	vprn_json_key(j, "cycles_per_packet");
	vprn_json_double(j, pkts != 0 ? (double)cycles / (double)pkts : 0.0);
	vprn_json_obj_end(j);
}

static void json_stages(struct vprn_json *j, const struct dp_stage_stats *ss)
{
	vprn_json_key(j, "stages");
	vprn_json_obj_begin(j);
	vprn_json_kv_bool(j, "enabled", ss->enabled);
	for (unsigned int s = 0; s < DP_STAGE__MAX; s++)
		stage_entry(j, dp_stage_name(s), ss->cycles[s], ss->pkts[s]);
	stage_entry(j, "total", ss->total_cycles, ss->total_pkts);
	vprn_json_obj_end(j);
}

static int cmd_stats(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct ed *ed = ctx;
	uint64_t drops[64] = { 0 };
	unsigned int n_drops = dp_drop_count();
	struct dp_stage_stats ss;
	struct dp_stats st;
	int rc;

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: stats");
		return -EINVAL;
	}
	if (n_drops > 64)
		n_drops = 64;
	rc = dp_get_stats(ed->dp, &st);
	if (rc == 0)
		rc = dp_get_drops(ed->dp, drops, n_drops);
	if (rc == 0)
		rc = dp_get_stages(ed->dp, &ss);
	if (rc != 0) {
		snprintf(err, errlen, "data plane statistics unavailable");
		return rc;
	}
	vprn_json_obj_begin(j);
	vprn_json_kv_u64(j, "lan_rx", st.rx_pkts[0]);
	vprn_json_kv_u64(j, "lan_tx", st.tx_pkts[0]);
	vprn_json_kv_u64(j, "wan_rx", st.rx_pkts[1]);
	vprn_json_kv_u64(j, "wan_tx", st.tx_pkts[1]);
	vprn_json_kv_u64(j, "drops", st.drops);
	vprn_json_kv_u64(j, "punts", st.punts);
	vprn_json_kv_u64(j, "injects", st.injects);
	vprn_json_kv_u64(j, "idle_sleeps", st.idle_sleeps);
	vprn_json_key(j, "drop_reasons");
	vprn_json_obj_begin(j);
	for (unsigned int i = 0; i < n_drops; i++)
		if (drops[i] != 0)
			vprn_json_kv_u64(j, dp_drop_name(i), drops[i]);
	vprn_json_obj_end(j);
	json_stages(j, &ss);
	vprn_json_obj_end(j);
	return 0;
}

/* Membership commands: the module's handlers on the ED's membership. */
#define MEMBERSHIP_CMD(name)                                                                     \
	static int cmd_##name(                                                                   \
		void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen) \
	{                                                                                        \
		struct ed *ed = ctx;                                                             \
                                                                                                 \
		return membership_ctl_##name(                                                    \
			membership_ed_module(ed->membership), argc, argv, j, err, errlen);       \
	}
MEMBERSHIP_CMD(members)
MEMBERSHIP_CMD(igmp)
MEMBERSHIP_CMD(announce)

static const struct vprn_ctl_cmd ed_cmds[] = {
	{ "status", "status: site, VNOC session, ports", cmd_status },
	{ "stats", "stats: data plane counters and drop reasons", cmd_stats },
	{ "members", "members: learned, announced, discovered and pre-defined groups",
		cmd_members },
	{ "igmp", "igmp: querier state and IGMP counters", cmd_igmp },
	{ "announce", "announce --group G --role receiver|sender [--source S] --ttl SECONDS",
		cmd_announce },
};

int ed_ctl_register(struct ed *ed, struct vprn_ctlsock *ctl)
{
	(void)ed;
	return vprn_ctlsock_register(ctl, ed_cmds, sizeof(ed_cmds) / sizeof(ed_cmds[0]));
}
