/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vprn-ed [EAL options] -- -c FILE [--check] [--ctl PATH] [--log-level L]
 * With --check (anywhere) the config is validated without starting EAL.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include "common/log.h"
#include "dataplane/dp.h"
#include "ed.h"

struct opts {
	const char *path;
	const char *ctl;
	int level;
	bool check;
};

static void usage(FILE *out)
{
	fprintf(out, "usage: vprn-ed [EAL options] -- -c FILE [--check] [--ctl PATH] "
		     "[--log-level err|warn|info|debug]\n"
		     "  -c, --config FILE   configuration (libconfig, see docs/ed.md)\n"
		     "      --check         validate the configuration and exit (no EAL)\n"
		     "      --ctl PATH      control socket (overrides ctl_socket)\n"
		     "      --log-level L   overrides log_level\n");
}

/* Our options are after "--" (or all of them when there is none). */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option long_opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "ctl", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", long_opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->path = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 's':
			o->ctl = optarg;
			break;
		case 'l':
			o->level = vprn_log_parse_level(optarg);
			if (o->level < 0) {
				fprintf(stderr, "vprn-ed: bad --log-level '%s'\n", optarg);
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -1;
		}
	}
	if (o->path == NULL || optind != argc)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = { .level = -1 };
	struct vprn_conf_err err;
	static struct ed ed;
	int dd = argc; /* index of "--" */
	sigset_t set;
	int rc;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--check") == 0)
			o.check = true;
		if (strcmp(argv[i], "--") == 0 && dd == argc)
			dd = i;
	}
	if (dd < argc) {
		/* getopt sees argv[dd] as argv[0] */
		if (parse_opts(argc - dd, argv + dd, &o) != 0) {
			usage(stderr);
			return 1;
		}
	} else if (parse_opts(argc, argv, &o) != 0) {
		usage(stderr);
		return 1;
	}
	if (ed_conf_load(o.path, &ed.conf, &err) != 0) {
		vprn_conf_err_print(&err, stderr);
		return 1;
	}
	if (o.check) {
		printf("%s: ok (site %s)\n", o.path, ed.conf.site);
		ed_conf_free(&ed.conf);
		return 0;
	}
	vprn_log_init("vprn-ed", o.level >= 0 ? o.level : ed.conf.log_level);
	/* Block before EAL creates its threads, so that only signalfd sees them. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (rte_eal_init(dd, argv) < 0) {
		LOG_ERR("ed", "EAL initialisation failed");
		return 1;
	}
	ed.dp = dp_create(&ed.conf.dp);
	if (ed.dp == NULL) {
		LOG_ERR("ed", "data plane creation failed");
		rte_eal_cleanup();
		return 1;
	}
	rc = dp_start(ed.dp);
	if (rc != 0) {
		LOG_ERR("ed", "data plane start failed: %s", strerror(-rc));
	} else {
		LOG_INFO("ed", "site %s: data plane running, %u worker(s)", ed.conf.site,
			ed.conf.dp.n_workers);
		rc = ed_loop_init(&ed, o.ctl);
		if (rc == 0)
			rc = ed_loop_run(&ed);
		else
			LOG_ERR("ed", "control thread setup failed: %s", strerror(-rc));
		ed_loop_fini(&ed);
		dp_stop(ed.dp);
	}
	dp_destroy(ed.dp);
	ed_conf_free(&ed.conf);
	rte_eal_cleanup();
	LOG_INFO("ed", "stopped");
	return rc == 0 ? 0 : 1;
}
