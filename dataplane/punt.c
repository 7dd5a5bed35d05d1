/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Punt and inject: the only two paths between the workers and the control
 * thread for packets. Workers enqueue punted mbufs (multi-producer) and the
 * control thread dequeues them (single consumer); the control thread
 * enqueues frames to send and worker 0 transmits them on its own queues.
 */

#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dataplane/dp_priv.h"
#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"
#include "dataplane/tables.h"

/*
 * The punt kind and port travel in mbuf->hash.usr, which the RX path may have
 * filled with an RSS hash we no longer need once the packet is classified.
 */
#define PUNT_META(kind, port) ((uint32_t)(kind) | ((uint32_t)(port) << 8))

void dp_punt(struct dp_worker *w, struct rte_mbuf *m, unsigned int port, unsigned int kind)
{
	m->hash.usr = PUNT_META(kind, port);
	if (kind == DP_PUNT_PROBE)
		dp_probe_stamp(w->dp, m);
	if (rte_ring_mp_enqueue(w->dp->punt_ring, m) != 0) {
		dp_drop(w, m, DP_DROP_PUNT_FULL);
		return;
	}
	DP_CTR_ADD(w->ctr.punt, 1);
}

unsigned int dp_punt_dequeue(struct dp *dp, struct dp_punt *out, unsigned int n)
{
	struct rte_mbuf *pkts[DP_MAX_BURST];
	unsigned int got;

	if (dp == NULL || out == NULL)
		return 0;
	if (n > DP_MAX_BURST)
		n = DP_MAX_BURST;
	got = rte_ring_sc_dequeue_burst(dp->punt_ring, (void **)pkts, n, NULL);
	for (unsigned int i = 0; i < got; i++) {
		out[i].m = pkts[i];
		out[i].kind = (enum dp_punt_kind)(pkts[i]->hash.usr & 0xff);
		out[i].port = (enum dp_port_sel)((pkts[i]->hash.usr >> 8) & 0xff);
		out[i].rx_ns = out[i].kind == DP_PUNT_PROBE ? dp_probe_rx_ns(dp, pkts[i]) : 0;
	}
	return got;
}

int dp_inject(struct dp *dp, enum dp_port_sel port, struct rte_mbuf *m)
{
	if (dp == NULL || m == NULL || (port != DP_LAN && port != DP_WAN))
		return -EINVAL;
	if (rte_pktmbuf_pkt_len(m) < RTE_ETHER_HDR_LEN)
		return -EINVAL;
	/* MP enqueue: several control-side threads may inject (vprnctl, probes). */
	if (rte_ring_mp_enqueue(dp->inject_ring[port], m) != 0)
		return -ENOBUFS;
	return 0;
}

int dp_inject_frame(struct dp *dp, enum dp_port_sel port, const void *frame, size_t len)
{
	struct rte_mbuf *m;
	char *p;
	int rc;

	if (dp == NULL || frame == NULL || len < RTE_ETHER_HDR_LEN || len > UINT16_MAX)
		return -EINVAL;
	m = rte_pktmbuf_alloc(dp->pool);
	if (m == NULL)
		return -ENOBUFS;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(p, frame, len);
	rc = dp_inject(dp, port, m);
	if (rc < 0)
		rte_pktmbuf_free(m);
	return rc;
}

int dp_inject_esp(struct dp *dp, uint32_t nbr_addr, struct rte_mbuf *m)
{
	if (dp == NULL || m == NULL || nbr_addr == 0 || rte_pktmbuf_pkt_len(m) < 20)
		return -EINVAL;
	m->hash.usr = nbr_addr; /* the neighbour travels with the packet */
	if (rte_ring_mp_enqueue(dp->inject_esp_ring, m) != 0)
		return -ENOBUFS;
	return 0;
}

int dp_inject_esp_packet(struct dp *dp, uint32_t nbr_addr, const void *ip, size_t len)
{
	struct rte_mbuf *m;
	char *p;
	int rc;

	if (dp == NULL || ip == NULL || len < 20 || len > UINT16_MAX)
		return -EINVAL;
	m = rte_pktmbuf_alloc(dp->pool);
	if (m == NULL)
		return -ENOBUFS;
	p = rte_pktmbuf_append(m, (uint16_t)len);
	if (p == NULL) {
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	memcpy(p, ip, len);
	rc = dp_inject_esp(dp, nbr_addr, m);
	if (rc < 0)
		rte_pktmbuf_free(m);
	return rc;
}

/* Worker 0: control's packets to a neighbour, encrypted in place with its pairwise SA. */
void dp_inject_esp_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	/* Acquire: pairs with the release store in dp_cfg_publish(). */
	const struct dp_tables *t = __atomic_load_n(&w->dp->tables, __ATOMIC_ACQUIRE);

	for (unsigned int i = 0; i < n; i++) {
		const struct dp_nbr_rt *nb = dp_nbr_lookup(t, pkts[i]->hash.usr);
		struct rte_mbuf *m = pkts[i];
		uint8_t reason;
		char *l2;

		if (nb == NULL || m->nb_segs != 1) {
			dp_drop(w, m, DP_DROP_INJECT_BAD);
		} else if (!nb->resolved) {
			dp_drop(w, m, DP_DROP_NEIGH_UNRESOLVED);
		} else if (nb->sa_out == NULL) {
			dp_drop(w, m, DP_DROP_NO_SA);
		} else if (esp_outb_inplace(w->esp, nb->sa_out, &m, 1, &reason) != 1) {
			dp_drop(w, m, dp_esp_reason(reason));
		} else if ((l2 = rte_pktmbuf_prepend(m, ETH_HDR_LEN)) == NULL) {
			dp_drop(w, m, DP_DROP_NO_MBUF);
		} else {
			memcpy(l2, nb->l2, ETH_HDR_LEN);
			dp_tx(w, DP_PORT_WAN, m);
		}
	}
}

void dp_inject_input(struct dp_worker *w, unsigned int port, struct rte_mbuf **pkts, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (rte_pktmbuf_pkt_len(pkts[i]) > w->dp->port[port].mtu + RTE_ETHER_HDR_LEN + 4u) {
			dp_drop(w, pkts[i], DP_DROP_INJECT_BAD);
			continue;
		}
		dp_tx(w, port, pkts[i]);
	}
}
