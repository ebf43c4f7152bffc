//! `mcpfuzz bench`: what the harness costs. It measures, against one target, the raw pipe
//! round trip of a `ping`, the session loop (frames plus barrier, through the protocol
//! oracle), and the whole fuzz loop (decode, materialize, run, oracle), all in one run so
//! the ratios hold on a noisy machine.

use super::{resolve_target, TargetArgs};
use mcpfuzz::campaign::{Campaign, Options};
use mcpfuzz::config::TargetSpec;
use mcpfuzz::coverage::{Coverage, Runtime, Setting};
use mcpfuzz::oracle::{Injection, Tracker};
use mcpfuzz::sandbox::Sandbox;
use mcpfuzz::session::Session;
use mcpfuzz::target::Protections;
use mcpfuzz::target::{Child, Output, Recv, SpawnOptions};
use mcpfuzz::transcript::{Frame, Item};
use serde_json::json;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Measure the harness's overhead: messages per second through the fuzz loop next to the
/// raw pipe round trip for the same bytes.
#[derive(clap::Args, Debug)]
#[command(mut_arg("target", |arg| {
    arg.help("Target to measure against (default: the built-in native echo server)")
}))]
pub struct Args {
    #[command(flatten)]
    target: TargetArgs,
    /// Seconds per phase.
    #[arg(long, default_value_t = 3)]
    seconds: u64,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let spec = match args.target.is_given() {
        true => resolve_target(&args.target, None)?.0,
        false => TargetSpec::from_command(vec![
            std::env::current_exe()?.display().to_string(),
            "echo-target".into(),
        ]),
    };
    let phase = Duration::from_secs(args.seconds.max(1));
    println!(
        "mcpfuzz bench: target {}, {} s per phase",
        spec.command_line(),
        phase.as_secs()
    );
    let raw = raw_round_trips(&spec, phase)?;
    print_rate("raw pipe round trip (one ping at a time)", raw, "msg/s");
    let lockstep = session_messages(&spec, phase, 0, None)?;
    print_rate("session: barrier ping only, per script", lockstep, "msg/s");
    let pipelined = session_messages(&spec, phase, 8, None)?;
    print_rate("session: 8 pings + barrier per script", pipelined, "msg/s");
    let sandbox = Sandbox::create(None)?;
    let in_cell = session_messages(&spec, phase, 8, Some(&sandbox))?;
    print_rate(
        "the same in a canary cell (scan per script)",
        in_cell,
        "msg/s",
    );
    let (bare_spawn, protected_spawn, protections) = spawn_costs(&spec, &sandbox, phase)?;
    println!(
        "{:<48} {:>10.1} ms bare, {:.1} ms with {protections:?} (x{:.2})",
        "spawn + handshake in a canary cell",
        bare_spawn * 1e3,
        protected_spawn * 1e3,
        protected_spawn / bare_spawn.max(1e-9)
    );
    let oracle_lines = injection_oracle_lines(phase);
    print_rate(
        "injection oracle alone, per received line",
        oracle_lines,
        "line/s",
    );
    let (execs, fuzz_rss) = fuzz_loop(&spec, phase, Setting::Off)?;
    print_rate(
        "fuzz loop: decode, materialize, run, oracle",
        execs,
        "exec/s",
    );
    println!(
        "harness cost per message vs raw: x{:.2} one at a time, x{:.2} pipelined, \
         x{:.2} pipelined in a canary cell",
        raw / lockstep.max(1e-9),
        raw / pipelined.max(1e-9),
        raw / in_cell.max(1e-9)
    );
    println!(
        "fuzzer rss after the fuzz loop: {:.1} MiB",
        fuzz_rss as f64 / (1 << 20) as f64
    );
    coverage_costs(phase)?;
    Ok(ExitCode::SUCCESS)
}

