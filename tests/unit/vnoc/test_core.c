/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "core.h"
#include "spi.h"
#include "outbox_rec.h"

#define G 0xef010001u /* 239.1.0.1 */

static const char *conf_fmt =
	"timers = { refresh_interval_ms = 1000; hold_time_ms = 3000; startup_hold_ms = %s; };\n"
	"trees = { debounce_ms = 100; reoptimise_interval_ms = 0; };\n"
	"keys = { ack_timeout_ms = 500; ack_retries = 1; retire_grace_ms = 1000; };\n"
	"vpns = ( { name = \"acme\";\n"
	"  sites = ( { name = \"hq\"; wan = \"10.100.1.2\"; max_degree = 8; relay = true; },\n"
	"            { name = \"br1\"; wan = \"10.100.2.2\"; }, { name = \"br2\"; wan = "
	"\"10.100.3.2\"; },\n"
	"            { name = \"lab\"; wan = \"10.100.4.2\"; } );\n"
	"  classes = ( { name = \"branches\"; sites = [%s]; } );\n"
	"  groups = ( { name = \"feed\"; ranges = [\"239.1.0.0/16\"]; senders = [\"hq\"];\n"
	"               receivers = [\"@branches\"]; tree = \"star\"; },\n"
	"             { name = \"ssm\"; ranges = [\"232.0.0.0/8\"]; tree = \"per-source\";\n"
	"               sources = [\"192.168.0.0/16\"]; } );\n"
	"} );\n";

struct ctx {
	struct rec rec;
	uint64_t now;
	struct vnoc_core *c;
	char path[64];
};

static uint64_t now_ms(void *ctx)
{
	return ((struct ctx *)ctx)->now;
}

/* timers.startup_hold_ms: no hold, except in the tests of the hold */
static const char *startup_hold = "0";

static void write_conf(struct ctx *x, const char *branches, const char *extra)
{
	FILE *f = fopen(x->path, "w");

	assert_non_null(f);
	fprintf(f, conf_fmt, startup_hold, branches);
	fputs(extra, f);
	fclose(f);
}

static int setup(void **state)
{
	struct ctx *x = calloc(1, sizeof(*x));
	struct vnoc_policy_err err;
	struct vnoc_core_params p;
	int fd;

	snprintf(x->path, sizeof(x->path), "/tmp/vprn-core-XXXXXX");
	fd = mkstemp(x->path);
	close(fd);
	write_conf(x, "\"br1\", \"br2\"", "");
	x->now = 1000;
	p = (struct vnoc_core_params){ .policy = vnoc_policy_load_file(x->path, &err),
		.db_path = ":memory:",
		.clock = { now_ms, x },
		.out = rec_outbox(&x->rec),
		.config_path = x->path };
	assert_non_null(p.policy);
	x->c = vnoc_core_create(&p);
	assert_non_null(x->c);
	*state = x;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *x = *state;

	vnoc_core_destroy(x->c);
	unlink(x->path);
	free(x);
	return 0;
}

static uint64_t seq;

static int handle_join(struct ctx *x, int site, enum vprn_msg_type type, enum vprn_role role)
{
	struct vprn_msg m;

	vprn_msg_init(&m, type, ++seq);
	m.u.join.m = (struct vprn_membership){
		.group = G, .role = role, .filter_mode = VPRN_FILTER_EXCLUDE
	};
	return vnoc_core_handle(x->c, (uint32_t)site, &m);
}

static void ack_all(struct ctx *x, size_t from)
{
	for (size_t i = from; i < x->rec.n; i++) {
		const struct rec_msg *r = &x->rec.v[i];
		struct vprn_msg a;

		if (r->m.type != VPRN_MSG_SA_INSTALL && r->m.type != VPRN_MSG_TREE_UPDATE)
			continue;
		vprn_msg_init(&a, VPRN_MSG_ACK, ++seq);
		a.u.ack.ref_seq = r->m.seq;
		a.u.ack.status = VPRN_ACK_OK;
		assert_int_equal(vnoc_core_handle(x->c, r->site, &a), 0);
	}
}

