/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Authenticated site-to-site probing (ed_probe.h, docs/ed.md "Probes").
 *
 * Wire format of a probe (UDP payload, big-endian, exactly ED_PROBE_LEN):
 *   0 magic "VPRB" | 4 version | 5 type | 6 reserved (0, 2 bytes)
 *   8 sender site id | 12 receiver site id | 16 seq (8) | 24 timestamp (8)
 *   32 hold ns (8) | 40 HMAC-SHA-256(pair key, bytes 0..39)[0..15]
 */
#include "ed_probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/clock.h"
#include "common/log.h"

#define UDP_HDR_LEN 8

/* LATE: an authentic echo after the deadline (still lost, but seen once). */
enum slot_state { SLOT_EMPTY = 0, SLOT_PENDING, SLOT_ANSWERED, SLOT_LOST, SLOT_LATE };

struct slot {
	uint64_t seq;
	uint64_t tx_ns;
	uint8_t state;
};

struct peer {
	char site[VPRN_NAME_MAX];
	uint32_t id;
	uint32_t wan;
	uint8_t key[VPRN_PROBE_KEY_LEN];
	bool in_use;
	uint64_t next_tx_ns;
	uint64_t tx_seq; /* last seq sent */
	struct slot slot[ED_PROBE_WINDOW];
	/* responder: anti-replay window over the requester's seqs */
	bool rx_any;
	uint64_t rx_hi;
	uint64_t rx_bits; /* bit i: rx_hi - i seen */
	/* RFC 6298 */
	uint64_t srtt_ns, rttvar_ns, last_rtt_ns;
	uint64_t samples;
	uint64_t tx, send_errors, echoes, lost, late, requests_rx, bad_mac, replay;
};

struct ed_probe {
	struct ed_probe_params par;
	uint32_t my_id;
	uint32_t interval_ms;
	uint64_t seq0;
	struct ed_probe_counters cnt;
	uint32_t n_peers;
	struct peer peers[ED_PROBE_MAX_PEERS];
};

static uint64_t now_ns(const struct ed_probe *p)
{
	return p->par.now_ns != NULL ? p->par.now_ns(p->par.clock_ctx) : vprn_now_ns();
}

static void put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

static void put64(uint8_t *b, uint64_t v)
{
	put32(b, (uint32_t)(v >> 32));
	put32(b + 4, (uint32_t)v);
}

static uint32_t get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static uint64_t get64(const uint8_t *b)
{
	return (uint64_t)get32(b) << 32 | get32(b + 4);
}

static void probe_mac(
	const uint8_t key[VPRN_PROBE_KEY_LEN], const uint8_t *hdr, uint8_t out[ED_PROBE_MAC_LEN])
{
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (HMAC(EVP_sha256(), key, VPRN_PROBE_KEY_LEN, hdr, ED_PROBE_HDR_LEN, md, &len) == NULL ||
		len < ED_PROBE_MAC_LEN)
		memset(md, 0xff, sizeof(md)); /* never matches a computed MAC by chance */
	memcpy(out, md, ED_PROBE_MAC_LEN);
	OPENSSL_cleanse(md, sizeof(md));
}

void ed_probe_encode(uint8_t out[ED_PROBE_LEN], const uint8_t key[VPRN_PROBE_KEY_LEN], uint8_t type,
	uint32_t sender, uint32_t receiver, uint64_t seq, uint64_t ts_ns, uint64_t hold_ns)
{
	put32(out, ED_PROBE_MAGIC);
	out[4] = ED_PROBE_VERSION;
	out[5] = type;
	out[6] = out[7] = 0;
	put32(out + 8, sender);
	put32(out + 12, receiver);
	put64(out + 16, seq);
	put64(out + 24, ts_ns);
	put64(out + 32, hold_ns);
	probe_mac(key, out, out + ED_PROBE_HDR_LEN);
}

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct ed_probe *ed_probe_new(const struct ed_probe_params *params)
{
	struct ed_probe *p;

	if (params == NULL || params->send == NULL || params->port == 0) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->par = *params;
	/* Seqs grow across restarts of this ED: a captured old request stays a replay. */
	p->seq0 = params->seq0 != 0 ? params->seq0 : wall_ns();
	return p;
}

