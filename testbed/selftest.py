#!/usr/bin/env python3
"""Self-test of testbed/demo_server.py (standard library only).

Spawns the server in both modes, checks that every planted bug behaves as documented in
testbed/README.md, that the well-behaved twin fixes each of them, and that the twin is a
correct JSON-RPC 2.0 / MCP stdio server. Every server runs with its working directory in a
sandbox tree (testbed/sandbox_layout.py) under a temporary directory, removed at the end.
The last line printed is `N passed, N failed`; the exit status is 0 when nothing failed.

    python3 testbed/selftest.py [-v] [name-substring ...]
"""

import json
import os
import random
import secrets
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "demo_server.py")
if HERE not in sys.path:
    sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # no __pycache__ in testbed/
import sandbox_layout  # noqa: E402  (testbed/sandbox_layout.py)

WAIT = 5.0  # generous deadline for anything that must happen
LATEST = "2025-06-18"
VERBOSE = False


from checks import Failure, expect, shown  # noqa: E402  (testbed/checks.py)


EOF = object()


def same_id(a, b):
    return type(a) is type(b) and a == b


def is_response(msg):
    return isinstance(msg, dict) and "method" not in msg and ("result" in msg or "error" in msg)


def check_wire_message(line):
    """Raises Failure unless `line` is one valid JSON-RPC 2.0 message or batch of replies."""
    try:
        msg = json.loads(line)
    except ValueError:
        raise Failure("stdout line is not JSON: %s" % shown(line))
    members = msg if isinstance(msg, list) else [msg]
    expect(members, "empty array on stdout")
    for member in members:
        expect(isinstance(member, dict), "stdout message is not an object", line)
        expect(member.get("jsonrpc") == "2.0", "jsonrpc is not \"2.0\"", line)
        if "method" in member:
            expect(not isinstance(msg, list), "server request inside a batch reply", line)
            expect(isinstance(member["method"], str), "method is not a string", line)
            if "id" in member:
                expect(isinstance(member["id"], (str, int)), "bad server request id", line)
            continue
        expect("id" in member, "reply without id", line)
        expect(("result" in member) != ("error" in member), "reply needs result xor error", line)
        if "error" in member:
            error = member["error"]
            expect(isinstance(error, dict) and isinstance(error.get("code"), int)
                   and isinstance(error.get("message"), str), "malformed error object", line)
        else:
            expect(isinstance(member["result"], dict), "result is not an object", line)


def check_tool_result(result):
    expect(isinstance(result, dict), "tool result is not an object", result)
    expect(isinstance(result.get("content"), list), "tool result without content list", result)
    for item in result["content"]:
        expect(isinstance(item, dict) and item.get("type") == "text"
               and isinstance(item.get("text"), str), "malformed content item", item)
    expect(isinstance(result.get("isError", False), bool), "isError is not a boolean", result)


