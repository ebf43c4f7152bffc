//! One fuzzing run against one target: the persistent child, the per-input loop, triage
//! of what it finds, and the periodic status line. `fuzz/fuzz_targets/jsonrpc.rs` calls
//! [`init`] and [`fuzz_one`]; `mcpfuzz fuzz` drives the same loop without libFuzzer.

use crate::catalog::Catalog;
use crate::config::{self, Origin, TargetSpec};
use crate::coverage::{self, Coverage};
use crate::finding::{Finding, Kind, Severity};
use crate::grammar::{self, Materializer};
use crate::oracle::Outcome;
use crate::progress::Progress;
use crate::role::{Role, Supervision};
use crate::runlog::{Counters, RunLog};
use crate::sandbox::Sandbox;
use crate::session::{Session, StartError};
use crate::target::Protections;
use crate::transcript::Item;
use crate::triage::{RunContext, Triage, Verdict, MAX_FLAKY_ATTEMPTS};
use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Items the persistent target may receive before it is recycled; bounds the transcript
/// kept for stateful findings and the cost of replaying it.
const RECYCLE_AFTER_ITEMS: usize = 1000;

/// Inputs between two samples of the target's resources (one pass over `/proc`, well
/// under a millisecond) for the leak oracle.
const SAMPLE_EVERY: u64 = 10;

/// How a run behaves beyond the target spec.
#[derive(Clone, Debug)]
pub struct Options {
    /// Where reproducers go.
    pub crashes_dir: PathBuf,
    /// End the run (panic, the libFuzzer way) at the first saved finding.
    pub stop_on_finding: bool,
    /// How the status line is shown.
    pub status: crate::progress::Mode,
    /// Seconds between two `stats` records of the run log; zero for no log.
    pub stats_every: Duration,
    /// Which coverage bridge to use (`MCPFUZZ_COVERAGE`), or why the setting is wrong.
    pub coverage: Result<coverage::Setting, String>,
    /// Whether the target's edges guide libFuzzer; `MCPFUZZ_COVERAGE_FEED=0` only counts
    /// them (for comparing guidance with and without them at the same cost).
    pub coverage_feed: bool,
    /// Whether the harness's own code coverage also guides libFuzzer while a bridge
    /// reports the target's; `MCPFUZZ_HARNESS_COVERAGE=0` leaves only the target's edges
    /// and the protocol features (experimental: a far smaller corpus, not yet shown to
    /// find more). Without a bridge it always guides.
    pub harness_coverage: bool,
    /// Whether inputs that reach new target edges go into the mutator's focus
    /// (`MCPFUZZ_FOCUS=0` leaves scheduling to libFuzzer alone).
    pub focus: bool,
    /// What the process is for: a merge triages nothing, a reproduction stops at any
    /// finding, known or new.
    pub role: Role,
}

impl Options {
    /// Options from `MCPFUZZ_CRASHES`, `MCPFUZZ_STOP_ON_FINDING`, `MCPFUZZ_STATUS_SECS`
    /// and `MCPFUZZ_STATS_SECS`.
    pub fn from_environment() -> Options {
        let flag = |name: &str| std::env::var(name).is_ok_and(|v| !v.is_empty() && v != "0");
        Options {
            crashes_dir: config::crashes_dir(),
            stop_on_finding: flag("MCPFUZZ_STOP_ON_FINDING"),
            status: crate::progress::Mode::from_environment(),
            stats_every: RunLog::interval_from_environment(),
            coverage: coverage::Setting::from_environment(),
            coverage_feed: std::env::var("MCPFUZZ_COVERAGE_FEED").map_or(true, |v| v != "0"),
            harness_coverage: std::env::var("MCPFUZZ_HARNESS_COVERAGE").map_or(true, |v| v != "0"),
            focus: std::env::var("MCPFUZZ_FOCUS").map_or(true, |v| v != "0"),
            role: Role::Fuzz,
        }
    }

