/* SPDX-License-Identifier: BSD-3-Clause */
/* The state digest shared by the ED and the VNOC (common/digest.h). */
#include "digest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_tree(const void *a, const void *b)
{
	const struct vprn_installed_tree *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->source != y->source)
		return x->source < y->source ? -1 : 1;
	return x->version < y->version ? -1 : x->version > y->version;
}

static uint32_t uniq_u32(uint32_t *v, uint32_t n)
{
	uint32_t k = 0;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u32);
	for (uint32_t i = 1; i < n; i++)
		if (v[i] != v[k])
			v[++k] = v[i];
	return k + 1;
}

void vprn_state_canon(struct vprn_installed_tree *trees, uint32_t *n_trees, uint32_t *in,
	uint32_t *n_in, uint32_t *out, uint32_t *n_out)
{
	uint32_t k = 0;

	if (*n_trees > 0) {
		qsort(trees, *n_trees, sizeof(*trees), cmp_tree);
		for (uint32_t i = 1; i < *n_trees; i++)
			if (cmp_tree(&trees[i], &trees[k]) != 0)
				trees[++k] = trees[i];
		*n_trees = k + 1;
	}
	*n_in = uniq_u32(in, *n_in);
	*n_out = uniq_u32(out, *n_out);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static int hash_spis(EVP_MD_CTX *md, const uint32_t *v, uint32_t n)
{
	uint8_t b[4];
	int ok;

	put32(b, n);
	ok = EVP_DigestUpdate(md, b, 4);
	for (uint32_t i = 0; i < n && ok; i++) {
		put32(b, v[i]);
		ok = EVP_DigestUpdate(md, b, 4);
	}
	return ok;
}

int vprn_state_digest(const struct vprn_installed_tree *trees, size_t n_trees, const uint32_t *in,
	size_t n_in, const uint32_t *out, size_t n_out, uint8_t digest[VPRN_STATE_DIGEST_LEN])
{
	struct vprn_installed_tree *t;
	uint32_t *s, nt, ni, no;
	EVP_MD_CTX *md;
	unsigned int len = 0;
	uint8_t b[16];
	int ok;

	if (n_trees > UINT32_MAX / 2 || n_in > UINT32_MAX / 2 || n_out > UINT32_MAX / 2)
		return -EINVAL;
	t = malloc((n_trees ? n_trees : 1) * sizeof(*t));
	s = malloc((n_in + n_out ? n_in + n_out : 1) * sizeof(*s));
	md = EVP_MD_CTX_new();
	if (t == NULL || s == NULL || md == NULL) {
		free(t);
		free(s);
		EVP_MD_CTX_free(md);
		return -ENOMEM;
	}
	if (n_trees > 0)
		memcpy(t, trees, n_trees * sizeof(*t));
	if (n_in > 0)
		memcpy(s, in, n_in * sizeof(*s));
	if (n_out > 0)
		memcpy(s + n_in, out, n_out * sizeof(*s));
	nt = (uint32_t)n_trees;
	ni = (uint32_t)n_in;
	no = (uint32_t)n_out;
	vprn_state_canon(t, &nt, s, &ni, s + n_in, &no);
	ok = EVP_DigestInit_ex(md, EVP_sha256(), NULL) && EVP_DigestUpdate(md, "vprn-sd1", 8);
	put32(b, nt);
	ok = ok && EVP_DigestUpdate(md, b, 4);
	for (uint32_t i = 0; i < nt && ok; i++) {
		put32(b, t[i].group);
		put32(b + 4, t[i].source);
		put32(b + 8, (uint32_t)(t[i].version >> 32));
		put32(b + 12, (uint32_t)t[i].version);
		ok = EVP_DigestUpdate(md, b, 16);
	}
	ok = ok && hash_spis(md, s, ni) && hash_spis(md, s + n_in, no);
	ok = ok && EVP_DigestFinal_ex(md, digest, &len) && len == VPRN_STATE_DIGEST_LEN;
	EVP_MD_CTX_free(md);
	free(t);
	free(s);
	return ok ? 0 : -EIO;
}

char *vprn_digest_hex(const uint8_t *d, size_t len, char *hex)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = x[d[i] >> 4];
		hex[2 * i + 1] = x[d[i] & 15];
	}
	hex[2 * len] = '\0';
	return hex;
}