static const struct rec_msg *join_result(struct ctx *x, size_t from, int site)
{
	return rec_find(&x->rec, from, (uint32_t)site, VPRN_MSG_JOIN_RESULT);
}

static void test_join_tree_refusal_expiry(void **state)
{
	struct ctx *x = *state;
	int hq = vnoc_core_site_id(x->c, "hq"), br1 = vnoc_core_site_id(x->c, "br1");
	int lab = vnoc_core_site_id(x->c, "lab");
	const struct rec_msg *r;
	struct vprn_json j;

	assert_int_equal(hq, 0);
	assert_int_equal(lab, 3);
	assert_int_equal(handle_join(x, hq, VPRN_MSG_JOIN, VPRN_ROLE_SENDER), 0);
	assert_int_equal(handle_join(x, br1, VPRN_MSG_JOIN, VPRN_ROLE_RECEIVER), 0);
	assert_int_equal(handle_join(x, lab, VPRN_MSG_JOIN, VPRN_ROLE_RECEIVER), 0);
	assert_int_equal(handle_join(x, br1, VPRN_MSG_JOIN, VPRN_ROLE_SENDER), 0);
	assert_true(join_result(x, 0, hq)->m.u.join_result.granted);
	r = join_result(x, 0, br1);
	assert_true(r->m.u.join_result.granted);
	r = join_result(x, r - x->rec.v + 1, br1);
	assert_false(r->m.u.join_result.granted);
	assert_int_equal(r->m.u.join_result.reason, VPRN_REFUSE_NOT_ALLOWED_SEND);
	r = join_result(x, 0, lab);
	assert_false(r->m.u.join_result.granted);
	assert_int_equal(r->m.u.join_result.reason, VPRN_REFUSE_NOT_ALLOWED_RECEIVE);
	for (size_t i = 0; i < x->rec.n; i++)
		assert_int_equal(vprn_msg_validate(&x->rec.v[i].m, NULL), 0);

	/* debounced: nothing before 100 ms */
	size_t mark = x->rec.n;

	x->now += 99;
	vnoc_core_poll(x->c);
	assert_int_equal(x->rec.n, mark);
	x->now += 1;
	vnoc_core_poll(x->c);
	assert_int_equal(rec_count(&x->rec, mark, br1, VPRN_MSG_SA_INSTALL), 1);
	ack_all(x, mark);
	ack_all(x, mark);
	assert_non_null(rec_find(&x->rec, mark, hq, VPRN_MSG_TREE_UPDATE));
	assert_non_null(rec_find(&x->rec, mark, br1, VPRN_MSG_TREE_UPDATE));
	/* the refused site got nothing: no key, no tree */
	assert_int_equal(rec_count(&x->rec, 0, lab, VPRN_MSG_SA_INSTALL), 0);
	assert_int_equal(rec_count(&x->rec, 0, lab, VPRN_MSG_TREE_UPDATE), 0);

	/* hq keeps refreshing, br1 goes silent: expired after the hold time */
	for (int t = 0; t < 4; t++) {
		struct vprn_membership ms = {
			.group = G, .role = VPRN_ROLE_SENDER, .filter_mode = VPRN_FILTER_EXCLUDE
		};
		struct vprn_msg m;

		x->now += 1000;
		vprn_msg_init(&m, VPRN_MSG_REFRESH, ++seq);
		m.u.refresh.memberships = &ms;
		m.u.refresh.n_memberships = 1;
		assert_int_equal(vnoc_core_handle(x->c, (uint32_t)hq, &m), 0);
		vnoc_core_poll(x->c);
		ack_all(x, mark);
	}
	assert_int_equal(vnoc_core_counters(x->c)->expiries, 1);
	r = NULL;
	for (size_t i = mark; i < x->rec.n; i++)
		if (x->rec.v[i].site == (uint32_t)br1 && x->rec.v[i].m.type == VPRN_MSG_TREE_UPDATE)
			r = &x->rec.v[i];
	assert_non_null(r);
	assert_true(r->m.u.tree_update.removed);

	/* accounting kept grants, refusals and the expiry */
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_accounting(x->c, 0, NULL, &j, NULL, 0), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"event\":\"expire\""));
	assert_non_null(strstr(vprn_json_str(&j), "\"reason\":\"not-allowed-receive\""));
	assert_non_null(strstr(vprn_json_str(&j), "\"event\":\"grant\""));
	vprn_json_fini(&j);
	/* an ED may not send VNOC messages */
	struct vprn_msg bad;

	vprn_msg_init(&bad, VPRN_MSG_TREE_UPDATE, ++seq);
	assert_int_equal(vnoc_core_handle(x->c, 0, &bad), -EPROTO);
	assert_int_equal(vnoc_core_handle(x->c, 99, &bad), -EPROTO);
}

