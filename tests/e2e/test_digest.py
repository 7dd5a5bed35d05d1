"""Issue 8: the state digest (docs/protocol.md, "State digest") end to end.

Three sites (hq sends to 239.1.1.1, br1 and br2 receive, a shared tree;
pairwise SAs, and group SAs). Checks, on digests and flags (never time):
  - once the group is up and a stream flows, every site is `in_sync` at the
    VNOC, and the digest each ED reports (`vprnctl ed status`) equals the
    VNOC's expected digest for it - non-trivially (trees and SPIs included);
  - rekeys under the stream never make a digest mismatch nor a repair;
  - after kill -9 of the VNOC and a restart, the EDs reconnect, the new VNOC
    installs fresh trees and SAs and removes the old ones, and every site
    converges to `in_sync` again, with the ED and VNOC digests equal and no
    SPI of the previous VNOC left at any ED.
"""
import subprocess

import pytest

import testbed as tb
from conftest import need
from test_multicast import GROUP, MEMBERSHIP, PORT, WARM_SEND

SITES = ["hq", "br1", "br2"]
DELAYS = ["hq,br1,5", "hq,br2,10", "br1,br2,8"]


def vnoc_conf(bed, sa_mode):
    conf = bed.vnoc_config()
    conf["vpns"][0]["groups"] = [{
        "name": "feed", "ranges": ["239.1.0.0/16"], "senders": ["hq"],
        "receivers": ["br1", "br2"], "tree": "shared", "sa_mode": sa_mode,
        "transform": "aes-gcm-128",
    }]
    return conf


def ed_digest(bed, site):
    return bed.ed_status(site)["state_digest"]


def ed_spis(bed, site):
    d = tb.vprnctl(site.ctl, "ed", "digest")
    return set(d["inbound_spis"]) | set(d["outbound_spis"])


def converged(bed, why):
    """Every site in sync at the VNOC and its ED's digest equal to the expected one."""
    sites = bed.vnoc_sites()
    for s in bed.sites:
        e = sites.get(s.name, {})
        if not e.get("in_sync") or not bed.site_connected(e):
            why[s.name] = f"vnoc: in_sync={e.get('in_sync')}"
            return False
        mine = ed_digest(bed, s)["digest"]
        if mine != e.get("digest_expected") or mine != e.get("digest_ed"):
            why[s.name] = f"ed {mine} vnoc expected {e.get('digest_expected')}"
            return False
    return True


def wait_converged(bed, timeout):
    why = {}
    try:
        tb.wait_until(lambda: converged(bed, why), timeout, interval=0.5,
                      what="every site in sync")
    except Exception:
        pytest.fail(f"not converged: {why}")
    return bed.vnoc_sites()


@pytest.mark.daemons
@pytest.mark.parametrize("sa_mode", ["pairwise", "group"])
def test_digest_in_sync_and_after_vnoc_restart(make_testbed, sa_mode):
    need("vprn-vnoc", "vprn-ed", "vprnctl", "vprn-wanem")
    bed = make_testbed(n_sites=len(SITES), site_names=SITES, log_level="info")
    bed.start_wanem(delays=DELAYS)
    bed.start_vnoc(conf=vnoc_conf(bed, sa_mode))
    for s in bed.sites:
        c = bed.ed_config(s)
        c["membership"] = MEMBERSHIP
        bed.start_ed(s, c)
    for s in bed.sites:
        bed.wait_ed_up(s)
    bed.wait_sites_connected()
    rx = [bed.site(n).hosts[0].mcast_receiver(GROUP, PORT, timeout=600) for n in ("br1", "br2")]
    # a stream from hq for the whole test (source discovery keeps the sender alive)
    warm = bed.site("hq").hosts[0].ns.popen(
        [tb.PY, "-c", WARM_SEND, GROUP, str(PORT)], stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    bed._children.append(warm)
    try:
        tb.wait_until(lambda: all(any(d.startswith(b"WARM") for _, d in r.received())
                                  for r in rx), 90, what="every receiver hears hq")
        sites = wait_converged(bed, 60)
        for s in bed.sites:
            e, mine = sites[s.name], ed_digest(bed, s)
            assert e["expected_trees"] == 1 and mine["trees"] == 1, s.name
            assert e["expected_inbound_spis"] + e["expected_outbound_spis"] >= 1, s.name
            assert mine["sent"] >= 1, s.name
        # rekeys (make-before-break) under the stream: digests follow, never a repair
        for _ in range(4):
            spis = {s.name: ed_spis(bed, s) for s in bed.sites}
            tb.vprnctl(bed.vnoc_ctl, "vnoc", "rekey")
            tb.wait_until(lambda: all(not (ed_spis(bed, s) & spis[s.name]) for s in bed.sites),
                          60, what="rekey done (old SPIs retired everywhere)")
        sites = wait_converged(bed, 60)
        assert sum(e["repairs"] for e in sites.values()) == 0, sites
        assert sum(e["digest_mismatch"] for e in sites.values()) == 0, sites
        before = {s.name: ed_spis(bed, s) for s in bed.sites}
        versions = {s.name: tb.vprnctl(s.ctl, "ed", "digest")["trees"][0]["version"]
                    for s in bed.sites}

        # kill -9 of the VNOC: the EDs keep their state, reconnect to the new one
        bed.vnoc.kill()
        bed.start_vnoc()
        bed.wait_sites_connected(timeout=90)
        sites = wait_converged(bed, 180)
        # the previous VNOC's SAs, unknown to the new one, went by drift repair
        assert sum(e["repairs"] for e in sites.values()) >= 1, sites
        for s in bed.sites:
            d = tb.vprnctl(s.ctl, "ed", "digest")
            assert len(d["trees"]) == 1 and d["trees"][0]["version"] > versions[s.name], \
                f"{s.name}: the tree of the new VNOC ({d['trees']})"
            assert not (ed_spis(bed, s) & before[s.name]), \
                f"{s.name}: SPIs of the previous VNOC still installed"
        assert all(any(d.startswith(b"WARM") for _, d in r.received()) for r in rx)
    finally:
        warm.stdin.close()
        warm.wait(10)
