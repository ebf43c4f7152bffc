#!/usr/bin/env python3
"""Tests of testbed/check_report.py on small hand-written fixtures made in a temp dir.

    python3 testbed/check_report_selftest.py [filter ...]

Needs what scripts/install-report-tools installs. The last line is 'N passed, N failed';
the exit status is non-zero when anything failed. About 10 s (each HTML case starts Chromium).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
CHECKER = HERE / "check_report.py"
FILTERS = sys.argv[1:]


def run(*args, env=None, timeout=120):
    full_env = dict(os.environ)
    full_env.update(env or {})
    p = subprocess.run(
        [sys.executable, str(CHECKER), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
    )
    return p.returncode, p.stdout, p.stderr


# --- fixtures ----------------------------------------------------------------------------


def sarif_log(result_overrides=None, rule_props=None, drop_location=False, version="2.1.0"):
    result = {
        "ruleId": "mcpfuzz/crash",
        "ruleIndex": 0,
        "level": "error",
        "message": {"text": "The server exited with status 1 on tools/call divide."},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "crashes/crash-0001.json"},
                    "region": {"startLine": 1},
                }
            }
        ],
    }
    if drop_location:
        del result["locations"]
    result.update(result_overrides or {})
    rule = {
        "id": "mcpfuzz/crash",
        "name": "ServerCrash",
        "shortDescription": {"text": "The server process died"},
        "properties": {"security-severity": "7.5", "tags": ["security"]},
    }
    if rule_props is not None:
        rule["properties"] = rule_props
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": version,
        "runs": [
            {
                "tool": {"driver": {"name": "mcpfuzz", "version": "0.1.0", "rules": [rule]}},
                "results": [result],
            }
        ],
    }


JUNIT_OK = """<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="mcpfuzz" tests="3" failures="1" errors="0" skipped="1" time="1.5">
  <testsuite name="demo_server" tests="3" failures="1" errors="0" skipped="1" time="1.5">
    <testcase name="tools/call divide" classname="mcpfuzz.crash" time="0.5">
      <failure message="exit status 1" type="crash">ZeroDivisionError</failure>
    </testcase>
    <testcase name="tools/call search" classname="mcpfuzz.protocol" time="0.5"/>
    <testcase name="tools/call render" classname="mcpfuzz.crash" time="0.5"><skipped/></testcase>
  </testsuite>
