/* SPDX-License-Identifier: BSD-3-Clause */
/* The text control protocol of vprn-wanem (docs/testbed.md). */
#include "wanem_ctl.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wanem.h"

#define MAX_TOKENS 8

static const char help_text[] =
	"delay SRC DST MS [JITTER_MS [LOSS_PCT]]   one-way SRC->DST ('*' = every site)\n"
	"sym A B MS [JITTER_MS [LOSS_PCT]]         both directions between A and B\n"
	"loss SRC DST PCT                          only the loss of SRC->DST\n"
	"show                                      links and every non-zero pair\n"
	"stats [json]                              per-link and per-pair counters\n"
	"arp                                       learned neighbours\n"
	"clear                                     zero every counter\n"
	"quit                                      close this connection\n";

void wanem_out_printf(struct wanem_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->oom)
		return;
	for (;;) {
		size_t room = o->cap - o->len;

		va_start(ap, fmt);
		n = vsnprintf(o->buf != NULL ? o->buf + o->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			o->oom = 1;
			return;
		}
		if ((size_t)n < room) {
			o->len += (size_t)n;
			return;
		}
		size_t ncap = o->cap == 0 ? 4096 : o->cap * 2;

		while (ncap - o->len <= (size_t)n)
			ncap *= 2;
		char *nb = realloc(o->buf, ncap);

		if (nb == NULL) {
			o->oom = 1;
			return;
		}
		o->buf = nb;
		o->cap = ncap;
	}
}

void wanem_out_free(struct wanem_out *o)
{
	free(o->buf);
	*o = (struct wanem_out){ 0 };
}

/* A number in [0, max]: digits with an optional fraction, nothing else. */
static int parse_num(const char *s, double max, double *v)
{
	char *end;

	if (*s == '\0' || strlen(s) > 16 || strspn(s, "0123456789.") != strlen(s))
		return -EINVAL;
	errno = 0;
	*v = strtod(s, &end);
	if (errno != 0 || *end != '\0' || !isfinite(*v) || *v < 0 || *v > max)
		return -ERANGE;
	return 0;
}

