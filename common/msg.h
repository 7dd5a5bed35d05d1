/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_MSG_H
#define VPRN_COMMON_MSG_H

/**
 * @file
 * The ED <-> VNOC messages as plain C structs (proto/vprn.proto on the wire).
 *
 * This module is the only place where protobuf-c types appear: callers fill or
 * read a `struct vprn_msg` and never include vprn.pb-c.h. Decoding validates
 * everything (see vprn_msg_validate()): wire enums are mapped to the internal
 * enums below with a switch whose default is an error, strings and byte
 * fields are length-checked into fixed buffers, repeated fields are bounded.
 *
 * Memory: a decoded message owns its repeated arrays; release them with
 * vprn_msg_free(). For encoding, the repeated arrays are the caller's (the
 * pointers are only read), vprn_msg_free() must not be called on it.
 *
 * Internal enum values equal the wire values, but code must not rely on it:
 * the mapping is explicit in msg.c.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VPRN_PROTOCOL_VERSION 1

#define VPRN_NAME_MAX 64	/**< site / VPN name buffer, with the NUL (63 chars max) */
#define VPRN_TEXT_MAX 256	/**< free text (reasons, software), with the NUL */
#define VPRN_DIGEST_MAX 32	/**< state digest bytes (SHA-256) */
#define VPRN_PROBE_KEY_LEN 32	/**< HMAC-SHA-256 probe key */
#define VPRN_KEY_MAX 32		/**< cipher or auth key bytes */
#define VPRN_SALT_LEN 4		/**< GCM salt (RFC 4106 §4) */
#define VPRN_MSG_MAX_SOURCES 32 /**< sources in one membership */
#define VPRN_MSG_MAX_ITEMS 4096 /**< memberships, peers, metrics, trees, spis per message */
#define VPRN_MSG_MAX_NEIGHBOURS 256
#define VPRN_MSG_MAX_TRANSFORMS 8

/* ---- enums (0 is never valid on the wire unless said otherwise) ---------- */

enum vprn_role {
	VPRN_ROLE_RECEIVER = 1,
	VPRN_ROLE_SENDER = 2,
};

enum vprn_filter_mode {
	VPRN_FILTER_INCLUDE = 1, /**< only from `sources` (SSM) */
	VPRN_FILTER_EXCLUDE = 2, /**< all but `sources` (ASM: empty list) */
};

enum vprn_sa_mode {
	VPRN_SA_PAIRWISE = 1,
	VPRN_SA_GROUP = 2,
};

enum vprn_transform {
	VPRN_XFORM_AES_GCM_128 = 1,
	VPRN_XFORM_AES_GCM_256 = 2,
	VPRN_XFORM_AES_CBC_128_HMAC_SHA256 = 3,
	VPRN_XFORM_AES_CBC_256_HMAC_SHA256 = 4,
};

enum vprn_tree_kind {
	VPRN_TREE_SHARED = 1,
	VPRN_TREE_PER_SOURCE = 2,
	VPRN_TREE_STAR = 3,
	VPRN_TREE_AUTO = 4,
};

enum vprn_direction {
	VPRN_DIR_INBOUND = 1,
	VPRN_DIR_OUTBOUND = 2,
};

enum vprn_refuse_reason {
	VPRN_REFUSE_NONE = 0, /**< only valid when the join is granted */
	VPRN_REFUSE_NOT_ALLOWED_RECEIVE = 1,
	VPRN_REFUSE_NOT_ALLOWED_SEND = 2,
	VPRN_REFUSE_NO_POLICY = 3,
	VPRN_REFUSE_SOURCE_NOT_ALLOWED = 4,
	VPRN_REFUSE_BAD_REQUEST = 5,
	VPRN_REFUSE_OVERLOADED = 6,
};

enum vprn_ack_status {
	VPRN_ACK_OK = 1,
	VPRN_ACK_FAILED = 2,
	VPRN_ACK_UNSUPPORTED = 3,
};

enum vprn_error_code {
	VPRN_ERR_PROTOCOL = 1,
	VPRN_ERR_VERSION = 2,
	VPRN_ERR_UNKNOWN_SITE = 3,
	VPRN_ERR_REPLACED = 4,
	VPRN_ERR_OVERLOADED = 5,
	VPRN_ERR_SHUTDOWN = 6,
};

/** Which body an envelope carries. */
enum vprn_msg_type {
	VPRN_MSG_NONE = 0, /**< invalid */
	VPRN_MSG_HELLO,
	VPRN_MSG_WELCOME,
	VPRN_MSG_JOIN,
	VPRN_MSG_LEAVE,
	VPRN_MSG_REFRESH,
	VPRN_MSG_JOIN_RESULT,
	VPRN_MSG_METRICS,
	VPRN_MSG_TREE_UPDATE,
	VPRN_MSG_SA_INSTALL,
	VPRN_MSG_SA_REMOVE,
	VPRN_MSG_ACK,
	VPRN_MSG_DIGEST,
	VPRN_MSG_KEEP_FORWARDING,
	VPRN_MSG_TRAFFIC,
	VPRN_MSG_BYE,
	VPRN_MSG_ERROR,
	VPRN_MSG_KEEPALIVE,
	VPRN_MSG_TYPE_COUNT
};

