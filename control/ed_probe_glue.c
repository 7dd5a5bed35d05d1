/* SPDX-License-Identifier: BSD-3-Clause */
/* The probe module wired into vprn-ed (ed_probe_glue.h). */
#include "ed_probe_glue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "common/clock.h"
#include "common/ctlsock.h"
#include "common/log.h"
#include "dataplane/dp.h"
#include "ed.h"
#include "ed_probe.h"
#include "vnoc_client.h"

struct ed_probes {
	struct ed_probe *probe;
	uint32_t metrics_interval_ms;
	uint64_t next_metrics_ms;
	uint64_t reports; /* MetricsReports sent */
};

static int send_probe(void *ctx, uint32_t dst, const uint8_t *payload, size_t len)
{
	struct ed *ed = ctx;

	return dp_inject_probe(ed->dp, dst, payload, len);
}

static int cmd_probes(
	void *ctx, int argc, char **argv, struct vprn_json *j, char *err, size_t errlen)
{
	struct ed *ed = ctx;

	/* --json is vprnctl's business; accepted here so that both spellings work */
	if (argc > 1 || (argc == 1 && strcmp(argv[0], "--json") != 0)) {
		snprintf(err, errlen, "usage: probes");
		return -EINVAL;
	}
	if (ed->probes == NULL) {
		snprintf(err, errlen, "probing is off (wan.probe_port = 0)");
		return -ENOENT;
	}
	ed_probe_json(ed->probes->probe, j);
	return 0;
}

static const struct vprn_ctl_cmd probe_cmds[] = {
	{ "probes", "probes: per-peer RTT (srtt, rttvar), loss, samples and probe counters",
		cmd_probes },
};

int ed_probes_start(struct ed *ed)
{
	struct ed_probe_params par = {
		.port = ed->conf.dp.probe_port,
		.send = send_probe,
		.send_ctx = ed,
	};
	int rc = vprn_ctlsock_register(ed->ctl, probe_cmds, 1);

	if (rc != 0 || ed->conf.dp.probe_port == 0)
		return rc;
	ed->probes = calloc(1, sizeof(*ed->probes));
	if (ed->probes == NULL)
		return -ENOMEM;
	ed->probes->probe = ed_probe_new(&par);
	if (ed->probes->probe == NULL) {
		free(ed->probes);
		ed->probes = NULL;
		return -ENOMEM;
	}
	return 0;
}

void ed_probes_welcome(struct ed *ed, const struct vprn_welcome *w)
{
	struct ed_probes *ps = ed->probes;

	if (ps == NULL)
		return;
	if (ed_probe_set_peers(ps->probe, w->site_id, w->peers, w->n_peers, w->probe_interval_ms) !=
		0)
		LOG_WARN("probe", "could not set the probe peers");
	ps->metrics_interval_ms = w->metrics_interval_ms;
	ps->next_metrics_ms = vprn_now_ms() + w->metrics_interval_ms;
	LOG_INFO("probe", "probing %u peers every %u ms on UDP %u", ed_probe_n_peers(ps->probe),
		w->probe_interval_ms, ed->conf.dp.probe_port);
}

bool ed_probes_punt(struct ed *ed, struct dp_punt *p)
{
	struct rte_mbuf *m = p->m;

	if (p->kind != DP_PUNT_PROBE)
		return false;
	if (ed->probes != NULL && m->nb_segs == 1)
		ed_probe_input(ed->probes->probe, rte_pktmbuf_mtod(m, const uint8_t *),
			rte_pktmbuf_data_len(m), p->rx_ns);
	rte_pktmbuf_free(m);
	return true;
}

static void send_metrics(struct ed *ed, struct ed_probes *ps)
{
	uint32_t n = ed_probe_n_peers(ps->probe);
	struct vprn_peer_metric *pm;
	struct vprn_msg msg;

	if (n == 0 || ed->client == NULL || ed_client_state(ed->client) != ED_CL_UP)
		return;
	pm = calloc(n, sizeof(*pm));
	if (pm == NULL)
		return;
	vprn_msg_init(&msg, VPRN_MSG_METRICS, 0);
	msg.u.metrics.peers = pm;
	msg.u.metrics.n_peers = ed_probe_metrics(ps->probe, pm, n);
	if (msg.u.metrics.n_peers != 0 && ed_client_send(ed->client, &msg) == 0)
		ps->reports++;
	free(pm);
}

void ed_probes_tick(struct ed *ed, uint64_t now_ms)
{
	struct ed_probes *ps = ed->probes;

	if (ps == NULL)
		return;
	ed_probe_tick(ps->probe);
	if (ps->metrics_interval_ms != 0 && now_ms >= ps->next_metrics_ms) {
		ps->next_metrics_ms = now_ms + ps->metrics_interval_ms;
		send_metrics(ed, ps);
	}
}

void ed_probes_stop(struct ed *ed)
{
	if (ed->probes == NULL)
		return;
	ed_probe_free(ed->probes->probe); /* keys wiped */
	free(ed->probes);
	ed->probes = NULL;
}
