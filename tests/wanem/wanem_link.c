/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Packet path of vprn-wanem: AF_PACKET sockets, ARP (answer for the gateway
 * address, learn and resolve site neighbours), IPv4 routing by destination
 * prefix, the delay line and transmission.
 */
#include "wanem.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"

#define ETH_HLEN_ 14
#define ETHTYPE_IPV4 0x0800
#define ETHTYPE_ARP 0x0806
#define ARP_LEN 28
#define ARP_OP_REQUEST 1 /* RFC 826 */
#define ARP_OP_REPLY 2
#define IPPROTO_ICMP_ 1
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17
#define IPPROTO_ESP_ 50
#define ICMP_ECHO_REPLY 0 /* RFC 792 */
#define ICMP_ECHO_REQUEST 8
#define ARP_WAIT_NS 3000000000ull /* give up on a silent next hop after 3 s */
#define ARP_RETRY_NS 200000000ull /* re-ask every 200 ms while packets wait */
#define SOCK_BUF_BYTES (4 << 20)

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t len)
{
	for (; len > 1; p += 2, len -= 2)
		sum += rd16(p);
	if (len == 1)
		sum += (uint32_t)p[0] << 8;
	return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

int wanem_link_open(struct wanem_link *l)
{
	struct sockaddr_ll sll = { 0 };
	struct ifreq ifr = { 0 };
	int one = 1, bufsz = SOCK_BUF_BYTES;
	int fd, rc;

	l->ifindex = (int)if_nametoindex(l->ifname);
	if (l->ifindex == 0)
		return -errno;
	/* Protocol 0 until bound, so that no other interface's frames queue up. */
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", l->ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		goto fail;
	memcpy(l->mac, ifr.ifr_hwaddr.sa_data, 6);
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = l->ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		goto fail;
	/* Checksum-offloaded frames from a local kernel carry a partial L4 sum. */
	if (setsockopt(fd, SOL_PACKET, PACKET_AUXDATA, &one, sizeof(one)) < 0)
		goto fail;
#ifdef PACKET_IGNORE_OUTGOING
	(void)setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
#endif
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bufsz, sizeof(bufsz)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	l->fd = fd;
	return 0;
fail:
	rc = -errno;
	close(fd);
	return rc;
}

void wanem_link_close(struct wanem_link *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
}

static void drop(struct wanem_link *l, enum wanem_drop why)
{
	l->st.drops[why]++;
}

static int link_send(struct wanem_link *l, const uint8_t *frame, size_t len)
{
	if (l->fd < 0) /* unit tests and fuzzing: no socket, count only */
		goto sent;
	if (send(l->fd, frame, len, 0) < 0) {
		drop(l, WANEM_DROP_tx_error);
		return -errno;
	}
sent:
	l->st.tx_pkts++;
	l->st.tx_bytes += len;
	return 0;
}

static int link_of(const struct wanem *w, uint32_t ip)
{
	for (unsigned int i = 0; i < w->n_links; i++) {
		const struct wanem_link *l = &w->links[i];

		if ((ip & l->mask) == (l->addr & l->mask))
			return (int)i;
	}
	return -1;
}

static int is_local(const struct wanem *w, uint32_t ip)
{
	for (unsigned int i = 0; i < w->n_links; i++)
		if (w->links[i].addr == ip)
			return 1;
	return 0;
}

static const uint8_t *arp_lookup(const struct wanem_link *l, uint32_t ip)
{
	for (unsigned int i = 0; i < WANEM_ARP_MAX; i++)
		if (l->arp[i].ip == ip)
			return l->arp[i].mac;
	return NULL;
}

static void send_arp(
	struct wanem_link *l, uint16_t op, const uint8_t *dmac, uint32_t tip, const uint8_t *tmac)
{
	uint8_t f[ETH_HLEN_ + ARP_LEN];
	uint8_t *a = f + ETH_HLEN_;

	memcpy(f, dmac, 6);
	memcpy(f + 6, l->mac, 6);
	wr16(f + 12, ETHTYPE_ARP);
	wr16(a, 1); /* Ethernet */
	wr16(a + 2, ETHTYPE_IPV4);
	a[4] = 6;
	a[5] = 4;
	wr16(a + 6, op);
	memcpy(a + 8, l->mac, 6);
	wr32(a + 14, l->addr);
	memcpy(a + 18, tmac, 6);
	wr32(a + 24, tip);
	if (link_send(l, f, sizeof(f)) == 0)
		l->st.arp_tx++;
}

static void arp_request(struct wanem_link *l, uint32_t ip, uint64_t now_ns)
{
	static const uint8_t zero[6];

	send_arp(l, ARP_OP_REQUEST, bcast, ip, zero);
	l->arp_req_next_ns = now_ns + ARP_RETRY_NS;
}

/* UDP to or from the probe port, unfragmented (route_frame checked the IPv4 header). */
static bool is_probe(const struct wanem *w, const struct wanem_pkt *p)
{
	const uint8_t *ip = p->data + ETH_HLEN_;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	uint16_t sport, dport;

	if (w->probe_port == 0 || (((ip[6] & 0x1f) << 8) | ip[7]) != 0 ||
		p->len < ETH_HLEN_ + ihl + 8)
		return false;
	sport = (uint16_t)(ip[ihl] << 8 | ip[ihl + 1]);
	dport = (uint16_t)(ip[ihl + 2] << 8 | ip[ihl + 3]);
	return sport == w->probe_port || dport == w->probe_port;
}

static void tx_frame(struct wanem *w, struct wanem_pkt *p, const uint8_t *dmac)
{
	struct wanem_link *l = &w->links[p->dst];
	struct wanem_pair *pr = wanem_pair(w, p->src, p->dst);

	memcpy(p->data, dmac, 6);
	memcpy(p->data + 6, l->mac, 6);
	if (link_send(l, p->data, p->len) == 0) {
		pr->fwd_pkts++;
		pr->fwd_bytes += p->len;
		switch (p->data[ETH_HLEN_ + 9]) { /* route_frame checked the IPv4 header */
		case IPPROTO_ESP_:
			pr->fwd_esp++;
			break;
		case IPPROTO_UDP_:
			if (is_probe(w, p))
				pr->fwd_probe++;
			else
				pr->fwd_udp++;
			break;
		case IPPROTO_ICMP_:
			pr->fwd_icmp++;
			break;
		default:
			pr->fwd_other++;
		}
	}
	wanem_pkt_free(p);
}

/* A neighbour answered: send what waited for it, in arrival order. */
static void flush_pending(struct wanem *w, struct wanem_link *l, uint32_t ip, const uint8_t *mac)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < l->n_pend; i++) {
		if (l->pend[i].nexthop == ip)
			tx_frame(w, l->pend[i].pkt, mac);
		else
			l->pend[j++] = l->pend[i];
	}
	l->n_pend = j;
}

