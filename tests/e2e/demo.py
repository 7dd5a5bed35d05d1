#!/usr/bin/python3
"""vprn demo: secure multicast across a 6-site VPN on one machine (docs/testbed.md).

Builds the namespaces (VNOC, WAN emulator with a distinct one-way delay per
pair of sites, one ED per site: hq + br1..br5), starts the daemons, then:
  - hosts at br1..br4 join 239.1.1.1 with ordinary Linux sockets (kernel
    IGMP); br5 has no receiver, a raw sniffer watches its LAN;
  - a host at hq sends a short warm-up so the EDs discover the source, and
    the solved tree is shown (`vprnctl vnoc tree 239.1.1.1`);
  - the hq host streams a synthetic feed (numbered, checksummed datagrams at
    a steady rate); a line per second shows received/expected and the rate
    per site;
  - a verdict per site: every datagram exactly once and intact, and the
    SHA-256 of what arrived (in order) equals that of what was sent; br5's
    LAN saw nothing. Exit status 0 only when every verdict is OK.
Logs and configs are copied to build/demo-logs/ before the teardown, which
also runs on Ctrl-C. --keep waits for Enter before tearing down.
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testbed as tb  # noqa: E402
# The end-to-end multicast test's helpers: datagram format, warm-up, sender, sniffer.
from test_multicast import (GROUP, MARK, MEMBERSHIP, Sniffer, Stream,  # noqa: E402
                            check_datagram, datagram, warm_up)

SITES = ["hq", "br1", "br2", "br3", "br4", "br5"]
RECEIVING = ["br1", "br2", "br3", "br4"]
IDLE = ["br5"]  # no receiver: its LAN must see nothing
# One-way WAN delays (ms), the same both ways; distinct so the solver has a choice.
DELAY_MS = {("hq", "br1"): 5, ("hq", "br2"): 30, ("hq", "br3"): 18, ("hq", "br4"): 45,
            ("hq", "br5"): 25, ("br1", "br2"): 8, ("br1", "br3"): 22, ("br1", "br4"): 35,
            ("br1", "br5"): 28, ("br2", "br3"): 12, ("br2", "br4"): 15, ("br2", "br5"): 40,
            ("br3", "br4"): 26, ("br3", "br5"): 10, ("br4", "br5"): 32}
DELAYS = [f"{a},{b},{ms}" for (a, b), ms in DELAY_MS.items()] + \
         [f"{b},{a},{ms}" for (a, b), ms in DELAY_MS.items()]
PORT = 5001
COUNT = 500       # datagrams in the feed
INTERVAL = 0.02   # 50 datagrams/s
LOG_DIR = os.path.join(tb.REPO, "build", "demo-logs")
T0 = time.monotonic()


def say(text):
    print(f"[{time.monotonic() - T0:5.1f}s] {text}", flush=True)


def banner(text):
    print(f"\n=== {text}", flush=True)


def show(cmd):
    print("$ " + " ".join(os.path.basename(c) if i == 0 else c for i, c in enumerate(cmd)),
          flush=True)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    sys.stdout.write(r.stdout)
    if r.returncode != 0:
        sys.stdout.write(r.stderr)
    sys.stdout.flush()


def vnoc_conf(bed):
    conf = bed.vnoc_config()
    vpn = conf["vpns"][0]
    for s in vpn["sites"]:
        if s["name"] == "hq":
            s["max_degree"] = 2  # hq sends at most two copies: branches relay the rest
    vpn["groups"] = [{
        "name": "feed", "ranges": ["239.1.0.0/16"], "senders": ["hq"], "receivers": SITES,
        "tree": "shared", "sa_mode": "pairwise", "transform": "aes-gcm-256",
    }]
    return conf


def wait_metrics(bed, timeout=20):
    """The VNOC's site-to-site RTT matrix ({(from, to): entry}), once every pair is
    measured by the EDs' probes; returns early when nothing is measured at all after
    a few seconds (EDs without delay probes: the solver uses its default RTT)."""
    t0 = time.monotonic()
    while True:
        m = {(e["from"], e["to"]): e for e in tb.vprnctl(bed.vnoc_ctl, "vnoc", "metrics")}
        n = sum(e["source"] == "measured" for e in m.values())
        waited = time.monotonic() - t0
        if n == len(m) or waited > timeout or (n == 0 and waited > 3):
            return m
        time.sleep(0.5)


def print_metrics(metrics):
    if not any(e["source"] == "measured" for e in metrics.values()):
        rtt = {e["rtt_us"] for e in metrics.values()}
        print(f"  no site-to-site RTT measured: these EDs send no delay probes yet (see "
              f"README), so the solver\n  uses its default RTT ({', '.join(f'{r / 1000:.0f}' for r in rtt)} ms) "
              "for every pair and the WAN delays do not shape the tree", flush=True)
        return
    print("  RTT (ms) measured by the EDs' probes, row -> column:", flush=True)
    print("  " + " " * 5 + "".join(f"{b:>7}" for b in SITES), flush=True)
    for a in SITES:
        cells = []
        for b in SITES:
            e = metrics.get((a, b))
            cells.append("      -" if e is None else
                         f"{e['rtt_us'] / 1000:>6.1f}" + ("" if e["source"] == "measured"
                                                         else "?"))
        print(f"  {a:>5}" + "".join(f"{c:>7}" for c in cells), flush=True)


def print_tree(bed, metrics):
    """The tree as an indented drawing from hq (edges from `vprnctl --json vnoc tree`)."""
    t = tb.vprnctl(bed.vnoc_ctl, "vnoc", "tree", GROUP)
    adj = {}
    for a, b in t.get("edges", []):
        adj.setdefault(a, []).append(b)
        adj.setdefault(b, []).append(a)
    roles = {n["site"]: n["role"] for n in t.get("nodes", []) if isinstance(n, dict)}

    def walk(node, parent, prefix, last):
        e = metrics.get((parent, node)) if parent else None
        rtt = ""
        if e and e["source"] == "measured":
            rtt = f", RTT {e['rtt_us'] / 1000:.1f} ms from {parent}"
        elif parent:
            rtt = f", WAN delay {DELAY_MS.get((parent, node), DELAY_MS.get((node, parent)))} ms"
        conn = "" if parent is None else "`-- " if last else "|-- "
        print(f"  {prefix}{conn}{node} ({roles.get(node, 'relay')}{rtt})", flush=True)
        kids = [k for k in adj.get(node, []) if k != parent]
        sub = "" if parent is None else prefix + ("    " if last else "|   ")
        for k in kids:
            walk(k, node, sub, k == kids[-1])
    walk("hq", None, "", True)


def wan_pairs(bed):
    return {(p["src"], p["dst"]): p for p in bed.wanem_stats()["pairs"]}


def print_wan(before, after):
    """What crossed the emulated WAN during the stream, per directed pair of sites."""
    esp = udp = probes = 0
    lines = []
    for k, p in sorted(after.items()):
        b = before.get(k, {})
        d_esp = p.get("fwd_esp", 0) - b.get("fwd_esp", 0)
        d_clear = sum(p.get(f, 0) - b.get(f, 0) for f in ("fwd_udp", "fwd_icmp", "fwd_other"))
        esp += d_esp
        udp += d_clear
        probes += p.get("fwd_probe", 0) - b.get("fwd_probe", 0)
        if d_esp or d_clear:
            lines.append(f"{k[0]}->{k[1]} {d_esp} ESP" + (f" + {d_clear} CLEAR" if d_clear else ""))
    print("  " + ", ".join(lines) if lines else "  nothing", flush=True)
    print(f"  total {esp} ESP packets, {udp} not encrypted; besides, {probes} "
          "authenticated delay probes (HMAC, no user data)", flush=True)
    return udp == 0


def feed_seqs(rx):
    return [check_datagram(d) for _, d in rx.received() if d.startswith(MARK)]


def stream_live(bed, rx):
    """Send the feed from hq's host; a line per second with each site's progress."""
    st = Stream(bed, bed.site("hq").hosts[0], COUNT, INTERVAL)
    print(f"  {'':>5}  {'':>4}  " + "  ".join(f"{n:^17}" for n in RECEIVING), flush=True)
    print(f"  {'time':>5}  {'sent':>4}  " + "  ".join(
        f"{'recv/exp':>9} {'rate':>7}" for n in RECEIVING), flush=True)
    last = {n: 0 for n in RECEIVING}
    t_start = time.monotonic()
    t_prev = t_start
    deadline = None
    while True:
        time.sleep(1.0)
        now = time.monotonic()
        got = {n: len(feed_seqs(r)) for n, r in rx.items()}
        hi = max([s for r in rx.values() for s in feed_seqs(r)], default=-1)
        sent = COUNT if st.done else max(st.last + 1, hi + 1)
        cols = []
        for n in RECEIVING:
            rate = (got[n] - last[n]) / (now - t_prev)
            cols.append(f"{got[n]:>4}/{sent:<4} {rate:>5.0f}/s")
        print(f"  {now - t_start:>4.0f}s  {sent:>4}  " + "  ".join(cols), flush=True)
        last, t_prev = got, now
        if st.done and deadline is None:
            deadline = now + 10  # stragglers: at most 10 s after the last datagram
        if st.done and (all(g >= COUNT for g in got.values()) or now > deadline):
            break
    time.sleep(1.0)  # late duplicates would show up here
    return now - t_start


def verdicts(rx, sniffers):
    sent_digest = hashlib.sha256(b"".join(datagram(i) for i in range(COUNT))).hexdigest()
    print(f"  sent: {COUNT} datagrams from hq, sha256 {sent_digest[:16]}", flush=True)
    ok = True
    for n in RECEIVING:
        data = [d for _, d in rx[n].stop() if d.startswith(MARK)]
        seqs = [check_datagram(d) for d in data]
        bad = seqs.count(-1)
        missing = len(set(range(COUNT)) - set(seqs))
        dups = len(seqs) - len(set(seqs))
        arrived = sorted((s, d) for s, d in zip(seqs, data) if s is not None and s >= 0)
        digest = hashlib.sha256(b"".join(d for _, d in arrived)).hexdigest()
        good = digest == sent_digest and bad == 0 and dups == 0 and missing == 0
        ok &= good
        print(f"  {n:4} {'OK  ' if good else 'FAIL'} received {len(seqs)}/{COUNT}, "
              f"missing {missing}, duplicates {dups}, corrupted {bad}, "
              f"sha256 {digest[:16]} {'==' if digest == sent_digest else '!='} sent",
              flush=True)
    for n, s in sniffers.items():
        c = s.result()
        good = c["marker"] == 0
        ok &= good
        print(f"  {n:4} {'OK  ' if good else 'FAIL'} no receiver: its LAN saw "
              f"{c['marker']} feed datagrams (expected 0)", flush=True)
    return ok


def save_logs(bed):
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    try:
        bed.keep_logs(LOG_DIR)
        for s in bed.sites:
            if s.ed is not None and s.ed.alive():
                tb.write_file(os.path.join(LOG_DIR, f"ed-{s.name}-groups.txt"),
                              tb.vprnctl(s.ctl, "ed", "groups", json_out=False).stdout)
        print(f"logs: {LOG_DIR} (vnoc.log, ed-<site>.log, wanem.log, configs, "
              "state snapshots)", flush=True)
    except Exception as e:
        print(f"logs: could not copy to {LOG_DIR}: {e}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", action="store_true", help="wait for Enter before tearing down")
    ap.add_argument("--log-level", default="info")
    args = ap.parse_args()
    missing = [b for b in ("vprn-vnoc", "vprn-ed", "vprnctl", "vprn-wanem") if not tb.binary(b)]
    if missing:
        print(f"demo: not built: {', '.join(missing)} (run make build)", file=sys.stderr)
        return 1
    tb.install_signal_handlers()
    bed = tb.Testbed(n_sites=len(SITES), hosts_per_site=1, site_names=SITES,
                     log_level=args.log_level)
    vprnctl = tb.binary("vprnctl")
    try:
        banner(f"a {len(SITES)}-site VPN in network namespaces (prefix {bed.prefix}): "
               + ", ".join(SITES))
        bed.build()
        bed.ensure_certs()
        say("namespaces built, throw-away CA and certificates issued")
        bed.start_wanem(delays=DELAYS)
        say("vprn-wanem: one-way delays (ms) " + ", ".join(
            f"{a}-{b} {ms}" for (a, b), ms in DELAY_MS.items()))
        bed.start_vnoc(conf=vnoc_conf(bed))
        say("vprn-vnoc up; group policy 'feed': 239.1.0.0/16, sender hq (max degree 2), "
            "shared tree, pairwise SAs, AES-GCM-256")
        for s in bed.sites:
            conf = bed.ed_config(s)
            conf["membership"] = MEMBERSHIP
            bed.start_ed(s, conf)
        for s in bed.sites:
            bed.wait_ed_up(s, timeout=90)
        bed.wait_sites_connected(timeout=90)
        say(f"all {len(SITES)} EDs registered with the VNOC")
        show([vprnctl, "--socket", bed.vnoc_ctl, "vnoc", "sites"])

        banner(f"hosts join {GROUP} (ordinary sockets) at " + ", ".join(RECEIVING)
               + "; " + ", ".join(IDLE) + " has no receiver (a sniffer watches its LAN)")
        rx = {n: bed.site(n).hosts[0].mcast_receiver(GROUP, PORT, timeout=300)
              for n in RECEIVING}
        sniffers = {n: Sniffer(bed, bed.site(n).hosts[0].ns, "eth0", MARK) for n in IDLE}
        say("the VNOC's site-to-site RTT matrix (`vprnctl vnoc metrics`)")
        metrics = wait_metrics(bed)
        print_metrics(metrics)
        say("warm-up from the hq host: source discovery, the VNOC solves the tree, "
            "keys reach the EDs")
        warm_up(bed, rx.values())
        say("every receiver hears hq")

        banner(f"the solved tree for {GROUP}")
        show([vprnctl, "--socket", bed.vnoc_ctl, "vnoc", "tree", GROUP])
        print("drawn from hq:", flush=True)
        print_tree(bed, metrics)

        banner(f"streaming {COUNT} numbered, checksummed datagrams from the hq host "
               f"({1 / INTERVAL:.0f}/s)")
        wan0 = wan_pairs(bed)
        took = stream_live(bed, rx)
        say(f"stream done in {took:.0f} s")

        banner("what crossed the WAN during the stream (vprn-wanem counters)")
        wan_ok = print_wan(wan0, wan_pairs(bed))

        banner("verdicts")
        ok = verdicts(rx, sniffers)
        print(f"  WAN  {'OK  ' if wan_ok else 'FAIL'} only ESP between the sites", flush=True)
        ok &= wan_ok
        save_logs(bed)
        banner(("ALL OK" if ok else "FAILED") + f": demo took {time.monotonic() - T0:.0f} s")
        if args.keep:
            print(f"sockets in {bed.workdir}; press Enter to tear down", flush=True)
            sys.stdin.readline()
        return 0 if ok else 1
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        save_logs(bed)
        return 130
    except Exception as e:
        print(f"demo: FAILED: {e}", file=sys.stderr)
        for p in bed.procs:
            print(f"--- last lines of {p.name} ---\n" + "\n".join(
                p.log_text().splitlines()[-15:]), file=sys.stderr)
        save_logs(bed)
        return 1
    finally:
        banner("tearing down")
        bed.teardown()
        left = tb.leftovers(bed.prefix)
        print("clean: no namespaces or processes left" if not left else f"LEFT OVER: {left}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