static void peer_wipe(struct peer *pe)
{
	OPENSSL_cleanse(pe, sizeof(*pe));
}

void ed_probe_clear(struct ed_probe *p)
{
	for (uint32_t i = 0; i < ED_PROBE_MAX_PEERS; i++)
		peer_wipe(&p->peers[i]);
	p->n_peers = 0;
}

void ed_probe_free(struct ed_probe *p)
{
	if (p == NULL)
		return;
	OPENSSL_cleanse(p, sizeof(*p));
	free(p);
}

static const struct peer *find_old(const struct peer *old, uint32_t n, const struct vprn_peer *vp)
{
	for (uint32_t i = 0; i < n; i++)
		if (old[i].in_use && old[i].id == vp->site_id &&
			CRYPTO_memcmp(old[i].key, vp->probe_key, VPRN_PROBE_KEY_LEN) == 0)
			return &old[i];
	return NULL;
}

int ed_probe_set_peers(struct ed_probe *p, uint32_t my_id, const struct vprn_peer *peers,
	uint32_t n_peers, uint32_t interval_ms)
{
	struct peer *old;
	uint32_t n_old = p->n_peers, n = 0;
	uint64_t now = now_ns(p);

	if (my_id == 0 || (peers == NULL && n_peers != 0))
		return -EINVAL;
	old = malloc(sizeof(struct peer) * (n_old != 0 ? n_old : 1));
	if (old == NULL)
		return -ENOMEM;
	memcpy(old, p->peers, sizeof(struct peer) * n_old);
	ed_probe_clear(p);
	p->my_id = my_id;
	p->interval_ms = interval_ms;
	for (uint32_t i = 0; i < n_peers && n < ED_PROBE_MAX_PEERS; i++) {
		const struct vprn_peer *vp = &peers[i];
		const struct peer *o = find_old(old, n_old, vp);
		struct peer *pe = &p->peers[n];

		if (!vp->has_probe_key || vp->site_id == 0 || vp->site_id == my_id)
			continue;
		if (o != NULL) {
			*pe = *o; /* same pair key: measurements and replay state carry over */
		} else {
			memcpy(pe->key, vp->probe_key, VPRN_PROBE_KEY_LEN);
			pe->tx_seq = p->seq0;
		}
		memcpy(pe->site, vp->site, sizeof(pe->site));
		pe->site[sizeof(pe->site) - 1] = '\0';
		pe->id = vp->site_id;
		pe->wan = vp->wan_addr;
		pe->in_use = true;
		/* spread the peers over one interval */
		pe->next_tx_ns = now + (uint64_t)interval_ms * 1000000ull * n / (n_peers + 1);
		n++;
	}
	if (n_peers > ED_PROBE_MAX_PEERS)
		LOG_WARN("probe", "%u peers, probing the first %u", n_peers, ED_PROBE_MAX_PEERS);
	p->n_peers = n;
	OPENSSL_cleanse(old, sizeof(struct peer) * n_old);
	free(old);
	return 0;
}

static uint64_t timeout_ns(const struct peer *pe)
{
	uint64_t t = 3 * pe->srtt_ns;

	return t > ED_PROBE_MIN_TIMEOUT_NS ? t : ED_PROBE_MIN_TIMEOUT_NS;
}

static void send_request(struct ed_probe *p, struct peer *pe, uint64_t now)
{
	uint8_t pkt[ED_PROBE_LEN];
	uint64_t seq = pe->tx_seq + 1;
	struct slot *s = &pe->slot[seq % ED_PROBE_WINDOW];
	int rc;

	ed_probe_encode(pkt, pe->key, ED_PROBE_REQUEST, p->my_id, pe->id, seq, now, 0);
	rc = p->par.send(p->par.send_ctx, pe->wan, pkt, sizeof(pkt));
	if (rc != 0) {
		/* not sent (e.g. ARP pending): no seq used, try again soon */
		pe->send_errors++;
		pe->next_tx_ns = now + (p->interval_ms < 200 ? p->interval_ms : 200) * 1000000ull;
		return;
	}
	if (s->state == SLOT_PENDING) { /* a whole window old: lost */
		s->state = SLOT_LOST;
		pe->lost++;
	}
	pe->tx_seq = seq;
	s->seq = seq;
	s->tx_ns = now;
	s->state = SLOT_PENDING;
	pe->tx++;
	pe->next_tx_ns = now + (uint64_t)p->interval_ms * 1000000ull;
}

