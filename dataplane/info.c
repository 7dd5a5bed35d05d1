/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Read-out of the control-side state for vprnctl and telemetry. These run
 * on the control thread or the telemetry thread: the configuration and ARP
 * state are read under dp->cfg_lock, which every writer of them holds.
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "dataplane/cfg.h"
#include "dataplane/dp_priv.h"
#include "dataplane/esp/esp.h"
#include "dataplane/pipeline.h"

int dp_groups_list(struct dp *dp, struct dp_group_info *out, unsigned int max)
{
	int n;

	if (dp == NULL || (out == NULL && max != 0))
		return -EINVAL;
	pthread_mutex_lock(&dp->cfg_lock);
	n = (int)dp->cfg->n_groups;
	for (unsigned int i = 0; i < dp->cfg->n_groups && i < max; i++) {
		const struct dp_group_cfg *g = &dp->cfg->groups[i];
		struct dp_group_info *o = &out[i];

		memset(o, 0, sizeof(*o));
		o->group = g->conf.group;
		o->mode = g->conf.mode;
		o->tree_version = g->conf.tree_version;
		o->local_receivers = g->conf.local_receivers;
		o->path_mtu = g->conf.path_mtu;
		o->n_nbrs = g->conf.n_nbrs;
		memcpy(o->nbrs, g->conf.nbrs, sizeof(o->nbrs));
		o->n_prev = g->n_prev;
		dp_group_stats_locked(dp, g->slot, &o->stats);
	}
	pthread_mutex_unlock(&dp->cfg_lock);
	return n;
}

int dp_neighbours_list(struct dp *dp, struct dp_nbr_info *out, unsigned int max)
{
	int n;

	if (dp == NULL || (out == NULL && max != 0))
		return -EINVAL;
	pthread_mutex_lock(&dp->cfg_lock);
	n = (int)dp->cfg->n_nbrs;
	for (unsigned int i = 0; i < dp->cfg->n_nbrs && i < max; i++) {
		const struct dp_nbr_conf *nc = &dp->cfg->nbrs[i];
		struct dp_nbr_info *o = &out[i];

		memset(o, 0, sizeof(*o));
		o->addr = nc->addr;
		o->next_hop = dp_next_hop(dp, nc->addr);
		o->has_sa = nc->sa_out != NULL;
		o->resolved = dp_arp_lookup(dp, o->next_hop, o->mac) == 0;
	}
	pthread_mutex_unlock(&dp->cfg_lock);
	return n;
}

static void sa_info(const struct esp_sa *sa, struct dp_sa_info *o)
{
	struct esp_sa_stats st;

	o->spi = esp_sa_spi(sa);
	o->inbound = esp_sa_dir(sa) == ESP_DIR_INBOUND;
	if (esp_sa_get_stats(sa, &st) == 0) {
		o->packets = st.packets;
		o->bytes = st.bytes;
		o->seq = st.seq;
		for (unsigned int r = 0; r < ESP_DROP_MAX; r++)
			o->drops += st.drops[r];
	}
}

int dp_sas_list(struct dp *dp, struct dp_sa_info *out, unsigned int max)
{
	const struct dp_cfg *c;
	unsigned int n = 0;

	if (dp == NULL || (out == NULL && max != 0))
		return -EINVAL;
	pthread_mutex_lock(&dp->cfg_lock);
	c = dp->cfg;
	for (unsigned int i = 0; i < c->n_spis; i++, n++) {
		if (n >= max)
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		sa_info(c->spis[i].sa, &out[n]);
		out[n].mode = c->spis[i].mode;
		out[n].group = c->spis[i].group;
	}
	for (unsigned int i = 0; i < c->n_nbrs; i++) {
		if (c->nbrs[i].sa_out == NULL)
			continue;
		if (n < max) {
			memset(&out[n], 0, sizeof(out[n]));
			sa_info(c->nbrs[i].sa_out, &out[n]);
			out[n].mode = DP_SA_PAIRWISE;
			out[n].peer = c->nbrs[i].addr;
		}
		n++;
	}
	for (unsigned int i = 0; i < c->n_groups; i++) {
		if (c->groups[i].conf.sa_out == NULL)
			continue;
		if (n < max) {
			memset(&out[n], 0, sizeof(out[n]));
			sa_info(c->groups[i].conf.sa_out, &out[n]);
			out[n].mode = DP_SA_GROUP;
			out[n].group = c->groups[i].conf.group;
		}
		n++;
	}
	pthread_mutex_unlock(&dp->cfg_lock);
	return (int)n;
}
