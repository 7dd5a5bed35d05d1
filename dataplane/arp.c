/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826). Worker side: answer requests for our address on either
 * port, in place, and hand replies addressed to us on the WAN to the control
 * side. Control side (dp_service): learn those replies for the WAN next hops
 * we care about, send requests for unresolved or stale ones, republish the
 * tables when a MAC changes. Workers never write the ARP state.
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_mbuf.h>

#include "common/clock.h"
#include "common/log.h"
#include "dataplane/cfg.h"
#include "dataplane/dp_priv.h"
#include "dataplane/pipeline.h"
#include "dataplane/proto.h"

#define ARP_RETRY_MS 1000    /* unresolved: ask again every second */
#define ARP_REFRESH_MS 30000 /* resolved: refresh */

/* Worker: m is a valid ARP frame (dp_parse_frame) with l2 bytes of L2. */
void dp_arp_input(struct dp_worker *w, unsigned int port, struct rte_mbuf *m, uint16_t l2)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_arp_hdr *arp = rte_pktmbuf_mtod_offset(m, struct rte_arp_hdr *, l2);
	const struct dp_port_conf *pc = port == DP_PORT_LAN ? &w->dp->conf.lan : &w->dp->conf.wan;
	const struct rte_ether_addr *mac = &w->dp->port[port].mac;
	uint32_t me = rte_cpu_to_be_32(pc->addr);

	if (pc->addr == 0 || arp->arp_data.arp_tip != me) {
		dp_drop(w, m, DP_DROP_ARP_NOT_US);
		return;
	}
	if (arp->arp_opcode == rte_cpu_to_be_16(ARP_OP_REPLY)) {
		if (port != DP_PORT_WAN || rte_ring_mp_enqueue(w->dp->arp_ring, m) != 0)
			dp_drop(w, m, port != DP_PORT_WAN ? DP_DROP_ARP_NOT_US : DP_DROP_PUNT_FULL);
		return;
	}
	/* Request for us: turn it into the reply, in place. */
	arp->arp_opcode = rte_cpu_to_be_16(ARP_OP_REPLY);
	arp->arp_data.arp_tha = arp->arp_data.arp_sha;
	arp->arp_data.arp_tip = arp->arp_data.arp_sip;
	arp->arp_data.arp_sha = *mac;
	arp->arp_data.arp_sip = me;
	eth->dst_addr = arp->arp_data.arp_tha;
	eth->src_addr = *mac;
	dp_tx(w, port, m);
}

/* ---- control side ---------------------------------------------------------- */

static struct dp_arp_entry *arp_get(struct dp *dp, uint32_t ip, bool create)
{
	struct dp_arp_entry *free_e = NULL;

	for (unsigned int i = 0; i < DP_ARP_ENTRIES; i++) {
		if (dp->arp[i].in_use && dp->arp[i].ip == ip)
			return &dp->arp[i];
		if (!dp->arp[i].in_use && free_e == NULL)
			free_e = &dp->arp[i];
	}
	if (!create || free_e == NULL)
		return NULL;
	memset(free_e, 0, sizeof(*free_e));
	free_e->ip = ip;
	free_e->in_use = true;
	return free_e;
}

static int arp_send_request(struct dp *dp, uint32_t target)
{
	uint8_t f[ETH_HDR_LEN + ARP_PKT_LEN];
	struct rte_ether_hdr *eth = (struct rte_ether_hdr *)f;
	struct rte_arp_hdr *arp = (struct rte_arp_hdr *)(f + ETH_HDR_LEN);

	memset(&eth->dst_addr, 0xff, RTE_ETHER_ADDR_LEN);
	eth->src_addr = dp->port[DP_PORT_WAN].mac;
	eth->ether_type = rte_cpu_to_be_16(ETHERTYPE_ARP);
	arp->arp_hardware = rte_cpu_to_be_16(ARP_HRD_ETHER);
	arp->arp_protocol = rte_cpu_to_be_16(ETHERTYPE_IPV4);
	arp->arp_hlen = RTE_ETHER_ADDR_LEN;
	arp->arp_plen = 4;
	arp->arp_opcode = rte_cpu_to_be_16(ARP_OP_REQUEST);
	arp->arp_data.arp_sha = dp->port[DP_PORT_WAN].mac;
	arp->arp_data.arp_sip = rte_cpu_to_be_32(dp->conf.wan.addr);
	memset(&arp->arp_data.arp_tha, 0, RTE_ETHER_ADDR_LEN);
	arp->arp_data.arp_tip = rte_cpu_to_be_32(target);
	return dp_inject_frame(dp, DP_WAN, f, sizeof(f));
}

