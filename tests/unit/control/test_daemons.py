#!/usr/bin/python3
# SPDX-License-Identifier: BSD-3-Clause
"""Daemon-level checks of vprn-vnoc and vprn-ed on 127.0.0.1 (no namespaces).

The VNOC must survive every kind of bad input with a logged reason and a closed
connection (garbage, truncated/oversize/zero frames, foreign CA, unknown CN,
wrong hello, no handshake, silence), answer a hello with a welcome, replace a
site's older session, and an ED must register, reconnect after a VNOC restart
and stop cleanly. Counters are read through the control socket with vprnctl.
Run by meson (suite unit) with VPRN_BUILDDIR and VPRN_SRCDIR set.
"""
import json
import os
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
ED = os.path.join(BUILD, "control", "vprn-ed")
CTL = os.path.join(BUILD, "control", "vprnctl")
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


def wait_for(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            if pred():
                return True
        except (OSError, ValueError, KeyError, subprocess.CalledProcessError):
            pass
        time.sleep(0.1)
    return False


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def ctl(sock, target, *args):
    out = subprocess.run([CTL, "--json", "--socket", sock, target, *args], check=True,
                         capture_output=True, text=True, timeout=10).stdout
    ans = json.loads(out)
    assert ans["ok"], ans
    return ans["result"]


# ---- hand-made protobuf (just what the tests need) -------------------------

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
    if wire == 0:
        return key + varint(payload)
    return key + varint(len(payload)) + payload


def envelope(seq, body_num, body):
    return field(1, 0, 1) + field(2, 0, seq) + field(body_num, 2, body)


def hello(site):
    return envelope(1, 10, field(1, 2, site.encode()) + field(2, 2, b"test"))


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def body_fields(data):
    """Top-level field numbers of an envelope."""
    nums, i = [], 0
    while i < len(data):
        key, shift = 0, 0
        while True:
            b = data[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        num, wire = key >> 3, key & 7
        nums.append(num)
        if wire == 0:
            while data[i] & 0x80:
                i += 1
            i += 1
        elif wire == 2:
            ln, shift = 0, 0
            while True:
                b = data[i]
                i += 1
                ln |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            i += ln
        else:
            raise ValueError("wire type")
    return nums


class Client:
    def __init__(self, port, pki, name, tls=True):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if tls:
            c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            c.minimum_version = ssl.TLSVersion.TLSv1_3
            c.check_hostname = False
            c.load_verify_locations(os.path.join(pki, "ca.pem"))
            c.load_cert_chain(os.path.join(pki, name + ".pem"), os.path.join(pki, name + ".key"))
            self.sock = c.wrap_socket(self.sock)

    def send(self, data):
        self.sock.sendall(data)

    def read_frame(self):
        hdr = self._exact(4)
        return self._exact(struct.unpack(">I", hdr)[0])

    def _exact(self, n):
        buf = b""
        while len(buf) < n:
            d = self.sock.recv(n - len(buf))
            if not d:
                raise EOFError
            buf += d
        return buf

    def closed(self, timeout=5.0):
        """True when the VNOC closes the connection (frames before that are skipped)."""
        self.sock.settimeout(timeout)
        try:
            while self.sock.recv(4096):
                pass
            return True
        except (ConnectionError, ssl.SSLError, EOFError):
            return True
        except socket.timeout:
            return False


def vnoc_conf(d, port):
    path = os.path.join(d, "vnoc.conf")
    with open(path, "w") as f:
        f.write(f"""log_level = "debug";
ctl_socket = "{d}/vnoc.sock";
database = "{d}/vnoc.db";
listen = {{ address = "127.0.0.1"; port = {port}; }};
tls = {{ ca = "pki/ca.pem"; cert = "pki/vnoc.pem"; key = "pki/vnoc.key"; crl = "pki/crl.pem";
        handshake_timeout_ms = 600; }};
timers = {{ refresh_interval_ms = 300; hold_time_ms = 1000; }};
vpns = ( {{ name = "acme"; sites = (
    {{ name = "hq"; wan = "10.100.1.2"; }},
    {{ name = "br1"; wan = "10.100.2.2"; }} ); }} );
""")
    return path


def ed_conf(d, port, site):
    path = os.path.join(d, f"ed-{site}.conf")
    with open(path, "w") as f:
        f.write(f"""site = "{site}";
ctl_socket = "{d}/ed-{site}.sock";
vnoc = {{ address = "127.0.0.1"; port = {port}; ca = "pki/ca.pem"; cert = "pki/{site}.pem";
         key = "pki/{site}.key"; backoff_min_ms = 50; backoff_max_ms = 400; }};
lan = {{ device = "net_null0,no-rx=1"; address = "192.168.2.1/24"; }};
wan = {{ device = "net_null1,no-rx=1"; address = "10.100.2.2/24"; gateway = "10.100.2.1"; }};
dataplane = {{ workers = 1; idle_sleep_us = 1000; mbufs = 1023; }};
""")
    return path


def start_vnoc(conf, log):
    return subprocess.Popen([VNOC, "-c", conf], stdout=log, stderr=subprocess.STDOUT)


def bad_input(port, pki, sock):
    c = Client(port, pki, None, tls=False)
    c.send(b"GET / HTTP/1.0\r\n\r\n")
    check(c.closed(), "plain-text garbage closed")
    c = Client(port, pki, "hq")
    c.send(frame(b"\xff" * 12))
    check(c.closed(), "undecodable envelope closed")
    c = Client(port, pki, "hq")
    c.send(struct.pack(">I", 0x7FFFFFFF))
    check(c.closed(), "oversize length closed")
    c = Client(port, pki, "hq")
    c.send(struct.pack(">I", 0))
    check(c.closed(), "zero length closed")
    c = Client(port, pki, "hq")
    c.send(struct.pack(">I", 100) + b"abc")
    c.sock.close()
    c = Client(port, pki, "hq")
    c.send(frame(envelope(1, 26, field(1, 0, 5))))  # keepalive first
    check(c.closed(), "first message not hello closed")
    c = Client(port, pki, "hq")
    c.send(frame(hello("br1")))
    check(c.closed(), "hello site != certificate CN closed")
    c = Client(port, pki, "hq")
    c.send(frame(envelope(1, 10, b"\x0a\x10hq")))  # site string longer than its body
    check(c.closed(), "malformed hello closed")
    try:
        c = Client(port, pki, "foreign-hq")
        check(c.closed(), "foreign CA closed")
    except (ssl.SSLError, ConnectionError):
        check(True, "foreign CA refused")
    try:
        c = Client(port, pki, "revoked")
        check(c.closed(), "revoked certificate closed")
    except (ssl.SSLError, ConnectionError):
        check(True, "revoked certificate refused")
    try:
        c = Client(port, pki, "rogue")  # valid chain, CN not registered
        check(c.closed(), "unknown CN closed")
    except (ssl.SSLError, ConnectionError):
        check(True, "unknown CN refused in the handshake")
    c = Client(port, pki, None, tls=False)
    t0 = time.monotonic()
    check(c.closed(5) and time.monotonic() - t0 < 4, "no TLS handshake: closed by timeout")
    c = Client(port, pki, "hq")
    check(c.closed(5), "TLS but silent: closed by timeout")
    st = ctl(sock, "vnoc", "status")
    cnt = st["counters"]
    check(cnt["refused_unknown_site"] == 1, "refused_unknown_site == 1")
    check(cnt["refused_tls"] >= 3, "refused_tls >= 3 (garbage, foreign CA, revoked)")
    check(cnt["timeouts"] == 2, "two timeouts")
    check(cnt["protocol_errors"] >= 7, "protocol errors counted")
    check(cnt["established"] == 0 and st["sites_connected"] == 0, "nothing established")


def hello_and_replace(port, pki, sock):
    a = Client(port, pki, "hq")
    a.send(frame(hello("hq")))
    check(11 in body_fields(a.read_frame()), "hello answered by welcome")
    sites = {s["site"]: s for s in ctl(sock, "vnoc", "sites")}
    check(sites["hq"]["state"] == "connected" and sites["br1"]["state"] == "down",
          "hq connected, br1 down")
    b = Client(port, pki, "hq")
    b.send(frame(hello("hq")))
    check(11 in body_fields(b.read_frame()), "second hq session welcomed")
    check(25 in body_fields(a.read_frame()), "first hq session gets Error (replaced)")
    check(a.closed(), "first hq session closed")
    st = ctl(sock, "vnoc", "status")
    check(st["counters"]["replaced"] == 1 and st["sites_connected"] == 1, "replaced == 1")
    b.send(frame(envelope(2, 26, field(1, 0, 77))))
    check(26 in body_fields(b.read_frame()), "keepalive echoed")
    b.send(frame(envelope(2, 26, field(1, 0, 78))))  # seq not increasing
    check(b.closed(), "repeated sequence number closed")
    check(wait_for(lambda: ctl(sock, "vnoc", "status")["sites_connected"] == 0),
          "site down after its session closed")


def ed_session(d, port, vconf, vlog):
    conf = ed_conf(d, port, "br1")
    edsock = os.path.join(d, "ed-br1.sock")
    vsock = os.path.join(d, "vnoc.sock")
    r = subprocess.run([ED, "--", "-c", conf, "--check"], capture_output=True, text=True)
    check(r.returncode == 0, "vprn-ed --check of a valid config")
    bad = os.path.join(d, "bad-ed.conf")
    with open(bad, "w") as f:
        f.write('site = "br1";\nvnoc = { address = "1.2.3"; };\n')
    r = subprocess.run([ED, "--check", "--", "-c", bad], capture_output=True, text=True)
    check(r.returncode == 1 and f"{bad}:2:" in r.stderr, "vprn-ed --check: FILE:LINE error")
    log = open(os.path.join(d, "ed.log"), "w")
    ed = subprocess.Popen([ED, "-l", "0,1", "--no-huge", "--no-pci", "-m", "256",
                           f"--file-prefix=vprn-ut-ed-{os.getpid()}", "--", "-c", conf],
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        check(wait_for(lambda: ctl(edsock, "ed", "status")["vnoc"]["state"] == "up", 20),
              "ED registered")
        sites = {s["site"]: s for s in ctl(vsock, "vnoc", "sites")}
        check(sites["br1"]["state"] == "connected", "VNOC sees br1 connected")
        peers = ctl(edsock, "ed", "status")["vnoc"]["peers"]
        check([p["site"] for p in peers] == ["hq"], "welcome peers = [hq]")
        check("lan_rx" in ctl(edsock, "ed", "stats"), "ed stats answers")
        # keepalives keep the session past the hold time
        time.sleep(1.5)
        check(ctl(edsock, "ed", "status")["vnoc"]["connects"] == 1, "session stable")
        return ed, log
    except BaseException:
        ed.kill()
        raise


def fake_vnoc(d, pki):
    """A VNOC that misbehaves on its first connections: the ED must survive,
    back off and finally register when a proper welcome comes."""
    import threading
    port = free_port()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(pki, "ca.pem"))
    ctx.load_cert_chain(os.path.join(pki, "vnoc.pem"), os.path.join(pki, "vnoc.key"))
    lsock = socket.create_server(("127.0.0.1", port))
    welcome = envelope(1, 11, field(1, 0, 2) + field(2, 2, b"acme") + field(3, 0, 300) +
                       field(4, 0, 1000))
    acts = [
        ("garbage", frame(b"\xff" * 20)),
        ("oversize", struct.pack(">I", 0x7FFFFFFF)),
        ("zero", struct.pack(">I", 0)),
        ("error", frame(envelope(1, 25, field(1, 0, 5) + field(2, 2, b"go away")))),
        ("no welcome", frame(envelope(1, 26, field(1, 0, 1)))),
        ("welcome", frame(welcome)),
    ]
    seen = []

    def serve():
        conns = []
        for what, payload in acts:
            try:
                raw, _ = lsock.accept()
                c = ctx.wrap_socket(raw, server_side=True)
                hdr = c.recv(4)
                c.recv(struct.unpack(">I", hdr)[0])
                seen.append(what)
                c.sendall(payload)
                if what != "welcome":
                    c.close()
                else:
                    conns.append(c)
            except (OSError, ssl.SSLError, struct.error):
                seen.append(what + " (failed)")
        time.sleep(3)
        for c in conns:
            c.close()

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    conf = ed_conf(d, port, "br1")
    edsock = os.path.join(d, "ed-br1.sock")
    log = open(os.path.join(d, "ed-fake.log"), "w")
    ed = subprocess.Popen([ED, "-l", "0,1", "--no-huge", "--no-pci", "-m", "256",
                           f"--file-prefix=vprn-ut-edf-{os.getpid()}", "--", "-c", conf],
                          stdout=log, stderr=subprocess.STDOUT)
    try:
        ok = wait_for(lambda: ctl(edsock, "ed", "status")["vnoc"]["state"] == "up", 30)
        check(ok, "ED registers after a misbehaving VNOC: " + ", ".join(seen))
        st = ctl(edsock, "ed", "status")["vnoc"]
        check(st["failures"] >= 5 and st["connects"] == 1, "ED counted 5 failed attempts")
        check(ed.poll() is None, "ED survived garbage, oversize, zero, Error, no welcome")
        ed.send_signal(signal.SIGTERM)
        check(ed.wait(20) == 0, "ED exits 0 on SIGTERM")
    finally:
        if ed.poll() is None:
            ed.kill()
            ed.wait()
        log.close()
        lsock.close()


def main():
    d = tempfile.mkdtemp(prefix="vprn-daemons-")
    pki = os.path.join(d, "pki")
    subprocess.run(["sh", os.path.join(SRC, "tests/unit/common/mkcerts.sh"), pki,
                    "vnoc", "hq", "br1", "rogue"], check=True)
    port = free_port()
    vconf = vnoc_conf(d, port)
    sock = os.path.join(d, "vnoc.sock")
    r = subprocess.run([VNOC, "-c", vconf, "--check"], capture_output=True, text=True)
    check(r.returncode == 0, "vprn-vnoc --check of a valid config")
    vlog = open(os.path.join(d, "vnoc.log"), "w")
    vnoc = start_vnoc(vconf, vlog)
    ed = None
    try:
        check(wait_for(lambda: ctl(sock, "vnoc", "status")), "VNOC up")
        bad_input(port, pki, sock)
        hello_and_replace(port, pki, sock)
        ed, edlog = ed_session(d, port, vconf, vlog)
        # VNOC restart: the ED reconnects by itself
        vnoc.send_signal(signal.SIGTERM)
        check(vnoc.wait(10) == 0, "VNOC exits 0 on SIGTERM")
        vnoc = start_vnoc(vconf, vlog)
        edsock = os.path.join(d, "ed-br1.sock")
        check(wait_for(lambda: ctl(edsock, "ed", "status")["vnoc"]["connects"] == 2, 20),
              "ED reconnected after the VNOC restart")
        ed.send_signal(signal.SIGTERM)
        check(ed.wait(20) == 0, "ED exits 0 on SIGTERM")
        ed = None
        check(wait_for(lambda: ctl(sock, "vnoc", "status")["sites_connected"] == 0),
              "VNOC sees the ED leave (bye)")
        check(vnoc.poll() is None, "VNOC still running")
        fake_vnoc(d, pki)
    finally:
        for p in (ed, vnoc):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()
        vlog.close()
    if failures:
        print(open(os.path.join(d, "vnoc.log")).read()[-6000:])
        if os.path.exists(os.path.join(d, "ed.log")):
            print(open(os.path.join(d, "ed.log")).read()[-4000:])
        print(f"{len(failures)} check(s) failed; logs in {d}")
        return 1
    if not os.environ.get("VPRN_KEEP"):
        subprocess.run(["rm", "-rf", d])
    else:
        print("kept", d)
    return 0


if __name__ == "__main__":
    sys.exit(main())
