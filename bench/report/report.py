"""Markdown report and SVG plots (gnuplot) from build/bench-results.json.

Every vprn figure sits next to its peer with the ratio; figures not measured
say why ("skipped: ..."). Usable alone: report.py RESULTS.json OUT.md
"""
import json
import os
import shutil
import subprocess
import sys


def fmt(v, nd=3):
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    return f"{v:.{nd}f}"


def ratio(a, b):
    if a is None or b is None or isinstance(a, str) or isinstance(b, str) or not b:
        return "—"
    return f"{a / b:.2f}x"


def table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def get(d, *path):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return None
        d = d[p]
    return d


def vprn_fig(res, scenario, size, key):
    """A figure of vprn-ed over memif (bench/ed/ed-memif), or None."""
    tr = res.get("traffic", {})
    if "skipped" in tr:
        return None
    return get(tr, scenario, str(size), key)


def dp_case(scenario):
    """vprn-bench-dp's case for an ed-memif scenario (wan2wan-group-f1 -> wan2wan-group)."""
    return scenario.rsplit("-f", 1)[0] if scenario.startswith("wan2wan") else scenario


def ed_peers(res, scenario, size):
    """The peers of one vprn-ed figure: {name: (value, what)}; pps of input packets.

    LAN->WAN: ipsec-secgw (one SA, fanout 1), the I/O ceiling (testpmd io over the same
    kind of memif ports), the cipher ceiling divided by the number of encryptions per
    input packet (pairwise: F; group: 1; WAN->LAN: one decryption, about the cost of an
    encryption; transit pairwise: 2, group: 1 decryption for hq's LAN)."""
    k = str(size)
    tr = get(res, "traffic", scenario) or {}
    kind, mode, f = tr.get("kind"), tr.get("mode"), tr.get("fanout", 1)
    peers = res.get("peers", {})
    out = {}
    sg = get(peers, "ipsec-secgw", k, "zero_loss_mpps")
    if kind == "lan2wan" and sg:
        out["ipsec-secgw"] = sg
    io = get(peers, "testpmd-io", k, "zero_loss_mpps")
    if io:
        out["io"] = io
    cr = get(peers, "crypto-perf", k, "mpps")
    if cr:
        n = {"lan2wan": f if mode == "pairwise" else 1, "wan2lan": 1,
             "wan2wan": 2 if mode == "pairwise" else 1}.get(kind, 1)
        out["crypto"] = cr / n
    dp = dp_fig(res, dp_case(scenario), size)
    if dp:
        out["dp"] = dp
    return out


def ed_table(res):
    """vprn-ed over memif: every scenario and size, with its peers of the same run."""
    tr = res.get("traffic", {})
    if not tr or "skipped" in tr:
        return ""
    rows = []
    for name, sc in tr.items():
        if not isinstance(sc, dict) or "kind" not in sc and "error" not in sc:
            continue
        if "error" in sc:
            rows.append([name, "error: " + sc["error"][:160].replace("\n", " ")] + [""] * 11)
        for size, fig in sc.items():
            if not (isinstance(fig, dict) and "zero_loss_mpps" in fig):
                continue
            zin = fig.get("zero_loss_in_mpps")
            p = ed_peers(res, name, size)
            rows.append([name, size, fmt(fig.get("max_in_mpps")), fmt(fig.get("max_loss_pct"), 2),
                         fmt(zin), fmt(fig.get("zero_loss_gbps")),
                         fmt(fig.get("lat_p50_us"), 1), fmt(fig.get("lat_p99_us"), 1),
                         fmt(fig.get("lat_p999_us"), 1),
                         ratio(zin, p.get("ipsec-secgw")), ratio(zin, p.get("io")),
                         ratio(zin, p.get("crypto")), ratio(zin, p.get("dp"))])
    return table(["scenario", "frame (B)", "max Mpps in", "loss at max %", "zero-loss Mpps in",
                  "zero-loss Gb/s out", "p50 us", "p99 us", "p99.9 us", "vs ipsec-secgw",
                  "vs memif I/O ceiling", "vs cipher ceiling", "vs in-process dp"], rows)


