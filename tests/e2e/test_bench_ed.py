"""vprn-ed over net_memif, driven by vprn-bench in another process (bench/ed/ed-memif).

The rig of the benchmark, tiny and without hugepages (memif copy mode): a
real vprn-ed (site hq, one worker) with memif LAN/WAN ports, a real
vprn-vnoc on loopback, the remote sites simulated by vprn-sim-sites, and
vprn-bench as the memif client of both ports (it answers the ED's ARP for
its gateway). Asserts what arrives, never how fast:
- LAN->WAN, group SA, fanout 2: every packet leaves as one ESP copy per
  receiving site (per destination, the SA's SPI, every sequence number once);
- WAN->LAN, pairwise SA: ESP made with the key the VNOC handed out
  (`vprnctl vnoc sas --export-keys`) comes out of the LAN port decrypted:
  every stamped packet once, in order, at its original frame size.
"""
import importlib.machinery
import importlib.util
import os

import pytest

import testbed as tb
from conftest import need

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ED_MEMIF = os.path.join(SRC, "bench", "ed", "ed-memif")
N = 2000


def load_ed_memif():
    loader = importlib.machinery.SourceFileLoader("ed_memif", ED_MEMIF)
    spec = importlib.util.spec_from_loader("ed_memif", loader)
    mod = importlib.util.module_from_spec(spec)
    loader.exec_module(mod)
    return mod


class Args:
    build = tb.BUILD
    ed_lcores = "0,1"
    bench_lcores = "0"


@pytest.fixture
def scenario(tmp_path):
    need("vprn-ed", "vprn-vnoc", "vprnctl", "vprn-sim-sites", "vprn-bench")
    edm = load_ed_memif()
    made = []

    def make(name):
        sc = edm.Scenario(tb, Args(), edm.Memory(str(tmp_path), False), str(tmp_path), name)
        sc.warm = ["--size", "64", "--rate", "1000", "--duration", "0.5"]
        sc.restarts = []  # vprn-ed restarted after a memif PMD crash (DPDK 22.11, see ed-memif)
        made.append(sc)
        sc.start(sc.restarts)
        return sc

    yield make
    for sc in made:
        sc.down()


def test_lan2wan_group_fanout2_one_copy_per_receiver(scenario):
    sc = scenario("lan2wan-group-f2")
    d = sc.bench_retry(["--size", "128", "--rate", "2000", "--count", str(N)], "run", sc.restarts)
    t = d["trials"][-1]
    assert t["tx_pkts"] == N
    flows = [f for f in d["esp_flows"] if f["received"]]
    # one flow per receiving site, all with the group SA's SPI
    assert sorted(f["dst"] for f in flows) == ["10.100.2.2", "10.100.3.2"]
    assert len({f["spi"] for f in flows}) == 1
    for f in flows:
        assert (f["received"], f["unique"], f["dup"]) == (N, N, 0), f
    assert t["rx_unique"] == 2 * N and t["lost"] == 0
    assert d["totals"]["foreign"] == 0  # only ESP came out of the WAN port (ARP answered)
    stats = sc.rig.vprnctl(sc.rig.ed_ctl, "ed", "stats")
    assert stats["wan_tx"] >= 2 * N
    # ed-memif turns dataplane.stage_cycles on: one encryption per input packet
    # (group SA), one header mbuf per receiver, every stage's cycles counted
    st = stats["stages"]
    assert st["enabled"] is True
    assert st["crypto"]["packets"] >= N and st["replicate"]["packets"] >= 2 * N
    assert st["total"]["packets"] >= N and st["tx"]["packets"] >= 2 * N
    for name in ("rx", "parse", "crypto", "replicate", "tx", "total"):
        assert st[name]["cycles"] > 0 and st[name]["cycles_per_packet"] > 0, (name, st)


def test_wan2lan_pairwise_decrypted_no_loss(scenario):
    sc = scenario("wan2lan-pairwise")
    size = 200
    d = sc.bench_retry(["--size", str(size), "--rate", "2000", "--count", str(N)], "run",
                       sc.restarts)
    t = d["trials"][-1]
    assert t["tx_pkts"] == N
    tot = d["totals"]
    assert (tot["unique"], tot["lost"], tot["dup"], tot["reordered"]) == (N, 0, 0, 0), tot
    assert tot["foreign"] == 0
    # the inner frame comes back at its original size (FCS counted): decrypted, not ESP
    assert t["rx_bytes"] == N * size
    assert t["tx_bytes"] > N * size  # what went in was ESP
    assert t["latency_ns"]["count"] == N  # every stamp read back after decryption
    assert not d["esp_flows"] or all(f["received"] == 0 for f in d["esp_flows"])
