//! The fuzz loop against the demo server and its well-behaved twin, and cleanup when the
//! fuzzer is killed.

use crate::util::{demo_server, mcpfuzz, reproducers, run, text, TempDir, HEAVY};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Every planted bug of testbed/demo_server.py, as a fragment of the signature it gets.
const PLANTED: &[&str] = &[
    "crash/exit-1/ZeroDivisionError",
    "crash/signal-SIGSEGV/",
    "hang/busy/tools/call:count",
    "hang/idle/tools/call:convert",
    "protocol/id-type-changed/",
    "protocol/non-json-output/",
    "protocol/bad-result-shape/tools/call:search",
    "error/tools/call:render/",
    // The injection bugs: each family in the tool that has it.
    "injection/path-read/tools/call:read_file/arguments.path",
    "injection/path-write/tools/call:save_note/arguments.name",
    "injection/shell/tools/call:count_matches/arguments.pattern",
    "injection/template/tools/call:greet/arguments.name",
    "injection/option/tools/call:sort_lines/arguments.path",
    "injection/sql/tools/call:lookup_user/arguments.name",
];

#[test]
fn fuzzing_the_demo_finds_every_planted_bug_and_each_reproducer_replays() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let crashes = TempDir::new("demo");
    let output = run(mcpfuzz()
        .args(["fuzz", "--runs", "1200", "--seed", "1", "--crashes"])
        .arg(crashes.path())
        .env("MCPFUZZ_TIMEOUT_MS", "1000"));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    let found = reproducers(crashes.path());
    let signatures: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
    for fragment in PLANTED {
        assert!(
            signatures.iter().any(|s| s.contains(fragment)),
            "planted bug {fragment} not found; found {signatures:#?}\n{}",
            text(&output)
        );
    }
    // The tool that only reflects its input never yields a finding.
    assert!(
        !signatures.iter().any(|s| s.contains("tools/call:echo")),
        "{signatures:#?}"
    );
    // The read escaped through a prefix sibling, the one route the planted check misses.
    let (read, _) = found
        .iter()
        .find(|(_, s)| s.contains("path-read/tools/call:read_file"))
        .unwrap();
    let read: serde_json::Value = serde_json::from_slice(&std::fs::read(read).unwrap()).unwrap();
    assert_eq!(
        read["finding"]["evidence"]["route"], "prefix-sibling",
        "{read:#}"
    );
    let replay = run(mcpfuzz()
        .arg("replay")
        .arg("--quiet")
        .args(found.iter().map(|(p, _)| p)));
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert!(!stdout.contains("NOT REPRODUCED"), "{}", text(&replay));
    assert_eq!(stdout.matches("verdict: REPRODUCED").count(), found.len());
}

#[test]
fn the_well_behaved_twin_yields_nothing() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let crashes = TempDir::new("twin");
    let target = format!("python3 {} --well-behaved", demo_server());
    let output = run(mcpfuzz()
        .args([
            "fuzz",
            "--runs",
            "1500",
            "--seed",
            "1",
            "--target",
            &target,
            "--crashes",
        ])
        .arg(crashes.path())
        .env("MCPFUZZ_TIMEOUT_MS", "2000"));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(reproducers(crashes.path()).is_empty(), "{}", text(&output));
}

#[test]
fn fuzzing_one_server_of_an_mcp_client_config() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("mcp-config");
    let config = dir.path().join(".mcp.json");
    let servers = serde_json::json!({"mcpServers": {
        "remote-docs": {"type": "http", "url": "https://example.com/mcp"},
        "demo": {"command": "python3", "args": [demo_server()], "env": {"DEMO": "1"}},
    }});
    std::fs::write(&config, serde_json::to_vec_pretty(&servers).unwrap()).unwrap();
    let crashes = dir.path().join("crashes");
    let output = run(mcpfuzz()
        .args(["fuzz", "--runs", "200", "--seed", "1", "--mcp-config"])
        .arg(&config)
        .args(["--server", "demo", "--crashes"])
        .arg(&crashes)
        .env("MCPFUZZ_TIMEOUT_MS", "1000"));
    // The demo's planted bugs make findings, so fuzz exits 1 as it does on the demo.
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(!reproducers(&crashes).is_empty(), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let announced = format!("the server \"demo\" from {}", config.display());
    assert!(stderr.contains(&announced), "{}", text(&output));

    // Without --server the file's two servers are listed, and nothing starts.
    let output = run(mcpfuzz()
        .args(["fuzz", "--runs", "1", "--mcp-config"])
        .arg(&config));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("has 2 servers: \"remote-docs\", \"demo\""),
        "{}",
        text(&output)
    );
}

