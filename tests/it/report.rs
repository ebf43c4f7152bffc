//! `mcpfuzz report` on what real runs left behind, each format checked by an outside
//! validator (`testbed/check_report.py`: the SARIF 2.1.0 schema and GitHub's upload rules,
//! JUnit's structure, the HTML page in headless Chromium), and the live status line.

use crate::util::{demo_server, mcpfuzz, run, text, TempDir};
use std::path::Path;
use std::process::Command;

/// Runs `testbed/check_report.py ARGS`; panics with its output unless it passes.
fn check(args: &[&str], file: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("testbed/check_report.py");
    let output = Command::new("python3")
        .arg(script)
        .arg(args[0])
        .arg(file)
        .args(&args[1..])
        .output()
        .expect("python3 runs");
    let shown = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.code() != Some(2),
        "the report checker's tools are missing; run scripts/install-report-tools: {shown}"
    );
    assert!(
        output.status.success(),
        "{} {}: {shown}",
        args[0],
        file.display()
    );
}

#[test]
fn every_format_of_a_real_run_passes_its_validator() {
    let work = TempDir::new("report");
    let crashes = work.path().join("crashes");
    let results = work.path().join("results");
    let fuzz = run(mcpfuzz()
        .args(["fuzz", "--runs", "300", "--seed", "1", "--target"])
        .arg(format!("python3 {}", demo_server()))
        .arg("--crashes")
        .arg(&crashes)
        .env("MCPFUZZ_STATS_SECS", "0.2"));
    assert_eq!(fuzz.status.code(), Some(1), "{}", text(&fuzz));
    let leaky = Path::new(env!("CARGO_MANIFEST_DIR")).join("testbed/leaky_server.py");
    let soak = run(mcpfuzz()
        .args(["soak", "--requests", "600", "--target"])
        .arg(format!("python3 {} --leak-memory", leaky.display()))
        .arg("--results")
        .arg(&results));
    assert_eq!(soak.status.code(), Some(1), "{}", text(&soak));
    let load = run(mcpfuzz()
        .args(["load", "--duration", "1", "--concurrency", "4", "--target"])
        .arg(format!("python3 {} --well-behaved", demo_server()))
        .arg("--results")
        .arg(&results));
    assert!(load.status.code().is_some(), "{}", text(&load));

    let report = |format: &str, extra: &[&str]| {
        let file = work.path().join(format!("report.{format}"));
        let output = run(mcpfuzz()
            .arg("report")
            .arg(&crashes)
            .arg(&results)
            .args(["--format", format, "--output"])
            .arg(&file)
            .args(extra));
        assert_eq!(output.status.code(), Some(0), "{}", text(&output));
        file
    };
    let text_report = std::fs::read_to_string(report("text", &[])).unwrap();
    let first = text_report.lines().next().unwrap();
    assert!(first.starts_with("mcpfuzz report: "), "{text_report}");
    assert!(
        text_report.contains("  soak FAIL: 600 requests: growing memory"),
        "{text_report}"
    );
    assert!(text_report.lines().last().unwrap().starts_with("Details: "));

    let lines = std::fs::read_to_string(report("json", &[])).unwrap();
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let findings = records.iter().filter(|r| r["type"] == "finding").count();
    assert!(findings >= 3, "{lines}");
    assert!(records.iter().filter(|r| r["type"] == "stats").count() >= 3);

    check(&["sarif"], &report("sarif", &[]));
    check(&["junit"], &report("junit", &[]));
    // The run's four plots, the soak's two and the load's two at least; replayed
    // exchanges included.
    let html = report("html", &["--replay"]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Exchange when replayed"), "no exchange");
    check(&["html", "--min-plots", "8"], &html);

    // --fail-on sets the exit code: 1 at the most severe finding's level, 0 above it
    // (which findings a loaded machine reaches in 300 inputs varies: hangs restart).
    let worst = records
        .iter()
        .find(|r| r["type"] == "finding")
        .and_then(|r| r["severity"].as_str())
        .unwrap()
        .to_owned();
    let gate = |severity: &str| {
        run(mcpfuzz()
            .arg("report")
            .arg(&crashes)
            .args(["--fail-on", severity]))
        .status
        .code()
    };
    assert_eq!(gate(&worst), Some(1), "--fail-on {worst}");
    if worst != "critical" {
        assert_eq!(gate("critical"), Some(0));
    }
}

#[test]
fn the_status_line_is_quiet_when_stderr_is_not_a_terminal() {
    let crashes = TempDir::new("quiet");
    let output = run(mcpfuzz()
        .env_remove("MCPFUZZ_STATUS_SECS")
        .args(["fuzz", "--runs", "60", "--seed", "2", "--target"])
        .arg(format!("python3 {} --well-behaved", demo_server()))
        .arg("--crashes")
        .arg(crashes.path()));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains('\r'), "{stderr}");
    // Only the final status line.
    assert_eq!(stderr.matches("mcpfuzz: #").count(), 1, "{stderr}");
}

#[test]
fn the_status_line_updates_in_place_on_a_terminal() {
    let crashes = TempDir::new("live");
    let transcript = crashes.path().join("terminal.txt");
    let command = format!(
        "{} fuzz --runs 200 --seed 2 --target 'python3 {} --well-behaved' --crashes {}",
        env!("CARGO_BIN_EXE_mcpfuzz"),
        demo_server(),
        crashes.path().display()
    );
    // util-linux `script` runs the command on a pseudo-terminal and keeps what it drew.
    let output = Command::new("script")
        .args(["-qfec", &command])
        .arg(&transcript)
        .env_remove("MCPFUZZ_STATUS_SECS")
        .env_remove("MCPFUZZ_TARGET")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script(1) runs");
    assert!(output.status.success(), "{}", text(&output));
    let drawn = String::from_utf8_lossy(&std::fs::read(&transcript).unwrap()).into_owned();
    let redraws = drawn.matches("\r\x1b[2Kmcpfuzz: #").count();
    assert!(redraws >= 2, "the line was not redrawn in place: {drawn:?}");
    assert!(
        drawn.contains("exec/s") && drawn.contains("target rss"),
        "{drawn:?}"
    );
}
