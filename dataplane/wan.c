/* SPDX-License-Identifier: BSD-3-Clause */
/* WAN ingress (first cut: validate Ethernet, drop everything else). */

#include <rte_ether.h>

#include "dataplane/pipeline.h"

void dp_wan_input(struct dp_worker *w, struct rte_mbuf **pkts, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (rte_pktmbuf_data_len(pkts[i]) < RTE_ETHER_HDR_LEN)
			dp_drop(w, pkts[i], DP_DROP_ETH_TRUNC);
		else
			dp_drop(w, pkts[i], DP_DROP_WAN_PROTO);
	}
}
