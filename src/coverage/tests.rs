use super::*;
use crate::config::TargetSpec;
use crate::sandbox::Sandbox;
use crate::target::Protections;
use crate::transcript::{Frame, Item};
use serde_json::json;

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

#[test]
fn settings_parse_and_reject_unknown_names() {
    assert_eq!(Setting::parse("").unwrap(), Setting::Auto);
    assert_eq!(Setting::parse("OFF").unwrap(), Setting::Off);
    assert_eq!(
        Setting::parse("node").unwrap(),
        Setting::Only(Runtime::Node)
    );
    assert!(Setting::parse("java").unwrap_err().contains("auto, off"));
}

#[test]
fn runtimes_are_detected_from_programs_launchers_and_shebangs() {
    let cases = [
        ("python3 server.py", Some(Runtime::Python)),
        ("python3.11 -m pkg", Some(Runtime::Python)),
        (
            "/usr/bin/env PYTHONUNBUFFERED=1 python3 x.py",
            Some(Runtime::Python),
        ),
        ("uv run server", Some(Runtime::Python)),
        ("uvx mcp-server-time", Some(Runtime::Python)),
        ("node build/index.js", Some(Runtime::Node)),
        (
            "npx -y @modelcontextprotocol/server-everything",
            Some(Runtime::Node),
        ),
        ("/bin/sh -c 'exec something'", None),
        ("no-such-program-mcpfuzz", None),
        ("true", None),
    ];
    for (line, want) in cases {
        assert_eq!(detect(&words(line)), want, "{line}");
    }
    let dir = std::env::temp_dir().join(format!("mcpfuzz-detect-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let python = dir.join("entry");
    std::fs::write(&python, "#!/opt/venv/bin/python3.12\nimport sys\n").unwrap();
    let node = dir.join("cli.js");
    std::fs::write(&node, "#!/usr/bin/env -S node --no-warnings\n").unwrap();
    assert_eq!(
        detect(&[python.display().to_string()]),
        Some(Runtime::Python)
    );
    assert_eq!(detect(&[node.display().to_string()]), Some(Runtime::Node));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn environment_edits_set_prepend_and_append() {
    let mut env: Vec<(OsString, OsString)> = vec![
        ("PYTHONPATH".into(), "/app".into()),
        ("NODE_OPTIONS".into(), "--max-old-space-size=512".into()),
    ];
    apply(
        &mut env,
        &[
            EnvEdit::Prepend("PYTHONPATH".into(), "/cov".into()),
            EnvEdit::Append("NODE_OPTIONS".into(), "--require=/cov/p.cjs".into()),
            EnvEdit::Prepend("OTHER".into(), "/x".into()),
            EnvEdit::Set("MCPFUZZ_COV_SIZE".into(), "65536".into()),
        ],
    );
    let get = |name: &str| {
        env.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.to_string_lossy().into_owned())
    };
    assert_eq!(get("PYTHONPATH").as_deref(), Some("/cov:/app"));
    assert_eq!(
        get("NODE_OPTIONS").as_deref(),
        Some("--max-old-space-size=512 --require=/cov/p.cjs")
    );
    assert_eq!(get("OTHER").as_deref(), Some("/x"));
    assert_eq!(get("MCPFUZZ_COV_SIZE").as_deref(), Some("65536"));
}

#[test]
fn an_unknown_launcher_is_one_line_never_a_failure() {
    let why = Coverage::for_command(Setting::Auto, &words("/bin/sh -c server"))
        .unwrap_err()
        .expect("a line for people");
    assert!(why.contains("protocol features only"), "{why}");
    assert!(Coverage::for_command(Setting::Off, &words("python3 x.py"))
        .unwrap_err()
        .is_none());
}

fn tiny(program: &str, file: &str) -> TargetSpec {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testbed/coverage")
        .join(file);
    TargetSpec::from_command(vec![program.into(), path.display().to_string()])
}

/// A call of the tiny servers' `probe`, or (`inspect:` prefix) the magic servers' `inspect`.
fn call(text: &str) -> Vec<Item> {
    let params = match text.strip_prefix("inspect:") {
        Some(value) => json!({"name": "inspect", "arguments": {"value": value}}),
        None => json!({"name": "probe", "arguments": {"text": text}}),
    };
    vec![Item::Frame(Frame::json_line(&json!({
        "jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params,
    })))]
}

/// The edge maps of `inputs`, each run in the same target after the handshake.
fn edge_sets(runtime: Runtime, spec: &TargetSpec, inputs: &[&str]) -> Vec<Vec<usize>> {
    let sandbox = Sandbox::create(None).unwrap();
    let mut coverage = Coverage::new(runtime).unwrap();
    let mut session = coverage
        .start(spec, &sandbox, Protections::default())
        .unwrap();
    let mut sets = Vec::new();
    for input in inputs {
        coverage.arm();
        let report = session.run(&call(input));
        assert!(report.alive);
        let map = coverage.collect(session.pids()).unwrap();
        sets.push(
            map.iter()
                .enumerate()
                .filter(|(_, &byte)| byte != 0)
                .map(|(index, _)| index)
                .collect(),
        );
    }
    sets
}

fn bridge_reports_edges_that_follow_the_input(
    runtime: Runtime,
    spec: TargetSpec,
    inputs: [&str; 2],
) {
    let sets = edge_sets(runtime, &spec, &[inputs[0], inputs[1], inputs[0]]);
    assert!(!sets[0].is_empty(), "no edges");
    assert_ne!(sets[0], sets[1], "other branches, other edges");
    assert_eq!(sets[0], sets[2], "the same input, the same edges");
    // Stable across processes: a fresh target gives the same edges for the same input.
    let again = edge_sets(runtime, &spec, &[inputs[0]]);
    assert_eq!(again[0], sets[0]);
}

#[test]
fn the_python_bridge_reports_edges_that_follow_the_input() {
    bridge_reports_edges_that_follow_the_input(
        Runtime::Python,
        tiny("python3", "tiny_server.py"),
        ["12345", "hello there"],
    );
}

#[test]
fn the_afl_bridge_reports_edges_of_a_native_server() {
    let out = std::env::temp_dir().join(format!("mcpfuzz-native-{}", std::process::id()));
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testbed/coverage/native/build.sh");
    let built = std::process::Command::new("sh")
        .arg(&script)
        .arg(&out)
        .output()
        .unwrap();
    assert!(built.status.success(), "{built:?}");
    let server = out.join("magic_server").display().to_string();
    let plain = out.join("magic_server_plain").display().to_string();
    assert_eq!(detect(std::slice::from_ref(&server)), Some(Runtime::Afl));
    assert_eq!(
        detect(&[plain]),
        None,
        "an uninstrumented binary has no bridge"
    );
    // The first character of the secret takes another branch than anything else.
    let first = format!("inspect:{}", char::from(0x52));
    bridge_reports_edges_that_follow_the_input(
        Runtime::Afl,
        TargetSpec::from_command(vec![server]),
        [&first, "inspect:zz"],
    );
    std::fs::remove_dir_all(&out).unwrap();
}

#[test]
fn the_node_bridge_reports_edges_that_follow_the_input() {
    bridge_reports_edges_that_follow_the_input(
        Runtime::Node,
        tiny("node", "tiny_server.js"),
        ["12345", "hello there"],
    );
}

#[test]
fn a_bridge_the_target_ignores_is_given_up_with_one_line() {
    // The Node bridge on a Python server: nothing ever connects.
    let sandbox = Sandbox::create(None).unwrap();
    let mut coverage = Coverage::new(Runtime::Node).unwrap();
    let spec = tiny("python3", "tiny_server.py");
    let mut session = coverage
        .start(&spec, &sandbox, Protections::default())
        .unwrap();
    let mut outcome = Ok(());
    for _ in 0..3 {
        coverage.arm();
        assert!(session.run(&call("1")).alive, "the target runs normally");
        outcome = coverage.collect(session.pids()).map(|_| ());
    }
    let why = outcome.unwrap_err();
    assert!(
        why.contains("node coverage bridge reported no edge"),
        "{why}"
    );
}

#[test]
fn only_node_targets_get_full_collections_for_a_leak_replay() {
    let dir = fresh_dir().unwrap();
    let words = |line: &str| shell_words::split(line).unwrap();
    let edits = full_gc_env(&words("node dist/index.js /data"), &dir).unwrap();
    let preload = dir.join("mcpfuzz-full-gc.js");
    assert_eq!(
        edits,
        vec![EnvEdit::Append(
            "NODE_OPTIONS".into(),
            format!("--require {}", preload.display()).into()
        )]
    );
    assert!(std::fs::read_to_string(&preload)
        .unwrap()
        .contains("setFlagsFromString('--gc-global')"));
    assert_eq!(full_gc_env(&words("npx -y pkg"), &dir).unwrap().len(), 1);
    assert!(full_gc_env(&words("python3 -m server"), &dir)
        .unwrap()
        .is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
