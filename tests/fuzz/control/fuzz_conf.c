/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config files are operator input, but a loader must still never crash on a
 * bad one: it refuses with FILE:LINE. This harness feeds arbitrary bytes as a
 * config file to the VNOC loader (registry + group policies) or to the ED
 * loader (ports, VNOC session, membership), chosen by the first byte.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "control/ed_conf.h"
#include "vnoc/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vprn_log_init("fuzz_conf", VPRN_LOG_ERR);
	snprintf(path, sizeof(path), "/tmp/fuzz_conf-%d.conf", (int)getpid());
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vprn_conf_err err;
	FILE *f;

	if (size < 1)
		return 0;
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	if (fwrite(data + 1, 1, size - 1, f) != size - 1)
		abort();
	fclose(f);
	memset(&err, 0, sizeof(err));
	if (data[0] & 1) {
		struct ed_conf c;

		if (ed_conf_load(path, &c, &err) == 0)
			ed_conf_free(&c);
	} else {
		struct vnoc_conf c;

		if (vnoc_conf_load(path, &c, &err) == 0)
			vnoc_conf_free(&c);
	}
	unlink(path);
	return 0;
}
