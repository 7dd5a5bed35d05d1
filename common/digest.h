/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_DIGEST_H
#define VPRN_COMMON_DIGEST_H

/**
 * @file
 * The state digest (docs/protocol.md, "State digest"): SHA-256 over a
 * canonical encoding of the trees and SPIs an ED has installed. The ED
 * computes it over what it installed, the VNOC over what it expects the ED to
 * have; both call vprn_state_digest(), so the two can differ only when the
 * states do.
 *
 * Canonical form: each list sorted ascending (trees by group, then source,
 * then version), duplicates dropped. Encoding, every integer big endian:
 *   "vprn-sd1" (8 bytes)
 *   u32 n_trees,  n_trees  x (u32 group, u32 source, u64 version)
 *   u32 n_in,     n_in     x u32 inbound SPI
 *   u32 n_out,    n_out    x u32 outbound SPI
 */

#include <stddef.h>
#include <stdint.h>

#include "common/msg.h"

#define VPRN_STATE_DIGEST_LEN 32

/** Sort and de-duplicate the three lists in place (counts updated). */
void vprn_state_canon(struct vprn_installed_tree *trees, uint32_t *n_trees, uint32_t *in,
	uint32_t *n_in, uint32_t *out, uint32_t *n_out);

/**
 * The digest of a state. The lists may be in any order and hold duplicates
 * (the function canonicalises copies; the inputs are not changed).
 * @return 0, -ENOMEM, -EIO (OpenSSL).
 */
int vprn_state_digest(const struct vprn_installed_tree *trees, size_t n_trees, const uint32_t *in,
	size_t n_in, const uint32_t *out, size_t n_out, uint8_t digest[VPRN_STATE_DIGEST_LEN]);

/** Lower-case hex of @len bytes into @hex (2 * len + 1 bytes); "" when len is 0. */
char *vprn_digest_hex(const uint8_t *d, size_t len, char *hex);

#endif /* VPRN_COMMON_DIGEST_H */