    /// Options for a process of the fuzz target: the environment's, then the `[fuzz]`
    /// table of the target's `mcpfuzz.toml` where no variable is set. Only a fuzzing
    /// process writes a run log.
    pub fn for_fuzz_target(role: Role, settings: &config::FuzzSettings) -> Options {
        let mut options = Options::from_environment();
        options.crashes_dir = config::crashes_dir_with(settings);
        if std::env::var_os("MCPFUZZ_STOP_ON_FINDING").is_none() {
            options.stop_on_finding = settings.stop_on_finding.unwrap_or(false);
        }
        if role != Role::Fuzz {
            options.stats_every = Duration::ZERO;
        }
        options.role = role;
        options
    }
}

/// What a run found and did, for the status line and the end-of-run summary.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Inputs executed.
    pub executions: u64,
    /// Saved findings by kind.
    pub findings: BTreeMap<Kind, usize>,
    /// Paths of saved reproducers, in the order found.
    pub saved: Vec<PathBuf>,
    /// Candidates that did not reproduce.
    pub flaky: usize,
    /// Target processes started for fuzzing (not counting replays).
    pub spawns: u64,
    /// How the calls of each tool the catalog announced were answered.
    pub tools: BTreeMap<String, ToolTally>,
}

/// How the `tools/call` requests of one tool were answered during a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ToolTally {
    /// Calls answered in any way (a result, a tool error, a JSON-RPC error).
    pub answered: u64,
    /// Calls answered with a result that is not a tool error: the arguments got past
    /// the tool's own validation.
    pub succeeded: u64,
}

impl Summary {
    /// Counts the replies of one script by tool.
    fn tally(&mut self, timings: &[crate::session::Timing]) {
        for timing in timings {
            let Some(tool) = timing.label.strip_prefix("tools/call:") else {
                continue;
            };
            let Some(tally) = self.tools.get_mut(tool) else {
                continue;
            };
            match timing.outcome {
                Outcome::NoReply => {}
                Outcome::Result => {
                    tally.answered += 1;
                    tally.succeeded += 1;
                }
                _ => tally.answered += 1,
            }
        }
    }

    /// `tools fuzzed: 7 of 8, 5 with a result (never answered: a, b)`: how far the run
    /// got into the catalog's tools.
    pub fn tools_line(&self) -> String {
        let answered = self.tools.values().filter(|t| t.answered > 0).count();
        let succeeded = self.tools.values().filter(|t| t.succeeded > 0).count();
        let missing: Vec<&str> = self
            .tools
            .iter()
            .filter(|(_, t)| t.answered == 0)
            .map(|(name, _)| name.as_str())
            .collect();
        let mut line = format!(
            "mcpfuzz: tools fuzzed: {answered} of {}, {succeeded} with a result",
            self.tools.len()
        );
        if !missing.is_empty() {
            line.push_str(&format!(" (never answered: {})", missing.join(", ")));
        }
        line
    }
}

/// The state of one run.
pub struct Campaign {
    spec: TargetSpec,
    options: Options,
    sandbox: Sandbox,
    protections: Protections,
    session: Option<Session>,
    catalog: Catalog,
    materializer: Materializer,
    triage: Triage,
    started: Instant,
    progress: Progress,
    run_log: RunLog,
    summary: Summary,
    /// Signatures of information-only findings already printed.
    notes: HashSet<String>,
    /// The current target's resources, `(items since spawn, usage)`, every
    /// [`SAMPLE_EVERY`] inputs; and the inputs it has run.
    usage_samples: Vec<(u64, crate::target::Usage)>,
    inputs_since_spawn: u64,
    /// Leak signatures already handed to triage for the current target.
    leaks_considered: HashSet<String>,
    /// The target's own coverage, when a bridge serves its runtime.
    coverage: Option<Coverage>,
}

