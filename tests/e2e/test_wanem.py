"""vprn-wanem on its own: two or three fake sites whose wan0 has a kernel IP.

Delay is never asserted (tests do not assert on time); loss, delivery,
content and the control protocol are.
"""
import os
import socket
import subprocess

import pytest

import testbed as tb

UDP_RECV = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.settimeout(float(sys.argv[2]))
print("ready", flush=True)
try:
    while True:
        data, addr = s.recvfrom(65535)
        print(addr[0], data.hex(), flush=True)
except socket.timeout:
    pass
"""

UDP_SEND = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
dst, port = sys.argv[1], int(sys.argv[2])
for h in sys.argv[3:]:
    s.sendto(bytes.fromhex(h), (dst, port))
"""


@pytest.fixture
def wanbed(make_testbed):
    """Three sites, no EDs: wan0 gets the ED's WAN address as a kernel IP."""
    bed = make_testbed(n_sites=3, hosts_per_site=0)
    for s in bed.sites:
        tb.ip("addr", "add", f"{s.wan_addr}/24", "dev", "wan0", ns=s.ns.name)
        tb.ip("route", "add", "default", "via", s.wan_gw, ns=s.ns.name)
    bed.start_wanem(extra=["--seed", "7"])
    # Resolve every neighbour once (kernel ARP queues are short), then zero the counters.
    for s in bed.sites:
        assert tb.ping(s.ns, bed.sites[0].wan_addr if s.index != 1 else bed.sites[1].wan_addr,
                       1) == 1
    bed.wanem_cmd("clear")
    return bed


def udp_exchange(bed, src, dst, payloads, port=9000, idle=3.0):
    """Send payloads from site src to site dst over UDP; return what dst received."""
    rx = dst.ns.popen([tb.PY, "-c", UDP_RECV, str(port), str(idle)], stdout=subprocess.PIPE,
                      text=True)
    try:
        assert rx.stdout.readline().strip() == "ready"
        src.ns.run([tb.PY, "-c", UDP_SEND, dst.wan_addr, str(port)] + [p.hex() for p in payloads])
        out, _ = rx.communicate(timeout=120)
    finally:
        if rx.poll() is None:
            rx.kill()
            rx.wait()
    got = []
    for line in out.splitlines():
        addr, h = line.split()
        got.append((addr, bytes.fromhex(h)))
    return got


def payloads(n, size=200):
    return [bytes([(i + k) & 0xFF for k in range(size)]) + i.to_bytes(4, "big") for i in range(n)]


def test_ping_gateway_and_across(wanbed):
    s1, s2, s3 = wanbed.sites
    assert tb.ping(s1.ns, s1.wan_gw, 2) == 2
    assert tb.ping(s1.ns, s2.wan_addr, 3) == 3
    assert tb.ping(s3.ns, s1.wan_addr, 3) == 3
    st = wanem_pairs(wanbed)
    assert st[("site1", "site2")]["fwd_pkts"] >= 3
    assert st[("site2", "site1")]["fwd_pkts"] >= 3
    assert st[("site3", "site1")]["fwd_pkts"] >= 3
    assert st[("site1", "site2")]["fwd_icmp"] == st[("site1", "site2")]["fwd_pkts"]


def wanem_pairs(bed):
    return {(p["src"], p["dst"]): p for p in bed.wanem_stats()["pairs"]}


def test_udp_intact_and_zero_loss_delivers_all(wanbed):
    s1, s2, _ = wanbed.sites
    wanbed.set_delay("site1", "site2", 20, 0, 0)
    sent = payloads(200, 700)
    got = udp_exchange(wanbed, s1, s2, sent)
    assert [g[1] for g in got] == sent  # every datagram, intact, in order (no jitter)
    assert all(g[0] == s1.wan_addr for g in got)
    p = wanem_pairs(wanbed)[("site1", "site2")]
    assert p["lost"] == 0 and p["fwd_udp"] == 200 and p["fwd_esp"] == 0


