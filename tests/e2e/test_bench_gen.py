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
    # The sender lingers (drain) until the receiver has stopped: DPDK 22.11's
    # memif PMD unmaps the regions when the peer disconnects, under a running
    # rx burst (seen as a SIGSEGV in the receiver), so the receiver goes first.
    sender = subprocess.Popen(
        eal("0", dev + ",role=server") + ["--tx", "0", "--count", str(n), "--n-groups", "4",
                                          "--rate", "500k", "--drain-ms", "6000", "--quiet"],
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
                ["--tx", "0", "--esp", "0x1005:00:1.2.3.4:5.6.7.8"],
                ["--n-groups", "0"], []):
        r = subprocess.run(eal("0", "net_ring0") + bad, capture_output=True, text=True,
                           timeout=30)
        assert r.returncode != 0, bad


ESP_KEY = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef"  # RFC 4106 keying material: key + salt
ESP_SPEC = f"0x1005:{ESP_KEY}:10.100.2.2:10.100.1.2"


def test_esp_generation_counted_by_spi(tmp_path):
    n = 20000
    doc, out = run_json(tmp_path, eal("0", "net_ring0") + [
        "--tx", "0", "--rx", "0", "--count", str(n), "--esp", ESP_SPEC,
        "--dst-mac", "02:00:00:00:00:02"])
    assert ESP_KEY not in out and ESP_KEY[:16] not in out  # key material never printed
    assert doc["totals"]["sent"] == n and doc["totals"]["esp_refused"] == 0
    assert doc["esp_flows"] == [{"port": "0", "dst": "10.100.1.2", "spi": 0x1005,
                                 "received": n, "unique": n, "gaps": 0, "dup": 0,
                                 "reordered": 0}]


def test_esp_output_decrypts_with_scapy(tmp_path):
    """An independent ESP implementation (scapy) decrypts what --esp sends."""
    from scapy.all import IP, UDP, rdpcap
    from scapy.layers.ipsec import ESP, SecurityAssociation
    import struct

    pcap = tmp_path / "esp.pcap"
    r = subprocess.run(eal("0", f"net_pcap0,tx_pcap={pcap}") + [
        "--tx", "0", "--count", "5", "--n-groups", "2", "--esp", ESP_SPEC,
        "--dst-mac", "02:00:00:00:00:02", "--link-wait", "0", "--quiet"],
        capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    sa = SecurityAssociation(ESP, spi=0x1005, crypt_algo="AES-GCM",
                             crypt_key=bytes.fromhex(ESP_KEY),
                             tunnel_header=IP(src="10.100.2.2", dst="10.100.1.2"))
    pkts = rdpcap(str(pcap))
    assert len(pkts) == 5
    seen = []
    for i, p in enumerate(pkts):
        raw = bytes(p[IP])
        outer = IP(raw)
        assert (outer.src, outer.dst, outer.proto) == ("10.100.2.2", "10.100.1.2", 50)
        assert struct.unpack("!II", raw[20:28]) == (0x1005, i + 1)  # SPI, ESP sequence
        inner = sa.decrypt(outer)
        magic, flow, seq, _tsc = struct.unpack("<HHIQ", bytes(inner[UDP].payload)[:16])
        assert magic == 0xBE4C
        seen.append((inner.src, inner.dst, flow, seq))
    assert seen == [("192.168.1.10", "239.1.1.1", 0, 0), ("192.168.1.10", "239.1.1.2", 1, 0),
                    ("192.168.1.10", "239.1.1.1", 0, 1), ("192.168.1.10", "239.1.1.2", 1, 1),
                    ("192.168.1.10", "239.1.1.1", 0, 2)]