/* ---- bodies (addresses: IPv4 in host byte order) ------------------------- */

struct vprn_caps {
	enum vprn_transform transforms[VPRN_MSG_MAX_TRANSFORMS];
	uint32_t n_transforms;
	bool udp_encap;
	bool group_sa;
	uint32_t max_neighbours;
	uint32_t replay_window_max;
	bool esn;
};

struct vprn_hello {
	char site[VPRN_NAME_MAX]; /**< required; must equal the certificate CN */
	char software[VPRN_TEXT_MAX];
	uint32_t wan_addr;
	uint32_t lan_prefix;
	uint8_t lan_prefix_len; /**< 0..32 */
	struct vprn_caps caps;
	uint64_t boot_id;
	uint8_t state_digest[VPRN_DIGEST_MAX];
	uint32_t state_digest_len;
};

/** group must be multicast (224.0.0.0/4); sources unicast. */
struct vprn_membership {
	uint32_t group;
	enum vprn_role role;
	enum vprn_filter_mode filter_mode;
	uint32_t sources[VPRN_MSG_MAX_SOURCES];
	uint32_t n_sources;
};

/** Join and Leave. */
struct vprn_join {
	struct vprn_membership m;
};

struct vprn_refresh {
	struct vprn_membership *memberships;
	uint32_t n_memberships;
};

struct vprn_peer_metric {
	char site[VPRN_NAME_MAX];
	uint32_t rtt_us;
	uint32_t rttvar_us;
	uint32_t loss_ppm; /**< 0..1000000 */
	uint32_t samples;
};

struct vprn_metrics {
	struct vprn_peer_metric *peers;
	uint32_t n_peers;
};

struct vprn_group_traffic {
	uint32_t group;
	uint32_t source; /**< 0 = any */
	enum vprn_role role;
	uint64_t packets;
	uint64_t bytes;
};

struct vprn_traffic {
	struct vprn_group_traffic *groups;
	uint32_t n_groups;
};

struct vprn_installed_tree {
	uint32_t group;
	uint32_t source;
	uint64_t version;
};

struct vprn_digest {
	uint8_t digest[VPRN_DIGEST_MAX];
	uint32_t digest_len;
	struct vprn_installed_tree *trees;
	uint32_t n_trees;
	uint32_t *inbound_spis;
	uint32_t n_inbound_spis;
	uint32_t *outbound_spis;
	uint32_t n_outbound_spis;
	uint64_t vnoc_seq; /**< last VNOC envelope seq the ED applied before computing it */
};

struct vprn_bye {
	char reason[VPRN_TEXT_MAX];
};

struct vprn_peer {
	char site[VPRN_NAME_MAX];
	uint32_t site_id;
	uint32_t wan_addr;
	uint8_t probe_key[VPRN_PROBE_KEY_LEN];
	bool has_probe_key; /**< key present (exactly VPRN_PROBE_KEY_LEN bytes) */
	bool udp_encap;
};

struct vprn_welcome {
	uint32_t site_id;
	char vpn[VPRN_NAME_MAX];
	uint32_t refresh_interval_ms; /**< > 0 */
	uint32_t hold_time_ms;	      /**< >= refresh_interval_ms */
	uint32_t probe_interval_ms;
	uint32_t metrics_interval_ms;
	struct vprn_peer *peers;
	uint32_t n_peers;
	uint64_t vnoc_boot_id;
};

struct vprn_join_result {
	struct vprn_membership m;
	bool granted;
	enum vprn_refuse_reason reason; /**< VPRN_REFUSE_NONE iff granted */
	char text[VPRN_TEXT_MAX];
};

struct vprn_neighbour {
	char site[VPRN_NAME_MAX];
	uint32_t site_id;
	uint32_t wan_addr;
	bool udp_encap;
	uint16_t udp_port;
	uint32_t out_spi;
	bool quiet;	 /* no sender on its side in this version */
	uint32_t in_spi; /* pairwise: its SA towards us in this version */
};

struct vprn_tree_update {
	uint32_t group;
	uint32_t source; /**< 0 = shared tree */
	uint64_t version;
	enum vprn_tree_kind kind;
	enum vprn_sa_mode sa_mode;
	enum vprn_transform transform;
	struct vprn_neighbour *neighbours;
	uint32_t n_neighbours;
	bool local_receivers;
	bool local_sender;
	uint32_t group_out_spi;
	uint32_t path_mtu;
	bool removed; /**< if set, kind/sa_mode/transform may be absent */
	uint32_t grace_ms;
};

