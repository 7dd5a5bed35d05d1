/* SPDX-License-Identifier: BSD-3-Clause */
/* Control socket commands of the VNOC core: sites, status. */
#include "ctl.h"

#include <errno.h>
#include <string.h>

#include "common/clock.h"
#include "common/ctlsock.h"
#include "common/json.h"
#include "dispatch.h"
#include "session.h"
#include "vnoc.h"

static int cmd_sites(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct vnoc *v = ctx;
	uint64_t now = vprn_now_ms();

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: sites");
		return -EINVAL;
	}
	vprn_json_arr_begin(j);
	for (uint32_t i = 0; i < v->conf.n_sites; i++) {
		const struct vnoc_site *site = &v->conf.sites[i];
		const struct vnoc_site_state *st = &v->site_state[i];
		bool up = st->session != NULL;

		vprn_json_obj_begin(j);
		vprn_json_kv_str(j, "site", site->name);
		vprn_json_kv_u64(j, "id", site->id);
		vprn_json_kv_str(j, "vpn", site->vpn->name);
		vprn_json_kv_ipv4(j, "wan", site->wan_addr);
		vprn_json_kv_str(j, "state", up ? "connected" : "down");
		vprn_json_kv_str(j, "peer", up ? st->peer_addr : "");
		vprn_json_kv_u64(j, "up_s", up ? (now - st->up_since_ms) / 1000 : 0);
		vprn_json_kv_u64(j, "sessions", st->sessions);
		vprn_json_kv_u64(j, "rx", up ? st->session->rx_msgs : 0);
		vprn_json_kv_u64(j, "tx", up ? st->session->tx_msgs : 0);
		vprn_json_kv_u64(j, "max_degree", site->max_degree);
		vprn_json_kv_bool(j, "relay", site->relay);
		vnoc_modules_site_json(v, site->id, j);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	return 0;
}

static int cmd_status(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct vnoc *v = ctx;
	uint32_t up = 0;
	char a[16];

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: status");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < v->conf.n_sites; i++)
		up += v->site_state[i].session != NULL;
	vprn_json_obj_begin(j);
	vprn_json_kv_str(j, "daemon", "vprn-vnoc");
	vprn_json_kv_u64(j, "protocol", VPRN_PROTOCOL_VERSION);
	vprn_json_kv_u64(j, "uptime_s", (vprn_now_ms() - v->start_ms) / 1000);
	snprintf(err, errlen, "%s:%u", vprn_ipv4_str(v->conf.listen_addr, a), v->conf.listen_port);
	vprn_json_kv_str(j, "listen", err);
	err[0] = '\0';
	vprn_json_kv_u64(j, "vpns", v->conf.n_vpns);
	vprn_json_kv_u64(j, "sites_registered", v->conf.n_sites);
	vprn_json_kv_u64(j, "sites_connected", up);
	vprn_json_kv_u64(j, "connections", v->n_sessions);
	vprn_json_kv_u64(j, "pending", v->n_pending);
	vprn_json_key(j, "counters");
	vprn_json_obj_begin(j);
	vprn_json_kv_u64(j, "accepted", v->cnt.accepted);
	vprn_json_kv_u64(j, "established", v->cnt.established);
	vprn_json_kv_u64(j, "refused_tls", v->cnt.refused_tls);
	vprn_json_kv_u64(j, "refused_unknown_site", v->cnt.refused_unknown);
	vprn_json_kv_u64(j, "timeouts", v->cnt.timeouts);
	vprn_json_kv_u64(j, "protocol_errors", v->cnt.protocol_errors);
	vprn_json_kv_u64(j, "replaced", v->cnt.replaced);
	vprn_json_kv_u64(j, "send_overflows", v->cnt.overflows);
	vprn_json_kv_u64(j, "rx_msgs", v->cnt.rx_msgs);
	vprn_json_kv_u64(j, "tx_msgs", v->cnt.tx_msgs);
	vprn_json_obj_end(j);
	vprn_json_obj_end(j);
	return 0;
}

static const struct vprn_ctl_cmd core_cmds[] = {
	{ "sites", "sites: registered sites and their session", cmd_sites },
	{ "status", "status: daemon state and counters", cmd_status },
};

int vnoc_ctl_register(struct vnoc *v)
{
	return vprn_ctlsock_register(v->ctl, core_cmds, sizeof(core_cmds) / sizeof(core_cmds[0]));
}
