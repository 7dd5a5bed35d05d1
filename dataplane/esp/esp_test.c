/* SPDX-License-Identifier: BSD-3-Clause */
/* Test seams (esp_test.h): the SA's own HMAC job template on arbitrary data. */

#include <errno.h>
#include <string.h>

#include "esp_priv.h"
#include "esp_test.h"

int esp_test_hmac(struct esp_ctx *ctx, const struct esp_sa *sa, const void *data, uint32_t len,
	uint8_t tag[16])
{
	IMB_JOB *job;

	if (sa->is_gcm)
		return -EINVAL;
	job = IMB_GET_NEXT_JOB(ctx->mgr);
	memset(job, 0, sizeof(*job));
	job->cipher_mode = IMB_CIPHER_NULL;
	job->cipher_direction = IMB_DIR_ENCRYPT;
	job->chain_order = IMB_ORDER_HASH_CIPHER;
	job->hash_alg = IMB_AUTH_HMAC_SHA_256;
	job->src = data;
	job->dst = (uint8_t *)(uintptr_t)data;
	job->hash_start_src_offset_in_bytes = 0;
	job->msg_len_to_hash_in_bytes = len;
	job->auth_tag_output = tag;
	job->auth_tag_output_len_in_bytes = ESP_ICV_LEN;
	job->u.HMAC._hashed_auth_key_xor_ipad = sa->ipad_hash;
	job->u.HMAC._hashed_auth_key_xor_opad = sa->opad_hash;
	job = IMB_SUBMIT_JOB(ctx->mgr);
	if (job == NULL)
		job = IMB_FLUSH_JOB(ctx->mgr);
	return job != NULL && job->status == IMB_STATUS_COMPLETED ? 0 : -EIO;
}
