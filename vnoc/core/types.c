/* SPDX-License-Identifier: BSD-3-Clause */
#include "types.h"

const char *vnoc_role_name(enum vnoc_role role)
{
	switch (role) {
	case VNOC_ROLE_RECEIVER:
		return "receiver";
	case VNOC_ROLE_SENDER:
		return "sender";
	}
	return "?";
}

const char *vnoc_tree_kind_name(enum vnoc_tree_kind kind)
{
	switch (kind) {
	case VNOC_TREE_SHARED:
		return "shared";
	case VNOC_TREE_PER_SOURCE:
		return "per-source";
	case VNOC_TREE_STAR:
		return "star";
	case VNOC_TREE_AUTO:
		return "auto";
	}
	return "?";
}

const char *vnoc_sa_mode_name(enum vnoc_sa_mode mode)
{
	switch (mode) {
	case VNOC_SA_PAIRWISE:
		return "pairwise";
	case VNOC_SA_GROUP:
		return "group";
	}
	return "?";
}

const char *vnoc_transform_name(enum vnoc_transform xf)
{
	switch (xf) {
	case VNOC_XFORM_AES_GCM_128:
		return "aes-gcm-128";
	case VNOC_XFORM_AES_GCM_256:
		return "aes-gcm-256";
	case VNOC_XFORM_AES_CBC_128_HMAC_SHA256:
		return "aes-cbc-128-hmac-sha256";
	case VNOC_XFORM_AES_CBC_256_HMAC_SHA256:
		return "aes-cbc-256-hmac-sha256";
	}
	return "?";
}

const char *vnoc_refuse_name(enum vnoc_refuse reason)
{
	switch (reason) {
	case VNOC_GRANTED:
		return "granted";
	case VNOC_REFUSE_NOT_ALLOWED_RECEIVE:
		return "not-allowed-receive";
	case VNOC_REFUSE_NOT_ALLOWED_SEND:
		return "not-allowed-send";
	case VNOC_REFUSE_NO_POLICY:
		return "no-policy";
	case VNOC_REFUSE_SOURCE_NOT_ALLOWED:
		return "source-not-allowed";
	case VNOC_REFUSE_BAD_REQUEST:
		return "bad-request";
	case VNOC_REFUSE_OVERLOADED:
		return "overloaded";
	}
	return "?";
}

unsigned int vnoc_transform_key_len(enum vnoc_transform xf)
{
	switch (xf) {
	case VNOC_XFORM_AES_GCM_128:
	case VNOC_XFORM_AES_CBC_128_HMAC_SHA256:
		return 16;
	case VNOC_XFORM_AES_GCM_256:
	case VNOC_XFORM_AES_CBC_256_HMAC_SHA256:
		return 32;
	}
	return 0;
}

unsigned int vnoc_transform_salt_len(enum vnoc_transform xf)
{
	return xf == VNOC_XFORM_AES_GCM_128 || xf == VNOC_XFORM_AES_GCM_256 ? 4 : 0;
}

unsigned int vnoc_transform_auth_len(enum vnoc_transform xf)
{
	return xf == VNOC_XFORM_AES_CBC_128_HMAC_SHA256 || xf == VNOC_XFORM_AES_CBC_256_HMAC_SHA256
		       ? 32
		       : 0;
}
