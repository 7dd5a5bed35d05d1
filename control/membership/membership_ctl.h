/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_CTL_H
#define VPRN_MEMBERSHIP_CTL_H

/**
 * @file
 * Control socket commands of the membership module, with the argument
 * convention of common/ctlsock.h (argv = the words after the command). The
 * ED registers thin wrappers that map its ctl context to its membership:
 *   members                      learned, announced, discovered, pre-defined rows
 *   igmp                         querier state and counters (drop reasons by name)
 *   announce --group G --role receiver|sender [--source S] --ttl SECONDS
 *                                add/renew (ttl 0 removes) an announcement
 * Each writes exactly one JSON value into @p out or returns -errno with a
 * message in @p err.
 */

#include <stddef.h>

#include "common/json.h"
#include "control/membership/membership.h"

int membership_ctl_members(struct membership *m, int argc, char **argv, struct vprn_json *out,
	char *err, size_t err_len);
int membership_ctl_igmp(struct membership *m, int argc, char **argv, struct vprn_json *out,
	char *err, size_t err_len);
int membership_ctl_announce(struct membership *m, int argc, char **argv, struct vprn_json *out,
	char *err, size_t err_len);

#endif /* VPRN_MEMBERSHIP_CTL_H */