def ed_section(res):
    """Markdown: the vprn-ed over memif table, its setup and where the cycles go."""
    tr = res.get("traffic", {})
    if not tr:
        return ""
    if "skipped" in tr:
        return f"## vprn-ed over memif\n\nskipped: {tr['skipped']}\n"
    out = ["## vprn-ed over memif (bench/ed/ed-memif)\n",
           f"Setup: {tr.get('setup', '?')}. Memory: **{tr.get('memory', '?')}** "
           f"(memif {tr.get('memif', '?')}{'; ' + tr['memory_note'] if tr.get('memory_note') else ''}). "
           f"Command: `{tr.get('command', '?')}` ({tr.get('seconds', 0):.0f} s).\n",
           "*Mpps in* = packets offered to the ED per second (LAN→WAN: LAN multicast; WAN→LAN "
           "and transit: ESP from the simulated sender); *Gb/s out* counts every copy the ED "
           "sent (frames with FCS). Latency: vprn-bench's TSC stamp, through one ED, only where "
           "the stamp comes out decrypted (WAN→LAN, and hq's LAN copy in transit), at 50 % of "
           "the zero-loss rate. Ratios divide *zero-loss Mpps in* by the peer measured in the "
           "same run at the same frame size: ipsec-secgw (LAN→WAN only: it encrypts one SA), "
           "testpmd io forwarding over memif (the I/O ceiling), the AES-GCM-128 ceiling divided "
           "by the encryptions per input packet (pairwise LAN→WAN: F), and the same case of "
           "vprn-bench-dp in process (ring ports, no second process).\n"]
    if "error" in tr:
        out.append(f"error: {tr['error']}\n")
    out.append(ed_table(res))
    restarts = [(n, len(sc.get("ed_restarts", []))) for n, sc in tr.items()
                if isinstance(sc, dict) and sc.get("ed_restarts")]
    if restarts:
        out.append("\nvprn-ed restarted after a crash in DPDK 22.11's memif PMD (server side, "
                   "`eth_memif_rx`, when a client connects or leaves): " +
                   ", ".join(f"{n} ({c}x)" for n, c in restarts) + ".\n")
    notes = {sc["note"] for sc in tr.values() if isinstance(sc, dict) and sc.get("note")}
    for n in sorted(notes):
        out.append(f"\nTransit: {n}.\n")
    cyc = []
    for case in ("lan2wan-pairwise-f1", "lan2wan-group-f1", "lan2wan-group-f6",
                 "lan2wan-pairwise-f6", "wan2lan-pairwise", "wan2lan-group",
                 "wan2wan-pairwise", "wan2wan-group"):
        c = dp_fig(res, case, 64, "cycles_per_pkt")
        if c is not None:
            cyc.append([case, fmt(c, 0), fmt(dp_fig(res, case, 64), 2)])
    if cyc:
        out.append("\nWhere the cycles go (vprn-bench-dp, 64-byte inner packets, one worker "
                   "iteration of the real pipeline; esp-encrypt-oop "
                   f"{fmt(dp_fig(res, 'esp-encrypt-oop', 64, 'cycles_per_pkt'), 0)} and "
                   f"esp-decrypt {fmt(dp_fig(res, 'esp-decrypt', 64, 'cycles_per_pkt'), 0)} "
                   "cycles are the ESP engine alone; the rest is RX, parsing, lookups, copies "
                   "and TX). Where vprn-ed over memif reaches much less than these, the "
                   "difference is the two-process memif I/O, which the I/O-ceiling ratio "
                   "shows:\n")
        out.append(table(["case", "cycles/packet", "Mpps on one lcore"], cyc))
    return "\n".join(out)


def dp_fig(res, case, size, key="mpps"):
    """A figure of vprn-bench-dp (in-process pipeline, ring ports), or None."""
    rows = get(res, "project", "dp", "result", "results")
    for r in rows if isinstance(rows, list) else []:
        if isinstance(r, dict) and r.get("case") == case and str(r.get("size")) == str(size):
            return r.get(key)
    return None


