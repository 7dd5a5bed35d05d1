/* SPDX-License-Identifier: BSD-3-Clause */
#include "opts.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stamp.h"

typedef int (*opt_fn)(struct bench_opts *o, const char *arg);

struct opt_desc {
	const char *name;
	const char *arg; /**< NULL: flag */
	opt_fn fn;
	const char *help;
};

/* ---- value parsers (range-checked) ---- */

static int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || *s == '-' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* A rate or count with an optional k/M/G suffix (decimal). */
static int parse_scaled(const char *s, double max, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || !isfinite(v) || v < 0)
		return -EINVAL;
	switch (*end) {
	case 'k':
		v *= 1e3;
		end++;
		break;
	case 'M':
		v *= 1e6;
		end++;
		break;
	case 'G':
		v *= 1e9;
		end++;
		break;
	default:
		break;
	}
	if (*end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*out = ntohl(a.s_addr);
	return 0;
}

const char *bench_ip_str(uint32_t ip, char buf[16])
{
	snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
	return buf;
}

/* ---- option handlers ---- */

static int add_port(char names[][BENCH_PORT_NAME_LEN], unsigned int *n, const char *arg)
{
	if (*n >= BENCH_MAX_PORTS || strlen(arg) == 0 || strlen(arg) >= BENCH_PORT_NAME_LEN)
		return -EINVAL;
	snprintf(names[(*n)++], BENCH_PORT_NAME_LEN, "%s", arg);
	return 0;
}

static int o_tx(struct bench_opts *o, const char *a)
{
	return add_port(o->tx_names, &o->n_tx, a);
}

static int o_rx(struct bench_opts *o, const char *a)
{
	return add_port(o->rx_names, &o->n_rx, a);
}

static int o_src(struct bench_opts *o, const char *a)
{
	return parse_ip(a, &o->src);
}

static int o_group(struct bench_opts *o, const char *a)
{
	return parse_ip(a, &o->group);
}

static int o_n_src(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, BENCH_MAX_FLOWS, &v);

	o->n_src = (unsigned int)v;
	return rc;
}

static int o_n_groups(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, BENCH_MAX_FLOWS, &v);

	o->n_groups = (unsigned int)v;
	return rc;
}

static int o_dst_mac(struct bench_opts *o, const char *a)
{
	unsigned int m[6];
	char tail;

	if (sscanf(a, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (m[i] > 255)
			return -EINVAL;
		o->dst_mac[i] = (uint8_t)m[i];
	}
	o->dst_mac_set = true;
	return 0;
}

static int o_sport(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, 65535, &v);

	o->sport = (uint16_t)v;
	return rc;
}

static int o_dport(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, 65535, &v);

	o->dport = (uint16_t)v;
	return rc;
}

static int o_ttl(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, 255, &v);

	o->ttl = (uint8_t)v;
	return rc;
}

/* "64", "imix" (64:7,594:4,1420:1) or "LEN:WEIGHT,LEN:WEIGHT,..." */
static int o_size(struct bench_opts *o, const char *a)
{
	char buf[128], *save = NULL, *tok;
	size_t n = strlen(a);

	if (n >= sizeof(buf) || n >= sizeof(o->size_spec))
		return -EINVAL;
	memcpy(o->size_spec, a, n + 1);
	if (strcmp(a, "imix") == 0)
		a = "64:7,594:4,1420:1";
	memcpy(buf, a, strlen(a) + 1);
	o->n_sizes = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *colon = strchr(tok, ':');
		uint64_t len, w = 1;

		if (o->n_sizes >= BENCH_MAX_SIZES)
			return -EINVAL;
		if (colon != NULL) {
			*colon = '\0';
			if (parse_u64(colon + 1, 1, 1000, &w) != 0)
				return -EINVAL;
		}
		if (parse_u64(tok, BENCH_MIN_FRAME, BENCH_MAX_FRAME, &len) != 0)
			return -EINVAL;
		o->sizes[o->n_sizes++] = (struct frame_size){ (uint16_t)len, (uint16_t)w };
	}
	return o->n_sizes > 0 ? 0 : -EINVAL;
}

static int o_rate(struct bench_opts *o, const char *a)
{
	return parse_scaled(a, 1e10, &o->rate_pps);
}

