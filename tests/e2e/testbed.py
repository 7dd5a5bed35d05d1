"""A reusable network-namespace testbed for vprn (see docs/testbed.md, CONVENTIONS.md).

Topology for a run with prefix P (``v`` + 3 hex digits, unique per run):

  Pvnoc   VNOC namespace, bridge ``mgmt`` 10.254.0.1/16, vprn-vnoc
  Ps<i>   site i: ``mgmt0`` 10.254.0.(10+i)/16 (kernel), ``lan0`` (DPDK, into br0),
          ``wan0`` (DPDK, to Pwan); bridge ``br0`` (mcast_snooping 0)
  Ph<i><x> hosts on site i's br0: ``eth0`` 192.168.i.(10+k)/24, default via 192.168.i.1
  Pwan    WAN namespace, ``w<i>`` peer of every wan0, vprn-wanem is 10.100.i.1

Everything created is registered and removed by ``Testbed.teardown()``, which
also runs from atexit and on SIGTERM/SIGINT, and from the next run when a
previous one was killed with SIGKILL (stale prefixes whose owner died).
"""

import atexit
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("VPRN_BUILD_DIR", os.path.join(REPO, "build"))
STATE_DIR = "/run/vprn-e2e"  # one file per live run: prefix -> owner pid
PY = "/usr/bin/python3"

MGMT_NET = "10.254.0"
VNOC_ADDR = "10.254.0.1"
VNOC_PORT = 7800


def log(msg):
    sys.stderr.write(f"testbed: {msg}\n")
    sys.stderr.flush()


# ---------------------------------------------------------------- binaries

_bin_cache = {}


def binary(name):
    """Path of a built program in the build dir (VPRN_BUILD_DIR), or None."""
    if name in _bin_cache:
        return _bin_cache[name]
    found = None
    for sub in ("vnoc", "control", "tests/wanem", "bench", "dataplane", ""):
        p = os.path.join(BUILD, sub, name)
        if os.path.isfile(p) and os.access(p, os.X_OK):
            found = p
            break
    if found is None and os.path.isdir(BUILD):
        for root, dirs, files in os.walk(BUILD):
            dirs[:] = [d for d in dirs if not d.endswith(".p") and not d.startswith("meson-")]
            if name in files:
                found = os.path.join(root, name)
                break
    _bin_cache[name] = found
    return found


# ---------------------------------------------------------------- shell helpers

def run(cmd, check=True, **kw):
    """Run a command (list) in the root namespace; returns CompletedProcess (text)."""
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 60)
    r = subprocess.run(cmd, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} -> {r.returncode}: {r.stderr.strip()}")
    return r


def ip(*args, ns=None, check=True):
    cmd = ["ip"] + (["-n", ns] if ns else []) + list(args)
    return run(cmd, check=check)


def wait_until(fn, timeout=30.0, interval=0.2, what="condition"):
    """Poll fn() until it returns a true value; return that value or raise AssertionError.

    Tests wait for states, never for a time: the timeout is generous and only
    bounds a hang.
    """
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # the daemon may not be up yet
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


# ---------------------------------------------------------------- namespaces

class Netns:
    """A network namespace: run commands and start processes inside it."""

    def __init__(self, name):
        self.name = name

    def cmd(self, args):
        return ["ip", "netns", "exec", self.name] + list(args)

    def run(self, args, check=True, **kw):
        return run(self.cmd(args), check=check, **kw)

    def sh(self, script, check=True, **kw):
        return self.run(["sh", "-c", script], check=check, **kw)

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), **kw)

    def python(self, code, *args, check=True, **kw):
        """Run a Python snippet in this namespace (sys.argv[1:] = args)."""
        return self.run([PY, "-c", code] + [str(a) for a in args], check=check, **kw)

    def __repr__(self):
        return f"Netns({self.name})"


# Turn off TX checksum (and with it TSO/GSO) on a veth through SIOCETHTOOL:
# this machine has no ethtool binary. A veth otherwise hands frames with a
# partial L4 checksum to AF_PACKET readers (the EDs' DPDK ports).
_OFFLOAD_OFF = r"""
import array, fcntl, socket, struct, sys
SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for ifname in sys.argv[1:]:
    buf = array.array('B', struct.pack('II', ETHTOOL_STXCSUM, 0))
    addr, _ = buf.buffer_info()
    ifr = struct.pack('16sP', ifname.encode(), addr)
    fcntl.ioctl(s, SIOCETHTOOL, ifr)
"""


def offload_off(ns, *ifnames):
    ns.python(_OFFLOAD_OFF, *ifnames)


