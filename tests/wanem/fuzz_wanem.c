/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness for vprn-wanem's untrusted inputs: the first byte picks
 * a control command line or a frame received on one of three links.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wanem.h"
#include "wanem_ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct wanem *w;

static void init(void)
{
	w = calloc(1, sizeof(*w));
	if (w == NULL || wanem_link_parse(w, "s1=v1,10.100.1.1/24") < 0 ||
		wanem_link_parse(w, "s2=v2,10.100.2.1/24") < 0 ||
		wanem_link_parse(w, "s3=v3,10.100.3.1/16") < 0 || wanem_pairs_init(w) < 0 ||
		wanem_queue_init(&w->queue, 4096) < 0)
		abort();
	w->rng = 1;
	for (unsigned int i = 0; i < w->n_links; i++)
		w->links[i].mac[5] = (uint8_t)(i + 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t now;
	uint8_t frame[WANEM_FRAME_MAX];

	if (w == NULL)
		init();
	if (size < 1)
		return 0;
	if (data[0] & 0x80) {
		char line[WANEM_CTL_LINE_MAX + 64];
		struct wanem_out o = { 0 };
		size_t n = size - 1 < sizeof(line) - 1 ? size - 1 : sizeof(line) - 1;

		memcpy(line, data + 1, n);
		line[n] = '\0';
		wanem_ctl_exec(w, line, &o);
		wanem_out_free(&o);
	} else if (size - 1 <= sizeof(frame)) {
		memcpy(frame, data + 1, size - 1);
		wanem_route(w, data[0] % w->n_links, frame, size - 1, now);
	}
	now += 1000000;
	wanem_tx_due(w, now);
	return 0;
}
