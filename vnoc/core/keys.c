/* SPDX-License-Identifier: BSD-3-Clause */
#include "keys.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "common/log.h"

#define MAX_RETIRING 4

struct gen {
	bool valid;
	uint32_t spi;
	uint64_t generation;
	uint64_t installed_ms;
	uint8_t key[32], salt[4], auth[32];
};

struct rx {
	uint32_t site;
	uint64_t seq; /* Ack we wait for (0: none) */
	uint64_t gen; /* generation that install carries */
	uint64_t deadline_ms;
	uint32_t tries;
	bool acked; /* acknowledged the channel's pending generation */
	bool failed;
};

struct retiring {
	struct gen g;
	uint64_t at_ms;
};

struct chan {
	uint32_t id;
	uint32_t vpn, group, sender;
	struct vnoc_sa_params p;
	enum vnoc_chan_state state;
	struct gen cur, next;
	struct rx *rx;
	size_t n_rx, cap_rx;
	uint64_t tx_seq, tx_deadline_ms;
	uint32_t tx_tries;
	bool rekey_wanted;
	struct retiring retiring[MAX_RETIRING];
	size_t n_retiring;
};

struct vnoc_keys {
	struct vnoc_keys_conf conf;
	struct vnoc_spi_alloc *spis;
	struct vnoc_outbox out;
	struct vnoc_keys_events ev;
	struct chan **chans;
	size_t n_chans, cap_chans;
	uint32_t next_id;
};

struct vnoc_keys *vnoc_keys_create(const struct vnoc_keys_conf *conf, struct vnoc_spi_alloc *spis,
	const struct vnoc_outbox *out, const struct vnoc_keys_events *ev)
{
	struct vnoc_keys *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->conf = *conf;
	k->spis = spis;
	k->out = *out;
	k->ev = *ev;
	k->next_id = 1;
	return k;
}

void vnoc_keys_set_conf(struct vnoc_keys *k, const struct vnoc_keys_conf *conf)
{
	k->conf = *conf;
}

static void gen_wipe(struct gen *g)
{
	OPENSSL_cleanse(g, sizeof(*g));
}

static void chan_free(struct chan *c)
{
	gen_wipe(&c->cur);
	gen_wipe(&c->next);
	for (size_t i = 0; i < c->n_retiring; i++)
		gen_wipe(&c->retiring[i].g);
	free(c->rx);
	free(c);
}

void vnoc_keys_destroy(struct vnoc_keys *k)
{
	if (k == NULL)
		return;
	for (size_t i = 0; i < k->n_chans; i++)
		chan_free(k->chans[i]);
	free(k->chans);
	free(k);
}

static struct chan *chan_find(const struct vnoc_keys *k, uint32_t id, size_t *idx)
{
	for (size_t i = 0; i < k->n_chans; i++) {
		if (k->chans[i]->id == id) {
			if (idx != NULL)
				*idx = i;
			return k->chans[i];
		}
	}
	return NULL;
}

static struct rx *rx_find(struct chan *c, uint32_t site)
{
	for (size_t i = 0; i < c->n_rx; i++)
		if (c->rx[i].site == site)
			return &c->rx[i];
	return NULL;
}

