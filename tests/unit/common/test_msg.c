/* SPDX-License-Identifier: BSD-3-Clause */
/* Message module: round trips of every body kind, rejection of bad input. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/msg.h"
/* The test crafts invalid wire messages with the generated code directly. */
#include "vprn.pb-c.h"

static struct vprn_msg roundtrip(const struct vprn_msg *in)
{
	struct vprn_msg out;
	uint8_t *buf = NULL;
	size_t len = 0;

	assert_int_equal(vprn_msg_encode(in, &buf, &len), 0);
	assert_int_equal(vprn_msg_decode(buf, len, &out), 0);
	free(buf);
	assert_int_equal(out.type, in->type);
	assert_int_equal(out.seq, in->seq);
	assert_int_equal(out.version, VPRN_PROTOCOL_VERSION);
	return out;
}

static void test_hello(void **state)
{
	struct vprn_msg m, out;

	(void)state;
	vprn_msg_init(&m, VPRN_MSG_HELLO, 1);
	strcpy(m.u.hello.site, "hq");
	strcpy(m.u.hello.software, "vprn-ed 0.1.0");
	m.u.hello.wan_addr = 0x0a640102;
	m.u.hello.lan_prefix = 0xc0a80100;
	m.u.hello.lan_prefix_len = 24;
	m.u.hello.caps.transforms[0] = VPRN_XFORM_AES_GCM_128;
	m.u.hello.caps.transforms[1] = VPRN_XFORM_AES_CBC_256_HMAC_SHA256;
	m.u.hello.caps.n_transforms = 2;
	m.u.hello.caps.group_sa = true;
	m.u.hello.boot_id = 0x1122334455667788ull;
	m.u.hello.state_digest_len = 32;
	memset(m.u.hello.state_digest, 0xab, 32);
	out = roundtrip(&m);
	assert_string_equal(out.u.hello.site, "hq");
	assert_string_equal(out.u.hello.software, "vprn-ed 0.1.0");
	assert_int_equal(out.u.hello.wan_addr, 0x0a640102);
	assert_int_equal(out.u.hello.lan_prefix_len, 24);
	assert_int_equal(out.u.hello.caps.n_transforms, 2);
	assert_int_equal(out.u.hello.caps.transforms[1], VPRN_XFORM_AES_CBC_256_HMAC_SHA256);
	assert_true(out.u.hello.caps.group_sa);
	assert_int_equal(out.u.hello.boot_id, 0x1122334455667788ull);
	assert_memory_equal(out.u.hello.state_digest, m.u.hello.state_digest, 32);
	vprn_msg_free(&out);
}

static void test_welcome(void **state)
{
	struct vprn_peer peers[3];
	struct vprn_msg m, out;

	(void)state;
	memset(peers, 0, sizeof(peers));
	for (int i = 0; i < 3; i++) {
		snprintf(peers[i].site, sizeof(peers[i].site), "br%d", i + 1);
		peers[i].site_id = (uint32_t)i + 2;
		peers[i].wan_addr = 0x0a640002 + ((uint32_t)i << 8);
	}
	peers[1].has_probe_key = true;
	memset(peers[1].probe_key, 0x5a, VPRN_PROBE_KEY_LEN);
	vprn_msg_init(&m, VPRN_MSG_WELCOME, 7);
	m.u.welcome.site_id = 1;
	strcpy(m.u.welcome.vpn, "acme");
	m.u.welcome.refresh_interval_ms = 2000;
	m.u.welcome.hold_time_ms = 6000;
	m.u.welcome.peers = peers;
	m.u.welcome.n_peers = 3;
	out = roundtrip(&m);
	assert_true(out.owned);
	assert_string_equal(out.u.welcome.vpn, "acme");
	assert_int_equal(out.u.welcome.n_peers, 3);
	assert_string_equal(out.u.welcome.peers[2].site, "br3");
	assert_int_equal(out.u.welcome.peers[2].wan_addr, peers[2].wan_addr);
	assert_false(out.u.welcome.peers[0].has_probe_key);
	assert_true(out.u.welcome.peers[1].has_probe_key);
	assert_memory_equal(out.u.welcome.peers[1].probe_key, peers[1].probe_key, 32);
	vprn_msg_free(&out);
}

