"""Functional tests of vprn-bench (bench/gen): counts, not timing.

A generator->receiver loop over one in-process net_ring port (what is sent
comes back on the same port), and a memif pair between two vprn-bench
processes (copy mode, --no-huge). They assert what the receiver counted:
N sent = N received, no loss or duplicate, and that injected drops,
duplicates and reordering are each detected exactly once.
"""
import json
import os
import subprocess
import time
import uuid

import pytest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VPRN_BUILD", os.path.join(SRC, "build"))
BENCH = os.path.join(BUILD, "bench", "gen", "vprn-bench")

pytestmark = pytest.mark.skipif(not os.access(BENCH, os.X_OK),
                                reason=f"{BENCH} not built")


def eal(lcores, *vdevs):
    args = [BENCH, f"-l{lcores}", "--no-huge", "--no-pci", "-m", "256",
            f"--file-prefix=vbt-{uuid.uuid4().hex[:8]}", "--log-level=lib.*:error"]
    return args + [f"--vdev={v}" for v in vdevs] + ["--"]


def run_json(tmp_path, args, name="out.json", timeout=60):
    out = tmp_path / name
    r = subprocess.run(args + ["--quiet", "--json", str(out)], capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "vprn-bench configuration:" in r.stdout  # configuration printed first
    return json.loads(out.read_text()), r.stdout


@pytest.mark.parametrize("lcores", ["0", "0,1"])
def test_ring_loop_counts(tmp_path, lcores):
    n = 60000
    doc, _ = run_json(tmp_path, eal(lcores, "net_ring0") + [
        "--tx", "net_ring0", "--rx", "0", "--count", str(n), "--n-src", "2", "--n-groups", "3",
        "--size", "imix", "--rate", "2M"])
    t = doc["totals"]
    assert t["sent"] == n
    assert t["expected"] == n
    assert t["received"] == n
    assert t["unique"] == n
    assert (t["lost"], t["dup"], t["reordered"], t["foreign"]) == (0, 0, 0, 0)
    assert len(doc["flows"]) == 6
    for f in doc["flows"]:
        assert f["expected"] == f["received"] == n // 6
    trial = doc["trials"][0]
    assert trial["tx_pkts"] == trial["rx_pkts"] == n
    assert trial["latency_ns"]["count"] == n
    # IMIX 64:7,594:4,1420:1 spread evenly: the byte count is exact.
    assert trial["tx_bytes"] == n // 12 * (7 * 64 + 4 * 594 + 1420)
    port = doc["ports"][0]
    assert port["opackets"] == n and port["ipackets"] == n


def test_injected_faults_detected(tmp_path):
    n = 10000
    doc, out = run_json(tmp_path, eal("0", "net_ring0") + [
        "--tx", "0", "--rx", "0", "--count", str(n),
        "--inject", "drop:100", "--inject", "dup:200", "--inject", "swap:300",
        "--inject", "drop:5000"])
    t = doc["totals"]
    assert t["sent"] == n               # --count counts packets on the wire
    assert t["expected"] == n + 2 - 1   # sequence numbers issued: 2 skipped, 1 sent twice
    assert t["received"] == n
    assert t["unique"] == n - 1
    assert t["lost"] == 2
    assert t["dup"] == 1
    assert t["reordered"] == 1
    assert "lost 2, dup 1, reordered 1" in out


def test_no_fault_means_no_report(tmp_path):
    """The same run without --inject: a detector that always fires would fail here."""
    doc, _ = run_json(tmp_path, eal("0", "net_ring0") + ["--tx", "0", "--rx", "0",
                                                        "--count", "10000"])
    t = doc["totals"]
    assert (t["lost"], t["dup"], t["reordered"]) == (0, 0, 0)


def test_search_on_lossless_loop(tmp_path):
    doc, _ = run_json(tmp_path, eal("0", "net_ring0") + [
        "--tx", "0", "--rx", "0", "--search", "0.01", "--trial", "0.2", "--search-steps", "2"])
    s = doc["search"]
    assert s["max_pps"] > 0
    assert s["zero_loss_pps"] == s["max_pps"]  # a ring loses nothing: the maximum passes
    kinds = [t["kind"] for t in doc["trials"]]
    assert kinds == ["max", "latency"]
    assert s["latency"]["latency_ns"]["count"] > 0
    assert doc["totals"]["lost"] == 0


def test_memif_pair_two_processes(tmp_path):
    n = 50000
    sock = str(tmp_path / "memif.sock")
    dev = f"net_memif0,socket={sock},socket-abstract=no"
    sender = subprocess.Popen(
        eal("0", dev + ",role=server") + ["--tx", "0", "--count", str(n), "--n-groups", "4",
                                          "--rate", "500k", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for _ in range(100):  # the client connects to the server's socket
            if os.path.exists(sock):
                break
            time.sleep(0.05)
        doc, _ = run_json(tmp_path, eal("1", dev + ",role=client") + [
            "--rx", "0", "--duration", "3", "--drain-ms", "500"], name="rx.json")
        out, _ = sender.communicate(timeout=30)
    finally:
        sender.kill()
    assert sender.returncode == 0, out
    assert "sent 50000" in out
    t = doc["totals"]
    assert t["received"] == n
    assert t["unique"] == n
    assert (t["lost"], t["dup"], t["reordered"]) == (0, 0, 0)
    assert [f["received"] for f in doc["flows"]] == [n // 4] * 4


def test_bad_options_refused():
    for bad in (["--size", "60"], ["--rate", "-1"], ["--inject", "bogus:1"], ["--tx"],
                ["--n-groups", "0"], []):
        r = subprocess.run(eal("0", "net_ring0") + bad, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0, bad
