/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Probe module (control/ed_probe.c) with an injected clock and a captured
 * send function: two EDs talk to each other through the test. RTT per
 * RFC 6298 (exact values), bad MAC, replays of requests and echoes, wrong
 * receiver, unknown peer, every truncation, loss and late echoes, the
 * MetricsReport content, keys gone from memory once their peer is gone.
 */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/ed_probe.h"

#define PORT 7801
#define WAN_A 0x0a640102u
#define WAN_B 0x0a640202u
#define WAN_C 0x0a640302u
#define MS 1000000ull

struct sent {
	uint32_t dst;
	uint8_t pl[ED_PROBE_LEN];
	size_t len;
};

struct node {
	struct ed_probe *p;
	uint64_t now;
	struct sent q[64];
	unsigned int n;
	int fail; /* next sends return this */
};

static struct node A, B;
static uint8_t key_ab[32], key_ac[32];

static int cap_send(void *ctx, uint32_t dst, const uint8_t *pl, size_t len)
{
	struct node *nd = ctx;

	if (nd->fail != 0)
		return nd->fail;
	assert_true(nd->n < 64);
	assert_int_equal(len, ED_PROBE_LEN);
	nd->q[nd->n].dst = dst;
	memcpy(nd->q[nd->n].pl, pl, len);
	nd->q[nd->n].len = len;
	nd->n++;
	return 0;
}

static uint64_t clk(void *ctx)
{
	return ((struct node *)ctx)->now;
}

