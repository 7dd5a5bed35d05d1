/* SPDX-License-Identifier: BSD-3-Clause */
/* Links and the per-pair delay/jitter/loss table. */
#include "wanem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *const wanem_drop_names[WANEM_DROP_MAX] = {
#define X(n) [WANEM_DROP_##n] = #n,
	WANEM_DROPS(X)
#undef X
};

int wanem_link_find(const struct wanem *w, const char *name)
{
	for (unsigned int i = 0; i < w->n_links; i++)
		if (strcmp(w->links[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

static int valid_name(const char *s, size_t len)
{
	if (len == 0 || len >= WANEM_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

int wanem_link_parse(struct wanem *w, const char *spec)
{
	struct wanem_link *l;
	const char *eq = strchr(spec, '=');
	const char *comma = eq != NULL ? strchr(eq, ',') : NULL;
	const char *slash = comma != NULL ? strchr(comma, '/') : NULL;
	char addr[INET_ADDRSTRLEN];
	struct in_addr a;
	char *end;
	long prefix;

	if (w->n_links >= WANEM_MAX_LINKS)
		return -ENOSPC;
	if (eq == NULL || comma == NULL || slash == NULL)
		return -EINVAL;
	if (!valid_name(spec, (size_t)(eq - spec)) || comma - eq - 1 <= 0 ||
		comma - eq - 1 >= IF_NAMESIZE || slash - comma - 1 <= 0 ||
		slash - comma - 1 >= (long)sizeof(addr))
		return -EINVAL;
	l = &w->links[w->n_links];
	memset(l, 0, sizeof(*l));
	memcpy(l->name, spec, (size_t)(eq - spec));
	memcpy(l->ifname, eq + 1, (size_t)(comma - eq - 1));
	memcpy(addr, comma + 1, (size_t)(slash - comma - 1));
	addr[slash - comma - 1] = '\0';
	if (inet_pton(AF_INET, addr, &a) != 1)
		return -EINVAL;
	errno = 0;
	prefix = strtol(slash + 1, &end, 10);
	if (errno != 0 || *end != '\0' || end == slash + 1 || prefix < 1 || prefix > 30)
		return -EINVAL;
	if (wanem_link_find(w, l->name) >= 0)
		return -EEXIST;
	l->addr = ntohl(a.s_addr);
	l->prefix = (uint8_t)prefix;
	l->mask = prefix == 0 ? 0 : ~0u << (32 - prefix);
	l->fd = -1;
	w->n_links++;
	return 0;
}

int wanem_pairs_init(struct wanem *w)
{
	size_t n = w->n_links;

	free(w->pairs);
	w->pairs = calloc(n * n > 0 ? n * n : 1, sizeof(*w->pairs));
	return w->pairs == NULL ? -ENOMEM : 0;
}

static int resolve(const struct wanem *w, const char *name, unsigned int *lo, unsigned int *hi)
{
	int i;

	if (strcmp(name, "*") == 0) {
		*lo = 0;
		*hi = w->n_links;
		return 0;
	}
	i = wanem_link_find(w, name);
	if (i < 0)
		return i;
	*lo = (unsigned int)i;
	*hi = (unsigned int)i + 1;
	return 0;
}

/* Negative means "unchanged"; NaN fails every comparison and is refused. */
static int check_range(double v, double max)
{
	if (v < 0)
		return 0;
	return v >= 0 && v <= max ? 0 : -ERANGE;
}

int wanem_set_pair(struct wanem *w, const char *src, const char *dst, double delay_ms,
	double jitter_ms, double loss_pct)
{
	unsigned int s0, s1, d0, d1;
	int rc;

	if (check_range(delay_ms, WANEM_MAX_MS) < 0 || check_range(jitter_ms, WANEM_MAX_MS) < 0 ||
		check_range(loss_pct, 100.0) < 0)
		return -ERANGE;
	rc = resolve(w, src, &s0, &s1);
	if (rc == 0)
		rc = resolve(w, dst, &d0, &d1);
	if (rc < 0)
		return rc;
	for (unsigned int s = s0; s < s1; s++) {
		for (unsigned int d = d0; d < d1; d++) {
			struct wanem_pair *p = wanem_pair(w, s, d);

			if (delay_ms >= 0)
				p->delay_ns = (uint64_t)(delay_ms * 1e6);
			if (jitter_ms >= 0)
				p->jitter_ns = (uint64_t)(jitter_ms * 1e6);
			if (loss_pct >= 0)
				p->loss = loss_pct / 100.0;
		}
	}
	return 0;
}

double wanem_rand(struct wanem *w)
{
	/* xorshift64*: fast, good enough for loss and jitter, reproducible with --seed. */
	uint64_t x = w->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	w->rng = x;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}