static void test_reload(void **state)
{
	struct ctx *x = *state;
	int br2 = vnoc_core_site_id(x->c, "br2");
	char err[512];
	size_t mark;
	struct vprn_json j;
	char *argv[] = { "reload" };

	assert_int_equal(handle_join(x, 0, VPRN_MSG_JOIN, VPRN_ROLE_SENDER), 0);
	assert_int_equal(handle_join(x, br2, VPRN_MSG_JOIN, VPRN_ROLE_RECEIVER), 0);
	x->now += 100;
	vnoc_core_poll(x->c);
	ack_all(x, 0);
	ack_all(x, 0);
	assert_non_null(rec_find(&x->rec, 0, (uint32_t)br2, VPRN_MSG_TREE_UPDATE));
	/* a broken file is refused and changes nothing */
	write_conf(x, "\"br1\", \"nobody\"", "");
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_policy(x->c, 1, argv, &j, err, sizeof(err)), -EINVAL);
	vprn_json_fini(&j);
	assert_non_null(strstr(err, x->path));
	assert_non_null(strstr(err, "unknown site 'nobody'"));
	write_conf(x, "\"br1\", \"br2\"", "");
	assert_int_equal(vnoc_core_reload(x->c, NULL, err, sizeof(err)), 0);
	/* br2 no longer a branch: revoked, removed from the tree, its SA removed */
	write_conf(x, "\"br1\"", "");
	mark = x->rec.n;
	assert_int_equal(vnoc_core_reload(x->c, NULL, err, sizeof(err)), 0);
	x->now += 100;
	vnoc_core_poll(x->c);
	ack_all(x, mark);
	const struct rec_msg *u = rec_find(&x->rec, mark, (uint32_t)br2, VPRN_MSG_TREE_UPDATE);

	assert_non_null(u);
	assert_true(u->m.u.tree_update.removed);
	assert_true(rec_count(&x->rec, mark, (uint32_t)br2, VPRN_MSG_SA_REMOVE) >= 1);
	assert_int_equal(vnoc_core_counters(x->c)->reloads, 2);
	assert_int_equal(vnoc_core_counters(x->c)->reload_failures, 1);
}

static void test_ctl_output(void **state)
{
	struct ctx *x = *state;
	struct vprn_json j;
	char err[256];
	char *tree_args[] = { "239.1.0.1", "--dot" };
	char *sas_args[] = { "--export-keys", "wireshark" };

	handle_join(x, 0, VPRN_MSG_JOIN, VPRN_ROLE_SENDER);
	handle_join(x, 1, VPRN_MSG_JOIN, VPRN_ROLE_RECEIVER);
	x->now += 100;
	vnoc_core_poll(x->c);
	ack_all(x, 0);
	ack_all(x, 0);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_groups(x->c, 0, NULL, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"policy\":\"feed\""));
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_tree(x->c, 1, tree_args, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"edges\":[[\"hq\",\"br1\"]]"));
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_tree(x->c, 2, tree_args, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\\\"hq\\\" -- \\\"br1\\\""));
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_sas(x->c, 0, NULL, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"state\":\"active\""));
	assert_null(strstr(vprn_json_str(&j), "key"));
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_sas(x->c, 2, sas_args, &j, err, sizeof(err)), 0);
	assert_non_null(
		strstr(vprn_json_str(&j), "\\\"IPv4\\\",\\\"10.100.1.2\\\",\\\"10.100.2.2\\\""));
	assert_non_null(strstr(vprn_json_str(&j), "AES-GCM with 16 octet ICV [RFC4106]"));
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_sas(x->c, 1, sas_args, &j, err, sizeof(err)), -EINVAL);
	vprn_json_fini(&j);
	vprn_json_init(&j);
	char *bad[] = { "300.1.1.1" };

	assert_int_equal(vnoc_core_ctl_tree(x->c, 1, bad, &j, err, sizeof(err)), -EINVAL);
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_metrics(x->c, 0, NULL, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"source\":\"default\""));
	vprn_json_fini(&j);
}