# There is no ping binary on the test machine: ICMP echo from Python.
_PING = r"""
import os, socket, struct, sys, time
dst, count, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(timeout)
ident = os.getpid() & 0xFFFF
def csum(b):
    if len(b) % 2:
        b += b"\0"
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    t += t >> 16
    return ~t & 0xFFFF
ok = 0
for seq in range(count):
    body = bytes(range(48))
    h = struct.pack("!BBHHH", 8, 0, 0, ident, seq)
    s.sendto(struct.pack("!BBHHH", 8, 0, csum(h + body), ident, seq) + body, (dst, 0))
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            data, addr = s.recvfrom(2048)
        except socket.timeout:
            break
        ihl = (data[0] & 15) * 4
        t, c, _, i, q = struct.unpack("!BBHHH", data[ihl:ihl + 8])
        if addr[0] == dst and t == 0 and i == ident and q == seq and data[ihl + 8:] == body:
            ok += 1
            break
print(ok)
sys.exit(0 if ok == count else 1)
"""


def ping(ns, addr, count=3, timeout=5.0, check=True):
    """ICMP echo from namespace ns; returns the number of intact replies."""
    r = ns.python(_PING, addr, count, timeout, check=check, timeout=count * timeout + 30)
    return int(r.stdout.strip() or 0)


_RAW_SEND = r"""
import socket, sys
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
for h in sys.argv[2:]:
    s.send(bytes.fromhex(h))
"""


def raw_send(ns, ifname, frames):
    """Send raw Ethernet frames (bytes) out of interface ifname in namespace ns."""
    ns.python(_RAW_SEND, ifname, *[f.hex() for f in frames])


# ---------------------------------------------------------------- processes

class Proc:
    """A daemon started inside a namespace, its output in a log file."""

    def __init__(self, name, ns, args, logpath, env=None):
        self.name = name
        self.ns = ns
        self.args = list(args)
        self.logpath = logpath
        self.env = env
        self.popen = None
        self.generation = 0

    def start(self):
        assert not self.alive(), f"{self.name} already running"
        self.generation += 1
        logf = open(self.logpath, "a")
        logf.write(f"==== start #{self.generation}: {' '.join(self.args)}\n")
        logf.flush()
        env = dict(os.environ, **(self.env or {}))
        # Own session: a Ctrl-C on the terminal reaches pytest, not the daemons;
        # teardown stops them in order.
        self.popen = self.ns.popen(self.args, stdout=logf, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True, env=env)
        logf.close()
        return self

    @property
    def pid(self):
        return self.popen.pid if self.popen else None

    def alive(self):
        return self.popen is not None and self.popen.poll() is None

    def returncode(self):
        return None if self.popen is None else self.popen.poll()

    def signal(self, sig):
        if self.alive():
            os.kill(self.popen.pid, sig)

    def stop(self, timeout=10.0):
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.popen is None:
            return None
        if self.alive():
            self.signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log(f"{self.name} ignored SIGTERM for {timeout}s, killing")
                self.kill()
        return self.popen.wait()

    def kill(self):
        """kill -9, as a crash or power loss would."""
        if self.alive():
            self.signal(signal.SIGKILL)
        if self.popen is not None:
            self.popen.wait()

    def log_text(self):
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def __repr__(self):
        return f"Proc({self.name}, pid={self.pid}, alive={self.alive()})"


# ---------------------------------------------------------------- certificates

class CA:
    """A throw-away certificate authority made with the openssl command."""

    def __init__(self, directory, name="vprn-test-ca"):
        self.dir = directory
        self.name = name
        os.makedirs(directory, exist_ok=True)
        self.cert = os.path.join(directory, "ca.pem")
        self.key = os.path.join(directory, "ca.key")
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", self.key, "-out", self.cert, "-days", "30",
             "-subj", f"/CN={name}"])
        self._serial = 1

    def issue(self, cn, directory=None):
        """Certificate + key for CN=cn signed by this CA; returns (cert, key) paths."""
        d = directory or self.dir
        os.makedirs(d, exist_ok=True)
        key = os.path.join(d, f"{cn}.key")
        csr = os.path.join(d, f"{cn}.csr")
        cert = os.path.join(d, f"{cn}.pem")
        ext = os.path.join(d, f"{cn}.ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-keyout", key, "-out", csr, "-subj", f"/CN={cn}"])
        self._serial += 1
        run(["openssl", "x509", "-req", "-in", csr, "-CA", self.cert, "-CAkey", self.key,
             "-set_serial", str(self._serial), "-days", "30", "-out", cert, "-extfile", ext])
        os.unlink(csr)
        os.unlink(ext)
        return cert, key


# ---------------------------------------------------------------- libconfig

def _lc_value(v, indent):
    pad = "\t" * indent
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, dict):
        inner = "".join(f"{pad}\t{k} = {_lc_value(x, indent + 1)};\n" for k, x in v.items())
        return "{\n" + inner + pad + "}"
    if isinstance(v, (list, tuple)):
        if v and all(isinstance(x, dict) for x in v):
            inner = ",\n".join(f"{pad}\t{_lc_value(x, indent + 1)}" for x in v)
            return "(\n" + inner + "\n" + pad + ")"
        if not v:
            return "()"
        return "[ " + ", ".join(_lc_value(x, indent) for x in v) + " ]"
    if isinstance(v, Raw):
        return v.text
    raise TypeError(f"cannot write {type(v)} to libconfig")


class Raw:
    """Literal libconfig text for a value."""

    def __init__(self, text):
        self.text = text