#[test]
fn a_reproducer_does_not_replay_against_the_fixed_twin() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("replay-twin");
    // A hand-written reproducer: divide by zero, which only the buggy demo crashes on.
    let file = hand_reproducer(
        dir.path().join("crash-demo.json"),
        ("crash", "high", "crash/exit-1/ZeroDivisionError@demo_server.py:0"),
        serde_json::json!(["python3", demo_server()]),
        serde_json::json!([
            "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"divide\",\"arguments\":{\"a\":1,\"b\":0}}}\n",
        ]),
    );
    let twin = format!("python3 {} --well-behaved", demo_server());
    let output = run(mcpfuzz().arg("replay").arg(&file).args(["--target", &twin]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("verdict: NOT REPRODUCED"),
        "{}",
        text(&output)
    );
    assert!(
        stdout.contains("> {\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\""),
        "{}",
        text(&output)
    );
}

#[test]
fn a_server_waiting_for_the_reply_the_client_withheld_is_no_hang() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("withheld-reply");
    // `summarize` asks the client to sample and waits 10 s for the answer; the client
    // stays silent, so the call is unanswered past the 2 s deadline, by the client's doing.
    for policy in ["no-reply", "wrong-id"] {
        let file = hand_reproducer(
            dir.path().join(format!("hang-{policy}.json")),
            ("hang", "high", "hang/idle/tools/call:summarize"),
            serde_json::json!(["python3", demo_server(), "--sampling-timeout", "10"]),
            serde_json::json!([
                {"reply_policy": policy},
                call_line(1, "summarize", serde_json::json!({"text": "hello"})),
            ]),
        );
        let output = run(mcpfuzz().arg("replay").arg(&file));
        assert_eq!(output.status.code(), Some(0), "{policy}: {}", text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            !stdout.contains("no reply to"),
            "{policy}: {}",
            text(&output)
        );
    }
}

#[test]
fn a_request_the_server_sends_after_end_of_input_is_no_crash() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("request-at-eof");
    // A minimal server that, when its input ends, asks the client for its roots, as
    // servers with timers or subscriptions do, and then exits 0.
    let server = dir.path().join("server.py");
    std::fs::write(
        &server,
        r#"import json, sys, time
def send(message):
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()
for line in sys.stdin:
    message = json.loads(line)
    if "id" not in message:
        continue
    method = message.get("method")
    if method == "initialize":
        result = {"protocolVersion": "2025-06-18", "capabilities": {"tools": {}},
                  "serverInfo": {"name": "eof-asker", "version": "1"}}
    elif method == "tools/list":
        result = {"tools": []}
    elif method == "ping":
        result = {}
    else:
        send({"jsonrpc": "2.0", "id": message["id"],
              "error": {"code": -32601, "message": "Method not found"}})
        continue
    send({"jsonrpc": "2.0", "id": message["id"], "result": result})
send({"jsonrpc": "2.0", "id": "bye", "method": "roots/list"})
time.sleep(0.2)
"#,
    )
    .unwrap();
    let file = hand_reproducer(
        dir.path().join("crash.json"),
        ("crash", "high", "crash/signal-SIGKILL/-"),
        serde_json::json!(["python3", server.display().to_string()]),
        serde_json::json!([]),
    );
    let output = run(mcpfuzz().arg("replay").arg(&file));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("NOT REPRODUCED (seen instead: nothing)"),
        "{}",
        text(&output)
    );
}

/// Writes a hand-made reproducer to `file`: a finding of `kind` with `signature`, found
/// on `command` by sending `transcript`. Returns the path.
fn hand_reproducer(
    file: PathBuf,
    (kind, severity, signature): (&str, &str, &str),
    command: serde_json::Value,
    transcript: serde_json::Value,
) -> PathBuf {
    let reproducer = serde_json::json!({
        "format": "mcpfuzz-reproducer",
        "version": 1,
        "finding": {
            "kind": kind,
            "signature": signature,
            "severity": severity,
            "summary": "hand-written",
            "evidence": {},
        },
        "target": {"command": command},
        "transcript": transcript,
    });
    std::fs::write(&file, serde_json::to_vec_pretty(&reproducer).unwrap()).unwrap();
    file
}

/// Writes a hand-made injection reproducer for the demo server into `dir`: it sends
/// `frames` and claims `signature`. Returns its path.
fn injection_reproducer(dir: &TempDir, signature: &str, frames: &[String]) -> PathBuf {
    hand_reproducer(
        dir.path().join("injection.json"),
        ("injection", "critical", signature),
        serde_json::json!(["python3", demo_server()]),
        serde_json::json!(frames),
    )
}

