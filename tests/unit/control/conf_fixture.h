/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_TESTS_CONF_FIXTURE_H
#define VPRN_TESTS_CONF_FIXTURE_H

/*
 * Config test fixture: a temp directory with empty "certificate" files (the
 * loaders only check that they are readable), a base config as an array of
 * lines, and rows that replace one line and expect an error at a line.
 */

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct conf_row {
	int line;	   /* 1-based line of the base to replace (n+1 = append) */
	const char *text;  /* replacement line */
	int err_line;	   /* expected error line, 0 = valid */
	const char *match; /* substring of the message */
};

static char fx_dir[PATH_MAX];

static inline int fx_setup(const char *const files[])
{
	snprintf(fx_dir, sizeof(fx_dir), "/tmp/vprn-conf-test-XXXXXX");
	if (mkdtemp(fx_dir) == NULL)
		return -1;
	for (int i = 0; files[i] != NULL; i++) {
		char p[PATH_MAX + 64];
		FILE *f;

		snprintf(p, sizeof(p), "%s/%s", fx_dir, files[i]);
		f = fopen(p, "w");
		if (f == NULL)
			return -1;
		fclose(f);
	}
	return 0;
}

static inline int fx_teardown(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write base (n lines) with row applied into fx_dir/name; returns the path. */
static inline const char *fx_write(
	const char *name, const char *const base[], int n, const struct conf_row *row)
{
	static char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fx_dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return NULL;
	for (int i = 1; i <= n + 1; i++) {
		if (row != NULL && row->line == i)
			fprintf(f, "%s\n", row->text);
		else if (i <= n)
			fprintf(f, "%s\n", base[i - 1]);
	}
	fclose(f);
	return path;
}

#endif /* VPRN_TESTS_CONF_FIXTURE_H */