static void test_refresh_and_join_result(void **state)
{
	struct vprn_membership ms[2];
	struct vprn_msg m, out;

	(void)state;
	memset(ms, 0, sizeof(ms));
	ms[0] = (struct vprn_membership){
		.group = 0xef010101, .role = VPRN_ROLE_RECEIVER, .filter_mode = VPRN_FILTER_EXCLUDE
	};
	ms[1] = (struct vprn_membership){ .group = 0xef010102,
		.role = VPRN_ROLE_SENDER,
		.filter_mode = VPRN_FILTER_INCLUDE,
		.n_sources = 1 };
	ms[1].sources[0] = 0xc0a8010a;
	vprn_msg_init(&m, VPRN_MSG_REFRESH, 3);
	m.u.refresh.memberships = ms;
	m.u.refresh.n_memberships = 2;
	out = roundtrip(&m);
	assert_int_equal(out.u.refresh.n_memberships, 2);
	assert_int_equal(out.u.refresh.memberships[1].sources[0], 0xc0a8010a);
	assert_int_equal(out.u.refresh.memberships[1].role, VPRN_ROLE_SENDER);
	vprn_msg_free(&out);

	vprn_msg_init(&m, VPRN_MSG_JOIN_RESULT, 4);
	m.u.join_result.m = ms[0];
	m.u.join_result.granted = false;
	m.u.join_result.reason = VPRN_REFUSE_NO_POLICY;
	strcpy(m.u.join_result.text, "no policy covers 239.1.1.1");
	out = roundtrip(&m);
	assert_false(out.u.join_result.granted);
	assert_int_equal(out.u.join_result.reason, VPRN_REFUSE_NO_POLICY);
	assert_string_equal(out.u.join_result.text, "no policy covers 239.1.1.1");
	vprn_msg_free(&out);
}

static void test_tree_and_sa(void **state)
{
	struct vprn_neighbour nb = {
		.site = "br1", .site_id = 2, .wan_addr = 0x0a640202, .out_spi = 0x1000
	};
	struct vprn_msg m, out;

	(void)state;
	vprn_msg_init(&m, VPRN_MSG_TREE_UPDATE, 9);
	m.u.tree_update = (struct vprn_tree_update){ .group = 0xef000001,
		.version = 5,
		.kind = VPRN_TREE_SHARED,
		.sa_mode = VPRN_SA_GROUP,
		.transform = VPRN_XFORM_AES_GCM_256,
		.neighbours = &nb,
		.n_neighbours = 1,
		.local_receivers = true };
	out = roundtrip(&m);
	assert_int_equal(out.u.tree_update.version, 5);
	assert_int_equal(out.u.tree_update.sa_mode, VPRN_SA_GROUP);
	assert_string_equal(out.u.tree_update.neighbours[0].site, "br1");
	assert_int_equal(out.u.tree_update.neighbours[0].out_spi, 0x1000);
	vprn_msg_free(&out);

	vprn_msg_init(&m, VPRN_MSG_SA_INSTALL, 10);
	m.u.sa_install.spi = 0x12345;
	m.u.sa_install.direction = VPRN_DIR_INBOUND;
	m.u.sa_install.transform = VPRN_XFORM_AES_GCM_128;
	m.u.sa_install.key_len = 16;
	memset(m.u.sa_install.key, 0x11, 16);
	m.u.sa_install.salt_len = 4;
	memset(m.u.sa_install.salt, 0x22, 4);
	m.u.sa_install.lifetime.hard_seconds = 3600;
	m.u.sa_install.replay_window = 1024;
	out = roundtrip(&m);
	assert_int_equal(out.u.sa_install.spi, 0x12345);
	assert_int_equal(out.u.sa_install.key_len, 16);
	assert_memory_equal(out.u.sa_install.key, m.u.sa_install.key, 16);
	assert_int_equal(out.u.sa_install.lifetime.hard_seconds, 3600);
	vprn_msg_free(&out);

	/* CBC transform with a GCM-style salt: refused at encode time. */
	m.u.sa_install.transform = VPRN_XFORM_AES_CBC_128_HMAC_SHA256;
	{
		uint8_t *buf = NULL;
		size_t len;

		assert_int_equal(vprn_msg_encode(&m, &buf, &len), -EINVAL);
		assert_null(buf);
	}
}

