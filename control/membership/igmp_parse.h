/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_IGMP_PARSE_H
#define VPRN_MEMBERSHIP_IGMP_PARSE_H

/*
 * IGMP v1/v2/v3 parser: Ethernet frame or bare IPv4 packet in, a validated
 * message view out. Every length is checked before it is read; a v3 report is
 * walked completely (record and source counts against the packet) before it
 * is accepted, so the record iterator below never reads out of bounds.
 * The view points into the caller's buffer (no copy).
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Why an IGMP frame (or one record of it) was not used. Drop reasons are data. */
#define IGMP_DROP_REASONS(X)                                                                    \
	X(TOO_SHORT, "too_short")	  /* shorter than Ethernet/IPv4 header */               \
	X(NOT_IPV4, "not_ipv4")		  /* ethertype or IP version */                         \
	X(BAD_IP_HEADER, "bad_ip_header") /* IHL < 5 or > packet */                             \
	X(BAD_IP_LENGTH, "bad_ip_length") /* total length vs buffer */                          \
	X(BAD_IP_CHECKSUM, "bad_ip_checksum")                                                   \
	X(BAD_IP_OPTION, "bad_ip_option") /* option length runs past header */                  \
	X(FRAGMENT, "fragment")                                                                 \
	X(NOT_IGMP, "not_igmp")			/* IP protocol != 2 */                          \
	X(BAD_TTL, "bad_ttl")			/* TTL != 1, RFC 3376 §4 */                    \
	X(BAD_SOURCE, "bad_source")		/* multicast/broadcast/off-link source */       \
	X(IGMP_TOO_SHORT, "igmp_too_short")	/* < 8 bytes of IGMP */                         \
	X(BAD_CHECKSUM, "bad_checksum")		/* IGMP checksum */                             \
	X(BAD_QUERY_LENGTH, "bad_query_length") /* 9..11 bytes, RFC 3376 §7.1 */               \
	X(SOURCE_COUNT_OVERFLOW, "source_count_overflow") /* sources run past the packet */     \
	X(RECORD_COUNT_OVERFLOW, "record_count_overflow") /* records run past the packet */     \
	X(UNKNOWN_TYPE, "unknown_type")		      /* IGMP type, ignored per RFC 3376 §4 */ \
	X(BAD_GROUP, "bad_group")		      /* not a multicast group */               \
	X(LINK_LOCAL_GROUP, "link_local_group")	      /* 224.0.0.0/24, never tracked */         \
	X(UNKNOWN_RECORD_TYPE, "unknown_record_type") /* record skipped, RFC 3376 §4.2.12 */   \
	X(SSM_ASM_IGNORED, "ssm_asm_ignored")	      /* v1/v2/EXCLUDE for SSM, RFC 4604 */     \
	X(COMPAT_IGNORED, "compat_ignored")	      /* leave/block in older mode, §7.3.2 */  \
	X(OWN_PACKET, "own_packet")		      /* our own query or report */             \
	X(GROUPS_FULL, "groups_full")		      /* max_groups reached */                  \
	X(SOURCES_FULL, "sources_full")		      /* max_sources reached */

enum igmp_drop {
	IGMP_OK = 0,
#define IGMP_DROP_ENUM(n, s) IGMP_DROP_##n,
	IGMP_DROP_REASONS(IGMP_DROP_ENUM)
#undef IGMP_DROP_ENUM
		IGMP_DROP_MAX
};

/** Name of a drop reason ("ok" for IGMP_OK), never NULL. */
const char *igmp_drop_name(enum igmp_drop reason);

enum igmp_msg_type {
	IGMP_MSG_V1_QUERY,
	IGMP_MSG_V2_QUERY,
	IGMP_MSG_V3_QUERY,
	IGMP_MSG_V1_REPORT,
	IGMP_MSG_V2_REPORT,
	IGMP_MSG_V2_LEAVE,
	IGMP_MSG_V3_REPORT,
	IGMP_MSG_MAX
};

const char *igmp_msg_name(enum igmp_msg_type type);

/** A validated IGMP message; pointers refer to the parsed buffer. */
struct igmp_msg {
	enum igmp_msg_type type;
	uint32_t ip_src; /**< host byte order */
	uint32_t ip_dst;
	bool router_alert; /**< the IPv4 Router Alert option was present */
	uint32_t group;	   /**< queries, v1/v2 reports and leaves (0 = general query) */
	/* queries */
	uint32_t max_resp_ds;	/**< max response time in 1/10 s (decoded) */
	bool s_flag;		/**< v3: suppress router-side processing */
	uint8_t qrv;		/**< v3: querier's robustness variable (0 = not given) */
	uint32_t qqi_s;		/**< v3: querier's query interval, seconds (decoded) */
	uint16_t n_sources;	/**< v3 query sources */
	const uint8_t *sources; /**< n_sources * 4 bytes, network order */
	/* v3 reports */
	uint16_t n_records;
	const uint8_t *records; /**< first group record */
	uint32_t records_len;	/**< bytes from records to the end of the IGMP message */
};

/** One v3 group record (see igmp_record_next()). */
struct igmp_record {
	uint8_t type; /**< IGMP_MODE_IS_INCLUDE..IGMP_BLOCK_OLD_SOURCES, or unknown */
	uint32_t group;
	uint16_t n_sources;
	const uint8_t *sources; /**< n_sources * 4 bytes, network order */
};

/** Where the message starts in the buffer given to igmp_parse(). */
enum igmp_l2 {
	IGMP_L2_NONE = 0,  /**< buffer starts with the IPv4 header */
	IGMP_L2_ETHER = 1, /**< buffer starts with an Ethernet II header */
};

/**
 * Parse and validate an IGMP packet.
 * @return IGMP_OK and fills @p msg, or the drop reason.
 */
enum igmp_drop igmp_parse(const uint8_t *buf, size_t len, enum igmp_l2 l2, struct igmp_msg *msg);

/** Iterator over the records of a parsed v3 report; zero-initialise before use. */
struct igmp_record_iter {
	uint16_t index;
	uint32_t offset; /**< from msg->records */
};

/**
 * Next record of a v3 report validated by igmp_parse().
 * @return true and fills @p rec while records remain.
 */
bool igmp_record_next(
	const struct igmp_msg *msg, struct igmp_record_iter *it, struct igmp_record *rec);

/** Source @p i of a record or query source list, host byte order. */
static inline uint32_t igmp_src_at(const uint8_t *sources, uint32_t i)
{
	const uint8_t *p = sources + 4 * (size_t)i;

	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#endif /* VPRN_MEMBERSHIP_IGMP_PARSE_H */
