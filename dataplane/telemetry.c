/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry commands (usable with dpdk-telemetry.py):
 *   /vprn/stats       packet counters and every drop reason
 *   /vprn/groups      published groups with their tree and counters
 *   /vprn/neighbours  overlay neighbours and their ARP state
 *   /vprn/sas         SAs: SPI, direction, mode, counters (never keys)
 * The telemetry thread reads through the info API (dp->cfg_lock). Commands
 * are registered once per process; they show the most recently created data
 * plane (one per vprn-ed process).
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "dataplane/dp_priv.h"
#include "dataplane/pipeline.h"

/*
 * The data plane shown by the commands. Written by dp_create/dp_destroy on
 * the control thread, read by the telemetry thread: acquire/release so the
 * reader sees a fully built struct dp. A command racing with dp_destroy is
 * the one remaining hazard; vprn-ed destroys the data plane only at exit.
 */
static struct dp *tel_dp;

static void ip_str(uint32_t a, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static struct dp *cur(void)
{
	return __atomic_load_n(&tel_dp, __ATOMIC_ACQUIRE);
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t drops[DP_DROP__MAX];
	struct dp *dp = cur();
	struct dp_stage_stats ss;
	struct dp_stats st;

	(void)cmd;
	(void)params;
	if (dp == NULL || dp_get_stats(dp, &st) != 0 ||
		dp_get_drops(dp, drops, DP_DROP__MAX) != 0 || dp_get_stages(dp, &ss) != 0)
		return -ENODEV;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "lan_rx", st.rx_pkts[0]);
	rte_tel_data_add_dict_u64(d, "wan_rx", st.rx_pkts[1]);
	rte_tel_data_add_dict_u64(d, "lan_tx", st.tx_pkts[0]);
	rte_tel_data_add_dict_u64(d, "wan_tx", st.tx_pkts[1]);
	rte_tel_data_add_dict_u64(d, "punts", st.punts);
	rte_tel_data_add_dict_u64(d, "injects", st.injects);
	rte_tel_data_add_dict_u64(d, "idle_sleeps", st.idle_sleeps);
	rte_tel_data_add_dict_u64(d, "drops", st.drops);
	rte_tel_data_add_dict_u64(d, "generation", dp_generation(dp));
	for (unsigned int r = 0; r < DP_DROP__MAX; r++)
		rte_tel_data_add_dict_u64(d, dp_drop_name(r), drops[r]);
	/* Per-stage cycles (dataplane.stage_cycles): stage_<name>_cycles/_pkts. */
	rte_tel_data_add_dict_u64(d, "stage_cycles_enabled", ss.enabled);
	for (unsigned int s = 0; s < DP_STAGE__MAX; s++) {
		char key[48];

		snprintf(key, sizeof(key), "stage_%s_cycles", dp_stage_name(s));
		rte_tel_data_add_dict_u64(d, key, ss.cycles[s]);
		snprintf(key, sizeof(key), "stage_%s_pkts", dp_stage_name(s));
		rte_tel_data_add_dict_u64(d, key, ss.pkts[s]);
	}
	rte_tel_data_add_dict_u64(d, "stage_total_cycles", ss.total_cycles);
	rte_tel_data_add_dict_u64(d, "stage_total_pkts", ss.total_pkts);
	return 0;
}

/*
 * Telemetry dict names allow only [A-Za-z0-9_/], so lists are arrays of
 * strings, one per entry (at most RTE_TEL_MAX_ARRAY_ENTRIES of them).
 */
