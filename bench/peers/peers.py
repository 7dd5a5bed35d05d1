"""The peers of vprn's traffic benchmark, built and run at bench time.

Each function runs one measurement and returns plain dicts (JSON-ready):
- ipsec_secgw(): DPDK's examples/ipsec-secgw, AES-GCM-128 tunnel, one SA,
  LAN memif -> encrypt -> WAN memif, driven by vprn-bench (zero-loss search,
  maximum, latency at 50 %); the ESP output is counted by SPI/sequence.
- testpmd_io(): dpdk-testpmd io forwarding between two memif ports, no
  crypto: the I/O ceiling of the same ports and core budget.
- crypto_perf(): dpdk-test-crypto-perf, AES-GCM-128 encrypt on the
  crypto_ipsec_mb (aesni_mb) vdev: the cipher ceiling.
- generator_ring(): vprn-bench alone over an in-process ring (what the
  generator itself can do: the upper bound of any figure measured with it).

Core budget on a 2-core machine: the peer's worker on lcore 1, vprn-bench on
lcore 0. Memory: Env.mem (hugemem.Memory): the hugepages scripts/bench
reserved (memif clients zero-copy), else --no-huge (memif copy mode); the
same for vprn-ed's scenarios of the same run.
"""
import json
import os
import signal
import statistics
import subprocess
import time
import uuid

from hugemem import Memory

HERE = os.path.dirname(os.path.abspath(__file__))
EAL_COMMON = ["--no-pci", "--log-level=lib.*:error"]


class Env:
    def __init__(self, build, runs=3, trial=1.0, steps=6, log=print, deadline=None, mem=None):
        self.build = os.path.abspath(build)
        self.peers = os.path.join(self.build, "peers")
        self.work = os.path.join(self.peers, "run")
        self.bench = os.path.join(self.build, "bench", "gen", "vprn-bench")
        self.runs = runs
        self.trial = trial
        self.steps = steps
        self.log = log
        # Time budget (time.time() values): past `soft`, one run per figure
        # instead of the median of `runs`; past `hard`, figures are skipped.
        self.soft, self.hard = deadline if deadline else (None, None)
        self.mem = mem or Memory(self.work, False)
        os.makedirs(self.work, exist_ok=True)


def prefix(tag):
    return f"--file-prefix=vb{tag}{uuid.uuid4().hex[:6]}"


def memif(i, sock, role, env=None):
    zc = env.mem.zero_copy if env is not None and role == "client" else ""
    return f"--vdev=net_memif{i},role={role},socket={sock},socket-abstract=no{zc}"


def file_prefix(cmd):
    return next((a.split("=", 1)[1] for a in cmd if a.startswith("--file-prefix=")), None)


def cleanup(env, cmd):
    """Hugepage files and the runtime folder of a finished DPDK process."""
    fp = file_prefix(cmd)
    if fp:
        env.mem.cleanup(fp)
        subprocess.run(["rm", "-rf", f"/var/run/dpdk/{fp}"], capture_output=True)


def frame_to_ip(size):
    """Inner IPv4 length of an Ethernet frame of `size` bytes with FCS."""
    return size - 18


def esp_plaintext(size):
    """ESP payload encrypted for a frame: inner IPv4 + pad length + next header, 4-aligned."""
    n = frame_to_ip(size) + 2
    return (n + 3) // 4 * 4


def start_peer(env, name, cmd, socks, timeout=30):
    """Start a peer (memif servers) and wait for its sockets; returns the Popen."""
    for s in socks:
        if os.path.exists(s):
            os.unlink(s)
    log = open(os.path.join(env.work, name + ".log"), "w")
    env.log(f"  $ {' '.join(cmd)}")
    p = subprocess.Popen(["stdbuf", "-oL"] + cmd, stdout=log, stderr=subprocess.STDOUT,
                         start_new_session=True)
    p.dpdk_cmd = cmd
    deadline = time.time() + timeout
    while time.time() < deadline:
        if all(os.path.exists(s) for s in socks):
            return p
        if p.poll() is not None:
            cleanup(env, cmd)
            raise RuntimeError(f"{name} exited with {p.returncode}, see {log.name}")
        time.sleep(0.1)
    stop_peer(p, env)
    raise RuntimeError(f"{name}: memif sockets not created in {timeout} s, see {log.name}")