def headline(res):
    sizes = res["meta"]["sizes"]
    peers = res.get("peers", {})
    rows = []
    for s in sizes:
        k = str(s)
        v = vprn_fig(res, "lan2wan-group-f1", s, "zero_loss_in_mpps")
        vp = vprn_fig(res, "lan2wan-pairwise-f1", s, "zero_loss_in_mpps")
        dp = dp_fig(res, "lan2wan-group-f1", s)
        sg = get(peers, "ipsec-secgw", k, "zero_loss_mpps")
        io = get(peers, "testpmd-io", k, "zero_loss_mpps")
        cr = get(peers, "crypto-perf", k, "mpps")
        rows.append([s, fmt(v), fmt(vp), fmt(sg), ratio(v, sg), fmt(io), ratio(v, io), fmt(cr),
                     ratio(v, cr), fmt(dp)])
    return table(["frame (B)", "vprn-ed over memif, group f1 (zero-loss Mpps)", "pairwise f1",
                  "ipsec-secgw over memif", "ratio", "memif io fwd (I/O ceiling)", "ratio",
                  "AES-GCM-128 cipher ceiling", "ratio", "vprn data plane in process"], rows)


STAGES = ("rx", "parse", "crypto", "replicate", "tx")


def stage_note(res, scenario, size):
    """Where a goal is missed: vprn-ed's own cycles per received packet per stage
    (dataplane.stage_cycles, recorded by ed-memif) next to vprn-bench-dp's figure."""
    st = vprn_fig(res, scenario, size, "ed_stages")
    dp = dp_fig(res, dp_case(scenario), size, "cycles_per_pkt")
    parts = []
    if isinstance(st, dict) and get(st, "total", "packets"):
        parts.append(f"vprn-ed {scenario} {size} B, cycles per received packet: " + ", ".join(
            f"{k} {fmt(get(st, k, 'cycles_per_rx_packet'), 0)}" for k in STAGES + ("total",)
            if get(st, k, "cycles_per_rx_packet") is not None))
    else:
        parts.append(f"vprn-ed {scenario} {size} B: no per-stage cycles recorded")
    if dp is not None:
        parts.append(f"vprn-bench-dp {dp_case(scenario)}: {fmt(dp, 0)} cycles/packet")
    return "\n  - " + "; ".join(parts)


def goals(res):
    """The issue's goals, from vprn-ed over memif where measured, else from the
    in-process data plane (said so); (text, verdict) pairs."""
    cr = res.get("peers", {}).get("crypto-perf", {})
    sg = get(res, "peers", "ipsec-secgw", "64", "zero_loss_mpps")
    out = []

    def fig(scenario, size, key="zero_loss_in_mpps"):
        v = vprn_fig(res, scenario, size, key)
        if v is not None:
            return v, "vprn-ed over memif"
        return dp_fig(res, scenario, size), "in-process data plane (vprn-ed not measured)"

    def check(text, val, target, how, low=False, where=None):
        if val is None or target is None:
            out.append((text, "not measured"))
        else:
            ok = "met" if (val <= target if low else val >= target) else "missed"
            note = stage_note(res, *where) if ok == "missed" and where else ""
            out.append((text, f"{ok}: {val:.3f} vs {target:.3f} ({how}){note}"))

    f1, w = fig("lan2wan-group-f1", 64)
    check("LAN→WAN fanout 1 at 64 B ≥ 1.5 x ipsec-secgw pps", f1,
          None if sg is None else 1.5 * sg, f"{w}, zero-loss Mpps, vs ipsec-secgw over memif",
          where=("lan2wan-group-f1", 64))
    f6, w6 = fig("lan2wan-group-f6", 64)
    check("group mode fanout 6 ≥ 0.75 x fanout-1 packet rate", f6,
          None if f1 is None else 0.75 * f1, f"{w6}, Mpps of input packets",
          where=("lan2wan-group-f6", 64))
    p6, wp = fig("lan2wan-pairwise-f6", 64)
    c64 = get(cr, "64", "mpps")
    check("pairwise fanout 6 ≥ 0.9 x (crypto ceiling / 6)", p6,
          None if c64 is None else 0.9 * c64 / 6, f"{wp} vs crypto-perf",
          where=("lan2wan-pairwise-f6", 64))
    g1420 = vprn_fig(res, "lan2wan-group-f1", 1420, "zero_loss_gbps")
    how = "vprn-ed over memif, Gb/s of frames"
    if g1420 is None:
        g1420, how = dp_fig(res, "lan2wan-group-f1", 1420, "gbps"), "in-process data plane"
    c1420 = get(cr, "1420", "gbps_frames")
    check("1420 B ≥ 0.8 x crypto ceiling Gb/s at fanout 1", g1420,
          None if c1420 is None else 0.8 * c1420, how,
          where=("lan2wan-group-f1", 1420))
    lat = vprn_fig(res, "wan2lan-pairwise", 64, "lat_p99_us")
    check("added latency through one ED, p99 at 50 % load < 30 us", lat,
          30.0 if lat is not None else None, "vprn-ed over memif, WAN→LAN pairwise 64 B", True,
          where=("wan2lan-pairwise", 64))
    return out


