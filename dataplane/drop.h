/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_DROP_H
#define VPRN_DATAPLANE_DROP_H

/*
 * Drop reasons: one list, expanded into the enum, the names (telemetry,
 * vprnctl) and the per-lcore counter array. A packet never leaves the data
 * plane without either being sent, punted, or counted here.
 */

#define DP_DROP_LIST(X)                         \
	X(ETH_TRUNC, "eth_truncated")           \
	X(MULTISEG, "multi_segment")            \
	X(VLAN_BAD, "vlan_bad")                 \
	X(ETHERTYPE, "ethertype_unsupported")   \
	X(ARP_BAD, "arp_malformed")             \
	X(ARP_NOT_US, "arp_not_for_us")         \
	X(IP_TRUNC, "ipv4_truncated")           \
	X(IP_VERSION, "ipv4_bad_version")       \
	X(IP_IHL, "ipv4_bad_ihl")               \
	X(IP_LEN, "ipv4_bad_length")            \
	X(IP_CSUM, "ipv4_bad_checksum")         \
	X(IP_OPTIONS, "ipv4_bad_options")       \
	X(IP_SRC, "ipv4_bad_source")            \
	X(LAN_NOT_MCAST, "lan_not_multicast")   \
	X(LINK_LOCAL, "mcast_link_local")       \
	X(GROUP_UNKNOWN, "group_unknown")       \
	X(NO_NEIGHBOURS, "group_no_neighbours") \
	X(TTL, "ttl_expired")                   \
	X(MTU, "mtu_exceeded")                  \
	X(NEIGH_UNRESOLVED, "neigh_unresolved") \
	X(NO_SA, "no_outbound_sa")              \
	X(WAN_NOT_US, "wan_not_for_us")         \
	X(WAN_PROTO, "wan_proto_unsupported")   \
	X(ESP_BAD, "esp_malformed")             \
	X(ESP_SPI, "esp_unknown_spi")           \
	X(ESP_AUTH, "esp_auth_failed")          \
	X(ESP_REPLAY, "esp_replay")             \
	X(ESP_INNER, "esp_inner_bad")           \
	X(ESP_ENCRYPT, "esp_encrypt_failed")    \
	X(NOT_NEIGHBOUR, "sender_not_in_tree")  \
	X(NO_RECEIVERS, "no_receivers")         \
	X(PUNT_FULL, "punt_ring_full")          \
	X(NO_MBUF, "mbuf_alloc_failed")         \
	X(TX_FULL, "tx_full")                   \
	X(INJECT_BAD, "inject_bad")             \
	X(PROBE_RATE, "probe_rate_limited")     \
	X(NOT_READY, "dataplane_not_ready")

enum dp_drop {
#define DP_DROP_ENUM(id, name) DP_DROP_##id,
	DP_DROP_LIST(DP_DROP_ENUM)
#undef DP_DROP_ENUM
		DP_DROP__MAX
};

/** Name of a drop reason ("ipv4_bad_checksum"), or NULL when out of range. */
const char *dp_drop_name(unsigned int reason);

#endif /* VPRN_DATAPLANE_DROP_H */