fn call_line(id: usize, tool: &str, arguments: serde_json::Value) -> String {
    let call = serde_json::json!({
        "jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    });
    format!("{call}\n")
}

#[test]
fn payloads_of_every_family_reflected_by_echo_are_no_injection() {
    use mcpfuzz::grammar::payloads::{forms, render, Family, PayloadPlan};
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("echo-families");
    let mut frames = Vec::new();
    let mut nonce = 1;
    for family in Family::ALL {
        for form in 0..forms(family) as u8 {
            nonce += 1;
            let payload = render(&PayloadPlan::new(family, form, form), nonce * 7919, "x");
            frames.push(call_line(
                frames.len() + 1,
                "echo",
                serde_json::json!({"message": payload}),
            ));
        }
    }
    let file = injection_reproducer(
        &dir,
        "injection/shell/tools/call:echo/arguments.message",
        &frames,
    );
    let output = run(mcpfuzz().arg("replay").arg(&file));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    let verdict = stdout
        .lines()
        .find(|line| line.starts_with("verdict:"))
        .unwrap();
    // Unescaped markup is information (never saved); nothing else may be claimed.
    let claims: Vec<&str> = verdict
        .split([' ', ',', '(', ')'])
        .filter(|word| word.starts_with("injection/"))
        .collect();
    assert_eq!(
        claims,
        vec!["injection/markup/tools/call:echo/arguments.message"],
        "{}",
        text(&output)
    );
    // Every payload did come back, unescaped: this is reflection, and only reflection.
    assert!(
        stdout.matches("< {").count() >= frames.len(),
        "{}",
        text(&output)
    );
}

#[test]
fn a_reproducer_with_sandbox_paths_replays_in_a_fresh_cell() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("placeholder");
    // The absolute path names the cell by placeholder; each replay gets its own cell.
    let frames = vec![call_line(
        1,
        "read_file",
        serde_json::json!({"path": "{{mcpfuzz:base}}/root-backup/secret.txt"}),
    )];
    let file = injection_reproducer(
        &dir,
        "injection/path-read/tools/call:read_file/arguments.path",
        &frames,
    );
    for _ in 0..2 {
        let output = run(mcpfuzz().arg("replay").arg(&file));
        assert_eq!(output.status.code(), Some(1), "{}", text(&output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("verdict: REPRODUCED"), "{}", text(&output));
        assert!(
            stdout.contains("/work/root-backup/secret.txt"),
            "{}",
            text(&output)
        );
        assert!(!stdout.contains("{{mcpfuzz:base}}"), "{}", text(&output));
    }
    // The twin confines reads properly.
    let twin = format!("python3 {} --well-behaved", demo_server());
    let output = run(mcpfuzz().arg("replay").arg(&file).args(["--target", &twin]));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
}

#[test]
fn a_write_through_the_prefix_check_is_found_by_its_marker_file() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let dir = TempDir::new("write-marker");
    let frames = vec![call_line(
        1,
        "save_note",
        serde_json::json!({"name": "./../mcpfuzz-w0badf00d.txt", "text": "x"}),
    )];
    let file = injection_reproducer(
        &dir,
        "injection/path-write/tools/call:save_note/arguments.name",
        &frames,
    );
    let output = run(mcpfuzz().arg("replay").arg(&file));
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
}

/// Process ids whose parent is `parent`.
fn children_of(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
            .split_whitespace()
            .collect();
        if fields[1].parse::<u32>() == Ok(parent) && fields[0] != "Z" {
            children.push(pid);
        }
    }
    children
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| !stat.contains(") Z "))
        .unwrap_or(false)
}

#[test]
fn a_fuzzer_killed_with_sigkill_leaves_no_target_behind() {
    let _heavy = HEAVY.lock().unwrap_or_else(|poison| poison.into_inner());
    let crashes = TempDir::new("sigkill");
    let mut fuzzer = mcpfuzz()
        .args(["fuzz", "--runs", "100000000", "--crashes"])
        .arg(crashes.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let targets = loop {
        let children = children_of(fuzzer.id());
        if !children.is_empty() {
            break children;
        }
        assert!(
            Instant::now() < deadline,
            "the fuzzer never started a target"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    // Let it fuzz for a moment so the kill lands mid-run.
    std::thread::sleep(Duration::from_millis(500));
    let targets: Vec<u32> = targets
        .into_iter()
        .chain(children_of(fuzzer.id()))
        .collect();
    fuzzer.kill().unwrap();
    fuzzer.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while targets.iter().any(|&pid| alive(pid)) {
        assert!(
            Instant::now() < deadline,
            "targets {targets:?} outlived the fuzzer"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