class Server:
    """One server process and a line-oriented client for it."""

    def __init__(self, well_behaved, *extra, handshake=True, sampling=False, cwd=None):
        command = [sys.executable, SERVER] + (["--well-behaved"] if well_behaved else [])
        self.well_behaved = well_behaved
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            command + list(extra),
            cwd=cwd if cwd is not None else Sandbox.shared().root,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.fd = self.proc.stdout.fileno()
        self.buf = b""
        self.lines = []
        self.counter = 0
        self.check_purity = well_behaved
        self._stderr = None
        if handshake:
            self.initialize(sampling=sampling)

    # -- plumbing --------------------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        try:
            if kind is None and self.check_purity:
                rc = self.close()
                expect(rc == 0, "the well-behaved server did not exit 0 at end of input", rc,
                       self.stderr())
                for line in self.lines:
                    check_wire_message(line)
        finally:
            self.kill()
        return False

    def next_id(self):
        self.counter += 1
        return self.counter

    def send_bytes(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            return True
        except (BrokenPipeError, OSError, ValueError):
            return False

    def send(self, msg):
        return self.send_bytes(json.dumps(msg, separators=(",", ":")).encode() + b"\n")

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        return self.send(msg)

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
                    self.lines.append(line)
                    return line
                return EOF
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.lines.append(line)
        return line

    def read_json(self, timeout=WAIT):
        line = self.readline(timeout)
        expect(line is not None, "no output within %.1fs" % timeout)
        if line is EOF:
            raise Failure("stdout closed: " + self.stderr_if_dead())
        try:
            return json.loads(line)
        except ValueError:
            raise Failure("not JSON on stdout: %s" % shown(line))

    def reply_to(self, request_id, timeout=WAIT):
        """Reads until the reply with this id; notifications are skipped, anything else
        is a failure."""
        while True:
            msg = self.read_json(timeout)
            if isinstance(msg, dict) and "method" in msg and "id" not in msg:
                continue
            expect(is_response(msg) and same_id(msg.get("id"), request_id),
                   "expected the reply to id %r" % (request_id,), msg)
            return msg

    def request(self, method, params=None, request_id=None, timeout=WAIT):
        if request_id is None:
            request_id = self.next_id()
        msg = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.reply_to(request_id, timeout)

    def result(self, method, params=None):
        reply = self.request(method, params)
        expect("result" in reply, "%s failed" % method, reply)
        return reply["result"]

    def call(self, name, args, request_id=None):
        return self.request("tools/call", {"name": name, "arguments": args}, request_id)

    def tool(self, name, args):
        reply = self.call(name, args)
        expect("result" in reply, "tools/call %s answered with an error" % name, reply)
        check_tool_result(reply["result"])
        return reply["result"]

    def initialize(self, sampling=False, version=LATEST):
        capabilities = {"sampling": {}} if sampling else {}
        reply = self.request("initialize", {
            "protocolVersion": version,
            "capabilities": capabilities,
            "clientInfo": {"name": "selftest", "version": "1"},
        })
        self.notify("notifications/initialized")
        return reply

    def barrier(self):
        """Pings; returns the stdout lines that came before the pong."""
        ping_id = "barrier-%d" % self.next_id()
        self.send({"jsonrpc": "2.0", "id": ping_id, "method": "ping"})
        before = []
        while True:
            line = self.readline()
            if line is None or line is EOF:
                raise Failure("no pong: " + self.stderr_if_dead())
            try:
                msg = json.loads(line)
            except ValueError:
                msg = None
            if isinstance(msg, dict) and same_id(msg.get("id"), ping_id) and "result" in msg:
                return before
            before.append(line)

    def silent(self, seconds):
        """True when nothing at all appears on stdout for `seconds`."""
        return self.readline(seconds) is None

    def wait_exit(self, timeout=WAIT):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def close(self, timeout=WAIT):
        """Closes stdin, collects the remaining stdout, returns the exit status."""
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.readline(max(0.0, deadline - time.monotonic()))
            if line is EOF or line is None:
                break
        return self.wait_exit(max(0.1, deadline - time.monotonic()))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            try:
                pipe.close()
            except (BrokenPipeError, OSError):
                pass

    def stderr(self):
        """Everything the server wrote on stderr, once it has exited."""
        if self.proc.poll() is None:
            return "(running)"
        if self._stderr is None:
            try:
                self._stderr = self.proc.stderr.read().decode("utf-8", "replace")
            except (OSError, ValueError):
                self._stderr = ""
        return self._stderr

    def stderr_if_dead(self):
        time.sleep(0.05)
        if self.proc.poll() is None:
            return "server still running"
        return "server exited %s; stderr: %s" % (self.proc.returncode, shown(self.stderr(), 600))

    def cpu_ticks(self):
        try:
            with open("/proc/%d/stat" % self.proc.pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            return None


class Sandbox:
    """A fresh sandbox tree (testbed/sandbox_layout.py) in a temporary directory: base is
    its work/ directory, root the server's working directory. Removed on exit."""

    _shared = None

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="mcpfuzz-selftest-")
        try:
            layout = sandbox_layout.build(os.path.join(self.tmp, "work"))
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        self.base, self.root = layout["base"], layout["root"]
        self.canaries, self.allowed = layout["canaries"], layout["allowed"]
        self.before = self.outside_root()

    @classmethod
    def shared(cls):
        """The sandbox of every server started without an explicit cwd."""
        if cls._shared is None:
            cls._shared = Sandbox()
        return cls._shared

    @classmethod
    def remove_shared(cls):
        if cls._shared is not None:
            cls._shared.remove()
            cls._shared = None

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        self.remove()
        return False

    def remove(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def marker(self, prefix="mcpfuzz-m"):
        """An absolute path in base that does not exist yet."""
        return os.path.join(self.base, prefix + secrets.token_hex(6))

    def outside_root(self):
        """{path relative to base: file content, or None for a directory or symlink} of
        everything outside root."""
        found = {}
        for directory, dirs, files in os.walk(self.base):
            if directory == self.base:
                dirs.remove("root")
            for name in dirs + files:
                path = os.path.join(directory, name)
                relative = os.path.relpath(path, self.base)
                if os.path.isfile(path) and not os.path.islink(path):
                    with open(path, "rb") as handle:
                        found[relative] = handle.read()
                else:
                    found[relative] = None
        return found

    def expect_outside_unchanged(self, what):
        now = self.outside_root()
        expect(now == self.before, "%s changed files outside the root" % what,
               sorted(set(now) ^ set(self.before)),
               sorted(k for k in now if k in self.before and now[k] != self.before[k]))


def bug(*extra, **kw):
    return Server(False, *extra, **kw)


def twin(*extra, **kw):
    return Server(True, *extra, **kw)


def text_of(result):
    return result["content"][0]["text"]


def expect_tool_error(s, name, args, fragment=None):
    result = s.tool(name, args)
    expect(result.get("isError") is True, "%s %r should be an isError result" % (name, args),
           result)
    if fragment:
        expect(fragment in text_of(result), "error text lacks %r" % fragment, result)
    return result


def expect_dies(s, rc, stderr_fragment):
    got = s.wait_exit()
    expect(got == rc, "expected exit status %s" % rc, got)
    err = s.stderr()
    expect(stderr_fragment in err, "stderr lacks %r" % stderr_fragment, err)


TESTS = []


def test(function):
    TESTS.append(function)
    return function


# ======================================================================================
# Handshake and discovery
# ======================================================================================


@test
def handshake_both_modes():
    for make in (bug, twin):
        with make(handshake=False) as s:
            for version in ("2024-11-05", "2025-03-26", "2025-06-18"):
                result = s.initialize(version=version)["result"]
                expect(result["protocolVersion"] == version, "version not echoed", result)
            result = s.initialize(version="1999-01-01")["result"]
            expect(result["protocolVersion"] == LATEST, "unknown version not answered", result)
            expect(result["serverInfo"] == {"name": "mcpfuzz-demo", "version": "1.0.0"},
                   "serverInfo", result)
            expect(result["capabilities"] == {
                "tools": {"listChanged": False},
                "resources": {"subscribe": True, "listChanged": False},
                "prompts": {"listChanged": False},
                "logging": {},
                "completions": {},
            }, "capabilities", result)
            expect(s.request("ping")["result"] == {}, "ping")
            bad = s.request("initialize", {"protocolVersion": 5})
            expect(bad.get("error", {}).get("code") == -32602, "non-string version", bad)


@test
def startup_is_fast():
    start = time.monotonic()
    with twin() as s:
        elapsed = time.monotonic() - start
        expect(elapsed < 2.0, "initialize took %.3fs" % elapsed)
    if VERBOSE:
        print("    spawn to initialize reply: %.0f ms" % (elapsed * 1000))


@test
def tools_list_paginates():
    for make in (bug, twin):
        with make() as s:
            names, cursor, pages = [], None, 0
            while True:
                result = s.result("tools/list", {"cursor": cursor} if cursor else {})
                pages += 1
                expect(len(result["tools"]) <= 3, "page larger than 3", result)
                for tool in result["tools"]:
                    expect(isinstance(tool["name"], str) and tool["inputSchema"]["type"] == "object",
                           "tool entry", tool)
                    names.append(tool["name"])
                cursor = result.get("nextCursor")
                if cursor is None:
                    break
                expect(isinstance(cursor, str), "nextCursor not a string", cursor)
                expect(pages < 10, "pagination does not end")
            expect(pages == 5 and len(names) == 14 and len(set(names)) == 14,
                   "14 tools on 5 pages", names)
            expect(set(names) == {"echo", "divide", "render", "store", "count", "convert",
                                  "search", "summarize", "read_file", "save_note",
                                  "count_matches", "greet", "sort_lines", "lookup_user"},
                   "tool names", names)
            for cursor in ("bogus", "", 5, None, {"offset": 3}):
                reply = s.request("tools/list", {"cursor": cursor})
                expect(reply.get("error", {}).get("code") == -32602, "bad cursor %r" % (cursor,),
                       reply)


@test
def resources_prompts_completion_logging():
    with twin() as s:
        resources = s.result("resources/list")["resources"]
        expect(2 <= len(resources) <= 3 and all({"uri", "name", "mimeType"} <= set(r)
                                                  for r in resources), "resources", resources)
        templates = s.result("resources/templates/list")["resourceTemplates"]
        expect([t["uriTemplate"] for t in templates] == ["demo://notes/{id}"], "templates",
               templates)
        for resource in resources:
            contents = s.result("resources/read", {"uri": resource["uri"]})["contents"]
            expect(contents[0]["uri"] == resource["uri"] and ("text" in contents[0]
                                                               or "blob" in contents[0]),
                   "read " + resource["uri"], contents)
        note = s.result("resources/read", {"uri": "demo://notes/welcome"})["contents"][0]
        expect(note["uri"] == "demo://notes/welcome" and isinstance(note["text"], str), "template")
        s.tool("store", {"key": "k1", "value": "v1"})
        note = s.result("resources/read", {"uri": "demo://notes/k1"})["contents"][0]
        expect(note["text"] == "v1", "stored note", note)
        missing = s.request("resources/read", {"uri": "demo://nope"})
        expect(missing.get("error", {}).get("code") == -32002
               and missing["error"].get("data", {}).get("uri") == "demo://nope", "-32002", missing)
        for params in ({}, {"uri": 5}):
            reply = s.request("resources/read", params)
            expect(reply.get("error", {}).get("code") == -32602, "read params", reply)
        reply = s.request("resources/list", {"cursor": "x"})
        expect(reply.get("error", {}).get("code") == -32602, "resources cursor", reply)
        expect(s.result("resources/subscribe", {"uri": "demo://notes/k2"}) == {}, "subscribe")
        s.send({"jsonrpc": "2.0", "id": "st", "method": "tools/call",
                "params": {"name": "store", "arguments": {"key": "k2", "value": "x"}}})
        update = s.read_json()
        expect(update.get("method") == "notifications/resources/updated"
               and update["params"]["uri"] == "demo://notes/k2" and "id" not in update,
               "resources/updated notification", update)
        expect(s.reply_to("st")["result"]["isError"] is False, "store after subscribe")
        expect(s.result("resources/unsubscribe", {"uri": "demo://notes/k2"}) == {}, "unsub")

        prompts = s.result("prompts/list")["prompts"]
        args = {a["name"]: a.get("required", False) for a in prompts[0]["arguments"]}
        expect(len(prompts) == 1 and args == {"code": True, "language": False}, "prompts",
               prompts)
        got = s.result("prompts/get", {"name": "review", "arguments": {"code": "x = 1"}})
        expect(got["messages"][0]["content"]["type"] == "text", "prompts/get", got)
        for params in ({"name": "review"}, {"name": "review", "arguments": {"language": "go"}},
                       {"name": "nope", "arguments": {"code": "x"}},
                       {"name": "review", "arguments": {"code": 5}}, {}):
            reply = s.request("prompts/get", params)
            expect(reply.get("error", {}).get("code") == -32602, "prompts/get %r" % params,
                   reply)

        completion = s.result("completion/complete", {
            "ref": {"type": "ref/prompt", "name": "review"},
            "argument": {"name": "language", "value": "py"}})["completion"]
        expect(completion["values"] == ["python"] and completion["hasMore"] is False,
               "completion", completion)
        completion = s.result("completion/complete", {
            "ref": {"type": "ref/resource", "uri": "demo://notes/{id}"},
            "argument": {"name": "id", "value": "k"}})["completion"]
        expect(completion["values"] == ["k1", "k2"], "resource completion", completion)
        for params in ({}, {"ref": {"type": "ref/nope"}, "argument": {"name": "a", "value": ""}},
                       {"ref": {"type": "ref/prompt", "name": "review"}, "argument": {}}):
            reply = s.request("completion/complete", params)
            expect(reply.get("error", {}).get("code") == -32602, "completion %r" % params, reply)

        for level in ("debug", "info", "notice", "warning", "error", "critical", "alert",
                      "emergency"):
            expect(s.result("logging/setLevel", {"level": level}) == {}, "setLevel " + level)
        for level in ("verbose", "", 3, None):
            reply = s.request("logging/setLevel", {"level": level})
            expect(reply.get("error", {}).get("code") == -32602, "setLevel %r" % level, reply)
        s.result("logging/setLevel", {"level": "info"})
        s.send({"jsonrpc": "2.0", "id": "log", "method": "tools/call",
                "params": {"name": "echo", "arguments": {"message": "hi"}}})
        first = s.read_json()
        expect(first.get("method") == "notifications/message" and "id" not in first,
               "log notification", first)
        expect(s.reply_to("log")["result"]["content"][0]["text"] == "hi", "echo after log")
        s.result("logging/setLevel", {"level": "error"})
        expect(s.barrier() == [], "no log below the level")

        s.send({"jsonrpc": "2.0", "id": "pg", "method": "tools/call",
                "params": {"name": "count", "arguments": {"n": 4},
                           "_meta": {"progressToken": "tok"}}})
        progress = s.read_json()
        expect(progress.get("method") == "notifications/progress"
               and progress["params"]["progressToken"] == "tok", "progress", progress)
        s.reply_to("pg")


# ======================================================================================
# Planted bugs and their fixes
# ======================================================================================


@test
def bug_crash_exit_divide_by_zero():
    with bug() as s:
        result = s.tool("divide", {"a": 1, "b": 4})
        expect(result["structuredContent"] == {"quotient": 0.25}, "1/4", result)
        s.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "divide", "arguments": {"a": 1, "b": 0}}})
        expect(s.readline() is EOF, "a reply came before the crash")
        expect_dies(s, 1, "ZeroDivisionError")
        expect("Traceback (most recent call last)" in s.stderr(), "no traceback on stderr")


