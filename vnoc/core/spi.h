/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_SPI_H
#define VPRN_VNOC_CORE_SPI_H

/*
 * SPI allocator. SPIs are drawn from one VNOC-wide counter, so an SPI is
 * unique at every receiving ED (and in a capture of the whole overlay, which
 * keeps the Wireshark export unambiguous). The counter's high-water mark is
 * reserved in blocks through a persistence callback BEFORE any SPI of the
 * block is handed out: after a restart (even kill -9) the allocator starts
 * above everything it may have given before, so an ED that still holds an SA
 * from the previous VNOC life never sees its SPI reused.
 *
 * A released SPI is quarantined until the caller-given time (the SA's hard
 * lifetime plus grace: until then an ED may still hold it). Quarantine and
 * in-use sets matter only after the 32-bit counter wraps, which at 1000
 * allocations per second takes 49 days.
 */

#include <stdint.h>

#define VNOC_SPI_MIN 0x100u /* RFC 4303 §2.1: 1..255 reserved */

struct vnoc_spi_alloc;

/** Persist "no SPI >= @high_water has been handed out"; 0 or -errno. */
typedef int (*vnoc_spi_reserve_fn)(void *ctx, uint32_t high_water);

/**
 * @next: first SPI to hand out (the persisted high-water mark; VNOC_SPI_MIN
 * on a fresh database). @block: SPIs reserved per persistence write.
 */
struct vnoc_spi_alloc *vnoc_spi_create(
	uint32_t next, uint32_t block, vnoc_spi_reserve_fn reserve, void *ctx);
void vnoc_spi_destroy(struct vnoc_spi_alloc *a);

/** A fresh SPI, or 0 if none (persistence failed, or every SPI busy). */
uint32_t vnoc_spi_get(struct vnoc_spi_alloc *a, uint64_t now_ms);

/** @spi may be handed out again after @free_at_ms. Unknown SPIs are ignored. */
void vnoc_spi_release(struct vnoc_spi_alloc *a, uint32_t spi, uint64_t free_at_ms);

/** SPIs in use or quarantined. */
uint32_t vnoc_spi_busy(const struct vnoc_spi_alloc *a);

/** The reserved high-water mark (what the store holds). */
uint32_t vnoc_spi_high_water(const struct vnoc_spi_alloc *a);

/** Test seam: move the counter (e.g. near the wrap). */
void vnoc_spi_set_next(struct vnoc_spi_alloc *a, uint32_t next);

#endif /* VPRN_VNOC_CORE_SPI_H */
