#!/usr/bin/env python3
"""Self-test of testbed/leaky_server.py (standard library only, Linux: reads /proc).

Starts the server in each mode, drives it with tool calls and checks the resources it
holds through /proc/PID/statm (resident memory), /proc/PID/fd (descriptors) and
/proc/PID/task (threads): --leak-memory grows by about 64 KiB per distinct call and not
at all on repeated identical calls, --leak-fds by one descriptor per call, --leak-threads
by one thread per call, and --control draws a saw-tooth with no trend and no descriptor or
thread growth. Also checks the protocol basics and the command line.
The last line printed is `N passed, N failed`; the exit status is 0 when nothing failed.

    python3 testbed/leaky_selftest.py [-v] [name-substring ...]
"""

import json
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "leaky_server.py")
if HERE not in sys.path:
    sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in testbed/
WAIT = 5.0  # generous deadline for anything that must happen
LATEST = "2025-06-18"
PAGE = os.sysconf("SC_PAGE_SIZE")
KIB = 1024
MIB = 1024 * 1024
VERBOSE = False
NOTES = []  # measured figures of the current test, shown with -v
SPAWNED = []  # every server started, killed at the end whatever happens


from checks import Failure, expect, shown  # noqa: E402  (testbed/checks.py)


def note(text):
    NOTES.append(text)


def mib(nbytes):
    return "%.1f MiB" % (nbytes / MIB)


EOF = object()


