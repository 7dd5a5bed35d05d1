/* SPDX-License-Identifier: BSD-3-Clause */
#include "conf.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void vprn_conf_err_print(const struct vprn_conf_err *err, FILE *out)
{
	fprintf(out, "%s:%d: %s\n", err->file, err->line, err->msg);
}

int vprn_conf_fail(struct vprn_conf_err *err, const config_setting_t *s, const char *path,
	const char *fmt, ...)
{
	const char *file = s != NULL ? config_setting_source_file(s) : NULL;
	int line = s != NULL ? (int)config_setting_source_line(s) : 0;
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s",
		file != NULL ? file : (path != NULL ? path : "?"));
	err->line = line > 0 ? line : 1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* File of a setting, for errors about a missing child of the root. */
static const char *file_of(const config_setting_t *g)
{
	const char *f = config_setting_source_file(g);

	return f != NULL ? f : "?";
}

void vprn_conf_dirname(const char *path, char *dir, size_t cap)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(dir, cap, ".");
	else if (slash == path)
		snprintf(dir, cap, "/");
	else
		snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

int vprn_conf_read(config_t *cfg, const char *path, struct vprn_conf_err *err)
{
	char dir[PATH_MAX];
	FILE *f;

	config_init(cfg);
	vprn_conf_dirname(path, dir, sizeof(dir));
	config_set_include_dir(cfg, dir);
	f = fopen(path, "r");
	if (f == NULL) {
		int e = errno;

		snprintf(err->file, sizeof(err->file), "%s", path);
		err->line = 0;
		snprintf(err->msg, sizeof(err->msg), "cannot open: %s", strerror(e));
		config_destroy(cfg);
		return -e;
	}
	fclose(f);
	/* config_read_file() records the file name, so settings know their file. */
	if (config_read_file(cfg, path) != CONFIG_TRUE) {
		const char *file = config_error_file(cfg);

		snprintf(err->file, sizeof(err->file), "%s", file != NULL ? file : path);
		err->line = config_error_line(cfg);
		snprintf(err->msg, sizeof(err->msg), "%s", config_error_text(cfg));
		config_destroy(cfg);
		return -EINVAL;
	}
	return 0;
}

int vprn_conf_only_keys(
	const config_setting_t *g, const char *const allowed[], struct vprn_conf_err *err)
{
	int n = config_setting_length(g);

	for (int i = 0; i < n; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned int)i);
		const char *name = config_setting_name(s);
		bool ok = false;

		if (name == NULL)
			continue;
		for (int k = 0; allowed[k] != NULL && !ok; k++)
			ok = strcmp(allowed[k], name) == 0;
		if (!ok)
			return vprn_conf_fail(err, s, NULL, "unknown setting '%s'", name);
	}
	return 0;
}

/* Find name in g; -ENOENT if absent and optional, -EINVAL (err) if absent and required. */
static int lookup(const config_setting_t *g, const char *name, bool required,
	const config_setting_t **s, struct vprn_conf_err *err)
{
	*s = config_setting_get_member(g, name);
	if (*s != NULL)
		return 0;
	if (!required)
		return -ENOENT;
	if (config_setting_source_line(g) == 0)
		return vprn_conf_fail(err, NULL, file_of(g), "missing setting '%s'", name);
	return vprn_conf_fail(err, g, NULL, "missing setting '%s' in '%s'", name,
		config_setting_name(g) != NULL ? config_setting_name(g) : "?");
}

/* A group or a list setting: the same lookup, a different shape check. */
static int lookup_shaped(const config_setting_t *g, const char *name, bool required, int type,
	const config_setting_t **out, struct vprn_conf_err *err)
{
	const config_setting_t *s;
	int rc = lookup(g, name, required, &s, err);

	*out = NULL;
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (config_setting_type(s) != type)
		return vprn_conf_fail(err, s, NULL, "'%s' must be a %s", name,
			type == CONFIG_TYPE_GROUP ? "group { ... }" : "list ( ... )");
	*out = s;
	return 0;
}

int vprn_conf_group(const config_setting_t *g, const char *name, bool required,
	const config_setting_t **out, struct vprn_conf_err *err)
{
	return lookup_shaped(g, name, required, CONFIG_TYPE_GROUP, out, err);
}

int vprn_conf_list(const config_setting_t *g, const char *name, bool required,
	const config_setting_t **out, struct vprn_conf_err *err)
{
	return lookup_shaped(g, name, required, CONFIG_TYPE_LIST, out, err);
}