static void arp_learn(struct wanem *w, struct wanem_link *l, uint32_t ip, const uint8_t *mac)
{
	struct wanem_arp *slot = NULL;

	if (ip == l->addr || (ip & l->mask) != (l->addr & l->mask) || ip == (l->addr | ~l->mask))
		return;
	if (mac[0] & 1) /* never learn a multicast/broadcast MAC */
		return;
	for (unsigned int i = 0; i < WANEM_ARP_MAX && slot == NULL; i++)
		if (l->arp[i].ip == ip)
			slot = &l->arp[i];
	for (unsigned int i = 0; i < WANEM_ARP_MAX && slot == NULL; i++)
		if (l->arp[i].ip == 0)
			slot = &l->arp[i];
	if (slot == NULL) {
		slot = &l->arp[l->arp_next];
		l->arp_next = (l->arp_next + 1) % WANEM_ARP_MAX;
	}
	if (slot->ip != ip || memcmp(slot->mac, mac, 6) != 0)
		LOG_DEBUG("wanem", "%s: neighbour %u.%u.%u.%u is %02x:%02x:%02x:%02x:%02x:%02x",
			l->name, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255, mac[0],
			mac[1], mac[2], mac[3], mac[4], mac[5]);
	slot->ip = ip;
	memcpy(slot->mac, mac, 6);
	flush_pending(w, l, ip, mac);
}

