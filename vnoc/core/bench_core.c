/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-vnoc-core-bench: the service core alone (no TLS, no sockets) driven by
 * N simulated EDs that answer every SA install and tree update at once:
 * refresh every second, metrics every 2 s, joins and leaves churning.
 * Reports the core's CPU per simulated second, resident memory, and the
 * latency from a join to the TreeUpdate that includes the site (simulated
 * time: the debounce plus the tick; and the CPU time of the poll that did it).
 * usage: vprn-vnoc-core-bench [SITES] [GROUPS] [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "core.h"

#define TICK_MS 10

struct pending_ack {
	uint32_t site;
	uint64_t seq;
};

static struct pending_ack *acks;
static size_t n_acks, cap_acks;
static uint64_t seq, now_ms;
static uint64_t *join_at; /* per (site, group): simulated time of the join, 0 = none */
static uint32_t n_groups;
static double *lat;
static size_t n_lat, cap_lat;

static uint64_t sim_now(void *ctx)
{
	(void)ctx;
	return now_ms;
}

static int sim_send(void *ctx, uint32_t site, struct vprn_msg *msg)
{
	(void)ctx;
	msg->seq = ++seq;
	if (msg->type == VPRN_MSG_SA_INSTALL || msg->type == VPRN_MSG_TREE_UPDATE) {
		if (n_acks == cap_acks) {
			cap_acks = cap_acks ? 2 * cap_acks : 4096;
			acks = realloc(acks, cap_acks * sizeof(*acks));
		}
		acks[n_acks++] = (struct pending_ack){ site, msg->seq };
	}
	if (msg->type == VPRN_MSG_TREE_UPDATE && !msg->u.tree_update.removed) {
		uint32_t g = msg->u.tree_update.group & 0xffff;
		uint64_t *t = &join_at[(size_t)site * n_groups + g];

		if (*t != 0 && msg->u.tree_update.local_receivers) {
			if (n_lat == cap_lat) {
				cap_lat = cap_lat ? 2 * cap_lat : 1024;
				lat = realloc(lat, cap_lat * sizeof(*lat));
			}
			lat[n_lat++] = (double)(now_ms - *t);
			*t = 0;
		}
	}
	return 0;
}

static double cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return kb;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static char *make_policy(uint32_t n_sites)
{
	size_t cap = 256 + (size_t)n_sites * 96;
	char *s = malloc(cap);
	size_t o = 0;

	o += (size_t)snprintf(s + o, cap - o,
		"timers = { refresh_interval_ms = 1000; hold_time_ms = 3000; startup_hold_ms = 0; "
		"};\n"
		"trees = { debounce_ms = 20; reoptimise_interval_ms = 30000; };\n"
		"vpns = ( { name = \"v\"; sites = (");
	for (uint32_t i = 0; i < n_sites; i++)
		o += (size_t)snprintf(s + o, cap - o,
			"%s{ name = \"s%u\"; wan = \"10.%u.%u.2\"; max_degree = 6; }", i ? "," : "",
			i, 100 + i / 250, i % 250);
	snprintf(s + o, cap - o,
		"); groups = ( { name = \"all\"; ranges = [\"239.0.0.0/8\"]; tree = \"auto\"; } ); "
		"} );\n");
	return s;
}

static void send_membership(struct vnoc_core *c, uint32_t site, enum vprn_msg_type type, uint32_t g,
	enum vprn_role role)
{
	struct vprn_msg m;

	vprn_msg_init(&m, type, 1);
	m.u.join.m = (struct vprn_membership){
		.group = 0xef000000u | g, .role = role, .filter_mode = VPRN_FILTER_EXCLUDE
	};
	vnoc_core_handle(c, site, &m);
}

int main(int argc, char **argv)
{
	uint32_t n_sites = argc > 1 ? (uint32_t)atoi(argv[1]) : 500;
	uint32_t seconds = argc > 3 ? (uint32_t)atoi(argv[3]) : 60;
	struct vnoc_policy_err err;
	char *text;
	struct vnoc_core *c;
	uint8_t *member; /* per (site, group): 0 none, 1 receiver, 2 sender */
	struct vprn_membership *ms;
	double cpu0, cpu_total, poll_max = 0;
	unsigned int rnd = 12345;

	n_groups = argc > 2 ? (uint32_t)atoi(argv[2]) : 10;
	if (n_sites < 2 || n_sites > 1000 || n_groups < 1 || n_groups > 1000 || seconds < 1)
		return 2;
	vprn_log_init("bench", VPRN_LOG_ERR);
	text = make_policy(n_sites);
	c = vnoc_core_create(
		&(struct vnoc_core_params){ .policy = vnoc_policy_load_string(text, &err),
			.clock = { sim_now, NULL },
			.out = { sim_send, NULL } });
	if (c == NULL) {
		fprintf(stderr, "core: %s\n", err.msg);
		return 1;
	}
	join_at = calloc((size_t)n_sites * n_groups, sizeof(*join_at));
	member = calloc((size_t)n_sites * n_groups, 1);
	ms = calloc(n_groups, sizeof(*ms));
	/* every group: one sender, ~10% of the sites receive */
	for (uint32_t g = 0; g < n_groups; g++) {
		member[(size_t)(g % n_sites) * n_groups + g] = 2;
		for (uint32_t s = 0; s < n_sites; s++)
			if (s != g % n_sites && rand_r(&rnd) % 10 == 0)
				member[(size_t)s * n_groups + g] = 1;
	}
	now_ms = 1000;
	cpu0 = cpu_s();
	for (uint64_t t = 0; t < (uint64_t)seconds * 1000; t += TICK_MS) {
		now_ms = 1000 + t;
		if (t % 1000 < TICK_MS) {
			/* every ED refreshes once a second (spread over the second in reality) */
			for (uint32_t s = 0; s < n_sites; s++) {
				struct vprn_msg m;
				uint32_t k = 0;

				for (uint32_t g = 0; g < n_groups; g++) {
					uint8_t r = member[(size_t)s * n_groups + g];

					if (r != 0)
						ms[k++] = (struct vprn_membership){
							.group = 0xef000000u | g,
							.role = r,
							.filter_mode = VPRN_FILTER_EXCLUDE
						};
				}
				vprn_msg_init(&m, VPRN_MSG_REFRESH, 1);
				m.u.refresh.memberships = ms;
				m.u.refresh.n_memberships = k;
				vnoc_core_handle(c, s, &m);
			}
			/* churn: 5 joins and 5 leaves per second */
			for (int i = 0; i < 10; i++) {
				uint32_t s = (uint32_t)rand_r(&rnd) % n_sites,
					 g = (uint32_t)rand_r(&rnd) % n_groups;
				uint8_t *r = &member[(size_t)s * n_groups + g];

				if (*r == 0) {
					*r = 1;
					join_at[(size_t)s * n_groups + g] = now_ms;
					send_membership(c, s, VPRN_MSG_JOIN, g, VPRN_ROLE_RECEIVER);
				} else if (*r == 1) {
					*r = 0;
					send_membership(
						c, s, VPRN_MSG_LEAVE, g, VPRN_ROLE_RECEIVER);
				}
			}
		}
		if (t % 2000 < TICK_MS) {
			/* metrics: every ED reports 20 peers */
			struct vprn_peer_metric pm[20];
			struct vprn_msg m;

			for (uint32_t s = 0; s < n_sites; s++) {
				for (int i = 0; i < 20; i++) {
					snprintf(pm[i].site, sizeof(pm[i].site), "s%u",
						(uint32_t)rand_r(&rnd) % n_sites);
					pm[i].rtt_us = 5000 + (uint32_t)rand_r(&rnd) % 100000;
					pm[i].loss_ppm = 0;
				}
				vprn_msg_init(&m, VPRN_MSG_METRICS, 1);
				m.u.metrics.peers = pm;
				m.u.metrics.n_peers = 20;
				vnoc_core_handle(c, s, &m);
			}
		}
		{
			double p0 = cpu_s(), d;

			vnoc_core_poll(c);
			d = cpu_s() - p0;
			poll_max = d > poll_max ? d : poll_max;
		}
		/* the EDs acknowledge everything by the next tick */
		while (n_acks > 0) {
			size_t n = n_acks;
			struct pending_ack *a = malloc(n * sizeof(*a));

			memcpy(a, acks, n * sizeof(*a));
			n_acks = 0;
			for (size_t i = 0; i < n; i++) {
				struct vprn_msg m;

				vprn_msg_init(&m, VPRN_MSG_ACK, 1);
				m.u.ack.ref_seq = a[i].seq;
				m.u.ack.status = VPRN_ACK_OK;
				vnoc_core_handle(c, a[i].site, &m);
			}
			free(a);
		}
	}
	cpu_total = cpu_s() - cpu0;
	qsort(lat, n_lat, sizeof(*lat), cmp_d);
	printf("{\"sites\": %u, \"groups\": %u, \"simulated_s\": %u, \"tick_ms\": %d, "
	       "\"debounce_ms\": 20,\n"
	       " \"cpu_s\": %.3f, \"cpu_pct_of_one_core\": %.2f, \"rss_kb\": %ld,\n"
	       " \"join_to_tree_update_ms\": {\"n\": %zu, \"p50\": %.1f, \"p99\": %.1f},\n"
	       " \"longest_poll_ms\": %.2f, \"recomputes\": %llu, \"messages\": %llu}\n",
		n_sites, n_groups, seconds, TICK_MS, cpu_total, 100.0 * cpu_total / seconds,
		rss_kb(), n_lat, n_lat ? lat[n_lat / 2] : 0.0, n_lat ? lat[n_lat * 99 / 100] : 0.0,
		poll_max * 1000, (unsigned long long)vnoc_core_counters(c)->tree_recomputes,
		(unsigned long long)seq);
	vnoc_core_destroy(c);
	free(text);
	free(join_at);
	free(member);
	free(ms);
	free(acks);
	free(lat);
	return 0;
}
