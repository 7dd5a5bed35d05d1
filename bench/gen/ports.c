/* SPDX-License-Identifier: BSD-3-Clause */
#include "ports.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include <rte_ethdev.h>

#include "common/log.h"

#define PORT_RX_DESC 1024
#define PORT_TX_DESC 1024

int bench_port_resolve(const char *name, uint16_t *port_id)
{
	const char *p = name;

	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '\0' && p != name) {
		unsigned long v = strtoul(name, NULL, 10);

		if (v >= RTE_MAX_ETHPORTS || !rte_eth_dev_is_valid_port((uint16_t)v))
			return -ENODEV;
		*port_id = (uint16_t)v;
		return 0;
	}
	return rte_eth_dev_get_port_by_name(name, port_id) == 0 ? 0 : -ENODEV;
}

static int port_setup(uint16_t id, const struct bench_opts *o, struct rte_mempool *rx_pool)
{
	struct rte_eth_conf conf = { 0 };
	uint16_t nrx = PORT_RX_DESC, ntx = PORT_TX_DESC;
	int rc;

	rc = rte_eth_dev_configure(id, o->n_queues, 1, &conf);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
	if (rc == 0 && o->mtu != 0)
		rc = rte_eth_dev_set_mtu(id, o->mtu);
	for (uint16_t q = 0; q < o->n_queues && rc == 0; q++)
		rc = rte_eth_rx_queue_setup(id, q, nrx, rte_eth_dev_socket_id(id), NULL, rx_pool);
	if (rc == 0)
		rc = rte_eth_tx_queue_setup(id, 0, ntx, rte_eth_dev_socket_id(id), NULL);
	if (rc == 0)
		rc = rte_eth_dev_start(id);
	if (rc != 0) {
		LOG_ERR("ports", "port %u: setup failed: %s", id, rte_strerror(-rc));
		return rc;
	}
	/* Not every driver has these (ring does not need them): best effort. */
	(void)rte_eth_promiscuous_enable(id);
	(void)rte_eth_allmulticast_enable(id);
	return 0;
}

static bool seen_before(const uint16_t *ids, unsigned int i)
{
	for (unsigned int j = 0; j < i; j++)
		if (ids[j] == ids[i])
			return true;
	return false;
}

int bench_ports_start(const uint16_t *ids, unsigned int n, const struct bench_opts *o,
	struct rte_mempool *rx_pool)
{
	unsigned int waited_ms = 0;

	for (unsigned int i = 0; i < n; i++) {
		int rc;

		if (seen_before(ids, i))
			continue;
		rc = port_setup(ids[i], o, rx_pool);
		if (rc != 0)
			return rc;
	}
	for (;;) {
		unsigned int down = 0;

		for (unsigned int i = 0; i < n; i++) {
			struct rte_eth_link link;

			if (rte_eth_link_get_nowait(ids[i], &link) == 0 && !link.link_status)
				down++;
		}
		if (down == 0)
			return 0;
		if (waited_ms >= o->link_wait_s * 1000u) {
			LOG_WARN("ports", "%u port(s) still down after %u s, going on", down,
				o->link_wait_s);
			return 0;
		}
		usleep(100 * 1000);
		waited_ms += 100;
	}
}

void bench_ports_stop(const uint16_t *ids, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (seen_before(ids, i))
			continue;
		(void)rte_eth_dev_stop(ids[i]);
		(void)rte_eth_dev_close(ids[i]);
	}
}
