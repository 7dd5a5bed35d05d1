/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_WANEM_CTL_H
#define VPRN_WANEM_CTL_H

/*
 * Control commands of vprn-wanem, one text line each. The answer is zero or
 * more lines followed by a final line `ok` or `error: <reason>`. The parser
 * takes untrusted input (anyone who can open the socket): every token is
 * length- and range-checked; see fuzz_wanem_ctl.
 */

#include <stdarg.h>
#include <stddef.h>

struct wanem;

/** A growable output buffer. */
struct wanem_out {
	char *buf;
	size_t len;
	size_t cap;
	int oom;
};

void wanem_out_printf(struct wanem_out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void wanem_out_free(struct wanem_out *o);

#define WANEM_CTL_LINE_MAX 512

/**
 * Execute one command line (without its newline). Appends the answer to `out`.
 * Returns 1 when the client asked to close the connection (`quit`), else 0.
 */
int wanem_ctl_exec(struct wanem *w, const char *line, struct wanem_out *out);

#endif /* VPRN_WANEM_CTL_H */