impl Campaign {
    /// Checks the target by starting it once; every configuration problem is reported
    /// here, before any input runs.
    pub fn new(spec: TargetSpec, options: Options) -> Result<Campaign, StartError> {
        let sandbox = Sandbox::create(None).map_err(|source| {
            StartError::Spawn(crate::target::SpawnError {
                command: spec.command.clone(),
                source,
            })
        })?;
        let protections = Protections::probe();
        let triage = Triage::new(spec.clone(), protections, options.crashes_dir.clone());
        // The log is opened once the target has started: a target that cannot be fuzzed
        // leaves nothing behind.
        let run_log = RunLog::create(&options.crashes_dir, &spec, Duration::ZERO);
        let progress = Progress::new(options.status);
        let mut campaign = Campaign {
            spec,
            options,
            sandbox,
            protections,
            session: None,
            catalog: Catalog::default(),
            materializer: Materializer::new(),
            triage,
            started: Instant::now(),
            progress,
            run_log,
            summary: Summary::default(),
            notes: HashSet::new(),
            usage_samples: Vec::new(),
            inputs_since_spawn: 0,
            leaks_considered: HashSet::new(),
            coverage: None,
        };
        campaign.coverage = match campaign
            .options
            .coverage
            .clone()
            .map_err(Some)
            .and_then(|setting| Coverage::for_command(setting, &campaign.spec.command))
        {
            Ok(coverage) => Some(coverage),
            Err(why) => {
                if let Some(why) = why {
                    crate::say!("mcpfuzz: {why}");
                }
                None
            }
        };
        campaign.respawn()?;
        if let Some(coverage) = &campaign.coverage {
            crate::say!(
                "mcpfuzz: coverage from inside the target: the {} bridge",
                coverage.runtime().as_str()
            );
        }
        campaign.run_log = RunLog::create(
            &campaign.options.crashes_dir,
            &campaign.spec,
            campaign.options.stats_every,
        );
        // The run's first sample: the target right after its handshake.
        campaign.record_stats();
        let catalog = &campaign.catalog;
        crate::say!(
            "mcpfuzz: handshake ok: {} {} (protocol {}), {} tools, {} resources, {} templates, {} prompts",
            catalog.server_info["name"].as_str().unwrap_or("?"),
            catalog.server_info["version"].as_str().unwrap_or("?"),
            catalog.protocol_version,
            catalog.tools.len(),
            catalog.resources.len(),
            catalog.templates.len(),
            catalog.prompts.len()
        );
        Ok(campaign)
    }

    /// The target spec.
    pub fn spec(&self) -> &TargetSpec {
        &self.spec
    }

    /// What the run has done so far.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }

    /// Runs one fuzz input. Returns false when libFuzzer should not keep it: it decoded to
    /// nothing, or it crashed or hung the target.
    pub fn fuzz_one(&mut self, data: &[u8]) -> bool {
        let script = grammar::decode(data);
        if script.steps.is_empty() {
            return false;
        }
        if self.session.is_none() {
            if let Err(error) = self.respawn_with_retries() {
                crate::say!("mcpfuzz: the target can no longer be started: {error}");
                std::process::exit(2);
            }
        }
        let items = self.materializer.materialize(&script, &self.catalog);
        if let Some(coverage) = &mut self.coverage {
            coverage.arm();
        }
        let session = self.session.as_mut().expect("respawned above");
        let report = session.run(&items);
        report.features.publish();
        // An input that killed or hung the target is no place to climb from: its
        // mutations would mostly do the same again.
        self.collect_coverage(data, report.alive);
        let session = self.session.as_mut().expect("respawned above");
        self.summary.executions += 1;
        self.summary.tally(&report.timings);
        self.run_log
            .observe(report.timings.iter().map(|timing| timing.latency));
        // A merge only measures which features inputs reach.
        let triage = self.options.role != Role::Merge;
        if triage && !report.findings.is_empty() {
            // Known signatures need no transcript; copying up to a thousand items for them
            // would cost every input of a server that trips a known rule each time.
            let any_new = report
                .findings
                .iter()
                .any(|finding| !self.triage.is_known(&finding.signature));
            let since_spawn = if any_new {
                session.transcript().to_vec()
            } else {
                Vec::new()
            };
            for finding in &report.findings {
                self.consider(finding, &items, &since_spawn);
            }
        }
        let alive = report.alive;
        self.inputs_since_spawn += 1;
        if triage && alive && self.inputs_since_spawn.is_multiple_of(SAMPLE_EVERY) {
            self.sample_resources(&items);
        }
        if !alive {
            self.session = None;
        } else if self
            .session
            .as_ref()
            .is_some_and(|s| s.transcript().len() > RECYCLE_AFTER_ITEMS)
        {
            self.recycle();
        }
        self.maybe_record_stats();
        if self.progress.due() {
            let line = self.status_line();
            self.progress.tick(|| line);
        }
        // Last, after triage and everything else this input ran in the harness.
        if self.coverage.is_some() && self.options.coverage_feed && !self.options.harness_coverage {
            crate::feedback::silence_harness();
        }
        // An input that killed or hung the target is a dead end once its finding is
        // triaged; kept in the corpus, its mutations would pay a deadline and a restart
        // again and again.
        alive
    }

