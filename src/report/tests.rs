use super::*;
use crate::config::TargetSpec;
use crate::finding::Finding;
use crate::repro::Found;
use crate::runlog::{Counters, RunLog};
use crate::target::Usage;
use crate::transcript::{Frame, Item};
use std::time::Duration;

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let path =
            std::env::temp_dir().join(format!("mcpfuzz-report-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).unwrap();
        Scratch(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn save(dir: &Path, kind: Kind, rest: &str, severity: Severity, evidence: Value) -> PathBuf {
    let finding = Finding::new(
        kind,
        rest,
        severity,
        format!("summary of {rest} <&\"\u{1}>"),
        evidence,
    );
    let target = TargetSpec::from_command(vec!["python3".into(), "my server.py".into()]);
    let transcript = vec![
        Item::Frame(Frame::json_line(
            &json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
        )),
        Item::Policy {
            reply_policy: crate::ReplyPolicy::NoReply,
        },
    ];
    let found = Found {
        executions: 42,
        elapsed_secs: 3.5,
        ..Found::now()
    };
    repro::save(dir, &Reproducer::new(finding, target, transcript, found)).unwrap()
}

/// A crashes directory with four findings, a run log, a soak and a load result, a broken
/// reproducer and a foreign JSON file.
fn fixture(name: &str) -> Scratch {
    let scratch = Scratch::new(name);
    let dir = &scratch.0;
    save(
        dir,
        Kind::Error,
        "tools/call:x/KeyError",
        Severity::Low,
        json!({}),
    );
    save(
        dir,
        Kind::Crash,
        "signal/SIGSEGV",
        Severity::High,
        json!({"signal": 11}),
    );
    save(
        dir,
        Kind::Injection,
        "shell/tools/call:run/arguments.cmd",
        Severity::Critical,
        json!({"proof": "4187950816"}),
    );
    save(
        dir,
        Kind::Leak,
        "memory",
        Severity::High,
        json!({"resource": "memory", "curve": [[0, 1_000_000], [100, 2_000_000], [200, 3_000_000]]}),
    );
    fs::write(
        dir.join("broken.json"),
        br#"{"format": "mcpfuzz-reproducer", "version": 1}"#,
    )
    .unwrap();
    fs::write(dir.join("package.json"), br#"{"name": "not ours"}"#).unwrap();
    let target = TargetSpec::from_command(vec!["server".into()]);
    let mut log = RunLog::create(dir, &target, Duration::from_millis(1));
    for step in 1..=3u64 {
        log.observe([Duration::from_millis(step)]);
        std::thread::sleep(Duration::from_millis(2));
        let usage = Usage {
            rss_bytes: step << 20,
            descriptors: 5,
            threads: 1,
            processes: 1,
            ..Usage::default()
        };
        let counters = Counters {
            executions: step * 100,
            spawns: 1,
            findings: 0,
            edges: None,
        };
        log.record(counters, Some(&usage));
    }
    log.end(
        Counters {
            executions: 300,
            spawns: 1,
            findings: 0,
            edges: None,
        },
        0,
    );
    let results = json!({
        "kind": "soak", "status": "FAIL", "target": {"command": ["server"]},
        "requests": 200, "elapsed_secs": 1.5, "stopped": null,
        "resources": {"memory": {"leak": true, "samples": [[0, 1_000_000], [100, 5_000_000]]},
                      "descriptors": {"leak": false, "samples": [[0, 5], [100, 5]]}},
    });
    fs::write(dir.join("soak-1-1.json"), results.to_string()).unwrap();
    let load = json!({
        "kind": "load", "status": "PASS", "failures": [], "target": {"command": ["server"]},
        "requests": 1000, "elapsed_secs": 2.0,
        "labels": {"tools/call:echo": {"requests": 1000, "errors": 0, "p50_ms": 0.5, "p95_ms": 1.5, "p99_ms": 2.0, "max_ms": 3.0}},
        "instances": [{"timeline": [{"t": 1.0, "p50_ms": 0.5, "p95_ms": 1.5, "rss_bytes": 1_000_000},
                                    {"t": 2.0, "p50_ms": 0.6, "p95_ms": 1.4, "rss_bytes": 1_100_000}]}],
    });
    fs::write(dir.join("load-2-1.json"), load.to_string()).unwrap();
    scratch
}

#[test]
fn gathering_sorts_by_severity_and_lists_what_did_not_load() {
    let scratch = fixture("gather");
    let collection = Collection::gather(std::slice::from_ref(&scratch.0)).unwrap();
    let severities: Vec<Severity> = collection
        .findings
        .iter()
        .map(|e| e.reproducer.finding.severity)
        .collect();
    assert_eq!(
        severities,
        [
            Severity::Critical,
            Severity::High,
            Severity::High,
            Severity::Low
        ]
    );
    assert_eq!(collection.runs.len(), 1);
    assert_eq!(collection.runs[0].stats.len(), 3);
    assert_eq!(collection.runs[0].executions(), 300);
    assert_eq!(collection.runs[0].peak_rss(), Some(3 << 20));
    assert_eq!(collection.results.len(), 2);
    assert_eq!(collection.skipped.len(), 1, "{:?}", collection.skipped);
    assert!(collection.skipped[0].0.ends_with("broken.json"));
    assert!(collection.any_at_least(Severity::Critical));
    assert!(Collection::gather(&[scratch.0.join("missing")]).is_err());
}

#[test]
fn text_puts_the_summary_first_and_the_details_last() {
    let scratch = fixture("text");
    let collection = Collection::gather(std::slice::from_ref(&scratch.0)).unwrap();
    let text = render(&collection, Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "mcpfuzz report: 4 findings (critical 1, high 2, low 1)"
    );
    assert!(
        text.contains("  soak FAIL: 200 requests: growing memory"),
        "{text}"
    );
    assert!(text.contains("  load PASS: 1000 requests"), "{text}");
    assert!(text.contains("fuzzing: 1 run, 300 inputs"), "{text}");
    assert!(text.contains("replay: mcpfuzz replay "), "{text}");
    assert!(text.contains("found after 3.5s (42 inputs)"), "{text}");
    assert!(lines.last().unwrap().starts_with("Details: "), "{text}");
    assert!(text.contains("skipped "), "{text}");
}

#[test]
fn json_lines_hold_every_finding_and_statistic_and_end_with_a_summary() {
    let scratch = fixture("json");
    let collection = Collection::gather(std::slice::from_ref(&scratch.0)).unwrap();
    let text = render(&collection, Format::Json);
    let records: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let count = |kind: &str| records.iter().filter(|r| r["type"] == kind).count();
    assert_eq!(count("finding"), 4);
    assert_eq!(count("stats"), 3);
    assert_eq!(count("run"), 1);
    assert_eq!(count("end"), 1);
    assert_eq!(count("soak"), 1);
    assert_eq!(count("load"), 1);
    let summary = records.last().unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["findings"], 4);
    assert_eq!(summary["by_severity"]["high"], 2);
    assert_eq!(summary["executions"], 300);
}

#[test]
fn sarif_has_a_rule_per_kind_and_a_located_result_per_finding() {
    let scratch = fixture("sarif");
    let collection = Collection::gather(std::slice::from_ref(&scratch.0)).unwrap();
    let log: Value = serde_json::from_str(&render(&collection, Format::Sarif)).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let ids: Vec<&str> = rules.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "mcpfuzz/crash",
            "mcpfuzz/error",
            "mcpfuzz/injection",
            "mcpfuzz/leak"
        ]
    );
    let injection = &rules[2];
    assert_eq!(injection["properties"]["security-severity"], "9.5");
    assert_eq!(injection["defaultConfiguration"]["level"], "error");
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 4);
    for result in results {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(result["ruleId"], rules[index]["id"]);
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.ends_with(".json"), "{uri}");
        assert!(result["partialFingerprints"]["mcpfuzzSignature/v1"].is_string());
    }
    assert_eq!(results[3]["level"], "note", "a low finding is a note");
}

