/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_PIPELINE_H
#define VPRN_DATAPLANE_PIPELINE_H

/*
 * The stages a worker runs on each burst. Every function takes a burst and
 * consumes every mbuf of it: sent (TX buffer), punted, or dropped with a
 * reason counter.
 */

#include <rte_rcu_qsbr.h>

#include "dataplane/dp_priv.h"

/* lan.c: LAN ingress (IGMP punt, ARP, multicast classification, encrypt). */
void dp_lan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n);
/* wan.c: WAN ingress (ARP, ESP decrypt, LAN delivery, transit). */
void dp_wan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n);
/* inject.c: frames from the control thread, sent out of `port`. */
void dp_inject_input(
	struct dp_worker *w, unsigned int port, struct rte_mbuf **pkts, unsigned int n);

/* punt.c: hand a packet to the control thread (consumes it). */
void dp_punt(struct dp_worker *w, struct rte_mbuf *m, unsigned int port, unsigned int kind);

/* tables.c: published tables (group, neighbour, inbound SPI). */
int dp_tables_init(struct dp *dp);
void dp_tables_fini(struct dp *dp);

/* RCU (QSBR): a worker is online while it may hold table pointers. */
static inline void dp_worker_online(struct dp_worker *w)
{
	rte_rcu_qsbr_thread_online(w->dp->qsbr, w->idx);
}

static inline void dp_worker_offline(struct dp_worker *w)
{
	rte_rcu_qsbr_thread_offline(w->dp->qsbr, w->idx);
}

static inline void dp_worker_quiescent(struct dp_worker *w)
{
	rte_rcu_qsbr_quiescent(w->dp->qsbr, w->idx);
}

#endif /* VPRN_DATAPLANE_PIPELINE_H */