static void test_policy_edits_persist(void **state)
{
	struct ctx *x = *state;
	char db[64], err[512], wal[80];
	char *set_args[] = { "set", "acme", "feed", "receivers", "[\"br1\"]" };
	char *bad_args[] = { "set", "acme", "feed", "bogus", "1" };
	char *list_args[] = { "edits" };
	struct vnoc_policy_err perr;
	struct vprn_json j;
	int fd;

	snprintf(db, sizeof(db), "/tmp/vprn-core-db-XXXXXX");
	fd = mkstemp(db);
	close(fd);
	unlink(db);
	for (int life = 0; life < 2; life++) {
		struct vnoc_core_params p = { .policy = vnoc_policy_load_file(x->path, &perr),
			.db_path = db,
			.clock = { now_ms, x },
			.out = rec_outbox(&x->rec),
			.config_path = x->path };
		size_t mark;

		vnoc_core_destroy(x->c);
		x->c = vnoc_core_create(&p);
		assert_non_null(x->c);
		if (life == 0) {
			vprn_json_init(&j);
			assert_int_equal(
				vnoc_core_ctl_policy(x->c, 5, bad_args, &j, err, sizeof(err)),
				-EINVAL);
			assert_non_null(strstr(err, "unknown option 'bogus'"));
			assert_int_equal(
				vnoc_core_ctl_policy(x->c, 5, set_args, &j, err, sizeof(err)), 0);
			vprn_json_fini(&j);
		}
		/* in both lives (the second after a restart): br2 may no longer receive */
		mark = x->rec.n;
		handle_join(x, 2, VPRN_MSG_JOIN, VPRN_ROLE_RECEIVER);
		handle_join(x, 1, VPRN_MSG_JOIN, VPRN_ROLE_RECEIVER);
		assert_false(join_result(x, mark, 2)->m.u.join_result.granted);
		assert_true(join_result(x, mark, 1)->m.u.join_result.granted);
		vprn_json_init(&j);
		assert_int_equal(vnoc_core_ctl_policy(x->c, 1, list_args, &j, err, sizeof(err)), 0);
		assert_non_null(strstr(vprn_json_str(&j), "\"key\":\"receivers\""));
		assert_null(strstr(vprn_json_str(&j), "bogus"));
		vprn_json_fini(&j);
	}
	unlink(db);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db);
	unlink(wal);
}

static void refresh(struct ctx *x, int site, enum vprn_role role)
{
	struct vprn_membership ms = {
		.group = G, .role = role, .filter_mode = VPRN_FILTER_EXCLUDE
	};
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_REFRESH, ++seq);
	m.u.refresh.memberships = &ms;
	m.u.refresh.n_memberships = 1;
	assert_int_equal(vnoc_core_handle(x->c, (uint32_t)site, &m), 0);
}