static void handle_arp(struct wanem *w, struct wanem_link *l, const uint8_t *f, size_t len)
{
	const uint8_t *a = f + ETH_HLEN_;
	uint32_t spa, tpa;
	uint16_t op;

	if (len < ETH_HLEN_ + ARP_LEN || rd16(a) != 1 || rd16(a + 2) != ETHTYPE_IPV4 || a[4] != 6 ||
		a[5] != 4) {
		drop(l, WANEM_DROP_bad_frame);
		return;
	}
	l->st.arp_rx++;
	op = rd16(a + 6);
	spa = rd32(a + 14);
	tpa = rd32(a + 24);
	if (spa != 0)
		arp_learn(w, l, spa, a + 8);
	if (op == ARP_OP_REQUEST && tpa == l->addr && spa != 0)
		send_arp(l, ARP_OP_REPLY, a + 8, spa, a + 8);
}

/* Local kernels hand veths frames with a partial L4 checksum (offload): finish it. */
static void fix_l4_csum(uint8_t *ip, size_t ip_len, size_t ihl)
{
	uint8_t proto = ip[9];
	size_t off = proto == IPPROTO_UDP_ ? 6 : proto == IPPROTO_TCP_ ? 16 : 0;
	uint8_t pseudo[4];
	uint32_t sum = 0;
	uint16_t c;

	if (off == 0 || rd16(ip + 6) & 0x3fff || ip_len < ihl + off + 2) /* not a whole segment */
		return;
	wr16(ip + ihl + off, 0);
	sum = csum_add(sum, ip + 12, 8);
	pseudo[0] = 0;
	pseudo[1] = proto;
	wr16(pseudo + 2, (uint16_t)(ip_len - ihl));
	sum = csum_add(sum, pseudo, 4);
	sum = csum_add(sum, ip + ihl, ip_len - ihl);
	c = csum_fold(sum);
	if (c == 0 && proto == IPPROTO_UDP_)
		c = 0xffff;
	wr16(ip + ihl + off, c);
}

/* Answer a ping to one of our addresses on the link it came from (no delay). */
static int icmp_echo(struct wanem_link *l, uint8_t *f, size_t ihl)
{
	uint8_t *ip = f + ETH_HLEN_;
	size_t ip_len = rd16(ip + 2);
	uint8_t *icmp = ip + ihl;
	uint8_t mac[6];
	uint32_t src = rd32(ip + 12);

	if (ip[9] != IPPROTO_ICMP_ || ip_len < ihl + 8 || icmp[0] != ICMP_ECHO_REQUEST ||
		rd16(ip + 6) & 0x3fff)
		return WANEM_DROP_no_route;
	memcpy(mac, f + 6, 6);
	memcpy(f + 6, l->mac, 6);
	memcpy(f, mac, 6);
	memcpy(ip + 12, ip + 16, 4);
	wr32(ip + 16, src);
	ip[8] = 64;
	wr16(ip + 10, 0);
	wr16(ip + 10, csum_fold(csum_add(0, ip, ihl)));
	icmp[0] = ICMP_ECHO_REPLY;
	wr16(icmp + 2, 0);
	wr16(icmp + 2, csum_fold(csum_add(0, icmp, ip_len - ihl)));
	if (link_send(l, f, ETH_HLEN_ + ip_len) == 0)
		l->st.icmp_echo++;
	return -1;
}

static void enqueue(struct wanem *w, unsigned int in, unsigned int out, uint32_t dst,
	const uint8_t *f, size_t len, uint64_t now_ns)
{
	struct wanem_pair *pr = wanem_pair(w, in, out);
	struct wanem_pkt *p;
	uint64_t due = now_ns + pr->delay_ns;

	if (pr->loss > 0 && wanem_rand(w) < pr->loss) {
		pr->lost++;
		drop(&w->links[in], WANEM_DROP_loss);
		return;
	}
	if (pr->jitter_ns > 0) {
		double j = (wanem_rand(w) * 2.0 - 1.0) * (double)pr->jitter_ns;

		due = j < 0 && (uint64_t)-j > due - now_ns ? now_ns : (uint64_t)((double)due + j);
	} else if (due < pr->last_due_ns) {
		due = pr->last_due_ns; /* delay was lowered: do not overtake earlier packets */
	}
	pr->last_due_ns = due;
	p = wanem_pkt_alloc(len);
	if (p == NULL) {
		drop(&w->links[in], WANEM_DROP_queue_full);
		return;
	}
	memcpy(p->data, f, len);
	p->due_ns = due;
	p->src = (uint16_t)in;
	p->dst = (uint16_t)out;
	p->nexthop = dst;
	if (wanem_queue_push(&w->queue, p) < 0) {
		wanem_pkt_free(p);
		drop(&w->links[in], WANEM_DROP_queue_full);
		return;
	}
	pr->queued++;
}

