#!/usr/bin/env python3
"""Self-test of mcpfuzz's in-target coverage bridges (standard library only).

Plays the fuzzer's part for src/coverage/sitecustomize.py (Python targets) and
src/coverage/node_preload.js (Node targets) against the fixtures in testbed/coverage/:

  Python: a memfd of MCPFUZZ_COV_SIZE bytes mmapped MAP_SHARED here and handed to the
          target as MCPFUZZ_COV_MAP=/proc/<our pid>/fd/<n>, a temporary copy of
          sitecustomize.py first on PYTHONPATH, PYTHONHASHSEED=0. Per input: zero the map,
          send tools/call + ping, wait for the ping reply, wait until every thread of the
          target sleeps (see settle()), read the map.
  Node:   a Unix socket listened on here, MCPFUZZ_NODE_COV=<its path>,
          NODE_OPTIONS=--require <temporary copy of node_preload.js>. Per input: send
          tools/call + ping, wait for the ping reply, send 'c' to every connected client
          and OR the answers (the answer also resets the counters, so it is the zeroing).

Then prints per-input overhead (N=300 call+ping round trips with coverage on vs off) and,
last, `N passed, N failed`; exits non-zero when something failed. Takes about 15 s
(creating the venv for the console-script case is half of it). Needs node for the js_
tests (skipped without it).

    python3 testbed/coverage_selftest.py [-v] [name-substring ...]
"""

import base64
import hashlib
import json
import mmap
import os
import re
import resource
import select
import shutil
import signal
import socket
import struct
import subprocess
import sysconfig
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in testbed/
from checks import Failure, expect  # noqa: E402  (testbed/checks.py)

SITECUSTOMIZE = os.path.join(ROOT, "src", "coverage", "sitecustomize.py")
PRELOAD = os.path.join(ROOT, "src", "coverage", "node_preload.js")
FIXTURES = os.path.join(HERE, "coverage")
TINY_PY = os.path.join(FIXTURES, "tiny_server.py")
TINY_JS = os.path.join(FIXTURES, "tiny_server.js")
MAGIC_PY = os.path.join(FIXTURES, "magic_server.py")
MAGIC_JS = os.path.join(FIXTURES, "magic_server.js")
# The magic servers' secret, from the same character codes they compare with.
SECRET = "".join(chr(c) for c in (0x6B, 0x37, 0x51, 0x7A, 0x21, 0x4D))

SIZE = 65536
WAIT = 10.0
ROUNDS = 300
WARMUP = 50  # round trips before the timed ones
PYTHON = sys.executable
NODE = shutil.which("node")
VERBOSE = False
NONZERO = re.compile(rb"[^\x00]")
ZERO = bytes(SIZE)

TMP = None  # the run's temporary directory
COV_PY_DIR = None  # holds the copy of sitecustomize.py
COV_JS = None  # the copy of node_preload.js
LIVE = []  # every Server started, stopped at the end
NOTES = []  # figures printed after the results


def log(*parts):
    if VERBOSE:
        print("   ", *parts, flush=True)


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # the magic servers abort


def base_env():
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("MCPFUZZ_") and k not in ("PYTHONPATH", "NODE_OPTIONS", "PYTHONSTARTUP")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


# ---------------------------------------------------------------------------------------
# The fuzzer's side: maps, the Node hub, a JSON-RPC client


class MemfdMap:
    """The map as the fuzzer will hold it: a memfd, named to targets via /proc/<pid>/fd."""

    def __init__(self, size=SIZE):
        self.fd = os.memfd_create("mcpfuzz-cov")  # close-on-exec: targets open the path
        os.ftruncate(self.fd, size)
        self.mm = mmap.mmap(self.fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.path = "/proc/%d/fd/%d" % (os.getpid(), self.fd)

    def zero(self):
        self.mm[:] = ZERO

    def edges(self):
        data = self.mm[:]
        nonzero = len(data) - data.count(0)
        found = []
        at = data.find(1)
        while at >= 0:  # the bridge stores 1: memchr-fast
            found.append(at)
            at = data.find(1, at + 1)
        if len(found) != nonzero:  # some other non-zero value
            found = [m.start() for m in NONZERO.finditer(data)]
        return frozenset(found)

    def close(self):
        self.mm.close()
        os.close(self.fd)


class FileMap(MemfdMap):
    """The map as a plain temporary file."""

    def __init__(self, size=SIZE):
        fd, self.path = tempfile.mkstemp(prefix="map-", dir=TMP)
        os.ftruncate(fd, size)
        self.fd = fd
        self.mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)


