"""Issue 2 end to end: ED <-> VNOC mutual TLS sessions on the namespace testbed.

Registration, refusals (foreign CA, unknown site name), VNOC restart with
reconnection, --check of both daemons with file:line errors, and raw-socket
abuse against the VNOC. Tests wait for states; they never assert on time.
"""
import os
import re
import struct

import pytest

import testbed as tb
from conftest import need

DAEMONS = ("vprn-vnoc", "vprn-ed", "vprnctl")


@pytest.fixture
def bed(make_testbed):
    need(*DAEMONS, "vprn-wanem")
    b = make_testbed(n_sites=3, hosts_per_site=1)
    b.start_wanem()
    return b


def start_all(bed):
    bed.start_vnoc()
    bed.start_eds()
    bed.wait_sites_connected()


def test_all_sites_register(bed):
    start_all(bed)
    sites = bed.vnoc_sites()
    assert {s.name for s in bed.sites} <= set(sites)
    assert all(bed.site_connected(sites[s.name]) for s in bed.sites)
    # The human-readable table names every site too.
    out = tb.vprnctl(bed.vnoc_ctl, "vnoc", "sites", json_out=False).stdout
    for s in bed.sites:
        assert s.name in out
    # Each ED answers `ed status` and names its own site.
    for s in bed.sites:
        st = tb.vprnctl(s.ctl, "ed", "status")
        assert s.name in str(st)
        assert s.ed.alive()
    assert bed.vnoc.alive()


def test_foreign_ca_refused(bed, foreign_ca):
    s1, s2, s3 = bed.sites
    # site2 presents a certificate with the right CN from another CA.
    s2.cert, s2.key = foreign_ca.issue(s2.name, os.path.join(bed.workdir, "foreign"))
    bed.start_vnoc()
    for s in bed.sites:
        bed.start_ed(s)
    bed.wait_sites_connected([s1.name, s3.name])
    # The refused ED keeps trying (and failing) on its own; the VNOC counts refusals.
    tb.wait_until(lambda: bed.ed_status(s2)["vnoc"]["failures"] >= 2, 90,
                  what="site2's ED refused twice")
    assert bed.vnoc_counter("refused_tls") >= 2
    assert s2.name not in bed.connected_sites()
    assert not bed.ed_connected(s2)
    assert s2.ed.alive()
    # A direct TLS client with the foreign certificate: the VNOC closes the connection.
    before = bed.vnoc_counter("refused_tls")
    r = tb.probe(s2.ns, tb.VNOC_ADDR, tb.VNOC_PORT, "tls", s2.cert, s2.key, bed.ca.cert)
    assert r["outcome"] in ("eof", "reset", "tls_error"), r
    assert bed.vnoc_counter("refused_tls") > before
    # And without any client certificate at all.
    r = tb.probe(s2.ns, tb.VNOC_ADDR, tb.VNOC_PORT, "tls", "", "", bed.ca.cert)
    assert r["outcome"] in ("eof", "reset", "tls_error"), r
    assert bed.vnoc.alive()
    assert {s1.name, s3.name} <= bed.connected_sites()


def test_unknown_site_name_refused(bed):
    s1, s2, s3 = bed.sites
    # A certificate from the registered CA whose CN is no registered site.
    cert, key = bed.ca.issue("intruder", os.path.join(bed.workdir, "intruder"))
    start_all(bed)
    before = bed.vnoc_counter("refused_unknown_site")
    r = tb.probe(s1.ns, tb.VNOC_ADDR, tb.VNOC_PORT, "tls", cert, key, bed.ca.cert)
    assert r["outcome"] in ("eof", "reset", "tls_error"), r
    assert bed.vnoc_counter("refused_unknown_site") == before + 1
    assert "intruder" not in bed.vnoc_sites()
    # An ED configured as "intruder" is refused too, and the others stay connected.
    conf = bed.ed_config(s2)
    conf["site"] = "intruder"
    conf["vnoc"]["cert"], conf["vnoc"]["key"] = cert, key
    bed.ed_stop(s2)
    bed.start_ed(s2, conf)
    tb.wait_until(lambda: bed.vnoc_counter("refused_unknown_site") >= before + 3, 90,
                  what="intruder ED refused twice")
    assert not bed.ed_connected(s2)
    assert "intruder" not in bed.vnoc_sites()
    assert s2.name not in bed.connected_sites()
    assert {s1.name, s3.name} <= bed.connected_sites()