def libconfig_text(d):
    """Render a dict as a libconfig file (dicts -> groups, lists of dicts -> lists)."""
    return "".join(f"{k} = {_lc_value(v, 0)};\n" for k, v in d.items())


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# ---------------------------------------------------------------- vprnctl

def vprnctl(socket_path, *args, json_out=True, check=True, timeout=10):
    """Run vprnctl against a daemon's control socket.

    With json_out: returns the parsed document's "result" (raises on ok=false
    when check). Without: returns the CompletedProcess.
    """
    exe = binary("vprnctl")
    if exe is None:
        raise RuntimeError("vprnctl not built")
    cmd = [exe] + (["--json"] if json_out else []) + ["--socket", socket_path] + list(args)
    r = run(cmd, check=False, timeout=timeout)
    if not json_out:
        if check and r.returncode != 0:
            raise RuntimeError(f"vprnctl {' '.join(args)}: {r.returncode}: {r.stderr}")
        return r
    try:
        doc = json.loads(r.stdout)
    except ValueError:
        raise RuntimeError(f"vprnctl {' '.join(args)}: no JSON (rc {r.returncode}): "
                           f"{r.stdout!r} {r.stderr!r}")
    if check and not doc.get("ok", False):
        raise RuntimeError(f"vprnctl {' '.join(args)}: {doc.get('error')}")
    return doc.get("result") if check else doc


# ---------------------------------------------------------------- wanem client

def wanem_cmd(ctl_path, line, timeout=5.0):
    """Send one control line to vprn-wanem; returns the answer's lines (without ok).

    Raises RuntimeError on an `error:` answer.
    """
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(ctl_path)
        s.sendall(line.encode() + b"\n")
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise RuntimeError(f"wanem closed the connection after {buf!r}")
            buf += chunk
            lines = buf.decode(errors="replace").split("\n")
            for i, ln in enumerate(lines[:-1]):
                if ln == "ok":
                    return lines[:i]
                if ln.startswith("error"):
                    raise RuntimeError(f"wanem: {line!r}: {ln}")


# ---------------------------------------------------------------- raw clients (abuse tests)

_PROBE = r"""
import json, socket, ssl, sys, time
host, port, mode, cert, key, ca, payload, timeout = sys.argv[1:9]
port, timeout, payload = int(port), float(timeout), bytes.fromhex(payload)
res = {"mode": mode}
t0 = time.monotonic()
s = socket.create_connection((host, port), timeout=timeout)
try:
    if mode == "tls":
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        ctx.check_hostname = False
        ctx.load_verify_locations(ca)
        if cert:
            ctx.load_cert_chain(cert, key)
        s = ctx.wrap_socket(s)
        res["handshake"] = "ok"
    if payload:
        s.sendall(payload)
    # Now wait for the server's verdict: a close or an alert (collect any data before).
    got = b""
    while True:
        data = s.recv(65536)
        if not data:
            break
        got += data
        res["data"] = got.hex()
    res["outcome"] = "eof"
except ssl.SSLEOFError:
    res["outcome"] = "eof"
except ssl.SSLError as e:
    res["outcome"] = "tls_error"
    res["error"] = str(e)
except (ConnectionResetError, BrokenPipeError) as e:
    res["outcome"] = "reset"
    res["error"] = str(e)
except socket.timeout:
    res["outcome"] = "timeout"
res["seconds"] = round(time.monotonic() - t0, 3)
print(json.dumps(res))
"""


def probe(ns, host, port, mode="tcp", cert="", key="", ca="", payload=b"", timeout=30.0):
    """Connect from namespace ns to host:port, optionally finish a TLS 1.3 handshake
    with (cert, key) trusting ca, send payload, and report what the server did:
    {"outcome": "eof"|"reset"|"tls_error"|"timeout", "data": hex of what came before, ...}.
    A closed connection is eof/reset/tls_error; "timeout" means the server kept it open
    for `timeout` s."""
    r = ns.python(_PROBE, host, port, mode, cert, key, ca, payload.hex(), timeout,
                  timeout=timeout + 60)
    return json.loads(r.stdout.strip().splitlines()[-1])


