/* SPDX-License-Identifier: BSD-3-Clause */
/* VNOC tree updates and SAs -> data plane tables (staged, committed atomically). */
#include "ed_apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "common/conf.h"
#include "common/digest.h"
#include "common/log.h"
#include "dataplane/dp.h"
#include "dataplane/esp/esp.h"

#define MAX_SAS ED_APPLY_MAX_SAS
#define MAX_TREES ED_APPLY_MAX_TREES
#define NO_DEADLINE UINT64_MAX

struct ed_sa {
	struct esp_sa *sa;
	uint32_t spi;
	enum vprn_direction dir;
	enum vprn_sa_mode mode;
	uint32_t group;	     /* group mode */
	uint32_t peer_addr;  /* pairwise */
	uint64_t order;	     /* install order: the newest outbound SA wins */
	uint64_t generation; /* of its channel: 1 = a new channel, more = a rekey */
	uint64_t wipe_ms;    /* removal / hard lifetime deadline, NO_DEADLINE = none */
	bool removed;	     /* SaRemove received: retiring, out of the state digest */
};

struct ed_tree {
	struct vprn_tree_update u; /* neighbours copied into nbrs[] */
	uint32_t nbrs[DP_MAX_TREE_NBRS];
	uint32_t out_spi[DP_MAX_TREE_NBRS];
	uint32_t in_spi[DP_MAX_TREE_NBRS];
	unsigned int n_nbrs;
	uint16_t quiet; /* bit k: nothing of this version arrives from nbrs[k] */
	/*
	 * Tree change: neighbours of the previous version only stay neighbours
	 * (with their outbound SA) until prev_until, so that previous-tree
	 * traffic still in flight follows the previous tree (docs/dataplane.md).
	 */
	uint32_t prev[DP_MAX_TREE_NBRS];
	unsigned int n_prev;
	uint64_t prev_until;
	/* every neighbour of the previous version with its SPIs (pairwise) */
	uint32_t pv_nbr[DP_MAX_TREE_NBRS], pv_out[DP_MAX_TREE_NBRS], pv_in[DP_MAX_TREE_NBRS];
	unsigned int n_pv;
	uint64_t remove_ms; /* removed: forwarding ends then, NO_DEADLINE = live */
};

struct ed_apply {
	struct dp *dp;
	uint32_t wan_addr;
	uint64_t order;
	unsigned int n_sas;
	struct ed_sa sas[MAX_SAS];
	unsigned int n_trees;
	struct ed_tree trees[MAX_TREES];
	uint64_t commits, failures;
};

static int publish(struct ed_apply *a);

struct ed_apply *ed_apply_new(struct dp *dp, uint32_t wan_addr)
{
	struct ed_apply *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->dp = dp;
	a->wan_addr = wan_addr;
	return a;
}

void ed_apply_free(struct ed_apply *a)
{
	if (a == NULL)
		return;
	/* unpublish everything first (the workers may still run), then wipe */
	for (unsigned int i = 0; i < a->n_trees; i++)
		a->trees[i].remove_ms = 0;
	for (unsigned int i = 0; i < a->n_sas; i++)
		a->sas[i].wipe_ms = 0;
	if (publish(a) != 0)
		LOG_WARN("apply", "could not unpublish %u SAs at exit", a->n_sas);
	free(a);
}

static struct ed_sa *sa_find(struct ed_apply *a, uint32_t spi, enum vprn_direction dir)
{
	for (unsigned int i = 0; i < a->n_sas; i++)
		if (a->sas[i].spi == spi && a->sas[i].dir == dir)
			return &a->sas[i];
	return NULL;
}

static struct ed_tree *tree_find(struct ed_apply *a, uint32_t group)
{
	for (unsigned int i = 0; i < a->n_trees; i++)
		if (a->trees[i].u.group == group)
			return &a->trees[i];
	return NULL;
}

static bool sa_live(const struct ed_sa *s, uint64_t now)
{
	return s->wipe_ms == NO_DEADLINE || now < s->wipe_ms;
}