@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_vnoc_restart_eds_reconnect(bed, how):
    start_all(bed)
    if how == "kill9":
        bed.vnoc.kill()
    else:
        assert bed.vnoc.stop() == 0
    # Every ED notices the loss on its own (its status leaves "connected").
    for s in bed.sites:
        tb.wait_until(lambda s=s: not bed.ed_connected(s), 60,
                      what=f"{s.name} noticing the VNOC is gone")
        assert s.ed.alive()
    bed.start_vnoc()
    bed.wait_sites_connected(timeout=120)
    for s in bed.sites:
        tb.wait_until(lambda s=s: bed.ed_connected(s), 60, what=f"{s.name} connected again")
        assert s.ed.alive()


def test_ed_restart_reregisters(bed):
    start_all(bed)
    s1 = bed.sites[0]
    s1.ed.kill()
    tb.wait_until(lambda: s1.name not in bed.connected_sites(), 60,
                  what="VNOC noticing site1 gone")
    bed.start_ed(s1)
    bed.wait_sites_connected(timeout=90)


# ---------------------------------------------------------------- --check

def lineno(text, needle):
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in config")


def check(exe_args, path):
    r = tb.run(exe_args + ["-c", path, "--check"], check=False, timeout=30)
    return r.returncode, r.stderr + r.stdout


def vnoc_check(bed, text, name="vnoc-bad.conf"):
    path = tb.write_file(os.path.join(bed.workdir, name), text)
    return path, check([tb.binary("vprn-vnoc")], path)


def ed_check(bed, text, name="ed-bad.conf"):
    path = tb.write_file(os.path.join(bed.workdir, name), text)
    # --check anywhere: no EAL init, no DPDK options needed.
    return path, check([tb.binary("vprn-ed")], path)


def vnoc_bad_cases(bed):
    good = tb.libconfig_text(bed.vnoc_config())
    cases = []
    # Syntax error: a missing semicolon reported at (or right after) its line.
    n = lineno(good, "port =")
    cases.append(("syntax", good.replace("port = 7800;", "port = = 7800;", 1), {n}))
    cases.append(("port range", good.replace("port = 7800;", "port = 70000;", 1), {n}))
    n = lineno(good, "wan = \"10.100.2.2\"")
    cases.append(("bad address", good.replace("\"10.100.2.2\"", "\"10.100.2.300\"", 1), {n}))
    n = lineno(good, "port =")
    cases.append(("port type", good.replace("port = 7800;", "port = \"http\";", 1), {n}))
    dup = good.replace('name = "site2"', 'name = "site1"', 1)
    cases.append(("duplicate site", dup, None))
    cases.append(("missing tls", re.sub(r"tls = \{.*?\n\};\n", "", good, flags=re.S), None))
    return good, cases


def test_vnoc_check_refuses_bad_config_with_file_line(make_testbed):
    need("vprn-vnoc")
    bed = make_testbed(n_sites=2, hosts_per_site=0)
    good, cases = vnoc_bad_cases(bed)
    path, (rc, out) = vnoc_check(bed, good, "vnoc-good.conf")
    assert rc == 0, out
    for what, text, lines in cases:
        path, (rc, out) = vnoc_check(bed, text, f"vnoc-{what.replace(' ', '-')}.conf")
        assert rc == 1, f"{what}: rc {rc}: {out}"
        m = re.search(re.escape(path) + r":(\d+): ", out)
        assert m, f"{what}: no FILE:LINE: in {out!r}"
        if lines is not None:
            assert int(m.group(1)) in lines, f"{what}: line {m.group(1)} not in {lines}: {out}"
    rc, out = check([tb.binary("vprn-vnoc")], os.path.join(bed.workdir, "missing.conf"))
    assert rc == 1 and "missing.conf" in out


