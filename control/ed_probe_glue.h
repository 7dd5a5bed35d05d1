/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_PROBE_GLUE_H
#define VPRN_CONTROL_ED_PROBE_GLUE_H

/**
 * @file
 * The probe module (ed_probe.h) inside vprn-ed: probes leave through
 * dp_inject_probe(), punted probes come in from the control loop, every
 * metrics interval a MetricsReport goes to the VNOC, and `vprnctl ed probes`
 * shows the measurements. Hooks called by ed_loop.c.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/msg.h"

struct ed;
struct dp_punt;

/** After the control socket and the data plane exist. @return 0 or -errno. */
int ed_probes_start(struct ed *ed);
/** A Welcome: new peers, keys and intervals (old keys wiped). */
void ed_probes_welcome(struct ed *ed, const struct vprn_welcome *w);
/** A punted packet: true if it was a probe (consumed). */
bool ed_probes_punt(struct ed *ed, struct dp_punt *p);
/** Timers: probes, losses, MetricsReport. */
void ed_probes_tick(struct ed *ed, uint64_t now_ms);
void ed_probes_stop(struct ed *ed);

#endif /* VPRN_CONTROL_ED_PROBE_GLUE_H */