class HeldConnection:
    """A TCP connection held open from a namespace (slowloris-style abuse): sends
    `payload` once, then nothing; `closed_by_peer()` tells whether the server closed it."""

    _CODE = r"""
import socket, sys, select
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=30)
s.sendall(bytes.fromhex(sys.argv[3]))
print("connected", flush=True)
r, _, _ = select.select([s, sys.stdin], [], [])
if s in r:
    try:
        while s.recv(65536):
            pass
    except OSError:
        pass
    print("closed", flush=True)
"""

    def __init__(self, bed, ns, host, port, payload=b""):
        self.proc = ns.popen([PY, "-c", self._CODE, host, str(port), payload.hex()],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
        bed._children.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if line != "connected":
            raise RuntimeError(f"held connection to {host}:{port} failed: {line!r}")

    def closed_by_peer(self):
        return self.proc.poll() is not None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


# ---------------------------------------------------------------- captures

class Capture:
    """tcpdump on one interface of a namespace, written to a pcap in the run's
    directory (kept with the logs of a failed test); `stop()` returns the packets
    as scapy objects. E.g. `bed.capture_wan(site)` to check that only ESP
    crosses the WAN."""

    _n = 0

    def __init__(self, bed, ns, iface, bpf=""):
        Capture._n += 1
        self.path = os.path.join(bed.workdir, f"cap-{ns.name}-{iface}-{Capture._n}.pcap")
        self.proc = ns.popen(["tcpdump", "-i", iface, "-n", "-U", "-s", "0", "-w", self.path]
                             + (bpf.split() if bpf else []),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        bed._children.append(self.proc)
        line = self.proc.stderr.readline()  # "listening on IFACE, ..." once ready
        if "listening" not in line:
            raise RuntimeError(f"tcpdump on {ns.name}/{iface}: {line.strip()}")

    def stop(self):
        """Stop the capture; returns the list of packets (scapy)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        from scapy.all import rdpcap  # imported late: scapy is slow to load
        return list(rdpcap(self.path))


# ---------------------------------------------------------------- multicast helpers

MCAST_RECV = r"""
import socket, struct, sys, time
group, port, count, timeout = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE (root)
s.bind(("", port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
             struct.pack("4s4s", socket.inet_aton(group), socket.inet_aton("0.0.0.0")))
print("joined", flush=True)
s.settimeout(timeout)
n = 0
try:
    while count <= 0 or n < count:
        data, addr = s.recvfrom(65535)
        print(addr[0], data.hex(), flush=True)
        n += 1
except socket.timeout:
    pass
"""

MCAST_SEND = r"""
import socket, sys, time
group, port, ttl, interval = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)
for hexdata in sys.argv[5:]:
    s.sendto(bytes.fromhex(hexdata), (group, port))
    if interval > 0:
        time.sleep(interval)
"""


class McastReceiver:
    """A multicast receiver on a host: joins `group` (IGMP through the kernel) and
    records every datagram (source address, bytes) until stopped or `count` arrived."""

    def __init__(self, host, group, port, count=0, timeout=60.0):
        self.host = host
        self.group = group
        self.port = port
        self.packets = []
        self._lock = threading.Lock()
        self.proc = host.ns.popen([PY, "-c", MCAST_RECV, group, str(port), str(count),
                                   str(timeout)], stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True,
                                  start_new_session=True)
        host.bed._children.append(self.proc)
        first = self.proc.stdout.readline()
        if first.strip() != "joined":
            raise RuntimeError(f"multicast receiver on {host.name} failed to join")
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        for line in self.proc.stdout:
            src, hexdata = line.split()
            with self._lock:
                self.packets.append((src, bytes.fromhex(hexdata)))

    def received(self):
        with self._lock:
            return list(self.packets)

    def wait_for(self, n, timeout=30.0):
        return wait_until(lambda: len(self.received()) >= n and self.received(), timeout,
                          what=f"{n} datagrams for {self.group} on {self.host.name}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        self._thread.join(5)
        return self.received()


class Host:
    """A plain Linux host on a site LAN (its own namespace)."""

    def __init__(self, bed, site, letter, index):
        self.bed = bed
        self.site = site
        self.letter = letter
        self.name = f"{bed.prefix}h{site.index}{letter}"
        self.ns = Netns(self.name)
        self.addr = f"192.168.{site.index}.{10 + index}"

    def run(self, args, check=True, **kw):
        return self.ns.run(args, check=check, **kw)

    def sh(self, script, check=True, **kw):
        return self.ns.sh(script, check=check, **kw)

    def mcast_receiver(self, group, port, count=0, timeout=60.0):
        return McastReceiver(self, group, port, count, timeout)

    def mcast_send(self, group, port, payloads, ttl=8, interval=0.0):
        """Send each payload (bytes) as one UDP datagram to group:port."""
        return self.ns.run([PY, "-c", MCAST_SEND, group, str(port), str(ttl), str(interval)]
                           + [p.hex() for p in payloads], timeout=120)

    def __repr__(self):
        return f"Host({self.name}, {self.addr})"


class Site:
    def __init__(self, bed, index, name):
        self.bed = bed
        self.index = index
        self.name = name
        self.ns = Netns(f"{bed.prefix}s{index}")
        self.hosts = []
        self.mgmt_addr = f"{MGMT_NET}.{10 + index}"
        self.lan_addr = f"192.168.{index}.1"
        self.wan_addr = f"10.100.{index}.2"
        self.wan_gw = f"10.100.{index}.1"
        self.wan_peer = f"w{index}"  # the interface in the wan namespace
        self.ed = None
        self.ctl = os.path.join(bed.workdir, f"ed-{name}.sock")
        self.conf_path = os.path.join(bed.workdir, f"ed-{name}.conf")
        self.cert = self.key = None

    def __repr__(self):
        return f"Site({self.name}, {self.ns.name})"


# ---------------------------------------------------------------- the testbed

_live = []          # testbeds to tear down at exit
_live_lock = threading.Lock()


def _teardown_all(*_):
    with _live_lock:
        beds = list(_live)
    for b in beds:
        try:
            b.teardown()
        except Exception as e:  # keep going: every namespace must go
            log(f"teardown of {b.prefix}: {e}")


atexit.register(_teardown_all)


def _on_signal(signum, frame):
    _teardown_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_signal_handlers():
    """Tear down on SIGTERM (SIGINT is a KeyboardInterrupt: finalizers and atexit run)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_signal)
        signal.signal(signal.SIGHUP, _on_signal)


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def cleanup_stale():
    """Remove what runs killed with SIGKILL left behind (their owner pid is dead)."""
    if not os.path.isdir(STATE_DIR):
        return
    for fn in os.listdir(STATE_DIR):
        path = os.path.join(STATE_DIR, fn)
        try:
            with open(path) as f:
                pid = int(f.read().strip() or "0")
        except (OSError, ValueError):
            pid = 0
        if pid and _pid_alive(pid):
            continue
        log(f"removing stale run {fn} (owner {pid} gone)")
        _delete_namespaces(fn)
        _remove_dpdk_runtime(fn)
        shutil.rmtree(os.path.join("/tmp", f"vprn-e2e-{fn}"), ignore_errors=True)
        try:
            os.unlink(path)
        except OSError:
            pass


def _list_netns():
    r = run(["ip", "-j", "netns", "list"], check=False)
    try:
        return [n["name"] for n in json.loads(r.stdout or "[]")]
    except ValueError:
        return []


def _ours(prefix, name):
    """Whether a namespace name is one this testbed makes for `prefix`."""
    return re.fullmatch(re.escape(prefix) + r"(vnoc|wan|s\d+|h\d+[a-z])", name) is not None


def _delete_namespaces(prefix):
    for name in _list_netns():
        if not _ours(prefix, name):
            continue
        # Anything still running inside (a daemon's child, a stray sender) dies first.
        pids = run(["ip", "netns", "pids", name], check=False).stdout.split()
        for p in pids:
            try:
                os.kill(int(p), signal.SIGKILL)
            except (ProcessLookupError, ValueError):
                pass
        run(["ip", "netns", "del", name], check=False)


def _remove_dpdk_runtime(prefix):
    base = "/var/run/dpdk"
    if os.path.isdir(base):
        for d in os.listdir(base):
            if d.endswith("-" + prefix):
                shutil.rmtree(os.path.join(base, d), ignore_errors=True)


def _new_prefix():
    os.makedirs(STATE_DIR, exist_ok=True)
    taken = set(_list_netns())
    for _ in range(100):
        p = "v" + secrets.token_hex(2)[:3]
        marker = os.path.join(STATE_DIR, p)
        if any(n.startswith(p) for n in taken):
            continue
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        return p
    raise RuntimeError("no free testbed prefix")


def _find_connected(doc):
    """Look for a session state in a status document (field names tolerated)."""
    if isinstance(doc, dict):
        for k, v in doc.items():
            lk = k.lower()
            if lk in ("connected", "vnoc_connected", "registered") and isinstance(v, bool):
                return v
            if ("state" in lk or "session" in lk or "status" in lk) and isinstance(v, str):
                return v.lower() in ("connected", "established", "up", "registered", "welcomed")
        for v in doc.values():
            if isinstance(v, (dict, list)):
                r = _find_connected(v)
                if r is not None:
                    return r
    if isinstance(doc, list):
        for v in doc:
            r = _find_connected(v)
            if r is not None:
                return r
    return None


class Testbed:
    """N sites with hosts, a WAN namespace with vprn-wanem, a VNOC namespace.

    Build the namespaces with `build()`, then start what a test needs:
    `start_wanem()`, `start_vnoc()`, `start_ed(site)` / `start_eds()`.
    `teardown()` removes everything and is idempotent.
    """

    def __init__(self, n_sites=2, hosts_per_site=1, workdir=None, site_names=None,
                 log_level="debug", ca=None, vpn="acme"):
        assert 1 <= n_sites <= 200
        cleanup_stale()
        self.prefix = _new_prefix()
        self.workdir = workdir or os.path.join("/tmp", f"vprn-e2e-{self.prefix}")
        os.makedirs(self.workdir, exist_ok=True)
        self.log_level = log_level
        self.vpn = vpn
        names = site_names or [f"site{i}" for i in range(1, n_sites + 1)]
        assert len(names) == n_sites
        self.sites = [Site(self, i + 1, n) for i, n in enumerate(names)]
        self.hosts_per_site = hosts_per_site
        self.vnoc_ns = Netns(f"{self.prefix}vnoc")
        self.wan_ns = Netns(f"{self.prefix}wan")
        self.namespaces = []
        self.procs = []
        self._children = []  # helper processes (receivers) killed at teardown
        self.wanem = None
        self.vnoc = None
        self.wanem_ctl = os.path.join(self.workdir, "wanem.sock")
        self.vnoc_ctl = os.path.join(self.workdir, "vnoc.sock")
        self.vnoc_conf_path = os.path.join(self.workdir, "vnoc.conf")
        self.ca = ca
        self.vnoc_cert = self.vnoc_key = None
        self._torn_down = False
        self._owner = os.getpid()
        with _live_lock:
            _live.append(self)

    # ---- topology

    def _add_ns(self, ns):
        ip("netns", "add", ns.name)
        self.namespaces.append(ns)
        # No IPv6 anywhere: no router solicitations or MLD noise on the links.
        ns.sh("sysctl -qw net.ipv6.conf.all.disable_ipv6=1 "
              "net.ipv6.conf.default.disable_ipv6=1; ip link set lo up")

    def build(self):
        """Create namespaces, veths and bridges (no daemons)."""
        try:
            self._build()
        except BaseException:
            self.teardown()
            raise
        return self

    def _build(self):
        v, w = self.vnoc_ns, self.wan_ns
        self._add_ns(v)
        self._add_ns(w)
        ip("link", "add", "mgmt", "type", "bridge", ns=v.name)
        ip("addr", "add", f"{VNOC_ADDR}/16", "dev", "mgmt", ns=v.name)
        ip("link", "set", "mgmt", "up", ns=v.name)
        for s in self.sites:
            self._build_site(s)

    def _build_site(self, s):
        n = s.ns.name
        self._add_ns(s.ns)
        # management port to the VNOC
        ip("link", "add", "mgmt0", "type", "veth", "peer", "name", f"m{s.index}",
           "netns", self.vnoc_ns.name, ns=n)
        ip("link", "set", f"m{s.index}", "master", "mgmt", "up", ns=self.vnoc_ns.name)
        ip("addr", "add", f"{s.mgmt_addr}/16", "dev", "mgmt0", ns=n)
        ip("link", "set", "mgmt0", "up", ns=n)
        # WAN link: wan0 (DPDK) <-> w<i> (vprn-wanem)
        ip("link", "add", "wan0", "type", "veth", "peer", "name", s.wan_peer,
           "netns", self.wan_ns.name, ns=n)
        ip("link", "set", "wan0", "up", ns=n)
        ip("link", "set", s.wan_peer, "up", ns=self.wan_ns.name)
        # LAN: bridge br0, lan0 (DPDK) plugged in through lan0p
        ip("link", "add", "br0", "type", "bridge", "mcast_snooping", "0", ns=n)
        ip("link", "set", "br0", "up", ns=n)
        ip("link", "add", "lan0", "type", "veth", "peer", "name", "lan0p", ns=n)
        ip("link", "set", "lan0p", "master", "br0", "up", ns=n)
        ip("link", "set", "lan0", "up", ns=n)
        offload_off(s.ns, "lan0", "wan0")
        for k in range(self.hosts_per_site):
            self.add_host(s)

    def add_host(self, site):
        """One more host namespace on the site's LAN."""
        k = len(site.hosts)
        h = Host(self, site, "abcdefghijklmnopqrstuvwxyz"[k], k)
        self._add_ns(h.ns)
        ip("link", "add", "eth0", "type", "veth", "peer", "name", f"h{h.letter}",
           "netns", site.ns.name, ns=h.name)
        ip("link", "set", f"h{h.letter}", "master", "br0", "up", ns=site.ns.name)
        ip("addr", "add", f"{h.addr}/24", "dev", "eth0", ns=h.name)
        ip("link", "set", "eth0", "up", ns=h.name)
        ip("route", "add", "default", "via", site.lan_addr, ns=h.name)
        offload_off(h.ns, "eth0")
        site.hosts.append(h)
        return h

    def site(self, name_or_index):
        for s in self.sites:
            if s.name == name_or_index or s.index == name_or_index:
                return s
        raise KeyError(name_or_index)

    # ---- processes

    def proc(self, name, ns, args, env=None):
        p = Proc(name, ns, args, os.path.join(self.workdir, f"{name}.log"), env=env)
        self.procs.append(p)
        return p

    def start_wanem(self, delays=(), extra=()):
        """Start vprn-wanem in the WAN namespace; delays: iterable of 'A,B,MS[,J[,L]]'."""
        exe = binary("vprn-wanem")
        assert exe, "vprn-wanem not built"
        args = [exe, "--ctl", self.wanem_ctl, "--log-level", self.log_level]
        for s in self.sites:
            args += ["--link", f"{s.name}={s.wan_peer},{s.wan_gw}/24"]
        for d in delays:
            args += ["--delay", d]
        args += list(extra)
        self.wanem = self.proc("wanem", self.wan_ns, args).start()
        wait_until(lambda: os.path.exists(self.wanem_ctl) and self.wanem_stats() is not None,
                   20, what="vprn-wanem control socket")
        return self.wanem

    def capture_wan(self, site, bpf=""):
        """Capture what crosses the WAN on site's link (the wan namespace side)."""
        return Capture(self, self.wan_ns, site.wan_peer, bpf)

    def wanem_cmd(self, line):
        return wanem_cmd(self.wanem_ctl, line)

    def wanem_stats(self):
        return json.loads(self.wanem_cmd("stats json")[0])

    def set_delay(self, src, dst, ms, jitter=0, loss=0, both=False):
        self.wanem_cmd(f"{'sym' if both else 'delay'} {src} {dst} {ms} {jitter} {loss}")

    # ---- certificates and configuration

    def ensure_certs(self):
        if self.ca is None:
            self.ca = CA(os.path.join(self.workdir, "ca"))
        if self.vnoc_cert is None:
            self.vnoc_cert, self.vnoc_key = self.ca.issue("vnoc", self.workdir)
        for s in self.sites:
            if s.cert is None:
                s.cert, s.key = self.ca.issue(s.name, self.workdir)

    def vnoc_config(self):
        """The VNOC's configuration as a dict (tests edit it, then write_vnoc_config)."""
        self.ensure_certs()
        return {
            "log_level": self.log_level,
            "ctl_socket": self.vnoc_ctl,
            "listen": {"address": "0.0.0.0", "port": VNOC_PORT},
            "tls": {"ca": self.ca.cert, "cert": self.vnoc_cert, "key": self.vnoc_key,
                    "crl": "", "handshake_timeout_ms": 2000},
            "timers": {"refresh_interval_ms": 1000, "hold_time_ms": 3000,
                       "probe_interval_ms": 1000, "metrics_interval_ms": 2000},
            "database": os.path.join(self.workdir, "vnoc.db"),
            "vpns": [{
                "name": self.vpn,
                "sites": [{"name": s.name, "wan": s.wan_addr, "max_degree": 8, "relay": True}
                          for s in self.sites],
                "groups": [],
            }],
        }

    def write_vnoc_config(self, conf=None):
        return write_file(self.vnoc_conf_path, libconfig_text(conf or self.vnoc_config()))

    def ed_config(self, site):
        self.ensure_certs()
        return {
            "site": site.name,
            "log_level": self.log_level,
            "ctl_socket": site.ctl,
            "vnoc": {"address": VNOC_ADDR, "port": VNOC_PORT, "ca": self.ca.cert,
                     "cert": site.cert, "key": site.key, "crl": ""},
            "lan": {"device": "net_af_packet0,iface=lan0", "address": f"{site.lan_addr}/24",
                    "mtu": 1500},
            "wan": {"device": "net_af_packet1,iface=wan0", "address": f"{site.wan_addr}/24",
                    "gateway": site.wan_gw, "mtu": 1500},
            "dataplane": {"workers": 1, "idle_sleep_us": 200, "mbufs": 4095},
        }

    def write_ed_config(self, site, conf=None):
        return write_file(site.conf_path, libconfig_text(conf or self.ed_config(site)))

    # ---- daemons

    def start_vnoc(self, conf=None, extra=()):
        exe = binary("vprn-vnoc")
        assert exe, "vprn-vnoc not built"
        if conf is not None or not os.path.exists(self.vnoc_conf_path):
            self.write_vnoc_config(conf)
        if self.vnoc is None:
            args = [exe, "-c", self.vnoc_conf_path, "--ctl", self.vnoc_ctl,
                    "--log-level", self.log_level] + list(extra)
            self.vnoc = self.proc("vnoc", self.vnoc_ns, args)
        self.vnoc.start()
        wait_until(lambda: self.vnoc_alive_and_serving(), 30, what="vprn-vnoc control socket")
        return self.vnoc

    def vnoc_alive_and_serving(self):
        if not self.vnoc.alive():
            raise AssertionError(f"vprn-vnoc exited ({self.vnoc.returncode()}):\n"
                                 + self.vnoc.log_text()[-3000:])
        return os.path.exists(self.vnoc_ctl) and vprnctl(self.vnoc_ctl, "vnoc", "sites") is not None

    def ed_args(self, site):
        exe = binary("vprn-ed")
        assert exe, "vprn-ed not built"
        return [exe, "-l", "0,1", "--no-huge", "--no-pci", "-m", "256",
                f"--file-prefix=vprn-{site.name}-{self.prefix}", "--log-level=lib.*:notice",
                "--", "-c", site.conf_path, "--ctl", site.ctl, "--log-level", self.log_level]

    def start_ed(self, site, conf=None):
        if conf is not None or not os.path.exists(site.conf_path):
            self.write_ed_config(site, conf)
        if site.ed is None:
            site.ed = self.proc(f"ed-{site.name}", site.ns, self.ed_args(site))
        site.ed.start()
        return site.ed

    def start_eds(self):
        for s in self.sites:
            self.start_ed(s)
        for s in self.sites:
            self.wait_ed_up(s)

    def wait_ed_up(self, site, timeout=60):
        def up():
            if not site.ed.alive():
                raise AssertionError(f"vprn-ed {site.name} exited ({site.ed.returncode()}):\n"
                                     + site.ed.log_text()[-3000:])
            return os.path.exists(site.ctl) and vprnctl(site.ctl, "ed", "status")
        return wait_until(up, timeout, what=f"vprn-ed {site.name} control socket")

    def ed_status(self, site):
        return vprnctl(site.ctl, "ed", "status")

    def vnoc_sites(self):
        """`vprnctl --json vnoc sites` -> {site name: entry}."""
        res = vprnctl(self.vnoc_ctl, "vnoc", "sites")
        if isinstance(res, dict) and "sites" in res:
            res = res["sites"]
        if isinstance(res, dict):
            return res
        return {e.get("name", e.get("site")): e for e in res}

    @staticmethod
    def site_connected(entry):
        """Whether a `vnoc sites` entry says the site is connected (tolerant of field names)."""
        if entry is None:
            return False
        for k in ("connected", "online", "up"):
            if k in entry:
                return bool(entry[k])
        state = str(entry.get("state", entry.get("status", ""))).lower()
        return state in ("connected", "up", "online", "established", "registered")

    def connected_sites(self):
        return {n for n, e in self.vnoc_sites().items() if self.site_connected(e)}

    def wait_sites_connected(self, names=None, timeout=60):
        want = set(names if names is not None else (s.name for s in self.sites))
        return wait_until(lambda: want <= self.connected_sites(), timeout,
                          what=f"sites {sorted(want)} connected")

    def ed_stop(self, site):
        """SIGTERM the site's ED and wait for it to exit."""
        if site.ed is not None:
            site.ed.stop()

    def ed_stats(self, site):
        """`vprnctl --json ed stats`: lan_rx, wan_rx, drops, drop_reasons, ..."""
        return vprnctl(site.ctl, "ed", "stats")

    def ed_connected(self, site):
        """Whether `vprnctl ed status` says the ED's VNOC session is up (raises when
        the status document has no recognisable session state)."""
        st = self.ed_status(site)
        if isinstance(st, dict) and isinstance(st.get("vnoc"), dict) and "state" in st["vnoc"]:
            return st["vnoc"]["state"] == "up"
        r = _find_connected(st)
        if r is None:
            raise AssertionError(f"no session state in ed status: {st!r}")
        return r

    def vnoc_status(self):
        return vprnctl(self.vnoc_ctl, "vnoc", "status")

    def vnoc_counter(self, name):
        """A counter of `vprnctl vnoc status` (refused_tls, refused_unknown_site,
        timeouts, protocol_errors, established, ...)."""
        return int(self.vnoc_status()["counters"][name])

    def vnoc_refusals(self):
        """Sessions refused so far: bad certificate (TLS) or unknown site name."""
        c = self.vnoc_status()["counters"]
        return int(c["refused_tls"]) + int(c["refused_unknown_site"])

    # ---- logs and teardown

    def keep_logs(self, dest):
        """Copy every log and config (not keys) to dest."""
        os.makedirs(dest, exist_ok=True)
        for fn in os.listdir(self.workdir):
            if fn.endswith((".log", ".conf", ".pcap")):
                shutil.copy2(os.path.join(self.workdir, fn), dest)
        snapshots = []
        if self.wanem is not None and self.wanem.alive():
            snapshots.append(("wanem-stats.txt", lambda: "\n".join(self.wanem_cmd("stats"))))
        if self.vnoc is not None and self.vnoc.alive():
            for cmd in ("sites", "status"):
                snapshots.append((f"vnoc-{cmd}.json", lambda c=cmd: json.dumps(
                    vprnctl(self.vnoc_ctl, "vnoc", c), indent=1)))
        for s in self.sites:
            if s.ed is not None and s.ed.alive():
                for cmd in ("status", "stats"):
                    snapshots.append((f"ed-{s.name}-{cmd}.json", lambda s=s, c=cmd: json.dumps(
                        vprnctl(s.ctl, "ed", c), indent=1)))
        for fn, get in snapshots:  # the state at the time of the failure
            try:
                write_file(os.path.join(dest, fn), get() + "\n")
            except Exception as e:
                write_file(os.path.join(dest, fn), f"unavailable: {e}\n")

    def teardown(self):
        if self._torn_down or os.getpid() != self._owner:
            return
        self._torn_down = True
        for c in self._children:
            if c.poll() is None:
                c.kill()
            try:
                c.wait(5)
            except subprocess.TimeoutExpired:
                pass
        # EDs first (they would otherwise reconnect), then the VNOC, then the WAN.
        order = sorted(self.procs, key=lambda p: (p.name == "wanem", p.name == "vnoc"))
        for p in order:
            try:
                p.stop(timeout=5)
            except Exception as e:
                log(f"stopping {p.name}: {e}")
        _delete_namespaces(self.prefix)
        _remove_dpdk_runtime(self.prefix)
        try:
            os.unlink(os.path.join(STATE_DIR, self.prefix))
        except OSError:
            pass
        shutil.rmtree(self.workdir, ignore_errors=True)
        with _live_lock:
            if self in _live:
                _live.remove(self)

    def __enter__(self):
        return self.build()

    def __exit__(self, *exc):
        self.teardown()
        return False


def leftovers(prefix):
    """Namespaces and DPDK runtime dirs still present for a prefix (for teardown tests)."""
    ns = [n for n in _list_netns() if _ours(prefix, n)]
    dp = [d for d in (os.listdir("/var/run/dpdk") if os.path.isdir("/var/run/dpdk") else [])
          if d.endswith("-" + prefix)]
    return ns + dp