    /// Closes the current target the way a client would (end of input), checking that it
    /// exits cleanly.
    pub fn recycle(&mut self) {
        if let Some(session) = self.session.take() {
            let since_spawn = session.transcript().to_vec();
            for finding in session.finish() {
                self.consider(&finding, &[], &since_spawn);
            }
        }
    }

    fn consider(&mut self, finding: &Finding, script: &[Item], since_spawn: &[Item]) {
        if self.options.role == Role::Merge {
            return;
        }
        // Information (markup reflected unescaped) is worth a line, not a reproducer.
        if finding.severity == Severity::Info {
            if self.notes.insert(finding.signature.clone()) {
                crate::say!("mcpfuzz: note [info] {}", finding.summary);
            }
            return;
        }
        let context = RunContext {
            executions: self.summary.executions,
            started: self.started,
        };
        let verdict = self
            .triage
            .consider(&self.sandbox, finding, script, since_spawn, context);
        self.summary.flaky = self.triage.stats.flaky;
        // Reproducing an input (a crash artifact, a step of libFuzzer's crash
        // minimization) asks whether it finds something: a finding saved before is as
        // good an answer as a new one, and the only way to give it is to crash.
        let stop = self.options.stop_on_finding || self.options.role == Role::Reproduce;
        let saved = match verdict {
            Verdict::Saved(saved) => saved,
            Verdict::Known { .. } | Verdict::Unsaved if stop => {
                let path = self
                    .options
                    .crashes_dir
                    .join(crate::repro::file_name(finding));
                panic!(
                    "mcpfuzz: stopping at the first finding: {} [{}] {} (reproducer: {})",
                    finding.kind,
                    finding.severity,
                    finding.summary,
                    path.display()
                );
            }
            Verdict::Known { first: true } => {
                crate::say!(
                    "mcpfuzz: seen again (already in {}): {}",
                    self.options.crashes_dir.display(),
                    finding.signature
                );
                return;
            }
            Verdict::Flaky { attempt } => {
                crate::say!(
                    "mcpfuzz: flaky, not saved: {} did not reproduce in a fresh target \
                     (attempt {attempt} of {MAX_FLAKY_ATTEMPTS})",
                    finding.signature
                );
                return;
            }
            Verdict::Known { first: false } | Verdict::Unsaved | Verdict::GaveUp => return,
        };
        *self.summary.findings.entry(finding.kind).or_default() += 1;
        let found = &saved.reproducer.found;
        self.run_log.finding(finding, &saved.path);
        crate::say!(
            "mcpfuzz: NEW {} [{}] {} -> {} ({} items, minimized from {}, after {:.1}s)",
            finding.kind,
            finding.severity,
            finding.summary,
            saved.path.display(),
            saved.reproducer.transcript.len(),
            found.original_items,
            found.elapsed_secs
        );
        self.summary.saved.push(saved.path.clone());
        if stop {
            panic!(
                "mcpfuzz: stopping at the first finding: {} [{}] {} (reproducer: {})",
                finding.kind,
                finding.severity,
                finding.summary,
                saved.path.display()
            );
        }
    }