class Server:
    """One leaky_server.py process and a line-oriented client for it."""

    def __init__(self, *args, handshake=True):
        self.proc = subprocess.Popen(
            [sys.executable, SERVER] + list(args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        SPAWNED.append(self)
        self.pid = self.proc.pid
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.counter = 0
        if handshake:
            reply = self.request("initialize", {
                "protocolVersion": LATEST,
                "capabilities": {},
                "clientInfo": {"name": "leaky-selftest", "version": "1"},
            })
            expect(reply.get("result", {}).get("protocolVersion") == LATEST,
                   "initialize failed", reply)
            self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.kill()
        return False

    # -- talking ---------------------------------------------------------------------

    def send_bytes(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def send(self, msg):
        self.send_bytes(json.dumps(msg, separators=(",", ":")).encode() + b"\n")

    def readline(self, timeout=WAIT):
        """The next stdout line (bytes), None on timeout, EOF when stdout closed."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if not ready:
                return None
            chunk = os.read(self.fd, 1 << 16)
            if not chunk:
                if self.buf:
                    line, self.buf = self.buf, b""
                    return line
                return EOF
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_json(self, timeout=WAIT):
        line = self.readline(timeout)
        expect(line is not None, "no output within %.1fs" % timeout)
        if line is EOF:
            raise Failure("stdout closed: " + self.stderr_if_dead())
        try:
            msg = json.loads(line)
        except ValueError:
            raise Failure("not JSON on stdout: %s" % shown(line))
        expect(isinstance(msg, dict) and msg.get("jsonrpc") == "2.0",
               "not a JSON-RPC 2.0 message", line)
        return msg

    def request(self, method, params=None, request_id=None):
        if request_id is None:
            self.counter += 1
            request_id = self.counter
        msg = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        reply = self.read_json()
        expect(type(reply.get("id")) is type(request_id) and reply.get("id") == request_id,
               "expected the reply to id %r" % (request_id,), reply)
        expect(("result" in reply) != ("error" in reply), "reply needs result xor error", reply)
        return reply

    def tool(self, name, args):
        reply = self.request("tools/call", {"name": name, "arguments": args})
        expect("result" in reply, "tools/call %s answered with an error" % name, reply)
        result = reply["result"]
        expect(result.get("isError") is False, "tools/call %s gave isError" % name, result)
        content = result.get("content")
        expect(isinstance(content, list) and len(content) == 1
               and content[0].get("type") == "text" and isinstance(content[0].get("text"), str),
               "malformed tool result", result)
        return content[0]["text"]

    # -- measuring -------------------------------------------------------------------

    def rss(self):
        with open("/proc/%d/statm" % self.pid) as handle:
            return int(handle.read().split()[1]) * PAGE

    def fds(self):
        return len(os.listdir("/proc/%d/fd" % self.pid))

    def threads(self):
        return len(os.listdir("/proc/%d/task" % self.pid))

    # -- ending ----------------------------------------------------------------------

    def close(self, timeout=WAIT):
        """Closes stdin, drains stdout, returns the exit status (None if still running)."""
        self.proc.stdin.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if line is EOF or line is None:
                break
        try:
            return self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            return None

    def expect_clean_exit(self):
        rc = self.close()
        expect(rc == 0, "the server did not exit 0 at end of input", rc, self.stderr())

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except OSError:
                pass

    def stderr(self):
        if self.proc.poll() is None:
            return "(running)"
        try:
            return self.proc.stderr.read().decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def stderr_if_dead(self):
        time.sleep(0.05)
        if self.proc.poll() is None:
            return "server still running"
        return "server exited %s; stderr: %s" % (self.proc.returncode, shown(self.stderr(), 600))


def distinct_call(server, i):
    """Tool call number i, with arguments no other i uses (all three tools in turn)."""
    kind = i % 3
    if kind == 0:
        server.tool("store", {"key": "k%d" % i, "value": "v%d" % i})
    elif kind == 1:
        server.tool("lookup", {"key": "k%d" % (i - 1)})
    else:
        server.tool("echo", {"text": "t%d" % i})


# ======================================================================================
# Tests
# ======================================================================================

TESTS = []


def test(function):
    TESTS.append(function)
    return function


@test
def command_line():
    for args in ([], ["--leak-memory", "--leak-fds"], ["--leak-everything"], ["--control", "x"]):
        proc = subprocess.run([sys.executable, SERVER] + args, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=WAIT)
        expect(proc.returncode == 2, "%r should be refused with status 2" % (args,),
               proc.returncode)
        expect(proc.stdout == b"", "output on stdout for %r" % (args,), proc.stdout)
        expect(b"usage" in proc.stderr, "no usage message for %r" % (args,), proc.stderr)


@test
def protocol_basics():
    for mode in ("--leak-memory", "--leak-fds", "--leak-threads", "--control", "--cpu-burn"):
        with Server(mode) as s:
            tools = s.request("tools/list").get("result", {}).get("tools")
            expect(isinstance(tools, list) and len(tools) == 3, "tools/list: 3 tools", tools)
            expect(sorted(t.get("name") for t in tools) == ["echo", "lookup", "store"],
                   "tool names", tools)
            for tool in tools:
                expect(tool.get("inputSchema", {}).get("type") == "object",
                       "inputSchema", tool)
            reply = s.request("no/such/method")
            expect(reply.get("error", {}).get("code") == -32601, "unknown method", reply)
            reply = s.request("ping", request_id="7")
            expect(reply.get("result") == {}, "ping", reply)
            s.send_bytes(b'{"jsonrpc":"2.0","id":1.50,"method":"ping"}\n')
            expect(s.readline() == b'{"jsonrpc":"2.0","id":1.50,"result":{}}',
                   "id 1.50 not echoed byte for byte")
            s.send_bytes(b'{"jsonrpc":"2.0","id":9,"method":\n')
            reply = s.read_json()
            expect(reply.get("id", 0) is None and reply.get("error", {}).get("code") == -32700,
                   "invalid JSON", reply)
            s.send({"jsonrpc": "2.0", "method": "notifications/whatever", "params": {}})
            reply = s.request("ping", request_id="after-notification")  # nothing before it
            for params in ({"name": "nope", "arguments": {}}, {"arguments": {}},
                           {"name": "echo", "arguments": []}, []):
                reply = s.request("tools/call", params)
                expect(reply.get("error", {}).get("code") == -32602, "bad params %r" % (params,),
                       reply)
            reply = s.request("tools/call", {"name": "echo", "arguments": {"text": 5}})
            expect(reply.get("result", {}).get("isError") is True, "bad argument type", reply)
            expect(s.tool("echo", {"text": "h\u00e9llo"}) == "h\u00e9llo", "echo")
            s.tool("store", {"key": "a", "value": "xyz"})
            expect(s.tool("lookup", {"key": "a"}) == "xyz", "lookup after store")
            expect("Nothing" in s.tool("lookup", {"key": "b"}), "lookup of a missing key")
            s.expect_clean_exit()


@test
def lone_surrogates_are_parse_errors():
    """A lone UTF-16 surrogate escape anywhere in a line (id, method, params, a key, a
    notification, a batch member) is not strict JSON (serde_json rejects it): -32700 with
    id null, never echoed, never dispatched (so a tools/call carrying one leaks nothing)."""
    lines = [
        b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}',
        b'{"jsonrpc":"2.0","id":"a\\uDFFFb","method":"ping"}',
        b'{"jsonrpc":"2.0","id":1,"method":"ping\\udbff"}',
        b'{"jsonrpc":"2.0","method":"notifications/whatever","params":{"x":"\\ud800"}}',
        b'{"jsonrpc":"2.0","method":"notifications/whatever","params":{"\\udc00":1}}',
        b'{"jsonrpc":"2.0","id":2,"method":"ping","params":{"y":["\\ude00\\ud83d"]}}',
        b'[{"jsonrpc":"2.0","id":3,"method":"ping"},'
        b'{"jsonrpc":"2.0","method":"n","params":["\\ud83d"]}]',
        b'{"jsonrpc":"2.0","id":4,"method":"tools/call",'
        b'"params":{"name":"echo","arguments":{"text":"\\ud800"}}}',
    ]
    with Server("--leak-fds") as s:
        fds = s.fds()
        for data in lines:
            s.send_bytes(data + b"\n")
            line = s.readline()
            expect(line is not None and line is not EOF, "no reply to %r" % data[:60], line)
            expect(b"\\ud" not in line.lower(), "a surrogate escape echoed", line)
            reply = json.loads(line)
            expect(reply == {"jsonrpc": "2.0", "id": None, "error": reply.get("error")}
                   and reply["error"].get("code") == -32700,
                   "parse error with id null for %r" % data[:60], reply)
        # Nothing else came out (request() wants the very next line to be its reply), and
        # the rejected tools/call was never dispatched.
        s.request("ping", request_id="after-surrogates")
        expect(s.fds() == fds, "a rejected tools/call leaked a descriptor", fds, s.fds())
        # A proper surrogate pair is fine, and comes back as the ASCII escapes.
        s.send_bytes(b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","method":"ping"}\n')
        expect(s.readline() == b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","result":{}}',
               "surrogate pair id not echoed")
        expect(s.tool("echo", {"text": "\U0001F600"}) == "\U0001F600", "echo of a pair")
        s.expect_clean_exit()


@test
def leak_memory():
    with Server("--leak-memory") as s:
        for i in range(10):  # warm-up: let the interpreter settle
            distinct_call(s, 100000 + i)
        before = s.rss()
        calls = 300
        for i in range(calls):
            distinct_call(s, i)
        grown = s.rss() - before
        per_call = grown / calls
        note("%d distinct calls: +%s, %.1f KiB per call" % (calls, mib(grown), per_call / KIB))
        expect(grown >= 15 * MIB, "too little growth over %d distinct calls" % calls, mib(grown))
        expect(48 * KIB <= per_call <= 96 * KIB, "not about 64 KiB per distinct call",
               "%.1f KiB" % (per_call / KIB))
        before = s.rss()
        for _ in range(300):
            s.tool("echo", {"text": "t2"})  # the same arguments as call 2 above
        for _ in range(300 // 3):
            s.tool("lookup", {"key": "k0"})  # as call 1 above
        grown = s.rss() - before
        note("400 repeated identical calls: +%s" % mib(grown))
        expect(grown < 2 * MIB, "growth on repeated identical calls", mib(grown))
        s.expect_clean_exit()


@test
def leak_fds():
    with Server("--leak-fds") as s:
        s.tool("echo", {"text": "warm-up"})
        fds, threads = s.fds(), s.threads()
        calls = 200
        for i in range(calls):
            distinct_call(s, i)
        grown = s.fds() - fds
        note("%d calls: +%d fds (%.2f per call), %d -> %d threads"
             % (calls, grown, grown / calls, threads, s.threads()))
        expect(grown == calls, "not one descriptor per call", grown)
        s.tool("echo", {"text": "t2"})  # identical arguments leak as well
        expect(s.fds() - fds == calls + 1, "repeated call did not leak a descriptor")
        expect(s.threads() == threads, "thread count changed", threads, s.threads())
        s.expect_clean_exit()


@test
def cpu_burn():
    with Server("--cpu-burn") as s:

        def cpu_seconds():
            with open("/proc/%d/stat" % s.pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

        before = cpu_seconds()
        for i in range(20):
            distinct_call(s, i)
        expect(cpu_seconds() - before < 0.5, "short calls burned CPU", cpu_seconds() - before)
        before = cpu_seconds()
        text = "x" * 2000
        expect(s.tool("echo", {"text": text}) == text, "the slow echo did not echo")
        burned = cpu_seconds() - before
        note("echo of 2000 characters: %.2f s of CPU" % burned)
        expect(1.0 <= burned < 2.0, "the long echo should burn 1.0 to 2.0 s of CPU", burned)
        s.expect_clean_exit()


@test
def leak_threads():
    with Server("--leak-threads") as s:
        s.tool("echo", {"text": "warm-up"})
        fds, threads = s.fds(), s.threads()
        calls = 200
        for i in range(calls):
            distinct_call(s, i)
        grown = s.threads() - threads
        note("%d calls: +%d threads (%.2f per call), %d -> %d fds"
             % (calls, grown, grown / calls, fds, s.fds()))
        expect(grown == calls, "not one thread per call", grown)
        s.request("tools/call", {"name": "nope"})  # a refused call leaks as well
        expect(s.threads() - threads == calls + 1, "refused call did not leak a thread")
        expect(s.fds() == fds, "descriptor count changed", fds, s.fds())
        s.expect_clean_exit()


@test
def control():
    with Server("--leak-fds") as plain:  # a server that holds no extra memory
        plain_rss = plain.rss()
        plain.expect_clean_exit()
    with Server("--control") as s:
        warm = s.rss()
        note("after warm-up: %s (a server without it: %s)" % (mib(warm), mib(plain_rss)))
        expect(warm - plain_rss >= 28 * MIB, "no 32 MiB warm-up", mib(warm), mib(plain_rss))
        fds, threads = s.fds(), s.threads()
        samples = []
        calls = 300
        for i in range(calls):
            distinct_call(s, i)
            samples.append(s.rss())
        third = calls // 3
        first, last = samples[:third], samples[-third:]
        low, high = min(samples), max(samples)
        drops = sum(1 for a, b in zip(samples, samples[1:]) if a - b >= 10 * MIB)
        note("%d calls: band %s .. %s (amplitude %s), %d drops; min of first/last third "
             "%s / %s; max %s / %s; fds %d -> %d, threads %d -> %d"
             % (calls, mib(low), mib(high), mib(high - low), drops, mib(min(first)),
                mib(min(last)), mib(max(first)), mib(max(last)), fds, s.fds(), threads,
                s.threads()))
        expect(min(last) <= min(first) + 4 * MIB, "the minimum rises (a trend)",
               mib(min(first)), mib(min(last)))
        expect(max(last) <= max(first) + 4 * MIB, "the maximum rises (a trend)",
               mib(max(first)), mib(max(last)))
        expect(low >= warm - 4 * MIB, "RSS fell below the warm-up level", mib(low), mib(warm))
        expect(high - low >= 15 * MIB, "no saw-tooth: amplitude too small", mib(high - low))
        expect(drops == calls // 80, "expected one large drop every 80 calls", drops)
        expect(s.fds() == fds, "descriptor count changed", fds, s.fds())
        expect(s.threads() == threads, "thread count changed", threads, s.threads())
        s.expect_clean_exit()


# ======================================================================================


def main(argv):
    global VERBOSE
    filters = [a for a in argv if not a.startswith("-")]
    VERBOSE = "-v" in argv or "--verbose" in argv
    started = time.monotonic()
    try:
        passed, failed = run_tests(filters)
    finally:
        for server in SPAWNED:
            server.kill()
    if VERBOSE:
        print("total %.2fs" % (time.monotonic() - started))
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def run_tests(filters):
    passed = failed = 0
    for function in TESTS:
        name = function.__name__
        if filters and not any(f in name for f in filters):
            continue
        del NOTES[:]
        t0 = time.monotonic()
        try:
            function()
        except Failure as exc:
            failed += 1
            print("FAIL %s: %s" % (name, exc))
            for text in NOTES:
                print("     %s" % text)
            continue
        except Exception as exc:  # a bug in the test or a broken pipe to a dead server
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(exc).__name__, shown(str(exc))))
            continue
        passed += 1
        if VERBOSE:
            print("ok   %s (%.2fs)" % (name, time.monotonic() - t0))
            for text in NOTES:
                print("     %s" % text)
    return passed, failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