void ed_probe_tick(struct ed_probe *p)
{
	uint64_t now = now_ns(p);

	for (uint32_t i = 0; i < p->n_peers; i++) {
		struct peer *pe = &p->peers[i];

		for (unsigned int k = 0; k < ED_PROBE_WINDOW; k++) {
			struct slot *s = &pe->slot[k];

			if (s->state == SLOT_PENDING && now - s->tx_ns > timeout_ns(pe)) {
				s->state = SLOT_LOST;
				pe->lost++;
			}
		}
		if (p->interval_ms != 0 && now >= pe->next_tx_ns)
			send_request(p, pe, now);
	}
}

static struct peer *peer_by_id(struct ed_probe *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->n_peers; i++)
		if (p->peers[i].id == id)
			return &p->peers[i];
	return NULL;
}

/* Responder anti-replay (RFC 4303 §3.4.3 style): true if seq is new, and marks it. */
static bool replay_check_update(struct peer *pe, uint64_t seq)
{
	if (!pe->rx_any || seq > pe->rx_hi) {
		uint64_t shift = pe->rx_any ? seq - pe->rx_hi : ED_PROBE_REPLAY_WINDOW;

		pe->rx_bits = shift >= ED_PROBE_REPLAY_WINDOW ? 0 : pe->rx_bits << shift;
		pe->rx_bits |= 1;
		pe->rx_hi = seq;
		pe->rx_any = true;
		return true;
	}
	if (pe->rx_hi - seq >= ED_PROBE_REPLAY_WINDOW)
		return false;
	if (pe->rx_bits & (1ull << (pe->rx_hi - seq)))
		return false;
	pe->rx_bits |= 1ull << (pe->rx_hi - seq);
	return true;
}

static void rtt_sample(struct peer *pe, uint64_t r)
{
	if (pe->samples == 0) {
		pe->srtt_ns = r;
		pe->rttvar_ns = r / 2;
	} else {
		/* RFC 6298 §2.3: beta = 1/4, alpha = 1/8 (RTTVAR first, with the old SRTT) */
		uint64_t d = pe->srtt_ns > r ? pe->srtt_ns - r : r - pe->srtt_ns;

		pe->rttvar_ns = (3 * pe->rttvar_ns + d) / 4;
		pe->srtt_ns = (7 * pe->srtt_ns + r) / 8;
	}
	pe->last_rtt_ns = r;
	pe->samples++;
}

static void on_request(struct ed_probe *p, struct peer *pe, const uint8_t *pl, uint64_t rx_ns)
{
	uint8_t echo[ED_PROBE_LEN];
	uint64_t seq = get64(pl + 16), now;

	if (!replay_check_update(pe, seq)) {
		pe->replay++;
		p->cnt.replay++;
		return;
	}
	pe->requests_rx++;
	now = now_ns(p);
	/* Our hold time lets the requester remove our polling delay from its RTT. */
	ed_probe_encode(echo, pe->key, ED_PROBE_ECHO, p->my_id, pe->id, seq, get64(pl + 24),
		now > rx_ns ? now - rx_ns : 0);
	/* Always to the peer's address from the Welcome, never to the packet's source. */
	(void)p->par.send(p->par.send_ctx, pe->wan, echo, sizeof(echo));
}