/* Newest live outbound SA towards a neighbour (pairwise) or for a group (group mode). */
static struct esp_sa *out_sa(struct ed_apply *a, enum vprn_sa_mode mode, uint32_t key, uint64_t now)
{
	const struct ed_sa *best = NULL;

	for (unsigned int i = 0; i < a->n_sas; i++) {
		const struct ed_sa *s = &a->sas[i];

		if (s->dir != VPRN_DIR_OUTBOUND || s->mode != mode || !sa_live(s, now) ||
			(mode == VPRN_SA_PAIRWISE ? s->peer_addr : s->group) != key)
			continue;
		/* a removed SA still counts only if nothing newer exists */
		if (best == NULL || s->order > best->order)
			best = s;
	}
	return best != NULL ? best->sa : NULL;
}

/*
 * The outbound SA of a tree version towards @peer: the one its TreeUpdate
 * names (@spi), or a rekey of it installed since (generation > 1: the VNOC
 * switched the sender). A newer SA of generation 1 is a channel of a tree
 * version not applied yet: not used before its TreeUpdate. NULL: unknown,
 * the neighbour's newest SA applies.
 */
static struct esp_sa *version_sa(struct ed_apply *a, uint32_t peer, uint32_t spi, uint64_t now)
{
	const struct ed_sa *best = spi != 0 ? sa_find(a, spi, VPRN_DIR_OUTBOUND) : NULL;

	if (best == NULL || !sa_live(best, now) || best->peer_addr != peer)
		return NULL;
	for (unsigned int i = 0; i < a->n_sas; i++) {
		const struct ed_sa *s = &a->sas[i];

		if (s->dir == VPRN_DIR_OUTBOUND && s->mode == VPRN_SA_PAIRWISE &&
			s->peer_addr == peer && sa_live(s, now) && s->generation > 1 &&
			s->order > best->order)
			best = s;
	}
	return best->sa;
}

static bool tree_live(const struct ed_tree *t, uint64_t now)
{
	return t->remove_ms == NO_DEADLINE || now < t->remove_ms;
}

/* Is @addr a neighbour of @t now (current, or previous version in its grace)? */
static bool tree_has_nbr(const struct ed_tree *t, uint32_t addr, uint64_t now)
{
	if (!tree_live(t, now))
		return false;
	for (unsigned int j = 0; j < t->n_nbrs; j++)
		if (t->nbrs[j] == addr)
			return true;
	for (unsigned int j = 0; now < t->prev_until && j < t->n_prev; j++)
		if (t->prev[j] == addr)
			return true;
	return false;
}

static bool want_nbr(struct ed_apply *a, uint32_t addr, uint64_t now)
{
	for (unsigned int i = 0; i < a->n_trees; i++)
		if (tree_has_nbr(&a->trees[i], addr, now))
			return true;
	return false;
}

static bool pairwise_peer(struct ed_apply *a, uint32_t addr, uint64_t now)
{
	for (unsigned int i = 0; i < a->n_trees; i++)
		if (a->trees[i].u.sa_mode == VPRN_SA_PAIRWISE &&
			tree_has_nbr(&a->trees[i], addr, now))
			return true;
	return false;
}

/*
 * Publish the desired state: one transaction that sets every live neighbour,
 * group and inbound SPI and deletes what is published but no longer wanted.
 * Then destroy SAs past their deadline (no worker can see them any more).
 */
