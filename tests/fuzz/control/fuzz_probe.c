/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Probe packets come from anyone on the Internet: ed_probe_input() must
 * refuse every malformed, forged or replayed one without crashing. Input:
 * byte 0 = flags, then an IPv4 packet. Flag bit 0 re-computes a valid MAC
 * over the payload (with the key of the claimed sender, when the packet has
 * the length of a probe) so that the code after the MAC check is reached;
 * bit 1 runs the timers (loss, sends) after the input.
 */
#include <stdint.h>
#include <string.h>

#include "common/log.h"
#include "control/ed_probe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ed_probe *probe;
static uint64_t now_ns;
static uint8_t keys[3][32];

static int fz_send(void *ctx, uint32_t dst, const uint8_t *pl, size_t len)
{
	(void)ctx;
	(void)dst;
	(void)pl;
	return len == ED_PROBE_LEN ? 0 : -1;
}

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return now_ns;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct ed_probe_params par = { .port = 7801, .send = fz_send, .now_ns = fz_now, .seq0 = 1 };
	struct vprn_peer peers[3] = { 0 };

	(void)argc;
	(void)argv;
	vprn_log_init("fuzz_probe", VPRN_LOG_ERR);
	probe = ed_probe_new(&par);
	for (uint32_t i = 0; i < 3; i++) {
		memset(keys[i], (int)(0x10 + i), 32);
		peers[i].site[0] = (char)('a' + i);
		peers[i].site_id = i + 2; /* we are 1 */
		peers[i].wan_addr = 0x0a000002u + i;
		memcpy(peers[i].probe_key, keys[i], 32);
		peers[i].has_probe_key = true;
	}
	return probe == NULL || ed_probe_set_peers(probe, 1, peers, 3, 100) != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t pkt[256];
	uint8_t flags;

	if (size < 1 || size - 1 > sizeof(pkt))
		return 0;
	flags = data[0];
	memcpy(pkt, data + 1, size - 1);
	size--;
	if ((flags & 1) && size >= 20) {
		size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
		uint8_t *pl = pkt + ihl + 8;

		if (ihl >= 20 && size >= ihl + 8 + ED_PROBE_LEN) {
			uint32_t sender = (uint32_t)pl[8] << 24 | (uint32_t)pl[9] << 16 |
					  (uint32_t)pl[10] << 8 | pl[11];
			uint8_t tmp[ED_PROBE_LEN];
			uint64_t seq = 0, ts = 0, hold = 0;

			for (int i = 0; i < 8; i++) {
				seq = seq << 8 | pl[16 + i];
				ts = ts << 8 | pl[24 + i];
				hold = hold << 8 | pl[32 + i];
			}
			ed_probe_encode(tmp, keys[(sender - 2) % 3], pl[5], sender,
				(uint32_t)pl[12] << 24 | (uint32_t)pl[13] << 16 |
					(uint32_t)pl[14] << 8 | pl[15],
				seq, ts, hold);
			memcpy(pl + ED_PROBE_HDR_LEN, tmp + ED_PROBE_HDR_LEN, ED_PROBE_MAC_LEN);
		}
	}
	now_ns += (uint64_t)(flags >> 2) * 10000000ull;
	ed_probe_input(probe, pkt, size, now_ns);
	if (flags & 2) {
		struct vprn_peer_metric pm[3];

		ed_probe_tick(probe);
		(void)ed_probe_metrics(probe, pm, 3);
	}
	return 0;
}
