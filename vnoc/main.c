/* SPDX-License-Identifier: BSD-3-Clause */
/* vprn-vnoc -c FILE [--check] [--ctl PATH] [--log-level err|warn|info|debug] */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "conf.h"
#include "vnoc.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: vprn-vnoc -c FILE [--check] [--ctl PATH] "
		     "[--log-level err|warn|info|debug]\n"
		     "  -c, --config FILE   configuration (libconfig, see conf/vnoc.conf)\n"
		     "      --check         validate the configuration and exit (0 = valid)\n"
		     "      --ctl PATH      control socket (overrides ctl_socket)\n"
		     "      --log-level L   overrides log_level\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "ctl", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL, *ctl = NULL;
	struct vprn_conf_err err;
	struct vnoc_conf conf;
	struct vnoc v;
	bool check = false;
	int level = -1;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = true;
			break;
		case 's':
			ctl = optarg;
			break;
		case 'l':
			level = vprn_log_parse_level(optarg);
			if (level < 0) {
				fprintf(stderr, "vprn-vnoc: bad --log-level '%s'\n", optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (path == NULL || optind != argc) {
		usage(stderr);
		return 1;
	}
	if (vnoc_conf_load(path, &conf, &err) != 0) {
		vprn_conf_err_print(&err, stderr);
		return 1;
	}
	if (check) {
		printf("%s: ok (%u VPNs, %u sites)\n", path, conf.n_vpns, conf.n_sites);
		vnoc_conf_free(&conf);
		return 0;
	}
	vprn_log_init("vprn-vnoc", level >= 0 ? level : conf.log_level);
	rc = vnoc_init(&v, &conf, ctl);
	if (rc == 0)
		rc = vnoc_run(&v);
	vnoc_fini(&v);
	LOG_INFO("vnoc", "stopped");
	return rc == 0 ? 0 : 1;
}
