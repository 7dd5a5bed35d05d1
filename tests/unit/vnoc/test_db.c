/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "types.h"

struct rows {
	int n;
	char last_event[16];
	char last_reason[32];
	uint32_t last_group;
	uint64_t packets, bytes;
};

static void acct_cb(void *ctx, const struct vnoc_acct_row *r)
{
	struct rows *x = ctx;

	x->n++;
	snprintf(x->last_event, sizeof(x->last_event), "%s", r->event);
	snprintf(x->last_reason, sizeof(x->last_reason), "%s", r->reason);
	x->last_group = r->group;
}

static void traffic_cb(void *ctx, const struct vnoc_traffic_row *r)
{
	struct rows *x = ctx;

	x->n++;
	x->packets += r->packets;
	x->bytes += r->bytes;
}

static void test_tables(void **state)
{
	struct vnoc_db *db = vnoc_db_open(":memory:");
	struct vnoc_acct a = { VNOC_ACCT_GRANT, "acme", "hq", 0xef000001u, VNOC_ROLE_SENDER, 0,
		"granted" };
	struct rows r = { 0 };
	uint32_t hw;

	(void)state;
	assert_non_null(db);
	assert_int_equal(vnoc_db_account(db, &a), 0);
	a.event = VNOC_ACCT_REFUSE;
	a.reason = VNOC_REFUSE_NOT_ALLOWED_SEND;
	a.group = 0xef000002u;
	assert_int_equal(vnoc_db_account(db, &a), 0);
	assert_int_equal(vnoc_db_accounting(db, 10, acct_cb, &r), 2);
	assert_string_equal(r.last_event, "refuse");
	assert_string_equal(r.last_reason, "not-allowed-send");
	assert_int_equal(r.last_group, 0xef000002u);
	memset(&r, 0, sizeof(r));
	assert_int_equal(vnoc_db_accounting(db, 1, acct_cb, &r), 1);
	/* traffic reports add up per (site, group, source, role) */
	assert_int_equal(vnoc_db_traffic(db, "acme", "hq", 0xef000001u, 0, 2, 10, 1000), 0);
	assert_int_equal(vnoc_db_traffic(db, "acme", "hq", 0xef000001u, 0, 2, 5, 500), 0);
	assert_int_equal(vnoc_db_traffic(db, "acme", "br1", 0xef000001u, 0, 1, 15, 1500), 0);
	assert_int_equal(
		vnoc_db_traffic(db, "acme", "br1", 0xef000001u, 0, 1, UINT64_MAX, 0), -ERANGE);
	memset(&r, 0, sizeof(r));
	assert_int_equal(vnoc_db_traffic_rows(db, traffic_cb, &r), 2);
	assert_int_equal(r.packets, 30);
	assert_int_equal(r.bytes, 3000);
	assert_int_equal(vnoc_db_spi_get(db, &hw), 0);
	assert_int_equal(hw, 0);
	assert_int_equal(vnoc_db_spi_set(db, 0x12345), 0);
	assert_int_equal(vnoc_db_spi_get(db, &hw), 0);
	assert_int_equal(hw, 0x12345);
	vnoc_db_close(db);
	assert_null(vnoc_db_open("/dev/null/x.db")); /* ENOTDIR, whoever runs */
}

/* A child writes records and reports each commit; killed with SIGKILL mid-way. */
static void test_survives_kill9(void **state)
{
	char path[] = "/tmp/vprn-db-XXXXXX";
	int fd = mkstemp(path);
	int pipefd[2];
	pid_t pid;
	int committed = 0;
	char c;
	struct rows r = { 0 };
	struct vnoc_db *db;
	uint32_t hw;
	char wal[64];

	(void)state;
	close(fd);
	unlink(path);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct vnoc_db *cdb = vnoc_db_open(path);

		close(pipefd[0]);
		if (cdb == NULL)
			_exit(1);
		for (uint32_t i = 0;; i++) {
			struct vnoc_acct a = { VNOC_ACCT_EXPIRE, "acme", "br1", 0xef000000u + i,
				VNOC_ROLE_RECEIVER, 0, "hold time" };

			if (vnoc_db_account(cdb, &a) != 0 || vnoc_db_spi_set(cdb, 1000 + i) != 0)
				_exit(1);
			if (write(pipefd[1], "x", 1) != 1)
				_exit(1);
		}
	}
	close(pipefd[1]);
	while (committed < 50 && read(pipefd[0], &c, 1) == 1)
		committed++;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	/* drain what the child committed between our last read and the kill */
	while (read(pipefd[0], &c, 1) == 1)
		committed++;
	close(pipefd[0]);
	assert_true(committed >= 50);
	db = vnoc_db_open(path);
	assert_non_null(db);
	/* every record reported as committed is there */
	assert_true(vnoc_db_accounting(db, 1000000, acct_cb, &r) >= committed);
	assert_true(r.n >= committed);
	assert_int_equal(vnoc_db_spi_get(db, &hw), 0);
	assert_true(hw >= 1000u + (uint32_t)committed - 1);
	vnoc_db_close(db);
	unlink(path);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	unlink(wal);
	snprintf(wal, sizeof(wal), "%s-shm", path);
	unlink(wal);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tables),
		cmocka_unit_test(test_survives_kill9),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