struct vprn_lifetime {
	uint64_t soft_bytes, hard_bytes;
	uint64_t soft_packets, hard_packets;
	uint32_t soft_seconds, hard_seconds;
};

/**
 * Key lengths are checked against the transform: GCM-128 key 16 + salt 4,
 * GCM-256 key 32 + salt 4, CBC-128 key 16 + auth 32, CBC-256 key 32 + auth 32.
 */
struct vprn_sa_install {
	uint32_t spi; /**< >= 256 (RFC 4303 §2.1 reserves 1..255) */
	enum vprn_direction direction;
	enum vprn_transform transform;
	uint8_t key[VPRN_KEY_MAX];
	uint32_t key_len;
	uint8_t salt[VPRN_SALT_LEN];
	uint32_t salt_len;
	uint8_t auth_key[VPRN_KEY_MAX];
	uint32_t auth_key_len;
	bool esn;
	uint32_t replay_window;
	struct vprn_lifetime lifetime;
	char peer[VPRN_NAME_MAX];
	uint32_t peer_addr;
	uint32_t group;
	char sender[VPRN_NAME_MAX];
	bool udp_encap;
	uint16_t udp_sport;
	uint16_t udp_dport;
	uint32_t local_addr;
	uint64_t generation;
};

struct vprn_sa_remove {
	uint32_t spi;
	enum vprn_direction direction;
	uint32_t grace_ms;
};

struct vprn_keep_forwarding {
	uint32_t group;
	uint32_t source;
	uint64_t until_version;
	uint32_t timeout_ms;
	bool done;
};

struct vprn_ack {
	uint64_t ref_seq;
	enum vprn_ack_status status;
	char text[VPRN_TEXT_MAX];
};

struct vprn_error {
	enum vprn_error_code code;
	char text[VPRN_TEXT_MAX];
};

struct vprn_keepalive {
	uint64_t tsc_echo;
};

/** One envelope. `type` says which member of `u` is valid. */
struct vprn_msg {
	uint32_t version; /**< VPRN_PROTOCOL_VERSION */
	uint64_t seq;	  /**< per sender per session, strictly increasing, >= 1 */
	enum vprn_msg_type type;
	union {
		struct vprn_hello hello;
		struct vprn_welcome welcome;
		struct vprn_join join;
		struct vprn_join leave;
		struct vprn_refresh refresh;
		struct vprn_join_result join_result;
		struct vprn_metrics metrics;
		struct vprn_tree_update tree_update;
		struct vprn_sa_install sa_install;
		struct vprn_sa_remove sa_remove;
		struct vprn_ack ack;
		struct vprn_digest digest;
		struct vprn_keep_forwarding keep_forwarding;
		struct vprn_traffic traffic;
		struct vprn_bye bye;
		struct vprn_error error;
		struct vprn_keepalive keepalive;
	} u;
	bool owned; /**< set by decode: repeated arrays are heap memory of this message */
};

/** Zero `msg` and set version, seq and type. */
void vprn_msg_init(struct vprn_msg *msg, enum vprn_msg_type type, uint64_t seq);

/**
 * Serialise `msg` (validated first) into a new heap buffer (free() it).
 * @return 0, -EINVAL if the message is invalid, -ENOMEM.
 */
int vprn_msg_encode(const struct vprn_msg *msg, uint8_t **buf, size_t *len);

/**
 * Parse and validate one envelope from untrusted bytes. On success the caller
 * must vprn_msg_free(msg). On failure nothing needs freeing.
 * @return 0, -EBADMSG (not a valid protobuf Envelope), -EPROTO (valid protobuf
 *         but a rule is broken: bad enum, missing field, size limit...).
 */
int vprn_msg_decode(const uint8_t *buf, size_t len, struct vprn_msg *msg);

/** Release what decode allocated (no-op for a caller-built message). */
void vprn_msg_free(struct vprn_msg *msg);

/**
 * Check every rule of docs/protocol.md that does not need session state.
 * @param why  optional: set to a static string naming the broken rule
 * @return 0 or -EPROTO
 */
int vprn_msg_validate(const struct vprn_msg *msg, const char **why);

/** "hello", "welcome", ... ("?" when out of range). */
const char *vprn_msg_type_name(enum vprn_msg_type type);
const char *vprn_transform_name(enum vprn_transform t);
const char *vprn_role_name(enum vprn_role r);
const char *vprn_refuse_reason_name(enum vprn_refuse_reason r);
const char *vprn_error_code_name(enum vprn_error_code c);

/** Copy a string into a fixed buffer; -ENAMETOOLONG if it does not fit (dst emptied). */
int vprn_msg_strcpy(char *dst, size_t cap, const char *src);

#endif /* VPRN_COMMON_MSG_H */
