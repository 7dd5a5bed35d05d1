/* SPDX-License-Identifier: BSD-3-Clause */
#include "wanem_queue.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

struct wanem_pkt *wanem_pkt_alloc(size_t len)
{
	struct wanem_pkt *p = malloc(sizeof(*p) + len);

	if (p != NULL)
		p->len = (uint32_t)len;
	return p;
}

void wanem_pkt_free(struct wanem_pkt *p)
{
	free(p);
}

int wanem_queue_init(struct wanem_queue *q, size_t limit)
{
	q->n = 0;
	q->cap = 1024;
	q->limit = limit;
	q->next_seq = 0;
	q->heap = calloc(q->cap, sizeof(*q->heap));
	return q->heap == NULL ? -ENOMEM : 0;
}

void wanem_queue_fini(struct wanem_queue *q)
{
	while (q->n > 0)
		wanem_pkt_free(wanem_queue_pop(q));
	free(q->heap);
	q->heap = NULL;
	q->cap = 0;
}

static bool before(const struct wanem_pkt *a, const struct wanem_pkt *b)
{
	return a->due_ns < b->due_ns || (a->due_ns == b->due_ns && a->seq < b->seq);
}

int wanem_queue_push(struct wanem_queue *q, struct wanem_pkt *p)
{
	size_t i;

	if (q->n >= q->limit)
		return -ENOBUFS;
	if (q->n == q->cap) {
		size_t ncap = q->cap * 2;
		struct wanem_pkt **nh = realloc(q->heap, ncap * sizeof(*nh));

		if (nh == NULL)
			return -ENOBUFS;
		q->heap = nh;
		q->cap = ncap;
	}
	p->seq = q->next_seq++;
	i = q->n++;
	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!before(p, q->heap[parent]))
			break;
		q->heap[i] = q->heap[parent];
		i = parent;
	}
	q->heap[i] = p;
	return 0;
}

struct wanem_pkt *wanem_queue_peek(const struct wanem_queue *q)
{
	return q->n > 0 ? q->heap[0] : NULL;
}

struct wanem_pkt *wanem_queue_pop(struct wanem_queue *q)
{
	struct wanem_pkt *top, *last;
	size_t i = 0;

	if (q->n == 0)
		return NULL;
	top = q->heap[0];
	last = q->heap[--q->n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(q->heap[c + 1], q->heap[c]))
			c++;
		if (!before(q->heap[c], last))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	if (q->n > 0)
		q->heap[i] = last;
	return top;
}
