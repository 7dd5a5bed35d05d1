/* SPDX-License-Identifier: BSD-3-Clause */
/* vprn-wanem without sockets: delay line order, control parser, routing, ARP. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wanem.h"
#include "wanem_ctl.h"

static const uint8_t mac_s1[6] = { 2, 0, 0, 0, 1, 2 };
static const uint8_t mac_s2[6] = { 2, 0, 0, 0, 2, 2 };

static struct wanem *mk(void)
{
	struct wanem *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(wanem_link_parse(w, "s1=v1,10.100.1.1/24"), 0);
	assert_int_equal(wanem_link_parse(w, "s2=v2,10.100.2.1/24"), 0);
	assert_int_equal(wanem_link_parse(w, "s3=v3,10.100.3.1/24"), 0);
	assert_int_equal(wanem_pairs_init(w), 0);
	assert_int_equal(wanem_queue_init(&w->queue, 1000), 0);
	w->rng = 42;
	for (unsigned int i = 0; i < w->n_links; i++) {
		w->links[i].mac[0] = 0x02;
		w->links[i].mac[5] = (uint8_t)(0x10 + i);
	}
	return w;
}

static void rm(struct wanem *w)
{
	wanem_flush(w);
	free(w->pairs);
	free(w);
}

static const char *exec(struct wanem *w, const char *line, struct wanem_out *o)
{
	o->len = 0;
	wanem_ctl_exec(w, line, o);
	wanem_out_printf(o, "%s", ""); /* NUL-terminate even when empty */
	return o->buf;
}

static void test_link_parse(void **state)
{
	static const struct {
		const char *spec;
		int ok;
	} rows[] = {
		{ "a=eth0,10.0.0.1/24", 1 },
		{ "a=eth0,10.0.0.1", 0 },
		{ "=eth0,10.0.0.1/24", 0 },
		{ "a=,10.0.0.1/24", 0 },
		{ "a=eth0,10.0.0.300/24", 0 },
		{ "a=eth0,10.0.0.1/33", 0 },
		{ "a=eth0,10.0.0.1/24x", 0 },
		{ "a b=eth0,10.0.0.1/24", 0 },
		{ "a=averyveryverylongifname,10.0.0.1/24", 0 },
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct wanem *w = calloc(1, sizeof(*w));

		assert_int_equal(wanem_link_parse(w, rows[i].spec) == 0, rows[i].ok);
		free(w);
	}
}

static void test_queue_order(void **state)
{
	struct wanem_queue q;
	static const uint64_t due[] = { 50, 10, 30, 10, 20, 50, 10 };
	uint64_t last_due = 0, last_seq = 0;

	(void)state;
	assert_int_equal(wanem_queue_init(&q, 6), 0);
	for (size_t i = 0; i < 7; i++) {
		struct wanem_pkt *p = wanem_pkt_alloc(1);

		p->due_ns = due[i];
		if (i < 6)
			assert_int_equal(wanem_queue_push(&q, p), 0);
		else {
			assert_int_equal(wanem_queue_push(&q, p), -ENOBUFS);
			wanem_pkt_free(p);
		}
	}
	for (size_t i = 0; i < 6; i++) {
		struct wanem_pkt *p = wanem_queue_pop(&q);

		assert_non_null(p);
		assert_true(p->due_ns >= last_due);
		if (p->due_ns == last_due)
			assert_true(p->seq > last_seq); /* equal due times keep arrival order */
		last_due = p->due_ns;
		last_seq = p->seq;
		wanem_pkt_free(p);
	}
	assert_null(wanem_queue_pop(&q));
	wanem_queue_fini(&q);
}