/* IPv4 + UDP around a payload; returns the packet length. */
static size_t wrap(
	uint8_t *ip, uint32_t src, uint32_t dst, uint16_t port, const uint8_t *pl, size_t plen)
{
	size_t tot = 20 + 8 + plen;

	memset(ip, 0, 28);
	ip[0] = 0x45;
	ip[2] = (uint8_t)(tot >> 8);
	ip[3] = (uint8_t)tot;
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 17;
	for (int i = 0; i < 4; i++) {
		ip[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		ip[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	ip[20] = ip[22] = (uint8_t)(port >> 8);
	ip[21] = ip[23] = (uint8_t)port;
	ip[24] = (uint8_t)((8 + plen) >> 8);
	ip[25] = (uint8_t)(8 + plen);
	memcpy(ip + 28, pl, plen);
	return tot;
}

static void deliver(struct node *to, const struct sent *s, uint32_t src, uint64_t rx)
{
	uint8_t ip[128];
	size_t len = wrap(ip, src, s->dst, PORT, s->pl, s->len);

	ed_probe_input(to->p, ip, len, rx);
}

static void node_init(struct node *nd, uint32_t my_id)
{
	struct ed_probe_params par = { .port = PORT,
		.send = cap_send,
		.send_ctx = nd,
		.now_ns = clk,
		.clock_ctx = nd,
		.seq0 = 1000 };
	struct vprn_peer peers[2] = { 0 };

	memset(nd, 0, sizeof(*nd));
	nd->p = ed_probe_new(&par);
	assert_non_null(nd->p);
	if (my_id == 1) {
		strcpy(peers[0].site, "br");
		peers[0].site_id = 2;
		peers[0].wan_addr = WAN_B;
		memcpy(peers[0].probe_key, key_ab, 32);
		peers[0].has_probe_key = true;
		strcpy(peers[1].site, "c");
		peers[1].site_id = 3;
		peers[1].wan_addr = WAN_C;
		memcpy(peers[1].probe_key, key_ac, 32);
		peers[1].has_probe_key = true;
		assert_int_equal(ed_probe_set_peers(nd->p, 1, peers, 2, 1000), 0);
	} else {
		strcpy(peers[0].site, "hq");
		peers[0].site_id = 1;
		peers[0].wan_addr = WAN_A;
		memcpy(peers[0].probe_key, key_ab, 32);
		peers[0].has_probe_key = true;
		assert_int_equal(ed_probe_set_peers(nd->p, 2, peers, 1, 1000), 0);
	}
}

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++) {
		key_ab[i] = (uint8_t)(0xa0 + i);
		key_ac[i] = (uint8_t)(0x30 + 3 * i);
	}
	node_init(&A, 1);
	node_init(&B, 2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ed_probe_free(A.p);
	ed_probe_free(B.p);
	return 0;
}

/* A's request to B (peer 0), sent at A.now. */
static struct sent a_request(void)
{
	A.n = 0;
	ed_probe_tick(A.p);
	for (unsigned int i = 0; i < A.n; i++)
		if (A.q[i].dst == WAN_B)
			return A.q[i];
	fail_msg("no request to B");
	return A.q[0];
}

static struct ed_probe_peer_info peer_info(struct node *nd, uint32_t i)
{
	struct ed_probe_peer_info pi;

	assert_int_equal(ed_probe_peer(nd->p, i, &pi), 0);
	return pi;
}

/* One full exchange: request at t0, at B at t0+ow (handled hold later), echo back after ow. */
static void exchange(uint64_t t0, uint64_t ow, uint64_t hold)
{
	struct sent req, echo;

	A.now = t0;
	req = a_request();
	B.n = 0;
	B.now = t0 + ow + hold;
	deliver(&B, &req, WAN_A, t0 + ow);
	assert_int_equal(B.n, 1);
	echo = B.q[0];
	assert_int_equal(echo.dst, WAN_A);    /* the Welcome's address */
	A.now = t0 + 2 * ow + hold + 50 * MS; /* A's loop is slow: rx time counts */
	deliver(&A, &echo, WAN_B, t0 + 2 * ow + hold);
}

static void test_round_trip_rtt(void **state)
{
	struct vprn_peer_metric pm[4];
	struct ed_probe_peer_info pi;

	(void)state;
	exchange(0, 10 * MS, 5 * MS); /* RTT 20 ms, B held it 5 ms */
	pi = peer_info(&A, 0);
	assert_string_equal(pi.site, "br");
	assert_int_equal(pi.samples, 1);
	assert_int_equal(pi.srtt_us, 20000);
	assert_int_equal(pi.rttvar_us, 10000);
	exchange(1000 * MS, 15 * MS, 0); /* RTT 30 ms */
	pi = peer_info(&A, 0);
	assert_int_equal(pi.samples, 2);
	assert_int_equal(pi.rttvar_us, (3 * 10000 + 10000) / 4); /* RFC 6298 §2.3 */
	assert_int_equal(pi.srtt_us, (7 * 20000 + 30000) / 8);
	assert_int_equal(pi.echoes, 2);
	assert_int_equal(pi.loss_ppm, 0);
	assert_int_equal(peer_info(&B, 0).requests_rx, 2);
	/* only measured peers are reported (c never answered) */
	assert_int_equal(ed_probe_metrics(A.p, pm, 4), 1);
	assert_string_equal(pm[0].site, "br");
	assert_int_equal(pm[0].rtt_us, 21250);
	assert_int_equal(pm[0].rttvar_us, 10000);
	assert_int_equal(pm[0].samples, 2);
	assert_int_equal(pm[0].loss_ppm, 0);
}

static void test_bad_mac(void **state)
{
	struct sent req, forged;
	uint8_t wrong[32];

	(void)state;
	req = a_request();
	forged = req;
	forged.pl[ED_PROBE_LEN - 1] ^= 1; /* MAC bit */
	deliver(&B, &forged, WAN_A, 1);
	forged = req;
	forged.pl[20] ^= 0x80; /* seq bit, MAC unchanged */
	deliver(&B, &forged, WAN_A, 1);
	memset(wrong, 0x55, sizeof(wrong)); /* a whole probe under another key */
	ed_probe_encode(forged.pl, wrong, ED_PROBE_REQUEST, 1, 2, 5000, 1, 0);
	deliver(&B, &forged, WAN_A, 1);
	assert_int_equal(B.n, 0);
	assert_int_equal(ed_probe_counters(B.p)->bad_mac, 3);
	assert_int_equal(peer_info(&B, 0).bad_mac, 3);
	assert_int_equal(peer_info(&B, 0).requests_rx, 0);
	/* the genuine one still goes through */
	deliver(&B, &req, WAN_A, 1);
	assert_int_equal(B.n, 1);
}

static void test_replay_request(void **state)
{
	struct sent old, req;

	(void)state;
	old = a_request();
	deliver(&B, &old, WAN_A, 1);
	deliver(&B, &old, WAN_A, 2); /* replay */
	assert_int_equal(B.n, 1);
	assert_int_equal(peer_info(&B, 0).replay, 1);
	/* newer ones are fine, even out of order within the window */
	for (int i = 0; i < 3; i++) {
		A.now += 1000 * MS;
		req = a_request();
	}
	deliver(&B, &req, WAN_A, 3);
	A.now = 0;
	/* a genuine request far older than the window */
	ed_probe_encode(
		old.pl, key_ab, ED_PROBE_REQUEST, 1, 2, 1004 - ED_PROBE_REPLAY_WINDOW, 0, 0);
	deliver(&B, &old, WAN_A, 4);
	assert_int_equal(B.n, 2);
	assert_int_equal(peer_info(&B, 0).replay, 2);
	assert_int_equal(ed_probe_counters(B.p)->replay, 2);
}

static void test_replay_echo(void **state)
{
	struct sent req, echo, never;

	(void)state;
	req = a_request();
	deliver(&B, &req, WAN_A, 10 * MS);
	echo = B.q[0];
	deliver(&A, &echo, WAN_B, 20 * MS);
	deliver(&A, &echo, WAN_B, 30 * MS); /* replayed echo */
	assert_int_equal(peer_info(&A, 0).samples, 1);
	assert_int_equal(peer_info(&A, 0).replay, 1);
	/* an authentic-looking echo for a seq A never sent */
	never = echo;
	ed_probe_encode(never.pl, key_ab, ED_PROBE_ECHO, 2, 1, 999999, 0, 0);
	deliver(&A, &never, WAN_B, 40 * MS);
	/* a request reflected back to A as if it were an echo: wrong receiver */
	deliver(&A, &req, WAN_B, 40 * MS);
	assert_int_equal(peer_info(&A, 0).replay, 2);
	assert_int_equal(ed_probe_counters(A.p)->wrong_receiver, 1);
	assert_int_equal(peer_info(&A, 0).samples, 1);
	assert_int_equal(peer_info(&A, 0).srtt_us, 20000);
}

static void test_wrong_receiver_unknown_peer(void **state)
{
	struct sent s = { .dst = WAN_B, .len = ED_PROBE_LEN };

	(void)state;
	ed_probe_encode(s.pl, key_ab, ED_PROBE_REQUEST, 1, 9, 5000, 0, 0); /* not for B */
	deliver(&B, &s, WAN_A, 1);
	ed_probe_encode(s.pl, key_ab, ED_PROBE_REQUEST, 7, 2, 5000, 0, 0); /* B has no peer 7 */
	deliver(&B, &s, WAN_A, 1);
	ed_probe_encode(s.pl, key_ab, ED_PROBE_REQUEST, 2, 2, 5000, 0, 0); /* from itself */
	deliver(&B, &s, WAN_A, 1);
	assert_int_equal(ed_probe_counters(B.p)->wrong_receiver, 1);
	assert_int_equal(ed_probe_counters(B.p)->unknown_peer, 2);
	assert_int_equal(B.n, 0);
}

static void test_truncated_and_malformed(void **state)
{
	struct sent req;
	uint8_t ip[128], bad[ED_PROBE_LEN];
	size_t len, n = 0;

	(void)state;
	req = a_request();
	len = wrap(ip, WAN_A, WAN_B, PORT, req.pl, req.len);
	for (size_t l = 0; l < len; l++, n++)
		ed_probe_input(B.p, ip, l, 1);		 /* every truncation of the packet */
	for (size_t l = 0; l < ED_PROBE_LEN; l++, n++) { /* consistent headers, short payload */
		uint8_t t[128];

		ed_probe_input(B.p, t, wrap(t, WAN_A, WAN_B, PORT, req.pl, l), 1);
	}
	ed_probe_input(B.p, ip, wrap(ip, WAN_A, WAN_B, PORT + 1, req.pl, req.len), 1); /* port */
	n++;
	wrap(ip, WAN_A, WAN_B, PORT, req.pl, req.len);
	ip[9] = 6; /* TCP */
	ed_probe_input(B.p, ip, len, 1);
	n++;
	wrap(ip, WAN_A, WAN_B, PORT, req.pl, req.len);
	ip[6] = 0x20; /* a fragment */
	ed_probe_input(B.p, ip, len, 1);
	n++;
	const size_t offs[] = { 0, 4, 5, 6, 7 }; /* magic, version, type, reserved */
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++, n++) {
		memcpy(bad, req.pl, sizeof(bad));
		bad[offs[i]] ^= 0x40;
		ed_probe_input(B.p, ip, wrap(ip, WAN_A, WAN_B, PORT, bad, sizeof(bad)), 1);
	}
	assert_int_equal(ed_probe_counters(B.p)->malformed, n);
	assert_int_equal(B.n, 0);
	assert_int_equal(ed_probe_counters(B.p)->bad_mac, 0);
	ed_probe_input(B.p, NULL, 0, 1);
	assert_int_equal(ed_probe_counters(B.p)->malformed, n + 1);
}

static void test_loss_and_late(void **state)
{
	struct sent req[4], echo;
	struct vprn_peer_metric pm[2];
	struct ed_probe_peer_info pi;

	(void)state;
	/* answer #0 and #2 in time (10 ms), #3 after its deadline, never #1 */
	for (int i = 0; i < 4; i++) {
		A.now = (uint64_t)i * 1000 * MS;
		req[i] = a_request();
		if (i == 1)
			continue;
		B.n = 0;
		deliver(&B, &req[i], WAN_A, 0);
		echo = B.q[0];
		deliver(&A, &echo, WAN_B, (uint64_t)i * 1000 * MS + (i == 3 ? 1500 * MS : 10 * MS));
	}
	A.now = 3000 * MS + 1001 * MS;
	A.n = 0;
	ed_probe_tick(A.p);
	pi = peer_info(&A, 0);
	assert_int_equal(pi.echoes, 2);
	assert_int_equal(pi.samples, 2);
	assert_int_equal(pi.lost, 2);
	assert_int_equal(pi.late, 1);
	assert_int_equal(pi.loss_ppm, 500000);
	assert_int_equal(ed_probe_metrics(A.p, pm, 2), 1);
	assert_int_equal(pm[0].loss_ppm, 500000);
	/* the late echo again: seen once, now a replay */
	deliver(&A, &echo, WAN_B, 4500 * MS);
	assert_int_equal(peer_info(&A, 0).late, 1);
	assert_int_equal(peer_info(&A, 0).replay, 1);
}

static void test_send_failure_not_loss(void **state)
{
	struct ed_probe_peer_info pi;

	(void)state;
	A.fail = -EAGAIN;
	A.now = 0;
	ed_probe_tick(A.p);
	A.fail = 0;
	A.now = 5000 * MS;
	ed_probe_tick(A.p);
	pi = peer_info(&A, 0);
	assert_int_equal(pi.send_errors, 1);
	assert_int_equal(pi.tx, 1);
	assert_int_equal(pi.lost, 0);
}

static bool mem_has(const void *hay, size_t n, const uint8_t *needle)
{
	return memmem(hay, n, needle, 32) != NULL;
}

static void test_key_wipe(void **state)
{
	struct vprn_peer np = {
		.site = "c", .site_id = 3, .wan_addr = WAN_C, .has_probe_key = true
	};
	const void *raw;
	size_t len;

	(void)state;
	raw = ed_probe_raw(A.p, &len);
	assert_true(mem_has(raw, len, key_ab)); /* the scan can see keys */
	assert_true(mem_has(raw, len, key_ac));
	/* a new Welcome without "br", and "c" with a new key */
	memset(np.probe_key, 0x77, 32);
	assert_int_equal(ed_probe_set_peers(A.p, 1, &np, 1, 1000), 0);
	raw = ed_probe_raw(A.p, &len);
	assert_false(mem_has(raw, len, key_ab));
	assert_false(mem_has(raw, len, key_ac));
	assert_true(mem_has(raw, len, np.probe_key));
	assert_int_equal(ed_probe_n_peers(A.p), 1);
	ed_probe_clear(A.p);
	assert_false(mem_has(raw, len, np.probe_key));
	assert_int_equal(ed_probe_n_peers(A.p), 0);
	A.n = 0;
	ed_probe_tick(A.p);
	assert_int_equal(A.n, 0);
}

static void test_same_key_keeps_state(void **state)
{
	struct vprn_peer np = {
		.site = "br", .site_id = 2, .wan_addr = WAN_B, .has_probe_key = true
	};
	struct sent old;

	(void)state;
	exchange(0, 10 * MS, 0);
	A.now = 1000 * MS;
	old = a_request(); /* seq 1002 */
	deliver(&B, &old, WAN_A, 1);
	memcpy(np.probe_key, key_ab, 32);
	assert_int_equal(ed_probe_set_peers(A.p, 1, &np, 1, 1000), 0);
	np.site_id = 1;
	strcpy(np.site, "hq");
	np.wan_addr = WAN_A;
	assert_int_equal(ed_probe_set_peers(B.p, 2, &np, 1, 1000), 0);
	assert_int_equal(peer_info(&A, 0).samples, 1);
	B.n = 0;
	deliver(&B, &old, WAN_A, 2); /* replay still caught after a reconnect */
	assert_int_equal(B.n, 0);
	assert_int_equal(peer_info(&B, 0).replay, 1);
}

static void test_bad_params(void **state)
{
	struct ed_probe_params par = { .port = PORT };

	(void)state;
	assert_null(ed_probe_new(&par));
	par.send = cap_send;
	par.port = 0;
	assert_null(ed_probe_new(&par));
	assert_int_equal(ed_probe_set_peers(A.p, 0, NULL, 0, 1000), -EINVAL);
	assert_int_equal(ed_probe_set_peers(A.p, 1, NULL, 3, 1000), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip_rtt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_mac, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replay_echo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_receiver_unknown_peer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_and_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loss_and_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_failure_not_loss, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_wipe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_same_key_keeps_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_params, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