static int publish(struct ed_apply *a)
{
	static struct dp_nbr_info nbrs[DP_MAX_NEIGHBOURS];
	static struct dp_group_info groups[DP_MAX_GROUPS];
	static struct dp_sa_info sas[DP_MAX_SPIS + DP_MAX_NEIGHBOURS + DP_MAX_GROUPS];
	uint64_t now = vprn_now_ms();
	struct dp_txn *txn;
	int nn, ng, ns, rc = 0;

	nn = dp_neighbours_list(a->dp, nbrs, DP_MAX_NEIGHBOURS);
	ng = dp_groups_list(a->dp, groups, DP_MAX_GROUPS);
	ns = dp_sas_list(a->dp, sas, sizeof(sas) / sizeof(sas[0]));
	if (nn < 0 || ng < 0 || ns < 0)
		return -EIO;
	txn = dp_txn_begin(a->dp);
	if (txn == NULL)
		return -errno != 0 ? -errno : -ENOMEM;
	/* deletions first: groups, then neighbours and SPIs nobody wants */
	for (int i = 0; i < ng && i < DP_MAX_GROUPS; i++) {
		struct ed_tree *t = tree_find(a, groups[i].group);

		if (t == NULL || !tree_live(t, now))
			(void)dp_txn_del_group(txn, groups[i].group);
	}
	for (int i = 0; i < nn && i < DP_MAX_NEIGHBOURS; i++)
		if (!want_nbr(a, nbrs[i].addr, now))
			(void)dp_txn_del_neighbour(txn, nbrs[i].addr);
	for (int i = 0; i < ns && i < (int)(sizeof(sas) / sizeof(sas[0])); i++) {
		struct ed_sa *s;

		if (!sas[i].inbound)
			continue;
		s = sa_find(a, sas[i].spi, VPRN_DIR_INBOUND);
		if (s == NULL || !sa_live(s, now))
			(void)dp_txn_del_spi(txn, sas[i].spi);
	}
	/* inbound SPIs */
	for (unsigned int i = 0; i < a->n_sas && rc == 0; i++) {
		struct ed_sa *s = &a->sas[i];
		struct dp_spi_conf sc = { .spi = s->spi, .sa = s->sa };

		if (s->dir != VPRN_DIR_INBOUND || !sa_live(s, now))
			continue;
		sc.mode = s->mode == VPRN_SA_GROUP ? DP_SA_GROUP : DP_SA_PAIRWISE;
		sc.group = s->mode == VPRN_SA_GROUP ? s->group : 0;
		rc = dp_txn_set_spi(txn, &sc);
	}
	/* neighbours and groups */
	for (unsigned int i = 0; i < a->n_trees && rc == 0; i++) {
		struct ed_tree *t = &a->trees[i];
		struct dp_group_conf gc = { 0 };

		if (!tree_live(t, now))
			continue;
		for (unsigned int j = 0; j < t->n_nbrs + t->n_prev && rc == 0; j++) {
			uint32_t addr = j < t->n_nbrs ? t->nbrs[j] : t->prev[j - t->n_nbrs];
			struct dp_nbr_conf nc = { .addr = addr };

			if (j >= t->n_nbrs && now >= t->prev_until)
				break;
			if (pairwise_peer(a, addr, now))
				nc.sa_out = out_sa(a, VPRN_SA_PAIRWISE, addr, now);
			rc = dp_txn_set_neighbour(txn, &nc);
		}
		gc.group = t->u.group;
		gc.mode = t->u.sa_mode == VPRN_SA_GROUP ? DP_SA_GROUP : DP_SA_PAIRWISE;
		gc.tree_version = (uint32_t)t->u.version;
		gc.local_receivers = t->u.local_receivers && t->remove_ms == NO_DEADLINE;
		gc.path_mtu = t->u.path_mtu >= 576 && t->u.path_mtu <= 0xffff
				      ? (uint16_t)t->u.path_mtu
				      : 0;
		gc.n_nbrs = t->n_nbrs;
		memcpy(gc.nbrs, t->nbrs, t->n_nbrs * sizeof(uint32_t));
		gc.quiet = t->quiet;
		for (unsigned int j = 0; gc.mode == DP_SA_PAIRWISE && j < t->n_nbrs; j++) {
			gc.nbr_sa[j] = version_sa(a, t->nbrs[j], t->out_spi[j], now);
			gc.in_spi[j] = t->in_spi[j];
			for (unsigned int k = 0; now < t->prev_until && k < t->n_pv; k++) {
				if (t->pv_nbr[k] != t->nbrs[j])
					continue;
				gc.prev_sa[j] = version_sa(a, t->nbrs[j], t->pv_out[k], now);
				gc.prev_in_spi[j] = t->pv_in[k];
			}
		}
		if (gc.mode == DP_SA_GROUP && t->u.local_sender && t->remove_ms == NO_DEADLINE)
			gc.sa_out = out_sa(a, VPRN_SA_GROUP, t->u.group, now);
		if (rc == 0)
			rc = dp_txn_set_group(txn, &gc);
	}
	if (rc != 0) {
		dp_txn_abort(txn);
		a->failures++;
		return rc;
	}
	rc = dp_txn_commit(txn);
	if (rc != 0) {
		a->failures++;
		return rc;
	}
	a->commits++;
	/* after the grace period of the commit: wipe what is no longer published */
	for (unsigned int i = 0; i < a->n_sas;) {
		if (sa_live(&a->sas[i], now)) {
			i++;
			continue;
		}
		LOG_DEBUG("apply", "SPI 0x%08x wiped", a->sas[i].spi);
		esp_sa_destroy(a->sas[i].sa);
		a->sas[i] = a->sas[--a->n_sas];
	}
	for (unsigned int i = 0; i < a->n_trees;) {
		if (now >= a->trees[i].prev_until)
			a->trees[i].n_prev = 0; /* unpublished by this commit */
		if (tree_live(&a->trees[i], now)) {
			i++;
			continue;
		}
		a->trees[i] = a->trees[--a->n_trees];
	}
	return 0;
}