def peer_table(res, name):
    d = res.get("peers", {}).get(name)
    if not isinstance(d, dict):
        return ""
    if "error" in d:
        return f"{name}: error: {d['error']}\n"
    rows = []
    for s in res["meta"]["sizes"]:
        r = d.get(str(s))
        if r is None:
            continue
        if "error" in r or "skipped" in r:
            why = "error: " + r["error"][:80] if "error" in r else "skipped: " + r["skipped"]
            rows.append([s, why, "", "", "", "", "", ""])
            continue
        rows.append([s, fmt(r["zero_loss_mpps"], 4), fmt(r["zero_loss_gbps"]),
                     fmt(r["max_mpps"], 4), fmt(r["max_gbps"]), fmt(r["lat_p50_us"], 1),
                     fmt(r["lat_p99_us"], 1), fmt(r["lat_p999_us"], 1)])
    return table(["frame (B)", "zero-loss Mpps", "Gb/s", "max Mpps", "Gb/s",
                  "lat p50 (us)", "p99", "p99.9"], rows)


def crypto_table(res):
    d = res.get("peers", {}).get("crypto-perf")
    if not isinstance(d, dict):
        return ""
    if "error" in d:
        return f"crypto-perf: error: {d['error']}\n"
    rows = [[s, r["buffer"], fmt(r["mpps"]), fmt(r["gbps_plain"]), fmt(r["gbps_frames"]),
             fmt(r["cycles"], 0)] for s, r in d.items()]
    return table(["frame (B)", "ESP plaintext (B)", "Mops/s", "Gb/s (plaintext)",
                  "Gb/s (frames)", "cycles/op"], rows)


def esp_table(res):
    d = res.get("project", {}).get("esp")
    if not isinstance(d, dict):
        return ""
    if "skipped" in d or "error" in d:
        return (d.get("skipped") and f"skipped: {d['skipped']}\n") or f"error: {d['error']}\n"
    rows = []
    for r in d.get("result", []):
        if isinstance(r, dict) and "case" in r:
            rows.append([r["case"], r.get("size"), fmt(r.get("mpps")),
                         fmt(r.get("cycles_per_pkt"), 1), fmt(r.get("ceiling_cycles_per_pkt"), 1),
                         fmt(r.get("ratio"), 2)])
    return table(["case", "size (B)", "Mpps", "cycles/pkt", "raw ipsec-mb cycles/pkt",
                  "fraction of ceiling"], rows)