/* A restarted VNOC rebuilds from refreshes and never reuses an SPI. */
static void test_restart_rebuild(void **state)
{
	struct ctx *x = *state;
	char db[64], wal[80];
	uint32_t max_spi = 0, min_spi2 = UINT32_MAX;
	struct vnoc_policy_err perr;
	int fd;

	snprintf(db, sizeof(db), "/tmp/vprn-core-db-XXXXXX");
	fd = mkstemp(db);
	close(fd);
	unlink(db);
	for (int life = 0; life < 2; life++) {
		struct vnoc_core_params p = { .policy = vnoc_policy_load_file(x->path, &perr),
			.db_path = db,
			.clock = { now_ms, x },
			.out = rec_outbox(&x->rec),
			.config_path = x->path };
		size_t mark;

		vnoc_core_destroy(x->c); /* as abrupt as kill -9 for the core: nothing flushed */
		x->c = vnoc_core_create(&p);
		assert_non_null(x->c);
		mark = x->rec.n;
		/* the EDs' refreshes after reconnecting: no joins needed */
		refresh(x, 0, VPRN_ROLE_SENDER);
		refresh(x, 1, VPRN_ROLE_RECEIVER);
		refresh(x, 2, VPRN_ROLE_RECEIVER);
		x->now += 100; /* one debounce, well within a refresh interval */
		vnoc_core_poll(x->c);
		ack_all(x, mark);
		ack_all(x, mark);
		assert_non_null(rec_find(&x->rec, mark, 1, VPRN_MSG_TREE_UPDATE));
		assert_non_null(rec_find(&x->rec, mark, 2, VPRN_MSG_TREE_UPDATE));
		for (size_t i = mark; i < x->rec.n; i++) {
			uint32_t spi = x->rec.v[i].m.u.sa_install.spi;

			if (x->rec.v[i].m.type != VPRN_MSG_SA_INSTALL)
				continue;
			if (life == 0 && spi > max_spi)
				max_spi = spi;
			if (life == 1 && spi < min_spi2)
				min_spi2 = spi;
		}
	}
	assert_true(max_spi >= VNOC_SPI_MIN);
	assert_true(min_spi2 != UINT32_MAX);
	assert_true(min_spi2 > max_spi);
	unlink(db);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db);
	unlink(wal);
}

/* Per-source trees: one per announced source, only the receivers that want it. */
static void test_per_source(void **state)
{
	struct ctx *x = *state;
	const uint32_t grp = 0xe8000001u, s1 = 0xc0a80105u, s2 = 0xc0a80206u;
	struct vprn_msg m;
	struct vprn_json j;
	char err[256];
	char *args1[] = { "232.0.0.1", "--source", "192.168.1.5" };
	char *args2[] = { "232.0.0.1", "--source", "192.168.2.6" };

	vprn_msg_init(&m, VPRN_MSG_JOIN, ++seq);
	m.u.join.m = (struct vprn_membership){ .group = grp,
		.role = VPRN_ROLE_SENDER,
		.filter_mode = VPRN_FILTER_EXCLUDE,
		.sources = { s1, s2 },
		.n_sources = 2 };
	assert_int_equal(vnoc_core_handle(x->c, 0, &m), 0);
	m.u.join.m = (struct vprn_membership){ .group = grp,
		.role = VPRN_ROLE_RECEIVER,
		.filter_mode = VPRN_FILTER_INCLUDE,
		.sources = { s1 },
		.n_sources = 1 };
	assert_int_equal(vnoc_core_handle(x->c, 1, &m), 0);
	m.u.join.m.sources[0] = s2;
	assert_int_equal(vnoc_core_handle(x->c, 2, &m), 0);
	m.u.join.m.sources[0] = 0x0a000001u; /* outside `sources`: refused */
	assert_int_equal(vnoc_core_handle(x->c, 3, &m), 0);
	assert_int_equal(
		join_result(x, 0, 3)->m.u.join_result.reason, VPRN_REFUSE_SOURCE_NOT_ALLOWED);
	x->now += 100;
	vnoc_core_poll(x->c);
	ack_all(x, 0);
	ack_all(x, 0);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_tree(x->c, 3, args1, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"edges\":[[\"hq\",\"br1\"]]"));
	vprn_json_fini(&j);
	vprn_json_init(&j);
	assert_int_equal(vnoc_core_ctl_tree(x->c, 3, args2, &j, err, sizeof(err)), 0);
	assert_non_null(strstr(vprn_json_str(&j), "\"edges\":[[\"hq\",\"br2\"]]"));
	vprn_json_fini(&j);
	/* br1 only ever hears of the tree of its source */
	for (size_t i = 0; i < x->rec.n; i++)
		if (x->rec.v[i].site == 1 && x->rec.v[i].m.type == VPRN_MSG_TREE_UPDATE)
			assert_int_equal(x->rec.v[i].m.u.tree_update.source, s1);
}

