/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_ESP_TEST_H
#define VPRN_DATAPLANE_ESP_TEST_H

/* Test seams of the ESP engine. Not for production code. */

#include <stdint.h>

#include "esp.h"

/**
 * Outbound: the next packet gets sequence number seq + 1. Inbound: the
 * replay window's top becomes seq (empty window). For tests near the wrap.
 */
void esp_sa_test_set_seq(struct esp_sa *sa, uint64_t seq);

/**
 * HMAC-SHA-256-128 of data with the SA's precomputed ipad/opad, through an
 * ipsec-mb job on ctx (for RFC 4231 known-answer tests). CBC SAs only.
 * @return 0, -EINVAL, -EIO.
 */
int esp_test_hmac(struct esp_ctx *ctx, const struct esp_sa *sa, const void *data, uint32_t len,
	uint8_t tag[16]);

#endif /* VPRN_DATAPLANE_ESP_TEST_H */
