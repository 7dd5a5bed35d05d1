#!/usr/bin/python3
"""vprn demo: a 4-site VPN on one machine (see docs/testbed.md).

Starts the WAN emulator, the VNOC and one ED per site in network namespaces,
waits until every site is registered, shows `vprnctl vnoc sites`, each ED's
status and the WAN emulator's links, then tears everything down (also on
Ctrl-C). --keep waits for Enter before tearing down, to look around.
"""
import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import testbed as tb  # noqa: E402

SITES = ["hq", "br1", "br2", "br3"]
# One-way delays (ms) of the emulated WAN: hq is well connected, br3 is far away.
DELAYS = ["hq,br1,10", "br1,hq,10", "hq,br2,15", "br2,hq,15", "hq,br3,40,5", "br3,hq,40,5",
          "br1,br2,20", "br2,br1,20", "br1,br3,35", "br3,br1,35", "br2,br3,30", "br3,br2,30"]


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


def summary(name, st):
    v = st.get("vnoc", {})
    peers = ", ".join(p.get("site", "?") for p in v.get("peers", []))
    print(f"  {name:4} session {v.get('state')}, connects {v.get('connects')}, "
          f"failures {v.get('failures')}, peers to probe: {peers}", flush=True)


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
    t0 = time.monotonic()
    bed = tb.Testbed(n_sites=len(SITES), hosts_per_site=1, site_names=SITES,
                     log_level=args.log_level)
    try:
        banner(f"building namespaces (prefix {bed.prefix}): VNOC, WAN, {len(SITES)} sites")
        bed.build()
        banner("certificates: a throw-away CA, one certificate per site and for the VNOC")
        bed.ensure_certs()
        banner("starting vprn-wanem (per-pair one-way delay) in " + bed.wan_ns.name)
        bed.start_wanem(delays=DELAYS)
        show([tb.binary("vprn-wanem"), "--ctl", bed.wanem_ctl, "-e", "show"])
        banner("starting vprn-vnoc in " + bed.vnoc_ns.name)
        bed.start_vnoc()
        banner("starting one vprn-ed per site: " + ", ".join(SITES))
        for s in bed.sites:
            bed.start_ed(s)
        for s in bed.sites:
            bed.wait_ed_up(s, timeout=90)
        bed.wait_sites_connected(timeout=90)
        t_reg = time.monotonic() - t0
        banner("registered sites, as the VNOC sees them")
        show([tb.binary("vprnctl"), "--socket", bed.vnoc_ctl, "vnoc", "sites"])
        show([tb.binary("vprnctl"), "--socket", bed.vnoc_ctl, "vnoc", "status"])
        hq = bed.sites[0]
        banner(f"status of the ED of site {hq.name}")
        show([tb.binary("vprnctl"), "--socket", hq.ctl, "ed", "status"])
        banner("the other EDs, from `vprnctl --json ed status`")
        for s in bed.sites[1:]:
            summary(s.name, bed.ed_status(s))
        banner("restarting the VNOC (kill -9): every ED reconnects by itself")
        bed.vnoc.kill()
        for s in bed.sites:
            tb.wait_until(lambda s=s: not bed.ed_connected(s), 60, what=f"{s.name} noticing")
        print("all EDs lost their session; starting vprn-vnoc again", flush=True)
        bed.start_vnoc()
        bed.wait_sites_connected(timeout=90)
        show([tb.binary("vprnctl"), "--socket", bed.vnoc_ctl, "vnoc", "sites"])
        for s in bed.sites:
            summary(s.name, bed.ed_status(s))
        banner(f"all {len(SITES)} sites registered in {t_reg:.1f} s, "
               f"demo done in {time.monotonic() - t0:.1f} s")
        if args.keep:
            print(f"logs and sockets in {bed.workdir}; press Enter to tear down", flush=True)
            sys.stdin.readline()
        return 0
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        return 130
    except Exception as e:
        print(f"demo: FAILED: {e}", file=sys.stderr)
        for p in bed.procs:
            print(f"--- last lines of {p.name} ---\n" + "\n".join(
                p.log_text().splitlines()[-15:]), file=sys.stderr)
        return 1
    finally:
        banner("tearing down")
        bed.teardown()
        left = tb.leftovers(bed.prefix)
        print("clean: no namespaces or processes left" if not left else f"LEFT OVER: {left}",
              flush=True)


if __name__ == "__main__":
    sys.exit(main())