    /// Samples the target's process group and hands any resource that kept growing
    /// since the spawn to triage, once per target.
    fn sample_resources(&mut self, script: &[Item]) {
        let Some(session) = &self.session else {
            return;
        };
        let sent = session.transcript().len() as u64;
        self.usage_samples
            .push((sent, crate::target::group_usage(session.pid() as i32)));
        let leaks: Vec<Finding> = crate::oracle::resources::leak_findings(
            &self.usage_samples,
            crate::oracle::resources::Strictness::Detecting,
        )
        .into_iter()
        .filter(|leak| self.leaks_considered.insert(leak.signature.clone()))
        .collect();
        if leaks.is_empty() {
            return;
        }
        let since_spawn = session.transcript().to_vec();
        for leak in &leaks {
            self.consider(leak, script, &since_spawn);
        }
    }

    fn respawn(&mut self) -> Result<(), StartError> {
        let mut session = match &mut self.coverage {
            Some(coverage) => coverage.start(&self.spec, &self.sandbox, self.protections)?,
            None => Session::start_in_sandbox(&self.spec, &self.sandbox, self.protections, false)?,
        };
        self.usage_samples = vec![(0, crate::target::group_usage(session.pid() as i32))];
        self.inputs_since_spawn = 0;
        self.leaks_considered.clear();
        self.summary.spawns += 1;
        if self.summary.spawns == 1 {
            self.catalog = session.catalog().clone();
            self.summary.tools = self
                .catalog
                .tools
                .iter()
                .map(|tool| (tool.name.clone(), ToolTally::default()))
                .collect();
        }
        let startup = session.take_startup_findings();
        self.session = Some(session);
        for finding in startup {
            self.consider(&finding, &[], &[]);
        }
        Ok(())
    }

    fn respawn_with_retries(&mut self) -> Result<(), StartError> {
        let mut last = None;
        for attempt in 0..3 {
            match self.respawn() {
                Ok(()) => return Ok(()),
                Err(error) => {
                    log::warn!(
                        "restarting the target failed (attempt {}): {error}",
                        attempt + 1
                    );
                    last = Some(error);
                    std::thread::sleep(Duration::from_millis(200 << attempt));
                }
            }
        }
        Err(last.expect("three attempts failed"))
    }

    fn counters(&self) -> Counters {
        Counters {
            executions: self.summary.executions,
            spawns: self.summary.spawns,
            findings: self.summary.saved.len() as u64,
            edges: self.coverage.as_ref().map(Coverage::edges),
        }
    }

    /// Reads the target's edges of the input just run into libFuzzer's counters, and
    /// puts an input that reached new ones (and left the target `alive`) in the
    /// mutator's focus; a bridge that reports nothing is given up with one line.
    fn collect_coverage(&mut self, data: &[u8], alive: bool) {
        let Some(coverage) = &mut self.coverage else {
            return;
        };
        let before = coverage.edges();
        let pids = self
            .session
            .as_ref()
            .map(|session| session.pids().to_vec())
            .unwrap_or_default();
        match coverage.collect(&pids) {
            Ok(map) if self.options.coverage_feed => {
                crate::feedback::publish_child(map);
                if alive && coverage.edges() > before && self.options.focus {
                    crate::grammar::mutate::Focus::shared().reward(data);
                }
            }
            Ok(_) => {}
            Err(why) => {
                crate::say!("mcpfuzz: {why}");
                self.coverage = None;
            }
        }
    }

    /// Distinct edges of the target's own code seen so far, when a bridge runs.
    pub fn edges(&self) -> Option<u64> {
        self.coverage.as_ref().map(Coverage::edges)
    }

    fn maybe_record_stats(&mut self) {
        if self.run_log.due() {
            self.record_stats();
        }
    }

    fn record_stats(&mut self) {
        let usage = self
            .session
            .as_ref()
            .map(|session| crate::target::group_usage(session.pid() as i32));
        self.run_log.record(self.counters(), usage.as_ref());
    }