def test_ed_check_refuses_bad_config_with_file_line(make_testbed):
    need("vprn-ed")
    bed = make_testbed(n_sites=1, hosts_per_site=0)
    good = tb.libconfig_text(bed.ed_config(bed.sites[0]))
    path, (rc, out) = ed_check(bed, good, "ed-good.conf")
    assert rc == 0, out
    n_addr = lineno(good, 'address = "192.168.1.1/24"')
    n_port = lineno(good, "port = 7800")
    n_gw = lineno(good, 'gateway = "10.100.1.1"')
    cases = [
        ("syntax", good.replace('site = "site1";', 'site = = "site1";', 1), {1}),
        ("lan address", good.replace('"192.168.1.1/24"', '"192.168.1.300/24"', 1), {n_addr}),
        ("lan prefix", good.replace('"192.168.1.1/24"', '"192.168.1.1/40"', 1), {n_addr}),
        ("vnoc port", good.replace("port = 7800;", "port = 0;", 1), {n_port}),
        ("gateway", good.replace('"10.100.1.1"', '"not-an-ip"', 1), {n_gw}),
        ("no site", good.replace('site = "site1";\n', "", 1), None),
    ]
    for what, text, lines in cases:
        path, (rc, out) = ed_check(bed, text, f"ed-{what.replace(' ', '-')}.conf")
        assert rc == 1, f"{what}: rc {rc}: {out}"
        m = re.search(re.escape(path) + r":(\d+): ", out)
        assert m, f"{what}: no FILE:LINE: in {out!r}"
        if lines is not None:
            assert int(m.group(1)) in lines, f"{what}: line {m.group(1)} not in {lines}: {out}"


def test_vnoc_refuses_to_start_with_bad_config(make_testbed):
    need("vprn-vnoc")
    bed = make_testbed(n_sites=1, hosts_per_site=0)
    good = tb.libconfig_text(bed.vnoc_config())
    path = tb.write_file(os.path.join(bed.workdir, "vnoc.conf"), good.replace("7800;", "x;", 1))
    r = bed.vnoc_ns.run([tb.binary("vprn-vnoc"), "-c", path], check=False, timeout=30)
    assert r.returncode != 0
    assert re.search(re.escape(path) + r":\d+: ", r.stderr), r.stderr


def test_ed_refuses_to_start_with_bad_config(make_testbed):
    need("vprn-ed")
    bed = make_testbed(n_sites=1, hosts_per_site=0)
    s = bed.sites[0]
    good = tb.libconfig_text(bed.ed_config(s))
    tb.write_file(s.conf_path, good.replace('"10.100.1.1"', '"10.100.1.999"', 1))
    r = s.ns.run(bed.ed_args(s), check=False, timeout=60)
    assert r.returncode != 0
    assert re.search(re.escape(s.conf_path) + r":\d+: ", r.stderr + r.stdout), r.stderr


# ---------------------------------------------------------------- abuse