/// One valid call and the barrier, again and again, against the testbed's tiny Python
/// and Node servers, with and without their coverage bridge (armed before each script,
/// read after it): the per-input cost of each bridge, without triage or grammar.
fn coverage_costs(phase: Duration) -> anyhow::Result<()> {
    let tiny = mcpfuzz::config::project_root().join("testbed/coverage");
    let sandbox = Sandbox::create(None)?;
    for (program, file, runtime) in [
        ("python3", "tiny_server.py", Runtime::Python),
        ("node", "tiny_server.js", Runtime::Node),
    ] {
        let path = tiny.join(file);
        if !path.is_file() {
            continue;
        }
        let spec = TargetSpec::from_command(vec![program.into(), path.display().to_string()]);
        let items = vec![Item::Frame(Frame(line(json!({
            "jsonrpc": "2.0", "id": 5, "method": "tools/call",
            "params": {"name": "probe", "arguments": {"text": "hello 123"}},
        }))))];
        let mut rates = [0.0f64; 2];
        for (slot, with_bridge) in [(0, false), (1, true)] {
            let mut coverage = if with_bridge {
                Some(Coverage::new(runtime)?)
            } else {
                None
            };
            let mut session = match &mut coverage {
                Some(coverage) => coverage.start(&spec, &sandbox, Protections::default())?,
                None => Session::start_in_sandbox(&spec, &sandbox, Protections::default(), false)?,
            };
            let started = Instant::now();
            let mut count = 0u64;
            while started.elapsed() < phase {
                if let Some(coverage) = &mut coverage {
                    coverage.arm();
                }
                session.run(&items);
                if let Some(coverage) = &mut coverage {
                    let _ = coverage.collect(session.pids());
                }
                count += 1;
            }
            rates[slot] = count as f64 / started.elapsed().as_secs_f64();
        }
        let [off, on] = rates;
        println!(
            "{:<48} {off:>10.0} in/s off, {on:.0} on: +{:.0} us per input (x{:.2})",
            format!(
                "call + barrier, tiny {program} server, {} bridge",
                runtime.as_str()
            ),
            (1e6 / on.max(1e-9) - 1e6 / off.max(1e-9)).max(0.0),
            off / on.max(1e-9)
        );
    }
    Ok(())
}

fn print_rate(what: &str, rate: f64, unit: &str) {
    println!(
        "{what:<48} {rate:>10.0} {unit:<7} {:>9.1} us each",
        1e6 / rate.max(1e-9)
    );
}

fn line(value: serde_json::Value) -> Vec<u8> {
    Frame::json_line(&value).0
}

fn recv_line(child: &mut Child) -> anyhow::Result<Vec<u8>> {
    match child.recv(Instant::now() + Duration::from_secs(10)) {
        Recv::Output(Output::Line(line), _) => Ok(line),
        other => anyhow::bail!("the target stopped answering during the benchmark: {other:?}"),
    }
}

fn raw_round_trips(spec: &TargetSpec, phase: Duration) -> anyhow::Result<f64> {
    let mut child = Child::spawn(spec, &SpawnOptions::default())?;
    let deadline = || Instant::now() + Duration::from_secs(10);
    let initialize = line(
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {},
        "clientInfo": {"name": "mcpfuzz-bench", "version": "0"}}}),
    );
    child
        .send(&initialize, deadline())
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    recv_line(&mut child)?;
    let ping = line(json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}));
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < phase {
        child
            .send(&ping, deadline())
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        recv_line(&mut child)?;
        count += 1;
    }
    Ok(count as f64 / started.elapsed().as_secs_f64())
}

fn session_messages(
    spec: &TargetSpec,
    phase: Duration,
    pings: usize,
    sandbox: Option<&Sandbox>,
) -> anyhow::Result<f64> {
    let mut session = match sandbox {
        Some(sandbox) => Session::start_in_sandbox(spec, sandbox, Protections::default(), false)?,
        None => Session::start(spec, &SpawnOptions::default(), false)?,
    };
    let items: Vec<Item> = (0..pings)
        .map(|i| {
            Item::Frame(Frame::json_line(
                &json!({"jsonrpc": "2.0", "id": i + 1, "method": "ping"}),
            ))
        })
        .collect();
    let started = Instant::now();
    let mut messages = 0u64;
    while started.elapsed() < phase {
        let report = session.run(&items);
        anyhow::ensure!(
            report.alive,
            "the target died during the benchmark: {:?}",
            report.findings
        );
        messages += pings as u64 + 1;
    }
    Ok(messages as f64 / started.elapsed().as_secs_f64())
}