static void ip_str(char *b, size_t n, unsigned int ip)
{
	snprintf(b, n, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static int cmd_set(struct wanem *w, char **t, int nt, struct wanem_out *o, int both)
{
	double d, j = -1, l = -1;
	int rc;

	if (nt < 4 || nt > 6) {
		wanem_out_printf(o, "error: usage: %s A B MS [JITTER_MS [LOSS_PCT]]\n", t[0]);
		return 0;
	}
	if (parse_num(t[3], WANEM_MAX_MS, &d) < 0 ||
		(nt > 4 && parse_num(t[4], WANEM_MAX_MS, &j) < 0) ||
		(nt > 5 && parse_num(t[5], 100.0, &l) < 0)) {
		wanem_out_printf(o, "error: bad number (ms 0..%.0f, loss 0..100)\n", WANEM_MAX_MS);
		return 0;
	}
	/* A new delay resets jitter/loss unless given: `delay a b 10` means exactly that. */
	j = j < 0 ? 0 : j;
	l = l < 0 ? 0 : l;
	rc = wanem_set_pair(w, t[1], t[2], d, j, l);
	if (rc == 0 && both)
		rc = wanem_set_pair(w, t[2], t[1], d, j, l);
	if (rc < 0)
		wanem_out_printf(o, "error: %s\n", rc == -ENOENT ? "unknown site" : strerror(-rc));
	else
		wanem_out_printf(o, "ok\n");
	return 0;
}

static int cmd_loss(struct wanem *w, char **t, int nt, struct wanem_out *o)
{
	double l;
	int rc;

	if (nt != 4 || parse_num(t[3], 100.0, &l) < 0) {
		wanem_out_printf(o, "error: usage: loss SRC DST PCT (0..100)\n");
		return 0;
	}
	rc = wanem_set_pair(w, t[1], t[2], -1, -1, l);
	if (rc < 0)
		wanem_out_printf(o, "error: %s\n", rc == -ENOENT ? "unknown site" : strerror(-rc));
	else
		wanem_out_printf(o, "ok\n");
	return 0;
}

static void cmd_show(struct wanem *w, struct wanem_out *o)
{
	char ip[16];

	for (unsigned int i = 0; i < w->n_links; i++) {
		const struct wanem_link *l = &w->links[i];

		ip_str(ip, sizeof(ip), l->addr);
		wanem_out_printf(o, "link %s %s %s/%u %02x:%02x:%02x:%02x:%02x:%02x\n", l->name,
			l->ifname, ip, l->prefix, l->mac[0], l->mac[1], l->mac[2], l->mac[3],
			l->mac[4], l->mac[5]);
	}
	for (unsigned int s = 0; s < w->n_links; s++) {
		for (unsigned int d = 0; d < w->n_links; d++) {
			const struct wanem_pair *p = wanem_pair(w, s, d);

			if (s == d || (p->delay_ns == 0 && p->jitter_ns == 0 && p->loss == 0))
				continue;
			wanem_out_printf(o, "delay %s %s %.3f %.3f %.3f\n", w->links[s].name,
				w->links[d].name, (double)p->delay_ns / 1e6,
				(double)p->jitter_ns / 1e6, p->loss * 100.0);
		}
	}
	wanem_out_printf(o, "ok\n");
}

static void stats_text(struct wanem *w, struct wanem_out *o)
{
	wanem_link_sock_stats(w);
	for (unsigned int i = 0; i < w->n_links; i++) {
		const struct wanem_link_stats *st = &w->links[i].st;

		wanem_out_printf(o,
			"link %s rx_pkts=%lu rx_bytes=%lu tx_pkts=%lu tx_bytes=%lu arp_rx=%lu "
			"arp_tx=%lu icmp_echo=%lu sock_drops=%lu",
			w->links[i].name, st->rx_pkts, st->rx_bytes, st->tx_pkts, st->tx_bytes,
			st->arp_rx, st->arp_tx, st->icmp_echo, st->sock_drops);
		for (int d = 0; d < WANEM_DROP_MAX; d++)
			wanem_out_printf(o, " %s=%lu", wanem_drop_names[d], st->drops[d]);
		wanem_out_printf(o, "\n");
	}
	for (unsigned int s = 0; s < w->n_links; s++)
		for (unsigned int d = 0; d < w->n_links; d++) {
			const struct wanem_pair *p = wanem_pair(w, s, d);

			if (p->queued == 0 && p->lost == 0)
				continue;
			wanem_out_printf(o,
				"pair %s %s queued=%lu fwd_pkts=%lu fwd_bytes=%lu lost=%lu esp=%lu "
				"udp=%lu probe=%lu icmp=%lu other=%lu\n",
				w->links[s].name, w->links[d].name, p->queued, p->fwd_pkts,
				p->fwd_bytes, p->lost, p->fwd_esp, p->fwd_udp, p->fwd_probe,
				p->fwd_icmp, p->fwd_other);
		}
	wanem_out_printf(o, "queue %zu\nok\n", w->queue.n);
}

static void stats_json(struct wanem *w, struct wanem_out *o)
{
	const char *sep = "";

	wanem_link_sock_stats(w);
	wanem_out_printf(o, "{\"queue\": %zu, \"links\": [", w->queue.n);
	for (unsigned int i = 0; i < w->n_links; i++) {
		const struct wanem_link_stats *st = &w->links[i].st;

		wanem_out_printf(o,
			"%s{\"name\": \"%s\", \"rx_pkts\": %lu, \"rx_bytes\": %lu, \"tx_pkts\": "
			"%lu, "
			"\"tx_bytes\": %lu, \"arp_rx\": %lu, \"arp_tx\": %lu, \"icmp_echo\": %lu, "
			"\"sock_drops\": %lu, \"drops\": {",
			i ? ", " : "", w->links[i].name, st->rx_pkts, st->rx_bytes, st->tx_pkts,
			st->tx_bytes, st->arp_rx, st->arp_tx, st->icmp_echo, st->sock_drops);
		for (int d = 0; d < WANEM_DROP_MAX; d++)
			wanem_out_printf(o, "%s\"%s\": %lu", d ? ", " : "", wanem_drop_names[d],
				st->drops[d]);
		wanem_out_printf(o, "}}");
	}
	wanem_out_printf(o, "], \"pairs\": [");
	for (unsigned int s = 0; s < w->n_links; s++)
		for (unsigned int d = 0; d < w->n_links; d++) {
			const struct wanem_pair *p = wanem_pair(w, s, d);

			if (s == d)
				continue;
			wanem_out_printf(o,
				"%s{\"src\": \"%s\", \"dst\": \"%s\", \"delay_ms\": %.3f, "
				"\"jitter_ms\": %.3f, \"loss_pct\": %.3f, \"queued\": %lu, "
				"\"fwd_pkts\": %lu, \"fwd_bytes\": %lu, \"lost\": %lu, "
				"\"fwd_esp\": %lu, \"fwd_udp\": %lu, \"fwd_probe\": %lu, "
				"\"fwd_icmp\": %lu, "
				"\"fwd_other\": %lu}",
				sep, w->links[s].name, w->links[d].name, (double)p->delay_ns / 1e6,
				(double)p->jitter_ns / 1e6, p->loss * 100.0, p->queued, p->fwd_pkts,
				p->fwd_bytes, p->lost, p->fwd_esp, p->fwd_udp, p->fwd_probe,
				p->fwd_icmp, p->fwd_other);
			sep = ", ";
		}
	wanem_out_printf(o, "]}\nok\n");
}

static void cmd_arp(struct wanem *w, struct wanem_out *o)
{
	char ip[16];

	for (unsigned int i = 0; i < w->n_links; i++)
		for (unsigned int j = 0; j < WANEM_ARP_MAX; j++) {
			const struct wanem_arp *a = &w->links[i].arp[j];

			if (a->ip == 0)
				continue;
			ip_str(ip, sizeof(ip), a->ip);
			wanem_out_printf(o, "arp %s %s %02x:%02x:%02x:%02x:%02x:%02x\n",
				w->links[i].name, ip, a->mac[0], a->mac[1], a->mac[2], a->mac[3],
				a->mac[4], a->mac[5]);
		}
	wanem_out_printf(o, "ok\n");
}

static void cmd_clear(struct wanem *w, struct wanem_out *o)
{
	for (unsigned int i = 0; i < w->n_links; i++)
		memset(&w->links[i].st, 0, sizeof(w->links[i].st));
	for (unsigned int i = 0; i < w->n_links * w->n_links; i++) {
		struct wanem_pair *p = &w->pairs[i];

		p->fwd_pkts = p->fwd_bytes = p->lost = p->queued = 0;
		p->fwd_esp = p->fwd_udp = p->fwd_probe = p->fwd_icmp = p->fwd_other = 0;
	}
	wanem_out_printf(o, "ok\n");
}

int wanem_ctl_exec(struct wanem *w, const char *line, struct wanem_out *o)
{
	char buf[WANEM_CTL_LINE_MAX + 1];
	char *t[MAX_TOKENS + 1], *save = NULL;
	int nt = 0;
	size_t len = strlen(line);

	if (len > WANEM_CTL_LINE_MAX) {
		wanem_out_printf(o, "error: line too long\n");
		return 0;
	}
	memcpy(buf, line, len + 1);
	for (char *s = strtok_r(buf, " \t\r", &save); s != NULL;
		s = strtok_r(NULL, " \t\r", &save)) {
		if (nt == MAX_TOKENS) {
			wanem_out_printf(o, "error: too many words\n");
			return 0;
		}
		t[nt++] = s;
	}
	if (nt == 0) {
		wanem_out_printf(o, "error: empty command (try help)\n");
		return 0;
	}
	if (strcmp(t[0], "delay") == 0 || strcmp(t[0], "sym") == 0)
		return cmd_set(w, t, nt, o, t[0][0] == 's');
	if (strcmp(t[0], "loss") == 0)
		return cmd_loss(w, t, nt, o);
	if (strcmp(t[0], "show") == 0 && nt == 1)
		cmd_show(w, o);
	else if (strcmp(t[0], "stats") == 0 && nt == 1)
		stats_text(w, o);
	else if (strcmp(t[0], "stats") == 0 && nt == 2 && strcmp(t[1], "json") == 0)
		stats_json(w, o);
	else if (strcmp(t[0], "arp") == 0 && nt == 1)
		cmd_arp(w, o);
	else if (strcmp(t[0], "clear") == 0 && nt == 1)
		cmd_clear(w, o);
	else if (strcmp(t[0], "help") == 0)
		wanem_out_printf(o, "%sok\n", help_text);
	else if (strcmp(t[0], "quit") == 0) {
		wanem_out_printf(o, "ok\n");
		return 1;
	} else
		wanem_out_printf(o, "error: unknown command or arguments (try help)\n");
	return 0;
}