def stop_peer(p, env=None):
    if p.poll() is None:
        p.send_signal(signal.SIGINT)
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    if env is not None:
        cleanup(env, p.dpdk_cmd)


def run_bench(env, tag, eal_extra, args, timeout=300):
    """Run vprn-bench (EAL args + app args) with --json; returns the document."""
    out = os.path.join(env.work, f"{tag}-{uuid.uuid4().hex[:6]}.json")
    cmd = [env.bench, "-l", "0"] + env.mem.eal(256) + [prefix("b")] + EAL_COMMON + \
        eal_extra + ["--"] + args + ["--quiet", "--json", out]
    env.log(f"  $ {' '.join(cmd)}")
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    finally:
        cleanup(env, cmd)
    if r.returncode != 0:
        raise RuntimeError(f"vprn-bench failed ({r.returncode}): {r.stderr[-2000:]}")
    with open(out) as f:
        return json.load(f)


def search_args(env, size):
    return ["--size", str(size), "--search", "0.01", "--trial", str(env.trial),
            "--search-steps", str(env.steps)]


def summarize(docs):
    """Median over runs of the figures of a vprn-bench --search document."""
    def med(f):
        vals = [f(d) for d in docs]
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    def lat(d, k):
        lt = d["search"].get("latency")
        return lt["latency_ns"][k] / 1e3 if lt and lt["latency_ns"]["count"] else None

    return {
        "zero_loss_mpps": med(lambda d: d["search"]["zero_loss_pps"] / 1e6),
        "zero_loss_gbps": med(lambda d: d["search"]["zero_loss_gbps"]),
        "max_mpps": med(lambda d: d["search"]["max_pps"] / 1e6),
        "max_gbps": med(lambda d: d["search"]["max_gbps"]),
        "lat_p50_us": med(lambda d: lat(d, "p50")),
        "lat_p99_us": med(lambda d: lat(d, "p99")),
        "lat_p999_us": med(lambda d: lat(d, "p999")),
        "runs": [d["search"] for d in docs],
    }


def runs_left(env):
    """Runs to do for the next figure, given the time budget."""
    now = time.time()
    if env.hard is not None and now > env.hard:
        raise RuntimeError("skipped: time budget of make bench spent")
    if env.soft is not None and now > env.soft:
        return 1
    return env.runs


def _peer_search(env, name, peer_cmd, socks, size, bench_extra):
    """One peer process per run: ipsec-secgw does not survive a memif client leaving."""
    docs = []
    for _ in range(runs_left(env)):
        p = start_peer(env, name, peer_cmd, socks)
        try:
            docs.append(run_bench(env, f"{name}-{size}",
                                  [memif(0, socks[0], "client", env),
                                   memif(1, socks[1], "client", env)],
                                  ["--tx", "0", "--rx", "1", "--delay", "1"] + bench_extra +
                                  search_args(env, size)))
        finally:
            stop_peer(p, env)
    return summarize(docs)


def build_ipsec_secgw(env):
    r = subprocess.run([os.path.join(HERE, "build-ipsec-secgw"), env.build],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip()[-1000:])
    return os.path.join(env.peers, "ipsec-secgw")


def ipsec_secgw(env, size):
    exe = build_ipsec_secgw(env)
    socks = [os.path.join(env.work, f"sgw{i}.sock") for i in range(2)]
    cmd = [exe, "-l", "0,1"] + env.mem.eal(1024) + [prefix("s")] + EAL_COMMON + \
        [memif(0, socks[0], "server"), memif(1, socks[1], "server"), "--vdev=crypto_aesni_mb0",
         "--", "-p", "0x3", "-P", "-u", "0x2", "--config", "(0,0,1),(1,0,1)",
         "-f", os.path.join(HERE, "ipsec-secgw.cfg")]
    # ipsec-secgw transmits on queue 1 from lcore 1: vprn-bench polls two RX queues.
    return _peer_search(env, "ipsec-secgw", cmd, socks, size,
                        ["--rxq", "2", "--group", "192.168.2.10", "--dst-mac",
                         "02:00:00:00:00:01"])