/// Mean seconds to start the target in a fresh canary cell and finish its handshake,
/// without and with the protections this machine allows, alternating so both see the
/// same load.
fn spawn_costs(
    spec: &TargetSpec,
    sandbox: &Sandbox,
    phase: Duration,
) -> anyhow::Result<(f64, f64, Protections)> {
    let protections = Protections::probe();
    let mut totals = [Duration::ZERO; 2];
    let mut rounds = 0u32;
    let started = Instant::now();
    while started.elapsed() < phase || rounds < 2 {
        for (total, protections) in totals.iter_mut().zip([Protections::default(), protections]) {
            let began = Instant::now();
            let session = Session::start_in_sandbox(spec, sandbox, protections, false)?;
            *total += began.elapsed();
            drop(session);
        }
        rounds += 1;
    }
    let mean = |total: Duration| total.as_secs_f64() / f64::from(rounds);
    Ok((mean(totals[0]), mean(totals[1]), protections))
}

/// Received lines per second through the injection oracle alone, with a thousand payloads
/// registered: tool results of about 300 bytes with numbers in them but no proof.
fn injection_oracle_lines(phase: Duration) -> f64 {
    use mcpfuzz::grammar::payloads::{render, Family, PayloadPlan};
    let mut injection = Injection::new(Vec::new());
    let mut tracker = Tracker::new();
    for n in 0..1000u64 {
        let family = Family::ALL[(n % 7) as usize];
        let payload = render(&PayloadPlan::new(family, n as u8, n as u8), n, "x");
        let sent = line(json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
            "params": {"name": "t", "arguments": {"a": payload}}}));
        tracker.on_sent(&sent, Instant::now());
        injection.on_sent(&sent[..sent.len() - 1], &tracker);
    }
    let reply = line(
        json!({"jsonrpc": "2.0", "id": 7, "result": {"content": [{"type": "text",
        "text": "12 matches in 3 files, 2024-01-01T00:00:00Z, took 1733145600123 ns; \
                 see https://example.com/a/b?c=d for the full list of results"}]}}),
    );
    let id = json!(7);
    let answered = [(&id, "tools/call:t")];
    let started = Instant::now();
    let mut count = 0u64;
    while started.elapsed() < phase {
        for _ in 0..1000 {
            let findings = injection.on_received(&reply, &answered);
            assert!(findings.is_empty(), "no proof in the benchmark's reply");
        }
        count += 1000;
    }
    count as f64 / started.elapsed().as_secs_f64()
}

fn fuzz_loop(spec: &TargetSpec, phase: Duration, coverage: Setting) -> anyhow::Result<(f64, u64)> {
    let crashes = std::env::temp_dir().join(format!("mcpfuzz-bench-{}", std::process::id()));
    let options = Options {
        crashes_dir: crashes.clone(),
        stop_on_finding: false,
        status: mcpfuzz::progress::Mode::Quiet,
        stats_every: Duration::ZERO,
        coverage: Ok(coverage),
        coverage_feed: true,
        harness_coverage: true,
        focus: false,
        role: mcpfuzz::role::Role::Fuzz,
    };
    let mut campaign = Campaign::new(spec.clone(), options)?;
    let mut state = 0x5eed_u64;
    let started = Instant::now();
    let mut executions = 0u64;
    while started.elapsed() < phase {
        let input: Vec<u8> = (0..256)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        campaign.fuzz_one(&input);
        executions += 1;
    }
    let rate = executions as f64 / started.elapsed().as_secs_f64();
    let rss = mcpfuzz::target::rss_bytes(std::process::id() as i32).unwrap_or(0);
    let _ = std::fs::remove_dir_all(&crashes);
    Ok((rate, rss))
}
