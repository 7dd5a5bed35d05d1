/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef VPRN_MEMBERSHIP_CONF_H
#define VPRN_MEMBERSHIP_CONF_H

/**
 * @file
 * The `membership = { ... }` group of ed.conf: IGMP timers (RFC 3376 §8,
 * RFC 2236 §8 defaults), SSM range, fast leave, source discovery and
 * coalescing, limits, pre-defined groups. Options are described once, in the
 * table of membership_conf.c, which also prints the documentation.
 * Timers are milliseconds; 0 in a derived option means "the RFC formula".
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libconfig.h>

#define MEMBERSHIP_MAX_PREDEFINED 64

struct membership_conf {
	uint32_t version;			   /**< IGMP version of our queries: 1, 2, 3 */
	uint32_t robustness;			   /**< RFC 3376 §8.1 */
	uint32_t query_interval_ms;		   /**< §8.2 */
	uint32_t query_response_interval_ms;	   /**< §8.3 */
	uint32_t last_member_query_interval_ms;	   /**< §8.8 */
	uint32_t last_member_query_count;	   /**< §8.9 (0 = robustness) */
	uint32_t startup_query_interval_ms;	   /**< §8.6 (0 = query_interval / 4) */
	uint32_t startup_query_count;		   /**< §8.7 (0 = robustness) */
	uint32_t other_querier_present_timeout_ms; /**< §8.5 (0 = R * QI + QRI / 2) */
	bool fast_leave;	    /**< remove a group when its last tracked host leaves */
	uint32_t ssm_net, ssm_mask; /**< SSM range, RFC 4607 (default 232/8) */
	uint32_t source_inactivity_timeout_ms; /**< sender role expiry */
	uint32_t event_holddown_ms; /**< min time between two events of a (group, role) */
	uint32_t max_groups;
	uint32_t max_sources; /**< per group and per query */
	uint32_t max_hosts;   /**< tracked hosts per group */
	uint32_t max_announcements;
	uint32_t n_predefined;
	uint32_t predefined[MEMBERSHIP_MAX_PREDEFINED];
};

/** Fill @p conf with the defaults. */
void membership_conf_defaults(struct membership_conf *conf);

/**
 * Parse the `membership` group (a `config_setting_t *`, may be NULL = all
 * defaults) over the defaults, then validate. Unknown keys are errors.
 * On error writes "FILE:LINE: message" into @p err and returns -EINVAL.
 */
int membership_conf_parse(
	const config_setting_t *setting, struct membership_conf *conf, char *err, size_t err_len);

struct vprn_conf_err;

/** The same, with the error as common/conf.h's struct (for the ED's config loader). */
int membership_conf_load(
	const config_setting_t *setting, struct membership_conf *conf, struct vprn_conf_err *err);

/** Check cross-option constraints (e.g. QRI < QI). 0 or -EINVAL with a message. */
int membership_conf_validate(const struct membership_conf *conf, char *err, size_t err_len);

/** Derived values (RFC 3376 §8), from a validated conf. */
uint32_t membership_conf_lmqc(const struct membership_conf *conf);
uint32_t membership_conf_startup_count(const struct membership_conf *conf);
uint32_t membership_conf_startup_interval(const struct membership_conf *conf);
uint32_t membership_conf_oqpt(const struct membership_conf *conf);

/** Print the option table (name, type, default, range, meaning) as Markdown. */
void membership_conf_describe(FILE *out);

#endif /* VPRN_MEMBERSHIP_CONF_H */