static void on_echo(struct ed_probe *p, struct peer *pe, const uint8_t *pl, uint64_t rx_ns)
{
	uint64_t seq = get64(pl + 16), ts = get64(pl + 24), hold = get64(pl + 32), rtt;
	struct slot *s = &pe->slot[seq % ED_PROBE_WINDOW];

	if (s->seq != seq || s->state == SLOT_EMPTY || s->state == SLOT_ANSWERED ||
		s->state == SLOT_LATE || s->tx_ns != ts) {
		/* not a seq we are waiting for (answered already, older, never sent) */
		pe->replay++;
		p->cnt.replay++;
		return;
	}
	if (s->state == SLOT_LOST) {
		pe->late++;
		s->state = SLOT_LATE; /* at most once */
		return;
	}
	rtt = rx_ns > s->tx_ns ? rx_ns - s->tx_ns : 0;
	if (rtt > timeout_ns(pe)) {
		s->state = SLOT_LATE;
		pe->lost++;
		pe->late++;
		return;
	}
	s->state = SLOT_ANSWERED;
	pe->echoes++;
	rtt = hold < rtt ? rtt - hold : 0;
	rtt_sample(pe, rtt > 1000 ? rtt : 1000); /* at least 1 µs */
}

/* IPv4 / UDP to our port: the payload, or NULL. */
static const uint8_t *udp_payload(
	const struct ed_probe *p, const uint8_t *ip, size_t len, size_t *plen)
{
	size_t ihl, tot, ulen;
	const uint8_t *udp;

	if (ip == NULL || len < 20 || (ip[0] >> 4) != 4)
		return NULL;
	ihl = (size_t)(ip[0] & 0x0f) * 4;
	tot = (size_t)ip[2] << 8 | ip[3];
	if (ihl < 20 || tot < ihl + UDP_HDR_LEN || tot > len || ip[9] != 17)
		return NULL;
	if (((ip[6] & 0x3f) | ip[7]) != 0) /* MF or a fragment offset */
		return NULL;
	udp = ip + ihl;
	ulen = (size_t)udp[4] << 8 | udp[5];
	if ((((size_t)udp[2] << 8) | udp[3]) != p->par.port || ulen < UDP_HDR_LEN ||
		ulen > tot - ihl)
		return NULL;
	*plen = ulen - UDP_HDR_LEN;
	return udp + UDP_HDR_LEN;
}

void ed_probe_input(struct ed_probe *p, const uint8_t *ip, size_t len, uint64_t rx_ns)
{
	uint8_t mac[ED_PROBE_MAC_LEN];
	const uint8_t *pl;
	size_t plen = 0;
	struct peer *pe;
	uint8_t type;

	pl = udp_payload(p, ip, len, &plen);
	if (pl == NULL || plen != ED_PROBE_LEN || get32(pl) != ED_PROBE_MAGIC ||
		pl[4] != ED_PROBE_VERSION ||
		(pl[5] != ED_PROBE_REQUEST && pl[5] != ED_PROBE_ECHO) || pl[6] != 0 || pl[7] != 0) {
		p->cnt.malformed++;
		return;
	}
	type = pl[5];
	if (p->my_id == 0 || get32(pl + 12) != p->my_id) {
		p->cnt.wrong_receiver++;
		return;
	}
	pe = peer_by_id(p, get32(pl + 8));
	if (pe == NULL) {
		p->cnt.unknown_peer++;
		return;
	}
	probe_mac(pe->key, pl, mac);
	if (CRYPTO_memcmp(mac, pl + ED_PROBE_HDR_LEN, ED_PROBE_MAC_LEN) != 0) {
		pe->bad_mac++;
		p->cnt.bad_mac++;
		return;
	}
	if (type == ED_PROBE_REQUEST)
		on_request(p, pe, pl, rx_ns);
	else
		on_echo(p, pe, pl, rx_ns);
}

static uint32_t loss_ppm(const struct peer *pe)
{
	uint32_t lost = 0, done = 0;

	for (unsigned int k = 0; k < ED_PROBE_WINDOW; k++) {
		uint8_t st = pe->slot[k].state;

		lost += st == SLOT_LOST || st == SLOT_LATE;
		done += st == SLOT_LOST || st == SLOT_LATE || st == SLOT_ANSWERED;
	}
	return done == 0 ? 0 : (uint32_t)((uint64_t)lost * 1000000u / done);
}

static uint32_t us32(uint64_t ns)
{
	uint64_t us = ns / 1000;

	return us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
}

