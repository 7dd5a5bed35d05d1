/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: a control socket request line (JSON parser + request checks +
 * dispatch). The answer must always be valid JSON with an "ok" member.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/ctlsock.h"
#include "common/json.h"

static int cmd_echo(
	void *ctx, int argc, char **argv, struct vprn_json *out, char *err, size_t errlen)
{
	(void)ctx;
	(void)err;
	(void)errlen;
	vprn_json_arr_begin(out);
	for (int i = 0; i < argc; i++)
		vprn_json_string(out, argv[i]);
	vprn_json_arr_end(out);
	return 0;
}

static const struct vprn_ctl_cmd cmds[] = { { "echo", "echo ARGS", cmd_echo } };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vprn_ctlsock *s;
	struct vprn_jval *v;
	char *ans;

	if (s == NULL) {
		char path[64];

		snprintf(path, sizeof(path), "/tmp/vprn-fuzz-ctl-%d.sock", (int)getpid());
		s = vprn_ctlsock_open(path, NULL);
		if (s == NULL)
			abort();
		vprn_ctlsock_register(s, cmds, 1);
	}
	if (size > VPRN_CTL_MAX_REQUEST)
		return 0;
	ans = vprn_ctlsock_dispatch(s, (const char *)data, size);
	if (ans == NULL)
		return 0; /* out of memory only */
	v = vprn_json_parse(ans, strlen(ans), NULL, 0);
	if (v == NULL || vprn_jval_get(v, "ok") == NULL)
		abort();
	vprn_jval_free(v);
	free(ans);
	return 0;
}