static int xform_of(enum vprn_transform t, enum esp_xform *x)
{
	switch (t) {
	case VPRN_XFORM_AES_GCM_128:
		*x = ESP_XFORM_AES_GCM_128;
		return 0;
	case VPRN_XFORM_AES_GCM_256:
		*x = ESP_XFORM_AES_GCM_256;
		return 0;
	case VPRN_XFORM_AES_CBC_128_HMAC_SHA256:
		*x = ESP_XFORM_AES_CBC_128_HMAC_SHA256;
		return 0;
	case VPRN_XFORM_AES_CBC_256_HMAC_SHA256:
		*x = ESP_XFORM_AES_CBC_256_HMAC_SHA256;
		return 0;
	}
	return -ENOTSUP;
}

static void ack_set(struct vprn_ack *ack, uint64_t seq, int rc, const char *what)
{
	memset(ack, 0, sizeof(*ack));
	ack->ref_seq = seq;
	ack->status = rc == 0	       ? VPRN_ACK_OK
		      : rc == -ENOTSUP ? VPRN_ACK_UNSUPPORTED
				       : VPRN_ACK_FAILED;
	if (rc != 0)
		snprintf(ack->text, sizeof(ack->text), "%s: %s", what, strerror(-rc));
}

static int sa_install(struct ed_apply *a, const struct vprn_sa_install *in)
{
	struct esp_sa_params p;
	struct ed_sa *s;
	uint64_t now = vprn_now_ms();
	int rc;

	esp_sa_params_default(&p);
	rc = xform_of(in->transform, &p.xform);
	if (rc != 0)
		return rc;
	s = sa_find(a, in->spi, in->direction);
	if (s != NULL) {
		/* a resend of an install we already have: idempotent; one we were told
		 * to remove is wanted again (a VNOC repair): it stays */
		if (s->removed && sa_live(s, now)) {
			s->removed = false;
			s->wipe_ms = in->lifetime.hard_seconds != 0
					     ? now + (uint64_t)in->lifetime.hard_seconds * 1000
					     : NO_DEADLINE;
		}
		return 0;
	}
	if (a->n_sas == MAX_SAS)
		return -ENOSPC;
	p.spi = in->spi;
	p.dir = in->direction == VPRN_DIR_INBOUND ? ESP_DIR_INBOUND : ESP_DIR_OUTBOUND;
	memcpy(p.cipher_key, in->key, in->key_len);
	memcpy(p.salt, in->salt, in->salt_len);
	memcpy(p.auth_key, in->auth_key, in->auth_key_len);
	p.esn = in->esn;
	p.replay_window = in->replay_window;
	p.tun_src = in->local_addr != 0 ? in->local_addr : a->wan_addr;
	/* group mode: outer headers come from the neighbour templates */
	p.tun_dst = in->peer_addr != 0 ? in->peer_addr : in->group != 0 ? in->group : p.tun_src;
	if (in->direction == VPRN_DIR_INBOUND) {
		uint32_t t = p.tun_src;

		p.tun_src = p.tun_dst;
		p.tun_dst = t;
	}
	p.df = false;
	p.udp_encap = in->udp_encap;
	p.udp_sport = in->udp_sport;
	p.udp_dport = in->udp_dport;
	p.soft.bytes = in->lifetime.soft_bytes;
	p.soft.packets = in->lifetime.soft_packets;
	p.soft.seconds = in->lifetime.soft_seconds;
	p.hard.bytes = in->lifetime.hard_bytes;
	p.hard.packets = in->lifetime.hard_packets;
	p.hard.seconds = in->lifetime.hard_seconds;
	p.now_ms = now;
	p.cookie = in->spi;
	s = &a->sas[a->n_sas];
	memset(s, 0, sizeof(*s));
	s->sa = esp_sa_create(&p, -1);
	explicit_bzero(&p, sizeof(p));
	if (s->sa == NULL)
		return errno != 0 ? -errno : -EINVAL;
	s->spi = in->spi;
	s->dir = in->direction;
	s->mode = in->group != 0 ? VPRN_SA_GROUP : VPRN_SA_PAIRWISE;
	s->group = in->group;
	s->peer_addr = in->peer_addr;
	s->order = ++a->order;
	s->generation = in->generation;
	s->wipe_ms = in->lifetime.hard_seconds != 0
			     ? now + (uint64_t)in->lifetime.hard_seconds * 1000
			     : NO_DEADLINE;
	a->n_sas++;
	rc = publish(a);
	if (rc != 0) {
		a->n_sas--;
		esp_sa_destroy(s->sa);
		return rc;
	}
	LOG_INFO("apply", "SA 0x%08x %s %s installed (gen %llu)", in->spi,
		in->direction == VPRN_DIR_INBOUND ? "inbound" : "outbound",
		s->mode == VPRN_SA_GROUP ? "group" : "pairwise",
		(unsigned long long)in->generation);
	return 0;
}