static int tel_groups(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_group_info *gi;
	struct dp *dp = cur();
	char buf[32], grp[32];
	int n;

	(void)cmd;
	(void)params;
	if (dp == NULL)
		return -ENODEV;
	gi = calloc(DP_MAX_GROUPS, sizeof(*gi));
	if (gi == NULL)
		return -ENOMEM;
	n = dp_groups_list(dp, gi, DP_MAX_GROUPS);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	/* "239.1.2.3 pairwise v=N rx=0|1 lan=.. wan=.. nbrs=a,b" */
	for (int i = 0; i < n && i < RTE_TEL_MAX_ARRAY_ENTRIES; i++) {
		char val[RTE_TEL_MAX_STRING_LEN];
		int off;

		ip_str(gi[i].group, grp, sizeof(grp));
		off = snprintf(val, sizeof(val), "%s %s v=%u rx=%d lan=%lu wan=%lu nbrs=", grp,
			gi[i].mode == DP_SA_GROUP ? "group" : "pairwise", gi[i].tree_version,
			gi[i].local_receivers, (unsigned long)gi[i].stats.lan_pkts,
			(unsigned long)gi[i].stats.wan_pkts);
		for (unsigned int k = 0; k < gi[i].n_nbrs && off > 0 && off < (int)sizeof(val);
			k++) {
			ip_str(gi[i].nbrs[k], buf, sizeof(buf));
			off += snprintf(
				val + off, sizeof(val) - (size_t)off, "%s%s", k ? "," : "", buf);
		}
		rte_tel_data_add_array_string(d, val);
	}
	free(gi);
	return 0;
}

static int tel_neighbours(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dp_nbr_info ni[DP_MAX_NEIGHBOURS];
	struct dp *dp = cur();
	char addr[32], nh[32], val[128];
	int n;

	(void)cmd;
	(void)params;
	if (dp == NULL)
		return -ENODEV;
	n = dp_neighbours_list(dp, ni, DP_MAX_NEIGHBOURS);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	for (int i = 0; i < n && i < DP_MAX_NEIGHBOURS; i++) {
		const uint8_t *m = ni[i].mac;

		ip_str(ni[i].addr, addr, sizeof(addr));
		ip_str(ni[i].next_hop, nh, sizeof(nh));
		snprintf(val, sizeof(val), "%s via %s %s%02x:%02x:%02x:%02x:%02x:%02x sa=%d", addr,
			nh, ni[i].resolved ? "" : "unresolved ", m[0], m[1], m[2], m[3], m[4], m[5],
			ni[i].has_sa);
		rte_tel_data_add_array_string(d, val);
	}
	return 0;
}

static int tel_sas(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const unsigned int max = DP_MAX_SPIS + DP_MAX_NEIGHBOURS + DP_MAX_GROUPS;
	struct dp_sa_info *si;
	struct dp *dp = cur();
	char val[RTE_TEL_MAX_STRING_LEN];
	int n;

	(void)cmd;
	(void)params;
	if (dp == NULL)
		return -ENODEV;
	si = calloc(max, sizeof(*si));
	if (si == NULL)
		return -ENOMEM;
	n = dp_sas_list(dp, si, max);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	/* "in 0x00002001 pairwise pkts=.. bytes=.. drops=.. seq=.." -- never keys */
	for (int i = 0; i < n && i < (int)max && i < RTE_TEL_MAX_ARRAY_ENTRIES; i++) {
		snprintf(val, sizeof(val), "%s 0x%08x %s pkts=%lu bytes=%lu drops=%lu seq=%lu",
			si[i].inbound ? "in" : "out", si[i].spi,
			si[i].mode == DP_SA_GROUP ? "group" : "pairwise",
			(unsigned long)si[i].packets, (unsigned long)si[i].bytes,
			(unsigned long)si[i].drops, (unsigned long)si[i].seq);
		rte_tel_data_add_array_string(d, val);
	}
	free(si);
	return 0;
}

void dp_telemetry_attach(struct dp *dp)
{
	static bool registered;

	if (!registered) {
		/* Registration fails only when telemetry is disabled: not fatal. */
		rte_telemetry_register_cmd("/vprn/stats", tel_stats,
			"Data plane counters and drop reasons. No parameters");
		rte_telemetry_register_cmd("/vprn/groups", tel_groups,
			"Published groups: mode, tree, counters. No parameters");
		rte_telemetry_register_cmd("/vprn/neighbours", tel_neighbours,
			"Overlay neighbours and ARP state. No parameters");
		rte_telemetry_register_cmd("/vprn/sas", tel_sas,
			"SAs (never keys): SPI, direction, counters. No parameters");
		registered = true;
	}
	/* Release: the telemetry thread must see a fully created dp. */
	__atomic_store_n(&tel_dp, dp, __ATOMIC_RELEASE);
}

void dp_telemetry_detach(struct dp *dp)
{
	struct dp *expected = dp;

	/* Only if it is still the one shown; release pairs with cur()'s acquire. */
	__atomic_compare_exchange_n(
		&tel_dp, &expected, NULL, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
}
