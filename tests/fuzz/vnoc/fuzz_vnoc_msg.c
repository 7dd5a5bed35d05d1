/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer harness: ED messages into the VNOC service core.
 * Input: records [site (1 byte)][length (2 bytes, big endian)][envelope bytes].
 * Each envelope goes through the message module's decoder (as the session
 * would) and, if valid, into vnoc_core_handle() for the site (low 2 bits);
 * the high 4 bits of the site byte advance the clock (x 500 ms) before a poll,
 * so that expiry, debounce, retries and rekeys run too. Outgoing messages are
 * validated: the core must never produce an invalid message.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/msg.h"
#include "core.h"

static const char policy_text[] =
	"timers = { refresh_interval_ms = 500; hold_time_ms = 1500; startup_hold_ms = 0; };\n"
	"trees = { debounce_ms = 100; reoptimise_interval_ms = 2000; };\n"
	"keys = { ack_timeout_ms = 300; ack_retries = 1; retire_grace_ms = 500; };\n"
	"limits = { max_groups_per_site = 8; };\n"
	"vpns = ( { name = \"a\"; sites = ( { name = \"hq\"; wan = \"10.0.1.2\"; },\n"
	"  { name = \"br1\"; wan = \"10.0.2.2\"; }, { name = \"br2\"; wan = \"10.0.3.2\"; relay = "
	"false; } );\n"
	"  groups = ( { name = \"p\"; ranges = [\"239.1.0.0/16\"]; tree = \"shared\"; },\n"
	"             { name = \"g\"; ranges = [\"239.2.0.0/16\"]; sa_mode = \"group\"; tree = "
	"\"star\"; },\n"
	"             { name = \"s\"; ranges = [\"232.0.0.0/8\"]; tree = \"per-source\";\n"
	"               sources = [\"192.168.0.0/16\"]; receivers = [\"br1\", \"br2\"]; } ); },\n"
	"  { name = \"b\"; sites = ( { name = \"x\"; wan = \"10.0.4.2\"; } ); } );\n";

static uint64_t now;
static uint64_t seq;

static uint64_t fuzz_now(void *ctx)
{
	(void)ctx;
	return now;
}

static int fuzz_send(void *ctx, uint32_t site, struct vprn_msg *msg)
{
	const char *why;

	(void)ctx;
	if (site > 3)
		abort();
	msg->seq = ++seq;
	msg->version = VPRN_PROTOCOL_VERSION;
	if (vprn_msg_validate(msg, &why) != 0)
		abort(); /* the core built an invalid message */
	return site == 2 && (seq & 7) == 0 ? -ENOTCONN : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vnoc_policy_err err;
	struct vnoc_core_params p = { .policy = vnoc_policy_load_string(policy_text, &err),
		.clock = { fuzz_now, NULL },
		.out = { fuzz_send, NULL } };
	struct vnoc_core *c;
	size_t off = 0;

	vprn_log_init("fuzz", VPRN_LOG_ERR);
	now = 1000;
	seq = 0;
	c = vnoc_core_create(&p);
	if (c == NULL)
		abort();
	while (off + 3 <= size) {
		uint8_t site = data[off];
		size_t len = (size_t)data[off + 1] << 8 | data[off + 2];
		struct vprn_msg m;

		off += 3;
		if (len > size - off)
			len = size - off;
		if (vprn_msg_decode(data + off, len, &m) == 0) {
			(void)vnoc_core_handle(c, site & 3, &m);
			vprn_msg_free(&m);
		}
		off += len;
		now += (uint64_t)(site >> 4) * 500;
		vnoc_core_poll(c);
	}
	vnoc_core_destroy(c);
	return 0;
}