#[test]
fn junit_has_a_failing_case_per_signature_and_escapes_everything() {
    let scratch = fixture("junit");
    let collection = Collection::gather(std::slice::from_ref(&scratch.0)).unwrap();
    let xml = render(&collection, Format::Junit);
    // 4 findings, 1 run, 1 soak (failed), 1 load.
    assert!(
        xml.contains("<testsuites name=\"mcpfuzz\" tests=\"7\" failures=\"5\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 7);
    assert_eq!(xml.matches("<failure ").count(), 5);
    assert!(xml.contains(
        "classname=\"mcpfuzz.injection\" name=\"injection/shell/tools/call:run/arguments.cmd\""
    ));
    assert!(xml.contains("&lt;&amp;&quot;\\u{1}&gt;"), "{xml}");
    assert!(!xml.contains('\u{1}'));
}

#[test]
fn html_is_self_contained_with_plots_tables_and_transcripts() {
    let scratch = fixture("html");
    let collection = Collection::gather(std::slice::from_ref(&scratch.0)).unwrap();
    let html = render(&collection, Format::Html);
    assert!(html.starts_with("<!DOCTYPE html>"));
    // Run: memory, descriptors, latency, exec/s; soak: memory, descriptors; load:
    // latency, memory; the leak's curve.
    assert_eq!(html.matches("<svg data-plot=").count(), 9, "{html}");
    assert_eq!(html.matches("<tr data-rank=").count(), 4);
    assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    assert!(!html.contains("<&\""), "summaries are escaped");
    assert!(html.contains("(reply policy: no-reply)"));
    assert!(html.contains("Sent after the handshake"));
    assert!(html.contains("<details id=\"f0\" open>"));
}

#[test]
fn shell_words_are_quoted_only_when_needed() {
    assert_eq!(shell_word("crashes/a.json"), "crashes/a.json");
    assert_eq!(shell_word("my file"), "'my file'");
    assert_eq!(shell_word("it's"), r"'it'\''s'");
    assert_eq!(
        command_line(&json!({"command": ["python3", "my server.py"]})),
        "python3 'my server.py'"
    );
}