static void test_small_bodies(void **state)
{
	struct vprn_msg m, out;

	(void)state;
	vprn_msg_init(&m, VPRN_MSG_ACK, 11);
	m.u.ack.ref_seq = 10;
	m.u.ack.status = VPRN_ACK_FAILED;
	strcpy(m.u.ack.text, "no room");
	out = roundtrip(&m);
	assert_int_equal(out.u.ack.ref_seq, 10);
	assert_int_equal(out.u.ack.status, VPRN_ACK_FAILED);
	vprn_msg_free(&out);

	vprn_msg_init(&m, VPRN_MSG_ERROR, 12);
	m.u.error.code = VPRN_ERR_REPLACED;
	out = roundtrip(&m);
	assert_int_equal(out.u.error.code, VPRN_ERR_REPLACED);
	vprn_msg_free(&out);

	vprn_msg_init(&m, VPRN_MSG_KEEPALIVE, 13);
	m.u.keepalive.tsc_echo = 42;
	out = roundtrip(&m);
	assert_int_equal(out.u.keepalive.tsc_echo, 42);
	vprn_msg_free(&out);
}

/* Pack a hand-made envelope and return decode's verdict. */
static int decode_env(Vprn__Envelope *env)
{
	uint8_t buf[512];
	struct vprn_msg out;
	size_t n = vprn__envelope__get_packed_size(env);
	int rc;

	assert_true(n <= sizeof(buf));
	vprn__envelope__pack(env, buf);
	rc = vprn_msg_decode(buf, n, &out);
	if (rc == 0)
		vprn_msg_free(&out);
	return rc;
}

static void test_bad_enums(void **state)
{
	Vprn__Envelope env = VPRN__ENVELOPE__INIT;
	Vprn__Join join = VPRN__JOIN__INIT;
	Vprn__Membership mb = VPRN__MEMBERSHIP__INIT;
	Vprn__Ack ack = VPRN__ACK__INIT;

	(void)state;
	env.version = 1;
	env.seq = 1;
	env.body_case = VPRN__ENVELOPE__BODY_JOIN;
	env.join = &join;
	join.m = &mb;
	mb.group = 0xef010101;
	mb.filter_mode = VPRN__FILTER_MODE__FILTER_MODE_EXCLUDE;
	mb.role = VPRN__ROLE__ROLE_RECEIVER;
	assert_int_equal(decode_env(&env), 0);
	mb.role = VPRN__ROLE__ROLE_UNSPECIFIED;
	assert_int_equal(decode_env(&env), -EPROTO);
	mb.role = (Vprn__Role)7;
	assert_int_equal(decode_env(&env), -EPROTO);
	mb.role = VPRN__ROLE__ROLE_SENDER;
	mb.group = 0x0a000001; /* not multicast */
	assert_int_equal(decode_env(&env), -EPROTO);
	mb.group = 0xef010101;
	join.m = NULL; /* missing membership */
	assert_int_equal(decode_env(&env), -EPROTO);
	join.m = &mb;
	env.version = 2;
	assert_int_equal(decode_env(&env), -EPROTO);
	env.version = 1;
	env.seq = 0;
	assert_int_equal(decode_env(&env), -EPROTO);
	env.seq = 1;

	env.body_case = VPRN__ENVELOPE__BODY_ACK;
	env.ack = &ack;
	ack.ref_seq = 1;
	ack.status = (Vprn__AckStatus)99;
	assert_int_equal(decode_env(&env), -EPROTO);
	ack.status = VPRN__ACK_STATUS__ACK_OK;
	assert_int_equal(decode_env(&env), 0);

	env.body_case = VPRN__ENVELOPE__BODY__NOT_SET;
	assert_int_equal(decode_env(&env), -EPROTO);
}

