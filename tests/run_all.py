#!/usr/bin/python3
"""Run every vprn test and print one summary line: `N passed, N failed, N skipped`.

Stages (each test counts once):
  1. unit tests (meson suite 'unit') in the normal build (gcc)       -> build/
  2. the same unit tests under AddressSanitizer + UBSan (gcc)         -> build-asan/
  3. every libFuzzer harness (clang, fuzzer+ASan) for a short run     -> build-fuzz/
  4. end-to-end tests in network namespaces (pytest, tests/e2e)       -> build/

Environment: VPRN_FUZZ_SECONDS (default 15) per harness; VPRN_TEST_STAGES
(comma list of unit,asan,fuzz,e2e; default all); extra pytest args in
VPRN_PYTEST_ARGS (e.g. "-k session").
"""
import json
import os
import shlex
import subprocess
import sys
import xml.etree.ElementTree as ET

SRC = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ_SECONDS = int(os.environ.get("VPRN_FUZZ_SECONDS", "15"))
STAGES = os.environ.get("VPRN_TEST_STAGES", "unit,asan,fuzz,e2e").split(",")

results = []  # (stage, name, outcome) with outcome in passed/failed/skipped


def log(msg):
    print(f"run_all: {msg}", flush=True)


def sh(cmd, **kw):
    log("$ " + " ".join(shlex.quote(c) for c in cmd))
    return subprocess.run(cmd, cwd=SRC, **kw)


def setup(builddir, *args, env=None):
    if os.path.exists(os.path.join(SRC, builddir, "build.ninja")):
        r = sh(["meson", "setup", "--reconfigure", builddir, *args], env=env)
    else:
        r = sh(["meson", "setup", builddir, *args], env=env)
    if r.returncode == 0:
        r = sh(["ninja", "-C", builddir])
    return r.returncode == 0


# UBSan only prints by default: make every finding fail its test.
SAN_ENV = {"UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
           "ASAN_OPTIONS": "abort_on_error=0:detect_leaks=1"}


def meson_unit(stage, builddir):
    logfile = os.path.join(SRC, builddir, "meson-logs", "testlog.json")
    if os.path.exists(logfile):
        os.unlink(logfile)
    env = dict(os.environ, **SAN_ENV) if stage == "asan" else None
    r = sh(["meson", "test", "-C", builddir, "--suite", "unit", "--print-errorlogs",
            "--num-processes", "2", "-t", "4"], env=env)
    if not os.path.exists(logfile):
        if r.returncode != 0:
            results.append((stage, "meson-test", "failed"))
        return
    with open(logfile) as f:
        for line in f:
            t = json.loads(line)
            res = t.get("result")
            outcome = {"OK": "passed", "SKIP": "skipped", "EXPECTEDFAIL": "passed"}.get(res, "failed")
            results.append((stage, t["name"], outcome))


def fuzz_stage():
    env = dict(os.environ, CC="clang")
    if not setup("build-fuzz", "-Dfuzz=true", "-Dtests=true", "-Db_lundef=false", env=env):
        results.append(("fuzz", "build", "failed"))
        return
    intro = subprocess.run(["meson", "introspect", "--targets", "build-fuzz"], cwd=SRC,
                           capture_output=True, text=True, check=True)
    fuzzers = sorted({(t["name"], t["filename"][0]) for t in json.loads(intro.stdout)
                      if t["type"] == "executable" and t["name"].startswith("fuzz_")})
    for name, path in fuzzers:
        seeds = os.path.join(SRC, "tests", "fuzz", "corpus", name)
        work = os.path.join(SRC, "build-fuzz", "corpus", name)
        os.makedirs(work, exist_ok=True)
        cmd = [path, f"-max_total_time={FUZZ_SECONDS}", "-rss_limit_mb=4096", "-timeout=10",
               "-print_final_stats=1", f"-artifact_prefix={work}/", work]
        if os.path.isdir(seeds):
            cmd.append(seeds)
        fenv = dict(os.environ, LSAN_OPTIONS="suppressions=" +
                    os.path.join(SRC, "tests", "fuzz", "lsan.supp"))
        r = sh(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=fenv)
        ok = r.returncode == 0
        if not ok:
            sys.stdout.write(r.stderr[-6000:])
        results.append(("fuzz", name, "passed" if ok else "failed"))


def e2e_stage():
    xml = os.path.join(SRC, "build", "e2e-junit.xml")
    if os.path.exists(xml):
        os.unlink(xml)
    args = shlex.split(os.environ.get("VPRN_PYTEST_ARGS", ""))
    sh(["/usr/bin/python3", "-m", "pytest", "-v", "-p", "no:cacheprovider",
        f"--junitxml={xml}", "tests/e2e", *args])
    if not os.path.exists(xml):
        results.append(("e2e", "pytest", "failed"))
        return
    for case in ET.parse(xml).getroot().iter("testcase"):
        name = case.get("classname", "") + "::" + case.get("name", "")
        if case.find("failure") is not None or case.find("error") is not None:
            outcome = "failed"
        elif case.find("skipped") is not None:
            outcome = "skipped"
        else:
            outcome = "passed"
        results.append(("e2e", name, outcome))


def main():
    if not setup("build"):
        results.append(("build", "build", "failed"))
    else:
        if "unit" in STAGES:
            meson_unit("unit", "build")
        if "asan" in STAGES:
            if setup("build-asan", "-Db_sanitize=address,undefined", "-Db_lundef=false",
                     "-Dbuildtype=debug"):
                meson_unit("asan", "build-asan")
            else:
                results.append(("asan", "build", "failed"))
        if "fuzz" in STAGES:
            fuzz_stage()
        if "e2e" in STAGES and os.path.isdir(os.path.join(SRC, "tests", "e2e")):
            e2e_stage()

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    print()
    for stage, name, outcome in results:
        counts[outcome] += 1
        if outcome != "passed":
            print(f"  {outcome.upper():8} {stage}: {name}")
    print(f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if counts["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