uint32_t ed_probe_metrics(const struct ed_probe *p, struct vprn_peer_metric *out, uint32_t max)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < p->n_peers && n < max; i++) {
		const struct peer *pe = &p->peers[i];

		if (pe->samples == 0) /* never report an unmeasured pair as 0 µs */
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		memcpy(out[n].site, pe->site, sizeof(out[n].site));
		out[n].rtt_us = us32(pe->srtt_ns);
		out[n].rttvar_us = us32(pe->rttvar_ns);
		out[n].loss_ppm = loss_ppm(pe);
		out[n].samples = pe->samples > UINT32_MAX ? UINT32_MAX : (uint32_t)pe->samples;
		n++;
	}
	return n;
}

uint32_t ed_probe_n_peers(const struct ed_probe *p)
{
	return p->n_peers;
}

int ed_probe_peer(const struct ed_probe *p, uint32_t i, struct ed_probe_peer_info *o)
{
	const struct peer *pe;

	if (i >= p->n_peers)
		return -ENOENT;
	pe = &p->peers[i];
	memset(o, 0, sizeof(*o));
	memcpy(o->site, pe->site, sizeof(o->site));
	o->site_id = pe->id;
	o->wan_addr = pe->wan;
	o->srtt_us = us32(pe->srtt_ns);
	o->rttvar_us = us32(pe->rttvar_ns);
	o->last_rtt_us = us32(pe->last_rtt_ns);
	o->loss_ppm = loss_ppm(pe);
	o->samples = pe->samples;
	o->tx = pe->tx;
	o->send_errors = pe->send_errors;
	o->echoes = pe->echoes;
	o->lost = pe->lost;
	o->late = pe->late;
	o->requests_rx = pe->requests_rx;
	o->bad_mac = pe->bad_mac;
	o->replay = pe->replay;
	return 0;
}

const struct ed_probe_counters *ed_probe_counters(const struct ed_probe *p)
{
	return &p->cnt;
}

void ed_probe_json(const struct ed_probe *p, struct vprn_json *j)
{
	struct ed_probe_peer_info pi;

	vprn_json_obj_begin(j);
	vprn_json_kv_u64(j, "site_id", p->my_id);
	vprn_json_kv_u64(j, "port", p->par.port);
	vprn_json_kv_u64(j, "interval_ms", p->interval_ms);
	vprn_json_kv_u64(j, "malformed", p->cnt.malformed);
	vprn_json_kv_u64(j, "wrong_receiver", p->cnt.wrong_receiver);
	vprn_json_kv_u64(j, "unknown_peer", p->cnt.unknown_peer);
	vprn_json_kv_u64(j, "bad_mac", p->cnt.bad_mac);
	vprn_json_kv_u64(j, "replay", p->cnt.replay);
	vprn_json_key(j, "peers");
	vprn_json_arr_begin(j);
	for (uint32_t i = 0; ed_probe_peer(p, i, &pi) == 0; i++) {
		vprn_json_obj_begin(j);
		vprn_json_kv_str(j, "site", pi.site);
		vprn_json_kv_u64(j, "id", pi.site_id);
		vprn_json_kv_ipv4(j, "wan", pi.wan_addr);
		vprn_json_kv_u64(j, "srtt_us", pi.srtt_us);
		vprn_json_kv_u64(j, "rttvar_us", pi.rttvar_us);
		vprn_json_kv_u64(j, "last_rtt_us", pi.last_rtt_us);
		vprn_json_kv_u64(j, "loss_ppm", pi.loss_ppm);
		vprn_json_kv_u64(j, "samples", pi.samples);
		vprn_json_kv_u64(j, "tx", pi.tx);
		vprn_json_kv_u64(j, "echoes", pi.echoes);
		vprn_json_kv_u64(j, "lost", pi.lost);
		vprn_json_kv_u64(j, "late", pi.late);
		vprn_json_kv_u64(j, "requests_rx", pi.requests_rx);
		vprn_json_kv_u64(j, "bad_mac", pi.bad_mac);
		vprn_json_kv_u64(j, "replay", pi.replay);
		vprn_json_kv_u64(j, "send_errors", pi.send_errors);
		vprn_json_obj_end(j);
	}
	vprn_json_arr_end(j);
	vprn_json_obj_end(j);
}

const void *ed_probe_raw(const struct ed_probe *p, size_t *len)
{
	*len = sizeof(*p);
	return p;
}
