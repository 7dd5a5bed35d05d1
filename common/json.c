/* SPDX-License-Identifier: BSD-3-Clause */
#include "json.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- writer ---------------------------------------------------------------- */

void vprn_json_init(struct vprn_json *j)
{
	memset(j, 0, sizeof(*j));
	j->first[0] = true;
}

void vprn_json_fini(struct vprn_json *j)
{
	free(j->buf);
	memset(j, 0, sizeof(*j));
}

const char *vprn_json_str(const struct vprn_json *j)
{
	if (j->failed)
		return NULL;
	return j->buf != NULL ? j->buf : "";
}

static void put(struct vprn_json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap != 0 ? j->cap : 256;
		char *nb;

		while (cap < j->len + n + 1)
			cap *= 2;
		if (cap > VPRN_JSON_MAX_OUT || (nb = realloc(j->buf, cap)) == NULL) {
			j->failed = true;
			return;
		}
		j->buf = nb;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void putf(struct vprn_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(struct vprn_json *j, const char *fmt, ...)
{
	char tmp[64];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(tmp))
		put(j, tmp, (size_t)n);
}

/* Before any value: a comma unless first at this level or right after a key. */
static void sep(struct vprn_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		put(j, ",", 1);
	j->first[j->depth] = false;
}

static void open_(struct vprn_json *j, char c)
{
	sep(j);
	put(j, &c, 1);
	if (j->depth >= VPRN_JSON_MAX_DEPTH) {
		j->failed = true;
		return;
	}
	j->first[++j->depth] = true;
}

static void close_(struct vprn_json *j, char c)
{
	put(j, &c, 1);
	if (j->depth > 0)
		j->depth--;
}

void vprn_json_obj_begin(struct vprn_json *j)
{
	open_(j, '{');
}

void vprn_json_obj_end(struct vprn_json *j)
{
	close_(j, '}');
}

void vprn_json_arr_begin(struct vprn_json *j)
{
	open_(j, '[');
}

void vprn_json_arr_end(struct vprn_json *j)
{
	close_(j, ']');
}

static void quoted(struct vprn_json *j, const char *s)
{
	put(j, "\"", 1);
	for (; s != NULL && *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			put(j, e, 2);
		} else if (c == '\n') {
			put(j, "\\n", 2);
		} else if (c == '\t') {
			put(j, "\\t", 2);
		} else if (c < 0x20 || c == 0x7f) {
			putf(j, "\\u%04x", c);
		} else {
			put(j, (const char *)&c, 1);
		}
	}
	put(j, "\"", 1);
}

void vprn_json_key(struct vprn_json *j, const char *key)
{
	sep(j);
	quoted(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void vprn_json_string(struct vprn_json *j, const char *s)
{
	sep(j);
	quoted(j, s);
}

void vprn_json_u64(struct vprn_json *j, uint64_t v)
{
	sep(j);
	putf(j, "%" PRIu64, v);
}

void vprn_json_i64(struct vprn_json *j, int64_t v)
{
	sep(j);
	putf(j, "%" PRId64, v);
}

void vprn_json_double(struct vprn_json *j, double v)
{
	sep(j);
	if (isfinite(v))
		putf(j, "%.6g", v);
	else
		put(j, "null", 4);
}

void vprn_json_bool(struct vprn_json *j, bool v)
{
	sep(j);
	put(j, v ? "true" : "false", v ? 4 : 5);
}

void vprn_json_null(struct vprn_json *j)
{
	sep(j);
	put(j, "null", 4);
}

void vprn_json_raw(struct vprn_json *j, const char *text)
{
	sep(j);
	put(j, text, strlen(text));
}

void vprn_json_kv_str(struct vprn_json *j, const char *key, const char *v)
{
	vprn_json_key(j, key);
	vprn_json_string(j, v);
}

void vprn_json_kv_u64(struct vprn_json *j, const char *key, uint64_t v)
{
	vprn_json_key(j, key);
	vprn_json_u64(j, v);
}

void vprn_json_kv_i64(struct vprn_json *j, const char *key, int64_t v)
{
	vprn_json_key(j, key);
	vprn_json_i64(j, v);
}

void vprn_json_kv_bool(struct vprn_json *j, const char *key, bool v)
{
	vprn_json_key(j, key);
	vprn_json_bool(j, v);
}

void vprn_json_kv_ipv4(struct vprn_json *j, const char *key, uint32_t a)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		a & 0xff);
	vprn_json_kv_str(j, key, buf);
}