/* Returns a drop reason, or -1 when the frame was consumed (queued, answered). */
static int route_frame(struct wanem *w, unsigned int in, uint8_t *f, size_t len, uint64_t now_ns)
{
	struct wanem_link *l = &w->links[in];
	uint8_t *ip = f + ETH_HLEN_;
	size_t ihl, ip_len;
	uint32_t src, dst, sum;
	int out;

	if (len < ETH_HLEN_)
		return WANEM_DROP_bad_frame;
	if (rd16(f + 12) == ETHTYPE_ARP) {
		handle_arp(w, l, f, len);
		return -1;
	}
	if (rd16(f + 12) != ETHTYPE_IPV4)
		return WANEM_DROP_not_ipv4;
	if (memcmp(f, l->mac, 6) != 0)
		return WANEM_DROP_not_for_us;
	if (len < ETH_HLEN_ + 20 || ip[0] >> 4 != 4 || (ip[0] & 15) < 5)
		return WANEM_DROP_bad_frame;
	ihl = (size_t)(ip[0] & 15) * 4;
	ip_len = rd16(ip + 2);
	if (ip_len < ihl || ip_len > len - ETH_HLEN_)
		return WANEM_DROP_bad_frame;
	len = ETH_HLEN_ + ip_len; /* strip Ethernet padding */
	src = rd32(ip + 12);
	dst = rd32(ip + 16);
	arp_learn(w, l, src, f + 6);
	if (is_local(w, dst))
		return icmp_echo(l, f, ihl);
	out = link_of(w, dst);
	if (out < 0 || (unsigned int)out == in || dst == w->links[out].addr ||
		(dst | w->links[out].mask) == ~0u)
		return WANEM_DROP_no_route;
	if (ip[8] <= 1)
		return WANEM_DROP_ttl;
	/* TTL decrement with an incremental checksum update (RFC 1624). */
	ip[8]--;
	sum = (uint32_t)rd16(ip + 10) + 0x0100;
	wr16(ip + 10, (uint16_t)(sum + (sum >> 16)));
	enqueue(w, in, (unsigned int)out, dst, f, len, now_ns);
	return -1;
}

void wanem_route(struct wanem *w, unsigned int in, uint8_t *f, size_t len, uint64_t now_ns)
{
	struct wanem_link *l = &w->links[in];
	int why;

	l->st.rx_pkts++;
	l->st.rx_bytes += len;
	why = route_frame(w, in, f, len, now_ns);
	if (why >= 0)
		drop(l, (enum wanem_drop)why);
}

#define RX_BATCH 32

/* TP_STATUS_CSUMNOTREADY: finish the L4 checksum a local kernel left partial. */
static void rx_fix_csum(struct msghdr *msg, uint8_t *f, size_t len)
{
	int partial = 0;

	for (struct cmsghdr *c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		struct tpacket_auxdata aux;

		if (c->cmsg_level != SOL_PACKET || c->cmsg_type != PACKET_AUXDATA)
			continue;
		memcpy(&aux, CMSG_DATA(c), sizeof(aux));
		partial = (aux.tp_status & TP_STATUS_CSUMNOTREADY) != 0;
	}
	if (partial && len >= ETH_HLEN_ + 20 && rd16(f + 12) == ETHTYPE_IPV4) {
		size_t ihl = (size_t)(f[ETH_HLEN_] & 15) * 4;
		size_t ip_len = rd16(f + ETH_HLEN_ + 2);

		if (ihl >= 20 && ip_len >= ihl && ip_len <= len - ETH_HLEN_)
			fix_l4_csum(f + ETH_HLEN_, ip_len, ihl);
	}
}

