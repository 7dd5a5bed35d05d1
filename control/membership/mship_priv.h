/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_PRIV_H
#define VPRN_MEMBERSHIP_PRIV_H

/*
 * Private state of the membership module, shared by its files:
 *   membership.c      life cycle, rx dispatch, timers, queries (members, stats)
 *   mship_group.c     group table and the router state machine of RFC 3376 §6.4
 *   mship_querier.c   querier election, general/specific queries, our own reports
 *   mship_source.c    source discovery and announcements
 *   mship_event.c     merged per-(group, role) view and coalesced events
 * Times are absolute milliseconds on the injected clock; 0 = timer stopped.
 */

#include "membership.h"

#include "igmp_parse.h"

#define MSHIP_FRAME_MAX 1600

enum { REP_RECEIVER = 0, REP_SENDER = 1, REP_MAX = 2 };

/* A source record, RFC 3376 §6.2.3. In EXCLUDE mode timer 0 = "Y" (blocked). */
struct msrc {
	uint32_t addr;
	uint64_t timer;
	uint8_t retx; /* group-and-source-specific queries left to send */
};

struct mhost {
	uint32_t addr;
	uint64_t expires;
};

/* What the VNOC was last told about one (group, role), and the coalescing timer. */
struct mreported {
	bool present;
	bool pending; /* the view may have changed since the last event */
	bool emitted; /* last_emit is valid */
	uint8_t mode;
	uint32_t n_sources;
	uint32_t *sources; /* max_sources */
	uint64_t last_emit;
};

struct mgroup {
	uint32_t group;
	/* learned receiver state (RFC 3376 §6.2.1): valid when `learned` */
	bool learned;
	uint8_t mode;		/* MEMBERSHIP_INCLUDE or MEMBERSHIP_EXCLUDE */
	uint64_t group_timer;	/* EXCLUDE mode */
	uint64_t v1_host_timer; /* older version host present, §7.3.2 */
	uint64_t v2_host_timer;
	uint32_t n_src;
	struct msrc *src;	/* max_sources */
	uint8_t gq_retx;	/* group-specific queries left to send */
	uint64_t next_specific; /* next group(-and-source)-specific query */
	uint32_t n_hosts;
	struct mhost *hosts; /* max_hosts */
	bool untracked;	     /* a reporter we could not track: no fast leave */
	/* source discovery */
	bool sender;
	uint64_t sender_last;
	uint64_t sender_packets;
	uint32_t n_senders;
	uint32_t *senders; /* max_sources */
	struct mreported rep[REP_MAX];
};

struct mannounce {
	uint32_t group;
	uint32_t source;
	enum membership_role role;
	uint64_t expires;
};

struct membership {
	struct membership_conf conf;
	uint32_t lmqc;
	uint32_t lan_addr, lan_mask;
	uint8_t mac[6];
	struct vprn_clock clock;
	struct membership_ops ops;
	/* querier, RFC 3376 §6.6.2 */
	bool is_querier;
	uint32_t querier_addr;
	uint64_t oqp_timer; /* other querier present */
	uint64_t gq_timer;  /* next general query */
	uint32_t startup_left;
	uint8_t learned_qrv; /* from the querier's v3 queries, §6.6.1 */
	uint32_t learned_qqi_ms;
	uint16_t ip_id;
	/* tables; groups sorted by address */
	struct mgroup **groups;
	uint32_t n_groups;
	struct mannounce *ann;
	uint32_t n_ann;
	struct membership_stats stats;
	uint32_t *scratch; /* 2 * max_sources + 1 */
	uint8_t frame[MSHIP_FRAME_MAX];
};

/*
 * Internal time is the injected clock + 1 ms, so that 0 can mean "timer
 * stopped" even when the clock starts at 0 (tests); deadlines given out are
 * converted back (membership_next_deadline).
 */
static inline uint64_t mship_now(const struct membership *m)
{
	return m->clock.now_ms(m->clock.ctx) + 1;
}

static inline void mship_drop(struct membership *m, enum igmp_drop r)
{
	if ((unsigned int)r < MEMBERSHIP_MAX_DROP)
		m->stats.drops[r]++;
}

/* Timers in use (the querier's QRV/QQI when another router is querier, §6.6.1). */
uint32_t mship_robustness(const struct membership *m);
uint64_t mship_qi(const struct membership *m);
uint64_t mship_gmi(const struct membership *m);	 /* R * QI + QRI, §8.4; also §8.13 */
uint64_t mship_lmqt(const struct membership *m); /* LMQI * LMQC, §8.14 */
bool mship_is_ssm(const struct membership *m, uint32_t group);

/* mship_group.c */
struct mgroup *mg_find(const struct membership *m, uint32_t group);
struct mgroup *mg_get(struct membership *m, uint32_t group); /* NULL: table full */
void mg_gc(struct membership *m, struct mgroup *g);	     /* free g if it holds nothing */
void mg_clear_learned(struct mgroup *g);
uint8_t mg_compat(const struct mgroup *g, uint64_t now);
void mg_report(struct membership *m, const struct igmp_msg *msg);
void mg_expire(struct membership *m, struct mgroup *g, uint64_t now);
uint64_t mg_deadline(const struct membership *m, const struct mgroup *g);
void mg_query_seen(struct membership *m, const struct igmp_msg *msg);

/* mship_querier.c */
void mq_start(struct membership *m, uint64_t now);
void mq_rx_query(struct membership *m, const struct igmp_msg *msg);
void mq_timer(struct membership *m, uint64_t now);
uint64_t mq_deadline(const struct membership *m);
void mq_group_query(struct membership *m, struct mgroup *g, uint64_t now);
void mq_specific_tick(struct membership *m, struct mgroup *g, uint64_t now);
void mq_send_reports(struct membership *m, int version, uint32_t group);

/* mship_source.c */
void ms_expire(struct membership *m, uint64_t now);
uint64_t ms_deadline(const struct membership *m);
bool ms_has_announcement(const struct membership *m, uint32_t group);

/* mship_event.c */
void me_mark(struct mgroup *g, int role);
void me_flush(struct membership *m, struct mgroup *g, uint64_t now);
uint64_t me_deadline(const struct membership *m, const struct mgroup *g);

#endif /* VPRN_MEMBERSHIP_PRIV_H */