static void sa_remove(struct ed_apply *a, const struct vprn_sa_remove *r)
{
	struct ed_sa *s = sa_find(a, r->spi, r->direction);
	uint64_t at;

	if (s == NULL)
		return;
	s->removed = true;
	at = vprn_now_ms() + r->grace_ms;
	if (at < s->wipe_ms)
		s->wipe_ms = at;
	if (r->grace_ms == 0)
		(void)publish(a);
}

static int tree_update(struct ed_apply *a, const struct vprn_tree_update *u)
{
	struct ed_tree *t = tree_find(a, u->group);
	struct ed_tree old;
	bool is_new = t == NULL;
	int rc;

	if (u->removed) {
		if (t == NULL)
			return 0;
		if (t->remove_ms == NO_DEADLINE)
			t->remove_ms = vprn_now_ms() + u->grace_ms;
		/* stop LAN delivery and sending now, keep forwarding until the deadline */
		rc = publish(a);
		LOG_INFO("apply", "tree of group %08x removed (forwarding for %u ms)", u->group,
			u->grace_ms);
		return rc;
	}
	if (is_new) {
		if (a->n_trees == MAX_TREES)
			return -ENOSPC;
		t = &a->trees[a->n_trees++];
	}
	old = *t;
	memset(t, 0, sizeof(*t));
	t->u = *u;
	t->u.neighbours = NULL;
	t->u.n_neighbours = 0;
	t->remove_ms = NO_DEADLINE;
	for (uint32_t i = 0; i < u->n_neighbours && t->n_nbrs < DP_MAX_TREE_NBRS; i++) {
		if (u->neighbours[i].wan_addr == 0 || u->neighbours[i].wan_addr == a->wan_addr)
			continue;
		t->out_spi[t->n_nbrs] = u->neighbours[i].out_spi;
		t->in_spi[t->n_nbrs] = u->neighbours[i].in_spi;
		if (u->neighbours[i].quiet)
			t->quiet |= (uint16_t)(1u << t->n_nbrs);
		t->nbrs[t->n_nbrs++] = u->neighbours[i].wan_addr;
	}
	if (!is_new && old.u.version == u->version) {
		memcpy(t->prev, old.prev, sizeof(t->prev)); /* a resend: same grace */
		t->n_prev = old.n_prev;
		t->prev_until = old.prev_until;
		memcpy(t->pv_nbr, old.pv_nbr, sizeof(t->pv_nbr));
		memcpy(t->pv_out, old.pv_out, sizeof(t->pv_out));
		memcpy(t->pv_in, old.pv_in, sizeof(t->pv_in));
		t->n_pv = old.n_pv;
	} else if (!is_new && tree_live(&old, vprn_now_ms())) {
		memcpy(t->pv_nbr, old.nbrs, sizeof(t->pv_nbr));
		memcpy(t->pv_out, old.out_spi, sizeof(t->pv_out));
		memcpy(t->pv_in, old.in_spi, sizeof(t->pv_in));
		t->n_pv = old.n_nbrs;
		for (unsigned int i = 0; i < old.n_nbrs; i++) {
			bool kept = false;

			for (unsigned int j = 0; j < t->n_nbrs; j++)
				kept |= old.nbrs[i] == t->nbrs[j];
			if (!kept)
				t->prev[t->n_prev++] = old.nbrs[i];
		}
		t->prev_until = vprn_now_ms() + u->grace_ms;
	}
	rc = publish(a);
	if (rc != 0) {
		if (is_new)
			a->n_trees--;
		else
			*t = old;
		return rc;
	}
	LOG_INFO("apply", "tree of group %08x version %llu: %u neighbours%s%s", u->group,
		(unsigned long long)u->version, t->n_nbrs, u->local_receivers ? ", receivers" : "",
		u->local_sender ? ", sender" : "");
	return 0;
}

