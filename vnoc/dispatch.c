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

#include <openssl/crypto.h>

#include "common/clock.h"
#include "common/ctlsock.h"
#include "common/log.h"
#include "core/core.h"
#include "session.h"
#include "vnoc.h"

/*
 * The service core (vnoc/core) handles membership, metrics, acks and traffic.
 * Core site ids are registry ids - 1 (both in config order).
 */
static struct vnoc_core *core_of(struct vnoc *v)
{
	return v->modules;
}

static int on_core(struct vnoc *v, struct vnoc_session *s, const struct vprn_msg *m)
{
	if (core_of(v) == NULL)
		return 0;
	return vnoc_core_handle(core_of(v), s->site->id - 1, m);
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
	[VPRN_MSG_JOIN] = on_core,
	[VPRN_MSG_LEAVE] = on_core,
	[VPRN_MSG_REFRESH] = on_core,
	[VPRN_MSG_METRICS] = on_core,
	[VPRN_MSG_ACK] = on_core,
	[VPRN_MSG_DIGEST] = on_core, /* expected state check and drift repair */
	[VPRN_MSG_TRAFFIC] = on_core,
	[VPRN_MSG_BYE] = on_core,
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
		if (core_of(v) != NULL) {
			vnoc_core_probe_key(core_of(v), site_id - 1, p->id - 1, dst->probe_key);
			dst->has_probe_key = true;
		}
		w->n_peers++;
	}
	return 0;
}

void vnoc_build_welcome_done(struct vprn_msg *msg)
{
	if (msg->u.welcome.peers != NULL) /* probe keys */
		OPENSSL_cleanse(msg->u.welcome.peers,
			msg->u.welcome.n_peers * sizeof(*msg->u.welcome.peers));
	free(msg->u.welcome.peers);
	msg->u.welcome.peers = NULL;
}

static int core_send(void *ctx, uint32_t site, struct vprn_msg *msg)
{
	return vnoc_send_site(ctx, site + 1, msg);
}

#define CTL_WRAP(name)                                                                             \
	static int ctl_##name(                                                                     \
		void *ctx, int argc, char **argv, struct vprn_json *out, char *err, size_t errlen) \
	{                                                                                          \
		struct vnoc *v = ctx;                                                              \
		if (core_of(v) == NULL) {                                                          \
			snprintf(err, errlen, "service core not running");                         \
			return -ENODEV;                                                            \
		}                                                                                  \
		return vnoc_core_ctl_##name(core_of(v), argc, argv, out, err, errlen);             \
	}
CTL_WRAP(groups)
CTL_WRAP(tree)
CTL_WRAP(sas)
CTL_WRAP(accounting)
CTL_WRAP(policy)
CTL_WRAP(metrics)
CTL_WRAP(rekey)

static const struct vprn_ctl_cmd core_cmds[] = {
	{ "groups", "groups", ctl_groups },
	{ "tree", "tree GROUP [--dot] [--vpn NAME] [--source ADDR]", ctl_tree },
	{ "sas", "sas [--export-keys wireshark]", ctl_sas },
	{ "rekey", "rekey: rekey every active SA channel now", ctl_rekey },
	{ "accounting", "accounting [LAST_N]", ctl_accounting },
	{ "policy", "policy reload | policy set VPN GROUP KEY VALUE | policy edits", ctl_policy },
	{ "metrics", "metrics", ctl_metrics },
};

int vnoc_modules_init(struct vnoc *v)
{
	struct vnoc_policy_err perr = { .text = NULL };
	struct vnoc_core_params p = {
		.policy = vnoc_policy_load_file(v->conf.path, &perr),
		.db_path = v->conf.database,
		.clock = vprn_clock_monotonic(),
		.out = { core_send, v },
		.config_path = v->conf.path,
	};

	v->modules = NULL;
	if (p.policy == NULL) {
		LOG_ERR("dispatch", "policy: %s", perr.msg);
		return -EINVAL;
	}
	v->modules = vnoc_core_create(&p);
	if (v->modules == NULL) {
		LOG_ERR("dispatch", "service core: cannot start (database %s?)", v->conf.database);
		return -EIO;
	}
	return vprn_ctlsock_register(v->ctl, core_cmds, sizeof(core_cmds) / sizeof(core_cmds[0]));
}

void vnoc_modules_fini(struct vnoc *v)
{
	vnoc_core_destroy(core_of(v));
	v->modules = NULL;
}

void vnoc_site_up(struct vnoc *v, uint32_t site_id)
{
	if (core_of(v) != NULL)
		vnoc_core_site_up(core_of(v), site_id - 1);
}

void vnoc_modules_site_json(struct vnoc *v, uint32_t site_id, struct vprn_json *j)
{
	vnoc_core_site_json(core_of(v), site_id - 1, j);
}

void vnoc_site_hello_digest(struct vnoc *v, uint32_t site_id, const uint8_t *d, uint32_t len)
{
	if (core_of(v) != NULL)
		vnoc_core_hello_digest(core_of(v), site_id - 1, d, len);
}

void vnoc_site_down(struct vnoc *v, uint32_t site_id)
{
	if (core_of(v) != NULL)
		vnoc_core_site_down(core_of(v), site_id - 1);
}

void vnoc_modules_tick(struct vnoc *v, uint64_t now_ms)
{
	(void)now_ms; /* the core reads the same monotonic clock */
	if (core_of(v) != NULL)
		vnoc_core_poll(core_of(v));
}

uint64_t vnoc_modules_next_deadline(struct vnoc *v)
{
	return core_of(v) != NULL ? vnoc_core_next_deadline(core_of(v)) : UINT64_MAX;
}

void vnoc_modules_reload(struct vnoc *v)
{
	char err[512];

	if (core_of(v) != NULL && vnoc_core_reload(core_of(v), NULL, err, sizeof(err)) == 0)
		LOG_INFO("dispatch", "SIGHUP: policy reloaded");
}