@test
def twin_divide_by_zero():
    with twin() as s:
        for b in (0, 0.0, -0.0):
            expect_tool_error(s, "divide", {"a": 1, "b": b}, "zero")
        expect(s.tool("divide", {"a": 1, "b": 4})["structuredContent"] == {"quotient": 0.25},
               "1/4")
        expect_tool_error(s, "divide", {"a": 1e308, "b": 1e-308})


@test
def bug_crash_signal_render_overflow():
    with bug() as s:
        for length in (4097, 10000):
            expect_tool_error(s, "render", {"text": "x" * length, "width": 10}, "at most 4096")
        s.call("render", {"text": "x" * 40, "width": 10})
        s.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "render", "arguments": {"text": "x" * 10001, "width": 10}}})
        expect(s.readline() is EOF, "a reply came before the crash")
        expect_dies(s, -signal.SIGSEGV, "overflow")


@test
def twin_render_long_text():
    with twin() as s:
        for length in (4097, 10001, 50000):
            expect_tool_error(s, "render", {"text": "x" * length, "width": 10}, "4096")
        result = s.tool("render", {"text": "abcdef", "width": 3, "align": "right"})
        expect(text_of(result) == "abc\ndef", "render", result)


@test
def bug_late_death_store_nul_key():
    with bug() as s:
        result = s.tool("store", {"key": "a\x00b", "value": "v"})
        expect(result["isError"] is False, "the poisoned store is answered normally", result)
        s.send({"jsonrpc": "2.0", "id": 99, "method": "ping"})
        expect(s.readline() is EOF, "the next line was answered")
        expect_dies(s, 1, "Traceback")
    with bug() as s:
        s.tool("store", {"key": "\x00", "value": "v"})
        rc = s.close()
        expect(rc == 1, "exit status at end of input after the poison", rc)
    with bug() as s:
        expect_tool_error(s, "store", {"key": "a\x01b", "value": "v"}, "control")
        s.tool("store", {"key": "plain", "value": "v"})
        expect(s.barrier() == [], "server alive")


@test
def twin_store_nul_key():
    with twin() as s:
        expect_tool_error(s, "store", {"key": "a\x00b", "value": "v"}, "control")
        expect(s.barrier() == [], "alive after the NUL key")


@test
def bug_hang_busy_count_negative():
    with bug() as s:
        expect(s.tool("count", {"n": 5})["isError"] is False, "count 5")
        s.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "count", "arguments": {"n": -1}}})
        s.send({"jsonrpc": "2.0", "id": 10, "method": "ping"})
        expect(s.silent(0.6), "a reply arrived during the hang", s.lines[-1:])
        before = s.cpu_ticks()
        time.sleep(0.3)
        after = s.cpu_ticks()
        expect(s.proc.poll() is None, "the server died instead of hanging")
        if before is not None and after is not None:
            expect(after > before, "the hang does not burn CPU", before, after)


@test
def twin_count_negative():
    with twin() as s:
        for n in (-1, -1000, 1001, 2.5, "3", True):
            expect_tool_error(s, "count", {"n": n})
        expect("3 numbers" in text_of(s.tool("count", {"n": 2.0})), "integral float")


@test
def bug_hang_idle_convert_enum():
    with bug() as s:
        expect(text_of(s.tool("convert", {"value": "A", "format": "hex"})) == "41", "hex")
        for fmt in ("xml", "", "JSON"):
            s.send({"jsonrpc": "2.0", "id": "lost", "method": "tools/call",
                    "params": {"name": "convert", "arguments": {"value": "A", "format": fmt}}})
            expect(s.barrier() == [], "format %r was answered" % fmt, s.lines[-2:])
        expect_tool_error(s, "convert", {"value": "A", "format": 5})
        expect(s.silent(0.3), "a late reply appeared")
        expect(s.proc.poll() is None, "server died")


@test
def twin_convert_enum():
    with twin() as s:
        for fmt in ("xml", "", "JSON", 5, None):
            expect_tool_error(s, "convert", {"value": "A", "format": fmt}, "format")
        expect(text_of(s.tool("convert", {"value": "A\n", "format": "json"})) == '"A\\n"',
               "json")


@test
def bug_id_mangled_numeric_string():
    with bug() as s:
        for sent, want in (("7", b'"id":7,'), ("0042", b'"id":42,'), ("-3", b'"id":-3,')):
            s.send({"jsonrpc": "2.0", "id": sent, "method": "ping"})
            line = s.readline()
            expect(line is not None and line is not EOF and want in line,
                   "id %r not mangled" % sent, line)
        expect(s.request("ping", request_id="abc")["id"] == "abc", "non-numeric string id")
        expect(s.request("ping", request_id=7)["id"] == 7, "integer id")


@test
def twin_id_echo_exact():
    raw_ids = ['"7"', '"0042"', '"abc"', '""', '"\\u00fc\\u65e5"', '0', '42', '-5',
               '12345678901234567890123', '1.5', '1E2', '-0.0', '2.50', '1e400']
    with twin() as s:
        for raw in raw_ids:
            s.send_bytes(b'{"jsonrpc":"2.0","id":' + raw.encode() + b',"method":"ping"}\n')
            line = s.readline()
            expect(line == b'{"jsonrpc":"2.0","id":' + raw.encode() + b',"result":{}}',
                   "id %s not echoed exactly" % raw, line)


