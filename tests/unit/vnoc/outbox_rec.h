/* SPDX-License-Identifier: BSD-3-Clause */
/* A recording outbox for the VNOC core unit tests. */
#ifndef VPRN_TEST_OUTBOX_REC_H
#define VPRN_TEST_OUTBOX_REC_H

#include <stdio.h>
#include <string.h>

#include "outbox.h"

#define REC_MAX 4096

struct rec_msg {
	uint32_t site;
	struct vprn_msg m; /* repeated arrays are NOT kept (pointers dangle) */
	struct vprn_neighbour nb[8];
	uint32_t n_nb;
};

struct rec {
	struct rec_msg v[REC_MAX];
	size_t n;
	uint64_t seq;
	int fail_site; /* -1: none; this site is "not connected" */
};

static inline int rec_send(void *ctx, uint32_t site, struct vprn_msg *msg)
{
	struct rec *r = ctx;
	struct rec_msg *x;

	if (r->fail_site == (int)site)
		return -ENOTCONN;
	if (r->n == REC_MAX)
		return -ENOBUFS;
	msg->seq = ++r->seq;
	x = &r->v[r->n++];
	x->site = site;
	x->m = *msg;
	x->n_nb = 0;
	if (msg->type == VPRN_MSG_TREE_UPDATE) {
		for (uint32_t i = 0; i < msg->u.tree_update.n_neighbours && i < 8; i++)
			x->nb[x->n_nb++] = msg->u.tree_update.neighbours[i];
		x->m.u.tree_update.neighbours = NULL;
	}
	return 0;
}

static inline struct vnoc_outbox rec_outbox(struct rec *r)
{
	memset(r, 0, sizeof(*r));
	r->fail_site = -1;
	return (struct vnoc_outbox){ .send = rec_send, .ctx = r };
}

/* The i-th message (from @from) of @type to @site, or NULL. */
static inline const struct rec_msg *rec_find(
	const struct rec *r, size_t from, uint32_t site, enum vprn_msg_type type)
{
	for (size_t i = from; i < r->n; i++)
		if (r->v[i].site == site && r->v[i].m.type == type)
			return &r->v[i];
	return NULL;
}

static inline size_t rec_count(
	const struct rec *r, size_t from, uint32_t site, enum vprn_msg_type type)
{
	size_t n = 0;

	for (size_t i = from; i < r->n; i++)
		n += r->v[i].site == site && r->v[i].m.type == type;
	return n;
}

#endif