static void keep_forwarding(struct ed_apply *a, const struct vprn_keep_forwarding *k)
{
	struct ed_tree *t = tree_find(a, k->group);

	if (t == NULL || t->remove_ms == NO_DEADLINE)
		return;
	t->remove_ms = k->done ? vprn_now_ms() : vprn_now_ms() + k->timeout_ms;
	if (k->done)
		(void)publish(a);
}

int ed_apply_msg(struct ed_apply *a, const struct vprn_msg *m, struct vprn_ack *ack)
{
	int rc;

	switch (m->type) {
	case VPRN_MSG_TREE_UPDATE:
		rc = tree_update(a, &m->u.tree_update);
		if (rc != 0)
			LOG_WARN("apply", "tree update of group %08x failed: %s",
				m->u.tree_update.group, strerror(-rc));
		ack_set(ack, m->seq, rc, "tree update");
		return 1;
	case VPRN_MSG_SA_INSTALL:
		rc = sa_install(a, &m->u.sa_install);
		if (rc != 0)
			LOG_WARN("apply", "SA 0x%08x install failed: %s", m->u.sa_install.spi,
				strerror(-rc));
		ack_set(ack, m->seq, rc, "SA install");
		return 1;
	case VPRN_MSG_SA_REMOVE:
		sa_remove(a, &m->u.sa_remove);
		return 0;
	case VPRN_MSG_KEEP_FORWARDING:
		keep_forwarding(a, &m->u.keep_forwarding);
		return 0;
	default:
		return -ENOTSUP;
	}
}

void ed_apply_tick(struct ed_apply *a, uint64_t now_ms)
{
	bool due = false;

	for (unsigned int i = 0; i < a->n_sas && !due; i++)
		due = !sa_live(&a->sas[i], now_ms);
	for (unsigned int i = 0; i < a->n_trees && !due; i++)
		due = !tree_live(&a->trees[i], now_ms) ||
		      (a->trees[i].n_prev > 0 && now_ms >= a->trees[i].prev_until);
	if (due && publish(a) != 0)
		LOG_WARN("apply", "retiring SAs/trees: commit failed");
}

