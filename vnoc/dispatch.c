/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message dispatch of the VNOC: one row per message kind an ED may send on an
 * established session. Kinds without a row (VNOC -> ED messages) are protocol
 * errors. The policy/membership/keys/trees modules replace the placeholder
 * handlers below with theirs and add their calls to the event hooks.
 */
#include "dispatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "session.h"
#include "vnoc.h"

/* Placeholders until the membership module is wired: acknowledge, keep nothing. */
static int on_join_leave(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m)
{
	struct vprn_msg r;

	vprn_msg_init(&r, VPRN_MSG_JOIN_RESULT, 0);
	r.u.join_result.m = m->type == VPRN_MSG_JOIN ? m->u.join.m : m->u.leave.m;
	r.u.join_result.granted = false;
	r.u.join_result.reason = VPRN_REFUSE_NO_POLICY;
	vprn_msg_strcpy(r.u.join_result.text, sizeof(r.u.join_result.text),
		"membership not available in this VNOC build");
	if (m->type == VPRN_MSG_LEAVE)
		return 0;
	return vnoc_session_send(v, s, &r) == -EINVAL ? -EPROTO : 0;
}

static int on_ignore(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m)
{
	(void)v;
	(void)s;
	(void)m;
	return 0;
}

static int on_keepalive(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m)
{
	struct vprn_msg r;

	/* An ED keepalive is echoed, so that the ED can measure the control RTT. */
	vprn_msg_init(&r, VPRN_MSG_KEEPALIVE, 0);
	r.u.keepalive.tsc_echo = m->u.keepalive.tsc_echo;
	vnoc_session_send(v, s, &r);
	return 0;
}

static int on_error(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m)
{
	(void)v;
	LOG_WARN("dispatch", "site %s reports error %s: %s", s->site->name,
		vprn_error_code_name(m->u.error.code), m->u.error.text);
	return 0;
}

static const vnoc_msg_fn handlers[VPRN_MSG_TYPE_COUNT] = {
	[VPRN_MSG_JOIN] = on_join_leave,
	[VPRN_MSG_LEAVE] = on_join_leave,
	[VPRN_MSG_REFRESH] = on_ignore, /* membership module */
	[VPRN_MSG_METRICS] = on_ignore, /* metrics database */
	[VPRN_MSG_ACK] = on_ignore,	/* keys / trees modules (SA installed) */
	[VPRN_MSG_DIGEST] = on_ignore,	/* resync */
	[VPRN_MSG_TRAFFIC] = on_ignore, /* accounting */
	[VPRN_MSG_KEEPALIVE] = on_keepalive,
	[VPRN_MSG_ERROR] = on_error,
};

int vnoc_dispatch(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m)
{
	vnoc_msg_fn fn = (unsigned int)m->type < VPRN_MSG_TYPE_COUNT ? handlers[m->type] : NULL;

	if (fn == NULL) {
		LOG_WARN("dispatch", "site %s sent %s, which an ED may not send", s->site->name,
			vprn_msg_type_name(m->type));
		return -EPROTO;
	}
	return fn(v, s, m);
}

int vnoc_build_welcome(struct vnoc *v, uint32_t site_id, struct vprn_msg *msg)
{
	const struct vnoc_site *site = vnoc_conf_site_by_id(&v->conf, site_id);
	const struct vnoc_vpn *vpn = site->vpn;
	struct vprn_welcome *w = &msg->u.welcome;

	vprn_msg_init(msg, VPRN_MSG_WELCOME, 0);
	w->site_id = site_id;
	vprn_msg_strcpy(w->vpn, sizeof(w->vpn), vpn->name);
	w->refresh_interval_ms = v->conf.timers.refresh_interval_ms;
	w->hold_time_ms = v->conf.timers.hold_time_ms;
	w->probe_interval_ms = v->conf.timers.probe_interval_ms;
	w->metrics_interval_ms = v->conf.timers.metrics_interval_ms;
	w->vnoc_boot_id = v->boot_id;
	w->peers = calloc(vpn->n_sites, sizeof(*w->peers));
	if (w->peers == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < vpn->n_sites; i++) {
		const struct vnoc_site *p = vpn->sites[i];
		struct vprn_peer *dst = &w->peers[w->n_peers];

		if (p->id == site_id)
			continue;
		vprn_msg_strcpy(dst->site, sizeof(dst->site), p->name);
		dst->site_id = p->id;
		dst->wan_addr = p->wan_addr;
		/* probe_key: set by the keys module once wired in. */
		w->n_peers++;
	}
	return 0;
}

void vnoc_build_welcome_done(struct vprn_msg *msg)
{
	free(msg->u.welcome.peers);
	msg->u.welcome.peers = NULL;
}

int vnoc_modules_init(struct vnoc *v)
{
	v->modules = NULL;
	return 0;
}

void vnoc_modules_fini(struct vnoc *v)
{
	v->modules = NULL;
}

void vnoc_site_up(struct vnoc *v, uint32_t site_id)
{
	(void)v;
	(void)site_id;
}

void vnoc_site_down(struct vnoc *v, uint32_t site_id)
{
	(void)v;
	(void)site_id;
}

void vnoc_modules_tick(struct vnoc *v, uint64_t now_ms)
{
	(void)v;
	(void)now_ms;
}
