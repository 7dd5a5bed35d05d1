"""Issue 6 end to end: the ED's IGMP querier and source discovery with real Linux hosts.

One site, two hosts on its LAN bridge, short IGMP timers. Hosts join with the
kernel's IGMP (v3 by default, v2/v1 forced with force_igmp_version), leave,
vanish, join SSM channels and send; scapy plays a second querier. Every check
waits for a state in `vprnctl ed members` / `vprnctl ed igmp`; nothing
asserts on time.
"""
import subprocess
import time

import pytest

import testbed as tb
from conftest import need

# GMI = 2 * 4 s + 1 s = 9 s; LMQT = 2 * 0.5 s = 1 s; OQPT = 2 * 4 s + 0.5 s = 8.5 s
MEMBERSHIP = {
    "robustness": 2,
    "query_interval_ms": 4000,
    "query_response_interval_ms": 1000,
    "last_member_query_interval_ms": 500,
    "startup_query_interval_ms": 1000,
    "source_inactivity_timeout_ms": 3000,
    "event_holddown_ms": 200,
}

JOIN = r"""
import socket, struct, sys, time
group, source = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
if source == "-":
    s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                 struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
else:  # IP_ADD_SOURCE_MEMBERSHIP, struct ip_mreq_source (Linux order)
    s.setsockopt(socket.IPPROTO_IP, 39, struct.pack("4s4s4s", socket.inet_aton(group),
                 socket.inet_aton("0.0.0.0"), socket.inet_aton(source)))
print("joined", flush=True)
sys.stdin.read()  # until the test closes stdin (the socket's close sends the leave)
"""

QUERIER = r"""
import sys, time
from scapy.all import Ether, IP, IPOption_Router_Alert, sendp
from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mq
src, seconds = sys.argv[1], float(sys.argv[2])
q = (Ether(dst="01:00:5e:00:00:01") / IP(src=src, dst="224.0.0.1", ttl=1, tos=0xc0,
     options=[IPOption_Router_Alert()]) / IGMPv3(type=0x11, mrcode=10) /
     IGMPv3mq(gaddr="0.0.0.0", qrv=2, qqic=4))
end = time.time() + seconds
while time.time() < end:
    sendp(q, iface="eth0", verbose=False)
    time.sleep(1.0)
"""