@test
def bug_stray_stdout_empty_query():
    with bug() as s:
        expect(s.barrier() == [], "clean before")
        s.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "search", "arguments": {"query": ""}}})
        expect(s.readline() == b"debug: empty query", "stray line", s.lines[-1:])
        reply = s.reply_to(9)
        check_tool_result(reply["result"])
        s.send({"jsonrpc": "2.0", "id": 10, "method": "tools/call",
                "params": {"name": "search", "arguments": {"query": "json"}}})
        expect(json.loads(s.readline())["id"] == 10, "a non-empty query prints nothing")


@test
def twin_search_empty_query():
    with twin() as s:
        s.send({"jsonrpc": "2.0", "id": 9, "method": "tools/call",
                "params": {"name": "search", "arguments": {"query": ""}}})
        reply = json.loads(s.readline())
        expect(reply["id"] == 9 and text_of(reply["result"]).startswith("1. "), "empty query",
               reply)
        expect(s.barrier() == [], "extra output")


@test
def bug_bad_result_shape_limit_max():
    with bug() as s:
        for limit in (1, 49):
            s.tool("search", {"query": "json", "limit": limit})
        result = s.call("search", {"query": "guide", "limit": 50})["result"]
        item = result["content"][0]
        expect("type" not in item and "text" in item, "content item keeps its type", result)


@test
def twin_search_limits():
    with twin() as s:
        result = s.tool("search", {"query": "", "limit": 50})
        expect(text_of(result).count("\n") == 49, "50 results", result)
        for limit in (0, 51, -1, 10.5, "5"):
            expect_tool_error(s, "search", {"query": "x", "limit": limit}, "limit")
        expect(text_of(s.tool("search", {"query": "zzz"})) == "No documents match.", "none")


@test
def bug_error_traceback_missing_argument():
    with bug() as s:
        for args in ({"text": "hi"}, {"width": 5}, {}):
            reply = s.call("render", args)
            error = reply.get("error", {})
            expect(error.get("code") == -32603, "render %r should be -32603" % args, reply)
            expect("Traceback (most recent call last)" in json.dumps(error), "no traceback",
                   reply)
        result = s.tool("render", {"text": "hi", "width": 0})
        expect(result["isError"] is True, "other invalid input is a tool error", result)


@test
def twin_missing_arguments():
    with twin() as s:
        expect_tool_error(s, "render", {"text": "hi"}, "width")
        expect_tool_error(s, "render", {}, "required")
        for name in ("echo", "divide", "store", "count", "convert", "search", "summarize",
                     "read_file", "save_note", "count_matches", "greet", "sort_lines",
                     "lookup_user"):
            expect_tool_error(s, name, {}, "required")


