/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: vprn-bench's receiver classification of arbitrary frames. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_info pi;
	uint8_t *copy;

	if (size > 65535)
		return 0;
	/* An exact-size heap copy: ASan sees any read past the frame. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	switch (bench_classify(copy, (uint32_t)size, &pi)) {
	case PKT_STAMP:
		if (pi.stamp.magic != BENCH_STAMP_MAGIC || size < 58)
			abort();
		break;
	case PKT_ESP:
		if (size < 14 + 20 + 8)
			abort();
		break;
	case PKT_FOREIGN:
		break;
	}
	free(copy);
	return 0;
}