void vprn_json_write_value(struct vprn_json *j, const struct vprn_jval *v)
{
	switch (v->type) {
	case VPRN_J_NULL:
		vprn_json_null(j);
		break;
	case VPRN_J_BOOL:
		vprn_json_bool(j, v->b);
		break;
	case VPRN_J_NUM:
		vprn_json_raw(j, v->str);
		break;
	case VPRN_J_STR:
		vprn_json_string(j, v->str);
		break;
	case VPRN_J_ARR:
		vprn_json_arr_begin(j);
		for (size_t i = 0; i < v->n; i++)
			vprn_json_write_value(j, &v->items[i]);
		vprn_json_arr_end(j);
		break;
	case VPRN_J_OBJ:
		vprn_json_obj_begin(j);
		for (size_t i = 0; i < v->n; i++) {
			vprn_json_key(j, v->keys[i]);
			vprn_json_write_value(j, &v->items[i]);
		}
		vprn_json_obj_end(j);
		break;
	}
}

/* ---- parser ---------------------------------------------------------------- */

struct parser {
	const char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
};

static int perr(struct parser *p, const char *what)
{
	if (p->err != NULL && p->errlen > 0)
		snprintf(p->err, p->errlen, "%s at offset %zu", what, p->pos);
	return -EINVAL;
}

static void ws(struct parser *p)
{
	while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
					  p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int peek(struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int hex4(struct parser *p, unsigned int *out)
{
	unsigned int v = 0;

	if (p->len - p->pos < 4)
		return perr(p, "short \\u escape");
	for (int i = 0; i < 4; i++) {
		char c = p->s[p->pos++];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned int)(c - 'A' + 10);
		else
			return perr(p, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static size_t utf8(unsigned int cp, char *o)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12);
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18);
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/* A string at p->pos (after the opening quote is checked); decoded into *out. */
static int pstring(struct parser *p, char **out)
{
	size_t start = ++p->pos; /* skip '"' */
	size_t cap = 0, o = 0;
	char *buf;

	/* The decoded text is never longer than the raw text (escapes shrink). */
	while (p->pos < p->len && p->s[p->pos] != '"') {
		if (p->s[p->pos] == '\\')
			p->pos++;
		p->pos++;
	}
	if (p->pos >= p->len)
		return perr(p, "unterminated string");
	cap = p->pos - start + 1;
	p->pos = start;
	buf = malloc(cap);
	if (buf == NULL)
		return -ENOMEM;
	while (p->s[p->pos] != '"') {
		unsigned char c = (unsigned char)p->s[p->pos++];

		if (c < 0x20) {
			free(buf);
			return perr(p, "control character in string");
		}
		if (c != '\\') {
			buf[o++] = (char)c;
			continue;
		}
		c = (unsigned char)p->s[p->pos++];
		switch (c) {
		case '"':
		case '\\':
		case '/':
			buf[o++] = (char)c;
			break;
		case 'b':
			buf[o++] = '\b';
			break;
		case 'f':
			buf[o++] = '\f';
			break;
		case 'n':
			buf[o++] = '\n';
			break;
		case 'r':
			buf[o++] = '\r';
			break;
		case 't':
			buf[o++] = '\t';
			break;
		case 'u': {
			unsigned int cp;
			char tmp[4];
			size_t n;

			if (hex4(p, &cp) != 0) {
				free(buf);
				return -EINVAL;
			}
			if (cp == 0) {
				free(buf);
				return perr(p, "NUL in string");
			}
			n = utf8(cp, tmp);
			/* \uXXXX is 6 raw bytes, at most 3 decoded: always fits. */
			memcpy(buf + o, tmp, n);
			o += n;
			break;
		}
		default:
			free(buf);
			return perr(p, "bad escape");
		}
	}
	p->pos++; /* closing quote */
	buf[o] = '\0';
	*out = buf;
	return 0;
}

static int pvalue(struct parser *p, struct vprn_jval *v, int depth);

static int push(struct vprn_jval *v, size_t *cap, bool with_keys)
{
	if (v->n < *cap)
		return 0;
	size_t ncap = *cap != 0 ? *cap * 2 : 4;
	struct vprn_jval *ni = realloc(v->items, ncap * sizeof(*ni));

	if (ni == NULL)
		return -ENOMEM;
	v->items = ni;
	if (with_keys) {
		char **nk = realloc(v->keys, ncap * sizeof(*nk));

		if (nk == NULL)
			return -ENOMEM;
		v->keys = nk;
	}
	*cap = ncap;
	return 0;
}

static int parray(struct parser *p, struct vprn_jval *v, int depth)
{
	size_t cap = 0;

	v->type = VPRN_J_ARR;
	p->pos++;
	ws(p);
	if (peek(p) == ']') {
		p->pos++;
		return 0;
	}
	for (;;) {
		if (push(v, &cap, false) != 0)
			return -ENOMEM;
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++;
		if (pvalue(p, &v->items[v->n - 1], depth + 1) != 0)
			return -EINVAL;
		ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == ']') {
			p->pos++;
			return 0;
		}
		return perr(p, "expected ',' or ']'");
	}
}

static int pobject(struct parser *p, struct vprn_jval *v, int depth)
{
	size_t cap = 0;

	v->type = VPRN_J_OBJ;
	p->pos++;
	ws(p);
	if (peek(p) == '}') {
		p->pos++;
		return 0;
	}
	for (;;) {
		char *key = NULL;

		ws(p);
		if (peek(p) != '"')
			return perr(p, "expected a key");
		if (pstring(p, &key) != 0)
			return -EINVAL;
		if (push(v, &cap, true) != 0) {
			free(key);
			return -ENOMEM;
		}
		v->keys[v->n] = key;
		memset(&v->items[v->n], 0, sizeof(v->items[0]));
		v->n++;
		ws(p);
		if (peek(p) != ':')
			return perr(p, "expected ':'");
		p->pos++;
		if (pvalue(p, &v->items[v->n - 1], depth + 1) != 0)
			return -EINVAL;
		ws(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) == '}') {
			p->pos++;
			return 0;
		}
		return perr(p, "expected ',' or '}'");
	}
}

