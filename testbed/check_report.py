#!/usr/bin/env python3
"""Checks the reports `mcpfuzz report` writes: SARIF 2.1.0, JUnit XML, a self-contained HTML page.

    python3 testbed/check_report.py sarif FILE
    python3 testbed/check_report.py junit FILE
    python3 testbed/check_report.py html FILE [--min-plots N] [--plots-selector CSS]
                                              [--screenshot PNG] [--timeout S] [--settle S]

Exit status: 0 the report is fine (one summary line on stdout), 1 it is not (each problem
on stdout, then the summary), 2 a tool is missing or the command line is wrong.

The SARIF schema, jsonschema (when the interpreter lacks it) and Chromium are installed by
scripts/install-report-tools; the schema and jsonschema live in the tools cache
${MCPFUZZ_TOOLS:-$HOME/.cache/mcpfuzz/tools}. Standard library only, plus jsonschema for
`sarif`.
"""

import argparse
import json
import math
import os
import pathlib
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET

INSTALL_HINT = "run scripts/install-report-tools"


def tools_dir():
    return pathlib.Path(
        os.environ.get("MCPFUZZ_TOOLS") or pathlib.Path.home() / ".cache" / "mcpfuzz" / "tools"
    )


def missing(what):
    print(f"check_report: {what} is missing: {INSTALL_HINT}", file=sys.stderr)
    sys.exit(2)


# --------------------------------------------------------------------------------------
# SARIF
# --------------------------------------------------------------------------------------

SARIF_LEVELS = ("none", "note", "warning", "error")


def import_jsonschema():
    try:
        import jsonschema  # noqa: F401
        return jsonschema
    except ImportError:
        pass
    # scripts/install-report-tools puts it here when the interpreter has none of its own.
    target = tools_dir() / ("python%d.%d" % sys.version_info[:2])
    if target.is_dir():
        sys.path.insert(0, str(target))
        try:
            import jsonschema  # noqa: F401
            return jsonschema
        except ImportError:
            pass
    missing("the Python package jsonschema")


def sarif_schema_path():
    override = os.environ.get("MCPFUZZ_SARIF_SCHEMA")
    return pathlib.Path(override) if override else tools_dir() / "sarif-schema-2.1.0.json"


def json_path(parts):
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def short(value, limit=120):
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def github_rules(log):
    """The rules GitHub code scanning enforces on upload, beyond the schema. Returns
    (problems, runs, rules, results)."""
    problems = []
    n_rules = n_results = 0
    if not isinstance(log, dict):
        return ["$: the log is not a JSON object"], 0, 0, 0
    if log.get("version") != "2.1.0":
        problems.append(f'$.version: must be "2.1.0", is {short(log.get("version"))}')
    runs = log.get("runs")
    if not isinstance(runs, list) or not runs:
        problems.append("$.runs: must be a non-empty array")
        return problems, 0, 0, 0
    for ri, run in enumerate(runs):
        rp = f"$.runs[{ri}]"
        if not isinstance(run, dict):
            problems.append(f"{rp}: not an object")
            continue
        driver = (run.get("tool") or {}).get("driver") if isinstance(run.get("tool"), dict) else None
        if not isinstance(driver, dict):
            problems.append(f"{rp}.tool.driver: missing")
            driver = {}
        name = driver.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{rp}.tool.driver.name: missing or empty")
        rules = driver.get("rules") or []
        if not isinstance(rules, list):
            problems.append(f"{rp}.tool.driver.rules: not an array")
            rules = []
        n_rules += len(rules)
        rule_ids = []
        for ki, rule in enumerate(rules):
            kp = f"{rp}.tool.driver.rules[{ki}]"
            if not isinstance(rule, dict):
                problems.append(f"{kp}: not an object")
                rule_ids.append(None)
                continue
            rid = rule.get("id")
            if not isinstance(rid, str) or not rid:
                problems.append(f"{kp}.id: missing or empty")
            elif rid in rule_ids:
                problems.append(f"{kp}.id: duplicate rule id {short(rid)}")
            rule_ids.append(rid)
            props = rule.get("properties")
            if isinstance(props, dict) and "security-severity" in props:
                sev = props["security-severity"]
                ok = False
                if isinstance(sev, str):
                    try:
                        num = float(sev)
                        ok = math.isfinite(num) and 0.0 <= num <= 10.0
                    except ValueError:
                        pass
                if not ok:
                    problems.append(
                        f'{kp}.properties["security-severity"]: must be a string holding a '
                        f"number from 0.0 to 10.0, is {short(sev)}"
                    )
        results = run.get("results") or []
        if not isinstance(results, list):
            problems.append(f"{rp}.results: not an array")
            results = []
        n_results += len(results)
        for xi, res in enumerate(results):
            xp = f"{rp}.results[{xi}]"
            if not isinstance(res, dict):
                problems.append(f"{xp}: not an object")
                continue
            rid = res.get("ruleId")
            if not isinstance(rid, str) or not rid:
                problems.append(f"{xp}.ruleId: missing or empty")
            elif rules and rid not in rule_ids:
                problems.append(f"{xp}.ruleId: {short(rid)} names no rule in tool.driver.rules")
            if "ruleIndex" in res and rules:
                idx = res["ruleIndex"]
                if not isinstance(idx, int) or not 0 <= idx < len(rules):
                    problems.append(f"{xp}.ruleIndex: {short(idx)} is out of range")
                elif isinstance(rid, str) and rule_ids[idx] != rid:
                    problems.append(
                        f"{xp}.ruleIndex: rule {idx} is {short(rule_ids[idx])}, not ruleId {short(rid)}"
                    )
            msg = res.get("message")
            text = msg.get("text") if isinstance(msg, dict) else None
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{xp}.message.text: missing or empty")
            if "level" in res and res["level"] not in SARIF_LEVELS:
                problems.append(f"{xp}.level: {short(res['level'])} is not one of {'/'.join(SARIF_LEVELS)}")
            locs = res.get("locations")
            has_uri = False
            if isinstance(locs, list):
                for loc in locs:
                    phys = loc.get("physicalLocation") if isinstance(loc, dict) else None
                    art = phys.get("artifactLocation") if isinstance(phys, dict) else None
                    uri = art.get("uri") if isinstance(art, dict) else None
                    if isinstance(uri, str) and uri:
                        has_uri = True
                        break
            if not has_uri:
                problems.append(
                    f"{xp}.locations: needs at least one location with physicalLocation.artifactLocation.uri"
                )
    return problems, len(runs), n_rules, n_results