</testsuites>
"""

PLOTS2 = """<!doctype html>
<html><head><meta charset="utf-8"><title>mcpfuzz report</title>
<style>svg { border: 1px solid #888; margin: 4px; }</style></head>
<body><h1>mcpfuzz report</h1>
<svg data-plot="coverage" width="200" height="100" viewBox="0 0 200 100">
  <polyline points="0,100 50,60 100,40 150,30 200,25" fill="none" stroke="#06c"/></svg>
<svg data-plot="findings" width="200" height="100" viewBox="0 0 200 100">
  <rect x="10" y="40" width="30" height="60" fill="#c33"/></svg>
<script>document.querySelector('h1').textContent += ' (2 plots)';</script>
</body></html>
"""

THROWS = """<!doctype html><html><head><meta charset="utf-8"><title>throws</title></head>
<body><svg data-plot width="10" height="10"></svg>
<script>function draw() { null.width; } draw();</script></body></html>
"""

CONSOLE_ERROR = """<!doctype html><html><head><meta charset="utf-8"><title>console</title></head>
<body><svg data-plot width="10" height="10"></svg>
<script>console.warn('only a warning'); console.error('x');</script></body></html>
"""

EXTERNAL_IMG = """<!doctype html><html><head><meta charset="utf-8"><title>external</title></head>
<body><svg data-plot width="10" height="10"></svg>
<img src="http://127.0.0.1:9/x.png" alt=""></body></html>
"""

HANGS = """<!doctype html><html><head><meta charset="utf-8"><title>hangs</title></head>
<body><script>for (;;) {}</script></body></html>
"""


# --- cases -------------------------------------------------------------------------------

CASES = []


def case(fn):
    CASES.append(fn)
    return fn


class Failed(Exception):
    pass


def expect(cond, what, out=""):
    if not cond:
        raise Failed(what + (("\n" + out.rstrip()) if out else ""))


def write(tmp, name, text):
    path = pathlib.Path(tmp) / name
    path.write_text(text if isinstance(text, str) else json.dumps(text, indent=1), encoding="utf-8")
    return str(path)


@case
def sarif_valid_passes(tmp):
    rc, out, err = run("sarif", write(tmp, "ok.sarif", sarif_log()))
    expect(rc == 0, f"exit {rc}, want 0", out + err)
    expect("runs=1 rules=1 results=1" in out, "summary line lacks the counts", out)


@case
def sarif_missing_location_fails(tmp):
    rc, out, err = run("sarif", write(tmp, "noloc.sarif", sarif_log(drop_location=True)))
    expect(rc == 1, f"exit {rc}, want 1", out + err)
    expect("results[0].locations" in out, "no problem names the missing location", out)


@case
def sarif_github_rules(tmp):
    bad = {
        "severity": sarif_log(rule_props={"security-severity": 7.5}),
        "severity-range": sarif_log(rule_props={"security-severity": "11"}),
        "unknown-rule": sarif_log({"ruleId": "mcpfuzz/other", "ruleIndex": 0}),
        "no-ruleid": sarif_log({"ruleId": None}),
        "empty-text": sarif_log({"message": {"text": ""}}),
        "version": sarif_log(version="2.0.0"),
        "level": sarif_log({"level": "fatal"}),
    }
    bad["no-ruleid"]["runs"][0]["results"][0].pop("ruleId")
    bad["no-driver-name"] = sarif_log()
    del bad["no-driver-name"]["runs"][0]["tool"]["driver"]["name"]
    for name, log in bad.items():
        rc, out, err = run("sarif", write(tmp, f"{name}.sarif", log))
        expect(rc == 1, f"{name}: exit {rc}, want 1", out + err)


@case
def sarif_schema_violation_fails(tmp):
    log = sarif_log()
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    log["runs"][0]["bogus"] = True
    rc, out, err = run("sarif", write(tmp, "schema.sarif", log))
    expect(rc == 1, f"exit {rc}, want 1", out + err)
    expect(out.count("schema:") >= 2, "want two schema problems (startLine 0, bogus property)", out)


@case
def sarif_missing_schema_exits_2(tmp):
    rc, out, err = run("sarif", write(tmp, "ok2.sarif", sarif_log()),
                       env={"MCPFUZZ_SARIF_SCHEMA": str(pathlib.Path(tmp) / "nope.json")})
    expect(rc == 2, f"exit {rc}, want 2", out + err)
    expect("scripts/install-report-tools" in err, "the message does not name scripts/install-report-tools", err)


@case
def junit_valid_passes(tmp):
    rc, out, err = run("junit", write(tmp, "ok.xml", JUNIT_OK))
    expect(rc == 0, f"exit {rc}, want 0", out + err)
    expect("tests=3 failures=1 errors=0 skipped=1" in out, "summary line lacks the counts", out)


@case
def junit_wrong_failures_fails(tmp):
    text = JUNIT_OK.replace('tests="3" failures="1" errors="0" skipped="1" time="1.5">\n    <testcase',
                            'tests="3" failures="2" errors="0" skipped="1" time="1.5">\n    <testcase')
    assert text != JUNIT_OK
    rc, out, err = run("junit", write(tmp, "badcount.xml", text))
    expect(rc == 1, f"exit {rc}, want 1", out + err)
    expect("failures=2 but its testcases give 1" in out, "no problem names the failures count", out)


@case
def junit_other_problems_fail(tmp):
    bad = {
        "no-classname": JUNIT_OK.replace(' classname="mcpfuzz.protocol"', ""),
        "no-message": JUNIT_OK.replace(' message="exit status 1"', ""),
        "malformed": JUNIT_OK.replace("</testsuites>", ""),
        "root": "<report><testsuite name='x' tests='0'/></report>",
    }
    for name, text in bad.items():
        rc, out, err = run("junit", write(tmp, f"{name}.xml", text))
        expect(rc == 1, f"{name}: exit {rc}, want 1", out + err)


def html(tmp, name, text, *extra, env=None):
    rc, out, err = run("html", write(tmp, name, text), *extra, env=env)
    lines = out.strip().splitlines()
    try:
        summary = json.loads(lines[-1]) if lines else None
    except ValueError:
        summary = None
    expect(isinstance(summary, dict), f"exit {rc}: no JSON summary line", out + err)
    return rc, summary, out + err


@case
def html_two_plots_pass(tmp):
    shot = pathlib.Path(tmp) / "plots.png"
    rc, s, out = html(tmp, "plots.html", PLOTS2, "--min-plots", "2", "--screenshot", str(shot))
    expect(rc == 0, f"exit {rc}, want 0", out)
    expect(s["plots"] == 2, f"plots={s['plots']}, want 2", out)
    expect(s["title"] == "mcpfuzz report", f"title={s['title']!r}", out)
    expect(not s["console_errors"] and not s["exceptions"] and not s["external_requests"], "not clean", out)
    expect(shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "no PNG screenshot", out)
    rc, s, out = html(tmp, "plots.html", PLOTS2, "--min-plots", "3")
    expect(rc == 1 and s["plots"] == 2, f"--min-plots 3: exit {rc}, want 1", out)
    rc, s, out = html(tmp, "plots.html", PLOTS2, "--plots-selector", "svg[data-plot=coverage]")
    expect(rc == 0 and s["plots"] == 1, f"--plots-selector: exit {rc}, plots={s['plots']}", out)


@case
def html_exception_fails(tmp):
    rc, s, out = html(tmp, "throws.html", THROWS)
    expect(rc == 1, f"exit {rc}, want 1", out)
    expect(len(s["exceptions"]) == 1 and "TypeError" in s["exceptions"][0]["text"], "the TypeError is not reported", out)
    expect(s["exceptions"][0]["url"].endswith("/throws.html"), "the exception has no url", out)


@case
def html_console_error_fails(tmp):
    rc, s, out = html(tmp, "console.html", CONSOLE_ERROR)
    expect(rc == 1, f"exit {rc}, want 1", out)
    expect([e["text"] for e in s["console_errors"]] == ["x"], "console.error('x') is not the one error", out)
    expect([w["text"] for w in s["console_warnings"]] == ["only a warning"], "the warning is not listed", out)


@case
def html_external_request_reported(tmp):
    rc, s, out = html(tmp, "external.html", EXTERNAL_IMG)
    expect(rc == 1, f"exit {rc}, want 1", out)
    expect(s["external_requests"] == ["http://127.0.0.1:9/x.png"], "the image request is not reported", out)


@case
def html_timeout_cleans_up(tmp):
    scratch = pathlib.Path(tmp) / "scratch"
    scratch.mkdir()
    start = time.monotonic()
    rc, s, out = html(tmp, "hangs.html", HANGS, "--timeout", "3", env={"TMPDIR": str(scratch)})
    took = time.monotonic() - start
    expect(rc == 1, f"exit {rc}, want 1", out)
    expect("timed out" in (s["error"] or ""), "no timeout reported", out)
    expect(took < 15, f"took {took:.1f} s for a 3 s timeout", out)
    left = list(scratch.iterdir())
    expect(not left, f"the temp profile was left behind: {left}", out)


@case
def html_missing_chromium_exits_2(tmp):
    rc, out, err = run("html", write(tmp, "plots2.html", PLOTS2),
                       env={"MCPFUZZ_CHROMIUM": str(pathlib.Path(tmp) / "no-chromium")})
    expect(rc == 2, f"exit {rc}, want 2", out + err)
    expect("scripts/install-report-tools" in err, "the message does not name scripts/install-report-tools", err)


def main():
    passed = failed = 0
    for fn in CASES:
        if FILTERS and not any(f in fn.__name__ for f in FILTERS):
            continue
        with tempfile.TemporaryDirectory(prefix="check-report-selftest-") as tmp:
            start = time.monotonic()
            try:
                fn(tmp)
            except Failed as e:
                failed += 1
                print(f"FAIL {fn.__name__}: {e}")
                continue
            except Exception as e:  # a crash of the test itself is a failure too
                failed += 1
                print(f"FAIL {fn.__name__}: {type(e).__name__}: {e}")
                continue
            passed += 1
            print(f"ok   {fn.__name__} ({time.monotonic() - start:.1f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