static int pnumber(struct parser *p, struct vprn_jval *v)
{
	size_t start = p->pos;
	char *end;

	if (peek(p) == '-')
		p->pos++;
	if (peek(p) < '0' || peek(p) > '9')
		return perr(p, "bad number");
	while (p->pos < p->len && strchr("0123456789.eE+-", p->s[p->pos]) != NULL)
		p->pos++;
	v->type = VPRN_J_NUM;
	v->str = strndup(p->s + start, p->pos - start);
	if (v->str == NULL)
		return -ENOMEM;
	v->num = strtod(v->str, &end);
	if (*end != '\0')
		return perr(p, "bad number");
	return 0;
}

static int literal(struct parser *p, const char *word)
{
	size_t n = strlen(word);

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return perr(p, "unexpected token");
	p->pos += n;
	return 0;
}

static int pvalue(struct parser *p, struct vprn_jval *v, int depth)
{
	if (depth > VPRN_JSON_MAX_DEPTH)
		return perr(p, "nesting too deep");
	ws(p);
	switch (peek(p)) {
	case '{':
		return pobject(p, v, depth);
	case '[':
		return parray(p, v, depth);
	case '"':
		v->type = VPRN_J_STR;
		return pstring(p, &v->str);
	case 't':
		v->type = VPRN_J_BOOL;
		v->b = true;
		return literal(p, "true");
	case 'f':
		v->type = VPRN_J_BOOL;
		return literal(p, "false");
	case 'n':
		v->type = VPRN_J_NULL;
		return literal(p, "null");
	case -1:
		return perr(p, "unexpected end");
	default:
		return pnumber(p, v);
	}
}

static void jval_clear(struct vprn_jval *v)
{
	for (size_t i = 0; i < v->n; i++) {
		jval_clear(&v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->str);
}

void vprn_jval_free(struct vprn_jval *v)
{
	if (v == NULL)
		return;
	jval_clear(v);
	free(v);
}

struct vprn_jval *vprn_json_parse(const char *s, size_t len, char *err, size_t errlen)
{
	struct parser p = { .s = s, .len = len, .err = err, .errlen = errlen };
	struct vprn_jval *v = calloc(1, sizeof(*v));

	if (v == NULL)
		return NULL;
	if (memchr(s, '\0', len) != NULL) {
		perr(&p, "NUL byte in input");
		free(v);
		return NULL;
	}
	if (pvalue(&p, v, 0) != 0) {
		vprn_jval_free(v);
		return NULL;
	}
	ws(&p);
	if (p.pos != p.len) {
		perr(&p, "trailing characters");
		vprn_jval_free(v);
		return NULL;
	}
	return v;
}

const struct vprn_jval *vprn_jval_get(const struct vprn_jval *v, const char *key)
{
	if (v == NULL || v->type != VPRN_J_OBJ)
		return NULL;
	for (size_t i = 0; i < v->n; i++)
		if (strcmp(v->keys[i], key) == 0)
			return &v->items[i];
	return NULL;
}