static void test_ctl(void **state)
{
	static const struct {
		const char *line;
		const char *answer_prefix;
	} rows[] = {
		{ "delay s1 s2 10", "ok" },
		{ "delay s1 s2 10 2 5.5", "ok" },
		{ "delay * * 0", "ok" },
		{ "sym s1 s3 20 0 1", "ok" },
		{ "loss s2 s3 100", "ok" },
		{ "delay s1 s9 10", "error: unknown site" },
		{ "delay s1 s2 -1", "error: bad number" },
		{ "delay s1 s2 nan", "error: bad number" },
		{ "delay s1 s2 1e3", "error: bad number" },
		{ "delay s1 s2 60001", "error: bad number" },
		{ "delay s1 s2 10 1 101", "error: bad number" },
		{ "delay s1 s2", "error: usage" },
		{ "delay s1 s2 1 2 3 4", "error: usage" },
		{ "loss s1 s2", "error: usage" },
		{ "", "error: empty" },
		{ "frobnicate", "error: unknown" },
		{ "a b c d e f g h i j", "error: too many" },
		{ "show", "link s1 v1 10.100.1.1/24" },
		{ "stats json", "{\"queue\": 0" },
		{ "quit", "ok" },
	};
	struct wanem *w = mk();
	struct wanem_out o = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const char *a = exec(w, rows[i].line, &o);

		if (strncmp(a, rows[i].answer_prefix, strlen(rows[i].answer_prefix)) != 0)
			fail_msg("'%s' -> '%s'", rows[i].line, a);
	}
	/* sym s1 s3 20 0 1 set both directions; loss s2 s3 kept the delay. */
	assert_int_equal(wanem_pair(w, 2, 0)->delay_ns, 20000000);
	assert_true(wanem_pair(w, 1, 2)->loss == 1.0);
	exec(w, "stats", &o);
	assert_non_null(strstr(o.buf, "queue 0\nok\n"));
	wanem_out_free(&o);
	rm(w);
}

/* An Ethernet + IPv4 + UDP frame from s1's ED (10.100.1.2) to s2's ED (10.100.2.2). */
static size_t udp_frame(const struct wanem *w, uint8_t *f, uint8_t ttl, uint8_t fill)
{
	uint8_t *ip = f + 14;

	memset(f, 0, 128);
	memcpy(f, w->links[0].mac, 6);
	memcpy(f + 6, mac_s1, 6);
	f[12] = 0x08;
	ip[0] = 0x45;
	ip[3] = 20 + 8 + 64;
	ip[8] = ttl;
	ip[9] = 17;
	memcpy(ip + 12, (uint8_t[]){ 10, 100, 1, 2, 10, 100, 2, 2 }, 8);
	memset(ip + 28, fill, 64);
	return 14 + 20 + 8 + 64;
}