def test_capture_on_the_wan_link(wanbed):
    """What wanem puts on the destination link, seen by tcpdump: the same
    datagrams, TTL decremented once, checksums valid, source MAC = wanem."""
    from scapy.all import IP, UDP, Ether
    s1, s2, _ = wanbed.sites
    cap = wanbed.capture_wan(s2, "udp port 9100")
    sent = payloads(20, 300)
    got = udp_exchange(wanbed, s1, s2, sent, port=9100)
    pkts = cap.stop()
    assert [g[1] for g in got] == sent
    out = [p for p in pkts if p.haslayer(UDP) and p[IP].dst == s2.wan_addr]
    assert [bytes(p[UDP].payload) for p in out] == sent
    for p in out:
        assert p[IP].src == s1.wan_addr and p[IP].ttl == 63
        # Recompute both checksums from scratch: what wanem sent must match.
        fresh = IP(bytes(p[IP]))
        del fresh.chksum
        del fresh[UDP].chksum
        fresh = IP(bytes(fresh))
        assert fresh.chksum == p[IP].chksum and fresh[UDP].chksum == p[UDP].chksum
    assert out[0][Ether].src.lower() == wanem_mac(wanbed, s2)


def wanem_mac(bed, site):
    for line in bed.wanem_cmd("show"):
        f = line.split()
        if f[0] == "link" and f[1] == site.name:
            return f[4].lower()
    raise AssertionError(f"no link {site.name}")


def test_full_loss_drops_everything(wanbed):
    s1, s2, s3 = wanbed.sites
    wanbed.set_delay("site1", "site2", 0, 0, 100)
    got = udp_exchange(wanbed, s1, s2, payloads(100), idle=2.0)
    assert got == []
    p = wanem_pairs(wanbed)[("site1", "site2")]
    assert p["lost"] == 100 and p["fwd_pkts"] == 0
    # The other direction and other pairs are untouched.
    assert len(udp_exchange(wanbed, s3, s2, payloads(20))) == 20
    # Back to 0 % at run time: everything flows again.
    wanbed.set_delay("site1", "site2", 0, 0, 0)
    assert len(udp_exchange(wanbed, s1, s2, payloads(50))) == 50


def test_partial_loss_and_jitter(wanbed):
    s1, s2, _ = wanbed.sites
    wanbed.set_delay("site1", "site2", 5, 3, 50)
    sent = payloads(400, 64)
    got = udp_exchange(wanbed, s1, s2, sent)
    p = wanem_pairs(wanbed)[("site1", "site2")]
    assert len(got) == p["fwd_pkts"]
    assert p["lost"] + p["fwd_pkts"] == 400
    assert 0 < p["lost"] < 400  # 50 % of 400 (seeded): neither none nor all
    assert set(g[1] for g in got) <= set(sent)  # jitter may reorder, never corrupt


def test_control_protocol_errors_and_show(wanbed):
    bad = ["delay site1 nosuch 10", "delay site1 site2 -5", "delay site1 site2 10 0 101",
           "delay", "frobnicate", "x " * 50, "loss site1 site2 abc"]
    for line in bad:
        with pytest.raises(RuntimeError, match="error"):
            wanbed.wanem_cmd(line)
    # Garbage and an over-long line on a raw connection: an error line, then service.
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect(wanbed.wanem_ctl)
        s.sendall(b"\x00\xff\xfe garbage\n" + b"A" * 5000)
        data = b""
        while b"line too long" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        assert b"error" in data
    assert wanbed.wanem.alive()
    wanbed.wanem_cmd("sym site1 site3 12.5 1 2")
    show = wanbed.wanem_cmd("show")
    assert "delay site1 site3 12.500 1.000 2.000" in show
    assert "delay site3 site1 12.500 1.000 2.000" in show
    assert any(l.startswith("link site2 w2 10.100.2.1/24") for l in show)
    # The command-line client gives the same answer.
    r = tb.run([tb.binary("vprn-wanem"), "--ctl", wanbed.wanem_ctl, "-e", "show"])
    assert "delay site1 site3 12.500" in r.stdout
    r = tb.run([tb.binary("vprn-wanem"), "--ctl", wanbed.wanem_ctl, "-e", "delay a b c"],
               check=False)
    assert r.returncode == 1 and "error" in r.stdout


def test_bad_command_line_refused(make_testbed):
    exe = tb.binary("vprn-wanem")
    for args in (["--link", "x=eth0,10.0.0.1/24"],  # no --ctl
                 ["--ctl", "/tmp/x.sock", "--link", "bad"],
                 ["--ctl", "/tmp/x.sock", "--link", "a=eth0,1.2.3.4/24", "--delay", "a,b,10"],
                 ["--ctl", "/tmp/x.sock", "--link", "a=nosuchif0,1.2.3.4/24"]):
        r = tb.run([exe] + args, check=False)
        assert r.returncode != 0, args


def test_sigterm_exits_cleanly(wanbed):
    assert wanbed.wanem.stop() == 0
    assert not os.path.exists(wanbed.wanem_ctl)
