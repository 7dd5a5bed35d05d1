/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CTL_H
#define VPRN_VNOC_CTL_H

struct vnoc;

/** Register the core's control commands (sites, status) on v->ctl. */
int vnoc_ctl_register(struct vnoc *v);

#endif /* VPRN_VNOC_CTL_H */
