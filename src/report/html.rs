//! The HTML report: one self-contained page (inline style, inline SVG plots, a few lines
//! of script for filtering and sorting the table; nothing fetched), with the summary, the
//! findings table, each reproducer's exchange, and plots of the target's memory,
//! descriptors and latency over each run.

use super::junit::escape;
use super::plot::{Plot, Series, Unit};
use super::{duration, mib, replay_command, Collection, Entry, Results, Run};
use crate::finding::Severity;
use crate::session::Direction;
use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = r#"
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#ffffff; --panel:#f6f8fa; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg);
       background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 24px; }
h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 32px 0 8px;
     border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 20px 0 6px; }
.muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
        padding: 10px 14px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.sev { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px;
       font-weight: 600; color: #fff; }
.sev-critical { background: #8b0000; } .sev-high { background: #d1242f; }
.sev-medium { background: #bc4c00; } .sev-low { background: #57606a; }
.sev-info { background: #8c959f; }
.pass { color: #1a7f37; font-weight: 600; } .fail { color: #d1242f; font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; }
th, td { text-align: left; border-bottom: 1px solid var(--line); padding: 6px 8px;
         vertical-align: top; }
th { background: var(--panel); cursor: pointer; user-select: none; white-space: nowrap; }
td.sig { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 12px;
         word-break: break-all; }
.controls { display: flex; gap: 12px; align-items: center; margin: 8px 0; }
.controls input { flex: 1; padding: 5px 8px; border: 1px solid var(--line); border-radius: 6px; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px;
      padding: 8px; overflow-x: auto; font-size: 12px; white-space: pre-wrap;
      word-break: break-all; max-height: 420px; overflow-y: auto; }
details { border: 1px solid var(--line); border-radius: 6px; padding: 6px 10px; margin: 8px 0; }
details > summary { cursor: pointer; font-weight: 600; }
.plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 12px; }
svg.plot { width: 100%; height: auto; background: #fff; border: 1px solid var(--line);
           border-radius: 6px; }
svg .grid { stroke: #eaeef2; } svg .tick { font-size: 11px; fill: var(--muted); }
svg .axis { font-size: 11px; fill: var(--muted); }
svg .plot-title { font-size: 13px; font-weight: 600; fill: var(--fg); }
svg .legend { font-size: 11px; fill: var(--fg); }
.sent { color: #0550ae; } .received { color: #116329; }
"#;

const SCRIPT: &str = r#"
(function () {
  var table = document.getElementById('findings-table');
  if (!table) { return; }
  var body = table.tBodies[0];
  var filter = document.getElementById('filter');
  var severity = document.getElementById('severity');
  function apply() {
    var text = filter.value.toLowerCase();
    var least = Number(severity.value);
    var shown = 0;
    Array.prototype.forEach.call(body.rows, function (row) {
      var ok = row.textContent.toLowerCase().indexOf(text) !== -1 &&
               Number(row.getAttribute('data-rank')) >= least;
      row.style.display = ok ? '' : 'none';
      if (ok) { shown += 1; }
    });
    document.getElementById('shown').textContent = shown + ' shown';
  }
  filter.addEventListener('input', apply);
  severity.addEventListener('change', apply);
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (cell, column) {
    cell.addEventListener('click', function () {
      var descending = cell.getAttribute('data-order') !== 'desc';
      cell.setAttribute('data-order', descending ? 'desc' : 'asc');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[column].getAttribute('data-key') || a.cells[column].textContent;
        var y = b.cells[column].getAttribute('data-key') || b.cells[column].textContent;
        var nx = Number(x), ny = Number(y);
        var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return descending ? -order : order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
  apply();
})();
"#;

fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 0,
        Severity::Low => 1,
        Severity::Medium => 2,
        Severity::High => 3,
        Severity::Critical => 4,
    }
}

fn badge(severity: Severity) -> String {
    format!("<span class=\"sev sev-{severity}\">{severity}</span>")
}

pub(super) fn render(collection: &Collection) -> String {
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    // Nothing may be fetched: no favicon request either.
    out.push_str("<link rel=\"icon\" href=\"data:,\">\n");
    let _ = writeln!(
        out,
        "<title>mcpfuzz report: {} finding{}</title>\n<style>{STYLE}</style>\n</head>\n<body>",
        collection.findings.len(),
        if collection.findings.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    out.push_str("<h1>mcpfuzz report</h1>\n");
    let sources: Vec<String> = collection
        .sources
        .iter()
        .map(|p| escape(&p.display().to_string()))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"muted\">mcpfuzz {} &middot; generated {} &middot; from {}</p>",
        env!("CARGO_PKG_VERSION"),
        utc_now(),
        sources.join(", ")
    );
    summary_cards(&mut out, collection);
    findings_table(&mut out, collection);
    for (index, run) in collection.runs.iter().enumerate() {
        run_section(&mut out, index, run);
    }
    for (index, results) in collection.results.iter().enumerate() {
        results_section(&mut out, index, results);
    }
    if !collection.findings.is_empty() {
        out.push_str("<h2 id=\"details\">Reproducers</h2>\n");
        for (index, entry) in collection.findings.iter().enumerate() {
            finding_details(&mut out, collection, index, entry);
        }
    }
    if !collection.skipped.is_empty() {
        out.push_str("<h2>Skipped files</h2>\n<ul>\n");
        for (path, why) in &collection.skipped {
            let _ = writeln!(
                out,
                "<li><code>{}</code>: {}</li>",
                escape(&path.display().to_string()),
                escape(why)
            );
        }
        out.push_str("</ul>\n");
    }
    let _ = writeln!(out, "<script>{SCRIPT}</script>\n</body>\n</html>");
    out
}

fn summary_cards(out: &mut String, collection: &Collection) {
    out.push_str("<div class=\"cards\">\n");
    let _ = writeln!(
        out,
        "<div class=\"card\"><b>{}</b>findings</div>",
        collection.findings.len()
    );
    for (severity, count) in collection.by_severity().iter().rev() {
        let _ = writeln!(
            out,
            "<div class=\"card\"><b>{count}</b>{}</div>",
            badge(*severity)
        );
    }
    if !collection.runs.is_empty() {
        let executions: u64 = collection.runs.iter().map(Run::executions).sum();
        let secs: f64 = collection.runs.iter().map(Run::duration).sum();
        let _ = writeln!(
            out,
            "<div class=\"card\"><b>{executions}</b>inputs in {} ({:.0} exec/s)</div>",
            duration(secs),
            executions as f64 / secs.max(1e-3)
        );
    }
    for results in &collection.results {
        let class = if results.passed() { "pass" } else { "fail" };
        let _ = writeln!(
            out,
            "<div class=\"card\"><b class=\"{class}\">{}</b>{}</div>",
            escape(results.value["status"].as_str().unwrap_or("?")),
            escape(results.kind())
        );
    }
    out.push_str("</div>\n");
    if !collection.findings.is_empty() {
        let _ = writeln!(
            out,
            "<p>By kind: {}.</p>",
            escape(&collection.kind_counts())
        );
    }
}

fn findings_table(out: &mut String, collection: &Collection) {
    out.push_str("<h2 id=\"findings\">Findings</h2>\n");
    if collection.findings.is_empty() {
        out.push_str("<p>No findings.</p>\n");
        return;
    }
    out.push_str(
        "<div class=\"controls\"><input id=\"filter\" type=\"search\" placeholder=\"Filter by kind, signature, summary...\" aria-label=\"Filter findings\">\
         <label>At least <select id=\"severity\" aria-label=\"Lowest severity shown\">\
         <option value=\"0\">info</option><option value=\"1\">low</option>\
         <option value=\"2\">medium</option><option value=\"3\">high</option>\
         <option value=\"4\">critical</option></select></label>\
         <span id=\"shown\" class=\"muted\"></span></div>\n",
    );
    out.push_str(
        "<table id=\"findings-table\"><thead><tr><th>Severity</th><th>Kind</th><th>Signature</th>\
         <th>Summary</th><th>Found after</th><th>Reproducer</th></tr></thead><tbody>\n",
    );
    for (index, entry) in collection.findings.iter().enumerate() {
        let repro = &entry.reproducer;
        let finding = &repro.finding;
        let found = &repro.found;
        let after = if found.unix_time > 0 {
            format!(
                "{} ({} inputs)",
                duration(found.elapsed_secs),
                found.executions
            )
        } else {
            "-".into()
        };
        let _ = writeln!(
            out,
            "<tr data-rank=\"{r}\"><td data-key=\"{r}\">{}</td><td>{}</td><td class=\"sig\">{}</td><td>{}</td>\
             <td data-key=\"{:.3}\">{}</td><td><a href=\"#f{index}\">{}</a></td></tr>",
            badge(finding.severity),
            finding.kind,
            escape(&finding.signature),
            escape(&finding.summary),
            found.elapsed_secs,
            escape(&after),
            escape(
                &entry
                    .path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            ),
            r = rank(finding.severity),
        );
    }
    out.push_str("</tbody></table>\n");
}

/// The plots of one series of `stats` values.
fn stats_series(stats: &[Value], name: &str, pick: impl Fn(&Value) -> Option<f64>) -> Series {
    Series {
        name: name.into(),
        points: stats
            .iter()
            .filter_map(|s| Some((s["t"].as_f64()?, pick(s)?)))
            .collect(),
    }
}

fn plots(out: &mut String, id: &str, plots: &[Plot]) {
    let drawn: Vec<String> = plots
        .iter()
        .enumerate()
        .map(|(i, plot)| plot.svg(&format!("{id}-{i}")))
        .filter(|svg| !svg.is_empty())
        .collect();
    if drawn.is_empty() {
        out.push_str("<p class=\"muted\">No samples to plot.</p>\n");
        return;
    }
    out.push_str("<div class=\"plots\">\n");
    for svg in drawn {
        out.push_str(&svg);
        out.push('\n');
    }
    out.push_str("</div>\n");
}

fn run_section(out: &mut String, index: usize, run: &Run) {
    let _ = writeln!(out, "<h2 id=\"run{index}\">Fuzzing run {}</h2>", index + 1);
    let started = run.header["unix_time"].as_u64().unwrap_or(0);
    let _ = writeln!(
        out,
        "<p>Target <code>{}</code>, started {}, {} inputs in {} ({:.0} exec/s){}{}. Log: <code>{}</code></p>",
        escape(&run.target()),
        utc(started),
        run.executions(),
        duration(run.duration()),
        run.executions() as f64 / run.duration().max(1e-3),
        run.peak_rss()
            .map(|p| format!(", peak target RSS {}", mib(p)))
            .unwrap_or_default(),
        if run.end.is_none() {
            ", no end record (the run was stopped)"
        } else {
            ""
        },
        escape(&run.path.display().to_string())
    );
    let field = |name: &'static str| move |s: &Value| s[name].as_f64();
    let latency = |name: &'static str| move |s: &Value| s["latency_ms"][name].as_f64();
    let seconds = "seconds since the start".to_string();
    plots(
        out,
        &format!("run{index}"),
        &[
            Plot {
                title: "Target resident memory".into(),
                x_label: seconds.clone(),
                unit: Unit::Bytes,
                series: vec![stats_series(&run.stats, "RSS", field("rss_bytes"))],
            },
            Plot {
                title: "Target descriptors and threads".into(),
                x_label: seconds.clone(),
                unit: Unit::Count,
                series: vec![
                    stats_series(&run.stats, "descriptors", field("descriptors")),
                    stats_series(&run.stats, "threads", field("threads")),
                    stats_series(&run.stats, "processes", field("processes")),
                ],
            },
            Plot {
                title: "Request latency".into(),
                x_label: seconds.clone(),
                unit: Unit::Millis,
                series: vec![
                    stats_series(&run.stats, "p50", latency("p50")),
                    stats_series(&run.stats, "p95", latency("p95")),
                ],
            },
            Plot {
                title: "Inputs per second".into(),
                x_label: seconds,
                unit: Unit::Count,
                series: vec![stats_series(&run.stats, "exec/s", field("exec_per_sec"))],
            },
        ],
    );
    if !run.findings.is_empty() {
        out.push_str(
            "<table><thead><tr><th>At</th><th>Kind</th><th>Signature</th></tr></thead><tbody>\n",
        );
        for finding in &run.findings {
            let _ = writeln!(
                out,
                "<tr><td>{}</td><td>{}</td><td class=\"sig\">{}</td></tr>",
                duration(finding["t"].as_f64().unwrap_or(0.0)),
                escape(finding["kind"].as_str().unwrap_or("?")),
                escape(finding["signature"].as_str().unwrap_or("?"))
            );
        }
        out.push_str("</tbody></table>\n");
    }
}

/// `[[x, y], ...]` as points.
fn curve_points(curve: &Value) -> Vec<(f64, f64)> {
    curve
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_f64()?, pair[1].as_f64()?)))
        .collect()
}

fn results_section(out: &mut String, index: usize, results: &Results) {
    let value = &results.value;
    let status = value["status"].as_str().unwrap_or("?");
    let class = if results.passed() { "pass" } else { "fail" };
    let _ = writeln!(
        out,
        "<h2 id=\"{kind}{index}\">{} <span class=\"{class}\">{}</span></h2>\n<p>Target <code>{}</code>, {} requests in {}. Results: <code>{}</code></p>",
        if results.kind() == "load" { "Load test" } else { "Soak test" },
        escape(status),
        escape(&super::command_line(&value["target"])),
        value["requests"],
        duration(value["elapsed_secs"].as_f64().unwrap_or(0.0)),
        escape(&results.path.display().to_string()),
        kind = escape(results.kind()),
    );
    if let Some(failures) = value["failures"].as_array().filter(|f| !f.is_empty()) {
        out.push_str("<ul>\n");
        for failure in failures {
            let _ = writeln!(
                out,
                "<li class=\"fail\">{}</li>",
                escape(failure.as_str().unwrap_or("?"))
            );
        }
        out.push_str("</ul>\n");
    }
    if let Some(stopped) = value["stopped"].as_str() {
        let _ = writeln!(out, "<p class=\"fail\">Stopped {}</p>", escape(stopped));
    }
    let id = format!("{}{index}", results.kind());
    if results.kind() == "load" {
        if let Some(labels) = value["labels"].as_object() {
            out.push_str("<table><thead><tr><th>Method or tool</th><th>Requests</th><th>Errors</th>\
                          <th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>max ms</th></tr></thead><tbody>\n");
            for (label, stats) in labels {
                let ms = |key: &str| {
                    stats[key]
                        .as_f64()
                        .map_or("-".to_string(), |v| format!("{v:.2}"))
                };
                let _ = writeln!(
                    out,
                    "<tr><td class=\"sig\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    escape(label),
                    stats["requests"],
                    stats["errors"],
                    ms("p50_ms"),
                    ms("p95_ms"),
                    ms("p99_ms"),
                    ms("max_ms")
                );
            }
            out.push_str("</tbody></table>\n");
        }
        let instances: Vec<&Value> = value["instances"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let timeline = |key: &'static str, instance: &Value| -> Vec<(f64, f64)> {
            instance["timeline"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| Some((p["t"].as_f64()?, p[key].as_f64()?)))
                .collect()
        };
        let mut latency = Vec::new();
        let mut memory = Vec::new();
        for (i, instance) in instances.iter().enumerate() {
            let suffix = if instances.len() > 1 {
                format!(" #{}", i + 1)
            } else {
                String::new()
            };
            latency.push(Series {
                name: format!("p50{suffix}"),
                points: timeline("p50_ms", instance),
            });
            latency.push(Series {
                name: format!("p95{suffix}"),
                points: timeline("p95_ms", instance),
            });
            memory.push(Series {
                name: format!("RSS{suffix}"),
                points: timeline("rss_bytes", instance),
            });
        }
        let seconds = "seconds since the start".to_string();
        plots(
            out,
            &id,
            &[
                Plot {
                    title: "Latency under load".into(),
                    x_label: seconds.clone(),
                    unit: Unit::Millis,
                    series: latency,
                },
                Plot {
                    title: "Target resident memory".into(),
                    x_label: seconds,
                    unit: Unit::Bytes,
                    series: memory,
                },
            ],
        );
    } else {
        let resources = &value["resources"];
        let series = |name: &str| Series {
            name: name.into(),
            points: curve_points(&resources[name]["samples"]),
        };
        let requests = "requests sent".to_string();
        plots(
            out,
            &id,
            &[
                Plot {
                    title: "Target resident memory".into(),
                    x_label: requests.clone(),
                    unit: Unit::Bytes,
                    series: vec![series("memory")],
                },
                Plot {
                    title: "Target descriptors, threads, processes".into(),
                    x_label: requests,
                    unit: Unit::Count,
                    series: vec![
                        series("descriptors"),
                        series("threads"),
                        series("processes"),
                    ],
                },
            ],
        );
    }
}

fn finding_details(out: &mut String, collection: &Collection, index: usize, entry: &Entry) {
    let repro = &entry.reproducer;
    let finding = &repro.finding;
    let _ = writeln!(
        out,
        "<details id=\"f{index}\"{}><summary>{} {} <code>{}</code></summary>",
        if index == 0 { " open" } else { "" },
        badge(finding.severity),
        finding.kind,
        escape(&finding.signature)
    );
    let _ = writeln!(out, "<p>{}</p>", escape(&finding.summary));
    let _ = writeln!(
        out,
        "<p>Target <code>{}</code>. Replay: <code>{}</code>{}</p>",
        escape(&repro.target.command_line()),
        escape(&replay_command(&entry.path)),
        if repro.repeat > 1 {
            format!(" (the transcript runs {} times)", repro.repeat)
        } else {
            String::new()
        }
    );
    if finding.evidence.get("curve").is_some() {
        let resource = finding.evidence["resource"].as_str().unwrap_or("resource");
        let unit = if resource == "memory" {
            Unit::Bytes
        } else {
            Unit::Count
        };
        let plot = Plot {
            title: format!("{resource} while the finding was found"),
            x_label: "items sent to the target".into(),
            unit,
            series: vec![Series {
                name: resource.into(),
                points: curve_points(&finding.evidence["curve"]),
            }],
        };
        out.push_str(&plot.svg(&format!("f{index}-curve")));
        out.push('\n');
    }
    match collection.exchanges.get(&finding.signature) {
        Some(exchange) => {
            let _ = writeln!(
                out,
                "<h3>Exchange when replayed: {}</h3>",
                if exchange.reproduced {
                    "<span class=\"fail\">reproduced</span>".to_string()
                } else {
                    format!(
                        "<span class=\"pass\">not reproduced</span> (seen instead: {})",
                        escape(&exchange.seen.join(", "))
                    )
                }
            );
            out.push_str("<pre>");
            for (direction, line) in &exchange.log {
                let (class, arrow) = match direction {
                    Direction::Sent => ("sent", "&gt;"),
                    Direction::Received => ("received", "&lt;"),
                };
                let _ = writeln!(
                    out,
                    "<span class=\"{class}\">{arrow} {}</span>",
                    escape(line)
                );
            }
            out.push_str("</pre>\n");
        }
        None => {
            out.push_str("<h3>Sent after the handshake</h3>\n<pre>");
            for item in &repro.transcript {
                let _ = writeln!(
                    out,
                    "<span class=\"sent\">&gt; {}</span>",
                    escape(&item.to_string())
                );
            }
            out.push_str("</pre>\n");
        }
    }
    out.push_str("<h3>Evidence</h3>\n<pre>");
    out.push_str(&escape(
        &serde_json::to_string_pretty(&finding.evidence).unwrap_or_default(),
    ));
    out.push_str("</pre>\n</details>\n");
}

/// `2026-12-02 04:26 UTC`, from seconds since the Unix epoch.
fn utc(unix_time: u64) -> String {
    let days = (unix_time / 86_400) as i64;
    let secs = unix_time % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60
    )
}

fn utc_now() -> String {
    utc(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0))
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil() {
        assert_eq!(super::utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(super::utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(super::utc(1_796_185_469), "2026-12-02 04:24 UTC");
    }
}
