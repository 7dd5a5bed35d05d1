/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_CONTROL_ED_CTL_H
#define VPRN_CONTROL_ED_CTL_H

#include "common/ctlsock.h"

struct ed;

/** Register the ED core's control commands (status, stats). */
int ed_ctl_register(struct ed *ed, struct vprn_ctlsock *ctl);

#endif /* VPRN_CONTROL_ED_CTL_H */