static int o_duration(struct bench_opts *o, const char *a)
{
	o->duration_set = true;
	return parse_scaled(a, 86400, &o->duration_s);
}

static int o_count(struct bench_opts *o, const char *a)
{
	double v;
	int rc = parse_scaled(a, 1e15, &v);

	o->count = (uint64_t)v;
	return rc;
}

static int o_burst(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, 64, &v);

	o->burst = (unsigned int)v;
	return rc;
}

static int o_drain(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 0, 60000, &v);

	o->drain_ms = (unsigned int)v;
	return rc;
}

static int o_copies(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, 1024, &v);

	o->expect_copies = (unsigned int)v;
	return rc;
}

static int o_link_wait(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 0, 600, &v);

	o->link_wait_s = (unsigned int)v;
	return rc;
}

static int o_delay(struct bench_opts *o, const char *a)
{
	return parse_scaled(a, 600, &o->delay_s);
}

static int o_queues(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, BENCH_MAX_QUEUES, &v);

	o->n_queues = (uint16_t)v;
	return rc;
}

static int o_mtu(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 68, 9000, &v);

	o->mtu = (uint16_t)v;
	return rc;
}

static int o_search(struct bench_opts *o, const char *a)
{
	return parse_scaled(a, 100, &o->search_loss);
}

static int o_search_steps(struct bench_opts *o, const char *a)
{
	uint64_t v;
	int rc = parse_u64(a, 1, 30, &v);

	o->search_steps = (unsigned int)v;
	return rc;
}

static int o_trial(struct bench_opts *o, const char *a)
{
	int rc = parse_scaled(a, 3600, &o->trial_s);

	return rc == 0 && o->trial_s > 0 ? 0 : -EINVAL;
}

static int o_latency_load(struct bench_opts *o, const char *a)
{
	int rc = parse_scaled(a, 1, &o->latency_load);

	return rc == 0 && o->latency_load > 0 ? 0 : -EINVAL;
}

static int o_inject(struct bench_opts *o, const char *a)
{
	static const char *const kinds[] = {
		[INJECT_DROP] = "drop", [INJECT_DUP] = "dup", [INJECT_SWAP] = "swap"
	};
	const char *colon = strchr(a, ':');
	uint64_t seq;

	if (colon == NULL || o->n_inject >= BENCH_MAX_INJECT)
		return -EINVAL;
	if (parse_u64(colon + 1, 0, UINT32_MAX - 1, &seq) != 0)
		return -EINVAL;
	for (unsigned int k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		if (strlen(kinds[k]) == (size_t)(colon - a) &&
			strncmp(a, kinds[k], strlen(kinds[k])) == 0) {
			o->inject[o->n_inject++] =
				(struct inject){ (enum inject_kind)k, (uint32_t)seq };
			return 0;
		}
	}
	return -EINVAL;
}

static int o_esp(struct bench_opts *o, const char *a)
{
	if (strlen(a) >= sizeof(o->esp_spec))
		return -EINVAL;
	snprintf(o->esp_spec, sizeof(o->esp_spec), "%s", a);
	return 0;
}

static int o_json(struct bench_opts *o, const char *a)
{
	if (strlen(a) >= sizeof(o->json_path))
		return -EINVAL;
	snprintf(o->json_path, sizeof(o->json_path), "%s", a);
	return 0;
}

static int o_quiet(struct bench_opts *o, const char *a)
{
	(void)a;
	o->quiet = true;
	return 0;
}

static int o_arp_reply(struct bench_opts *o, const char *a)
{
	(void)a;
	o->arp_reply = true;
	return 0;
}

