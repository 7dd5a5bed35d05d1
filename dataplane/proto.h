/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_DATAPLANE_PROTO_H
#define VPRN_DATAPLANE_PROTO_H

/* Protocol constants the data plane matches on, with their references. */

#define ETH_HDR_LEN 14	      /* IEEE 802.3 */
#define VLAN_HDR_LEN 4	      /* IEEE 802.1Q tag */
#define ETHERTYPE_IPV4 0x0800 /* RFC 894 */
#define ETHERTYPE_ARP 0x0806  /* RFC 826 */
#define ETHERTYPE_VLAN 0x8100 /* IEEE 802.1Q */
#define ETHERTYPE_QINQ 0x88a8 /* IEEE 802.1ad (refused) */

#define ARP_HRD_ETHER 1	 /* RFC 826 */
#define ARP_OP_REQUEST 1 /* RFC 826 */
#define ARP_OP_REPLY 2	 /* RFC 826 */
#define ARP_PKT_LEN 28	 /* Ethernet/IPv4 ARP body */

#define IPV4_MIN_HDR_LEN 20 /* RFC 791 §3.1, IHL = 5 */
#define IPV4_MAX_HDR_LEN 60 /* IHL = 15 */
#define IPV4_OPT_EOL 0	    /* RFC 791 §3.1 end of option list */
#define IPV4_OPT_NOP 1	    /* RFC 791 §3.1 no operation */
#define IPV4_FLAG_DF 0x4000 /* RFC 791 §3.1 don't fragment */
#define IPV4_FLAG_MF 0x2000 /* RFC 791 §3.1 more fragments */
#define IPV4_FRAG_MASK 0x1fff

#define IPPROTO_NUM_ICMP 1 /* RFC 792 */
#define IPPROTO_NUM_IGMP 2 /* RFC 3376 §4 */
#define IPPROTO_NUM_UDP 17 /* RFC 768 */
#define IPPROTO_NUM_ESP 50 /* RFC 4303 §2 */

#define IPV4_MCAST_MASK 0xf0000000u /* 224.0.0.0/4, RFC 5771 */
#define IPV4_MCAST_NET 0xe0000000u
#define IPV4_MCAST_LL_MASK 0xffffff00u /* 224.0.0.0/24 link-local, RFC 5771 §4 */
#define IPV4_MCAST_LL_NET 0xe0000000u
#define IPV4_BCAST 0xffffffffu

/* RFC 1112 §6.4: 01:00:5e + low 23 bits of the group. */
#define MCAST_MAC_OUI0 0x01
#define MCAST_MAC_OUI1 0x00
#define MCAST_MAC_OUI2 0x5e

#define ICMP_DEST_UNREACH 3 /* RFC 792 */
#define ICMP_FRAG_NEEDED 4  /* RFC 1191 §4 */

static inline int ipv4_is_mcast(uint32_t a)
{
	return (a & IPV4_MCAST_MASK) == IPV4_MCAST_NET;
}

static inline int ipv4_is_mcast_ll(uint32_t a)
{
	return (a & IPV4_MCAST_LL_MASK) == IPV4_MCAST_LL_NET;
}

#endif /* VPRN_DATAPLANE_PROTO_H */
