/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ports: find or probe an ethdev, configure one RX and one TX queue per
 * worker (RSS when the device has more than one RX queue), MTU, and
 * promiscuous + allmulticast on the LAN (hosts' multicast MACs are not ours).
 */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_dev.h>
#include <rte_ethdev.h>

#include "common/log.h"
#include "dataplane/dp_priv.h"

#define DP_RX_DESC 1024
#define DP_TX_DESC 1024

/* "net_af_packet0,iface=lan0" -> "net_af_packet0" */
static void devargs_name(const char *devargs, char *name, size_t size)
{
	size_t n = strcspn(devargs, ",");

	if (n >= size)
		n = size - 1;
	memcpy(name, devargs, n);
	name[n] = '\0';
}

/*
 * af_packet needs as many queue pairs as we configure; add qpairs=N unless
 * the operator already chose.
 */
static void devargs_fixup(const char *devargs, unsigned int n_queues, char *out, size_t size)
{
	if (strncmp(devargs, "net_af_packet", 13) == 0 && strstr(devargs, "qpairs=") == NULL &&
		n_queues > 1)
		snprintf(out, size, "%s,qpairs=%u", devargs, n_queues);
	else
		snprintf(out, size, "%s", devargs);
}

static int port_find_or_probe(struct dp_port *port, const char *devargs, unsigned int n_queues)
{
	char name[RTE_ETH_NAME_MAX_LEN];
	char args[320];
	int rc;

	devargs_name(devargs, name, sizeof(name));
	if (name[0] == '\0')
		return -EINVAL;
	if (rte_eth_dev_get_port_by_name(name, &port->port_id) == 0)
		return 0;
	devargs_fixup(devargs, n_queues, args, sizeof(args));
	rc = rte_dev_probe(args);
	if (rc < 0) {
		LOG_ERR("dp", "port: cannot probe '%s': %s", args, strerror(-rc));
		return rc;
	}
	port->probed = true;
	if (rte_eth_dev_get_port_by_name(name, &port->port_id) != 0) {
		LOG_ERR("dp", "port: '%s' probed but no ethdev named '%s'", args, name);
		return -ENODEV;
	}
	return 0;
}

static int port_configure(
	struct dp_port *port, unsigned int n_queues, struct rte_mempool *pool, uint16_t mtu)
{
	struct rte_eth_conf econf = { 0 };
	struct rte_eth_dev_info info;
	uint16_t id = port->port_id;
	int rc;

	rc = rte_eth_dev_info_get(id, &info);
	if (rc < 0)
		return rc;
	if (info.max_rx_queues < n_queues || info.max_tx_queues < n_queues) {
		LOG_ERR("dp", "port %u: %u workers need %u queues, device has rx %u tx %u", id,
			n_queues, n_queues, info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	if (n_queues > 1 && info.flow_type_rss_offloads != 0) {
		econf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		econf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
	}
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		econf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	rc = rte_eth_dev_configure(id, n_queues, n_queues, &econf);
	if (rc < 0)
		return rc;
	if (mtu != 0) {
		rc = rte_eth_dev_set_mtu(id, mtu);
		if (rc < 0 && rc != -ENOTSUP)
			return rc;
	}
	if (rte_eth_dev_get_mtu(id, &port->mtu) != 0 || port->mtu == 0)
		port->mtu = mtu != 0 ? mtu : RTE_ETHER_MTU;
	if (mtu != 0 && port->mtu != mtu)
		port->mtu = mtu; /* devices without MTU control (ring): enforce ours */
	for (unsigned int q = 0; q < n_queues; q++) {
		rc = rte_eth_rx_queue_setup(
			id, q, DP_RX_DESC, rte_eth_dev_socket_id(id), NULL, pool);
		if (rc < 0)
			return rc;
		rc = rte_eth_tx_queue_setup(id, q, DP_TX_DESC, rte_eth_dev_socket_id(id), NULL);
		if (rc < 0)
			return rc;
	}
	return rte_eth_macaddr_get(id, &port->mac);
}

int dp_port_open(struct dp_port *port, const struct dp_port_conf *conf, unsigned int n_queues,
	struct rte_mempool *pool, bool promisc)
{
	int rc;

	rc = port_find_or_probe(port, conf->devargs, n_queues);
	if (rc < 0)
		return rc;
	rc = port_configure(port, n_queues, pool, conf->mtu);
	if (rc < 0) {
		LOG_ERR("dp", "port %s: configure: %s", conf->devargs, strerror(-rc));
		return rc;
	}
	rc = rte_eth_dev_start(port->port_id);
	if (rc < 0) {
		LOG_ERR("dp", "port %s: start: %s", conf->devargs, strerror(-rc));
		return rc;
	}
	port->started = true;
	if (promisc) {
		/* Not fatal: some vdevs have no filter to open, they see everything. */
		rc = rte_eth_promiscuous_enable(port->port_id);
		if (rc < 0 && rc != -ENOTSUP)
			LOG_WARN("dp", "port %s: promiscuous: %s", conf->devargs, strerror(-rc));
		rc = rte_eth_allmulticast_enable(port->port_id);
		if (rc < 0 && rc != -ENOTSUP)
			LOG_WARN("dp", "port %s: allmulticast: %s", conf->devargs, strerror(-rc));
	}
	LOG_INFO("dp", "port %s: id %u mtu %u queues %u", conf->devargs, port->port_id, port->mtu,
		n_queues);
	return 0;
}

void dp_port_close(struct dp_port *port)
{
	struct rte_eth_dev_info info;

	if (port->started) {
		rte_eth_dev_stop(port->port_id);
		port->started = false;
	}
	if (!port->probed)
		return; /* someone else's port: leave it probed */
	if (rte_eth_dev_info_get(port->port_id, &info) == 0 && info.device != NULL)
		rte_dev_remove(info.device);
	port->probed = false;
}