int vprn_conf_str(const config_setting_t *g, const char *name, bool required, char *out, size_t cap,
	struct vprn_conf_err *err)
{
	const config_setting_t *s;
	const char *v;
	int rc = lookup(g, name, required, &s, err);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	v = config_setting_get_string(s);
	if (v == NULL)
		return vprn_conf_fail(err, s, NULL, "'%s' must be a string", name);
	if (required && v[0] == '\0')
		return vprn_conf_fail(err, s, NULL, "'%s' must not be empty", name);
	if (strlen(v) >= cap)
		return vprn_conf_fail(err, s, NULL, "'%s' is too long (max %zu)", name, cap - 1);
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

int vprn_conf_int(const config_setting_t *g, const char *name, bool required, long long min,
	long long max, long long *out, struct vprn_conf_err *err)
{
	const config_setting_t *s;
	long long v;
	int rc = lookup(g, name, required, &s, err);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (config_setting_type(s) != CONFIG_TYPE_INT &&
		config_setting_type(s) != CONFIG_TYPE_INT64)
		return vprn_conf_fail(err, s, NULL, "'%s' must be an integer", name);
	v = config_setting_get_int64(s);
	if (v < min || v > max)
		return vprn_conf_fail(
			err, s, NULL, "'%s' = %lld out of range [%lld, %lld]", name, v, min, max);
	*out = v;
	return 0;
}

int vprn_conf_u32(const config_setting_t *g, const char *name, bool required, uint32_t min,
	uint32_t max, uint32_t *out, struct vprn_conf_err *err)
{
	long long v = *out;
	int rc = vprn_conf_int(g, name, required, min, max, &v, err);

	if (rc == 0)
		*out = (uint32_t)v;
	return rc;
}

int vprn_conf_bool(const config_setting_t *g, const char *name, bool required, bool *out,
	struct vprn_conf_err *err)
{
	const config_setting_t *s;
	int rc = lookup(g, name, required, &s, err);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (config_setting_type(s) != CONFIG_TYPE_BOOL)
		return vprn_conf_fail(err, s, NULL, "'%s' must be true or false", name);
	*out = config_setting_get_bool(s) != 0;
	return 0;
}

int vprn_conf_ipv4(const config_setting_t *g, const char *name, bool required, uint32_t *out,
	struct vprn_conf_err *err)
{
	const config_setting_t *s;
	const char *v;
	int rc = lookup(g, name, required, &s, err);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	v = config_setting_get_string(s);
	if (v == NULL || vprn_parse_ipv4(v, out) != 0)
		return vprn_conf_fail(
			err, s, NULL, "'%s' must be an IPv4 address \"a.b.c.d\"", name);
	return 0;
}

int vprn_conf_prefix(const config_setting_t *g, const char *name, bool required, uint32_t *addr,
	uint8_t *len, struct vprn_conf_err *err)
{
	const config_setting_t *s;
	const char *v;
	int rc = lookup(g, name, required, &s, err);

	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	v = config_setting_get_string(s);
	if (v == NULL || vprn_parse_prefix(v, addr, len) != 0)
		return vprn_conf_fail(
			err, s, NULL, "'%s' must be an IPv4 prefix \"a.b.c.d/n\" (n 0..32)", name);
	return 0;
}

int vprn_conf_path(const config_setting_t *g, const char *name, bool required, const char *basedir,
	char *out, size_t cap, struct vprn_conf_err *err)
{
	char tmp[PATH_MAX];
	const config_setting_t *s;
	int rc;
	int n;

	rc = vprn_conf_str(g, name, required, tmp, sizeof(tmp), err);
	if (rc != 0)
		return rc;
	s = config_setting_get_member(g, name);
	if (s == NULL)
		return 0;
	if (tmp[0] == '\0' || tmp[0] == '/' || basedir == NULL)
		n = snprintf(out, cap, "%s", tmp);
	else
		n = snprintf(out, cap, "%s/%s", basedir, tmp);
	if (n < 0 || (size_t)n >= cap)
		return vprn_conf_fail(err, s, NULL, "'%s': path too long", name);
	return 0;
}

int vprn_conf_file(const config_setting_t *g, const char *name, bool required, const char *basedir,
	char *out, size_t cap, struct vprn_conf_err *err)
{
	int rc = vprn_conf_path(g, name, required, basedir, out, cap, err);

	if (rc != 0 || config_setting_get_member(g, name) == NULL || out[0] == '\0')
		return rc;
	if (access(out, R_OK) != 0)
		return vprn_conf_fail(err, config_setting_get_member(g, name), NULL,
			"'%s': cannot read %s: %s", name, out, strerror(errno));
	return 0;
}

int vprn_conf_log_level(
	const config_setting_t *g, const char *name, int *out, struct vprn_conf_err *err)
{
	char buf[16] = "";
	int rc = vprn_conf_str(g, name, false, buf, sizeof(buf), err);
	int lvl;

	if (rc != 0) {
		/* too long is also "not a level" */
		const config_setting_t *s = config_setting_get_member(g, name);

		return vprn_conf_fail(
			err, s, NULL, "'%s' must be one of err, warn, info, debug", name);
	}
	if (buf[0] == '\0')
		return 0;
	lvl = vprn_log_parse_level(buf);
	if (lvl < 0)
		return vprn_conf_fail(err, config_setting_get_member(g, name), NULL,
			"'%s' must be one of err, warn, info, debug", name);
	*out = lvl;
	return 0;
}

int vprn_parse_ipv4(const char *s, uint32_t *out)
{
	uint32_t addr = 0;

	for (int part = 0; part < 4; part++) {
		unsigned int v = 0;
		int digits = 0;

		if (part > 0 && *s++ != '.')
			return -EINVAL;
		if (s[0] == '0' && s[1] >= '0' && s[1] <= '9')
			return -EINVAL; /* leading zero: octal in inet_aton, ambiguous */
		while (*s >= '0' && *s <= '9' && digits < 4) {
			v = v * 10 + (unsigned int)(*s++ - '0');
			digits++;
		}
		if (digits == 0 || digits > 3 || v > 255)
			return -EINVAL;
		addr = addr << 8 | v;
	}
	if (*s != '\0')
		return -EINVAL;
	*out = addr;
	return 0;
}

int vprn_parse_prefix(const char *s, uint32_t *addr, uint8_t *len)
{
	char buf[24];
	const char *slash = strchr(s, '/');
	const char *p;
	unsigned int n = 0;

	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (vprn_parse_ipv4(buf, addr) != 0)
		return -EINVAL;
	p = slash + 1;
	if (*p == '\0' || strlen(p) > 2 || (p[0] == '0' && p[1] != '\0'))
		return -EINVAL;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (unsigned int)(*p - '0');
	}
	if (n > 32)
		return -EINVAL;
	*len = (uint8_t)n;
	return 0;
}

char *vprn_ipv4_str(uint32_t a, char *buf)
{
	snprintf(buf, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
	return buf;
}