static const struct opt_desc opt_table[] = {
	{ "tx", "PORT", o_tx, "send on this port (id or device name); repeatable" },
	{ "rx", "PORT", o_rx, "receive on this port (id or device name); repeatable" },
	{ "src", "IP", o_src, "first source address (default 192.168.1.10)" },
	{ "n-src", "N", o_n_src, "number of consecutive source addresses (default 1)" },
	{ "group", "IP", o_group,
		"first destination group (default 239.1.1.1); unicast works too" },
	{ "n-groups", "N", o_n_groups, "number of consecutive groups (default 1)" },
	{ "dst-mac", "MAC", o_dst_mac,
		"destination MAC (default: 01:00:5e mapping, or broadcast)" },
	{ "sport", "PORT", o_sport, "UDP source port (default 5000)" },
	{ "dport", "PORT", o_dport, "UDP destination port (default 5001)" },
	{ "ttl", "N", o_ttl, "IPv4 TTL (default 64)" },
	{ "size", "SPEC", o_size,
		"frame size incl. FCS: 64 | imix | LEN:W,LEN:W,... (default 64)" },
	{ "rate", "PPS", o_rate, "packets/s per TX port, k/M/G suffix; 0 = as fast as possible" },
	{ "duration", "SEC", o_duration,
		"sending time (default 5, or none with --count; 0 = until Ctrl-C)" },
	{ "count", "N", o_count, "packets per TX port (default unlimited)" },
	{ "burst", "N", o_burst, "burst size (default 32)" },
	{ "drain-ms", "MS", o_drain, "wait for packets in flight after sending (default 200)" },
	{ "expect-copies", "N", o_copies, "copies received per packet sent, for loss (default 1)" },
	{ "link-wait", "SEC", o_link_wait, "wait up to this long for links up (default 10)" },
	{ "delay", "SEC", o_delay, "wait this long after links are up (peer start-up; default 0)" },
	{ "rxq", "N", o_queues,
		"RX queues per port, all polled (match a peer's TX queues; default 1)" },
	{ "mtu", "N", o_mtu, "set this MTU on every port (default: device default)" },
	{ "search", "LOSS%", o_search,
		"binary search the highest rate with loss <= LOSS% (e.g. 0.01)" },
	{ "search-steps", "N", o_search_steps, "search trials after the maximum one (default 7)" },
	{ "trial", "SEC", o_trial, "duration of each search trial (default 1)" },
	{ "latency-load", "F", o_latency_load,
		"latency trial at F x the zero-loss rate (default 0.5)" },
	{ "inject", "KIND:SEQ", o_inject,
		"test seam on flow 0: drop:S, dup:S or swap:S; repeatable" },
	{ "esp", "SPEC", o_esp,
		"send ESP: SPI:KEYHEX(40):TUN_SRC:TUN_DST[:esn][:seq=N], AES-GCM-128 (--dst-mac)" },
	{ "json", "FILE", o_json, "write the results as JSON to FILE" },
	{ "quiet", NULL, o_quiet, "no live progress" },
	{ "arp-reply", NULL, o_arp_reply,
		"answer every ARP request received on an RX port with that port's MAC "
		"(be a DUT's gateway); with -l 0 only if the port also sends" },
};

#define N_OPTS (sizeof(opt_table) / sizeof(opt_table[0]))

void bench_opts_usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s [EAL options] -- [options]\n", prog);
	for (size_t i = 0; i < N_OPTS; i++) {
		char left[40];

		snprintf(left, sizeof(left), "--%s%s%s", opt_table[i].name,
			opt_table[i].arg != NULL ? " " : "",
			opt_table[i].arg != NULL ? opt_table[i].arg : "");
		fprintf(f, "  %-24s %s\n", left, opt_table[i].help);
	}
}

static void opts_defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->src = 0xc0a8010a; /* 192.168.1.10 */
	o->n_src = 1;
	o->group = 0xef010101; /* 239.1.1.1 */
	o->n_groups = 1;
	o->sport = 5000;
	o->dport = 5001;
	o->ttl = 64;
	o->sizes[0] = (struct frame_size){ 64, 1 };
	o->n_sizes = 1;
	snprintf(o->size_spec, sizeof(o->size_spec), "64");
	o->duration_s = 5;
	o->burst = 32;
	o->drain_ms = 200;
	o->expect_copies = 1;
	o->link_wait_s = 10;
	o->n_queues = 1;
	o->search_loss = -1;
	o->search_steps = 7;
	o->trial_s = 1;
	o->latency_load = 0.5;
}

