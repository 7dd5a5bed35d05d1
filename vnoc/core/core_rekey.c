/* SPDX-License-Identifier: BSD-3-Clause */
/* `vprnctl vnoc rekey`: start a make-before-break rekey of every active SA channel now. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "core.h"
#include "core_priv.h"
#include "keys.h"

struct rekey_list {
	uint32_t chans[4096];
	size_t n;
};

static void collect(void *ctx, const struct vnoc_sa_info *sa)
{
	struct rekey_list *l = ctx;

	if (!sa->current || sa->state != VNOC_CHAN_ACTIVE || l->n == 4096)
		return;
	for (size_t i = 0; i < l->n; i++)
		if (l->chans[i] == sa->chan)
			return;
	l->chans[l->n++] = sa->chan;
}

int vnoc_core_ctl_rekey(
	struct vnoc_core *c, int argc, char **argv, struct vprn_json *out, char *err, size_t errlen)
{
	struct rekey_list *l;
	uint64_t started = 0, busy = 0;

	(void)argv;
	if (argc != 0) {
		snprintf(err, errlen, "usage: rekey");
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		return -ENOMEM;
	vnoc_keys_for_each(c->keys, false, core_now(c), collect, l);
	for (size_t i = 0; i < l->n; i++) {
		if (vnoc_keys_rekey(c->keys, l->chans[i], core_now(c)) == 0)
			started++;
		else
			busy++;
	}
	free(l);
	LOG_INFO("core", "rekey requested: %llu channels started, %llu busy",
		(unsigned long long)started, (unsigned long long)busy);
	vprn_json_obj_begin(out);
	vprn_json_kv_u64(out, "started", started);
	vprn_json_kv_u64(out, "busy", busy);
	vprn_json_obj_end(out);
	return 0;
}
