/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_VNOC_CORE_KEYS_H
#define VPRN_VNOC_CORE_KEYS_H

/*
 * SA distribution and make-before-break rekey (docs/vnoc.md, "Rekey").
 *
 * A channel is one unidirectional stream of SAs from a sending site to its
 * receivers: pairwise mode = one tree edge direction (one receiver); group
 * mode = one (group, sending site), received by every member receiver. Each
 * channel moves through generations; generation g+1 is brought up as:
 *
 *   WAIT_RX: SaInstall(inbound, g+1) to every receiver, each acknowledged
 *            (resent after ack_timeout, at most ack_retries times; a receiver
 *            that never acknowledges is declared failed and left out);
 *   WAIT_TX: SaInstall(outbound, g+1) to the sender: it switches;
 *   ACTIVE:  the sender's ack makes g+1 current; generation g is retired
 *            (SaRemove to its receivers) after retire_grace_ms; its SPI is
 *            quarantined until g's hard lifetime has passed.
 *
 * A rekey starts at the soft lifetime, and in group mode whenever a receiver
 * leaves (it knew the key). Keys come from RAND_bytes and are wiped with
 * OPENSSL_cleanse when a generation is retired or a message is sent.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "outbox.h"
#include "spi.h"
#include "types.h"

struct vnoc_keys;

struct vnoc_sa_params {
	enum vnoc_sa_mode mode;
	enum vnoc_transform transform;
	uint32_t replay_window;
	uint32_t soft_seconds, hard_seconds;
	uint64_t soft_bytes, hard_bytes;
};

struct vnoc_keys_conf {
	uint64_t ack_timeout_ms;
	uint32_t ack_retries;
	uint64_t retire_grace_ms;
};

enum vnoc_chan_state {
	VNOC_CHAN_WAIT_RX = 1,
	VNOC_CHAN_WAIT_TX = 2,
	VNOC_CHAN_ACTIVE = 3,
	VNOC_CHAN_FAILED = 4, /* the sender never switched: the owner decides */
};

struct vnoc_keys_events {
	/** The sender of @chan uses generation @generation with @spi from now on. */
	void (*chan_ready)(void *ctx, uint32_t chan, uint32_t spi, uint64_t generation);
	/** @site did not acknowledge an install of @chan (after every retry), or refused it. */
	void (*site_failed)(void *ctx, uint32_t chan, uint32_t site);
	/** Resolve a site id (name, address) for the messages; false if unknown. */
	bool (*site)(void *ctx, uint32_t site, struct vnoc_site_ref *out);
	void *ctx;
};

struct vnoc_keys *vnoc_keys_create(const struct vnoc_keys_conf *conf, struct vnoc_spi_alloc *spis,
	const struct vnoc_outbox *out, const struct vnoc_keys_events *ev);
void vnoc_keys_destroy(struct vnoc_keys *k);
void vnoc_keys_set_conf(struct vnoc_keys *k, const struct vnoc_keys_conf *conf);

/**
 * Open a channel and start its first generation. @receivers: 1 for
 * pairwise. Returns the channel id (> 0) or -errno.
 */
int64_t vnoc_keys_open(struct vnoc_keys *k, uint32_t vpn, uint32_t group, uint32_t sender,
	const uint32_t *receivers, size_t n_receivers, const struct vnoc_sa_params *params,
	uint64_t now_ms);

/** Remove every SA of the channel (receivers keep accepting for retire_grace_ms). */
int vnoc_keys_close(struct vnoc_keys *k, uint32_t chan, uint64_t now_ms);

/** Group mode: a new member receiver gets the current generation. */
int vnoc_keys_add_receiver(struct vnoc_keys *k, uint32_t chan, uint32_t site, uint64_t now_ms);

/** A receiver leaves: its SAs are removed; group mode rekeys the others. */
int vnoc_keys_remove_receiver(struct vnoc_keys *k, uint32_t chan, uint32_t site, uint64_t now_ms);

/** Start a rekey now (CLI, tests); -EBUSY if one is under way. */
int vnoc_keys_rekey(struct vnoc_keys *k, uint32_t chan, uint64_t now_ms);

/**
 * An Ack from @site for its message @ref_seq. Returns 1 if it belonged to
 * an SA install of this module, 0 if not.
 */
int vnoc_keys_ack(struct vnoc_keys *k, uint32_t site, uint64_t ref_seq, bool ok, uint64_t now_ms);

/** A site's session restarted (new boot id): its installs are sent again. */
void vnoc_keys_site_reset(struct vnoc_keys *k, uint32_t site, uint64_t now_ms);

/**
 * Drift repair (digest_track.h): send @site its SaInstall of @spi in @dir
 * again: inbound, any generation still held (current, coming or retiring);
 * outbound, only the current one (installing an outbound SA switches the
 * sender to it).
 * Returns 0, -ENOENT (not an SA of this site), -EIO (not sent).
 */
int vnoc_keys_resend(struct vnoc_keys *k, uint32_t site, uint32_t spi, enum vprn_direction dir);

/** Timers: retries, failures, rekey at soft lifetime, retirement. */
void vnoc_keys_poll(struct vnoc_keys *k, uint64_t now_ms);

/** Earliest time vnoc_keys_poll() has something to do. */
uint64_t vnoc_keys_next_deadline(const struct vnoc_keys *k);

/** One SA (a generation of a channel) as the CLI shows it. */
struct vnoc_sa_info {
	uint32_t chan;
	uint32_t vpn, group;
	uint32_t sender;
	const uint32_t *receivers;
	size_t n_receivers;
	enum vnoc_sa_mode mode;
	enum vnoc_transform transform;
	enum vnoc_chan_state state;
	uint32_t spi;
	uint64_t generation;
	bool current; /* false: being installed, or retiring */
	uint64_t age_ms;
	/* only with vnoc_keys_for_each(..., with_keys = true) */
	const uint8_t *key, *salt, *auth;
	unsigned int key_len, salt_len, auth_len;
};

typedef void (*vnoc_sa_cb)(void *ctx, const struct vnoc_sa_info *sa);

/** Every SA; key pointers stay NULL unless @with_keys (Wireshark export). */
size_t vnoc_keys_for_each(
	const struct vnoc_keys *k, bool with_keys, uint64_t now_ms, vnoc_sa_cb cb, void *ctx);

/** Channel state and current SPI (0 = none yet); -ENOENT. */
int vnoc_keys_chan_state(const struct vnoc_keys *k, uint32_t chan, enum vnoc_chan_state *state,
	uint32_t *spi, uint64_t *generation);

size_t vnoc_keys_count(const struct vnoc_keys *k);

#endif /* VPRN_VNOC_CORE_KEYS_H */