class Hub:
    """The Unix socket the Node preloads connect to; asks each client and ORs the answers."""

    count = 0

    def __init__(self):
        Hub.count += 1
        self.path = os.path.join(TMP, "cov-%d.sock" % Hub.count)
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(16)
        self.clients = []  # [pid, socket]

    def accept(self, wait=0.0):
        while True:
            ready, _, _ = select.select([self.listener], [], [], wait)
            if not ready:
                return
            conn, _ = self.listener.accept()
            conn.settimeout(WAIT)
            hello = recv_exact(conn, 8)
            expect(hello[:4] == b"MCPC", "bad hello from a preload", hello)
            self.clients.append([struct.unpack("<I", hello[4:])[0], conn])
            wait = 0.0

    def wait_clients(self, n, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while len(self.clients) < n and time.monotonic() < deadline:
            self.accept(wait=0.05)
        return len(self.clients)

    def ask(self):
        """Sends 'c' to every client; returns {pid: [indices]} (dead clients are dropped)."""
        self.accept()
        answers = {}
        for client in list(self.clients):
            pid, conn = client
            try:
                conn.sendall(b"c")
                n = struct.unpack("<I", recv_exact(conn, 4))[0]
                answers[pid] = list(struct.unpack("<%dI" % n, recv_exact(conn, 4 * n)))
            except (OSError, EOFError):
                conn.close()
                self.clients.remove(client)
        return answers

    def collect(self):
        edges = set()
        for indices in self.ask().values():
            edges.update(indices)
        return frozenset(edges)

    def close(self):
        for _, conn in self.clients:
            conn.close()
        self.clients = []
        self.listener.close()


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("connection closed")
        data += chunk
    return data


def settle(pid, timeout=0.2):
    """Waits until no thread of `pid` is running or runnable.

    The ping reply is written a few Python lines before the server blocks in its next
    read: without this the map read can race with those lines' edges."""
    deadline = time.monotonic() + timeout
    while True:
        busy = False
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/stat" % (pid, tid), "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
                if state == b"R":
                    busy = True
                    break
        except OSError:
            return False
        if not busy:
            return True
        if time.monotonic() > deadline:
            return False
        os.sched_yield()


class Server:
    """A target process spoken to over newline-delimited JSON-RPC."""

    def __init__(self, argv, env, cwd=None):
        self.errfile = tempfile.TemporaryFile(dir=TMP)
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.errfile, env=env, cwd=cwd or TMP,
                                     preexec_fn=no_core)
        LIVE.append(self)
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.next_id = 0
        self.extra = []  # stdout lines that are not replies to our requests
        self.eof = False

    def write(self, *messages):
        data = b"".join(json.dumps(m, separators=(",", ":")).encode() + b"\n" for m in messages)
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def new_id(self):
        self.next_id += 1
        return self.next_id

    def read_line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Failure("no reply within %.0f s" % WAIT)
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                chunk = os.read(self.fd, 65536)
                if not chunk:
                    self.eof = True
                    return None
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def wait_reply(self, msg_id, timeout=WAIT):
        deadline = time.monotonic() + timeout
        while True:
            line = self.read_line(deadline)
            if line is None:
                return None
            try:
                msg = json.loads(line)
            except ValueError:
                self.extra.append(line)
                continue
            if isinstance(msg, dict) and msg.get("jsonrpc") == "2.0" and msg.get("id") == msg_id:
                return msg
            self.extra.append(line)

    def request(self, method, params=None):
        msg_id = self.new_id()
        msg = {"jsonrpc": "2.0", "id": msg_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.write(msg)
        reply = self.wait_reply(msg_id)
        expect(reply is not None and "result" in reply, "no result for " + method, reply)
        return reply["result"]

    def handshake(self):
        self.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                                    "clientInfo": {"name": "coverage_selftest", "version": "1"}})
        self.write({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return self.request("tools/list")["tools"]

    def call(self, tool, arguments):
        """tools/call + ping in one write; returns the call's text, or None if the server died."""
        call_id, ping_id = self.new_id(), self.new_id()
        self.write({"jsonrpc": "2.0", "id": call_id, "method": "tools/call",
                    "params": {"name": tool, "arguments": arguments}},
                   {"jsonrpc": "2.0", "id": ping_id, "method": "ping"})
        reply = self.wait_reply(call_id)
        if reply is None:
            return None
        expect("result" in reply, "tools/call failed", reply)
        ping = self.wait_reply(ping_id)
        expect(ping is not None and ping.get("result") == {}, "no ping reply", ping)
        return reply["result"]["content"][0]["text"]

    def stderr(self):
        self.errfile.seek(0)
        return self.errfile.read().decode("utf-8", "replace")

    def close(self):
        """Closes stdin and returns the exit status (kills the server if it lingers)."""
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(WAIT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self in LIVE:
            LIVE.remove(self)
        return self.proc.returncode


# ---------------------------------------------------------------------------------------
# Spawning targets with the bridges on


def py_env(cov_map=None, map_path=None, **extra):
    env = base_env()
    env["PYTHONPATH"] = COV_PY_DIR
    if cov_map is not None:
        env["MCPFUZZ_COV_MAP"] = cov_map.path
    if map_path is not None:
        env["MCPFUZZ_COV_MAP"] = map_path
    env.update(extra)
    return env


def js_env(hub=None, socket_path=None, **extra):
    env = base_env()
    env["NODE_OPTIONS"] = "--require " + COV_JS
    if hub is not None:
        env["MCPFUZZ_NODE_COV"] = hub.path
    if socket_path is not None:
        env["MCPFUZZ_NODE_COV"] = socket_path
    env.update(extra)
    return env


class PyTarget:
    """A Python server with its map; run(text) returns the input's edge set."""

    def __init__(self, argv, tool="probe", arg="text", cov_map=None, env_extra=None, cwd=None):
        self.map = cov_map or MemfdMap()
        self.own_map = cov_map is None
        self.tool, self.arg = tool, arg
        self.server = Server(argv, py_env(self.map, **(env_extra or {})), cwd=cwd)
        self.server.handshake()

    def run(self, text):
        self.map.zero()
        out = self.server.call(self.tool, {self.arg: text})
        if out is None:
            return None
        settle(self.server.proc.pid)
        return self.map.edges()

    def close(self):
        rc = self.server.close()
        if self.own_map:
            self.map.close()
        return rc


class JsTarget:
    def __init__(self, argv, tool="probe", arg="text", clients=1, env_extra=None):
        self.hub = Hub()
        self.tool, self.arg = tool, arg
        self.server = Server(argv, js_env(self.hub, **(env_extra or {})))
        self.server.handshake()
        got = self.hub.wait_clients(clients)
        expect(got >= clients, "expected %d preload connections" % clients, got)
        self.hub.collect()  # drops what the start-up and the handshake ran

    def run(self, text):
        out = self.server.call(self.tool, {self.arg: text})
        if out is None:
            return None
        return self.hub.collect()

    def close(self):
        rc = self.server.close()
        self.hub.close()
        return rc


def clean(server, what):
    """The server printed nothing but replies and nothing on stderr, and exits 0."""
    rc = server.close()
    expect(server.extra == [], what + ": stray stdout lines", server.extra)
    expect(server.stderr() == "", what + ": stderr is not empty", server.stderr())
    expect(rc == 0, what + ": exit status", rc)


# ---------------------------------------------------------------------------------------
# Tests

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


INPUTS = ["hello", "12", "1234", "HELLO", "a rather long sentence", ""]


def check_basics(make, what):
    """Edges recorded, different branches differ, same input is stable (also in a new process)."""
    t = make()
    sets = {}
    for text in INPUTS:
        sets[text] = t.run(text)
        log(what, repr(text), len(sets[text]), "edges")
    expect(all(sets[x] for x in INPUTS), "an input recorded no edge", {k: len(v) for k, v in sets.items()})
    expect(all(i < SIZE for s in sets.values() for i in s), "index out of the map")
    expect(len(set(sets.values())) == len(INPUTS), "different branches gave the same edge set",
           {k: len(v) for k, v in sets.items()})
    again = {text: t.run(text) for text in reversed(INPUTS)}
    for text in INPUTS:
        expect(again[text] == sets[text], "same input, different edges in the same process", text,
               sorted(again[text] ^ sets[text]))
    server = t.server
    t.close()
    clean(server, what)
    t2 = make()
    for text in INPUTS:
        fresh = t2.run(text)
        expect(fresh == sets[text], "same input, different edges in a fresh process", text,
               sorted(fresh ^ sets[text]))
    server = t2.server
    t2.close()
    clean(server, what)


def check_magic(t, what):
    sizes = []
    previous = None
    for k in range(6):
        edges = t.run(SECRET[:k] + "~")
        expect(edges, "%s: no edges with %d matching characters" % (what, k))
        expect(edges != previous, "%s: %d matching characters look like %d" % (what, k, k - 1))
        previous = edges
        sizes.append(len(edges))
    log(what, "edge counts by matching prefix length:", sizes)
    expect(t.server.call(t.tool, {t.arg: "nothing special"}) is not None, what + ": normal input failed")
    out = t.server.call(t.tool, {t.arg: SECRET})
    expect(out is None, what + ": the full secret did not crash the server", out)
    rc = t.server.proc.wait(WAIT)
    expect(rc == -signal.SIGABRT, what + ": exit status after the secret", rc)
    t.close()


@test
def py_basics():
    check_basics(lambda: PyTarget([PYTHON, TINY_PY]), "python3 tiny_server.py")


@test
def py_thread_traced():
    t = PyTarget([PYTHON, TINY_PY])
    a, b = t.run("t:a"), t.run("t:b")
    expect(a and b and a != b, "a branch inside a threading.Thread was not seen")
    t.close()


@test
def py_file_map():
    cov_map = FileMap()
    t = PyTarget([PYTHON, TINY_PY], cov_map=cov_map)
    expect(t.run("hello"), "no edges through a plain temp-file map")
    t.close()
    cov_map.close()
    os.unlink(cov_map.path)


@test
def py_filters():
    default = PyTarget([PYTHON, TINY_PY])
    expected = default.run("a rather long sentence")
    default.close()
    # Only the server's own file is traced: limiting to its directory changes nothing,
    # limiting to the standard library gives nothing (it is never traced).
    cases = [
        ("MCPFUZZ_COV_INCLUDE", FIXTURES, expected),
        ("MCPFUZZ_COV_INCLUDE",
         os.path.join(TMP, "nowhere") + os.pathsep + sysconfig.get_path("stdlib"), frozenset()),
        ("MCPFUZZ_COV_EXCLUDE", FIXTURES, frozenset()),
        ("MCPFUZZ_COV_EXCLUDE", os.path.join(TMP, "nowhere"), expected),
    ]
    for name, value, want in cases:
        t = PyTarget([PYTHON, TINY_PY], env_extra={name: value})
        got = t.run("a rather long sentence")
        t.close()
        expect(got == want, "%s=%s: wrong edges" % (name, value), len(got), len(want))


def write_package(parent):
    """mcpfuzz_tiny/: a copy of tiny_server.py as a package with __main__."""
    pkg = os.path.join(parent, "mcpfuzz_tiny")
    os.makedirs(pkg)
    shutil.copy(TINY_PY, os.path.join(pkg, "server.py"))
    with open(os.path.join(pkg, "__init__.py"), "w") as f:
        f.write("")
    with open(os.path.join(pkg, "__main__.py"), "w") as f:
        f.write("import sys\nfrom mcpfuzz_tiny.server import main\nsys.exit(main())\n")
    return pkg


@test
def py_module_mode():
    parent = os.path.join(TMP, "modpath")
    write_package(parent)
    make = lambda: PyTarget([PYTHON, "-m", "mcpfuzz_tiny"],  # noqa: E731
                            env_extra={"PYTHONPATH": COV_PY_DIR + os.pathsep + parent})
    t = make()
    a, b = t.run("12"), t.run("HELLO")
    expect(a and b and a != b, "python3 -m: no or indistinct edges")
    t.close()


def build_wheel(out_dir, src_parent):
    """A wheel made by hand (pip installs it offline without setuptools or wheel)."""
    name = "mcpfuzz_tiny-1.0-py3-none-any.whl"
    path = os.path.join(out_dir, name)
    files = {}
    for fname in ("__init__.py", "__main__.py", "server.py"):
        with open(os.path.join(src_parent, "mcpfuzz_tiny", fname), "rb") as f:
            files["mcpfuzz_tiny/" + fname] = f.read()
    info = "mcpfuzz_tiny-1.0.dist-info/"
    files[info + "METADATA"] = b"Metadata-Version: 2.1\nName: mcpfuzz-tiny\nVersion: 1.0\n"
    files[info + "WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: coverage_selftest\n"
                             b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    files[info + "entry_points.txt"] = b"[console_scripts]\nmcpfuzz-tiny = mcpfuzz_tiny.server:main\n"
    record = []
    for fname, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (fname, digest, len(data)))
    record.append(info + "RECORD,,")
    files[info + "RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(path, "w") as z:
        for fname, data in files.items():
            z.writestr(fname, data)
    return path


@test
def py_venv_entry_point():
    venv = os.path.join(TMP, "venv")
    subprocess.run([PYTHON, "-m", "venv", venv], check=True, env=base_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    vpy = os.path.join(venv, "bin", "python")
    src = os.path.join(TMP, "pkgsrc")
    write_package(src)
    with open(os.path.join(src, "pyproject.toml"), "w") as f:
        f.write('[build-system]\nrequires = ["setuptools"]\nbuild-backend = "setuptools.build_meta"\n\n'
                '[project]\nname = "mcpfuzz-tiny"\nversion = "1.0"\n\n'
                '[project.scripts]\nmcpfuzz-tiny = "mcpfuzz_tiny.server:main"\n\n'
                '[tool.setuptools]\npackages = ["mcpfuzz_tiny"]\n')
    pip = [vpy, "-m", "pip", "install", "--no-index", "--disable-pip-version-check", "-q"]
    how = None
    r = subprocess.run(pip + ["--no-build-isolation", src], env=base_env(), cwd=TMP,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode == 0:
        how = "pip install --no-index --no-build-isolation <source dir>"
    else:
        why = [l.strip() for l in r.stdout.decode(errors="replace").splitlines()
               if "error" in l.lower() or "invalid command" in l.lower()]
        log("pip install from source failed:", why[:3])
        wheel = build_wheel(TMP, src)
        r = subprocess.run(pip + [wheel], env=base_env(), cwd=TMP,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode == 0:
            how = ("pip install --no-index <hand-built wheel> (from source it failed: %s)"
                   % ([w for w in why if "invalid command" in w] + why + ["?"])[0])
    script = os.path.join(venv, "bin", "mcpfuzz-tiny")
    if how is None:
        site = subprocess.check_output([vpy, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                       text=True).strip()
        shutil.copytree(os.path.join(src, "mcpfuzz_tiny"), os.path.join(site, "mcpfuzz_tiny"))
        with open(script, "w") as f:
            f.write("#!%s\nimport re\nimport sys\nfrom mcpfuzz_tiny.server import main\n"
                    "if __name__ == '__main__':\n"
                    "    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])\n"
                    "    sys.exit(main())\n" % vpy)
        os.chmod(script, 0o755)
        how = "hand-written entry-point script"
    NOTES.append("venv console script installed with: " + how)
    expect(os.access(script, os.X_OK), "no console script", script)
    site = subprocess.check_output([vpy, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                   text=True, env=base_env()).strip()
    t = PyTarget([script], cwd=TMP)
    a, b = t.run("12"), t.run("HELLO")
    expect(a and b and a != b, "console script in a venv: no or indistinct edges")
    t.close()
    # The edges come from the installed copy in the venv's site-packages.
    t = PyTarget([script], cwd=TMP, env_extra={"MCPFUZZ_COV_INCLUDE": site})
    expect(t.run("12") == a, "site-packages code is not what was traced")
    t.close()


@test
def py_chain():
    other = os.path.join(TMP, "other")
    os.makedirs(other)
    with open(os.path.join(other, "sitecustomize.py"), "w") as f:
        f.write("import os\nos.environ['MCPFUZZ_CHAINED'] = 'yes'\n")
    code = ("import os, sys, sitecustomize; "
            "print(os.environ.get('MCPFUZZ_CHAINED'), sys.gettrace() is not None, sitecustomize.__file__)")
    cov_map = MemfdMap()
    try:
        for env_map, traced in ((cov_map.path, "True"), (None, "False")):
            env = py_env(PYTHONPATH=COV_PY_DIR + os.pathsep + other)
            if env_map:
                env["MCPFUZZ_COV_MAP"] = env_map
            r = subprocess.run([PYTHON, "-c", code], env=env, cwd=TMP, capture_output=True, text=True)
            want = "yes %s %s" % (traced, os.path.join(other, "sitecustomize.py"))
            expect(r.stdout.strip() == want and r.stderr == "", "chaining", r.stdout, r.stderr, want)
    finally:
        cov_map.close()


@test
def py_env_unset():
    # The bridge on the path but no map: nothing traced, nothing printed.
    r = subprocess.run([PYTHON, "-c", "import sys; print(sys.gettrace())"], env=py_env(),
                       capture_output=True, text=True)
    expect(r.stdout == "None\n" and r.stderr == "", "traced without MCPFUZZ_COV_MAP", r.stdout, r.stderr)
    for env in (py_env(), base_env()):
        s = Server([PYTHON, TINY_PY], env)
        s.handshake()
        for text in INPUTS:
            expect(s.call("probe", {"text": text}) is not None, "no reply")
        clean(s, "without coverage")


@test
def py_broken_map():
    small = os.path.join(TMP, "small-map")
    with open(small, "wb") as f:
        f.write(bytes(100))
    good = MemfdMap()
    cases = [
        {"MCPFUZZ_COV_MAP": os.path.join(TMP, "missing", "map")},
        {"MCPFUZZ_COV_MAP": small},
        {"MCPFUZZ_COV_MAP": TMP},  # a directory
        {"MCPFUZZ_COV_MAP": good.path, "MCPFUZZ_COV_SIZE": "1000"},
    ]
    for extra in cases:
        env = py_env()
        env.update(extra)
        s = Server([PYTHON, TINY_PY], env)
        s.handshake()
        expect(s.call("probe", {"text": "12"}) == "number: even", "server broken by a bad map", extra)
        rc = s.close()
        lines = s.stderr().splitlines()
        log(extra, lines)
        expect(len(lines) <= 1 and all(l.startswith("mcpfuzz-coverage:") for l in lines),
               "stderr with a bad map", extra, lines)
        expect(s.extra == [] and rc == 0, "stdout or exit status with a bad map", s.extra, rc)
    good.close()


@test
def py_magic():
    check_magic(PyTarget([PYTHON, MAGIC_PY], tool="inspect", arg="value"), "magic_server.py")


@test
def js_basics():
    check_basics(lambda: JsTarget([NODE, TINY_JS]), "node tiny_server.js")


@test
def js_protocol():
    t = JsTarget([NODE, TINY_JS])
    pid, conn = t.hub.clients[0]
    expect(pid == t.server.proc.pid, "hello pid is not the server's", pid, t.server.proc.pid)
    t.server.call("probe", {"text": "hello"})
    answers = t.hub.ask()
    indices = answers[pid]
    expect(indices and len(set(indices)) == len(indices), "indices not distinct", indices)
    expect(max(indices) < SIZE, "index out of the map")
    expect(t.hub.ask()[pid] == [], "counters not reset by an answer")
    # Several 'c' in one write get one answer each, in order; other bytes are ignored.
    conn.sendall(b"xcc")
    for _ in range(2):
        n = struct.unpack("<I", recv_exact(conn, 4))[0]
        expect(n == 0, "idle server reported ranges", n)
    # A 'c' that arrives while the server is busy is answered once it is free.
    call_id = t.server.new_id()
    t.server.write({"jsonrpc": "2.0", "id": call_id, "method": "tools/call",
                    "params": {"name": "probe", "arguments": {"text": "busy:x"}}})
    time.sleep(0.05)
    start = time.monotonic()
    conn.sendall(b"c")
    n = struct.unpack("<I", recv_exact(conn, 4))[0]
    recv_exact(conn, 4 * n)
    waited = time.monotonic() - start
    reply = t.server.wait_reply(call_id)
    expect(reply and reply["result"]["content"][0]["text"] == "was busy", "busy call", reply)
    expect(n > 0 and waited > 0.05, "answer while busy", n, waited)
    server = t.server
    t.close()
    clean(server, "protocol")


@test
def js_wrapper():
    # Like npx: a node launcher that spawns the server as a second node process.
    launcher = ("const c=require('child_process').spawn(process.execPath,[process.argv[1]],"
                "{stdio:'inherit'});c.on('exit',(code,sig)=>process.exit(code===null?1:code))")
    t = JsTarget([NODE, "-e", launcher, TINY_JS], clients=2)
    pids = [p for p, _ in t.hub.clients]
    expect(t.server.proc.pid in pids and len(set(pids)) == 2, "two distinct node processes", pids)
    direct = JsTarget([NODE, TINY_JS])
    for text in ("12", "HELLO"):
        t.server.call("probe", {"text": text})
        answers = t.hub.ask()
        child = [p for p in answers if p != t.server.proc.pid]
        expect(child and answers[child[0]], "the server under the launcher reported nothing", answers)
        expect(answers[t.server.proc.pid] == [], "the idle launcher reported ranges", answers)
        expect(set(answers[child[0]]) == direct.run(text), "edges differ under the launcher", text)
    server = t.server
    t.close()
    direct.close()
    clean(server, "under the launcher")


@test
def js_env_unset():
    for env in (js_env(), base_env()):
        s = Server([NODE, TINY_JS], env)
        s.handshake()
        for text in INPUTS:
            expect(s.call("probe", {"text": text}) is not None, "no reply")
        clean(s, "without coverage")


@test
def js_broken_socket():
    notsock = os.path.join(TMP, "not-a-socket")
    with open(notsock, "w") as f:
        f.write("x")
    for extra in ({"MCPFUZZ_NODE_COV": os.path.join(TMP, "missing.sock")},
                  {"MCPFUZZ_NODE_COV": notsock},
                  {"MCPFUZZ_NODE_COV": os.path.join(TMP, "missing.sock"), "MCPFUZZ_COV_SIZE": "1000"}):
        env = js_env()
        env.update(extra)
        s = Server([NODE, TINY_JS], env)
        s.handshake()
        for text in INPUTS:
            expect(s.call("probe", {"text": text}) is not None, "no reply", extra)
        rc = s.close()
        lines = s.stderr().splitlines()
        log(extra, lines)
        expect(len(lines) <= 1 and all(l.startswith("mcpfuzz-coverage:") for l in lines),
               "stderr with a bad socket", extra, lines)
        expect(s.extra == [] and rc == 0, "stdout or exit status with a bad socket", s.extra, rc)


@test
def js_hub_gone():
    # The fuzzer closing its end: the server goes on quietly and still exits at EOF.
    t = JsTarget([NODE, TINY_JS])
    t.hub.close()
    for text in INPUTS:
        expect(t.server.call("probe", {"text": text}) is not None, "no reply after the hub closed")
    clean(t.server, "hub gone")


@test
def js_no_keepalive():
    # The unref'd connection never keeps a process alive, connected or not.
    hub = Hub()
    try:
        for env in (js_env(hub), js_env(socket_path=os.path.join(TMP, "missing.sock"))):
            start = time.monotonic()
            r = subprocess.run([NODE, "-e", "setTimeout(() => {}, 50)"], env=env, capture_output=True,
                               text=True, timeout=WAIT)
            took = time.monotonic() - start
            expect(r.returncode == 0 and r.stdout == "" and took < 2.0, "node -e lingered or failed",
                   r.returncode, r.stdout, took)
        hub.accept(wait=0.5)
        expect(len(hub.clients) == 1, "node -e did not connect", len(hub.clients))
        expect(hub.ask() == {}, "an exited process still answered")
    finally:
        hub.close()


@test
def js_magic():
    check_magic(JsTarget([NODE, MAGIC_JS], tool="inspect", arg="value"), "magic_server.js")


TEXTS = ["hello", "12", "HELLO", "a rather long sentence"]


def timed(n, step, passes=3):
    """The best of `passes` timings of n steps (after WARMUP untimed ones)."""
    for i in range(WARMUP):
        step(TEXTS[i % len(TEXTS)])
    best = None
    for _ in range(passes):
        start = time.perf_counter()
        for i in range(n):
            step(TEXTS[i % len(TEXTS)])
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
    return best


def startup(argv, env):
    start = time.perf_counter()
    s = Server(argv, env)
    s.request("initialize", {"protocolVersion": "2025-06-18", "capabilities": {},
                             "clientInfo": {"name": "coverage_selftest", "version": "1"}})
    took = time.perf_counter() - start
    s.close()
    return took


def ms(seconds):
    return "%.3f ms" % (1000.0 * seconds / ROUNDS)


@test
def overhead():
    """Per-input cost, coverage off vs on, same server: N=ROUNDS tools/call+ping round trips
    (best of 3 such runs each)."""
    s = Server([PYTHON, TINY_PY], base_env())
    s.handshake()
    off = timed(ROUNDS, lambda text: s.call("probe", {"text": text}))
    s.close()
    t = PyTarget([PYTHON, TINY_PY])

    def traced(text):
        t.server.call("probe", {"text": text})
        settle(t.server.proc.pid)

    on = timed(ROUNDS, traced)
    full = timed(ROUNDS, lambda text: expect(t.run(text), "no edges"))
    t.close()
    NOTES.append("python: %d round trips, per input: off %s; on %s (tracing + settle): %.2fx; "
                 "%s with this script's zeroing and scan of the map: %.2fx"
                 % (ROUNDS, ms(off), ms(on), on / off, ms(full), full / off))

    s = Server([NODE, TINY_JS], base_env())
    s.handshake()
    off = timed(ROUNDS, lambda text: s.call("probe", {"text": text}))
    s.close()
    t = JsTarget([NODE, TINY_JS])
    counting = timed(ROUNDS, lambda text: t.server.call("probe", {"text": text}))
    t.hub.collect()
    on = timed(ROUNDS, lambda text: expect(t.run(text), "no edges"))
    t.close()
    NOTES.append("node:   %d round trips, per input: off %s; on %s (block counters only, no 'c'): "
                 "%.2fx; %s with a 'c' collection per input: %.2fx"
                 % (ROUNDS, ms(off), ms(counting), counting / off, ms(on), on / off))

    def with_map():
        m = MemfdMap()
        return py_env(m), m.close

    def with_hub():
        h = Hub()
        return js_env(h), h.close

    def plain():
        return base_env(), lambda: None

    for name, argv, covered in (("python", [PYTHON, TINY_PY], with_map),
                                ("node", [NODE, TINY_JS], with_hub)):
        best = {"off": None, "on": None}
        for _ in range(5):  # interleaved, best of 5
            for key, make in (("off", plain), ("on", covered)):
                env, cleanup = make()
                took = startup(argv, env)
                cleanup()
                best[key] = took if best[key] is None else min(best[key], took)
        NOTES.append("%s startup to the initialize reply (best of 5): off %.0f ms, on %.0f ms"
                     % (name, 1000 * best["off"], 1000 * best["on"]))


def main(argv):
    global VERBOSE, TMP, COV_PY_DIR, COV_JS
    filters = [a for a in argv if not a.startswith("-")]
    VERBOSE = "-v" in argv or "--verbose" in argv
    TMP = tempfile.mkdtemp(prefix="mcpfuzz-covtest-")
    COV_PY_DIR = os.path.join(TMP, "pycov")
    os.makedirs(COV_PY_DIR)
    shutil.copy(SITECUSTOMIZE, os.path.join(COV_PY_DIR, "sitecustomize.py"))
    COV_JS = os.path.join(TMP, "node_preload.cjs")  # .cjs: CommonJS whatever package.json says
    shutil.copy(PRELOAD, COV_JS)
    passed = failed = 0
    try:
        for fn in TESTS:
            name = fn.__name__
            if filters and not any(f in name for f in filters):
                continue
            if name.startswith("js_") and NODE is None:
                print("SKIP %s (no node)" % name)
                continue
            start = time.monotonic()
            try:
                fn()
            except Exception as err:  # Failure, or anything unexpected
                failed += 1
                kind = "" if isinstance(err, Failure) else err.__class__.__name__ + ": "
                print("FAIL %s: %s%s" % (name, kind, err), flush=True)
                for s in list(LIVE):
                    if s.proc.poll() is None:
                        s.proc.kill()
                    s.close()
                    tail = s.stderr().strip()
                    if tail:
                        print("     stderr of %s: %s" % (s.proc.args, tail[-600:]))
            else:
                passed += 1
                print("ok   %s (%.1f s)" % (name, time.monotonic() - start), flush=True)
        for note in NOTES:
            print(note)
    finally:
        for s in list(LIVE):
            if s.proc.poll() is None:
                s.proc.kill()
            s.close()
        shutil.rmtree(TMP, ignore_errors=True)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