class Member:
    """A socket on a host holding a membership until left()."""

    def __init__(self, host, group, source="-"):
        self.proc = host.ns.popen([tb.PY, "-c", JOIN, group, source], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                  start_new_session=True)
        host.bed._children.append(self.proc)
        assert self.proc.stdout.readline().strip() == "joined"

    def leave(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(10)


@pytest.fixture
def bed(make_testbed):
    need("vprn-ed", "vprnctl")
    b = make_testbed(n_sites=1, hosts_per_site=2)
    site = b.sites[0]
    conf = b.ed_config(site)
    conf["membership"] = dict(MEMBERSHIP)
    b.start_ed(site, conf)
    b.wait_ed_up(site)
    return b


def members(site):
    return tb.vprnctl(site.ctl, "ed", "members")


def learned(site, group):
    """The learned receiver row of a group (source "*"), or None."""
    for r in members(site):
        if r["group"] == group and r["origin"] == "learned" and r["source"] == "*":
            return r
    return None


def igmp(site):
    return tb.vprnctl(site.ctl, "ed", "igmp")


def force_version(host, v):
    host.run(["sysctl", "-qw", f"net.ipv4.conf.all.force_igmp_version={v}"])
    host.run(["sysctl", "-qw", f"net.ipv4.conf.eth0.force_igmp_version={v}"])


@pytest.mark.parametrize("version", [3, 2, 1])
def test_host_join_every_version(bed, version):
    site = bed.sites[0]
    host = site.hosts[0]
    force_version(host, version if version != 3 else 0)
    group = f"239.1.1.{version}"
    m = Member(host, group)
    row = tb.wait_until(lambda: learned(site, group), 10, what=f"{group} learned")
    assert row["role"] == "receiver" and row["mode"] == "exclude"
    assert tb.wait_until(lambda: learned(site, group)["version"] == version, 10,
                         what=f"compat version {version}")
    assert igmp(site)["rx"][f"v{version}_report"] >= 1
    m.leave()


def test_two_hosts_then_both_leave(bed):
    site = bed.sites[0]
    a, b = site.hosts
    group = "239.2.2.2"
    ma, mb = Member(a, group), Member(b, group)
    tb.wait_until(lambda: learned(site, group) and learned(site, group)["hosts"] == 2, 10,
                  what="two hosts tracked")
    ma.leave()
    # The group-specific queries go out and b answers: after several LMQTs still a member.
    tb.wait_until(lambda: learned(site, group)["hosts"] == 1, 10, what="a removed")
    time.sleep(3)  # 3 x LMQT: a wrong removal would have happened by now
    assert learned(site, group) is not None
    queries = igmp(site)["tx_queries"]
    mb.leave()
    tb.wait_until(lambda: learned(site, group) is None, 10, what="group removed")
    assert igmp(site)["tx_queries"] > queries  # removed through last member queries


def test_silent_host_expires(bed):
    site = bed.sites[0]
    host = site.hosts[0]
    group = "239.3.3.3"
    m = Member(host, group)
    tb.wait_until(lambda: learned(site, group), 10, what="joined")
    # The host vanishes: its bridge port goes down, so its leave never arrives.
    site.ns.run(["ip", "link", "set", f"h{host.letter}", "down"])
    m.leave()
    tb.wait_until(lambda: learned(site, group) is None, 30, what="expiry after GMI")


def test_ssm_join_reports_sources(bed):
    site = bed.sites[0]
    host = site.hosts[0]
    group, source = "232.1.1.1", "10.9.9.9"
    m = Member(host, group, source)

    def rows():
        return [r for r in members(site) if r["group"] == group and r["origin"] == "learned"]

    tb.wait_until(lambda: any(r["source"] == source for r in rows()), 10, what="SSM source")
    assert [r["mode"] for r in rows() if r["source"] == "*"] == ["include"]
    m.leave()
    tb.wait_until(lambda: not rows(), 10, what="SSM leave")


def test_lower_querier_silences_ed(bed):
    site = bed.sites[0]
    host = site.hosts[1]
    assert igmp(site)["querier"] is True
    other = f"192.168.{site.index}.0"  # the only address below the ED's .1
    q = host.ns.popen([tb.PY, "-c", QUERIER, other, "6"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.PIPE, text=True, start_new_session=True)
    bed._children.append(q)
    st = tb.wait_until(lambda: (lambda s: s if s["querier"] is False else None)(igmp(site)), 10,
                       what="ED non-querier")
    assert st["querier_address"] == other
    sent = st["tx_queries"]
    q.wait(30)
    assert q.returncode == 0, q.stderr.read()
    # After the other querier present interval the ED takes over again.
    tb.wait_until(lambda: igmp(site)["querier"] is True, 30, what="ED querier again")
    assert tb.wait_until(lambda: igmp(site)["tx_queries"] > sent, 10, what="queries resume")


def test_sender_discovery_and_expiry(bed):
    site = bed.sites[0]
    host = site.hosts[0]
    group = "239.5.5.5"

    def sender():
        return [r for r in members(site) if r["group"] == group and r["role"] == "sender"]

    host.mcast_send(group, 5000, [b"x" * 100] * 10, ttl=8, interval=0.1)
    rows = tb.wait_until(sender, 10, what="site is a sender")
    assert rows[0]["origin"] == "discovered"
    assert any(r["source"] == host.addr for r in rows)
    tb.wait_until(lambda: not sender(), 20, what="sender role expired")


def test_announce(bed):
    site = bed.sites[0]
    tb.vprnctl(site.ctl, "ed", "announce", "--group", "239.6.6.6", "--role", "receiver",
               "--ttl", "2")
    rows = [r for r in members(site) if r["group"] == "239.6.6.6"]
    assert rows and rows[0]["origin"] == "announced"
    tb.wait_until(lambda: not [r for r in members(site) if r["group"] == "239.6.6.6"], 10,
                  what="announcement expired")
