#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""vprn-vnoc with its service core, driven by simulated EDs over TLS 1.3 on
127.0.0.1 (hand-made protobuf, no namespaces): join -> SaInstall (inbound at
the receiver first, outbound at the sender only after the receiver's Ack) ->
TreeUpdate to exactly the member EDs; a refused site gets a reason, no key, no
tree; a silent receiver expires; accounting survives kill -9 of the VNOC; a
restarted VNOC rebuilds the tree from refreshes and never reuses an SPI.
Run by meson (suite unit) with VPRN_BUILDDIR and VPRN_SRCDIR set.
"""
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

BUILD = os.environ["VPRN_BUILDDIR"]
SRC = os.environ["VPRN_SRCDIR"]
VNOC = os.path.join(BUILD, "vnoc", "vprn-vnoc")
CTL = os.path.join(BUILD, "control", "vprnctl")
G = 0xEF010001  # 239.1.0.1
failures = []

# Envelope body field numbers (proto/vprn.proto)
HELLO, WELCOME, JOIN, LEAVE, REFRESH, JOIN_RESULT = 10, 11, 12, 13, 14, 15
TREE_UPDATE, SA_INSTALL, SA_REMOVE, ACK = 17, 18, 19, 20


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


# ---- protobuf, by hand -------------------------------------------------------

def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        out += bytes([b | (0x80 if n else 0)])
        if not n:
            return out


def field(num, wire, payload):
    key = varint(num << 3 | wire)
    return key + (varint(payload) if wire == 0 else varint(len(payload)) + payload)


def read_varint(data, i):
    v, shift = 0, 0
    while True:
        b = data[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i


def fields(data):
    """{field number: [int or bytes, ...]} of one message."""
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = read_varint(data, i)
        elif wire == 2:
            ln, i = read_varint(data, i)
            v, i = data[i:i + ln], i + ln
        else:
            raise ValueError("wire type %d" % wire)
        out.setdefault(num, []).append(v)
    return out


def membership(group, role, filt=2):
    return field(1, 0, group) + field(2, 0, role) + field(3, 0, filt)


class Ed:
    seq = 0

    def __init__(self, port, pki, name):
        self.name = name
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        c.minimum_version = ssl.TLSVersion.TLSv1_3
        c.check_hostname = False
        c.load_verify_locations(os.path.join(pki, "ca.pem"))
        c.load_cert_chain(os.path.join(pki, name + ".pem"), os.path.join(pki, name + ".key"))
        self.sock = c.wrap_socket(s)
        self.inbox = []  # (body number, fields, envelope seq)
        self.send(HELLO, field(1, 2, name.encode()) + field(2, 2, b"sim-ed"))
        kind, body, _ = self.expect(WELCOME)
        check(kind == WELCOME, f"{name}: hello answered by welcome")
        peers = [fields(p) for p in body.get(7, [])]
        self.probe_keys = {p[1][0].decode(): p.get(4, [b""])[0] for p in peers}

    def send(self, body_num, body):
        self.seq += 1
        env = field(1, 0, 1) + field(2, 0, self.seq) + field(body_num, 2, body)
        self.sock.sendall(struct.pack(">I", len(env)) + env)
        return self.seq

    def join(self, group, role):
        self.send(JOIN, field(1, 2, membership(group, role)))

    def refresh(self, items):
        self.items = items  # bring_up() refreshes them again, as an ED would
        self.send(REFRESH, b"".join(field(1, 2, membership(g, r)) for g, r in items))

    def ack(self, ref_seq):
        self.send(ACK, field(1, 0, ref_seq) + field(2, 0, 1))

    def _read(self, timeout):
        self.sock.settimeout(timeout)
        hdr = b""
        while len(hdr) < 4:
            d = self.sock.recv(4 - len(hdr))
            if not d:
                raise EOFError
            hdr += d
        n = struct.unpack(">I", hdr)[0]
        buf = b""
        while len(buf) < n:
            d = self.sock.recv(n - len(buf))
            if not d:
                raise EOFError
            buf += d
        env = fields(buf)
        seq = env.get(2, [0])[0]
        for k, v in env.items():
            if k >= 10:
                return k, fields(v[0]), seq
        raise ValueError("envelope without body")

    def poll(self, timeout=0.2):
        """Read what arrives within timeout into the inbox."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                self.inbox.append(self._read(left))
            except (socket.timeout, ssl.SSLError, TimeoutError):
                return

    def expect(self, kind, timeout=5.0):
        end = time.monotonic() + timeout
        while True:
            for m in self.inbox:
                if m[0] == kind:
                    self.inbox.remove(m)
                    return m
            left = end - time.monotonic()
            if left <= 0:
                return (None, {}, 0)
            try:
                self.inbox.append(self._read(left))
            except (socket.timeout, ssl.SSLError, TimeoutError):
                return (None, {}, 0)

    def take_all(self, kind):
        got = [m for m in self.inbox if m[0] == kind]
        self.inbox = [m for m in self.inbox if m[0] != kind]
        return got

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def ctl(sock, *args):
    out = subprocess.run([CTL, "--json", "--socket", sock, "vnoc", *args], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    ans = json.loads(out)
    assert ans["ok"], ans
    return ans["result"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_conf(d, port, startup_hold_ms=1000):
    path = os.path.join(d, "vnoc.conf")
    with open(path, "w") as f:
        f.write(f"""log_level = "debug";
ctl_socket = "{d}/vnoc.sock";
database = "{d}/vnoc.db";
listen = {{ address = "127.0.0.1"; port = {port}; }};
tls = {{ ca = "pki/ca.pem"; cert = "pki/vnoc.pem"; key = "pki/vnoc.key"; crl = "";
        handshake_timeout_ms = 2000; }};
timers = {{ refresh_interval_ms = 1000; hold_time_ms = 3000;
           startup_hold_ms = {startup_hold_ms}; }};
trees = {{ debounce_ms = 50; }};
keys = {{ ack_timeout_ms = 1000; ack_retries = 2; retire_grace_ms = 500; }};
vpns = ( {{ name = "acme";
  sites = ( {{ name = "hq"; wan = "10.100.1.2"; }}, {{ name = "br1"; wan = "10.100.2.2"; }},
            {{ name = "br2"; wan = "10.100.3.2"; }}, {{ name = "lab"; wan = "10.100.4.2"; }} );
  classes = ( {{ name = "branches"; sites = ["br1", "br2"]; }} );
  groups = ( {{ name = "feed"; ranges = ["239.1.0.0/16"]; senders = ["hq"];
                receivers = ["@branches"]; tree = "star"; }} );
}} );
""")
    return path


def start(conf, log):
    return subprocess.Popen([VNOC, "-c", conf], stdout=log, stderr=subprocess.STDOUT)


def bring_up(eds):
    """Acknowledge every SaInstall/TreeUpdate until quiet; returns what was seen."""
    seen = {e.name: [] for e in eds}
    quiet = 0
    while quiet < 3:
        got = 0
        for e in eds:
            if hasattr(e, "items"):
                e.refresh(e.items)
            e.poll(0.15)
            for m in e.take_all(SA_INSTALL) + e.take_all(TREE_UPDATE):
                seen[e.name].append(m)
                e.ack(m[2])
                got += 1
        quiet = quiet + 1 if got == 0 else 0
    return seen


def scenario(d, pki, port, conf, sock):
    vlog = open(os.path.join(d, "vnoc.log"), "w")
    vnoc = start(conf, vlog)
    eds = []
    try:
        time.sleep(0.5)
        hq, br1, lab = Ed(port, pki, "hq"), Ed(port, pki, "br1"), Ed(port, pki, "lab")
        eds = [hq, br1, lab]
        check(len(hq.probe_keys.get("br1", b"")) == 32 and
              hq.probe_keys["br1"] == br1.probe_keys.get("hq"),
              "welcome: both ends of a pair get the same 32-byte probe key")
        # first start, no record: the startup hold waits for every configured site;
        # br2 never comes, so the trees come when the hold (1 s) expires
        hq.join(G, 2)
        br1.join(G, 1)
        lab.join(G, 1)
        for e in eds:
            e.refresh([])
        _, r, _ = hq.expect(JOIN_RESULT)
        check(r.get(2, [0])[0] == 1, "hq may send: granted")
        _, r, _ = lab.expect(JOIN_RESULT)
        check(r.get(2, [0])[0] == 0 and r.get(3, [0])[0] == 1,
              "lab may not receive: refused NOT_ALLOWED_RECEIVE")
        # make-before-break: br1's inbound SA first; hq's outbound only after br1's ack
        _, sa_in, sa_in_seq = br1.expect(SA_INSTALL, timeout=20)
        check(sa_in.get(2, [0])[0] == 1 and len(sa_in.get(4, [b""])[0]) == 16,
              "br1 gets the inbound SA (16-byte key)")
        hq.poll(0.3)
        check(not [m for m in hq.inbox if m[0] == SA_INSTALL],
              "hq gets no outbound SA before br1 acknowledged")
        br1.ack(sa_in_seq)
        _, sa_out, sa_out_seq = hq.expect(SA_INSTALL)
        check(sa_out.get(2, [0])[0] == 2 and sa_out.get(1) == sa_in.get(1) and
              sa_out.get(4) == sa_in.get(4), "then hq gets the outbound SA: same SPI and key")
        hq.ack(sa_out_seq)
        _, tu, tu_seq = hq.expect(TREE_UPDATE)
        version_first = tu.get(3, [0])[0]
        nb = [fields(n) for n in tu.get(7, [])]
        check([n[1][0] for n in nb] == [b"br1"] and nb[0].get(6) == sa_in.get(1),
              "hq's tree update: neighbour br1 with the outbound SPI")
        hq.ack(tu_seq)
        _, tu, tu_seq = br1.expect(TREE_UPDATE)
        check([fields(n)[1][0] for n in tu.get(7, [])] == [b"hq"] and tu.get(8) == [1],
              "br1's tree update: only its neighbour hq, local receivers")
        br1.ack(tu_seq)
        lab.poll(0.5)
        check(not [m for m in lab.inbox if m[0] in (SA_INSTALL, TREE_UPDATE)],
              "lab (refused) gets no SA and no tree")
        spis_first = {sa_in.get(1)[0]}
        sas = ctl(sock, "sas")
        check(len(sas) == 1 and sas[0]["state"] == "active" and "key" not in json.dumps(sas),
              "vprnctl vnoc sas: one active SA, no key material")
        ws = ctl(sock, "sas", "--export-keys", "wireshark")
        check(len(ws) == 1 and ws[0].startswith('"IPv4","10.100.1.2","10.100.2.2","0x'),
              "sas --export-keys wireshark: one esp_sa line hq -> br1")
        tree = ctl(sock, "tree", "239.1.0.1")
        check(tree["edges"] == [["hq", "br1"]], "vprnctl vnoc tree: hq -- br1")
        # br1 goes silent, hq refreshes: br1 expires after the hold time
        for _ in range(16):
            hq.refresh([(G, 2)])
            lab.refresh([])
            hq.poll(0.25)
            for m in hq.take_all(TREE_UPDATE) + hq.take_all(SA_INSTALL):
                hq.inbox.append(m)
                break
        acct = ctl(sock, "accounting")
        events = [(e["event"], e["site"]) for e in acct["events"]]
        check(("expire", "br1") in events, "br1 expired and accounted")
        check(("grant", "hq") in events and ("refuse", "lab") in events,
              "grants and refusals accounted")
        # kill -9: accounting and the SPI mark survive
        vnoc.send_signal(signal.SIGKILL)
        vnoc.wait(timeout=5)
        for e in eds:
            e.close()
        # a startup hold that cannot expire during the test: it must end because
        # the sites connected before the restart (hq, br1, lab) are back
        write_conf(d, port, startup_hold_ms=600000)
        vnoc = start(conf, vlog)
        time.sleep(0.5)
        acct2 = ctl(sock, "accounting")
        check(len(acct2["events"]) >= len(acct["events"]),
              "after kill -9 every accounting record is still there")
        # EDs reconnect and refresh: the tree is rebuilt with fresh SPIs
        hq, br2 = Ed(port, pki, "hq"), Ed(port, pki, "br2")
        eds = [hq, br2]
        hq.refresh([(G, 2)])
        br2.refresh([(G, 1)])
        br2.poll(1.0)
        check(not [m for m in br2.inbox if m[0] in (SA_INSTALL, TREE_UPDATE)],
              "startup hold: no SA and no tree while br1 and lab are not back")
        br1, lab = Ed(port, pki, "br1"), Ed(port, pki, "lab")
        eds += [br1, lab]
        br1.refresh([])
        check(lab.expect(TREE_UPDATE, timeout=1.0)[0] is None, "lab: still nothing")
        lab.refresh([])
        first = br2.expect(SA_INSTALL, timeout=20)
        check(first[0] == SA_INSTALL, "the hold ends when the last previous site refreshed")
        br2.ack(first[2])
        seen = bring_up(eds)
        seen["br2"].append(first)
        tus = [m for m in seen["br2"] if m[0] == TREE_UPDATE]
        new_spis = {m[1].get(1)[0] for m in seen["br2"] + seen["hq"] if m[0] == SA_INSTALL}
        check(len(tus) >= 1, "restarted VNOC rebuilt the tree from refreshes")
        check(all(m[1].get(3, [0])[0] > version_first for m in tus),
              "tree versions keep growing across the restart")
        check(new_spis and min(new_spis) > max(spis_first),
              "no SPI reused across the restart")
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
    d = tempfile.mkdtemp(prefix="vprn-vnoc-svc-")
    pki = os.path.join(d, "pki")
    subprocess.run(["sh", os.path.join(SRC, "tests/unit/common/mkcerts.sh"), pki,
                    "vnoc", "hq", "br1", "br2", "lab"], check=True)
    port = free_port()
    conf = write_conf(d, port)
    r = subprocess.run([VNOC, "-c", conf, "--check"], capture_output=True, text=True)
    check(r.returncode == 0, "vprn-vnoc --check accepts the group policies")
    try:
        scenario(d, pki, port, conf, os.path.join(d, "vnoc.sock"))
    except Exception as exc:  # a crash of the scenario is a failure, with the log
        check(False, f"scenario raised {exc!r}")
    if failures:
        print(open(os.path.join(d, "vnoc.log")).read()[-6000:])
        print(f"{len(failures)} failure(s); files in {d}")
        return 1
    shutil.rmtree(d, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