static void refresh_empty(struct ctx *x, int site)
{
	struct vprn_msg m;

	vprn_msg_init(&m, VPRN_MSG_REFRESH, ++seq);
	assert_int_equal(vnoc_core_handle(x->c, (uint32_t)site, &m), 0);
}

static size_t count_type(const struct ctx *x, size_t from, enum vprn_msg_type type)
{
	size_t n = 0;

	for (size_t i = from; i < x->rec.n; i++)
		n += x->rec.v[i].m.type == type;
	return n;
}

/* A new core on database @db with timers.startup_hold_ms = 2000. */
static void hold_life(struct ctx *x, const char *db)
{
	struct vnoc_policy_err perr;
	struct vnoc_core_params p;

	startup_hold = "2000";
	write_conf(x, "\"br1\", \"br2\"", "");
	startup_hold = "0";
	p = (struct vnoc_core_params){ .policy = vnoc_policy_load_file(x->path, &perr),
		.db_path = db,
		.clock = { now_ms, x },
		.out = rec_outbox(&x->rec),
		.config_path = x->path };
	assert_non_null(p.policy);
	vnoc_core_destroy(x->c); /* as abrupt as kill -9 for the core: nothing flushed */
	x->c = vnoc_core_create(&p);
	assert_non_null(x->c);
}

/* hq sends, br1 and br2 receive, lab has nothing: each connects and refreshes. */
static void come_back(struct ctx *x, int site)
{
	vnoc_core_site_up(x->c, (uint32_t)site);
	if (site == 0)
		refresh(x, 0, VPRN_ROLE_SENDER);
	else if (site == 3)
		refresh_empty(x, 3);
	else
		refresh(x, site, VPRN_ROLE_RECEIVER);
}

static void unlink_db(const char *db)
{
	char wal[80];

	unlink(db);
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", db);
	unlink(wal);
}

/*
 * Startup hold, first start (no record): no tree before every configured site
 * is back and has refreshed; the tree at once when the last one is.
 */
static void test_startup_hold_first_start(void **state)
{
	struct ctx *x = *state;
	char db[64];
	int fd;

	snprintf(db, sizeof(db), "/tmp/vprn-core-db-XXXXXX");
	fd = mkstemp(db);
	close(fd);
	unlink(db);
	hold_life(x, db);
	assert_true(vnoc_core_holding(x->c));
	come_back(x, 0);
	come_back(x, 1);
	come_back(x, 2);
	x->now += 1000; /* debounce long past, hold not expired */
	vnoc_core_poll(x->c);
	assert_true(vnoc_core_holding(x->c));
	assert_int_equal(count_type(x, 0, VPRN_MSG_SA_INSTALL), 0);
	assert_int_equal(count_type(x, 0, VPRN_MSG_TREE_UPDATE), 0);
	/* the deadline is the hold's end, not the (past) debounce of the dirty group */
	assert_int_equal(vnoc_core_next_deadline(x->c), x->now + 1000);
	/* lab's session is up, but its first refresh has not come yet */
	vnoc_core_site_up(x->c, 3);
	vnoc_core_poll(x->c);
	assert_true(vnoc_core_holding(x->c));
	assert_int_equal(count_type(x, 0, VPRN_MSG_SA_INSTALL), 0);
	refresh_empty(x, 3);
	vnoc_core_poll(x->c); /* same instant */
	assert_false(vnoc_core_holding(x->c));
	assert_true(count_type(x, 0, VPRN_MSG_SA_INSTALL) >= 2); /* br1's and br2's inbound SAs */
	ack_all(x, 0);
	ack_all(x, 0);
	assert_non_null(rec_find(&x->rec, 0, 1, VPRN_MSG_TREE_UPDATE));
	assert_non_null(rec_find(&x->rec, 0, 2, VPRN_MSG_TREE_UPDATE));
	unlink_db(db);
}