@test
def bug_sampling_reply_crash():
    with bug(sampling=True) as s:
        s.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": {"name": "summarize", "arguments": {"text": "long text"}}})
        request = s.read_json()
        expect(request.get("method") == "sampling/createMessage"
               and isinstance(request.get("id"), str), "sampling request", request)
        params = request["params"]
        expect(params["maxTokens"] == 100 and params["messages"][0]["role"] == "user"
               and params["messages"][0]["content"]["type"] == "text", "sampling params", params)
        s.send({"jsonrpc": "2.0", "id": request["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "short"}, "model": "m"}})
        expect(text_of(s.reply_to(1)["result"]) == "short", "sampled text")
    for answer in ({"error": {"code": -1, "message": "no"}}, {"result": {}},
                   {"result": {"content": "x"}}):
        with bug(sampling=True) as s:
            s.send({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                    "params": {"name": "summarize", "arguments": {"text": "t"}}})
            request = s.read_json()
            reply = {"jsonrpc": "2.0", "id": request["id"]}
            reply.update(answer)
            s.send(reply)
            expect(s.readline() is EOF, "a reply came before the crash")
            expect_dies(s, 1, "Error")


@test
def sampling_unavailable_without_capability():
    for make in (bug, twin):
        with make() as s:
            expect_tool_error(s, "summarize", {"text": "t"}, "sampling unavailable")


@test
def twin_sampling_replies():
    answers = [
        ({"result": {"role": "assistant", "content": {"type": "text", "text": "ok"},
                     "model": "m"}}, False),
        ({"error": {"code": -32603, "message": "refused"}}, True),
        ({"result": {}}, True),
        ({"result": {"content": "x"}}, True),
        ({"result": {"content": {"type": "image", "data": "", "mimeType": "image/png"}}}, True),
        ({"result": {"content": {"type": "text", "text": 5}}}, True),
        ({"result": []}, True),
        ({"error": "bad"}, True),
    ]
    with twin("--sampling-timeout", "0.3", sampling=True) as s:
        for answer, is_error in answers:
            s.send({"jsonrpc": "2.0", "id": "call", "method": "tools/call",
                    "params": {"name": "summarize", "arguments": {"text": "t"}}})
            request = s.read_json()
            expect(request.get("method") == "sampling/createMessage", "sampling request",
                   request)
            reply = {"jsonrpc": "2.0", "id": request["id"]}
            reply.update(answer)
            s.send(reply)
            result = s.reply_to("call")["result"]
            check_tool_result(result)
            expect(result["isError"] is is_error, "reply %r" % answer, result)
        # Requests arriving while the server waits are served; odd replies are survived.
        for odd in (b'{"jsonrpc":"2.0","id":"nobody","result":{}}', b"not json", b"",
                    b'{"jsonrpc":"2.0","id":12345,"result":{}}'):
            s.send({"jsonrpc": "2.0", "id": "call", "method": "tools/call",
                    "params": {"name": "summarize", "arguments": {"text": "t"}}})
            request = s.read_json()
            s.send_bytes(odd + b"\n")
            s.send({"jsonrpc": "2.0", "id": "p", "method": "ping"})
            seen = []
            while True:
                msg = s.read_json()
                seen.append(msg)
                if msg.get("id") == "call":
                    break
            ids = [m.get("id") for m in seen]
            expect("p" in ids and ids.index("p") < ids.index("call"), "ping served while waiting",
                   seen)
            expect(seen[-1]["result"]["isError"] is True, "timeout is an isError", seen)
            if odd == b"not json":
                expect(seen[0].get("error", {}).get("code") == -32700, "parse error", seen)


@test
def twin_sampling_gives_up_after_many_lines():
    with twin("--sampling-timeout", "60", sampling=True) as s:
        s.send({"jsonrpc": "2.0", "id": "call", "method": "tools/call",
                "params": {"name": "summarize", "arguments": {"text": "t"}}})
        s.read_json()
        pongs = 0
        for i in range(100):
            s.send({"jsonrpc": "2.0", "id": i, "method": "ping"})
            msg = s.read_json()
            if msg.get("id") == "call":
                break
            pongs += 1
        else:
            msg = s.read_json()
        expect(msg.get("id") == "call" and msg["result"]["isError"] is True,
               "gave up with isError", msg, pongs)


@test
def twin_sampling_wait_is_short_by_default():
    # Well below the fuzzer's request deadline (1 s in its tests).
    with twin(sampling=True) as s:
        start = time.monotonic()
        s.send({"jsonrpc": "2.0", "id": "call", "method": "tools/call",
                "params": {"name": "summarize", "arguments": {"text": "t"}}})
        s.read_json()
        expect(s.reply_to("call")["result"]["isError"] is True, "gives up")
        elapsed = time.monotonic() - start
        expect(elapsed < 0.8, "gave up after %.2f s, not about 0.3 s" % elapsed)


@test
def sampling_waits_nested_in_another_end_with_it():
    # A summarize call that arrives while another waits for its sampling reply must not
    # keep the first one waiting beyond its own timeout.
    for mode in (twin, bug):
        with mode("--sampling-timeout", "1", sampling=True) as s:
            start = time.monotonic()
            for call in ("outer", "inner"):
                s.send({"jsonrpc": "2.0", "id": call, "method": "tools/call",
                        "params": {"name": "summarize", "arguments": {"text": "t"}}})
                request = s.read_json()
                expect(request.get("method") == "sampling/createMessage", "sampling request",
                       request)
                time.sleep(0.6)
            answered = {}
            while len(answered) < 2:
                msg = s.read_json()
                answered[msg.get("id")] = msg
            elapsed = time.monotonic() - start
            for call in ("outer", "inner"):
                expect(answered[call]["result"]["isError"] is True, "gave up on " + call,
                       answered)
            expect(elapsed < 1.4, "both calls answered after %.2f s, not about 1 s" % elapsed)


@test
def twin_deep_lines_while_waiting_for_sampling():
    deep = b"[" * 10000 + b"]" * 10000
    nested = b"[" * 300 + b"1" + b"]" * 300
    with twin("--sampling-timeout", "2", sampling=True) as s:
        s.send({"jsonrpc": "2.0", "id": "call", "method": "tools/call",
                "params": {"name": "summarize", "arguments": {"text": "t"}}})
        request = s.read_json()
        reply = raw_reply(s, deep)
        expect(reply.get("id") is None and reply["error"]["code"] == -32700,
               "parse error for a line too deep for Python", reply)
        reply = raw_reply(s, b'{"jsonrpc":"2.0","id":"deep","method":"ping","params":{"a":'
                          + nested + b"}}")
        expect(reply == {"jsonrpc": "2.0", "id": "deep", "result": {}},
               "a request nested 300 deep is answered", reply)
        s.send({"jsonrpc": "2.0", "id": request["id"], "result": {
            "role": "assistant", "content": {"type": "text", "text": "ok"}, "model": "m"}})
        expect(s.reply_to("call")["result"]["isError"] is False, "sampling completes")


# ======================================================================================
# Injection bugs (tools that work in the sandbox root) and their fixes
# ======================================================================================


def five_digits():
    """Two random 5-digit factors and their product, as the fuzzer's payloads use them."""
    a, b = random.randint(10000, 99999), random.randint(10000, 99999)
    return a, b, str(a * b)


def expect_refused(s, name, args, *absent):
    """An isError result whose text holds none of `absent` and no canary."""
    result = expect_tool_error(s, name, args)
    text = text_of(result)
    for fragment in absent + ("MCPFUZZ-CANARY",):
        expect(fragment not in text, "%s %r leaked %r" % (name, args, fragment), result)
    return result


def _read_file_both_modes(s, sb):
    """read_file behaviour shared by both modes: ordinary reads work; .., symlinks out of
    the root, NUL, overlong, missing and non-regular paths are refused."""
    readme = sb.allowed["root/README.md"]
    for path in ("README.md", "./README.md", "docs/../README.md",
                 os.path.join(sb.root, "README.md")):
        result = s.tool("read_file", {"path": path})
        expect(result["isError"] is False and readme in text_of(result), "read %r" % path,
               result)
    guide = s.tool("read_file", {"path": "docs/guide.txt"})
    expect(sb.allowed["root/docs/guide.txt"] in text_of(guide), "read docs/guide.txt", guide)
    for path in ("link.txt", "linked-dir/secret.txt", "linked-dir/linked.txt",
                 "../outside/secret.txt", "../secret.txt", "..", "../../work/secret.txt",
                 os.path.join(sb.base, "outside", "secret.txt"),
                 os.path.join(sb.base, "secret.txt"), "docs/../../outside/linked.txt",
                 "a\x00b", "README.md\x00.txt", "a" * 1025, "missing.txt", "docs", ".",
                 "docs/missing/../guide.txt" + "/x"):
        expect_refused(s, "read_file", {"path": path})


PREFIX_SIBLING_READS = [
    ("../root_old/secret.txt", "root_old/secret.txt"),
    ("../root-backup/secret.txt", "root-backup/secret.txt"),
    ("../../work/root-backup/secret.txt", "root-backup/secret.txt"),
    ("docs/../../root_old/secret.txt", "root_old/secret.txt"),
    ("{base}/root_old/secret.txt", "root_old/secret.txt"),
    ("{base}/root-backup/secret.txt", "root-backup/secret.txt"),
]


@test
def bug_injection_read_file_prefix_sibling():
    with Sandbox() as sb, bug(cwd=sb.root) as s:
        _read_file_both_modes(s, sb)
        for path, canary in PREFIX_SIBLING_READS:
            path = path.format(base=sb.base)
            result = s.tool("read_file", {"path": path})
            expect(result["isError"] is False and sb.canaries[canary] in text_of(result),
                   "the prefix sibling %r was not read" % path, result)
        sb.expect_outside_unchanged("read_file")


@test
def twin_read_file_confined():
    with Sandbox() as sb, twin(cwd=sb.root) as s:
        _read_file_both_modes(s, sb)
        for path, _ in PREFIX_SIBLING_READS:
            expect_refused(s, "read_file", {"path": path.format(base=sb.base)})
        sb.expect_outside_unchanged("read_file")


def _save_note_both_modes(s, sb):
    result = s.tool("save_note", {"name": "note.txt", "text": "first"})
    expect(result["isError"] is False, "save note.txt", result)
    expect(s.tool("save_note", {"name": "note.txt", "text": "sec\u00f6nd\n"})["isError"]
           is False, "overwrite note.txt")
    expect(text_of(s.tool("read_file", {"path": "note.txt"})) == "sec\u00f6nd\n", "read back")
    expect(s.tool("save_note", {"name": "docs/a.txt", "text": ""})["isError"] is False,
           "save in docs/")
    with open(os.path.join(sb.root, "docs", "a.txt")) as handle:
        expect(handle.read() == "", "empty note")
    for name in ("nodir/x.txt", "docs", "a\x00b", "a" * 1025, "../" + "mcpfuzz-w" +
                 secrets.token_hex(6) + ".txt", "link.txt"):
        expect_refused(s, "save_note", {"name": name, "text": "x"})
    expect_tool_error(s, "save_note", {"name": "big.txt", "text": "x" * 10001}, "10000")


@test
def bug_injection_save_note_escapes_root():
    with Sandbox() as sb, bug(cwd=sb.root) as s:
        _save_note_both_modes(s, sb)
        sb.expect_outside_unchanged("save_note with ordinary names")
        for name in ("./../{m}.txt", "docs/../../{m}.txt", "{base}/{m}.txt",
                     "./../outside/{m}.txt", "linked-dir/{m}.txt"):
            marker = "mcpfuzz-w" + secrets.token_hex(6)
            name = name.format(m=marker, base=sb.base)
            result = s.tool("save_note", {"name": name, "text": marker})
            expect(result["isError"] is False, "save_note %r refused" % name, result)
            path = os.path.realpath(os.path.join(sb.root, name))
            expect(not path.startswith(sb.root + os.sep), "test error: inside the root", path)
            with open(path) as handle:
                expect(handle.read() == marker, "the note outside the root", path)
        existing = os.path.join(sb.base, "secret.txt")
        expect_refused(s, "save_note", {"name": existing, "text": "x"})
        with open(existing) as handle:
            expect(handle.read() == sb.canaries["secret.txt"] + "\n", "a canary was overwritten")


@test
def twin_save_note_confined():
    with Sandbox() as sb, twin(cwd=sb.root) as s:
        _save_note_both_modes(s, sb)
        for name in ("./../{m}.txt", "docs/../../{m}.txt", "{base}/{m}.txt", "{base}/secret.txt",
                     "./../outside/{m}.txt", "linked-dir/{m}.txt", "/{m}.txt"):
            marker = "mcpfuzz-w" + secrets.token_hex(6)
            expect_refused(s, "save_note", {"name": name.format(m=marker, base=sb.base),
                                            "text": marker})
            expect(not os.path.exists("/" + marker + ".txt"), "wrote at /")
        sb.expect_outside_unchanged("save_note")


def _shell_payloads(sb):
    """(pattern, product or None, marker path or None): shell code that breaks out of the
    single quotes, as the fuzzer sends it."""
    a, b, product = five_digits()
    touch, backtick, newline = sb.marker(), sb.marker(), sb.marker()
    return [
        ("'; echo $((%d*%d)); '" % (a, b), product, None),
        ("'$(touch %s)'" % touch, None, touch),
        ("'`touch %s`'" % backtick, None, backtick),
        ("'\ntouch %s\n'" % newline, None, newline),
        ("' && echo $((%d*%d)) #" % (b, a), product, None),
    ]


@test
def bug_injection_count_matches_shell():
    with Sandbox() as sb, bug(cwd=sb.root) as s:
        result = s.tool("count_matches", {"pattern": "MCPFUZZ-ALLOWED"})
        expect(text_of(result) == "docs/guide.txt:1\n", "ordinary count", result)
        expect_tool_error(s, "count_matches", {"pattern": "["}, "grep")
        for pattern, product, marker in _shell_payloads(sb):
            text = text_of(s.tool("count_matches", {"pattern": pattern}))
            if product:
                expect(product in text, "%r was not executed" % pattern, text)
            if marker:
                expect(os.path.exists(marker), "%r was not executed" % pattern, text)
        for pattern in ("$(echo 1)", "`echo 1`", "a; echo 2", '"; echo 3; "'):
            result = s.tool("count_matches", {"pattern": pattern})
            expect(text_of(result) == "docs/guide.txt:0\n", "%r inside the quotes" % pattern,
                   result)


@test
def twin_count_matches_inert():
    with Sandbox() as sb, twin(cwd=sb.root) as s:
        result = s.tool("count_matches", {"pattern": "MCPFUZZ-ALLOWED"})
        expect(text_of(result) == "docs/guide.txt:1\n", "ordinary count", result)
        expect_tool_error(s, "count_matches", {"pattern": "["}, "grep")
        expect_tool_error(s, "count_matches", {"pattern": "a\x00b"}, "NUL")
        for pattern, product, marker in _shell_payloads(sb) + [("-r", None, None)]:
            result = s.tool("count_matches", {"pattern": pattern})
            expect(result["isError"] is False and text_of(result) == "docs/guide.txt:0\n",
                   "%r was not inert" % pattern, result)
        sb.expect_outside_unchanged("count_matches")


GREETING = "Hello, %s! The meeting starts in 15 minutes."
INERT_TEMPLATES = ["${%d*%d}", "<%%= %d*%d %%>", "{{ %d ** %d }}", "{%d*%d}",
                   "{{__import__('os').getpid() + %d * %d}}"]


@test
def bug_injection_greet_template():
    with bug() as s:
        expect(text_of(s.tool("greet", {"name": "Ada"})) == GREETING % "Ada", "greeting")
        a, b, product = five_digits()
        for name in ("{{%d*%d}}" % (a, b), "x {{ %d * %d }} y" % (a, b), "{{(%d)*%d}}" % (a, b)):
            text = text_of(s.tool("greet", {"name": name}))
            expect(product in text, "%r not evaluated" % name, text)
        for form in INERT_TEMPLATES:
            name = form % (a, b)
            expect(text_of(s.tool("greet", {"name": name})) == GREETING % name,
                   "%r evaluated" % name)
        for name in ("{{%s*%s}}" % ("9" * 20, "9" * 20), "{{1/0}}", "{{" + "(" * 150 + "}}"):
            expect(text_of(s.tool("greet", {"name": name})) == GREETING % name,
                   "%r evaluated" % name)


@test
def twin_greet_inert():
    with twin() as s:
        expect(text_of(s.tool("greet", {"name": "Ada"})) == GREETING % "Ada", "greeting")
        a, b, product = five_digits()
        for form in ["{{%d*%d}}", "{{ %d * %d }}"] + INERT_TEMPLATES:
            name = form % (a, b)
            result = s.tool("greet", {"name": name})
            expect(text_of(result) == GREETING % name and product not in text_of(result),
                   "%r not inert" % name, result)
        expect(text_of(s.tool("greet", {"name": "{name}"})) == GREETING % "{name}", "{name}")


def _sort_lines_both_modes(s, sb):
    guide = sb.allowed["root/docs/guide.txt"]
    want = "\n".join(sorted(["zebra", "apple", guide, "mango"])) + "\n"
    expect(text_of(s.tool("sort_lines", {"path": "docs/guide.txt"})) == want, "sorted")
    for path in ("link.txt", "../outside/secret.txt", "linked-dir/secret.txt", "missing.txt",
                 "a\x00b", "a" * 1025):
        expect_refused(s, "sort_lines", {"path": path})


@test
def bug_injection_sort_lines_option():
    with Sandbox() as sb, bug(cwd=sb.root) as s:
        _sort_lines_both_modes(s, sb)
        for form in ("--output=%s", "-o%s"):
            marker = sb.marker("mcpfuzz-o")
            result = s.tool("sort_lines", {"path": form % marker})
            expect(os.path.exists(marker), "%r did not create the file" % (form % marker),
                   result)


@test
def twin_sort_lines_confined():
    with Sandbox() as sb, twin(cwd=sb.root) as s:
        _sort_lines_both_modes(s, sb)
        for form in ("--output=%s", "-o%s", "--output=x", "-", "--help"):
            expect_refused(s, "sort_lines", {"path": form % sb.marker("mcpfuzz-o")
                                             if "%s" in form else form})
        for path, _ in PREFIX_SIBLING_READS:
            expect_refused(s, "sort_lines", {"path": path.format(base=sb.base)})
        with open(os.path.join(sb.root, "-n"), "w") as handle:
            handle.write("b\na\n")
        expect(text_of(s.tool("sort_lines", {"path": "-n"})) == "a\nb\n", "a file named -n")
        sb.expect_outside_unchanged("sort_lines")


def _sql_payloads():
    a, b, product = five_digits()
    x, y = str(random.randint(100, 999)), str(random.randint(100, 999))
    return [
        ("' UNION SELECT %d*%d, 2--" % (a, b), product),
        ("' UNION SELECT %d*%d,NULL--" % (a, b), product),
        ("nobody' UNION SELECT %d*%d, 'x' FROM users--" % (a, b), product),
        ("'||'%s'||'%s'||'" % (x, y), x + y),
    ]


@test
def bug_injection_lookup_user_sql():
    with bug() as s:
        expect(text_of(s.tool("lookup_user", {"name": "alice"})) == "alice <alice@example.com>",
               "alice")
        expect(text_of(s.tool("lookup_user", {"name": "nobody"})) == 'No user named "nobody"',
               "nobody")
        for name, evidence in _sql_payloads():
            result = s.tool("lookup_user", {"name": name})
            expect(result["isError"] is False and evidence in text_of(result),
                   "%r not injected" % name, result)
        expect_tool_error(s, "lookup_user", {"name": "' UNION SELECT 6*7--"}, "UNION")
        expect_tool_error(s, "lookup_user", {"name": "'"}, "unrecognized token")
        endless = ("' UNION SELECT x, x FROM (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
                   "SELECT x + 1 FROM c) SELECT x FROM c) WHERE x < 0--")
        expect_tool_error(s, "lookup_user", {"name": endless}, "interrupted")
        expect(s.barrier() == [], "alive")


@test
def twin_lookup_user_parameterized():
    with twin() as s:
        expect(text_of(s.tool("lookup_user", {"name": "alice"})) == "alice <alice@example.com>",
               "alice")
        for name, evidence in _sql_payloads() + [("'", "unrecognized"), ("a\x00b", "NUL")]:
            result = s.tool("lookup_user", {"name": name})
            expect(result["isError"] is False and text_of(result) == "No user named %s"
                   % json.dumps(name) and evidence not in text_of(result),
                   "%r not inert" % name, result)


ECHO_PAYLOADS = ["'; echo $((12345*54321)); '", "$(touch /tmp/x)", "`id`", "a\nb", "{{6*7}}",
                 "${6*7}", "<%= 6*7 %>", "' UNION SELECT 6*7--", "'||'123'||'456'||'",
                 "../root_old/secret.txt", "--output=/tmp/x", "file:///etc/passwd",
                 "%2e%2e%2fsecret.txt", "<script>alert(1)</script>"]


@test
def echo_reflects_payloads_unchanged():
    for make in (bug, twin):
        with Sandbox() as sb, make(cwd=sb.root) as s:
            for payload in ECHO_PAYLOADS:
                result = s.tool("echo", {"message": payload})
                expect(result["isError"] is False and text_of(result) == payload,
                       "echo changed %r" % payload, result)
            sb.expect_outside_unchanged("echo")


@test
def root_flag_overrides_cwd():
    with Sandbox() as sb:
        for make in (bug, twin):
            with make("--root", os.path.join(sb.base, "root", "docs", ".."), cwd=sb.base) as s:
                result = s.tool("read_file", {"path": "README.md"})
                expect(sb.allowed["root/README.md"] in text_of(result), "--root", result)
                expect_refused(s, "read_file", {"path": "../outside/secret.txt"})
        with twin("--root", os.path.join(sb.base, "missing"), handshake=False) as s:
            expect_dies(s, 2, "not a directory")
            s.check_purity = False


# ======================================================================================
# JSON-RPC 2.0 conformance of the twin (and the shared code paths of bug mode)
# ======================================================================================


def raw_reply(s, data):
    s.send_bytes(data + b"\n")
    return s.read_json()


@test
def parse_errors_have_null_id():
    with twin() as s:
        for data in (b"not json", b"{", b'{"jsonrpc":"2.0","id":1,"method":"ping"', b"\xff\xfe",
                     b'{"jsonrpc":"2.0","id":1,"method":"p\xc3"}', b"NaN",
                     b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":NaN}}',
                     b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}',
                     b'{"jsonrpc":"2.0","id":1,"method":"ping"} x', b"\xef\xbb\xbf{}",
                     b"[" * 5000 + b"]" * 5000):
            reply = raw_reply(s, data)
            expect(reply == {"jsonrpc": "2.0", "id": None, "error": reply.get("error")}
                   and reply["error"]["code"] == -32700, "parse error for %r" % data[:40], reply)
        reply = raw_reply(s, b'{"jsonrpc":"2.0","id":"\\ud83d\\ude00","method":"ping"}')
        expect(reply.get("id") == "\U0001F600", "surrogate pair id", reply)


@test
def line_framing():
    with twin() as s:
        s.send_bytes(b"\n   \n\t\r\n")
        s.send_bytes(b'{"jsonrpc":"2.0","id":"crlf","method":"ping"}\r\n')
        expect(s.read_json() == {"jsonrpc": "2.0", "id": "crlf", "result": {}}, "CRLF frame")
        expect(s.barrier() == [], "blank lines answered")
        s.send_bytes(b'{"jsonrpc":"2.0","id":"a","method":"ping"}\n'
                     b'{"jsonrpc":"2.0","id":"b","method":"ping"}\n')
        expect([s.read_json()["id"], s.read_json()["id"]] == ["a", "b"], "two frames in a write")
        s.send_bytes(b'{"jsonrpc":"2.0","id":"split",')
        time.sleep(0.05)
        s.send_bytes(b'"method":"ping"}\n')
        expect(s.read_json()["id"] == "split", "frame split over two writes")
        s.send_bytes(b'{"jsonrpc":"2.0","id":"last","method":"ping"}')
        rc = s.close()
        expect(rc == 0, "exit status", rc)
        expect(b'{"jsonrpc":"2.0","id":"last","result":{}}' in s.lines,
               "unterminated last line at EOF", s.lines[-1:])
        s.check_purity = False


@test
def invalid_requests():
    cases = [
        (b'{"jsonrpc":"2.0","id":true,"method":"ping"}', None),
        (b'{"jsonrpc":"2.0","id":false,"method":"ping"}', None),
        (b'{"jsonrpc":"2.0","id":{},"method":"ping"}', None),
        (b'{"jsonrpc":"2.0","id":[1],"method":"ping"}', None),
        (b'{"jsonrpc":"2.0","id":null,"method":"ping"}', None),
        (b'{"id":1,"method":"ping"}', 1),
        (b'{"jsonrpc":"1.0","id":2,"method":"ping"}', 2),
        (b'{"jsonrpc":2.0,"id":3,"method":"ping"}', 3),
        (b'{"jsonrpc":"2.0","id":4,"method":5}', 4),
        (b'{"jsonrpc":"2.0","id":5,"method":null}', 5),
        (b'{"jsonrpc":"2.0","id":6}', 6),
        (b'{"jsonrpc":"2.0","id":"s","method":"ping","params":5}', "s"),
        (b'{"jsonrpc":"2.0","id":7,"method":"ping","params":"x"}', 7),
        (b'{"jsonrpc":"2.0","id":8,"method":"ping","params":null}', 8),
        (b'{"jsonrpc":"2.0","method":5}', None),
        (b'{"method":"ping"}', None),
        (b'{}', None),
        (b'5', None),
        (b'"ping"', None),
        (b'null', None),
    ]
    for make in (twin, bug):
        with make() as s:
            for data, want_id in cases:
                reply = raw_reply(s, data)
                expect(reply.get("error", {}).get("code") == -32600 and "id" in reply
                       and same_id(reply["id"], want_id), "-32600 for %s" % data.decode(), reply)


@test
def method_and_params_errors():
    with twin() as s:
        for method in ("nope", "tools/nope", "notifications/initialized", "", "PING"):
            reply = s.request(method)
            expect(reply.get("error", {}).get("code") == -32601, "-32601 for %r" % method, reply)
        for method in ("ping", "tools/list", "tools/call", "initialize"):
            reply = s.request(method, [1, 2])
            expect(reply.get("error", {}).get("code") == -32602, "array params " + method, reply)
        for params in ({}, {"name": 5}, {"name": "nope"}, {"name": "echo", "arguments": [1]},
                       {"name": "echo", "arguments": "x"}):
            reply = s.request("tools/call", params)
            expect(reply.get("error", {}).get("code") == -32602, "tools/call %r" % params, reply)
        reply = s.request("tools/call", {"name": "echo", "arguments": {"message": "m"},
                                         "_meta": {"progressToken": 1}})
        expect(text_of(reply["result"]) == "m", "_meta tolerated", reply)


@test
def notifications_are_never_answered():
    with twin() as s:
        for msg in (
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "method": "notifications/cancelled",
             "params": {"requestId": 1, "reason": "x"}},
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": {}}},
            {"jsonrpc": "2.0", "method": "notifications/progress",
             "params": {"progressToken": "t", "progress": 1}},
            {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
            {"jsonrpc": "2.0", "method": "notifications/unknown", "params": [1]},
            {"jsonrpc": "2.0", "method": "ping"},
            {"jsonrpc": "2.0", "method": "tools/call", "params": {"name": "divide",
                                                                  "arguments": {"a": 1, "b": 0}}},
            {"jsonrpc": "2.0", "method": "nope", "params": 5},
            {"jsonrpc": "2.0", "method": "tools/list", "params": {"cursor": 5}},
        ):
            s.send(msg)
            expect(s.barrier() == [], "notification %r answered" % msg, s.lines[-2:])
        for reply in ({"jsonrpc": "2.0", "id": 1, "result": {}},
                      {"jsonrpc": "2.0", "id": "s-1", "error": {"code": 1, "message": "x"}},
                      {"jsonrpc": "2.0", "result": {}}, {"jsonrpc": "2.0", "id": None,
                                                          "error": {"code": 1, "message": ""}}):
            s.send(reply)
            expect(s.barrier() == [], "client reply %r answered" % reply, s.lines[-2:])


@test
def batches():
    for make in (twin, bug):
        with make() as s:
            reply = raw_reply(s, b"[]")
            expect(isinstance(reply, dict) and reply["id"] is None
                   and reply["error"]["code"] == -32600, "empty batch", reply)
            reply = raw_reply(s, b"[1,2]")
            expect(isinstance(reply, list) and len(reply) == 2
                   and all(r["error"]["code"] == -32600 and r["id"] is None for r in reply),
                   "batch of invalid members", reply)
            batch = [
                {"jsonrpc": "2.0", "id": "a", "method": "ping"},
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "nope"},
                {"jsonrpc": "2.0", "id": True, "method": "ping"},
                {"jsonrpc": "2.0", "id": 1, "result": {}},
                {"jsonrpc": "2.0", "id": "e", "method": "tools/call",
                 "params": {"name": "echo", "arguments": {"message": "x"}}},
            ]
            s.send(batch)
            reply = s.read_json()
            expect(isinstance(reply, list) and [r["id"] for r in reply] == ["a", 2, None, "e"],
                   "mixed batch", reply)
            expect(reply[0]["result"] == {} and reply[1]["error"]["code"] == -32601
                   and reply[2]["error"]["code"] == -32600
                   and text_of(reply[3]["result"]) == "x", "mixed batch members", reply)
            s.send([{"jsonrpc": "2.0", "method": "notifications/initialized"},
                    {"jsonrpc": "2.0", "method": "x"}])
            expect(s.barrier() == [], "all-notification batch answered", s.lines[-2:])
            reply = raw_reply(s, b'[{"jsonrpc":"2.0","id":1,"method":"ping"},]')
            expect(reply.get("error", {}).get("code") == -32700, "broken batch", reply)


@test
def twin_schema_validation():
    with twin() as s:
        expect_tool_error(s, "echo", {"message": 5}, "string")
        expect_tool_error(s, "echo", {"message": "m", "extra": 1}, "unexpected")
        expect_tool_error(s, "echo", {"message": "m", "uppercase": "yes"}, "boolean")
        expect(text_of(s.tool("echo", {"message": "Hi", "uppercase": True})) == "HI", "upper")
        expect(text_of(s.tool("echo", {"message": "a\x00\n\u00e9\U0001F600"}))
               == "a\x00\n\u00e9\U0001F600", "echo reflects exactly")
        expect_tool_error(s, "divide", {"a": "1", "b": 2}, "number")
        expect_tool_error(s, "divide", {"a": True, "b": 2}, "number")
        expect_tool_error(s, "render", {"text": "x", "width": 201}, "at most 200")
        expect_tool_error(s, "render", {"text": "x", "width": 5, "align": "middle"}, "align")
        expect_tool_error(s, "store", {"key": "", "value": "v"}, "at least 1")
        expect_tool_error(s, "store", {"key": "k" * 65, "value": "v"}, "at most 64")
        expect_tool_error(s, "summarize", {"text": ""}, "at least 1")
        s.send_bytes(b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"count",'
                     b'"arguments":{"n":1' + b"0" * 400 + b'}}}\n')
        expect(s.reply_to(1)["result"]["isError"] is True, "huge integer")
        s.send_bytes(b'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"divide",'
                     b'"arguments":{"a":1e400,"b":1}}}\n')
        expect(s.reply_to(2)["result"]["isError"] is True, "overflowing number")


def _edge_values(schema):
    values = [None, True, False, 0, -1, 1, 1.5, -0.0, "", "x", [], {}, [1], {"a": 1},
              10 ** 20, -10 ** 20, 1e308, 2 ** 63, -2 ** 63 - 1]
    kind = schema["type"]
    if kind == "string":
        low, high = schema.get("minLength", 0), schema.get("maxLength", 64)
        values += ["a" * low, "a" * max(low - 1, 0), "a" * high, "a" * (high + 1), "a" * 10001,
                   "\x00", "a\x00b", "\n", "\r\n", "\t", "\u00e9\U0001F600", " ", "-1", "7",
                   "%s%n", "../../etc/passwd", "<script>alert(1)</script>", "'\"", "\\",
                   "\u202e", "\ufeff", "null", "{}"]
        for choice in schema.get("enum", []):
            values += [choice, choice.upper(), choice + " ", " " + choice]
    if kind in ("integer", "number"):
        low, high = schema.get("minimum", -100), schema.get("maximum", 100)
        values += [low - 1, low, high, high + 1, low + 0.5, high - 0.5, float(low),
                   float(high), 1e-300, -1e-300, 5e-324]
    if kind == "boolean":
        values += ["true", 1]
    return values


def _minimal_args(schema):
    args = {}
    for name in schema.get("required", []):
        sub = schema["properties"][name]
        if "enum" in sub:
            args[name] = sub["enum"][0]
        elif sub["type"] == "string":
            args[name] = "a" * max(1, sub.get("minLength", 0))
        else:
            args[name] = sub.get("minimum", 1)
    return args


@test
def twin_mini_fuzz_tools():
    """Schema-driven edge cases on every tool: one well-formed reply each, no internal
    errors, no crash, stdout stays pure (checked when the session closes)."""
    with twin("--sampling-timeout", "0.2") as s:
        tools, cursor = [], None
        while True:
            result = s.result("tools/list", {"cursor": cursor} if cursor else {})
            tools += result["tools"]
            cursor = result.get("nextCursor")
            if not cursor:
                break
        calls = 0
        for tool in tools:
            schema = tool["inputSchema"]
            base = _minimal_args(schema)
            variants = [base, {}, {"unexpected": 1}]
            for name in schema["required"]:
                variants.append({k: v for k, v in base.items() if k != name})
            for name, sub in schema["properties"].items():
                for value in _edge_values(sub):
                    args = dict(base)
                    args[name] = value
                    variants.append(args)
            for args in variants:
                reply = s.call(tool["name"], args)
                calls += 1
                expect("result" in reply, "tools/call %s %s answered an error" % (
                    tool["name"], shown(args, 120)), reply)
                check_tool_result(reply["result"])
            for args in (None, [], "x", 5, True):
                reply = s.request("tools/call", {"name": tool["name"], "arguments": args})
                expect(args is None and "result" in reply
                       or reply.get("error", {}).get("code") == -32602,
                       "arguments %r" % (args,), reply)
        expect(calls > 300, "too few calls", calls)
        if VERBOSE:
            print("    %d tool calls" % calls)
        expect(s.proc.poll() is None, "the twin died")


@test
def twin_mini_fuzz_methods():
    odd = [None, True, 0, -1, 1.5, "", "x" * 1000, [], {}, [None], {"": None}]
    methods = ["initialize", "ping", "tools/list", "tools/call", "resources/list",
               "resources/templates/list", "resources/read", "resources/subscribe",
               "resources/unsubscribe", "prompts/list", "prompts/get", "completion/complete",
               "logging/setLevel"]
    keys = ["cursor", "name", "arguments", "uri", "level", "ref", "argument", "protocolVersion",
            "capabilities", "clientInfo", "_meta"]
    with twin() as s:
        for method in methods:
            for key in keys:
                for value in odd:
                    reply = s.request(method, {key: value})
                    if "error" in reply:
                        expect(reply["error"]["code"] in (-32602, -32002),
                               "%s %s=%r" % (method, key, value), reply)
        expect(s.proc.poll() is None, "the twin died")


# ======================================================================================


def main(argv):
    global VERBOSE
    filters = [a for a in argv if not a.startswith("-")]
    VERBOSE = "-v" in argv or "--verbose" in argv
    started = time.monotonic()
    try:
        passed, failed = run_tests(filters)
    finally:
        Sandbox.remove_shared()
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
        t0 = time.monotonic()
        try:
            function()
        except Failure as exc:
            failed += 1
            print("FAIL %s: %s" % (name, exc))
            continue
        except Exception as exc:  # a bug in the test or a broken pipe to a dead server
            failed += 1
            print("FAIL %s: %s: %s" % (name, type(exc).__name__, shown(str(exc))))
            continue
        passed += 1
        if VERBOSE:
            print("ok   %s (%.2fs)" % (name, time.monotonic() - t0))
    return passed, failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