def generic_table(d):
    """A project benchmark whose format the report does not know: scalars, flat
    dicts as key/value tables, and its first list of records as a table."""
    res = d.get("result")
    out = ""
    if isinstance(res, dict):
        scalars = {k: v for k, v in res.items() if not isinstance(v, (dict, list))}
        if scalars:
            out += ", ".join(f"{k}: {v}" for k, v in scalars.items()) + "\n\n"
        for k, v in res.items():
            if isinstance(v, dict) and all(not isinstance(x, (dict, list)) for x in v.values()):
                out += f"{k}:\n\n" + table(["key", "value"], [
                    [a, fmt(b) if isinstance(b, float) else b] for a, b in v.items()]) + "\n"
        lists = [v for v in res.values()
                 if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if not lists:
            return out or "```\n" + json.dumps(res, indent=1)[:3000] + "\n```\n"
        res = lists[0]
    if not isinstance(res, list) or not res or not all(isinstance(r, dict) for r in res):
        return out + "```\n" + json.dumps(res, indent=1)[:3000] + "\n```\n"
    keys = []
    for r in res:
        keys += [k for k, v in r.items() if k not in keys and not isinstance(v, (dict, list))]
    rows = [[fmt(r.get(k)) if isinstance(r.get(k), float) else r.get(k, "") for k in keys]
            for r in res[:60]]
    more = f"\n({len(res) - 60} more rows in the JSON)\n" if len(res) > 60 else ""
    return out + table(keys, rows) + more


def plot(res, outdir):
    """SVG plots with gnuplot; returns [(title, file)]."""
    if shutil.which("gnuplot") is None:
        return []
    os.makedirs(outdir, exist_ok=True)
    sizes = res["meta"]["sizes"]
    peers = res.get("peers", {})
    series = [("ipsec-secgw (zero loss)", lambda k: get(peers, "ipsec-secgw", k, "zero_loss_mpps")),
              ("memif io fwd (zero loss)", lambda k: get(peers, "testpmd-io", k, "zero_loss_mpps")),
              ("AES-GCM-128 ceiling", lambda k: get(peers, "crypto-perf", k, "mpps")),
              ("vprn-bench ring loop", lambda k: get(peers, "generator-ring", k, "max_mpps")),
              ("vprn data plane in process", lambda k: dp_fig(res, "lan2wan-group-f1", k))]
    tr = res.get("traffic", {})
    if "skipped" not in tr:
        series.insert(0, ("vprn-ed over memif LAN→WAN f1 group",
                          lambda k: get(tr, "lan2wan-group-f1", k, "zero_loss_in_mpps")))
    dat = os.path.join(outdir, "mpps.dat")
    with open(dat, "w") as f:
        for i, s in enumerate(sizes):
            vals = [series_fn(str(s)) for _, series_fn in series]
            f.write(f'{i} "{s}" ' + " ".join("NaN" if v is None else str(v) for v in vals) + "\n")
    svg = os.path.join(outdir, "mpps.svg")
    plots = ", ".join(f"'{dat}' using 1:{j + 3}:xtic(2) with linespoints title '{t}'"
                      for j, (t, _) in enumerate(series))
    gp = (f"set terminal svg size 800,480 dynamic font 'sans,11'\nset output '{svg}'\n"
          "set title 'Packet rate by frame size (one worker lcore, memif)'\n"
          "set xlabel 'frame size (bytes, incl. FCS)'\nset ylabel 'Mpps'\nset logscale y\n"
          "set grid\nset key outside right\n"
          f"plot {plots}\n")
    r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
    out = []
    if r.returncode == 0 and os.path.exists(svg):
        out.append(("Packet rate by frame size", svg))
    esp = get(res, "project", "esp", "result")
    if isinstance(esp, list):
        cases = sorted({r["case"] for r in esp if isinstance(r, dict) and "case" in r})
        want = [c for c in cases if "gcm" in c.lower() and "enc" in c.lower()][:2] or cases[:2]
        dat2 = os.path.join(outdir, "esp.dat")
        with open(dat2, "w") as f:
            for c in want:
                f.write(f"# {c}\n")
                for r in esp:
                    if r.get("case") == c:
                        f.write(f"{r['size']} {r['cycles_per_pkt']} {r['ceiling_cycles_per_pkt']}\n")
                f.write("\n\n")
        svg2 = os.path.join(outdir, "esp.svg")
        plots = []
        for i, c in enumerate(want):
            plots.append(f"'{dat2}' index {i} using 1:2 with linespoints title '{c} (engine)'")
            plots.append(f"'{dat2}' index {i} using 1:3 with linespoints dt 2 "
                         f"title '{c} (raw ipsec-mb)'")
        if plots:
            gp = (f"set terminal svg size 800,480 dynamic font 'sans,11'\nset output '{svg2}'\n"
                  "set title 'ESP engine vs raw intel-ipsec-mb'\nset xlabel 'packet size (bytes)'\n"
                  "set ylabel 'cycles per packet'\nset grid\nset key left top\n"
                  f"plot {', '.join(plots)}\n")
            r = subprocess.run(["gnuplot"], input=gp, text=True, capture_output=True)
            if r.returncode == 0 and os.path.exists(svg2):
                out.append(("ESP engine cycles per packet", svg2))
    return out


def write(res, md_path):
    outdir = os.path.join(os.path.dirname(md_path), "bench-plots")
    m = res["meta"]
    lines = [f"# vprn benchmark report\n",
             f"{m['date']} — git {m['git']} — {m['cpu']} ({m['cores']} cores) — "
             f"`make bench` took {m.get('duration_s', 0):.0f} s. Load average before "
             f"{m['load_before']}, after {m.get('load_after', '?')}. Memory: "
             f"{m.get('memory', '--no-huge, memif copy mode')}. Figures from a shared "
             "machine are lower bounds; medians of "
             f"{m['runs']} runs, trials of {m['trial_s']} s, zero loss = loss ≤ 0.01 %.\n",
             "## vprn-ed next to its peers\n"]
    tr = res.get("traffic", {})
    if "skipped" in tr:
        lines.append(f"Traffic scenarios through vprn-ed: **skipped: {tr['skipped']}**\n")
    lines.append(headline(res))
    lines.append("\nvprn-ed columns: the real vprn-ed, one worker lcore, LAN and WAN over memif, "
                 "vprn-bench in another process (see below); zero-loss Mpps of LAN input packets. "
                 "The in-process column is vprn-bench-dp (bench/dp): one worker iteration of "
                 "the real pipeline on ring ports, best of rounds, sizes are inner IPv4 packets "
                 "(the frame is 18 B more): the upper bound.\n")
    lines.append("\n## Goals (issue 9)\n")
    for text, verdict in goals(res):
        lines.append(f"- {text}: {verdict}")
    lines.append("")
    for title, svg in plot(res, outdir):
        lines.append(f"![{title}]({os.path.relpath(svg, os.path.dirname(md_path))})\n")
    lines.append(ed_section(res))
    lines.append("## Peers\n")
    lines.append("### ipsec-secgw, AES-GCM-128 tunnel mode, one SA (LAN memif → WAN memif)\n")
    lines.append("Latency is not measured through ipsec-secgw: its output is ESP, the stamp is "
                 "encrypted (loss and order are checked on the ESP sequence numbers).\n")
    lines.append(peer_table(res, "ipsec-secgw"))
    lines.append("\n### memif io forwarding, no crypto (dpdk-testpmd): the I/O ceiling\n")
    lines.append(peer_table(res, "testpmd-io"))
    lines.append("\n### AES-GCM-128 encrypt, dpdk-test-crypto-perf on crypto_aesni_mb: the cipher "
                 "ceiling (best of 5 runs; IMIX = mean time per packet of 64/594/1420)\n")
    lines.append(crypto_table(res))
    lines.append("\n### vprn-bench alone over an in-process ring (the generator's own bound)\n")
    lines.append(peer_table(res, "generator-ring"))
    lines.append("\n## Project benchmarks\n")
    for name, d in res.get("project", {}).items():
        lines.append(f"### {name} (`{d.get('command', '?')}`)\n")
        if "skipped" in d:
            lines.append(f"skipped: {d['skipped']}\n")
        elif "error" in d:
            lines.append(f"error: {d['error']}\n")
        elif name == "esp":
            lines.append(esp_table(res))
        else:
            lines.append(generic_table(d))
        lines.append("")
    if res.get("skipped"):
        lines.append("## Skipped\n")
        lines += [f"- {s}" for s in res["skipped"]]
        lines.append("")
    with open(md_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return md_path


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(write(json.load(f), sys.argv[2]))