/*
 * Startup hold after a restart: the core waits for the sites connected before
 * (recorded in the database), at most startup_hold_ms; a site that never comes
 * back is given up at expiry and is no longer waited for at the next start.
 */
static void test_startup_hold_restart(void **state)
{
	struct ctx *x = *state;
	uint64_t t0;
	char db[64];
	int fd;

	snprintf(db, sizeof(db), "/tmp/vprn-core-db-XXXXXX");
	fd = mkstemp(db);
	close(fd);
	unlink(db);
	/* life 0: all four sites connect; the hold ends when the last has refreshed */
	hold_life(x, db);
	for (int s = 0; s < 4; s++)
		come_back(x, s);
	vnoc_core_poll(x->c);
	assert_false(vnoc_core_holding(x->c));
	/* life 1 (after kill -9): hq and br1 come back, br2 and lab never do */
	x->now += 500;
	hold_life(x, db);
	t0 = x->now;
	assert_true(vnoc_core_holding(x->c));
	come_back(x, 0);
	come_back(x, 1);
	x->now += 1000;
	vnoc_core_poll(x->c);
	assert_true(vnoc_core_holding(x->c));
	assert_int_equal(count_type(x, 0, VPRN_MSG_SA_INSTALL), 0);
	x->now = t0 + 1999;
	vnoc_core_poll(x->c);
	assert_true(vnoc_core_holding(x->c));
	assert_int_equal(vnoc_core_next_deadline(x->c), t0 + 2000);
	x->now = t0 + 2000; /* expiry: the tree of the sites that are back */
	vnoc_core_poll(x->c);
	assert_false(vnoc_core_holding(x->c));
	ack_all(x, 0);
	ack_all(x, 0);
	assert_non_null(rec_find(&x->rec, 0, 1, VPRN_MSG_TREE_UPDATE));
	assert_null(rec_find(&x->rec, 0, 2, VPRN_MSG_TREE_UPDATE));
	/* a clean shutdown ends every session; the next start still waits for them */
	vnoc_core_site_down(x->c, 0);
	vnoc_core_site_down(x->c, 1);
	/* life 2: only hq and br1 are expected (br2 and lab were gone for a hold time) */
	x->now += 100;
	hold_life(x, db);
	assert_true(vnoc_core_holding(x->c));
	come_back(x, 0);
	vnoc_core_poll(x->c);
	assert_true(vnoc_core_holding(x->c));
	come_back(x, 1);
	vnoc_core_poll(x->c);
	assert_false(vnoc_core_holding(x->c));
	x->now += 100; /* the debounce of the refreshes just received */
	vnoc_core_poll(x->c);
	assert_non_null(rec_find(&x->rec, 0, 1, VPRN_MSG_SA_INSTALL));
	/* life 3: hq went away a hold time before the restart: only br1 is waited for */
	vnoc_core_site_down(x->c, 0);
	x->now += 3000;
	vnoc_core_poll(x->c);
	hold_life(x, db);
	come_back(x, 1);
	vnoc_core_poll(x->c);
	assert_false(vnoc_core_holding(x->c));
	/* life 4: br1 left with Bye (a planned stop) just before: nobody is waited for */
	{
		struct vprn_msg bye;

		vprn_msg_init(&bye, VPRN_MSG_BYE, ++seq);
		assert_int_equal(vnoc_core_handle(x->c, 1, &bye), 0);
	}
	vnoc_core_site_down(x->c, 1);
	x->now += 10;
	hold_life(x, db);
	assert_false(vnoc_core_holding(x->c));
	unlink_db(db);
}

static void test_probe_keys(void **state)
{
	struct ctx *x = *state;
	uint8_t a[32], b[32], c[32];

	vnoc_core_probe_key(x->c, 0, 1, a);
	vnoc_core_probe_key(x->c, 1, 0, b);
	vnoc_core_probe_key(x->c, 0, 2, c);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a, c, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_join_tree_refusal_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_probe_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_edits_persist, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_rebuild, setup, teardown),
		cmocka_unit_test_setup_teardown(test_per_source, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_hold_first_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_startup_hold_restart, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
