/* SPDX-License-Identifier: BSD-3-Clause */
#include "log.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "vprn";
/* Relaxed is enough: the level is a hint, a racing reader may log one line more. */
static atomic_int log_level = VPRN_LOG_INFO;

static const char *const level_names[] = {
	[VPRN_LOG_ERR] = "ERR",
	[VPRN_LOG_WARN] = "WARN",
	[VPRN_LOG_INFO] = "INFO",
	[VPRN_LOG_DEBUG] = "DEBUG",
};

void vprn_log_init(const char *prog, enum vprn_log_level level)
{
	if (prog != NULL)
		log_prog = prog;
	vprn_log_set_level(level);
}

void vprn_log_set_level(enum vprn_log_level level)
{
	atomic_store_explicit(&log_level, (int)level, memory_order_relaxed);
}

int vprn_log_parse_level(const char *name)
{
	static const char *const names[] = { "err", "warn", "info", "debug" };

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

void vprn_vlog(enum vprn_log_level level, const char *module, const char *fmt, va_list ap)
{
	char msg[1024];
	char stamp[32];
	struct timespec ts;
	struct tm tm;

	if ((int)level > atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &ts); /* wall clock only for the human-readable stamp */
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	/* One fprintf per line so that lines from threads do not interleave. */
	fprintf(stderr, "%s.%03ldZ %s[%d] %s %s: %s\n", stamp, ts.tv_nsec / 1000000L, log_prog,
		(int)getpid(), level_names[level], module, msg);
}

void vprn_log(enum vprn_log_level level, const char *module, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprn_vlog(level, module, fmt, ap);
	va_end(ap);
}
