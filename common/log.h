/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_LOG_H
#define VPRN_COMMON_LOG_H

/*
 * Logging for the slow path (control thread, VNOC, tools). Never on a worker
 * lcore's hot path. Lines look like:
 *   2026-11-22T10:00:00.123Z vprn-vnoc[123] INFO session: site hq registered
 * The module name comes first, as STYLE.md asks. Never pass key material.
 */

#include <stdarg.h>

enum vprn_log_level {
	VPRN_LOG_ERR = 0,
	VPRN_LOG_WARN = 1,
	VPRN_LOG_INFO = 2,
	VPRN_LOG_DEBUG = 3,
};

/** Set the program name printed in every line (default "vprn"). */
void vprn_log_init(const char *prog, enum vprn_log_level level);

/** Change the level at run time. */
void vprn_log_set_level(enum vprn_log_level level);

/** Parse "err|warn|info|debug"; returns the level or -EINVAL. */
int vprn_log_parse_level(const char *name);

void vprn_log(enum vprn_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void vprn_vlog(enum vprn_log_level level, const char *module, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

#define LOG_ERR(mod, ...) vprn_log(VPRN_LOG_ERR, mod, __VA_ARGS__)
#define LOG_WARN(mod, ...) vprn_log(VPRN_LOG_WARN, mod, __VA_ARGS__)
#define LOG_INFO(mod, ...) vprn_log(VPRN_LOG_INFO, mod, __VA_ARGS__)
#define LOG_DEBUG(mod, ...) vprn_log(VPRN_LOG_DEBUG, mod, __VA_ARGS__)

#endif /* VPRN_COMMON_LOG_H */