    /// Ends the run: closes the target as a client would, erases the live status line,
    /// and writes the run log's totals; returns the final status line.
    pub fn finish(&mut self) -> String {
        self.recycle();
        self.progress.finish();
        self.run_log.end(self.counters(), self.summary.flaky);
        self.status_line()
    }

    /// The run log's path.
    pub fn run_log(&self) -> &std::path::Path {
        self.run_log.path()
    }

    /// `mcpfuzz: #N exec/s ... target rss ... findings ...`.
    pub fn status_line(&self) -> String {
        let elapsed = self.started.elapsed().as_secs_f64().max(1e-3);
        let rss = match &self.session {
            Some(session) => format!(
                "{:.1} MiB",
                session.sample().rss_bytes as f64 / (1 << 20) as f64
            ),
            None => "- (restarting)".to_string(),
        };
        let findings: Vec<String> = self
            .summary
            .findings
            .iter()
            .map(|(kind, count)| format!("{kind} {count}"))
            .collect();
        let edges = self
            .edges()
            .map(|edges| format!(" edges {edges}"))
            .unwrap_or_default();
        format!(
            "mcpfuzz: #{} exec/s {:.0}{edges} target rss {} spawns {} findings {} ({}) flaky {}",
            self.summary.executions,
            self.summary.executions as f64 / elapsed,
            rss,
            self.summary.spawns,
            self.summary.saved.len(),
            if findings.is_empty() {
                "none".to_string()
            } else {
                findings.join(", ")
            },
            self.summary.flaky
        )
    }
}

static CAMPAIGN: Mutex<Option<Campaign>> = Mutex::new(None);

/// Set by [`init`]; a process that supervises starts its campaign only if libFuzzer
/// runs inputs in it after all.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// Called once by the fuzz target before libFuzzer starts: ignores SIGPIPE (a `no_main`
/// binary does not, and a write to a dead target would kill the fuzzer without an
/// artifact), resolves the target and checks it by starting it. Exits with status 2 and a
/// one-paragraph explanation when the target cannot be fuzzed.
///
/// A process that only starts other fuzzing processes (`-fork=N`, `-jobs=N`, `-merge=1`,
/// `-minimize_crash=1`; see [`crate::role`]) starts no target: each process it starts
/// runs this init and owns its target. Under `-fork` and `-jobs` it prints the findings
/// its jobs save, whose own output goes to files.
pub fn init() {
    ignore_sigpipe();
    let role = Role::of_this_process();
    // libFuzzer ends a run with exit(), which runs no Rust destructors; this hook closes
    // the target as a client would, removes its scratch files and prints what the run
    // found.
    // SAFETY: registering a plain extern "C" function has no preconditions.
    unsafe {
        nix::libc::atexit(at_exit);
    }
    INITIALIZED.store(true, Ordering::SeqCst);
    let Role::Supervise(supervision) = role else {
        start(role);
        return;
    };
    let resolved = resolve_or_exit();
    announce(&resolved.spec, &resolved.origin);
    if supervision.watches_findings() {
        let crashes = config::crashes_dir_with(&resolved.settings);
        let how = match supervision {
            Supervision::Fork => "each fork-mode job",
            _ => "each job",
        };
        crate::say!(
            "mcpfuzz: {how} starts its own target; findings are printed here as the jobs \
             save them in {}",
            crashes.display()
        );
        crate::supervise::watch_findings(&crashes);
    }
}

fn resolve_or_exit() -> config::Resolved {
    match config::resolve() {
        Ok(resolved) => resolved,
        Err(error) => {
            eprintln!("mcpfuzz: {error}");
            std::process::exit(2);
        }
    }
}

/// Resolves the target and starts it, or exits with status 2.
fn start(role: Role) {
    let resolved = resolve_or_exit();
    announce(&resolved.spec, &resolved.origin);
    let options = Options::for_fuzz_target(role, &resolved.settings);
    match Campaign::new(resolved.spec, options) {
        Ok(campaign) => {
            *CAMPAIGN.lock().unwrap_or_else(|poison| poison.into_inner()) = Some(campaign);
        }
        Err(error) => {
            eprintln!("mcpfuzz: {error}");
            std::process::exit(2);
        }
    }
}

