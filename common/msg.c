/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message module: the only file that sees protobuf-c types. Encoding builds
 * the generated structs on the heap (one small allocation list per call),
 * decoding unpacks, maps every field into struct vprn_msg with bounds and enum
 * checks, then runs vprn_msg_validate().
 */
#include "msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vprn.pb-c.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- enum mapping: explicit both ways, default = error -------------------- */

static int role_from_wire(Vprn__Role w, enum vprn_role *out)
{
	switch (w) {
	case VPRN__ROLE__ROLE_RECEIVER:
		*out = VPRN_ROLE_RECEIVER;
		return 0;
	case VPRN__ROLE__ROLE_SENDER:
		*out = VPRN_ROLE_SENDER;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__Role role_to_wire(enum vprn_role r)
{
	switch (r) {
	case VPRN_ROLE_RECEIVER:
		return VPRN__ROLE__ROLE_RECEIVER;
	case VPRN_ROLE_SENDER:
		return VPRN__ROLE__ROLE_SENDER;
	}
	return VPRN__ROLE__ROLE_UNSPECIFIED;
}

static int filter_from_wire(Vprn__FilterMode w, enum vprn_filter_mode *out)
{
	switch (w) {
	case VPRN__FILTER_MODE__FILTER_MODE_INCLUDE:
		*out = VPRN_FILTER_INCLUDE;
		return 0;
	case VPRN__FILTER_MODE__FILTER_MODE_EXCLUDE:
		*out = VPRN_FILTER_EXCLUDE;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__FilterMode filter_to_wire(enum vprn_filter_mode f)
{
	switch (f) {
	case VPRN_FILTER_INCLUDE:
		return VPRN__FILTER_MODE__FILTER_MODE_INCLUDE;
	case VPRN_FILTER_EXCLUDE:
		return VPRN__FILTER_MODE__FILTER_MODE_EXCLUDE;
	}
	return VPRN__FILTER_MODE__FILTER_MODE_UNSPECIFIED;
}

static int sa_mode_from_wire(Vprn__SaMode w, enum vprn_sa_mode *out)
{
	switch (w) {
	case VPRN__SA_MODE__SA_MODE_PAIRWISE:
		*out = VPRN_SA_PAIRWISE;
		return 0;
	case VPRN__SA_MODE__SA_MODE_GROUP:
		*out = VPRN_SA_GROUP;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__SaMode sa_mode_to_wire(enum vprn_sa_mode m)
{
	switch (m) {
	case VPRN_SA_PAIRWISE:
		return VPRN__SA_MODE__SA_MODE_PAIRWISE;
	case VPRN_SA_GROUP:
		return VPRN__SA_MODE__SA_MODE_GROUP;
	}
	return VPRN__SA_MODE__SA_MODE_UNSPECIFIED;
}

static int xform_from_wire(Vprn__Transform w, enum vprn_transform *out)
{
	switch (w) {
	case VPRN__TRANSFORM__TRANSFORM_AES_GCM_128:
		*out = VPRN_XFORM_AES_GCM_128;
		return 0;
	case VPRN__TRANSFORM__TRANSFORM_AES_GCM_256:
		*out = VPRN_XFORM_AES_GCM_256;
		return 0;
	case VPRN__TRANSFORM__TRANSFORM_AES_CBC_128_HMAC_SHA256:
		*out = VPRN_XFORM_AES_CBC_128_HMAC_SHA256;
		return 0;
	case VPRN__TRANSFORM__TRANSFORM_AES_CBC_256_HMAC_SHA256:
		*out = VPRN_XFORM_AES_CBC_256_HMAC_SHA256;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__Transform xform_to_wire(enum vprn_transform t)
{
	switch (t) {
	case VPRN_XFORM_AES_GCM_128:
		return VPRN__TRANSFORM__TRANSFORM_AES_GCM_128;
	case VPRN_XFORM_AES_GCM_256:
		return VPRN__TRANSFORM__TRANSFORM_AES_GCM_256;
	case VPRN_XFORM_AES_CBC_128_HMAC_SHA256:
		return VPRN__TRANSFORM__TRANSFORM_AES_CBC_128_HMAC_SHA256;
	case VPRN_XFORM_AES_CBC_256_HMAC_SHA256:
		return VPRN__TRANSFORM__TRANSFORM_AES_CBC_256_HMAC_SHA256;
	}
	return VPRN__TRANSFORM__TRANSFORM_UNSPECIFIED;
}

static int tree_kind_from_wire(Vprn__TreeKind w, enum vprn_tree_kind *out)
{
	switch (w) {
	case VPRN__TREE_KIND__TREE_KIND_SHARED:
		*out = VPRN_TREE_SHARED;
		return 0;
	case VPRN__TREE_KIND__TREE_KIND_PER_SOURCE:
		*out = VPRN_TREE_PER_SOURCE;
		return 0;
	case VPRN__TREE_KIND__TREE_KIND_STAR:
		*out = VPRN_TREE_STAR;
		return 0;
	case VPRN__TREE_KIND__TREE_KIND_AUTO:
		*out = VPRN_TREE_AUTO;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__TreeKind tree_kind_to_wire(enum vprn_tree_kind k)
{
	switch (k) {
	case VPRN_TREE_SHARED:
		return VPRN__TREE_KIND__TREE_KIND_SHARED;
	case VPRN_TREE_PER_SOURCE:
		return VPRN__TREE_KIND__TREE_KIND_PER_SOURCE;
	case VPRN_TREE_STAR:
		return VPRN__TREE_KIND__TREE_KIND_STAR;
	case VPRN_TREE_AUTO:
		return VPRN__TREE_KIND__TREE_KIND_AUTO;
	}
	return VPRN__TREE_KIND__TREE_KIND_UNSPECIFIED;
}

static int dir_from_wire(Vprn__Direction w, enum vprn_direction *out)
{
	switch (w) {
	case VPRN__DIRECTION__DIRECTION_INBOUND:
		*out = VPRN_DIR_INBOUND;
		return 0;
	case VPRN__DIRECTION__DIRECTION_OUTBOUND:
		*out = VPRN_DIR_OUTBOUND;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__Direction dir_to_wire(enum vprn_direction d)
{
	switch (d) {
	case VPRN_DIR_INBOUND:
		return VPRN__DIRECTION__DIRECTION_INBOUND;
	case VPRN_DIR_OUTBOUND:
		return VPRN__DIRECTION__DIRECTION_OUTBOUND;
	}
	return VPRN__DIRECTION__DIRECTION_UNSPECIFIED;
}

/* Unspecified (0) maps to VPRN_REFUSE_NONE; validate() ties it to `granted`. */
static int refuse_from_wire(Vprn__RefuseReason w, enum vprn_refuse_reason *out)
{
	switch (w) {
	case VPRN__REFUSE_REASON__REFUSE_REASON_UNSPECIFIED:
		*out = VPRN_REFUSE_NONE;
		return 0;
	case VPRN__REFUSE_REASON__REFUSE_NOT_ALLOWED_RECEIVE:
		*out = VPRN_REFUSE_NOT_ALLOWED_RECEIVE;
		return 0;
	case VPRN__REFUSE_REASON__REFUSE_NOT_ALLOWED_SEND:
		*out = VPRN_REFUSE_NOT_ALLOWED_SEND;
		return 0;
	case VPRN__REFUSE_REASON__REFUSE_NO_POLICY:
		*out = VPRN_REFUSE_NO_POLICY;
		return 0;
	case VPRN__REFUSE_REASON__REFUSE_SOURCE_NOT_ALLOWED:
		*out = VPRN_REFUSE_SOURCE_NOT_ALLOWED;
		return 0;
	case VPRN__REFUSE_REASON__REFUSE_BAD_REQUEST:
		*out = VPRN_REFUSE_BAD_REQUEST;
		return 0;
	case VPRN__REFUSE_REASON__REFUSE_OVERLOADED:
		*out = VPRN_REFUSE_OVERLOADED;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__RefuseReason refuse_to_wire(enum vprn_refuse_reason r)
{
	switch (r) {
	case VPRN_REFUSE_NONE:
		return VPRN__REFUSE_REASON__REFUSE_REASON_UNSPECIFIED;
	case VPRN_REFUSE_NOT_ALLOWED_RECEIVE:
		return VPRN__REFUSE_REASON__REFUSE_NOT_ALLOWED_RECEIVE;
	case VPRN_REFUSE_NOT_ALLOWED_SEND:
		return VPRN__REFUSE_REASON__REFUSE_NOT_ALLOWED_SEND;
	case VPRN_REFUSE_NO_POLICY:
		return VPRN__REFUSE_REASON__REFUSE_NO_POLICY;
	case VPRN_REFUSE_SOURCE_NOT_ALLOWED:
		return VPRN__REFUSE_REASON__REFUSE_SOURCE_NOT_ALLOWED;
	case VPRN_REFUSE_BAD_REQUEST:
		return VPRN__REFUSE_REASON__REFUSE_BAD_REQUEST;
	case VPRN_REFUSE_OVERLOADED:
		return VPRN__REFUSE_REASON__REFUSE_OVERLOADED;
	}
	return VPRN__REFUSE_REASON__REFUSE_REASON_UNSPECIFIED;
}

static int ack_from_wire(Vprn__AckStatus w, enum vprn_ack_status *out)
{
	switch (w) {
	case VPRN__ACK_STATUS__ACK_OK:
		*out = VPRN_ACK_OK;
		return 0;
	case VPRN__ACK_STATUS__ACK_FAILED:
		*out = VPRN_ACK_FAILED;
		return 0;
	case VPRN__ACK_STATUS__ACK_UNSUPPORTED:
		*out = VPRN_ACK_UNSUPPORTED;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__AckStatus ack_to_wire(enum vprn_ack_status s)
{
	switch (s) {
	case VPRN_ACK_OK:
		return VPRN__ACK_STATUS__ACK_OK;
	case VPRN_ACK_FAILED:
		return VPRN__ACK_STATUS__ACK_FAILED;
	case VPRN_ACK_UNSUPPORTED:
		return VPRN__ACK_STATUS__ACK_UNSUPPORTED;
	}
	return VPRN__ACK_STATUS__ACK_STATUS_UNSPECIFIED;
}

static int errcode_from_wire(Vprn__ErrorCode w, enum vprn_error_code *out)
{
	switch (w) {
	case VPRN__ERROR_CODE__ERROR_PROTOCOL:
		*out = VPRN_ERR_PROTOCOL;
		return 0;
	case VPRN__ERROR_CODE__ERROR_VERSION:
		*out = VPRN_ERR_VERSION;
		return 0;
	case VPRN__ERROR_CODE__ERROR_UNKNOWN_SITE:
		*out = VPRN_ERR_UNKNOWN_SITE;
		return 0;
	case VPRN__ERROR_CODE__ERROR_REPLACED:
		*out = VPRN_ERR_REPLACED;
		return 0;
	case VPRN__ERROR_CODE__ERROR_OVERLOADED:
		*out = VPRN_ERR_OVERLOADED;
		return 0;
	case VPRN__ERROR_CODE__ERROR_SHUTDOWN:
		*out = VPRN_ERR_SHUTDOWN;
		return 0;
	default:
		return -EPROTO;
	}
}

static Vprn__ErrorCode errcode_to_wire(enum vprn_error_code c)
{
	switch (c) {
	case VPRN_ERR_PROTOCOL:
		return VPRN__ERROR_CODE__ERROR_PROTOCOL;
	case VPRN_ERR_VERSION:
		return VPRN__ERROR_CODE__ERROR_VERSION;
	case VPRN_ERR_UNKNOWN_SITE:
		return VPRN__ERROR_CODE__ERROR_UNKNOWN_SITE;
	case VPRN_ERR_REPLACED:
		return VPRN__ERROR_CODE__ERROR_REPLACED;
	case VPRN_ERR_OVERLOADED:
		return VPRN__ERROR_CODE__ERROR_OVERLOADED;
	case VPRN_ERR_SHUTDOWN:
		return VPRN__ERROR_CODE__ERROR_SHUTDOWN;
	}
	return VPRN__ERROR_CODE__ERROR_CODE_UNSPECIFIED;
}

/* ---- names ----------------------------------------------------------------- */

const char *vprn_msg_type_name(enum vprn_msg_type type)
{
	static const char *const names[VPRN_MSG_TYPE_COUNT] = {
		[VPRN_MSG_NONE] = "none",
		[VPRN_MSG_HELLO] = "hello",
		[VPRN_MSG_WELCOME] = "welcome",
		[VPRN_MSG_JOIN] = "join",
		[VPRN_MSG_LEAVE] = "leave",
		[VPRN_MSG_REFRESH] = "refresh",
		[VPRN_MSG_JOIN_RESULT] = "join_result",
		[VPRN_MSG_METRICS] = "metrics",
		[VPRN_MSG_TREE_UPDATE] = "tree_update",
		[VPRN_MSG_SA_INSTALL] = "sa_install",
		[VPRN_MSG_SA_REMOVE] = "sa_remove",
		[VPRN_MSG_ACK] = "ack",
		[VPRN_MSG_DIGEST] = "digest",
		[VPRN_MSG_KEEP_FORWARDING] = "keep_forwarding",
		[VPRN_MSG_TRAFFIC] = "traffic",
		[VPRN_MSG_BYE] = "bye",
		[VPRN_MSG_ERROR] = "error",
		[VPRN_MSG_KEEPALIVE] = "keepalive",
	};

	if ((unsigned int)type >= ARRAY_SIZE(names))
		return "?";
	return names[type];
}

const char *vprn_transform_name(enum vprn_transform t)
{
	switch (t) {
	case VPRN_XFORM_AES_GCM_128:
		return "aes-gcm-128";
	case VPRN_XFORM_AES_GCM_256:
		return "aes-gcm-256";
	case VPRN_XFORM_AES_CBC_128_HMAC_SHA256:
		return "aes-cbc-128-hmac-sha256";
	case VPRN_XFORM_AES_CBC_256_HMAC_SHA256:
		return "aes-cbc-256-hmac-sha256";
	}
	return "?";
}

const char *vprn_role_name(enum vprn_role r)
{
	switch (r) {
	case VPRN_ROLE_RECEIVER:
		return "receiver";
	case VPRN_ROLE_SENDER:
		return "sender";
	}
	return "?";
}

const char *vprn_refuse_reason_name(enum vprn_refuse_reason r)
{
	switch (r) {
	case VPRN_REFUSE_NONE:
		return "none";
	case VPRN_REFUSE_NOT_ALLOWED_RECEIVE:
		return "not-allowed-receive";
	case VPRN_REFUSE_NOT_ALLOWED_SEND:
		return "not-allowed-send";
	case VPRN_REFUSE_NO_POLICY:
		return "no-policy";
	case VPRN_REFUSE_SOURCE_NOT_ALLOWED:
		return "source-not-allowed";
	case VPRN_REFUSE_BAD_REQUEST:
		return "bad-request";
	case VPRN_REFUSE_OVERLOADED:
		return "overloaded";
	}
	return "?";
}

const char *vprn_error_code_name(enum vprn_error_code c)
{
	switch (c) {
	case VPRN_ERR_PROTOCOL:
		return "protocol";
	case VPRN_ERR_VERSION:
		return "version";
	case VPRN_ERR_UNKNOWN_SITE:
		return "unknown-site";
	case VPRN_ERR_REPLACED:
		return "replaced";
	case VPRN_ERR_OVERLOADED:
		return "overloaded";
	case VPRN_ERR_SHUTDOWN:
		return "shutdown";
	}
	return "?";
}

int vprn_msg_strcpy(char *dst, size_t cap, const char *src)
{
	size_t n = src != NULL ? strnlen(src, cap) : 0;

	if (n >= cap) {
		dst[0] = '\0';
		return -ENAMETOOLONG;
	}
	memcpy(dst, src != NULL ? src : "", n);
	dst[n] = '\0';
	return 0;
}

void vprn_msg_init(struct vprn_msg *msg, enum vprn_msg_type type, uint64_t seq)
{
	memset(msg, 0, sizeof(*msg));
	msg->version = VPRN_PROTOCOL_VERSION;
	msg->seq = seq;
	msg->type = type;
}

/* ---- validation ------------------------------------------------------------ */

#define RULE(cond, text)                \
	do {                            \
		if (!(cond)) {          \
			*why = (text);  \
			return -EPROTO; \
		}                       \
	} while (0)

static bool is_multicast(uint32_t a)
{
	return (a >> 28) == 0xe;
}

static bool is_unicast(uint32_t a)
{
	return a != 0 && (a >> 28) < 0xe;
}

static bool valid_name(const char *s)
{
	if (s[0] == '\0')
		return false;
	for (; *s != '\0'; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

static bool role_ok(enum vprn_role r)
{
	return r == VPRN_ROLE_RECEIVER || r == VPRN_ROLE_SENDER;
}

static bool xform_ok(enum vprn_transform t)
{
	return t >= VPRN_XFORM_AES_GCM_128 && t <= VPRN_XFORM_AES_CBC_256_HMAC_SHA256;
}

static bool dir_ok(enum vprn_direction d)
{
	return d == VPRN_DIR_INBOUND || d == VPRN_DIR_OUTBOUND;
}

static int check_membership(const struct vprn_membership *m, const char **why)
{
	RULE(is_multicast(m->group), "membership group not multicast");
	RULE(role_ok(m->role), "membership role invalid");
	RULE(m->filter_mode == VPRN_FILTER_INCLUDE || m->filter_mode == VPRN_FILTER_EXCLUDE,
		"membership filter mode invalid");
	RULE(m->n_sources <= VPRN_MSG_MAX_SOURCES, "too many sources");
	RULE(m->filter_mode == VPRN_FILTER_EXCLUDE || m->n_sources > 0,
		"include filter without sources");
	for (uint32_t i = 0; i < m->n_sources; i++)
		RULE(is_unicast(m->sources[i]), "source not unicast");
	return 0;
}

static int check_hello(const struct vprn_hello *h, const char **why)
{
	RULE(valid_name(h->site), "hello site name empty or invalid");
	RULE(h->lan_prefix_len <= 32, "hello lan prefix length > 32");
	RULE(h->caps.n_transforms <= VPRN_MSG_MAX_TRANSFORMS, "too many transforms");
	for (uint32_t i = 0; i < h->caps.n_transforms; i++)
		RULE(xform_ok(h->caps.transforms[i]), "hello transform invalid");
	RULE(h->state_digest_len <= VPRN_DIGEST_MAX, "hello digest too long");
	return 0;
}

static int check_welcome(const struct vprn_welcome *w, const char **why)
{
	RULE(w->refresh_interval_ms > 0, "welcome refresh interval 0");
	RULE(w->hold_time_ms >= w->refresh_interval_ms, "welcome hold time < refresh interval");
	RULE(w->n_peers <= VPRN_MSG_MAX_ITEMS, "too many peers");
	RULE(w->n_peers == 0 || w->peers != NULL, "peers missing");
	for (uint32_t i = 0; i < w->n_peers; i++)
		RULE(valid_name(w->peers[i].site), "peer site name empty or invalid");
	return 0;
}

static int check_refresh(const struct vprn_refresh *r, const char **why)
{
	RULE(r->n_memberships <= VPRN_MSG_MAX_ITEMS, "too many memberships");
	RULE(r->n_memberships == 0 || r->memberships != NULL, "memberships missing");
	for (uint32_t i = 0; i < r->n_memberships; i++)
		if (check_membership(&r->memberships[i], why) != 0)
			return -EPROTO;
	return 0;
}

static int check_join_result(const struct vprn_join_result *j, const char **why)
{
	if (check_membership(&j->m, why) != 0)
		return -EPROTO;
	RULE(j->granted == (j->reason == VPRN_REFUSE_NONE), "join result reason/granted mismatch");
	RULE((unsigned int)j->reason <= VPRN_REFUSE_OVERLOADED, "join result reason invalid");
	return 0;
}

static int check_metrics(const struct vprn_metrics *m, const char **why)
{
	RULE(m->n_peers <= VPRN_MSG_MAX_ITEMS, "too many metrics");
	RULE(m->n_peers == 0 || m->peers != NULL, "metrics missing");
	for (uint32_t i = 0; i < m->n_peers; i++) {
		RULE(valid_name(m->peers[i].site), "metric site name empty or invalid");
		RULE(m->peers[i].loss_ppm <= 1000000, "metric loss > 1e6 ppm");
	}
	return 0;
}

static int check_tree_update(const struct vprn_tree_update *t, const char **why)
{
	RULE(is_multicast(t->group), "tree group not multicast");
	RULE(t->source == 0 || is_unicast(t->source), "tree source not unicast");
	RULE(t->version > 0, "tree version 0");
	RULE(t->n_neighbours <= VPRN_MSG_MAX_NEIGHBOURS, "too many neighbours");
	RULE(t->n_neighbours == 0 || t->neighbours != NULL, "neighbours missing");
	if (t->removed)
		return 0;
	RULE(t->kind >= VPRN_TREE_SHARED && t->kind <= VPRN_TREE_AUTO, "tree kind invalid");
	RULE(t->sa_mode == VPRN_SA_PAIRWISE || t->sa_mode == VPRN_SA_GROUP, "tree sa mode invalid");
	RULE(xform_ok(t->transform), "tree transform invalid");
	for (uint32_t i = 0; i < t->n_neighbours; i++) {
		RULE(valid_name(t->neighbours[i].site), "neighbour site name empty or invalid");
		RULE(is_unicast(t->neighbours[i].wan_addr), "neighbour address not unicast");
	}
	return 0;
}

static int check_sa_install(const struct vprn_sa_install *s, const char **why)
{
	bool gcm;
	uint32_t klen;

	RULE(s->spi >= 256, "spi < 256 (RFC 4303 2.1)");
	RULE(dir_ok(s->direction), "sa direction invalid");
	RULE(xform_ok(s->transform), "sa transform invalid");
	gcm = s->transform == VPRN_XFORM_AES_GCM_128 || s->transform == VPRN_XFORM_AES_GCM_256;
	klen = (s->transform == VPRN_XFORM_AES_GCM_128 ||
		       s->transform == VPRN_XFORM_AES_CBC_128_HMAC_SHA256)
		       ? 16
		       : 32;
	RULE(s->key_len == klen, "sa key length does not match transform");
	RULE(gcm ? s->salt_len == VPRN_SALT_LEN : s->salt_len == 0, "sa salt length");
	RULE(gcm ? s->auth_key_len == 0 : s->auth_key_len == 32, "sa auth key length");
	RULE(s->group == 0 || is_multicast(s->group), "sa group not multicast");
	return 0;
}

static int check_digest(const struct vprn_digest *d, const char **why)
{
	RULE(d->digest_len <= VPRN_DIGEST_MAX, "digest too long");
	RULE(d->n_trees <= VPRN_MSG_MAX_ITEMS && d->n_inbound_spis <= VPRN_MSG_MAX_ITEMS &&
			d->n_outbound_spis <= VPRN_MSG_MAX_ITEMS,
		"digest lists too long");
	RULE((d->n_trees == 0 || d->trees != NULL) &&
			(d->n_inbound_spis == 0 || d->inbound_spis != NULL) &&
			(d->n_outbound_spis == 0 || d->outbound_spis != NULL),
		"digest lists missing");
	return 0;
}

static int check_traffic(const struct vprn_traffic *t, const char **why)
{
	RULE(t->n_groups <= VPRN_MSG_MAX_ITEMS, "too many traffic entries");
	RULE(t->n_groups == 0 || t->groups != NULL, "traffic entries missing");
	for (uint32_t i = 0; i < t->n_groups; i++) {
		RULE(is_multicast(t->groups[i].group), "traffic group not multicast");
		RULE(role_ok(t->groups[i].role), "traffic role invalid");
	}
	return 0;
}

int vprn_msg_validate(const struct vprn_msg *msg, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = "ok";
	RULE(msg->version == VPRN_PROTOCOL_VERSION, "unsupported protocol version");
	RULE(msg->seq > 0, "sequence number 0");
	switch (msg->type) {
	case VPRN_MSG_HELLO:
		return check_hello(&msg->u.hello, why);
	case VPRN_MSG_WELCOME:
		return check_welcome(&msg->u.welcome, why);
	case VPRN_MSG_JOIN:
		return check_membership(&msg->u.join.m, why);
	case VPRN_MSG_LEAVE:
		return check_membership(&msg->u.leave.m, why);
	case VPRN_MSG_REFRESH:
		return check_refresh(&msg->u.refresh, why);
	case VPRN_MSG_JOIN_RESULT:
		return check_join_result(&msg->u.join_result, why);
	case VPRN_MSG_METRICS:
		return check_metrics(&msg->u.metrics, why);
	case VPRN_MSG_TREE_UPDATE:
		return check_tree_update(&msg->u.tree_update, why);
	case VPRN_MSG_SA_INSTALL:
		return check_sa_install(&msg->u.sa_install, why);
	case VPRN_MSG_SA_REMOVE:
		RULE(msg->u.sa_remove.spi >= 256, "spi < 256 (RFC 4303 2.1)");
		RULE(dir_ok(msg->u.sa_remove.direction), "sa direction invalid");
		return 0;
	case VPRN_MSG_ACK:
		RULE(msg->u.ack.ref_seq > 0, "ack of sequence 0");
		RULE(msg->u.ack.status >= VPRN_ACK_OK && msg->u.ack.status <= VPRN_ACK_UNSUPPORTED,
			"ack status invalid");
		return 0;
	case VPRN_MSG_DIGEST:
		return check_digest(&msg->u.digest, why);
	case VPRN_MSG_KEEP_FORWARDING:
		RULE(is_multicast(msg->u.keep_forwarding.group),
			"keep-forwarding group not multicast");
		return 0;
	case VPRN_MSG_TRAFFIC:
		return check_traffic(&msg->u.traffic, why);
	case VPRN_MSG_ERROR:
		RULE(msg->u.error.code >= VPRN_ERR_PROTOCOL &&
				msg->u.error.code <= VPRN_ERR_SHUTDOWN,
			"error code invalid");
		return 0;
	case VPRN_MSG_BYE:
	case VPRN_MSG_KEEPALIVE:
		return 0;
	case VPRN_MSG_NONE:
	case VPRN_MSG_TYPE_COUNT:
		break;
	}
	*why = "no message body";
	return -EPROTO;
}

/* ---- encoding -------------------------------------------------------------- */

/* Every allocation of one encode call, freed together at the end. */
struct enc {
	void **ptrs;
	size_t n, cap;
	bool failed;
};

static void *enc_alloc(struct enc *e, size_t n, size_t size)
{
	void *p;

	if (e->failed)
		return NULL;
	if (e->n == e->cap) {
		size_t cap = e->cap != 0 ? e->cap * 2 : 16;
		void **np = realloc(e->ptrs, cap * sizeof(*np));

		if (np == NULL) {
			e->failed = true;
			return NULL;
		}
		e->ptrs = np;
		e->cap = cap;
	}
	p = calloc(n != 0 ? n : 1, size);
	if (p == NULL) {
		e->failed = true;
		return NULL;
	}
	e->ptrs[e->n++] = p;
	return p;
}

static void enc_free(struct enc *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->ptrs[i]);
	free(e->ptrs);
}

#define ENC_NEW(e, type, init)                              \
	({                                                  \
		type *p_ = enc_alloc((e), 1, sizeof(type)); \
		if (p_ != NULL)                             \
			init(p_);                           \
		p_;                                         \
	})

/* Generated code takes non-const pointers for strings and bytes it only reads. */
static char *s_(const char *s)
{
	return (char *)(uintptr_t)s;
}

static ProtobufCBinaryData bin(const uint8_t *data, size_t len)
{
	return (ProtobufCBinaryData){ .len = len, .data = (uint8_t *)(uintptr_t)data };
}

static Vprn__Membership *enc_membership(struct enc *e, const struct vprn_membership *m)
{
	Vprn__Membership *p = ENC_NEW(e, Vprn__Membership, vprn__membership__init);

	if (p == NULL)
		return NULL;
	p->group = m->group;
	p->role = role_to_wire(m->role);
	p->filter_mode = filter_to_wire(m->filter_mode);
	p->n_sources = m->n_sources;
	p->sources = (uint32_t *)(uintptr_t)m->sources;
	return p;
}

static Vprn__Hello *enc_hello(struct enc *e, const struct vprn_hello *h)
{
	Vprn__Hello *p = ENC_NEW(e, Vprn__Hello, vprn__hello__init);
	Vprn__Capabilities *c = ENC_NEW(e, Vprn__Capabilities, vprn__capabilities__init);
	Vprn__Transform *t = enc_alloc(e, h->caps.n_transforms, sizeof(*t));

	if (p == NULL || c == NULL || t == NULL)
		return NULL;
	p->site = s_(h->site);
	p->software = s_(h->software);
	p->wan_addr = h->wan_addr;
	p->lan_prefix = h->lan_prefix;
	p->lan_prefix_len = h->lan_prefix_len;
	p->boot_id = h->boot_id;
	p->state_digest = bin(h->state_digest, h->state_digest_len);
	for (uint32_t i = 0; i < h->caps.n_transforms; i++)
		t[i] = xform_to_wire(h->caps.transforms[i]);
	c->n_transforms = h->caps.n_transforms;
	c->transforms = t;
	c->udp_encap = h->caps.udp_encap;
	c->group_sa = h->caps.group_sa;
	c->max_neighbours = h->caps.max_neighbours;
	c->replay_window_max = h->caps.replay_window_max;
	c->esn = h->caps.esn;
	p->caps = c;
	return p;
}

static Vprn__Welcome *enc_welcome(struct enc *e, const struct vprn_welcome *w)
{
	Vprn__Welcome *p = ENC_NEW(e, Vprn__Welcome, vprn__welcome__init);
	Vprn__Peer **pp = enc_alloc(e, w->n_peers, sizeof(*pp));
	Vprn__Peer *pa = enc_alloc(e, w->n_peers, sizeof(*pa));

	if (p == NULL || pp == NULL || pa == NULL)
		return NULL;
	p->site_id = w->site_id;
	p->vpn = s_(w->vpn);
	p->refresh_interval_ms = w->refresh_interval_ms;
	p->hold_time_ms = w->hold_time_ms;
	p->probe_interval_ms = w->probe_interval_ms;
	p->metrics_interval_ms = w->metrics_interval_ms;
	p->vnoc_boot_id = w->vnoc_boot_id;
	for (uint32_t i = 0; i < w->n_peers; i++) {
		const struct vprn_peer *src = &w->peers[i];

		vprn__peer__init(&pa[i]);
		pa[i].site = s_(src->site);
		pa[i].site_id = src->site_id;
		pa[i].wan_addr = src->wan_addr;
		pa[i].udp_encap = src->udp_encap;
		if (src->has_probe_key)
			pa[i].probe_key = bin(src->probe_key, VPRN_PROBE_KEY_LEN);
		pp[i] = &pa[i];
	}
	p->n_peers = w->n_peers;
	p->peers = pp;
	return p;
}

static Vprn__Refresh *enc_refresh(struct enc *e, const struct vprn_refresh *r)
{
	Vprn__Refresh *p = ENC_NEW(e, Vprn__Refresh, vprn__refresh__init);
	Vprn__Membership **mp = enc_alloc(e, r->n_memberships, sizeof(*mp));

	if (p == NULL || mp == NULL)
		return NULL;
	for (uint32_t i = 0; i < r->n_memberships; i++)
		if ((mp[i] = enc_membership(e, &r->memberships[i])) == NULL)
			return NULL;
	p->n_memberships = r->n_memberships;
	p->memberships = mp;
	return p;
}

static Vprn__JoinResult *enc_join_result(struct enc *e, const struct vprn_join_result *j)
{
	Vprn__JoinResult *p = ENC_NEW(e, Vprn__JoinResult, vprn__join_result__init);

	if (p == NULL || (p->m = enc_membership(e, &j->m)) == NULL)
		return NULL;
	p->granted = j->granted;
	p->reason = refuse_to_wire(j->reason);
	p->text = s_(j->text);
	return p;
}

static Vprn__MetricsReport *enc_metrics(struct enc *e, const struct vprn_metrics *m)
{
	Vprn__MetricsReport *p = ENC_NEW(e, Vprn__MetricsReport, vprn__metrics_report__init);
	Vprn__PeerMetric **pp = enc_alloc(e, m->n_peers, sizeof(*pp));
	Vprn__PeerMetric *pa = enc_alloc(e, m->n_peers, sizeof(*pa));

	if (p == NULL || pp == NULL || pa == NULL)
		return NULL;
	for (uint32_t i = 0; i < m->n_peers; i++) {
		vprn__peer_metric__init(&pa[i]);
		pa[i].site = s_(m->peers[i].site);
		pa[i].rtt_us = m->peers[i].rtt_us;
		pa[i].rttvar_us = m->peers[i].rttvar_us;
		pa[i].loss_ppm = m->peers[i].loss_ppm;
		pa[i].samples = m->peers[i].samples;
		pp[i] = &pa[i];
	}
	p->n_peers = m->n_peers;
	p->peers = pp;
	return p;
}

static Vprn__TreeUpdate *enc_tree_update(struct enc *e, const struct vprn_tree_update *t)
{
	Vprn__TreeUpdate *p = ENC_NEW(e, Vprn__TreeUpdate, vprn__tree_update__init);
	Vprn__Neighbour **np = enc_alloc(e, t->n_neighbours, sizeof(*np));
	Vprn__Neighbour *na = enc_alloc(e, t->n_neighbours, sizeof(*na));

	if (p == NULL || np == NULL || na == NULL)
		return NULL;
	p->group = t->group;
	p->source = t->source;
	p->version = t->version;
	p->kind = tree_kind_to_wire(t->kind);
	p->sa_mode = sa_mode_to_wire(t->sa_mode);
	p->transform = xform_to_wire(t->transform);
	p->local_receivers = t->local_receivers;
	p->local_sender = t->local_sender;
	p->group_out_spi = t->group_out_spi;
	p->path_mtu = t->path_mtu;
	p->removed = t->removed;
	p->grace_ms = t->grace_ms;
	for (uint32_t i = 0; i < t->n_neighbours; i++) {
		const struct vprn_neighbour *src = &t->neighbours[i];

		vprn__neighbour__init(&na[i]);
		na[i].site = s_(src->site);
		na[i].site_id = src->site_id;
		na[i].wan_addr = src->wan_addr;
		na[i].udp_encap = src->udp_encap;
		na[i].udp_port = src->udp_port;
		na[i].out_spi = src->out_spi;
		na[i].quiet = src->quiet;
		na[i].in_spi = src->in_spi;
		np[i] = &na[i];
	}
	p->n_neighbours = t->n_neighbours;
	p->neighbours = np;
	return p;
}

static Vprn__SaInstall *enc_sa_install(struct enc *e, const struct vprn_sa_install *s)
{
	Vprn__SaInstall *p = ENC_NEW(e, Vprn__SaInstall, vprn__sa_install__init);
	Vprn__Lifetime *l = ENC_NEW(e, Vprn__Lifetime, vprn__lifetime__init);

	if (p == NULL || l == NULL)
		return NULL;
	p->spi = s->spi;
	p->direction = dir_to_wire(s->direction);
	p->transform = xform_to_wire(s->transform);
	p->key = bin(s->key, s->key_len);
	p->salt = bin(s->salt, s->salt_len);
	p->auth_key = bin(s->auth_key, s->auth_key_len);
	p->esn = s->esn;
	p->replay_window = s->replay_window;
	l->soft_bytes = s->lifetime.soft_bytes;
	l->hard_bytes = s->lifetime.hard_bytes;
	l->soft_packets = s->lifetime.soft_packets;
	l->hard_packets = s->lifetime.hard_packets;
	l->soft_seconds = s->lifetime.soft_seconds;
	l->hard_seconds = s->lifetime.hard_seconds;
	p->lifetime = l;
	p->peer = s_(s->peer);
	p->peer_addr = s->peer_addr;
	p->group = s->group;
	p->sender = s_(s->sender);
	p->udp_encap = s->udp_encap;
	p->udp_sport = s->udp_sport;
	p->udp_dport = s->udp_dport;
	p->local_addr = s->local_addr;
	p->generation = s->generation;
	return p;
}

static Vprn__StateDigest *enc_digest(struct enc *e, const struct vprn_digest *d)
{
	Vprn__StateDigest *p = ENC_NEW(e, Vprn__StateDigest, vprn__state_digest__init);
	Vprn__InstalledTree **tp = enc_alloc(e, d->n_trees, sizeof(*tp));
	Vprn__InstalledTree *ta = enc_alloc(e, d->n_trees, sizeof(*ta));

	if (p == NULL || tp == NULL || ta == NULL)
		return NULL;
	p->digest = bin(d->digest, d->digest_len);
	p->vnoc_seq = d->vnoc_seq;
	for (uint32_t i = 0; i < d->n_trees; i++) {
		vprn__installed_tree__init(&ta[i]);
		ta[i].group = d->trees[i].group;
		ta[i].source = d->trees[i].source;
		ta[i].version = d->trees[i].version;
		tp[i] = &ta[i];
	}
	p->n_trees = d->n_trees;
	p->trees = tp;
	p->n_inbound_spis = d->n_inbound_spis;
	p->inbound_spis = d->inbound_spis;
	p->n_outbound_spis = d->n_outbound_spis;
	p->outbound_spis = d->outbound_spis;
	return p;
}

static Vprn__TrafficReport *enc_traffic(struct enc *e, const struct vprn_traffic *t)
{
	Vprn__TrafficReport *p = ENC_NEW(e, Vprn__TrafficReport, vprn__traffic_report__init);
	Vprn__GroupTraffic **gp = enc_alloc(e, t->n_groups, sizeof(*gp));
	Vprn__GroupTraffic *ga = enc_alloc(e, t->n_groups, sizeof(*ga));

	if (p == NULL || gp == NULL || ga == NULL)
		return NULL;
	for (uint32_t i = 0; i < t->n_groups; i++) {
		vprn__group_traffic__init(&ga[i]);
		ga[i].group = t->groups[i].group;
		ga[i].source = t->groups[i].source;
		ga[i].role = role_to_wire(t->groups[i].role);
		ga[i].packets = t->groups[i].packets;
		ga[i].bytes = t->groups[i].bytes;
		gp[i] = &ga[i];
	}
	p->n_groups = t->n_groups;
	p->groups = gp;
	return p;
}

/* Fill env's body; returns false on allocation failure. */
static bool enc_body(struct enc *e, const struct vprn_msg *m, Vprn__Envelope *env)
{
	const struct vprn_sa_remove *sr = &m->u.sa_remove;

	switch (m->type) {
	case VPRN_MSG_HELLO:
		env->body_case = VPRN__ENVELOPE__BODY_HELLO;
		return (env->hello = enc_hello(e, &m->u.hello)) != NULL;
	case VPRN_MSG_WELCOME:
		env->body_case = VPRN__ENVELOPE__BODY_WELCOME;
		return (env->welcome = enc_welcome(e, &m->u.welcome)) != NULL;
	case VPRN_MSG_JOIN:
		env->body_case = VPRN__ENVELOPE__BODY_JOIN;
		env->join = ENC_NEW(e, Vprn__Join, vprn__join__init);
		return env->join != NULL &&
		       (env->join->m = enc_membership(e, &m->u.join.m)) != NULL;
	case VPRN_MSG_LEAVE:
		env->body_case = VPRN__ENVELOPE__BODY_LEAVE;
		env->leave = ENC_NEW(e, Vprn__Leave, vprn__leave__init);
		return env->leave != NULL &&
		       (env->leave->m = enc_membership(e, &m->u.leave.m)) != NULL;
	case VPRN_MSG_REFRESH:
		env->body_case = VPRN__ENVELOPE__BODY_REFRESH;
		return (env->refresh = enc_refresh(e, &m->u.refresh)) != NULL;
	case VPRN_MSG_JOIN_RESULT:
		env->body_case = VPRN__ENVELOPE__BODY_JOIN_RESULT;
		return (env->join_result = enc_join_result(e, &m->u.join_result)) != NULL;
	case VPRN_MSG_METRICS:
		env->body_case = VPRN__ENVELOPE__BODY_METRICS;
		return (env->metrics = enc_metrics(e, &m->u.metrics)) != NULL;
	case VPRN_MSG_TREE_UPDATE:
		env->body_case = VPRN__ENVELOPE__BODY_TREE_UPDATE;
		return (env->tree_update = enc_tree_update(e, &m->u.tree_update)) != NULL;
	case VPRN_MSG_SA_INSTALL:
		env->body_case = VPRN__ENVELOPE__BODY_SA_INSTALL;
		return (env->sa_install = enc_sa_install(e, &m->u.sa_install)) != NULL;
	case VPRN_MSG_SA_REMOVE:
		env->body_case = VPRN__ENVELOPE__BODY_SA_REMOVE;
		env->sa_remove = ENC_NEW(e, Vprn__SaRemove, vprn__sa_remove__init);
		if (env->sa_remove == NULL)
			return false;
		env->sa_remove->spi = sr->spi;
		env->sa_remove->direction = dir_to_wire(sr->direction);
		env->sa_remove->grace_ms = sr->grace_ms;
		return true;
	case VPRN_MSG_ACK:
		env->body_case = VPRN__ENVELOPE__BODY_ACK;
		env->ack = ENC_NEW(e, Vprn__Ack, vprn__ack__init);
		if (env->ack == NULL)
			return false;
		env->ack->ref_seq = m->u.ack.ref_seq;
		env->ack->status = ack_to_wire(m->u.ack.status);
		env->ack->text = s_(m->u.ack.text);
		return true;
	case VPRN_MSG_DIGEST:
		env->body_case = VPRN__ENVELOPE__BODY_DIGEST;
		return (env->digest = enc_digest(e, &m->u.digest)) != NULL;
	case VPRN_MSG_KEEP_FORWARDING:
		env->body_case = VPRN__ENVELOPE__BODY_KEEP_FORWARDING;
		env->keep_forwarding =
			ENC_NEW(e, Vprn__KeepForwarding, vprn__keep_forwarding__init);
		if (env->keep_forwarding == NULL)
			return false;
		env->keep_forwarding->group = m->u.keep_forwarding.group;
		env->keep_forwarding->source = m->u.keep_forwarding.source;
		env->keep_forwarding->until_version = m->u.keep_forwarding.until_version;
		env->keep_forwarding->timeout_ms = m->u.keep_forwarding.timeout_ms;
		env->keep_forwarding->done = m->u.keep_forwarding.done;
		return true;
	case VPRN_MSG_TRAFFIC:
		env->body_case = VPRN__ENVELOPE__BODY_TRAFFIC;
		return (env->traffic = enc_traffic(e, &m->u.traffic)) != NULL;
	case VPRN_MSG_BYE:
		env->body_case = VPRN__ENVELOPE__BODY_BYE;
		env->bye = ENC_NEW(e, Vprn__Bye, vprn__bye__init);
		if (env->bye == NULL)
			return false;
		env->bye->reason = s_(m->u.bye.reason);
		return true;
	case VPRN_MSG_ERROR:
		env->body_case = VPRN__ENVELOPE__BODY_ERROR;
		env->error = ENC_NEW(e, Vprn__Error, vprn__error__init);
		if (env->error == NULL)
			return false;
		env->error->code = errcode_to_wire(m->u.error.code);
		env->error->text = s_(m->u.error.text);
		return true;
	case VPRN_MSG_KEEPALIVE:
		env->body_case = VPRN__ENVELOPE__BODY_KEEPALIVE;
		env->keepalive = ENC_NEW(e, Vprn__Keepalive, vprn__keepalive__init);
		if (env->keepalive == NULL)
			return false;
		env->keepalive->tsc_echo = m->u.keepalive.tsc_echo;
		return true;
	case VPRN_MSG_NONE:
	case VPRN_MSG_TYPE_COUNT:
		break;
	}
	return false;
}

int vprn_msg_encode(const struct vprn_msg *msg, uint8_t **buf, size_t *len)
{
	Vprn__Envelope env = VPRN__ENVELOPE__INIT;
	struct enc e = { 0 };
	uint8_t *out;
	size_t n;

	if (vprn_msg_validate(msg, NULL) != 0)
		return -EINVAL;
	env.version = msg->version;
	env.seq = msg->seq;
	if (!enc_body(&e, msg, &env)) {
		enc_free(&e);
		return -ENOMEM;
	}
	n = vprn__envelope__get_packed_size(&env);
	out = malloc(n != 0 ? n : 1);
	if (out == NULL) {
		enc_free(&e);
		return -ENOMEM;
	}
	vprn__envelope__pack(&env, out);
	enc_free(&e);
	*buf = out;
	*len = n;
	return 0;
}

/* ---- decoding -------------------------------------------------------------- */

static int dec_str(char *dst, size_t cap, const char *src)
{
	return vprn_msg_strcpy(dst, cap, src) == 0 ? 0 : -EPROTO;
}

static int dec_bytes(uint8_t *dst, size_t cap, uint32_t *len, ProtobufCBinaryData b)
{
	if (b.len > cap)
		return -EPROTO;
	if (b.len > 0)
		memcpy(dst, b.data, b.len);
	*len = (uint32_t)b.len;
	return 0;
}

/* Allocate a decoded repeated array of n items, bounded. */
static void *dec_array(size_t n, size_t max, size_t size, int *err)
{
	void *p;

	if (n > max) {
		*err = -EPROTO;
		return NULL;
	}
	p = calloc(n != 0 ? n : 1, size);
	if (p == NULL)
		*err = -ENOMEM;
	return p;
}

static int dec_membership(const Vprn__Membership *p, struct vprn_membership *m)
{
	if (p == NULL)
		return -EPROTO;
	if (role_from_wire(p->role, &m->role) != 0 ||
		filter_from_wire(p->filter_mode, &m->filter_mode) != 0)
		return -EPROTO;
	if (p->n_sources > VPRN_MSG_MAX_SOURCES)
		return -EPROTO;
	m->group = p->group;
	m->n_sources = (uint32_t)p->n_sources;
	if (p->n_sources > 0)
		memcpy(m->sources, p->sources, p->n_sources * sizeof(uint32_t));
	return 0;
}

static int dec_hello(const Vprn__Hello *p, struct vprn_hello *h)
{
	if (p == NULL || dec_str(h->site, sizeof(h->site), p->site) != 0 ||
		dec_str(h->software, sizeof(h->software), p->software) != 0)
		return -EPROTO;
	if (p->lan_prefix_len > 32)
		return -EPROTO;
	h->wan_addr = p->wan_addr;
	h->lan_prefix = p->lan_prefix;
	h->lan_prefix_len = (uint8_t)p->lan_prefix_len;
	h->boot_id = p->boot_id;
	if (dec_bytes(h->state_digest, sizeof(h->state_digest), &h->state_digest_len,
		    p->state_digest) != 0)
		return -EPROTO;
	if (p->caps == NULL)
		return 0;
	if (p->caps->n_transforms > VPRN_MSG_MAX_TRANSFORMS)
		return -EPROTO;
	for (size_t i = 0; i < p->caps->n_transforms; i++)
		if (xform_from_wire(p->caps->transforms[i], &h->caps.transforms[i]) != 0)
			return -EPROTO;
	h->caps.n_transforms = (uint32_t)p->caps->n_transforms;
	h->caps.udp_encap = p->caps->udp_encap;
	h->caps.group_sa = p->caps->group_sa;
	h->caps.max_neighbours = p->caps->max_neighbours;
	h->caps.replay_window_max = p->caps->replay_window_max;
	h->caps.esn = p->caps->esn;
	return 0;
}

static int dec_welcome(const Vprn__Welcome *p, struct vprn_welcome *w)
{
	int err = 0;

	if (p == NULL || dec_str(w->vpn, sizeof(w->vpn), p->vpn) != 0)
		return -EPROTO;
	w->site_id = p->site_id;
	w->refresh_interval_ms = p->refresh_interval_ms;
	w->hold_time_ms = p->hold_time_ms;
	w->probe_interval_ms = p->probe_interval_ms;
	w->metrics_interval_ms = p->metrics_interval_ms;
	w->vnoc_boot_id = p->vnoc_boot_id;
	w->peers = dec_array(p->n_peers, VPRN_MSG_MAX_ITEMS, sizeof(*w->peers), &err);
	if (w->peers == NULL)
		return err;
	w->n_peers = (uint32_t)p->n_peers;
	for (size_t i = 0; i < p->n_peers; i++) {
		const Vprn__Peer *src = p->peers[i];
		struct vprn_peer *dst = &w->peers[i];

		if (dec_str(dst->site, sizeof(dst->site), src->site) != 0)
			return -EPROTO;
		dst->site_id = src->site_id;
		dst->wan_addr = src->wan_addr;
		dst->udp_encap = src->udp_encap;
		if (src->probe_key.len != 0 && src->probe_key.len != VPRN_PROBE_KEY_LEN)
			return -EPROTO;
		dst->has_probe_key = src->probe_key.len == VPRN_PROBE_KEY_LEN;
		if (dst->has_probe_key)
			memcpy(dst->probe_key, src->probe_key.data, VPRN_PROBE_KEY_LEN);
	}
	return 0;
}

static int dec_refresh(const Vprn__Refresh *p, struct vprn_refresh *r)
{
	int err = 0;

	if (p == NULL)
		return -EPROTO;
	r->memberships =
		dec_array(p->n_memberships, VPRN_MSG_MAX_ITEMS, sizeof(*r->memberships), &err);
	if (r->memberships == NULL)
		return err;
	r->n_memberships = (uint32_t)p->n_memberships;
	for (size_t i = 0; i < p->n_memberships; i++)
		if (dec_membership(p->memberships[i], &r->memberships[i]) != 0)
			return -EPROTO;
	return 0;
}

static int dec_join_result(const Vprn__JoinResult *p, struct vprn_join_result *j)
{
	if (p == NULL || dec_membership(p->m, &j->m) != 0 ||
		refuse_from_wire(p->reason, &j->reason) != 0 ||
		dec_str(j->text, sizeof(j->text), p->text) != 0)
		return -EPROTO;
	j->granted = p->granted;
	return 0;
}

static int dec_metrics(const Vprn__MetricsReport *p, struct vprn_metrics *m)
{
	int err = 0;

	if (p == NULL)
		return -EPROTO;
	m->peers = dec_array(p->n_peers, VPRN_MSG_MAX_ITEMS, sizeof(*m->peers), &err);
	if (m->peers == NULL)
		return err;
	m->n_peers = (uint32_t)p->n_peers;
	for (size_t i = 0; i < p->n_peers; i++) {
		const Vprn__PeerMetric *src = p->peers[i];
		struct vprn_peer_metric *dst = &m->peers[i];

		if (dec_str(dst->site, sizeof(dst->site), src->site) != 0)
			return -EPROTO;
		dst->rtt_us = src->rtt_us;
		dst->rttvar_us = src->rttvar_us;
		dst->loss_ppm = src->loss_ppm;
		dst->samples = src->samples;
	}
	return 0;
}

static int dec_tree_update(const Vprn__TreeUpdate *p, struct vprn_tree_update *t)
{
	int err = 0;

	if (p == NULL)
		return -EPROTO;
	t->group = p->group;
	t->source = p->source;
	t->version = p->version;
	t->removed = p->removed;
	t->local_receivers = p->local_receivers;
	t->local_sender = p->local_sender;
	t->group_out_spi = p->group_out_spi;
	t->path_mtu = p->path_mtu;
	t->grace_ms = p->grace_ms;
	/* A removal may leave kind/mode/transform unspecified (0). */
	if (!(p->removed && p->kind == VPRN__TREE_KIND__TREE_KIND_UNSPECIFIED) &&
		tree_kind_from_wire(p->kind, &t->kind) != 0)
		return -EPROTO;
	if (!(p->removed && p->sa_mode == VPRN__SA_MODE__SA_MODE_UNSPECIFIED) &&
		sa_mode_from_wire(p->sa_mode, &t->sa_mode) != 0)
		return -EPROTO;
	if (!(p->removed && p->transform == VPRN__TRANSFORM__TRANSFORM_UNSPECIFIED) &&
		xform_from_wire(p->transform, &t->transform) != 0)
		return -EPROTO;
	t->neighbours =
		dec_array(p->n_neighbours, VPRN_MSG_MAX_NEIGHBOURS, sizeof(*t->neighbours), &err);
	if (t->neighbours == NULL)
		return err;
	t->n_neighbours = (uint32_t)p->n_neighbours;
	for (size_t i = 0; i < p->n_neighbours; i++) {
		const Vprn__Neighbour *src = p->neighbours[i];
		struct vprn_neighbour *dst = &t->neighbours[i];

		if (dec_str(dst->site, sizeof(dst->site), src->site) != 0 || src->udp_port > 65535)
			return -EPROTO;
		dst->site_id = src->site_id;
		dst->wan_addr = src->wan_addr;
		dst->udp_encap = src->udp_encap;
		dst->udp_port = (uint16_t)src->udp_port;
		dst->out_spi = src->out_spi;
		dst->quiet = src->quiet;
		dst->in_spi = src->in_spi;
	}
	return 0;
}

static int dec_sa_install(const Vprn__SaInstall *p, struct vprn_sa_install *s)
{
	if (p == NULL || dir_from_wire(p->direction, &s->direction) != 0 ||
		xform_from_wire(p->transform, &s->transform) != 0 ||
		dec_bytes(s->key, sizeof(s->key), &s->key_len, p->key) != 0 ||
		dec_bytes(s->salt, sizeof(s->salt), &s->salt_len, p->salt) != 0 ||
		dec_bytes(s->auth_key, sizeof(s->auth_key), &s->auth_key_len, p->auth_key) != 0 ||
		dec_str(s->peer, sizeof(s->peer), p->peer) != 0 ||
		dec_str(s->sender, sizeof(s->sender), p->sender) != 0)
		return -EPROTO;
	if (p->udp_sport > 65535 || p->udp_dport > 65535)
		return -EPROTO;
	s->spi = p->spi;
	s->esn = p->esn;
	s->replay_window = p->replay_window;
	if (p->lifetime != NULL) {
		s->lifetime.soft_bytes = p->lifetime->soft_bytes;
		s->lifetime.hard_bytes = p->lifetime->hard_bytes;
		s->lifetime.soft_packets = p->lifetime->soft_packets;
		s->lifetime.hard_packets = p->lifetime->hard_packets;
		s->lifetime.soft_seconds = p->lifetime->soft_seconds;
		s->lifetime.hard_seconds = p->lifetime->hard_seconds;
	}
	s->peer_addr = p->peer_addr;
	s->group = p->group;
	s->udp_encap = p->udp_encap;
	s->udp_sport = (uint16_t)p->udp_sport;
	s->udp_dport = (uint16_t)p->udp_dport;
	s->local_addr = p->local_addr;
	s->generation = p->generation;
	return 0;
}

static int dec_digest(const Vprn__StateDigest *p, struct vprn_digest *d)
{
	int err = 0;

	if (p == NULL || dec_bytes(d->digest, sizeof(d->digest), &d->digest_len, p->digest) != 0)
		return -EPROTO;
	d->vnoc_seq = p->vnoc_seq;
	d->trees = dec_array(p->n_trees, VPRN_MSG_MAX_ITEMS, sizeof(*d->trees), &err);
	if (d->trees == NULL)
		return err;
	d->n_trees = (uint32_t)p->n_trees;
	for (size_t i = 0; i < p->n_trees; i++) {
		d->trees[i].group = p->trees[i]->group;
		d->trees[i].source = p->trees[i]->source;
		d->trees[i].version = p->trees[i]->version;
	}
	d->inbound_spis = dec_array(p->n_inbound_spis, VPRN_MSG_MAX_ITEMS, sizeof(uint32_t), &err);
	if (d->inbound_spis == NULL)
		return err;
	d->n_inbound_spis = (uint32_t)p->n_inbound_spis;
	if (p->n_inbound_spis > 0)
		memcpy(d->inbound_spis, p->inbound_spis, p->n_inbound_spis * sizeof(uint32_t));
	d->outbound_spis =
		dec_array(p->n_outbound_spis, VPRN_MSG_MAX_ITEMS, sizeof(uint32_t), &err);
	if (d->outbound_spis == NULL)
		return err;
	d->n_outbound_spis = (uint32_t)p->n_outbound_spis;
	if (p->n_outbound_spis > 0)
		memcpy(d->outbound_spis, p->outbound_spis, p->n_outbound_spis * sizeof(uint32_t));
	return 0;
}

static int dec_traffic(const Vprn__TrafficReport *p, struct vprn_traffic *t)
{
	int err = 0;

	if (p == NULL)
		return -EPROTO;
	t->groups = dec_array(p->n_groups, VPRN_MSG_MAX_ITEMS, sizeof(*t->groups), &err);
	if (t->groups == NULL)
		return err;
	t->n_groups = (uint32_t)p->n_groups;
	for (size_t i = 0; i < p->n_groups; i++) {
		const Vprn__GroupTraffic *src = p->groups[i];

		if (role_from_wire(src->role, &t->groups[i].role) != 0)
			return -EPROTO;
		t->groups[i].group = src->group;
		t->groups[i].source = src->source;
		t->groups[i].packets = src->packets;
		t->groups[i].bytes = src->bytes;
	}
	return 0;
}

static int dec_body(const Vprn__Envelope *env, struct vprn_msg *m)
{
	switch (env->body_case) {
	case VPRN__ENVELOPE__BODY_HELLO:
		m->type = VPRN_MSG_HELLO;
		return dec_hello(env->hello, &m->u.hello);
	case VPRN__ENVELOPE__BODY_WELCOME:
		m->type = VPRN_MSG_WELCOME;
		return dec_welcome(env->welcome, &m->u.welcome);
	case VPRN__ENVELOPE__BODY_JOIN:
		m->type = VPRN_MSG_JOIN;
		return env->join != NULL ? dec_membership(env->join->m, &m->u.join.m) : -EPROTO;
	case VPRN__ENVELOPE__BODY_LEAVE:
		m->type = VPRN_MSG_LEAVE;
		return env->leave != NULL ? dec_membership(env->leave->m, &m->u.leave.m) : -EPROTO;
	case VPRN__ENVELOPE__BODY_REFRESH:
		m->type = VPRN_MSG_REFRESH;
		return dec_refresh(env->refresh, &m->u.refresh);
	case VPRN__ENVELOPE__BODY_JOIN_RESULT:
		m->type = VPRN_MSG_JOIN_RESULT;
		return dec_join_result(env->join_result, &m->u.join_result);
	case VPRN__ENVELOPE__BODY_METRICS:
		m->type = VPRN_MSG_METRICS;
		return dec_metrics(env->metrics, &m->u.metrics);
	case VPRN__ENVELOPE__BODY_TREE_UPDATE:
		m->type = VPRN_MSG_TREE_UPDATE;
		return dec_tree_update(env->tree_update, &m->u.tree_update);
	case VPRN__ENVELOPE__BODY_SA_INSTALL:
		m->type = VPRN_MSG_SA_INSTALL;
		return dec_sa_install(env->sa_install, &m->u.sa_install);
	case VPRN__ENVELOPE__BODY_SA_REMOVE:
		m->type = VPRN_MSG_SA_REMOVE;
		if (env->sa_remove == NULL ||
			dir_from_wire(env->sa_remove->direction, &m->u.sa_remove.direction) != 0)
			return -EPROTO;
		m->u.sa_remove.spi = env->sa_remove->spi;
		m->u.sa_remove.grace_ms = env->sa_remove->grace_ms;
		return 0;
	case VPRN__ENVELOPE__BODY_ACK:
		m->type = VPRN_MSG_ACK;
		if (env->ack == NULL || ack_from_wire(env->ack->status, &m->u.ack.status) != 0)
			return -EPROTO;
		m->u.ack.ref_seq = env->ack->ref_seq;
		return dec_str(m->u.ack.text, sizeof(m->u.ack.text), env->ack->text);
	case VPRN__ENVELOPE__BODY_DIGEST:
		m->type = VPRN_MSG_DIGEST;
		return dec_digest(env->digest, &m->u.digest);
	case VPRN__ENVELOPE__BODY_KEEP_FORWARDING:
		m->type = VPRN_MSG_KEEP_FORWARDING;
		if (env->keep_forwarding == NULL)
			return -EPROTO;
		m->u.keep_forwarding.group = env->keep_forwarding->group;
		m->u.keep_forwarding.source = env->keep_forwarding->source;
		m->u.keep_forwarding.until_version = env->keep_forwarding->until_version;
		m->u.keep_forwarding.timeout_ms = env->keep_forwarding->timeout_ms;
		m->u.keep_forwarding.done = env->keep_forwarding->done;
		return 0;
	case VPRN__ENVELOPE__BODY_TRAFFIC:
		m->type = VPRN_MSG_TRAFFIC;
		return dec_traffic(env->traffic, &m->u.traffic);
	case VPRN__ENVELOPE__BODY_BYE:
		m->type = VPRN_MSG_BYE;
		return env->bye != NULL
			       ? dec_str(m->u.bye.reason, sizeof(m->u.bye.reason), env->bye->reason)
			       : -EPROTO;
	case VPRN__ENVELOPE__BODY_ERROR:
		m->type = VPRN_MSG_ERROR;
		if (env->error == NULL ||
			errcode_from_wire(env->error->code, &m->u.error.code) != 0)
			return -EPROTO;
		return dec_str(m->u.error.text, sizeof(m->u.error.text), env->error->text);
	case VPRN__ENVELOPE__BODY_KEEPALIVE:
		m->type = VPRN_MSG_KEEPALIVE;
		if (env->keepalive == NULL)
			return -EPROTO;
		m->u.keepalive.tsc_echo = env->keepalive->tsc_echo;
		return 0;
	default:
		return -EPROTO; /* no body, or a body this version does not know */
	}
}

int vprn_msg_decode(const uint8_t *buf, size_t len, struct vprn_msg *msg)
{
	Vprn__Envelope *env;
	int rc;

	memset(msg, 0, sizeof(*msg));
	env = vprn__envelope__unpack(NULL, len, buf);
	if (env == NULL)
		return -EBADMSG;
	msg->owned = true;
	msg->version = env->version;
	msg->seq = env->seq;
	rc = dec_body(env, msg);
	vprn__envelope__free_unpacked(env, NULL);
	if (rc == 0)
		rc = vprn_msg_validate(msg, NULL);
	if (rc != 0)
		vprn_msg_free(msg);
	return rc;
}

void vprn_msg_free(struct vprn_msg *msg)
{
	if (!msg->owned)
		return;
	switch (msg->type) {
	case VPRN_MSG_WELCOME:
		free(msg->u.welcome.peers);
		break;
	case VPRN_MSG_REFRESH:
		free(msg->u.refresh.memberships);
		break;
	case VPRN_MSG_METRICS:
		free(msg->u.metrics.peers);
		break;
	case VPRN_MSG_TREE_UPDATE:
		free(msg->u.tree_update.neighbours);
		break;
	case VPRN_MSG_DIGEST:
		free(msg->u.digest.trees);
		free(msg->u.digest.inbound_spis);
		free(msg->u.digest.outbound_spis);
		break;
	case VPRN_MSG_TRAFFIC:
		free(msg->u.traffic.groups);
		break;
	default:
		break;
	}
	/* Wipe: SaInstall carries key material. */
	explicit_bzero(msg, sizeof(*msg));
}
