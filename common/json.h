/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_COMMON_JSON_H
#define VPRN_COMMON_JSON_H

/**
 * @file
 * A tiny JSON writer (control socket answers) and a small DOM parser (control
 * socket requests, vprnctl rendering). Both bounded: the writer stops at
 * VPRN_JSON_MAX_OUT bytes (and says so), the parser at a nesting depth of
 * VPRN_JSON_MAX_DEPTH and the input length it is given.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VPRN_JSON_MAX_DEPTH 32
#define VPRN_JSON_MAX_OUT (16u << 20)

/* ---- writer: commas and quoting are automatic ---------------------------- */

struct vprn_json {
	char *buf;
	size_t len, cap;
	bool failed; /**< out of memory or over the limit: output unusable */
	int depth;
	bool first[VPRN_JSON_MAX_DEPTH + 1]; /**< no element yet at this level */
	bool after_key;
};

void vprn_json_init(struct vprn_json *j);
void vprn_json_fini(struct vprn_json *j);
/** The text so far (NUL-terminated), or NULL if failed. */
const char *vprn_json_str(const struct vprn_json *j);

void vprn_json_obj_begin(struct vprn_json *j);
void vprn_json_obj_end(struct vprn_json *j);
void vprn_json_arr_begin(struct vprn_json *j);
void vprn_json_arr_end(struct vprn_json *j);
void vprn_json_key(struct vprn_json *j, const char *key);
void vprn_json_string(struct vprn_json *j, const char *s);
void vprn_json_u64(struct vprn_json *j, uint64_t v);
void vprn_json_i64(struct vprn_json *j, int64_t v);
void vprn_json_double(struct vprn_json *j, double v);
void vprn_json_bool(struct vprn_json *j, bool v);
void vprn_json_null(struct vprn_json *j);
/** Insert already-valid JSON text as one value. */
void vprn_json_raw(struct vprn_json *j, const char *text);

/* key + value shortcuts */
void vprn_json_kv_str(struct vprn_json *j, const char *key, const char *v);
void vprn_json_kv_u64(struct vprn_json *j, const char *key, uint64_t v);
void vprn_json_kv_i64(struct vprn_json *j, const char *key, int64_t v);
void vprn_json_kv_bool(struct vprn_json *j, const char *key, bool v);
/** IPv4 (host byte order) as a dotted-quad string. */
void vprn_json_kv_ipv4(struct vprn_json *j, const char *key, uint32_t addr);

/* ---- parser --------------------------------------------------------------- */

enum vprn_jtype { VPRN_J_NULL, VPRN_J_BOOL, VPRN_J_NUM, VPRN_J_STR, VPRN_J_ARR, VPRN_J_OBJ };

struct vprn_jval {
	enum vprn_jtype type;
	bool b;
	double num;
	char *str; /**< VPRN_J_STR: decoded; VPRN_J_NUM: the literal text */
	size_t n;  /**< items of an array or object */
	struct vprn_jval *items;
	char **keys; /**< object keys (decoded), parallel to items */
};

/**
 * Parse exactly one JSON value (surrounding whitespace allowed) from s[0..len).
 * @return the value (free with vprn_jval_free) or NULL with a reason in err.
 */
struct vprn_jval *vprn_json_parse(const char *s, size_t len, char *err, size_t errlen);
void vprn_jval_free(struct vprn_jval *v);

/** Member of an object (NULL if absent or v is not an object). */
const struct vprn_jval *vprn_jval_get(const struct vprn_jval *v, const char *key);

/** Re-serialise a value (for rendering nested values in a table cell). */
void vprn_json_write_value(struct vprn_json *j, const struct vprn_jval *v);

#endif /* VPRN_COMMON_JSON_H */