def cmd_sarif(args):
    jsonschema = import_jsonschema()
    schema_file = sarif_schema_path()
    if not schema_file.is_file():
        missing(f"the SARIF 2.1.0 schema ({schema_file})")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    try:
        log = json.loads(pathlib.Path(args.file).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        print(f"{args.file}: not readable as JSON: {e}")
        print(f"sarif FAILED {args.file}: 1 problem")
        return 1
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft4Validator)
    validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
    problems = []
    for err in sorted(validator.iter_errors(log), key=lambda e: [str(p) for p in e.absolute_path]):
        problems.append(f"schema: {json_path(err.absolute_path)}: {short(err.message, 300)}")
    extra, n_runs, n_rules, n_results = github_rules(log)
    problems += extra
    for p in problems:
        print(p)
    counts = f"runs={n_runs} rules={n_rules} results={n_results}"
    if problems:
        print(f"sarif FAILED {args.file}: {len(problems)} problem(s); {counts}")
        return 1
    print(f"sarif ok {args.file}: {counts}")
    return 0


# --------------------------------------------------------------------------------------
# JUnit
# --------------------------------------------------------------------------------------

JUNIT_COUNTS = ("tests", "failures", "errors", "skipped")


def cmd_junit(args):
    try:
        root = ET.parse(args.file).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"{args.file}: not well-formed XML: {e}")
        print(f"junit FAILED {args.file}: 1 problem")
        return 1
    problems = []
    if root.tag == "testsuites":
        suites = root.findall("testsuite")
        if not suites:
            problems.append("<testsuites>: has no <testsuite> child")
    elif root.tag == "testsuite":
        suites = [root]
    else:
        problems.append(f"root element is <{root.tag}>, not <testsuites> or <testsuite>")
        suites = []

    def attr_int(elem, name, where):
        raw = elem.get(name)
        if raw is None:
            return None
        try:
            val = int(raw)
            if val < 0:
                raise ValueError
            return val
        except ValueError:
            problems.append(f"{where}: {name}={raw!r} is not a non-negative integer")
            return None

    totals = dict.fromkeys(JUNIT_COUNTS, 0)
    for si, suite in enumerate(suites):
        where = f"testsuite[{si}] {suite.get('name', '')!r}".rstrip()
        if suite.get("name") is None:
            problems.append(f"testsuite[{si}]: no name attribute")
        cases = suite.findall("testcase")
        actual = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        for name in JUNIT_COUNTS:
            declared = attr_int(suite, name, where)
            if declared is None:
                if name == "tests" and suite.get(name) is None:
                    problems.append(f"{where}: no tests attribute ({actual['tests']} testcases)")
            elif declared != actual[name]:
                problems.append(f"{where}: {name}={declared} but its testcases give {actual[name]}")
            totals[name] += actual[name]
        raw_time = suite.get("time")
        if raw_time is not None:
            try:
                float(raw_time)
            except ValueError:
                problems.append(f"{where}: time={raw_time!r} is not a number")
        for ci, case in enumerate(cases):
            cwhere = f"{where} testcase[{ci}]"
            for name in ("name", "classname"):
                if not (case.get(name) or "").strip():
                    problems.append(f"{cwhere}: no {name} attribute")
            for fi, failure in enumerate(case.findall("failure")):
                if failure.get("message") is None:
                    problems.append(f"{cwhere} {case.get('name', '')!r} failure[{fi}]: no message attribute")
            raw_time = case.get("time")
            if raw_time is not None:
                try:
                    float(raw_time)
                except ValueError:
                    problems.append(f"{cwhere}: time={raw_time!r} is not a number")
    if root.tag == "testsuites":
        for name in JUNIT_COUNTS:
            declared = attr_int(root, name, "<testsuites>")
            if declared is not None and declared != totals[name]:
                problems.append(f"<testsuites>: {name}={declared} but its testsuites give {totals[name]}")
    for p in problems:
        print(p)
    counts = f"suites={len(suites)} " + " ".join(f"{k}={totals[k]}" for k in JUNIT_COUNTS)
    if problems:
        print(f"junit FAILED {args.file}: {len(problems)} problem(s); {counts}")
        return 1
    print(f"junit ok {args.file}: {counts}")
    return 0


