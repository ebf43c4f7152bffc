//! Bad input gets a clear error before any fuzzing, and nothing is saved as a finding.

use crate::util::{mcpfuzz, run, text, TempDir};

#[test]
fn help_lists_every_command() {
    let output = run(mcpfuzz().arg("--help"));
    let stdout = String::from_utf8_lossy(&output.stdout);
    for command in ["replay", "minimize", "fuzz", "bench", "soak", "load"] {
        assert!(stdout.contains(command), "{}", text(&output));
    }
}

#[test]
fn empty_target_is_a_usage_error() {
    let crashes = TempDir::new("empty-target");
    let output = run(mcpfuzz()
        .args(["fuzz", "--runs", "1", "--crashes"])
        .arg(crashes.path())
        .env("MCPFUZZ_TARGET", "  "));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(text(&output).contains("is empty"), "{}", text(&output));
    assert!(std::fs::read_dir(crashes.path()).unwrap().next().is_none());
}

#[test]
fn missing_program_names_the_fix() {
    let output = run(mcpfuzz().args([
        "fuzz",
        "--runs",
        "1",
        "--target",
        "no-such-program-mcpfuzz --flag",
    ]));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let all = text(&output);
    assert!(
        all.contains("cannot start the target") && all.contains("PATH"),
        "{all}"
    );
}

#[test]
fn a_target_that_exits_at_once_is_not_an_mcp_server() {
    let crashes = TempDir::new("exits-at-once");
    let output = run(mcpfuzz()
        .args([
            "fuzz",
            "--runs",
            "1",
            "--target",
            "sh -c 'echo starting >&2; exit 3'",
            "--crashes",
        ])
        .arg(crashes.path()));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let all = text(&output);
    assert!(
        all.contains("exited (exit code 3) before answering initialize"),
        "{all}"
    );
    assert!(all.contains("starting"), "{all}");
    assert!(std::fs::read_dir(crashes.path()).unwrap().next().is_none());
}

#[test]
fn a_target_that_prints_garbage_is_refused() {
    let dir = TempDir::new("garbage");
    let config = dir.path().join("mcpfuzz.toml");
    std::fs::write(
        &config,
        "[target]\ncommand = [\"sh\", \"-c\", \"echo hello world; sleep 30\"]\ntimeouts = { startup_ms = 500 }\n",
    )
    .unwrap();
    let output = run(mcpfuzz()
        .args(["fuzz", "--runs", "1", "--crashes"])
        .arg(dir.path().join("crashes"))
        .env("MCPFUZZ_CONFIG", &config));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let all = text(&output);
    assert!(all.contains("did not answer initialize within"), "{all}");
    assert!(all.contains("hello world"), "{all}");
    assert!(!dir.path().join("crashes").exists());
}

#[test]
fn a_malformed_config_file_is_explained() {
    let dir = TempDir::new("bad-config");
    let config = dir.path().join("mcpfuzz.toml");
    std::fs::write(&config, "[target]\ncommand = \"node index.js\"\n").unwrap();
    let output = run(mcpfuzz()
        .args(["fuzz", "--runs", "1"])
        .env("MCPFUZZ_CONFIG", &config));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("[target] table"),
        "{}",
        text(&output)
    );
}

#[test]
fn a_corrupt_reproducer_is_a_usage_error() {
    let dir = TempDir::new("corrupt-repro");
    let file = dir.path().join("crash-00000000.json");
    std::fs::write(&file, "{\"format\": \"something else\"}").unwrap();
    let output = run(mcpfuzz().arg("replay").arg(&file));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        text(&output).contains("not an mcpfuzz reproducer"),
        "{}",
        text(&output)
    );
}
