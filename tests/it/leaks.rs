//! The leak oracles against the leaking testbed servers and their control: `mcpfuzz soak`,
//! and the fuzz loop with its reproducers.

use crate::util::{mcpfuzz, reproducers, run, text, TempDir};
use std::path::Path;

fn leaky_server(mode: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("testbed/leaky_server.py");
    format!("python3 {} {mode}", path.display())
}

/// Runs a soak of `requests` against the leaky server in `mode`; returns the exit code
/// and stdout.
fn soak(mode: &str, requests: u32) -> (Option<i32>, String) {
    let results = TempDir::new(&format!("soak{mode}"));
    let output = run(mcpfuzz()
        .args(["soak", "--requests", &requests.to_string(), "--target"])
        .arg(leaky_server(mode))
        .arg("--results")
        .arg(results.path()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let details: Vec<_> = std::fs::read_dir(results.path())
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(details.len(), 1, "{}", text(&output));
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(details[0].path()).unwrap()).unwrap();
    let status = json["status"].as_str().unwrap();
    assert!(
        stdout.contains(&format!("Status: {status}")),
        "{}",
        text(&output)
    );
    (output.status.code(), stdout)
}

#[test]
fn a_memory_leak_per_distinct_request_fails_the_soak() {
    let (code, stdout) = soak("--leak-memory", 1000);
    assert_eq!(code, Some(1), "{stdout}");
    assert!(
        stdout.contains("Memory:") && stdout.contains("LEAK"),
        "{stdout}"
    );
}

#[test]
fn a_descriptor_per_call_fails_the_soak() {
    let (code, stdout) = soak("--leak-fds", 400);
    assert_eq!(code, Some(1), "{stdout}");
    let line = stdout
        .lines()
        .find(|line| line.starts_with("Descriptors:"))
        .unwrap();
    assert!(line.contains("LEAK, 1.00 per request"), "{stdout}");
}

#[test]
fn a_warm_up_then_a_saw_tooth_passes() {
    let (code, stdout) = soak("--control", 1000);
    assert_eq!(code, Some(0), "{stdout}");
    assert!(!stdout.contains("LEAK"), "{stdout}");
}

/// Fuzzes the leaky server in `mode` for `runs` generated inputs (no seed corpus); returns
/// the signatures saved and the crashes directory.
fn fuzz(mode: &str, runs: u32) -> (Vec<(std::path::PathBuf, String)>, TempDir, String) {
    let crashes = TempDir::new(&format!("leak-fuzz{mode}"));
    let corpus = TempDir::new(&format!("leak-corpus{mode}"));
    let output = run(mcpfuzz()
        .args([
            "fuzz",
            "--runs",
            &runs.to_string(),
            "--seed",
            "3",
            "--target",
        ])
        .arg(leaky_server(mode))
        .arg("--corpus")
        .arg(corpus.path())
        .arg("--crashes")
        .arg(crashes.path())
        // A busy machine must not turn a slow answer into a hang.
        .env("MCPFUZZ_TIMEOUT_MS", "10000"));
    let found = reproducers(crashes.path());
    (found, crashes, text(&output))
}

#[test]
fn fuzzing_finds_a_memory_leak_and_its_reproducer_replays_the_curve() {
    let (found, _crashes, output) = fuzz("--leak-memory", 1000);
    let (file, _) = found
        .iter()
        .find(|(_, signature)| signature == "leak/memory")
        .unwrap_or_else(|| panic!("no leak/memory in {found:?}\n{output}"));
    let replay = run(mcpfuzz().arg("replay").arg("--quiet").arg(file));
    let stdout = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
    assert!(
        stdout.contains("verdict: REPRODUCED leak/memory"),
        "{stdout}"
    );
    assert!(stdout.contains("curve [items sent, value]"), "{stdout}");
}

#[test]
fn fuzzing_finds_a_descriptor_leak() {
    let (found, _crashes, output) = fuzz("--leak-fds", 1000);
    assert!(
        found
            .iter()
            .any(|(_, signature)| signature == "leak/descriptors"),
        "{found:?}\n{output}"
    );
}

#[test]
fn fuzzing_the_control_finds_no_leak() {
    let (found, _crashes, output) = fuzz("--control", 1000);
    assert!(
        !found
            .iter()
            .any(|(_, signature)| signature.starts_with("leak/") || signature.starts_with("cpu/")),
        "{found:?}\n{output}"
    );
}

#[test]
fn fuzzing_finds_the_request_that_burns_cpu_though_it_replies() {
    let (found, _crashes, output) = fuzz("--cpu-burn", 400);
    let signatures: Vec<&str> = found.iter().map(|(_, s)| s.as_str()).collect();
    // Only echo burns; whatever queued behind it is not blamed.
    assert_eq!(signatures, vec!["cpu/tools/call:echo"], "{output}");
    let replay = run(mcpfuzz().arg("replay").arg("--quiet").arg(&found[0].0));
    assert_eq!(replay.status.code(), Some(1), "{}", text(&replay));
}

#[test]
fn load_reports_percentiles_per_tool_and_judges_thresholds() {
    let results = TempDir::new("load");
    let twin = format!("python3 {} --well-behaved", crate::util::demo_server());
    let output = run(mcpfuzz()
        .args([
            "load",
            "--duration",
            "2",
            "--concurrency",
            "8",
            "--target",
            &twin,
        ])
        .arg("--results")
        .arg(results.path()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("Load test: 8 in flight x 1 instance"),
        "{}",
        text(&output)
    );
    for tool in ["echo", "divide", "lookup_user"] {
        let row = stdout
            .lines()
            .find(|line| line.starts_with(&format!("tools/call:{tool} ")))
            .unwrap_or_else(|| panic!("no row for {tool}: {}", text(&output)));
        assert!(row.contains(" ms"), "{row}");
    }
    let passed = stdout.contains("Status: PASS");
    assert_eq!(
        output.status.code(),
        Some(if passed { 0 } else { 1 }),
        "{}",
        text(&output)
    );
    // The twin answers every valid call: nothing fails but, on a busy machine, CPU.
    if !passed {
        let status = stdout.lines().find(|l| l.starts_with("Status:")).unwrap();
        assert!(
            !status.contains("error rate") && !status.contains("stopped"),
            "{status}"
        );
    }
    // The buggy demo dies on a valid divide by zero: the load test fails and says so.
    let output = run(mcpfuzz()
        .args(["load", "--duration", "2", "--target"])
        .arg(format!("python3 {}", crate::util::demo_server()))
        .arg("--results")
        .arg(results.path()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output));
    assert!(
        stdout.contains("instance 0 stopped after"),
        "{}",
        text(&output)
    );
}
