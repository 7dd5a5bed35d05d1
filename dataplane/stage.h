/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_STAGE_H
#define VPRN_DATAPLANE_STAGE_H

/*
 * Per-stage cycle accounting (dp_conf.stage_cycles, docs/dataplane.md).
 * A worker iteration is a sequence of exclusive stages: each switch reads the
 * TSC once and charges the time since the previous switch to the stage that
 * was running. The loop commits an iteration's scratch to the counters only
 * when it handled packets. Off: dp_stage_to() is one predictable branch on a
 * worker-private flag, taken at stage boundaries (per burst, per engine call).
 */

#include <rte_cycles.h>

#include "dataplane/dp_priv.h"

static inline void dp_stage_switch(struct dp_worker *w, enum dp_stage next)
{
	uint64_t now = rte_rdtsc();

	w->st.cycles[w->st.cur] += now - w->st.last;
	w->st.last = now;
	w->st.cur = (uint8_t)next;
}

/* Enter `next` (and count n packets for it) when accounting is on. */
static inline void dp_stage_to(struct dp_worker *w, enum dp_stage next, unsigned int n)
{
	if (unlikely(w->st.on)) {
		dp_stage_switch(w, next);
		w->st.pkts[next] += n;
	}
}

/* Count n packets for a stage without a switch (accounting on only). */
static inline void dp_stage_pkts(struct dp_worker *w, enum dp_stage s, unsigned int n)
{
	if (unlikely(w->st.on))
		w->st.pkts[s] += n;
}

#endif /* VPRN_DATAPLANE_STAGE_H */
