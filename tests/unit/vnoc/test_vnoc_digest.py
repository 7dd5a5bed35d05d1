#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""The VNOC's state digest check and drift repair, driven by simulated EDs over
TLS 1.3 on 127.0.0.1 (the helpers of test_vnoc_service.py): a matching digest
changes nothing and the site is in_sync; a digest missing an SPI makes the VNOC
send that SaInstall again (after two in a row); an SPI the VNOC does not know
gets an SaRemove; a digest computed before a pending install (rekey) was
applied never triggers a repair; garbage lists are survived.
The digest is computed here independently from docs/protocol.md.
Run by meson (suite unit) with VPRN_BUILDDIR and VPRN_SRCDIR set.
"""
import hashlib
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_vnoc_service as svc  # noqa: E402
from test_vnoc_service import (G, JOIN_RESULT, SA_INSTALL, SA_REMOVE,  # noqa: E402
                               TREE_UPDATE, check, ctl, field, varint)

DIGEST, KEEPALIVE = 21, 26


def state_digest(trees, inbound, outbound):
    """docs/protocol.md, "State digest"."""
    b = b"vprn-sd1" + struct.pack(">I", len(set(trees)))
    for g, s, v in sorted(set(trees)):
        b += struct.pack(">IIQ", g, s, v)
    for spis in (inbound, outbound):
        spis = sorted(set(spis))
        b += struct.pack(">I", len(spis)) + b"".join(struct.pack(">I", x) for x in spis)
    return hashlib.sha256(b).digest()


ALL = []  # every simulated ED: each keeps its memberships alive


class Ed(svc.Ed):
    """A simulated ED that remembers the last VNOC seq it received and refreshes
    its memberships (soft state) whenever the test waits."""
    vseq = 0

    def __init__(self, port, pki, name, items):
        super().__init__(port, pki, name)
        self.items, self.last = items, 0.0
        ALL.append(self)

    def poll(self, timeout=0.2):
        for e in ALL:
            if time.monotonic() - e.last > 0.4:
                e.last = time.monotonic()
                e.refresh(e.items)
                e.send(KEEPALIVE, field(1, 0, 1))
        super().poll(timeout)

    def _read(self, timeout):
        m = super()._read(timeout)
        self.vseq = max(self.vseq, m[2])
        return m

    def report(self, trees, inbound, outbound, vnoc_seq=None, digest=None):
        body = field(1, 2, digest if digest is not None else
                     state_digest(trees, inbound, outbound))
        for g, s, v in trees:
            body += field(2, 2, field(1, 0, g) + field(2, 0, s) + field(3, 0, v))
        if inbound:
            body += field(3, 2, b"".join(varint(x) for x in inbound))
        if outbound:
            body += field(4, 2, b"".join(varint(x) for x in outbound))
        body += field(5, 0, self.vseq if vnoc_seq is None else vnoc_seq)
        self.send(DIGEST, body)

    def changes(self, timeout=0.6):
        """State-changing messages received within timeout (taken from the inbox)."""
        self.poll(timeout)
        return self.take_all(SA_INSTALL) + self.take_all(SA_REMOVE) + self.take_all(TREE_UPDATE)


def site(sock, name):
    return [s for s in ctl(sock, "sites") if s["site"] == name][0]


def scenario(d, pki, port, conf, sock):
    vlog = open(os.path.join(d, "vnoc.log"), "w")
    vnoc = svc.start(conf, vlog)
    t0 = time.monotonic()
    eds = []
    try:
        time.sleep(0.5)
        hq, br1 = Ed(port, pki, "hq", [(G, 2)]), Ed(port, pki, "br1", [(G, 1)])
        eds = [hq, br1]
        hq.join(G, 2)
        br1.join(G, 1)
        seen = svc.bring_up(eds)
        hq.take_all(JOIN_RESULT)
        br1.take_all(JOIN_RESULT)
        sa_in = [m[1] for m in seen["br1"] if m[0] == SA_INSTALL]
        tu = {e: [m[1] for m in seen[e] if m[0] == TREE_UPDATE][-1] for e in seen}
        spi = sa_in[0][1][0]
        tree = {e: [(G, tu[e].get(2, [0])[0], tu[e][3][0])] for e in tu}
        check(len(sa_in) == 1, "set-up: br1 has one inbound SA, hq its outbound SA")

        # matching digests: nothing is sent, both in sync, expected = ED digest
        br1.report(tree["br1"], [spi], [])
        hq.report(tree["hq"], [], [spi])
        check(not br1.changes() and not hq.changes(), "matching digests: nothing sent")
        s1, s0 = site(sock, "br1"), site(sock, "hq")
        check(s1["in_sync"] and s0["in_sync"], "matching digests: in_sync")
        check(s1["digest_expected"] == state_digest(tree["br1"], [spi], []).hex() ==
              s1["digest_ed"], "br1: the VNOC's expected digest equals the ED's")
        check(s0["digest_expected"] == state_digest(tree["hq"], [], [spi]).hex(),
              "hq: the VNOC's expected digest covers its outbound SPI")

        # a digest missing the SPI: the first only counts, the second repairs
        br1.report(tree["br1"], [], [])
        got = br1.changes()
        s1 = site(sock, "br1")
        check(not got and not s1["in_sync"] and s1["digest_mismatch"] == 1,
              "one mismatch: counted, not in sync, no repair yet")
        before = br1.vseq
        br1.report(tree["br1"], [], [])
        got = br1.changes()
        ins = [m for m in got if m[0] == SA_INSTALL]
        check(len(ins) == 1 and ins[0][1][1][0] == spi and ins[0][1][2][0] == 1 and
              ins[0][2] > before and len(got) == 1,
              "second mismatch: the missing inbound SaInstall is sent again (new seq), only it")
        if ins:
            br1.ack(ins[0][2])
        br1.report(tree["br1"], [spi], [])
        br1.changes(0.3)
        s1 = site(sock, "br1")
        check(s1["in_sync"] and s1["repairs"] == 1, "repaired: in sync again, repairs = 1")

        # an SPI the VNOC does not know: SaRemove (after the start-up window)
        time.sleep(max(0.0, t0 + 3.5 - time.monotonic()))
        stale = 0x7777777
        br1.report(tree["br1"], [spi, stale], [])
        check(not br1.changes(0.3), "unknown SPI, first digest: nothing yet")
        br1.report(tree["br1"], [spi, stale], [])
        got = br1.changes()
        check(len(got) == 1 and got[0][0] == SA_REMOVE and got[0][1][1][0] == stale and
              got[0][1][2][0] == 1, "unknown inbound SPI: SaRemove for it, nothing else")
        br1.report(tree["br1"], [spi], [])
        br1.changes(0.3)
        check(site(sock, "br1")["in_sync"], "stale SPI gone: in sync")

        # a rekey under way: a digest from before the new install never repairs
        svc_seq = br1.vseq
        mismatches = site(sock, "br1")["digest_mismatch"]
        ctl(sock, "rekey")
        _, new_in, new_seq = br1.expect(SA_INSTALL)
        check(new_in.get(1, [0])[0] not in (0, spi), "rekey: br1 gets a new inbound SA")
        for _ in range(2):  # computed before it was applied: vnoc_seq is older
            br1.report(tree["br1"], [], [], vnoc_seq=svc_seq)
        got = br1.changes()
        s1 = site(sock, "br1")
        check(not got and s1["digest_mismatch"] == mismatches,
              "digests older than a pending install: no repair, not counted as mismatches")
        br1.ack(new_seq)
        _, new_out, out_seq = hq.expect(SA_INSTALL)
        hq.ack(out_seq)
        new = new_in[1][0]
        rm1, rm0 = [], []
        end = time.monotonic() + 10  # retire grace (500 ms): old SPI removed at both ends
        while (not rm1 or not rm0) and time.monotonic() < end:
            rm1 += [m[1][1][0] for m in br1.changes(0.2) if m[0] == SA_REMOVE]
            rm0 += [(m[1][1][0], m[1][2][0]) for m in hq.changes(0.2) if m[0] == SA_REMOVE]
        check(rm1 == [spi] and rm0 == [(spi, 2)],
              "rekey done: old SPI removed at the receiver and (outbound) at the sender")
        br1.report(tree["br1"], [new], [])
        hq.report(tree["hq"], [], [new])
        check(not br1.changes() and not hq.changes(), "after the rekey: matching, nothing sent")
        check(site(sock, "br1")["in_sync"] and site(sock, "hq")["in_sync"],
              "after the rekey: both in sync")

        # garbage lists: reserved SPIs, a unicast "group", a short digest
        br1.changes(0.3)
        for _ in range(2):
            br1.report([(0x0a000001, 7, 0)], [1, 2, 3], [255], digest=b"\x01\x02")
        br1.changes(0.3)
        br1.send(KEEPALIVE, field(1, 0, 42))
        kind, _, _ = br1.expect(KEEPALIVE)
        check(kind == KEEPALIVE and vnoc.poll() is None,
              "garbage lists: the VNOC is alive and the session too")
        check(not site(sock, "br1")["in_sync"], "garbage digest: not in sync")
    finally:
        for e in eds:
            e.close()
        if vnoc.poll() is None:
            vnoc.send_signal(signal.SIGTERM)
            try:
                vnoc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                vnoc.kill()
        vlog.close()


def main():
    d = tempfile.mkdtemp(prefix="vprn-vnoc-digest-")
    pki = os.path.join(d, "pki")
    subprocess.run(["sh", os.path.join(svc.SRC, "tests/unit/common/mkcerts.sh"), pki,
                    "vnoc", "hq", "br1", "br2", "lab"], check=True)
    port = svc.free_port()
    conf = svc.write_conf(d, port)
    try:
        scenario(d, pki, port, conf, os.path.join(d, "vnoc.sock"))
    except Exception as exc:  # a crash of the scenario is a failure, with the log
        check(False, f"scenario raised {exc!r}")
    if svc.failures:
        print(open(os.path.join(d, "vnoc.log")).read()[-8000:])
        print(f"{len(svc.failures)} failure(s); files in {d}")
        return 1
    shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