unsigned int ed_apply_groups(
	const struct ed_apply *a, uint32_t *groups, bool *sender, unsigned int max)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < a->n_trees && n < max; i++) {
		groups[n] = a->trees[i].u.group;
		sender[n++] = a->trees[i].u.local_sender;
	}
	return n;
}

int ed_apply_state(const struct ed_apply *a, uint64_t now_ms, struct ed_apply_state *st)
{
	st->n_trees = st->n_in = st->n_out = 0;
	for (unsigned int i = 0; i < a->n_trees; i++) {
		const struct ed_tree *t = &a->trees[i];

		if (t->remove_ms != NO_DEADLINE)
			continue; /* removed: forwarding out its grace period only */
		st->trees[st->n_trees++] = (struct vprn_installed_tree){
			.group = t->u.group, .source = t->u.source, .version = t->u.version
		};
	}
	for (unsigned int i = 0; i < a->n_sas; i++) {
		const struct ed_sa *s = &a->sas[i];

		if (s->removed || !sa_live(s, now_ms))
			continue;
		if (s->dir == VPRN_DIR_INBOUND)
			st->in[st->n_in++] = s->spi;
		else
			st->out[st->n_out++] = s->spi;
	}
	vprn_state_canon(st->trees, &st->n_trees, st->in, &st->n_in, st->out, &st->n_out);
	return vprn_state_digest(
		st->trees, st->n_trees, st->in, st->n_in, st->out, st->n_out, st->digest);
}

void ed_apply_status_json(const struct ed_apply *a, struct vprn_json *j)
{
	vprn_json_obj_begin(j);
	vprn_json_kv_u64(j, "commits", a->commits);
	vprn_json_kv_u64(j, "failures", a->failures);
	vprn_json_key(j, "trees");
	vprn_json_arr_begin(j);
	for (unsigned int i = 0; i < a->n_trees; i++) {
		const struct ed_tree *t = &a->trees[i];

		vprn_json_obj_begin(j);
		vprn_json_kv_ipv4(j, "group", t->u.group);
		vprn_json_kv_ipv4(j, "source", t->u.source);
		vprn_json_kv_u64(j, "version", t->u.version);
		vprn_json_kv_str(j, "mode", t->u.sa_mode == VPRN_SA_GROUP ? "group" : "pairwise");
		vprn_json_kv_bool(j, "receivers", t->u.local_receivers);
		vprn_json_kv_bool(j, "sender", t->u.local_sender);
		vprn_json_kv_bool(j, "removed", t->remove_ms != NO_DEADLINE);
		vprn_json_key(j, "neighbours");
		vprn_json_arr_begin(j);
		for (unsigned int k = 0; k < t->n_nbrs; k++) {
			char ip[16];

			vprn_json_string(j, vprn_ipv4_str(t->nbrs[k], ip));
		}
		vprn_json_arr_end(j);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	vprn_json_key(j, "sas");
	vprn_json_arr_begin(j);
	for (unsigned int i = 0; i < a->n_sas; i++) {
		const struct ed_sa *s = &a->sas[i];

		vprn_json_obj_begin(j);
		vprn_json_kv_u64(j, "spi", s->spi);
		vprn_json_kv_str(j, "dir", s->dir == VPRN_DIR_INBOUND ? "in" : "out");
		vprn_json_kv_str(j, "mode", s->mode == VPRN_SA_GROUP ? "group" : "pairwise");
		vprn_json_kv_ipv4(j, "group", s->group);
		vprn_json_kv_ipv4(j, "peer", s->peer_addr);
		vprn_json_kv_bool(j, "retiring", s->wipe_ms != NO_DEADLINE);
		vprn_json_kv_bool(j, "removed", s->removed);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	vprn_json_obj_end(j);
}