def test_vnoc_survives_raw_socket_abuse(bed):
    start_all(bed)
    s1, s2, s3 = bed.sites
    ns, host, port = bed.vnoc_ns, "127.0.0.1", tb.VNOC_PORT
    # A client that connects and sends nothing, and one that starts a TLS
    # handshake and never finishes it: both held open while we check service.
    idle = tb.HeldConnection(bed, ns, host, port)
    client_hello_start = bytes.fromhex("16030100c8010000c40303") + os.urandom(16)
    half = tb.HeldConnection(bed, ns, host, port, client_hello_start)
    many = [tb.HeldConnection(bed, ns, host, port) for _ in range(20)]
    # The event loop still answers and the sites stay registered meanwhile.
    assert {s.name for s in bed.sites} <= bed.connected_sites()
    # Garbage bytes instead of TLS: closed, counted as a refused handshake.
    before = bed.vnoc_counter("refused_tls")
    r = tb.probe(ns, host, port, "tcp", payload=os.urandom(512))
    assert r["outcome"] in ("eof", "reset"), r
    r = tb.probe(ns, host, port, "tcp", payload=b"GET / HTTP/1.0\r\n\r\n")
    assert r["outcome"] in ("eof", "reset"), r
    assert bed.vnoc_counter("refused_tls") >= before + 2
    # A registered site's certificate (no ED runs for it) then bad frames.
    extra = bed.ca.issue("site3", os.path.join(bed.workdir, "probe"))
    bed.ed_stop(s3)
    tb.wait_until(lambda: s3.name not in bed.connected_sites(), 60, what="site3 gone")
    for what, payload in [
        ("oversize length", struct.pack(">I", 0xFFFFFFF0) + b"x" * 16),
        ("zero length", struct.pack(">I", 0)),
        ("garbage protobuf", struct.pack(">I", 64) + os.urandom(64)),
    ]:
        before = bed.vnoc_counter("protocol_errors")
        r = tb.probe(s3.ns, tb.VNOC_ADDR, port, "tls", extra[0], extra[1], bed.ca.cert,
                     payload=payload)
        assert r["outcome"] in ("eof", "reset", "tls_error"), (what, r)
        assert bed.vnoc.alive(), what
        assert bed.vnoc_counter("protocol_errors") > before, what
    # Truncated frame then close: the VNOC drops it (nothing to wait for).
    r = tb.probe(s3.ns, tb.VNOC_ADDR, port, "tls", extra[0], extra[1], bed.ca.cert,
                 payload=struct.pack(">I", 1000) + b"abc", timeout=5)
    assert bed.vnoc.alive()
    # The idle and half-open clients are closed by the handshake timeout.
    tb.wait_until(lambda: idle.closed_by_peer() and half.closed_by_peer(), 60,
                  what="VNOC closing idle/half-open connections")
    tb.wait_until(lambda: all(c.closed_by_peer() for c in many), 60,
                  what="VNOC closing 20 idle connections")
    assert bed.vnoc.alive()
    assert bed.vnoc_counter("timeouts") >= 22  # idle + half-open + 20 idle
    # Every abusive connection left a line saying why it was closed.
    closes = [ln for ln in bed.vnoc.log_text().splitlines() if "closed" in ln]
    assert len(closes) >= 2 + 3 + 1 + 22, closes
    # Still serving: the registered sites are connected, a restarted ED registers.
    assert {s1.name, s2.name} <= bed.connected_sites()
    bed.start_ed(s3)
    bed.wait_sites_connected()


# ---------------------------------------------------------------- data plane wiring

def test_ed_dataplane_polls_lan_and_wan(bed):
    """The EDs' DPDK ports really sit on the testbed's veths: traffic from a LAN
    host and frames on the WAN link show up in `ed stats` (counted, dropped or not)."""
    start_all(bed)
    s1 = bed.sites[0]
    host = s1.hosts[0]
    before = bed.ed_stats(s1)
    host.mcast_send("239.7.7.7", 4000, [b"m" * 100] * 20, ttl=4)
    tb.wait_until(lambda: bed.ed_stats(s1)["lan_rx"] >= before["lan_rx"] + 20, 30,
                  what="20 LAN frames counted by site1's ED")
    # 20 frames addressed to nobody in particular, sent into site1's WAN link.
    frame = b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x99" + b"\x88\xb5" + b"x" * 60
    tb.raw_send(bed.wan_ns, s1.wan_peer, [frame] * 20)
    tb.wait_until(lambda: bed.ed_stats(s1)["wan_rx"] >= before["wan_rx"] + 20, 30,
                  what="20 WAN frames counted by site1's ED")
    # No site has receivers for the group: nothing from site1 crossed the WAN but
    # its delay probes (UDP 7801, counted apart by the WAN emulator).
    st = {(p["src"], p["dst"]): p for p in bed.wanem_stats()["pairs"]}
    assert all(p["fwd_pkts"] == p["fwd_probe"] for (src, _), p in st.items() if src == s1.name)
    assert all(p["fwd_esp"] == 0 for (src, _), p in st.items() if src == s1.name)