static void test_bad_strings_and_bytes(void **state)
{
	Vprn__Envelope env = VPRN__ENVELOPE__INIT;
	Vprn__Hello hello = VPRN__HELLO__INIT;
	char longname[100];
	uint8_t digest[40] = { 0 };

	(void)state;
	env.version = 1;
	env.seq = 1;
	env.body_case = VPRN__ENVELOPE__BODY_HELLO;
	env.hello = &hello;
	hello.site = (char *)"hq";
	assert_int_equal(decode_env(&env), 0);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	hello.site = longname;
	assert_int_equal(decode_env(&env), -EPROTO);
	hello.site = (char *)"";
	assert_int_equal(decode_env(&env), -EPROTO);
	hello.site = (char *)"h q";
	assert_int_equal(decode_env(&env), -EPROTO);
	hello.site = (char *)"hq";
	hello.state_digest.data = digest;
	hello.state_digest.len = sizeof(digest);
	assert_int_equal(decode_env(&env), -EPROTO);
	hello.state_digest.len = 32;
	hello.lan_prefix_len = 33;
	assert_int_equal(decode_env(&env), -EPROTO);
}

static void test_garbage(void **state)
{
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x12, 0x34 };
	struct vprn_msg out;

	(void)state;
	assert_int_equal(vprn_msg_decode(garbage, sizeof(garbage), &out), -EBADMSG);
	assert_int_equal(vprn_msg_decode(garbage, 0, &out), -EPROTO); /* empty = no body */
}

/* vprn_msg_validate(): one row per rule, each breaking exactly one thing. */
static void set_sa(
	struct vprn_msg *m, enum vprn_transform t, uint32_t key, uint32_t salt, uint32_t auth)
{
	vprn_msg_init(m, VPRN_MSG_SA_INSTALL, 1);
	m->u.sa_install.spi = 0x1000;
	m->u.sa_install.direction = VPRN_DIR_INBOUND;
	m->u.sa_install.transform = t;
	m->u.sa_install.key_len = key;
	m->u.sa_install.salt_len = salt;
	m->u.sa_install.auth_key_len = auth;
}

static void test_validate_sa_keys(void **state)
{
	static const struct {
		enum vprn_transform t;
		uint32_t key, salt, auth;
		int rc;
	} rows[] = {
		{ VPRN_XFORM_AES_GCM_128, 16, 4, 0, 0 },
		{ VPRN_XFORM_AES_GCM_256, 32, 4, 0, 0 },
		{ VPRN_XFORM_AES_CBC_128_HMAC_SHA256, 16, 0, 32, 0 },
		{ VPRN_XFORM_AES_CBC_256_HMAC_SHA256, 32, 0, 32, 0 },
		{ VPRN_XFORM_AES_GCM_128, 32, 4, 0, -EPROTO },		    /* key of GCM-256 */
		{ VPRN_XFORM_AES_GCM_256, 32, 0, 0, -EPROTO },		    /* no salt */
		{ VPRN_XFORM_AES_GCM_128, 16, 4, 32, -EPROTO },		    /* auth key with GCM */
		{ VPRN_XFORM_AES_CBC_128_HMAC_SHA256, 16, 0, 16, -EPROTO }, /* short auth key */
		{ VPRN_XFORM_AES_CBC_256_HMAC_SHA256, 32, 4, 32, -EPROTO }, /* salt with CBC */
		{ (enum vprn_transform)0, 16, 4, 0, -EPROTO },
		{ (enum vprn_transform)5, 16, 4, 0, -EPROTO },
	};
	struct vprn_msg m;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		set_sa(&m, rows[i].t, rows[i].key, rows[i].salt, rows[i].auth);
		if (vprn_msg_validate(&m, NULL) != rows[i].rc)
			fail_msg("row %zu", i);
	}
	set_sa(&m, VPRN_XFORM_AES_GCM_128, 16, 4, 0);
	m.u.sa_install.spi = 255; /* RFC 4303 2.1: 1..255 reserved */
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);
	m.u.sa_install.spi = 256;
	m.u.sa_install.direction = (enum vprn_direction)3;
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);
}