def testpmd_io(env, size):
    socks = [os.path.join(env.work, f"tpm{i}.sock") for i in range(2)]
    cmd = ["dpdk-testpmd", "-l", "0,1"] + env.mem.eal(512) + [prefix("t")] + EAL_COMMON + \
        [memif(0, socks[0], "server"), memif(1, socks[1], "server"),
         "--", "--forward-mode=io", "--auto-start", "--stats-period", "10", "--nb-cores=1",
         "--total-num-mbufs=16384"]
    return _peer_search(env, "testpmd-io", cmd, socks, size, [])


def generator_ring(env, size):
    """One run: a bound of the generator, not a figure compared with anything."""
    runs_left(env)
    return summarize([run_bench(env, f"ring-{size}", ["--vdev=net_ring0"],
                                ["--tx", "0", "--rx", "0"] + search_args(env, size))])


IMIX = [(64, 7), (594, 4), (1420, 1)]  # vprn-bench --size imix


def crypto_perf(env, sizes, ops=500000, rounds=5):
    """Cipher ceiling: {size: {mpps, gbps_plain, cycles, buffer}}, best of `rounds` runs.

    A ceiling is the best the cipher can do: on a shared machine the best of
    several short runs (like vprn-bench-esp's best of rounds) is the figure
    least disturbed by other processes.

    "imix" in sizes: measured at the IMIX sizes and combined (mean time per packet).
    """
    num = sorted({int(s) for s in sizes if str(s).isdigit()} |
                 ({s for s, _ in IMIX} if "imix" in sizes else set()))
    bufs = {size: esp_plaintext(size) for size in num}
    cmd = ["dpdk-test-crypto-perf", "-l", "0,1"] + env.mem.eal(512) + [prefix("c")] + \
        EAL_COMMON + \
        ["--vdev=crypto_aesni_mb0", "--", "--ptest", "throughput", "--devtype",
         "crypto_aesni_mb", "--optype", "aead", "--aead-algo", "aes-gcm", "--aead-op",
         "encrypt", "--aead-key-sz", "16", "--aead-iv-sz", "12", "--aead-aad-sz", "8",
         "--digest-sz", "16", "--total-ops", str(ops), "--burst-sz", "32", "--buffer-sz",
         ",".join(str(b) for b in bufs.values()), "--csv-friendly", "--silent"]
    per = {b: [] for b in bufs.values()}
    for _ in range(max(rounds, env.runs)):
        env.log(f"  $ {' '.join(cmd)}")
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        finally:
            cleanup(env, cmd)
        if r.returncode != 0:
            raise RuntimeError(f"dpdk-test-crypto-perf failed: {r.stdout[-1000:]}{r.stderr[-1000:]}")
        for line in r.stdout.splitlines():
            f = line.split(",")
            if len(f) == 10 and f[0].strip().isdigit():
                per[int(f[1])].append((float(f[7]), float(f[8]), float(f[9])))
    out = {}
    for size, b in bufs.items():
        rows = per[b]
        if not rows:
            continue
        best = max(rows, key=lambda r: r[0])
        out[str(size)] = {"buffer": b, "mpps": best[0], "gbps_plain": best[1],
                          "gbps_frames": best[0] * size * 8 / 1e3, "cycles": best[2]}
    if "imix" in sizes and all(str(s) in out for s, _ in IMIX):
        w = sum(n for _, n in IMIX)
        us = sum(n / out[str(s)]["mpps"] for s, n in IMIX) / w  # mean microseconds per packet
        avg = sum(s * n for s, n in IMIX) / w
        out["imix"] = {"buffer": "imix", "mpps": 1 / us, "gbps_plain": None,
                       "gbps_frames": avg * 8 / us / 1e3,
                       "cycles": sum(out[str(s)]["cycles"] * n for s, n in IMIX) / w}
    for s in [str(s) for s, _ in IMIX]:
        if s not in [str(x) for x in sizes]:
            out.pop(s, None)
    return out