unsigned int wanem_link_rx(struct wanem *w, unsigned int i, unsigned int budget, uint64_t now_ns)
{
	/* One batch of buffers for every link: the loop is single-threaded. */
	static uint8_t buf[RX_BATCH][WANEM_FRAME_MAX];
	static union {
		struct cmsghdr align;
		char b[CMSG_SPACE(sizeof(struct tpacket_auxdata))];
	} ctl[RX_BATCH];
	struct wanem_link *l = &w->links[i];
	struct sockaddr_ll sll[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct mmsghdr mm[RX_BATCH];
	unsigned int done = 0;

	while (done < budget) {
		unsigned int want = budget - done < RX_BATCH ? budget - done : RX_BATCH;
		int n;

		for (unsigned int k = 0; k < want; k++) {
			iov[k] = (struct iovec){ .iov_base = buf[k], .iov_len = WANEM_FRAME_MAX };
			mm[k].msg_hdr = (struct msghdr){ .msg_name = &sll[k],
				.msg_namelen = sizeof(sll[k]),
				.msg_iov = &iov[k],
				.msg_iovlen = 1,
				.msg_control = ctl[k].b,
				.msg_controllen = sizeof(ctl[k].b) };
		}
		n = recvmmsg(l->fd, mm, want, MSG_TRUNC | MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (int k = 0; k < n; k++) {
			size_t len = mm[k].msg_len;

			if (sll[k].sll_pkttype == PACKET_OUTGOING)
				continue;
			if (len > WANEM_FRAME_MAX) {
				l->st.rx_pkts++;
				drop(l, WANEM_DROP_bad_frame);
				continue;
			}
			rx_fix_csum(&mm[k].msg_hdr, buf[k], len);
			wanem_route(w, i, buf[k], len, now_ns);
		}
		done += (unsigned int)n;
		if ((unsigned int)n < want)
			break;
	}
	return done;
}

static void expire_pending(struct wanem *w, struct wanem_link *l, uint64_t now_ns)
{
	unsigned int j = 0;

	for (unsigned int i = 0; i < l->n_pend; i++) {
		if (l->pend[i].expire_ns <= now_ns) {
			drop(&w->links[l->pend[i].pkt->src], WANEM_DROP_arp_fail);
			wanem_pkt_free(l->pend[i].pkt);
		} else {
			l->pend[j++] = l->pend[i];
		}
	}
	l->n_pend = j;
	if (l->n_pend > 0 && now_ns >= l->arp_req_next_ns)
		arp_request(l, l->pend[0].nexthop, now_ns);
}

void wanem_tx_due(struct wanem *w, uint64_t now_ns)
{
	struct wanem_pkt *p;

	while ((p = wanem_queue_peek(&w->queue)) != NULL && p->due_ns <= now_ns) {
		struct wanem_link *l = &w->links[p->dst];
		const uint8_t *mac;

		wanem_queue_pop(&w->queue);
		mac = arp_lookup(l, p->nexthop);
		if (mac != NULL) {
			tx_frame(w, p, mac);
			continue;
		}
		if (l->n_pend == WANEM_PEND_MAX) {
			drop(&w->links[p->src], WANEM_DROP_arp_fail);
			wanem_pkt_free(p);
			continue;
		}
		l->pend[l->n_pend++] = (struct wanem_pending){
			.pkt = p, .nexthop = p->nexthop, .expire_ns = now_ns + ARP_WAIT_NS
		};
		arp_request(l, p->nexthop, now_ns);
	}
	for (unsigned int i = 0; i < w->n_links; i++)
		if (w->links[i].n_pend > 0)
			expire_pending(w, &w->links[i], now_ns);
}

void wanem_link_sock_stats(struct wanem *w)
{
	for (unsigned int i = 0; i < w->n_links; i++) {
		struct wanem_link *l = &w->links[i];
		struct tpacket_stats ts;
		socklen_t len = sizeof(ts);

		/* Reading resets the kernel's counters: accumulate. */
		if (l->fd >= 0 && getsockopt(l->fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
			l->st.sock_drops += ts.tp_drops;
	}
}

void wanem_flush(struct wanem *w)
{
	for (unsigned int i = 0; i < w->n_links; i++) {
		struct wanem_link *l = &w->links[i];

		for (unsigned int j = 0; j < l->n_pend; j++)
			wanem_pkt_free(l->pend[j].pkt);
		l->n_pend = 0;
	}
	wanem_queue_fini(&w->queue);
}
