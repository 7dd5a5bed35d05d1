/* SPDX-License-Identifier: BSD-3-Clause */
/* Names of drop reasons and transforms (data, from the X-macro list). */

#include "esp.h"

static const char *const drop_names[ESP_DROP_MAX] = {
#define ESP_DROP_NAME_(name, desc) [ESP_DROP_##name] = #name,
	ESP_DROP_REASONS(ESP_DROP_NAME_)
#undef ESP_DROP_NAME_
};

static const char *const drop_descs[ESP_DROP_MAX] = {
#define ESP_DROP_DESC_(name, desc) [ESP_DROP_##name] = desc,
	ESP_DROP_REASONS(ESP_DROP_DESC_)
#undef ESP_DROP_DESC_
};

/* Lower-case copies, built once at load time (names are short and fixed). */
static char drop_lower[ESP_DROP_MAX][24];

__attribute__((constructor)) static void esp_names_init(void)
{
	for (unsigned int i = 0; i < ESP_DROP_MAX; i++) {
		unsigned int j;

		for (j = 0; drop_names[i][j] != '\0' && j + 1 < sizeof(drop_lower[i]); j++) {
			char c = drop_names[i][j];

			drop_lower[i][j] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
		}
		drop_lower[i][j] = '\0';
	}
}

const char *esp_drop_reason_name(unsigned int reason)
{
	return reason < ESP_DROP_MAX ? drop_lower[reason] : "unknown";
}

const char *esp_drop_reason_desc(unsigned int reason)
{
	return reason < ESP_DROP_MAX ? drop_descs[reason] : "unknown drop reason";
}

unsigned int esp_xform_key_len(enum esp_xform xform)
{
	switch (xform) {
	case ESP_XFORM_AES_GCM_128:
	case ESP_XFORM_AES_CBC_128_HMAC_SHA256:
		return 16;
	case ESP_XFORM_AES_GCM_256:
	case ESP_XFORM_AES_CBC_256_HMAC_SHA256:
		return 32;
	default:
		return 0;
	}
}

const char *esp_xform_name(enum esp_xform xform)
{
	switch (xform) {
	case ESP_XFORM_AES_GCM_128:
		return "aes-gcm-128";
	case ESP_XFORM_AES_GCM_256:
		return "aes-gcm-256";
	case ESP_XFORM_AES_CBC_128_HMAC_SHA256:
		return "aes-cbc-128-hmac-sha256";
	case ESP_XFORM_AES_CBC_256_HMAC_SHA256:
		return "aes-cbc-256-hmac-sha256";
	default:
		return NULL;
	}
}
