/* SPDX-License-Identifier: BSD-3-Clause */
#include "spi.h"

#include <stdbool.h>
#include <stdlib.h>

#define SPI_BUCKETS 4096u
#define IN_USE UINT64_MAX

struct spi_node {
	uint32_t spi;
	uint64_t free_at_ms; /* IN_USE while allocated */
	struct spi_node *next;
};

struct vnoc_spi_alloc {
	uint32_t next;	     /* next candidate */
	uint32_t high_water; /* reserved: candidates below it are covered */
	uint32_t block;
	bool wrapped;
	uint32_t busy;
	vnoc_spi_reserve_fn reserve;
	void *ctx;
	struct spi_node *bucket[SPI_BUCKETS];
};

struct vnoc_spi_alloc *vnoc_spi_create(
	uint32_t next, uint32_t block, vnoc_spi_reserve_fn reserve, void *ctx)
{
	struct vnoc_spi_alloc *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->next = next < VNOC_SPI_MIN ? VNOC_SPI_MIN : next;
	a->high_water = a->next;
	a->block = block ? block : 1;
	a->reserve = reserve;
	a->ctx = ctx;
	return a;
}

void vnoc_spi_destroy(struct vnoc_spi_alloc *a)
{
	if (a == NULL)
		return;
	for (size_t b = 0; b < SPI_BUCKETS; b++) {
		for (struct spi_node *n = a->bucket[b], *nx; n != NULL; n = nx) {
			nx = n->next;
			free(n);
		}
	}
	free(a);
}

static struct spi_node **find(struct vnoc_spi_alloc *a, uint32_t spi)
{
	struct spi_node **pp = &a->bucket[(spi * 0x9e3779b1u) >> 20];

	while (*pp != NULL && (*pp)->spi != spi)
		pp = &(*pp)->next;
	return pp;
}

/* Is @spi free at @now? Drops an expired quarantine entry on the way. */
static bool available(struct vnoc_spi_alloc *a, uint32_t spi, uint64_t now_ms)
{
	struct spi_node **pp = find(a, spi);
	struct spi_node *n = *pp;

	if (n == NULL)
		return true;
	if (n->free_at_ms == IN_USE || n->free_at_ms > now_ms)
		return false;
	*pp = n->next;
	free(n);
	a->busy--;
	return true;
}

static int reserve_up_to(struct vnoc_spi_alloc *a, uint32_t spi)
{
	uint64_t hw = (uint64_t)spi + a->block;

	if (spi < a->high_water && !a->wrapped)
		return 0;
	if (a->wrapped)
		return 0; /* after a wrap the quarantine protects, not the mark */
	if (hw > UINT32_MAX)
		hw = UINT32_MAX;
	if (a->reserve != NULL && a->reserve(a->ctx, (uint32_t)hw) != 0)
		return -1;
	a->high_water = (uint32_t)hw;
	return 0;
}

uint32_t vnoc_spi_get(struct vnoc_spi_alloc *a, uint64_t now_ms)
{
	uint64_t tries = (uint64_t)UINT32_MAX - VNOC_SPI_MIN + 1;

	while (tries-- > 0) {
		uint32_t spi = a->next;
		struct spi_node *n;

		if (a->next == UINT32_MAX) {
			a->next = VNOC_SPI_MIN;
			a->wrapped = true;
		} else {
			a->next++;
		}
		if (!available(a, spi, now_ms))
			continue;
		if (reserve_up_to(a, spi) != 0) {
			a->next = spi; /* not handed out: retry later */
			return 0;
		}
		n = malloc(sizeof(*n));
		if (n == NULL) {
			a->next = spi;
			return 0;
		}
		struct spi_node **pp = find(a, spi);

		n->spi = spi;
		n->free_at_ms = IN_USE;
		n->next = *pp;
		*pp = n;
		a->busy++;
		return spi;
	}
	return 0;
}

void vnoc_spi_release(struct vnoc_spi_alloc *a, uint32_t spi, uint64_t free_at_ms)
{
	struct spi_node *n = *find(a, spi);

	if (n != NULL && n->free_at_ms == IN_USE)
		n->free_at_ms = free_at_ms == IN_USE ? IN_USE - 1 : free_at_ms;
}

uint32_t vnoc_spi_busy(const struct vnoc_spi_alloc *a)
{
	return a->busy;
}

uint32_t vnoc_spi_high_water(const struct vnoc_spi_alloc *a)
{
	return a->high_water;
}

void vnoc_spi_set_next(struct vnoc_spi_alloc *a, uint32_t next)
{
	a->next = next < VNOC_SPI_MIN ? VNOC_SPI_MIN : next;
	a->high_water = a->next; /* the next get reserves again */
}