static void test_validate_rules(void **state)
{
	struct vprn_neighbour nb = { .site = "br1", .wan_addr = 0x0a640202 };
	struct vprn_msg m;
	const char *why = NULL;

	(void)state;
	/* tree update: a removal may leave kind/mode/transform unspecified */
	vprn_msg_init(&m, VPRN_MSG_TREE_UPDATE, 1);
	m.u.tree_update.group = 0xef000001;
	m.u.tree_update.version = 2;
	m.u.tree_update.removed = true;
	assert_int_equal(vprn_msg_validate(&m, NULL), 0);
	m.u.tree_update.removed = false;
	assert_int_equal(vprn_msg_validate(&m, &why), -EPROTO);
	assert_string_equal(why, "tree kind invalid");
	m.u.tree_update.kind = VPRN_TREE_SHARED;
	m.u.tree_update.sa_mode = VPRN_SA_PAIRWISE;
	m.u.tree_update.transform = VPRN_XFORM_AES_GCM_128;
	m.u.tree_update.neighbours = &nb;
	m.u.tree_update.n_neighbours = 1;
	assert_int_equal(vprn_msg_validate(&m, NULL), 0);
	nb.wan_addr = 0xe0000001; /* multicast neighbour */
	assert_int_equal(vprn_msg_validate(&m, &why), -EPROTO);
	assert_string_equal(why, "neighbour address not unicast");
	m.u.tree_update.n_neighbours = VPRN_MSG_MAX_NEIGHBOURS + 1;
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);

	/* welcome: hold time at least the refresh interval */
	vprn_msg_init(&m, VPRN_MSG_WELCOME, 1);
	m.u.welcome.refresh_interval_ms = 2000;
	m.u.welcome.hold_time_ms = 1999;
	assert_int_equal(vprn_msg_validate(&m, &why), -EPROTO);
	assert_string_equal(why, "welcome hold time < refresh interval");

	/* join result: granted iff no reason */
	vprn_msg_init(&m, VPRN_MSG_JOIN_RESULT, 1);
	m.u.join_result.m.group = 0xef000001;
	m.u.join_result.m.role = VPRN_ROLE_RECEIVER;
	m.u.join_result.m.filter_mode = VPRN_FILTER_EXCLUDE;
	m.u.join_result.granted = true;
	m.u.join_result.reason = VPRN_REFUSE_NO_POLICY;
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);
	m.u.join_result.granted = false;
	assert_int_equal(vprn_msg_validate(&m, NULL), 0);
	m.u.join_result.reason = VPRN_REFUSE_NONE;
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);

	/* membership: INCLUDE needs sources, sources are unicast */
	vprn_msg_init(&m, VPRN_MSG_JOIN, 1);
	m.u.join.m.group = 0xef000001;
	m.u.join.m.role = VPRN_ROLE_RECEIVER;
	m.u.join.m.filter_mode = VPRN_FILTER_INCLUDE;
	assert_int_equal(vprn_msg_validate(&m, &why), -EPROTO);
	assert_string_equal(why, "include filter without sources");
	m.u.join.m.n_sources = 1;
	m.u.join.m.sources[0] = 0xef000002;
	assert_int_equal(vprn_msg_validate(&m, &why), -EPROTO);
	assert_string_equal(why, "source not unicast");
	m.u.join.m.sources[0] = 0xc0a80102;
	assert_int_equal(vprn_msg_validate(&m, NULL), 0);
	m.u.join.m.group = 0xdfffffff; /* just below 224/4 */
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);

	/* metrics: loss is parts per million */
	{
		struct vprn_peer_metric pm = { .site = "br1", .loss_ppm = 1000001 };

		vprn_msg_init(&m, VPRN_MSG_METRICS, 1);
		m.u.metrics.peers = &pm;
		m.u.metrics.n_peers = 1;
		assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);
		pm.loss_ppm = 1000000;
		assert_int_equal(vprn_msg_validate(&m, NULL), 0);
	}
	/* no body */
	vprn_msg_init(&m, VPRN_MSG_NONE, 1);
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);
	vprn_msg_init(&m, VPRN_MSG_TYPE_COUNT, 1);
	assert_int_equal(vprn_msg_validate(&m, NULL), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_welcome),
		cmocka_unit_test(test_refresh_and_join_result),
		cmocka_unit_test(test_tree_and_sa),
		cmocka_unit_test(test_small_bodies),
		cmocka_unit_test(test_bad_enums),
		cmocka_unit_test(test_bad_strings_and_bytes),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_validate_sa_keys),
		cmocka_unit_test(test_validate_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
