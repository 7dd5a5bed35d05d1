/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fail-closed stand-in for the ESP stages until the ESP engine is linked:
 * nothing is ever sent to the WAN unencrypted, nothing is decrypted.
 */

#include "dataplane/pipeline.h"

void dp_replicate_out(struct dp_worker *w, const struct dp_tables *t, const struct dp_group_rt *g,
	struct rte_mbuf **pkts, unsigned int n)
{
	(void)t;
	(void)g;
	for (unsigned int i = 0; i < n; i++)
		dp_drop(w, pkts[i], DP_DROP_NO_SA);
}

void dp_wan_esp(
	struct dp_worker *w, const struct dp_tables *t, struct rte_mbuf **pkts, unsigned int n)
{
	(void)t;
	for (unsigned int i = 0; i < n; i++)
		dp_drop(w, pkts[i], DP_DROP_ESP_SPI);
}