static size_t arp_reply_s2(const struct wanem *w, uint8_t *f)
{
	uint8_t *a = f + 14;

	memcpy(f, w->links[1].mac, 6);
	memcpy(f + 6, mac_s2, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(a, (uint8_t[]){ 0, 1, 8, 0, 6, 4, 0, 2 }, 8);
	memcpy(a + 8, mac_s2, 6);
	memcpy(a + 14, (uint8_t[]){ 10, 100, 2, 2 }, 4);
	memcpy(a + 18, w->links[1].mac, 6);
	memcpy(a + 24, (uint8_t[]){ 10, 100, 2, 1 }, 4);
	return 42;
}

static void test_route(void **state)
{
	struct wanem *w = mk();
	uint8_t f[128];
	size_t len;

	(void)state;
	/* 100% loss: nothing is queued, every packet counted as lost. */
	assert_int_equal(wanem_set_pair(w, "s1", "s2", 5, 0, 100), 0);
	for (int i = 0; i < 10; i++) {
		len = udp_frame(w, f, 64, 0xaa);
		wanem_route(w, 0, f, len, 1000);
	}
	assert_int_equal(wanem_pair(w, 0, 1)->lost, 10);
	assert_int_equal(w->queue.n, 0);
	/* 0% loss, 5 ms: queued, not yet due, then due but s2 unresolved -> ARP. */
	assert_int_equal(wanem_set_pair(w, "s1", "s2", 5, 0, 0), 0);
	for (int i = 0; i < 10; i++) {
		len = udp_frame(w, f, 64, (uint8_t)i);
		wanem_route(w, 0, f, len, 1000);
	}
	assert_int_equal(w->queue.n, 10);
	wanem_tx_due(w, 1000 + 4999999);
	assert_int_equal(w->queue.n, 10);
	wanem_tx_due(w, 1000 + 5000000);
	assert_int_equal(w->queue.n, 0);
	assert_int_equal(w->links[1].n_pend, 10);
	assert_true(w->links[1].st.arp_tx >= 1);
	/* The ARP reply releases them; TTL went 64 -> 63. */
	len = arp_reply_s2(w, f);
	wanem_route(w, 1, f, len, 6000000);
	assert_int_equal(w->links[1].n_pend, 0);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_pkts, 10);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_udp, 10);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_esp, 0);
	/* The same frame as ESP (protocol 50) is counted as ESP. */
	len = udp_frame(w, f, 64, 0);
	f[14 + 9] = 50;
	wanem_route(w, 0, f, len, 7000000);
	wanem_tx_due(w, 7000000 + 5000000);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_esp, 1);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_pkts, 11);
	assert_int_equal(w->links[1].st.tx_pkts, 11 + w->links[1].st.arp_tx);
	/* UDP to the probe port is a probe, from it too; other ports stay UDP. */
	w->probe_port = 7801;
	for (int i = 0; i < 3; i++) {
		len = udp_frame(w, f, 64, 0);
		f[14 + 20 + (i == 1 ? 0 : 2)] = 7801 >> 8;
		f[14 + 20 + (i == 1 ? 1 : 3)] = 7801 & 0xff;
		if (i == 2)
			f[14 + 20 + 3] ^= 1; /* port 7800: plain UDP */
		wanem_route(w, 0, f, len, 8000000);
	}
	wanem_tx_due(w, 8000000 + 5000000);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_probe, 2);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_udp, 11);
	assert_int_equal(wanem_pair(w, 0, 1)->fwd_pkts, 14);
	/* TTL 1, unknown destination, foreign MAC, same link: dropped with reasons. */
	len = udp_frame(w, f, 1, 0);
	wanem_route(w, 0, f, len, 0);
	assert_int_equal(w->links[0].st.drops[WANEM_DROP_ttl], 1);
	len = udp_frame(w, f, 64, 0);
	f[14 + 16] = 192;
	wanem_route(w, 0, f, len, 0);
	assert_int_equal(w->links[0].st.drops[WANEM_DROP_no_route], 1);
	len = udp_frame(w, f, 64, 0);
	f[0] = 0x04;
	wanem_route(w, 0, f, len, 0);
	assert_int_equal(w->links[0].st.drops[WANEM_DROP_not_for_us], 1);
	len = udp_frame(w, f, 64, 0);
	f[14 + 18] = 1;
	wanem_route(w, 0, f, len, 0);
	assert_int_equal(w->links[0].st.drops[WANEM_DROP_no_route], 2);
	len = udp_frame(w, f, 64, 0);
	wanem_route(w, 0, f, 20, 0); /* truncated */
	assert_int_equal(w->links[0].st.drops[WANEM_DROP_bad_frame], 1);
	rm(w);
}

static void test_order_when_delay_lowered(void **state)
{
	struct wanem *w = mk();
	uint8_t f[128];
	size_t len;
	uint64_t t = 0;

	(void)state;
	assert_int_equal(wanem_set_pair(w, "s1", "s2", 100, 0, 0), 0);
	len = udp_frame(w, f, 64, 1);
	wanem_route(w, 0, f, len, t);
	assert_int_equal(wanem_set_pair(w, "s1", "s2", 1, 0, 0), 0);
	len = udp_frame(w, f, 64, 2);
	wanem_route(w, 0, f, len, t + 1000);
	/* The second packet may not overtake the first one. */
	assert_int_equal(wanem_queue_peek(&w->queue)->data[14 + 28], 1);
	assert_true(w->queue.heap[0]->due_ns <= w->queue.heap[1]->due_ns);
	rm(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_parse),
		cmocka_unit_test(test_queue_order),
		cmocka_unit_test(test_ctl),
		cmocka_unit_test(test_route),
		cmocka_unit_test(test_order_when_delay_lowered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