# --------------------------------------------------------------------------------------
# HTML, in headless Chromium over the DevTools protocol on a pipe
# --------------------------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--mute-audio",
    "--window-size=1280,900",
    "--remote-debugging-pipe",
]

# Schemes a self-contained page may load from. blob: and about: never leave the page.
LOCAL_SCHEMES = ("file:", "data:", "blob:", "about:")

# The largest screenshot taken, in CSS pixels (a runaway page should not make a huge PNG).
MAX_SHOT = 16384


class Timeout(Exception):
    pass


class CDPError(Exception):
    pass


class Browser:
    """Chromium driven over --remote-debugging-pipe: it reads commands from fd 3 and writes
    replies and events to fd 4, each a JSON text followed by a NUL byte."""

    def __init__(self, exe, deadline):
        self.deadline = deadline
        self.profile = tempfile.mkdtemp(prefix="mcpfuzz-chromium-")
        self.stderr = open(os.path.join(self.profile, "stderr.log"), "w+b")
        to_r, to_w = os.pipe()  # commands: we write to_w, Chromium reads fd 3
        from_r, from_w = os.pipe()  # replies: Chromium writes fd 4, we read from_r
        # Move the child's ends out of the way of 3 and 4 so the dup2s cannot clobber them.
        child_in = _dup_high(to_r)
        child_out = _dup_high(from_w)
        os.close(to_r)
        os.close(from_w)

        def preexec():
            os.dup2(child_in, 3)
            os.dup2(child_out, 4)  # dup2 leaves 3 and 4 inheritable; the rest is CLOEXEC

        try:
            self.proc = subprocess.Popen(
                [exe, *CHROMIUM_FLAGS, f"--user-data-dir={self.profile}/profile", "about:blank"],
                stdin=subprocess.DEVNULL,
                stdout=self.stderr,
                stderr=self.stderr,
                close_fds=False,
                preexec_fn=preexec,
                start_new_session=True,
            )
        finally:
            os.close(child_in)
            os.close(child_out)
        self.wfd = to_w
        self.rfd = from_r
        self.inbox = queue.Queue()
        self.events = []
        self.next_id = 0
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            try:
                chunk = os.read(self.rfd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                self.inbox.put(None)
                return
            buf += chunk
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                try:
                    self.inbox.put(json.loads(msg))
                except ValueError:
                    pass

    def _pump(self, until):
        """Takes messages off the pipe until one satisfies `until` (returned) or time is up."""
        while True:
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise Timeout()
            try:
                msg = self.inbox.get(timeout=min(left, 0.5))
            except queue.Empty:
                if self.proc.poll() is not None:
                    raise CDPError(f"chromium exited with status {self.proc.returncode}{self._stderr_tail()}")
                continue
            if msg is None:
                raise CDPError(f"chromium closed the DevTools pipe{self._stderr_tail()}")
            if "id" not in msg:
                self.events.append(msg)
            if until(msg):
                return msg

    def send(self, method, params=None, session=None):
        self.next_id += 1
        cid = self.next_id
        msg = {"id": cid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            try:
                n = os.write(self.wfd, data)
            except OSError as e:
                raise CDPError(f"chromium closed the DevTools pipe ({e}){self._stderr_tail()}")
            data = data[n:]
        reply = self._pump(lambda m: m.get("id") == cid)
        if "error" in reply:
            raise CDPError(f"{method}: {reply['error'].get('message')}")
        return reply.get("result", {})

    def wait_event(self, method, session=None):
        for ev in self.events:
            if ev.get("method") == method and (session is None or ev.get("sessionId") == session):
                return ev
        return self._pump(
            lambda m: m.get("method") == method and (session is None or m.get("sessionId") == session)
        )

    def settle(self, seconds):
        """Keeps collecting events for `seconds` (late errors from timers, late requests)."""
        end = min(time.monotonic() + seconds, self.deadline)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                return
            try:
                msg = self.inbox.get(timeout=left)
            except queue.Empty:
                return
            if msg is None:
                return
            if "id" not in msg:
                self.events.append(msg)

    def _stderr_tail(self):
        try:
            self.stderr.flush()
            self.stderr.seek(0)
            lines = self.stderr.read().decode(errors="replace").strip().splitlines()
            # Not the cause of anything: no D-Bus in a container, and Debian's wrapper
            # script's findmnt test failing on a machine with two /dev/shm lines.
            lines = [l for l in lines if "dbus" not in l.lower() and "unexpected operator" not in l][-5:]
        except (OSError, ValueError):
            return ""
        return (": " + " | ".join(lines)) if lines else ""

    def close(self):
        try:
            if self.proc.poll() is None:
                try:
                    os.write(self.wfd, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=3)
                except subprocess.TimeoutExpired:
                    pass
            # Chromium's helpers (zygote, renderer, utility) share its process group.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        finally:
            for fd in (self.wfd, self.rfd):
                try:
                    os.close(fd)
                except OSError:
                    pass
            self.stderr.close()
            shutil.rmtree(self.profile, ignore_errors=True)


def become_subreaper():
    """Chromium's helpers are orphaned when it dies; as a child subreaper we get them back
    (to kill and reap) instead of leaving them to init, which may not reap them."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        pass


def reap_children(limit=5.0):
    """Kills and reaps whatever descendants of ours are left (all of them Chromium's)."""
    end = time.monotonic() + limit
    me = str(os.getpid())
    while time.monotonic() < end:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except OSError:
                    pass
        try:
            while True:
                pid, _ = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
        except ChildProcessError:
            return
        time.sleep(0.05)


def _dup_high(fd):
    import fcntl

    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


def _remote_text(obj):
    if not isinstance(obj, dict):
        return str(obj)
    if "value" in obj:
        v = obj["value"]
        return v if isinstance(v, str) else json.dumps(v)
    if obj.get("unserializableValue"):
        return obj["unserializableValue"]
    return obj.get("description") or obj.get("type", "")


def _top_url(stack):
    frames = (stack or {}).get("callFrames") or []
    return frames[0].get("url", "") if frames else ""


def analyse_events(events, session):
    errors, warnings, exceptions, external, requests = [], [], [], [], 0
    for ev in events:
        if ev.get("sessionId") != session:
            continue
        method, p = ev.get("method"), ev.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            exc = d.get("exception") or {}
            text = exc.get("description") or d.get("text", "")
            exceptions.append(
                {
                    "text": text,
                    "url": d.get("url") or _top_url(d.get("stackTrace")),
                    "line": d.get("lineNumber", -1) + 1,
                }
            )
        elif method == "Runtime.consoleAPICalled":
            kind = p.get("type")
            entry = {
                "type": kind,
                "text": " ".join(_remote_text(a) for a in p.get("args", [])),
                "url": _top_url(p.get("stackTrace")),
            }
            if kind in ("error", "assert"):
                entry["source"] = "console-api"
                errors.append(entry)
            elif kind == "warning":
                warnings.append(entry)
        elif method == "Log.entryAdded":
            e = p.get("entry", {})
            entry = {"source": e.get("source", ""), "text": e.get("text", ""), "url": e.get("url", "")}
            if e.get("level") == "error":
                errors.append(entry)
            elif e.get("level") == "warning":
                warnings.append(entry)
        elif method == "Network.requestWillBeSent":
            requests += 1
            url = p.get("request", {}).get("url", "")
            if not url.lower().startswith(LOCAL_SCHEMES):
                external.append(url)
    return errors, warnings, exceptions, external, requests


def cmd_html(args):
    exe = os.environ.get("MCPFUZZ_CHROMIUM", "/usr/bin/chromium")
    if not (os.path.isfile(exe) and os.access(exe, os.X_OK)):
        missing(f"Chromium ({exe})")
    page = pathlib.Path(args.file)
    if not page.is_file():
        print(f"check_report: {args.file}: no such file", file=sys.stderr)
        return 2
    url = page.resolve().as_uri()
    summary = {
        "console_errors": [],
        "exceptions": [],
        "plots": 0,
        "external_requests": [],
        "title": None,
        "console_warnings": [],
        "requests": 0,
        "error": None,
    }
    problems = []
    deadline = time.monotonic() + args.timeout
    browser = None
    session = None

    def on_signal(signum, frame):  # killed from outside: still clean up in the finally
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    become_subreaper()
    try:
        browser = Browser(exe, deadline)
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Runtime", "Log", "Page", "Network"):
            browser.send(f"{domain}.enable", session=session)
        nav = browser.send("Page.navigate", {"url": url}, session=session)
        if nav.get("errorText"):
            raise CDPError(f"navigation to {url} failed: {nav['errorText']}")
        browser.wait_event("Page.loadEventFired", session=session)
        browser.settle(args.settle)
        ev = browser.send(
            "Runtime.evaluate",
            {
                "expression": f"document.querySelectorAll({json.dumps(args.plots_selector)}).length",
                "returnByValue": True,
            },
            session=session,
        )
        if "exceptionDetails" in ev:
            problems.append(f"plots selector {args.plots_selector!r}: {_remote_text(ev.get('result'))}")
        else:
            summary["plots"] = ev.get("result", {}).get("value", 0)
        ev = browser.send("Runtime.evaluate", {"expression": "document.title", "returnByValue": True}, session=session)
        summary["title"] = ev.get("result", {}).get("value")
        if args.screenshot:
            metrics = browser.send("Page.getLayoutMetrics", session=session)
            size = metrics.get("cssContentSize") or metrics.get("contentSize") or {}
            width = max(1, min(math.ceil(size.get("width", 1280)), MAX_SHOT))
            height = max(1, min(math.ceil(size.get("height", 900)), MAX_SHOT))
            shot = browser.send(
                "Page.captureScreenshot",
                {
                    "format": "png",
                    "captureBeyondViewport": True,
                    "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                },
                session=session,
            )
            import base64

            pathlib.Path(args.screenshot).write_bytes(base64.b64decode(shot["data"]))
    except Timeout:
        summary["error"] = f"timed out after {args.timeout:g} s"
    except CDPError as e:
        summary["error"] = str(e)
    except OSError as e:
        summary["error"] = f"could not run {exe}: {e}"
    finally:
        if browser is not None:
            browser.close()
        reap_children()
    if browser is not None and session is not None:
        errors, warnings, exceptions, external, requests = analyse_events(browser.events, session)
        summary.update(
            console_errors=errors,
            console_warnings=warnings,
            exceptions=exceptions,
            external_requests=external,
            requests=requests,
        )
    if summary["error"]:
        problems.append(summary["error"])
    if summary["console_errors"]:
        problems.append(f"{len(summary['console_errors'])} console error(s)")
    if summary["exceptions"]:
        problems.append(f"{len(summary['exceptions'])} uncaught exception(s)")
    if summary["external_requests"]:
        problems.append(f"{len(summary['external_requests'])} request(s) leave the page (not file: or data:)")
    if not summary["error"] and summary["plots"] < args.min_plots:
        problems.append(f"{summary['plots']} element(s) match {args.plots_selector!r}, want at least {args.min_plots}")
    summary["problems"] = problems
    summary["ok"] = not problems
    print(json.dumps(summary))
    return 0 if not problems else 1


# --------------------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("sarif", help="validate a SARIF 2.1.0 log (schema + GitHub code scanning rules)")
    p.add_argument("file")
    p = sub.add_parser("junit", help="check a JUnit XML report")
    p.add_argument("file")
    p = sub.add_parser("html", help="load an HTML report in headless Chromium")
    p.add_argument("file")
    p.add_argument("--min-plots", type=int, default=1, metavar="N")
    p.add_argument("--plots-selector", default="svg[data-plot]", metavar="CSS")
    p.add_argument("--screenshot", metavar="PNG")
    p.add_argument("--timeout", type=float, default=60.0, metavar="S")
    p.add_argument(
        "--settle", type=float, default=0.3, metavar="S",
        help="how long to keep listening after the load event (default 0.3)",
    )
    args = ap.parse_args(argv)
    return {"sarif": cmd_sarif, "junit": cmd_junit, "html": cmd_html}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