extern "C" fn at_exit() {
    crate::supervise::finish();
    // A panic (stop on finding) or a crash inside the loop may hold the lock: then skip.
    let Ok(mut guard) = CAMPAIGN.try_lock() else {
        return;
    };
    if let Some(mut campaign) = guard.take() {
        let line = campaign.finish();
        if campaign.options.role != Role::Merge {
            eprintln!("{line}");
            eprintln!("{}", campaign.summary().tools_line());
        }
        for path in &campaign.summary().saved {
            eprintln!("mcpfuzz: saved {}", path.display());
        }
        // Dropped here, the campaign removes its sandbox and its coverage bridge's files.
        drop(campaign);
    }
}

/// Says once which target is fuzzed and why.
pub fn announce(spec: &TargetSpec, origin: &Origin) {
    let why = match origin {
        Origin::Demo => {
            "the bundled demo target (set MCPFUZZ_TARGET or mcpfuzz.toml to fuzz your own server)"
                .to_string()
        }
        Origin::CommandLine => "the target from --target or MCPFUZZ_TARGET".to_string(),
        Origin::File(path) => format!("the target from {}", path.display()),
        Origin::McpConfig { path, server } => {
            format!("the server {server:?} from {}", path.display())
        }
    };
    crate::say!("mcpfuzz: fuzzing {why}: {}", spec.command_line());
}

/// Runs one libFuzzer input; false means "reject, do not add to the corpus".
pub fn fuzz_one(data: &[u8]) -> bool {
    let mut guard = CAMPAIGN.lock().unwrap_or_else(|poison| poison.into_inner());
    if guard.is_none() && INITIALIZED.load(Ordering::SeqCst) {
        // A process judged to supervise runs inputs after all.
        drop(guard);
        start(Role::Fuzz);
        guard = CAMPAIGN.lock().unwrap_or_else(|poison| poison.into_inner());
    }
    let Some(campaign) = guard.as_mut() else {
        eprintln!(
            "mcpfuzz: fuzz_one was called before init; the fuzz target must call \
             mcpfuzz::campaign::init() in its init block"
        );
        std::process::exit(2);
    };
    campaign.fuzz_one(data)
}

/// Ignores SIGPIPE so that writing to a dead target is an error, not the fuzzer's death.
pub fn ignore_sigpipe() {
    use nix::sys::signal::{signal, SigHandler, Signal};
    // SAFETY: installing SIG_IGN has no handler code to be unsafe in.
    unsafe {
        let _ = signal(Signal::SIGPIPE, SigHandler::SigIgn);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oracle::ErrorClass;
    use crate::session::Timing;

    fn timing(label: &str, outcome: Outcome) -> Timing {
        Timing {
            label: label.to_string(),
            latency: Duration::ZERO,
            answered_at: Instant::now(),
            outcome,
        }
    }

    #[test]
    fn tools_are_tallied_by_how_their_calls_were_answered() {
        let mut summary = Summary::default();
        for name in ["a", "b", "c"] {
            summary.tools.insert(name.to_string(), ToolTally::default());
        }
        summary.tally(&[
            timing("tools/call:a", Outcome::Result),
            timing("tools/call:b", Outcome::ToolError),
            timing("tools/call:b", Outcome::Error(ErrorClass::InvalidParams)),
            timing("tools/call:c", Outcome::NoReply),
            timing("tools/call:unknown", Outcome::Result),
            timing("ping", Outcome::Result),
        ]);
        assert_eq!(
            summary.tools["a"],
            ToolTally {
                answered: 1,
                succeeded: 1
            }
        );
        assert_eq!(
            summary.tools["b"],
            ToolTally {
                answered: 2,
                succeeded: 0
            }
        );
        assert_eq!(summary.tools["c"], ToolTally::default());
        assert_eq!(summary.tools.len(), 3);
        assert_eq!(
            summary.tools_line(),
            "mcpfuzz: tools fuzzed: 2 of 3, 1 with a result (never answered: c)"
        );
    }
}