int bench_opts_parse(struct bench_opts *o, int argc, char **argv)
{
	struct option lopts[N_OPTS + 2];
	int c, idx;

	opts_defaults(o);
	for (size_t i = 0; i < N_OPTS; i++)
		lopts[i] = (struct option){ opt_table[i].name,
			opt_table[i].arg != NULL ? required_argument : no_argument, NULL, (int)i };
	lopts[N_OPTS] = (struct option){ "help", no_argument, NULL, 'h' };
	lopts[N_OPTS + 1] = (struct option){ NULL, 0, NULL, 0 };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", lopts, &idx)) != -1) {
		if (c == 'h') {
			bench_opts_usage(stdout, argv[0]);
			exit(0);
		}
		if (c < 0 || (size_t)c >= N_OPTS) {
			bench_opts_usage(stderr, argv[0]);
			return -EINVAL;
		}
		if (opt_table[c].fn(o, optarg) != 0) {
			fprintf(stderr, "vprn-bench: bad value for --%s: '%s'\n", opt_table[c].name,
				optarg != NULL ? optarg : "");
			return -EINVAL;
		}
	}
	if (o->count > 0 && !o->duration_set)
		o->duration_s = 0; /* --count alone: until every packet is sent */
	if (optind < argc) {
		fprintf(stderr, "vprn-bench: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (o->n_tx == 0 && o->n_rx == 0) {
		fprintf(stderr, "vprn-bench: give at least one --tx or --rx port\n");
		return -EINVAL;
	}
	if ((uint64_t)o->n_src * o->n_groups * (o->n_tx > 0 ? o->n_tx : 1) > BENCH_MAX_FLOWS) {
		fprintf(stderr, "vprn-bench: at most %u flows (tx ports x sources x groups)\n",
			BENCH_MAX_FLOWS);
		return -EINVAL;
	}
	if (o->search_loss >= 0 && o->n_tx == 0) {
		fprintf(stderr, "vprn-bench: --search needs a --tx port\n");
		return -EINVAL;
	}
	return 0;
}

void bench_opts_print(FILE *f, const struct bench_opts *o)
{
	char a[16], b[16];

	fprintf(f, "vprn-bench configuration:\n");
	fprintf(f, "  tx ports:      ");
	for (unsigned int i = 0; i < o->n_tx; i++)
		fprintf(f, "%s%s", i ? ", " : "", o->tx_names[i]);
	fprintf(f, "%s\n  rx ports:      ", o->n_tx ? "" : "(none)");
	for (unsigned int i = 0; i < o->n_rx; i++)
		fprintf(f, "%s%s", i ? ", " : "", o->rx_names[i]);
	fprintf(f, "%s\n", o->n_rx ? "" : "(none)");
	fprintf(f,
		"  flows:         %u sources from %s x %u groups from %s, UDP %u -> %u, ttl %u\n",
		o->n_src, bench_ip_str(o->src, a), o->n_groups, bench_ip_str(o->group, b), o->sport,
		o->dport, o->ttl);
	fprintf(f, "  frame sizes:   %s (incl. FCS)\n", o->size_spec);
	if (o->rate_pps > 0)
		fprintf(f, "  rate:          %.0f pps per tx port\n", o->rate_pps);
	else
		fprintf(f, "  rate:          as fast as possible\n");
	fprintf(f, "  duration:      %.3g s, count %llu per tx port (0 = unlimited), burst %u\n",
		o->duration_s, (unsigned long long)o->count, o->burst);
	fprintf(f, "  drain:         %u ms, expect %u copies per packet\n", o->drain_ms,
		o->expect_copies);
	if (o->search_loss >= 0)
		fprintf(f,
			"  search:        loss <= %g %%, %u steps of %.3g s, latency at %.2f x\n",
			o->search_loss, o->search_steps, o->trial_s, o->latency_load);
	for (unsigned int i = 0; i < o->n_inject; i++)
		fprintf(f, "  inject:        %s at seq %u of flow 0\n",
			o->inject[i].kind == INJECT_DROP  ? "drop"
			: o->inject[i].kind == INJECT_DUP ? "dup"
							  : "swap",
			o->inject[i].seq);
	if (o->esp_spec[0] != '\0')
		fprintf(f, "  esp:           frames leave as ESP of one outbound SA (below)\n");
	if (o->json_path[0] != '\0')
		fprintf(f, "  json:          %s\n", o->json_path);
}
