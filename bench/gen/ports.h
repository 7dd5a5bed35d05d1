/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_BENCH_PORTS_H
#define VPRN_BENCH_PORTS_H

#include <stdint.h>

#include <rte_mempool.h>

#include "opts.h"

/** Port id from "3" or a device name ("net_memif0"); -ENODEV if none. */
int bench_port_resolve(const char *name, uint16_t *port_id);

/**
 * Configure and start every port in ids (duplicates allowed: one RX and one
 * TX queue each), promiscuous and all-multicast on, MTU if asked; then wait
 * up to o->link_wait_s for every link. 0 or -errno.
 */
int bench_ports_start(const uint16_t *ids, unsigned int n, const struct bench_opts *o,
	struct rte_mempool *rx_pool);

void bench_ports_stop(const uint16_t *ids, unsigned int n);

#endif /* VPRN_BENCH_PORTS_H */
