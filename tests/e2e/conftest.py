"""pytest fixtures for the vprn end-to-end tests (network namespaces).

- `ca`, `foreign_ca`: throw-away certificate authorities, one per test session.
- `make_testbed(**kw)`: builds a Testbed (see testbed.py); every bed is torn
  down after the test, and its logs are kept under build/e2e-logs/<test>/ when
  the test failed.
- `need("vprn-vnoc", ...)`: skip a test whose binaries are not built yet.
"""
import os
import re
import shutil
import tempfile

import pytest

import testbed as tb


def pytest_configure(config):
    tb.install_signal_handlers()
    config.addinivalue_line("markers", "daemons: needs vprn-vnoc/vprn-ed/vprnctl")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


def _failed(item):
    return any(getattr(item, "rep_" + w, None) is not None and getattr(item, "rep_" + w).failed
               for w in ("setup", "call"))


@pytest.fixture(scope="session", autouse=True)
def _root_and_stale():
    if os.geteuid() != 0:
        pytest.skip("end-to-end tests need root (network namespaces)")
    tb.cleanup_stale()
    yield


@pytest.fixture(scope="session")
def session_dir():
    d = tempfile.mkdtemp(prefix="vprn-e2e-session-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def ca(session_dir):
    return tb.CA(os.path.join(session_dir, "ca"), "vprn-test-ca")


@pytest.fixture(scope="session")
def foreign_ca(session_dir):
    return tb.CA(os.path.join(session_dir, "foreign-ca"), "vprn-foreign-ca")


def need(*names):
    missing = [n for n in names if tb.binary(n) is None]
    if missing:
        pytest.skip(f"not built yet: {', '.join(missing)}")


@pytest.fixture
def make_testbed(request, ca):
    beds = []

    def factory(n_sites=2, hosts_per_site=1, **kw):
        kw.setdefault("ca", ca)
        bed = tb.Testbed(n_sites=n_sites, hosts_per_site=hosts_per_site, **kw)
        beds.append(bed)
        bed.build()
        return bed

    yield factory
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for i, bed in enumerate(beds):
        if _failed(request.node):
            dest = os.path.join(tb.BUILD, "e2e-logs", name + (f"-{i}" if i else ""))
            shutil.rmtree(dest, ignore_errors=True)
            bed.keep_logs(dest)
            tb.log(f"logs of {bed.prefix} kept in {dest}")
        bed.teardown()
