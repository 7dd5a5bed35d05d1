"""The testbed itself: topology, host helpers, and teardown that leaves nothing
behind (normal end, SIGINT, SIGTERM, and a SIGKILLed run cleaned by the next)."""
import os
import signal
import subprocess

import pytest

import testbed as tb

HERE = os.path.dirname(os.path.abspath(__file__))

CHILD = r"""
import signal, sys, time
sys.path.insert(0, sys.argv[1])
import testbed as tb
# A run started in the background inherits SIGINT ignored: take it back.
signal.signal(signal.SIGINT, signal.default_int_handler)
tb.install_signal_handlers()
bed = tb.Testbed(n_sites=2, hosts_per_site=1).build()
bed.start_wanem()
print(bed.prefix, bed.wanem.pid, flush=True)
try:
    while True:
        time.sleep(1)
finally:
    bed.teardown()
"""


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie of an exited child counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def test_topology_and_lan_multicast(make_testbed):
    bed = make_testbed(n_sites=2, hosts_per_site=2)
    names = set(tb._list_netns())
    for ns in [bed.vnoc_ns, bed.wan_ns] + [s.ns for s in bed.sites] + \
            [h.ns for s in bed.sites for h in s.hosts]:
        assert ns.name in names and len(ns.name) <= 15
    s1 = bed.sites[0]
    a, b = s1.hosts
    assert a.addr == "192.168.1.10" and b.addr == "192.168.1.11"
    # Management network: every site reaches the VNOC's address.
    for s in bed.sites:
        assert tb.ping(s.ns, tb.VNOC_ADDR, 1) == 1
    # Two hosts on the same site LAN: multicast floods through br0 (no snooping).
    rx = b.mcast_receiver("239.1.2.3", 5000, count=5)
    sent = [bytes([i]) * (100 + i) for i in range(5)]
    a.mcast_send("239.1.2.3", 5000, sent, ttl=1)
    got = rx.wait_for(5)
    rx.stop()
    assert [g[1] for g in got] == sent and all(g[0] == a.addr for g in got)
    # Nothing crosses to the other site without EDs.
    other = bed.sites[1].hosts[0].mcast_receiver("239.1.2.3", 5000, count=1, timeout=1)
    a.mcast_send("239.1.2.3", 5000, [b"x"], ttl=8)
    assert other.stop() == []


def test_teardown_removes_everything(make_testbed):
    bed = make_testbed(n_sites=2, hosts_per_site=1)
    bed.start_wanem()
    rx = bed.sites[0].hosts[0].mcast_receiver("239.9.9.9", 6000)
    pids = [bed.wanem.pid, rx.proc.pid]
    bed.teardown()
    assert tb.leftovers(bed.prefix) == []
    assert not any(pid_alive(p) for p in pids)
    assert not os.path.exists(bed.workdir)
    bed.teardown()  # idempotent


@pytest.fixture
def child_bed():
    """A testbed owned by a child process; killed (and cleaned) whatever happens."""
    p = subprocess.Popen([tb.PY, "-c", CHILD, HERE], stdout=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline().split()
        assert len(line) == 2, "child testbed did not start"
        yield p, line[0], int(line[1])
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()
        tb.cleanup_stale()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_cleans_up(child_bed, sig):
    p, prefix, wanem_pid = child_bed
    assert tb.leftovers(prefix)
    p.send_signal(sig)
    p.wait(60)
    assert tb.leftovers(prefix) == []
    assert not pid_alive(wanem_pid)


def test_killed_run_is_cleaned_by_the_next(child_bed):
    p, prefix, wanem_pid = child_bed
    p.kill()
    p.wait()
    assert tb.leftovers(prefix)  # SIGKILL: nothing could run
    tb.cleanup_stale()
    assert tb.leftovers(prefix) == []
    assert not pid_alive(wanem_pid)
    assert not os.path.exists(f"/tmp/vprn-e2e-{prefix}")