static int rx_add(struct chan *c, uint32_t site)
{
	if (rx_find(c, site) != NULL)
		return -EEXIST;
	if (c->n_rx == c->cap_rx) {
		size_t cap = c->cap_rx ? c->cap_rx * 2 : 4;
		struct rx *r = realloc(c->rx, cap * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		c->rx = r;
		c->cap_rx = cap;
	}
	c->rx[c->n_rx++] = (struct rx){ .site = site };
	return 0;
}

static uint64_t hard_until(const struct chan *c, const struct gen *g, uint64_t extra_ms)
{
	return g->installed_ms + (uint64_t)c->p.hard_seconds * 1000 + extra_ms;
}

static int gen_new(struct vnoc_keys *k, struct chan *c, struct gen *g, uint64_t now_ms)
{
	uint64_t prev = c->next.valid ? c->next.generation : c->cur.generation;

	memset(g, 0, sizeof(*g));
	g->spi = vnoc_spi_get(k->spis, now_ms);
	if (g->spi == 0)
		return -ENOSPC;
	if (RAND_bytes(g->key, sizeof(g->key)) != 1 || RAND_bytes(g->salt, sizeof(g->salt)) != 1 ||
		RAND_bytes(g->auth, sizeof(g->auth)) != 1) {
		vnoc_spi_release(k->spis, g->spi, 0);
		gen_wipe(g);
		return -EIO;
	}
	g->generation = prev + 1;
	g->installed_ms = now_ms;
	g->valid = true;
	return 0;
}

static bool site_ref(struct vnoc_keys *k, uint32_t site, struct vnoc_site_ref *ref)
{
	memset(ref, 0, sizeof(*ref));
	return k->ev.site != NULL && k->ev.site(k->ev.ctx, site, ref) && ref->name != NULL;
}

/* Send one SaInstall; the seq to wait for, or 0 if it could not be queued. */
static uint64_t send_install(struct vnoc_keys *k, const struct chan *c, const struct gen *g,
	uint32_t site, enum vprn_direction dir, uint32_t peer)
{
	struct vnoc_site_ref me, other, snd;
	struct vprn_msg msg;
	struct vprn_sa_install *s = &msg.u.sa_install;
	uint64_t seq = 0;

	if (!site_ref(k, site, &me) || !site_ref(k, peer, &other) || !site_ref(k, c->sender, &snd))
		return 0;
	vprn_msg_init(&msg, VPRN_MSG_SA_INSTALL, 0);
	s->spi = g->spi;
	s->direction = dir;
	s->transform = (enum vprn_transform)c->p.transform;
	s->key_len = vnoc_transform_key_len(c->p.transform);
	s->salt_len = vnoc_transform_salt_len(c->p.transform);
	s->auth_key_len = vnoc_transform_auth_len(c->p.transform);
	memcpy(s->key, g->key, s->key_len);
	memcpy(s->salt, g->salt, s->salt_len);
	memcpy(s->auth_key, g->auth, s->auth_key_len);
	s->esn = true;
	s->replay_window = c->p.replay_window;
	s->lifetime.soft_seconds = c->p.soft_seconds;
	s->lifetime.hard_seconds = c->p.hard_seconds;
	s->lifetime.soft_bytes = c->p.soft_bytes;
	s->lifetime.hard_bytes = c->p.hard_bytes;
	s->local_addr = me.wan_addr;
	s->generation = g->generation;
	if (c->p.mode == VNOC_SA_GROUP) {
		s->group = c->group;
		vprn_msg_strcpy(s->sender, sizeof(s->sender), snd.name);
	} else {
		vprn_msg_strcpy(s->peer, sizeof(s->peer), other.name);
		s->peer_addr = other.wan_addr;
	}
	if (k->out.send(k->out.ctx, site, &msg) == 0)
		seq = msg.seq;
	OPENSSL_cleanse(&msg, sizeof(msg));
	return seq;
}

static void send_remove(struct vnoc_keys *k, uint32_t site, uint32_t spi, enum vprn_direction dir,
	uint32_t grace_ms)
{
	struct vprn_msg msg;

	vprn_msg_init(&msg, VPRN_MSG_SA_REMOVE, 0);
	msg.u.sa_remove.spi = spi;
	msg.u.sa_remove.direction = dir;
	msg.u.sa_remove.grace_ms = grace_ms;
	/* not acknowledged by design: a missed remove ends at the hard lifetime */
	(void)k->out.send(k->out.ctx, site, &msg);
}

static void rx_install(
	struct vnoc_keys *k, struct chan *c, struct rx *r, const struct gen *g, uint64_t now_ms)
{
	r->gen = g->generation;
	r->acked = false;
	r->seq = send_install(k, c, g, r->site, VPRN_DIR_INBOUND, c->sender);
	r->deadline_ms = now_ms + k->conf.ack_timeout_ms;
}

static void tx_install(struct vnoc_keys *k, struct chan *c, uint64_t now_ms)
{
	/* pairwise: the peer is the one receiver; group mode has no single peer */
	uint32_t peer = c->n_rx > 0 ? c->rx[0].site : c->sender;

	c->tx_seq = send_install(k, c, &c->next, c->sender, VPRN_DIR_OUTBOUND, peer);
	c->tx_deadline_ms = now_ms + k->conf.ack_timeout_ms;
}

static void site_failed(struct vnoc_keys *k, struct chan *c, struct rx *r)
{
	r->failed = true;
	r->seq = 0;
	LOG_WARN("keys", "chan %u: site %u did not acknowledge SPI 0x%08x, left out", c->id,
		r->site, c->next.valid ? c->next.spi : c->cur.spi);
	if (k->ev.site_failed != NULL)
		k->ev.site_failed(k->ev.ctx, c->id, r->site);
}

/* All receivers acknowledged (or failed): switch the sender. */
static void check_rx_done(struct vnoc_keys *k, struct chan *c, uint64_t now_ms)
{
	if (c->state != VNOC_CHAN_WAIT_RX)
		return;
	for (size_t i = 0; i < c->n_rx; i++)
		if (!c->rx[i].acked && !c->rx[i].failed)
			return;
	c->state = VNOC_CHAN_WAIT_TX;
	c->tx_tries = 0;
	tx_install(k, c, now_ms);
}

static void start_gen(struct vnoc_keys *k, struct chan *c, uint64_t now_ms)
{
	if (gen_new(k, c, &c->next, now_ms) != 0) {
		LOG_ERR("keys", "chan %u: no SPI or no randomness, rekey postponed", c->id);
		c->rekey_wanted = true;
		return;
	}
	c->rekey_wanted = false;
	c->state = VNOC_CHAN_WAIT_RX;
	for (size_t i = 0; i < c->n_rx; i++) {
		c->rx[i].tries = 0;
		if (!c->rx[i].failed)
			rx_install(k, c, &c->rx[i], &c->next, now_ms);
	}
	check_rx_done(k, c, now_ms);
}

static void retire_now(struct vnoc_keys *k, struct chan *c, size_t i)
{
	struct gen *g = &c->retiring[i].g;

	for (size_t r = 0; r < c->n_rx; r++)
		send_remove(k, c->rx[r].site, g->spi, VPRN_DIR_INBOUND, 0);
	/* the sender switched long ago: its old outbound SA goes too (state digest) */
	send_remove(k, c->sender, g->spi, VPRN_DIR_OUTBOUND, 0);
	vnoc_spi_release(k->spis, g->spi, hard_until(c, g, k->conf.retire_grace_ms));
	gen_wipe(g);
	c->retiring[i] = c->retiring[--c->n_retiring];
}

static void tx_acked(struct vnoc_keys *k, struct chan *c, uint64_t now_ms)
{
	if (c->cur.valid) {
		if (c->n_retiring == MAX_RETIRING)
			retire_now(k, c, 0);
		c->retiring[c->n_retiring++] =
			(struct retiring){ c->cur, now_ms + k->conf.retire_grace_ms };
	}
	c->cur = c->next;
	gen_wipe(&c->next);
	c->state = VNOC_CHAN_ACTIVE;
	c->tx_seq = 0;
	LOG_INFO("keys", "chan %u: generation %llu active, SPI 0x%08x", c->id,
		(unsigned long long)c->cur.generation, c->cur.spi);
	if (k->ev.chan_ready != NULL)
		k->ev.chan_ready(k->ev.ctx, c->id, c->cur.spi, c->cur.generation);
	if (c->rekey_wanted)
		start_gen(k, c, now_ms);
}

int64_t vnoc_keys_open(struct vnoc_keys *k, uint32_t vpn, uint32_t group, uint32_t sender,
	const uint32_t *receivers, size_t n_receivers, const struct vnoc_sa_params *params,
	uint64_t now_ms)
{
	struct chan *c;

	if (vnoc_transform_key_len(params->transform) == 0 ||
		(params->mode != VNOC_SA_PAIRWISE && params->mode != VNOC_SA_GROUP) ||
		(params->mode == VNOC_SA_PAIRWISE && n_receivers != 1))
		return -EINVAL;
	if (k->n_chans == k->cap_chans) {
		size_t cap = k->cap_chans ? k->cap_chans * 2 : 16;
		struct chan **v = realloc(k->chans, cap * sizeof(*v));

		if (v == NULL)
			return -ENOMEM;
		k->chans = v;
		k->cap_chans = cap;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	*c = (struct chan){
		.id = k->next_id++, .vpn = vpn, .group = group, .sender = sender, .p = *params
	};
	for (size_t i = 0; i < n_receivers; i++) {
		if (receivers[i] != sender && rx_add(c, receivers[i]) == -ENOMEM) {
			chan_free(c);
			return -ENOMEM;
		}
	}
	k->chans[k->n_chans++] = c;
	start_gen(k, c, now_ms);
	return c->id;
}

int vnoc_keys_close(struct vnoc_keys *k, uint32_t id, uint64_t now_ms)
{
	size_t idx;
	struct chan *c = chan_find(k, id, &idx);
	uint32_t grace = (uint32_t)k->conf.retire_grace_ms;

	if (c == NULL)
		return -ENOENT;
	for (size_t r = 0; r < c->n_rx; r++) {
		if (c->cur.valid)
			send_remove(k, c->rx[r].site, c->cur.spi, VPRN_DIR_INBOUND, grace);
		if (c->next.valid)
			send_remove(k, c->rx[r].site, c->next.spi, VPRN_DIR_INBOUND, grace);
	}
	/*
	 * The sender keeps its outbound SA for the grace too: datagrams of the
	 * previous tree still in flight towards it are forwarded on that tree
	 * (docs/dataplane.md, "Tree change"); it uses it only while it has no
	 * newer SA towards that peer.
	 */
	if (c->cur.valid)
		send_remove(k, c->sender, c->cur.spi, VPRN_DIR_OUTBOUND, grace);
	if (c->next.valid && c->state == VNOC_CHAN_WAIT_TX)
		send_remove(k, c->sender, c->next.spi, VPRN_DIR_OUTBOUND, grace);
	while (c->n_retiring > 0)
		retire_now(k, c, 0);
	if (c->cur.valid)
		vnoc_spi_release(k->spis, c->cur.spi, hard_until(c, &c->cur, grace));
	if (c->next.valid)
		vnoc_spi_release(k->spis, c->next.spi, hard_until(c, &c->next, grace));
	chan_free(c);
	k->chans[idx] = k->chans[--k->n_chans];
	(void)now_ms;
	return 0;
}

int vnoc_keys_add_receiver(struct vnoc_keys *k, uint32_t id, uint32_t site, uint64_t now_ms)
{
	struct chan *c = chan_find(k, id, NULL);
	struct rx *r;
	int rc;

	if (c == NULL)
		return -ENOENT;
	if (c->p.mode != VNOC_SA_GROUP || site == c->sender)
		return -EINVAL;
	rc = rx_add(c, site);
	if (rc != 0)
		return rc;
	r = &c->rx[c->n_rx - 1];
	/* during a rekey the newcomer gets the coming generation, else the current one */
	if (c->next.valid)
		rx_install(k, c, r, &c->next, now_ms);
	else if (c->cur.valid)
		rx_install(k, c, r, &c->cur, now_ms);
	return 0;
}

int vnoc_keys_remove_receiver(struct vnoc_keys *k, uint32_t id, uint32_t site, uint64_t now_ms)
{
	struct chan *c = chan_find(k, id, NULL);
	struct rx *r = c ? rx_find(c, site) : NULL;

	if (r == NULL)
		return -ENOENT;
	if (c->cur.valid)
		send_remove(k, site, c->cur.spi, VPRN_DIR_INBOUND, 0);
	if (c->next.valid)
		send_remove(k, site, c->next.spi, VPRN_DIR_INBOUND, 0);
	*r = c->rx[--c->n_rx];
	if (c->p.mode != VNOC_SA_GROUP)
		return 0;
	/* the leaver knew the key: the others get a fresh one */
	if (c->state == VNOC_CHAN_ACTIVE)
		start_gen(k, c, now_ms);
	else
		c->rekey_wanted = true;
	check_rx_done(k, c, now_ms);
	return 0;
}

int vnoc_keys_rekey(struct vnoc_keys *k, uint32_t id, uint64_t now_ms)
{
	struct chan *c = chan_find(k, id, NULL);

	if (c == NULL)
		return -ENOENT;
	if (c->state != VNOC_CHAN_ACTIVE)
		return -EBUSY;
	start_gen(k, c, now_ms);
	return 0;
}

int vnoc_keys_ack(struct vnoc_keys *k, uint32_t site, uint64_t ref_seq, bool ok, uint64_t now_ms)
{
	if (ref_seq == 0)
		return 0;
	for (size_t i = 0; i < k->n_chans; i++) {
		struct chan *c = k->chans[i];

		if (c->state == VNOC_CHAN_WAIT_TX && c->sender == site && c->tx_seq == ref_seq) {
			if (ok) {
				tx_acked(k, c, now_ms);
			} else {
				LOG_ERR("keys", "chan %u: sender %u refused the outbound SA", c->id,
					site);
				c->state = VNOC_CHAN_FAILED;
				if (k->ev.site_failed != NULL)
					k->ev.site_failed(k->ev.ctx, c->id, site);
			}
			return 1;
		}
		for (size_t r = 0; r < c->n_rx; r++) {
			struct rx *x = &c->rx[r];

			if (x->site != site || x->seq != ref_seq)
				continue;
			x->seq = 0;
			if (!ok)
				site_failed(k, c, x);
			else
				x->acked = true;
			check_rx_done(k, c, now_ms);
			return 1;
		}
	}
	return 0;
}

void vnoc_keys_site_reset(struct vnoc_keys *k, uint32_t site, uint64_t now_ms)
{
	/* a restarted ED lost its SAs: give it every current (and coming) one again */
	for (size_t i = 0; i < k->n_chans; i++) {
		struct chan *c = k->chans[i];
		struct rx *r = rx_find(c, site);

		if (r != NULL) {
			r->failed = false;
			r->tries = 0;
			if (c->next.valid && c->state == VNOC_CHAN_WAIT_RX)
				rx_install(k, c, r, &c->next, now_ms);
			else if (c->cur.valid)
				(void)send_install(
					k, c, &c->cur, site, VPRN_DIR_INBOUND, c->sender);
		}
		if (c->sender == site && c->cur.valid) {
			uint32_t peer = c->n_rx > 0 ? c->rx[0].site : c->sender;

			(void)send_install(k, c, &c->cur, site, VPRN_DIR_OUTBOUND, peer);
		}
	}
}

static void poll_rx(struct vnoc_keys *k, struct chan *c, uint64_t now_ms)
{
	const struct gen *g = c->next.valid ? &c->next : &c->cur;

	for (size_t r = 0; r < c->n_rx; r++) {
		struct rx *x = &c->rx[r];

		if (x->acked || x->failed || x->deadline_ms > now_ms || x->gen == 0)
			continue;
		if (x->tries >= k->conf.ack_retries) {
			site_failed(k, c, x);
			continue;
		}
		x->tries++;
		rx_install(k, c, x, g->generation == x->gen ? g : &c->cur, now_ms);
	}
	check_rx_done(k, c, now_ms);
}

static void poll_chan(struct vnoc_keys *k, struct chan *c, uint64_t now_ms)
{
	for (size_t i = 0; i < c->n_retiring;) {
		if (c->retiring[i].at_ms <= now_ms)
			retire_now(k, c, i);
		else
			i++;
	}
	switch (c->state) {
	case VNOC_CHAN_WAIT_RX:
		poll_rx(k, c, now_ms);
		break;
	case VNOC_CHAN_WAIT_TX:
		poll_rx(k, c, now_ms); /* newcomers of this generation */
		if (c->tx_deadline_ms > now_ms)
			break;
		if (c->tx_tries >= k->conf.ack_retries) {
			LOG_ERR("keys", "chan %u: sender %u never switched", c->id, c->sender);
			c->state = VNOC_CHAN_FAILED;
			if (k->ev.site_failed != NULL)
				k->ev.site_failed(k->ev.ctx, c->id, c->sender);
			break;
		}
		c->tx_tries++;
		tx_install(k, c, now_ms);
		break;
	case VNOC_CHAN_ACTIVE:
		/* group-mode newcomers still waiting for their first ack */
		poll_rx(k, c, now_ms);
		if (c->rekey_wanted ||
			now_ms >= c->cur.installed_ms + (uint64_t)c->p.soft_seconds * 1000)
			start_gen(k, c, now_ms);
		break;
	case VNOC_CHAN_FAILED:
		break;
	}
}

void vnoc_keys_poll(struct vnoc_keys *k, uint64_t now_ms)
{
	for (size_t i = 0; i < k->n_chans; i++)
		poll_chan(k, k->chans[i], now_ms);
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

uint64_t vnoc_keys_next_deadline(const struct vnoc_keys *k)
{
	uint64_t t = UINT64_MAX;

	for (size_t i = 0; i < k->n_chans; i++) {
		const struct chan *c = k->chans[i];

		for (size_t r = 0; r < c->n_retiring; r++)
			t = min64(t, c->retiring[r].at_ms);
		for (size_t r = 0; r < c->n_rx; r++)
			if (!c->rx[r].acked && !c->rx[r].failed && c->rx[r].gen != 0)
				t = min64(t, c->rx[r].deadline_ms);
		if (c->state == VNOC_CHAN_WAIT_TX)
			t = min64(t, c->tx_deadline_ms);
		if (c->state == VNOC_CHAN_ACTIVE)
			t = min64(t, c->cur.installed_ms + (uint64_t)c->p.soft_seconds * 1000);
	}
	return t;
}

static void info_of(const struct chan *c, const struct gen *g, bool current, bool with_keys,
	uint64_t now_ms, vnoc_sa_cb cb, void *ctx)
{
	static uint32_t none;
	struct vnoc_sa_info sa = {
		.chan = c->id,
		.vpn = c->vpn,
		.group = c->group,
		.sender = c->sender,
		.receivers = &none,
		.n_receivers = 0,
		.mode = c->p.mode,
		.transform = c->p.transform,
		.state = c->state,
		.spi = g->spi,
		.generation = g->generation,
		.current = current,
		.age_ms = now_ms - g->installed_ms,
	};
	uint32_t sites[256];

	for (size_t r = 0; r < c->n_rx && sa.n_receivers < 256; r++)
		if (!c->rx[r].failed)
			sites[sa.n_receivers++] = c->rx[r].site;
	sa.receivers = sites;
	if (with_keys) {
		sa.key = g->key;
		sa.key_len = vnoc_transform_key_len(c->p.transform);
		sa.salt = g->salt;
		sa.salt_len = vnoc_transform_salt_len(c->p.transform);
		sa.auth = g->auth;
		sa.auth_len = vnoc_transform_auth_len(c->p.transform);
	}
	cb(ctx, &sa);
}

size_t vnoc_keys_for_each(
	const struct vnoc_keys *k, bool with_keys, uint64_t now_ms, vnoc_sa_cb cb, void *ctx)
{
	size_t n = 0;

	for (size_t i = 0; i < k->n_chans; i++) {
		const struct chan *c = k->chans[i];

		if (c->cur.valid && ++n)
			info_of(c, &c->cur, true, with_keys, now_ms, cb, ctx);
		if (c->next.valid && ++n)
			info_of(c, &c->next, false, with_keys, now_ms, cb, ctx);
		for (size_t r = 0; r < c->n_retiring; r++, n++)
			info_of(c, &c->retiring[r].g, false, with_keys, now_ms, cb, ctx);
	}
	return n;
}

int vnoc_keys_chan_state(const struct vnoc_keys *k, uint32_t id, enum vnoc_chan_state *state,
	uint32_t *spi, uint64_t *generation)
{
	const struct chan *c = chan_find(k, id, NULL);

	if (c == NULL)
		return -ENOENT;
	*state = c->state;
	*spi = c->cur.valid ? c->cur.spi : 0;
	*generation = c->cur.valid ? c->cur.generation : 0;
	return 0;
}

size_t vnoc_keys_count(const struct vnoc_keys *k)
{
	return k->n_chans;
}

int vnoc_keys_resend(struct vnoc_keys *k, uint32_t site, uint32_t spi, enum vprn_direction dir)
{
	for (size_t i = 0; i < k->n_chans; i++) {
		struct chan *c = k->chans[i];
		const struct gen *g = NULL;
		struct rx *r = rx_find(c, site);

		if (c->cur.valid && c->cur.spi == spi)
			g = &c->cur;
		else if (c->next.valid && c->next.spi == spi)
			g = &c->next;
		for (size_t n = 0; g == NULL && n < c->n_retiring; n++)
			if (c->retiring[n].g.spi == spi)
				g = &c->retiring[n].g;
		if (g == NULL)
			continue;
		if (dir == VPRN_DIR_INBOUND && r != NULL && !r->failed)
			return send_install(k, c, g, site, VPRN_DIR_INBOUND, c->sender) != 0 ? 0
											     : -EIO;
		/* an outbound install switches the sender: only ever the current one */
		if (dir == VPRN_DIR_OUTBOUND && c->sender == site && g == &c->cur)
			return send_install(k, c, g, site, VPRN_DIR_OUTBOUND,
				       c->n_rx > 0 ? c->rx[0].site : c->sender) != 0
				       ? 0
				       : -EIO;
		return -ENOENT;
	}
	return -ENOENT;
}
