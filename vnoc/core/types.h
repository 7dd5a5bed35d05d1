/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_TYPES_H
#define VPRN_VNOC_CORE_TYPES_H

/*
 * Internal enums of the VNOC core. Values equal the wire enums of
 * proto/vprn.proto so that the message module maps them with a plain switch;
 * 0 is always "unspecified" and never valid.
 */

#include <stdint.h>

enum vnoc_role {
	VNOC_ROLE_RECEIVER = 1,
	VNOC_ROLE_SENDER = 2,
};

enum vnoc_tree_kind {
	VNOC_TREE_SHARED = 1,
	VNOC_TREE_PER_SOURCE = 2,
	VNOC_TREE_STAR = 3,
	VNOC_TREE_AUTO = 4,
};

enum vnoc_sa_mode {
	VNOC_SA_PAIRWISE = 1,
	VNOC_SA_GROUP = 2,
};

enum vnoc_transform {
	VNOC_XFORM_AES_GCM_128 = 1,
	VNOC_XFORM_AES_GCM_256 = 2,
	VNOC_XFORM_AES_CBC_128_HMAC_SHA256 = 3,
	VNOC_XFORM_AES_CBC_256_HMAC_SHA256 = 4,
};

/** Join refusal reasons (RefuseReason); VNOC_GRANTED = 0 means accepted. */
enum vnoc_refuse {
	VNOC_GRANTED = 0,
	VNOC_REFUSE_NOT_ALLOWED_RECEIVE = 1,
	VNOC_REFUSE_NOT_ALLOWED_SEND = 2,
	VNOC_REFUSE_NO_POLICY = 3,
	VNOC_REFUSE_SOURCE_NOT_ALLOWED = 4,
	VNOC_REFUSE_BAD_REQUEST = 5,
	VNOC_REFUSE_OVERLOADED = 6,
};

enum vnoc_filter {
	VNOC_FILTER_INCLUDE = 1,
	VNOC_FILTER_EXCLUDE = 2,
};

/** Most sources a membership may list (more is refused as BAD_REQUEST). */
#define VNOC_MAX_SOURCES 32

/** Site names are certificate CNs; longer names are refused at load. */
#define VNOC_NAME_MAX 64

const char *vnoc_role_name(enum vnoc_role role);
const char *vnoc_tree_kind_name(enum vnoc_tree_kind kind);
const char *vnoc_sa_mode_name(enum vnoc_sa_mode mode);
const char *vnoc_transform_name(enum vnoc_transform xf);
const char *vnoc_refuse_name(enum vnoc_refuse reason);

/** Cipher key length (16 or 32), salt (GCM: 4) and auth key (CBC: 32) in bytes. */
unsigned int vnoc_transform_key_len(enum vnoc_transform xf);
unsigned int vnoc_transform_salt_len(enum vnoc_transform xf);
unsigned int vnoc_transform_auth_len(enum vnoc_transform xf);

#endif /* VPRN_VNOC_CORE_TYPES_H */