/* Next hops in use: one per configured neighbour (gateway or on-link peer), and probes'. */
static void arp_mark_wanted(struct dp *dp, uint64_t now)
{
	for (unsigned int i = 0; i < DP_ARP_ENTRIES; i++)
		dp->arp[i].wanted = false;
	for (unsigned int i = 0; i < DP_PROBE_NH_MAX; i++) {
		struct dp_probe_nh *p = &dp->probe_nh[i];
		struct dp_arp_entry *e;

		if (p->ip != 0 && now - p->last_use_ms > DP_PROBE_NH_IDLE_MS)
			p->ip = 0; /* no probe for a minute */
		if (p->ip == 0)
			continue;
		e = arp_get(dp, p->ip, true);
		if (e != NULL)
			e->wanted = true;
	}
	for (unsigned int i = 0; i < dp->cfg->n_nbrs; i++) {
		struct dp_arp_entry *e = arp_get(dp, dp_next_hop(dp, dp->cfg->nbrs[i].addr), true);

		if (e != NULL)
			e->wanted = true;
	}
	for (unsigned int i = 0; i < DP_ARP_ENTRIES; i++)
		dp->arp[i].in_use = dp->arp[i].wanted;
}

/* Learn queued replies. @return true when a wanted next hop's MAC changed. */
static bool arp_learn(struct dp *dp, uint64_t now)
{
	struct rte_mbuf *m;
	bool changed = false;

	while (rte_ring_sc_dequeue(dp->arp_ring, (void **)&m) == 0) {
		const struct rte_arp_hdr *arp =
			rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *, ETH_HDR_LEN);
		struct dp_arp_entry *e =
			arp_get(dp, rte_be_to_cpu_32(arp->arp_data.arp_sip), false);

		if (e != NULL && !rte_is_zero_ether_addr(&arp->arp_data.arp_sha) &&
			!rte_is_multicast_ether_addr(&arp->arp_data.arp_sha)) {
			changed |= !e->resolved || memcmp(e->mac, &arp->arp_data.arp_sha, 6) != 0;
			memcpy(e->mac, &arp->arp_data.arp_sha, 6);
			e->resolved = true;
			e->last_reply_ms = now;
		}
		rte_pktmbuf_free(m);
	}
	return changed;
}

static void arp_solicit(struct dp *dp, uint64_t now)
{
	for (unsigned int i = 0; i < DP_ARP_ENTRIES; i++) {
		struct dp_arp_entry *e = &dp->arp[i];
		uint64_t every = e->resolved ? ARP_REFRESH_MS : ARP_RETRY_MS;

		if (!e->in_use || (e->last_req_ms != 0 && now - e->last_req_ms < every))
			continue;
		if (arp_send_request(dp, e->ip) == 0)
			e->last_req_ms = now;
	}
}

/* Tree grace periods that ended: drop the old neighbours from the accept lists. */
static bool grace_expire(struct dp *dp, uint64_t now)
{
	bool changed = false;

	for (unsigned int i = 0; i < dp->cfg->n_groups; i++) {
		struct dp_group_cfg *g = &dp->cfg->groups[i];

		if (g->n_prev != 0 && now >= g->prev_expiry_ms) {
			g->n_prev = 0;
			changed = true;
		}
	}
	return changed;
}

int dp_service(struct dp *dp)
{
	uint64_t now = vprn_now_ms();
	bool changed;

	int rc = 0;

	if (dp == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dp->cfg_lock);
	arp_mark_wanted(dp, now);
	changed = arp_learn(dp, now);
	changed |= grace_expire(dp, now);
	if (dp->conf.wan.addr != 0)
		arp_solicit(dp, now);
	if (changed)
		rc = dp_cfg_publish(dp, dp->cfg);
	pthread_mutex_unlock(&dp->cfg_lock);
	return rc;
}

int dp_arp_lookup(struct dp *dp, uint32_t ip, uint8_t mac[6])
{
	const struct dp_arp_entry *e = arp_get(dp, ip, false);

	if (e == NULL)
		return -ENOENT;
	if (!e->resolved)
		return -EAGAIN;
	memcpy(mac, e->mac, 6);
	return 0;
}

int dp_neighbour_mac(struct dp *dp, uint32_t addr, uint8_t mac[6])
{
	int rc;

	if (dp == NULL || mac == NULL)
		return -EINVAL;
	pthread_mutex_lock(&dp->cfg_lock);
	rc = dp_arp_lookup(dp, dp_next_hop(dp, addr), mac);
	pthread_mutex_unlock(&dp->cfg_lock);
	return rc;
}
