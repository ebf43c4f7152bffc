//! Turning candidate findings into reproducers: replay in a fresh target to confirm,
//! minimize at the message level, deduplicate by signature, save atomically.

use crate::config::TargetSpec;
use crate::finding::{Finding, Kind};
use crate::minimize::{self, Budget};
use crate::oracle::resources::Strictness;
use crate::repro::{self, Found, Reproducer};
use crate::sandbox::Sandbox;
use crate::session::{Direction, Session, StartError};
use crate::target::{group_usage, Protections, Usage};
use crate::transcript::Item;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// How often a signature may fail to reproduce before it is no longer retried.
pub const MAX_FLAKY_ATTEMPTS: u32 = 3;

/// What one replay in a fresh target observed.
#[derive(Debug, Default)]
pub struct Replayed {
    /// Every finding, from the handshake to the exit on end of input.
    pub findings: Vec<Finding>,
    /// The lines exchanged, when asked for.
    pub log: Vec<(Direction, Vec<u8>)>,
    /// `(items sent, usage)` of the target's process group after every script, when the
    /// replay was sampled.
    pub samples: Vec<(u64, Usage)>,
}

impl Replayed {
    /// Whether a finding with `signature` was seen.
    pub fn has(&self, signature: &str) -> bool {
        self.findings
            .iter()
            .any(|finding| finding.signature == signature)
    }
}

/// Runs `items` `repeat` times in a fresh target, then closes its stdin.
pub fn replay(
    spec: &TargetSpec,
    sandbox: &Sandbox,
    protections: Protections,
    items: &[Item],
    repeat: u32,
    keep_log: bool,
) -> Result<Replayed, StartError> {
    replay_with(spec, sandbox, protections, items, repeat, keep_log, false)
}

/// Replays a reproducer as `mcpfuzz replay` does ([`replay_for`] its finding's kind).
pub fn replay_reproducer(
    spec: &TargetSpec,
    sandbox: &Sandbox,
    protections: Protections,
    reproducer: &crate::repro::Reproducer,
    keep_log: bool,
) -> Result<Replayed, StartError> {
    replay_for(
        reproducer.finding.kind,
        spec,
        sandbox,
        protections,
        &reproducer.transcript,
        reproducer.repeat,
        keep_log,
    )
}

/// How much longer than the run that showed a leak its confirming replay is.
pub const LEAK_CONFIRM_FACTOR: u32 = 3;

/// The fewest items a confirming replay of one input sends. V8 grows its heap for a long
/// while before its collections keep pace: measured on `@modelcontextprotocol/server-memory`,
/// one input of 13 items repeated still grew RSS steadily over 6,000 items (+37 MiB) and
/// was flat from about 100 MiB on over 24,000.
pub const LEAK_CONFIRM_MIN_ITEMS: usize = 20_000;

/// Items per script of a sampled replay: the most steps one fuzz input has.
const SAMPLED_SCRIPT: usize = crate::grammar::MAX_STEPS;

/// Like [`replay`], the way a finding of `kind` is seen again: for a leak (whose evidence
/// is a curve) the items go in scripts of a dozen, the target's process group is sampled
/// after each, and leaks in the samples are findings too (`leak/<resource>`, see
/// [`crate::oracle::resources`]); any other kind replays plainly.
pub fn replay_for(
    kind: Kind,
    spec: &TargetSpec,
    sandbox: &Sandbox,
    protections: Protections,
    items: &[Item],
    repeat: u32,
    keep_log: bool,
) -> Result<Replayed, StartError> {
    let sampled = kind == Kind::Leak;
    replay_with(spec, sandbox, protections, items, repeat, keep_log, sampled)
}

fn replay_with(
    spec: &TargetSpec,
    sandbox: &Sandbox,
    protections: Protections,
    items: &[Item],
    repeat: u32,
    keep_log: bool,
    sampled: bool,
) -> Result<Replayed, StartError> {
    // A leak's replay runs a Node target with full collections (see
    // `coverage::full_gc_env`), so that only what stays live can grow.
    let env = if sampled {
        crate::coverage::full_gc_env(&spec.command, sandbox.run_dir()).unwrap_or_default()
    } else {
        Vec::new()
    };
    let mut session = Session::start_in_sandbox_with(spec, sandbox, protections, keep_log, env)?;
    let mut replayed = Replayed {
        findings: session.take_startup_findings(),
        log: Vec::new(),
        samples: Vec::new(),
    };
    let pgid = session.pid() as i32;
    let scripts: Vec<&[Item]> = if sampled {
        replayed.samples.push((0, group_usage(pgid)));
        items.chunks(SAMPLED_SCRIPT).collect()
    } else {
        vec![items]
    };
    let mut sent = 0;
    'repeats: for _ in 0..repeat.max(1) {
        for script in &scripts {
            let report = session.run(script);
            replayed.findings.extend(report.findings);
            if !report.alive {
                break 'repeats;
            }
            if sampled {
                sent += script.len() as u64;
                replayed.samples.push((sent, group_usage(pgid)));
            }
        }
    }
    if sampled {
        // Confirmation asks for the same sustained trend, at half the size that
        // detection asked for: two runs of one workload never allocate alike.
        replayed
            .findings
            .extend(crate::oracle::resources::leak_findings(
                &replayed.samples,
                Strictness::Confirming,
            ));
    }
    if keep_log {
        replayed.log = session.log().to_vec();
    }
    replayed.findings.extend(session.finish());
    Ok(replayed)
}

/// Counters for the status line.
#[derive(Clone, Copy, Debug, Default)]
pub struct Stats {
    /// Findings confirmed and saved.
    pub saved: usize,
    /// Candidates whose signature was already known.
    pub duplicates: usize,
    /// Candidates that did not reproduce in a fresh target.
    pub flaky: usize,
}

/// A confirmed finding and where it was written.
#[derive(Debug)]
pub struct Saved {
    /// The reproducer as written.
    pub reproducer: Reproducer,
    /// Its path.
    pub path: PathBuf,
}

/// What triage made of one candidate.
#[derive(Debug)]
pub enum Verdict {
    /// New, confirmed, minimized and written.
    Saved(Box<Saved>),
    /// Confirmed, but the reproducer could not be written (it was printed instead).
    Unsaved,
    /// Its signature is already saved; `first` is true the first time this run sees it.
    Known {
        /// Whether this run had not seen it before.
        first: bool,
    },
    /// It did not reproduce in a fresh target; `attempt` of [`MAX_FLAKY_ATTEMPTS`].
    Flaky {
        /// How many times this signature failed to reproduce so far.
        attempt: u32,
    },
    /// It failed to reproduce too often to be tried again.
    GaveUp,
}

/// Context of the run, recorded in each reproducer.
#[derive(Clone, Copy, Debug)]
pub struct RunContext {
    /// Inputs executed so far.
    pub executions: u64,
    /// When the run started.
    pub started: Instant,
}

/// Confirms, minimizes, deduplicates and saves findings.
pub struct Triage {
    spec: TargetSpec,
    protections: Protections,
    crashes_dir: PathBuf,
    known: HashSet<String>,
    seen_this_run: HashSet<String>,
    flaky_attempts: HashMap<String, u32>,
    minimize_time: Duration,
    /// Counters.
    pub stats: Stats,
}

impl Triage {
    /// A triage that writes into `crashes_dir` and skips signatures already saved there.
    pub fn new(spec: TargetSpec, protections: Protections, crashes_dir: PathBuf) -> Triage {
        let known = repro::known_signatures(&crashes_dir);
        let minimize_time = std::env::var("MCPFUZZ_MINIMIZE_SECS")
            .ok()
            .and_then(|text| text.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(Duration::from_secs(10));
        Triage {
            spec,
            protections,
            crashes_dir,
            known,
            seen_this_run: HashSet::new(),
            flaky_attempts: HashMap::new(),
            minimize_time,
            stats: Stats::default(),
        }
    }

    /// Whether a finding with this signature was already saved (by this run or before).
    pub fn is_known(&self, signature: &str) -> bool {
        self.known.contains(signature)
    }

    /// Whether another process fuzzing into the same directory (a job of libFuzzer's
    /// fork mode, a `-jobs` worker) saved this finding since the triage started.
    fn saved_meanwhile(&self, candidate: &Finding) -> bool {
        let path = self.crashes_dir.join(repro::file_name(candidate));
        path.exists()
            && repro::load(&path).is_ok_and(|saved| saved.finding.signature == candidate.signature)
    }

    /// Handles one candidate: `script` is the input that showed it, `since_spawn` all that
    /// the target received since its handshake (a stateful finding needs it).
    pub fn consider(
        &mut self,
        sandbox: &Sandbox,
        candidate: &Finding,
        script: &[Item],
        since_spawn: &[Item],
        context: RunContext,
    ) -> Verdict {
        let signature = &candidate.signature;
        if !self.known.contains(signature) && self.saved_meanwhile(candidate) {
            self.known.insert(signature.clone());
        }
        if self.known.contains(signature) {
            self.stats.duplicates += 1;
            return Verdict::Known {
                first: self.seen_this_run.insert(signature.clone()),
            };
        }
        let attempts = self.flaky_attempts.entry(signature.clone()).or_insert(0);
        if *attempts >= MAX_FLAKY_ATTEMPTS {
            return Verdict::GaveUp;
        }
        let leak = candidate.kind == Kind::Leak;
        let reproduces = |items: &[Item], repeat: u32| {
            let replayed = replay_for(
                candidate.kind,
                &self.spec,
                sandbox,
                self.protections,
                items,
                repeat,
                false,
            );
            replayed
                .map(|replayed| replayed.has(signature))
                .unwrap_or(false)
        };
        // A leak needs volume: first the input that showed it, repeated as often as it
        // would take to send [`LEAK_CONFIRM_FACTOR`] times as much as the child got (and
        // at least [`LEAK_CONFIRM_MIN_ITEMS`]), so
        // that a heap which grows to a size and stays there (V8, CPython's arenas) shows
        // its plateau; then everything since the spawn, once (a cache keyed by the
        // arguments grows only with new ones, so repeating them would show nothing). The
        // confirmation also asks the second half of the replay to grow (see
        // `oracle::resources`).
        let volume = if leak && !script.is_empty() {
            let sent = since_spawn.len().max(script.len()).max(1);
            let items = (sent * LEAK_CONFIRM_FACTOR as usize).max(LEAK_CONFIRM_MIN_ITEMS);
            items.div_ceil(script.len()) as u32
        } else {
            1
        };
        let (base, repeat): (Vec<Item>, u32) = if reproduces(script, volume) {
            (script.to_vec(), volume)
        } else if since_spawn.len() > script.len() && reproduces(since_spawn, 1) {
            (since_spawn.to_vec(), 1)
        } else {
            let attempt = self
                .flaky_attempts
                .get_mut(signature)
                .expect("inserted above");
            *attempt += 1;
            self.stats.flaky += 1;
            return Verdict::Flaky { attempt: *attempt };
        };
        let budget = Budget {
            max_attempts: 200,
            deadline: Instant::now() + self.minimize_time,
        };
        // Every candidate of a leak would replay its whole volume: leaks keep their base.
        let (items, minimized_ok) = if leak {
            (base.clone(), false)
        } else {
            let mut still_fails = |items: &[Item]| reproduces(items, repeat);
            let minimized = minimize::minimize(&base, &budget, &mut still_fails);
            if minimized.confirmed {
                (minimized.items, true)
            } else {
                (base.clone(), false)
            }
        };
        let reproducer = Reproducer {
            format: repro::FORMAT.into(),
            version: repro::VERSION,
            finding: candidate.clone(),
            target: self.spec.clone(),
            transcript: items,
            repeat,
            found: Found {
                mcpfuzz_version: env!("CARGO_PKG_VERSION").into(),
                unix_time: std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or(0),
                executions: context.executions,
                elapsed_secs: context.started.elapsed().as_secs_f64(),
                original_items: base.len(),
                minimized: minimized_ok,
                confirmations: 1 + u32::from(minimized_ok),
            },
        };
        match repro::save(&self.crashes_dir, &reproducer) {
            Ok(path) => {
                self.known.insert(signature.clone());
                self.seen_this_run.insert(signature.clone());
                self.stats.saved += 1;
                Verdict::Saved(Box::new(Saved { reproducer, path }))
            }
            Err(error) => {
                // Never lose a confirmed finding silently: print it whole instead.
                crate::say!(
                    "mcpfuzz: cannot write the reproducer into {}: {error}; here it is:\n{}",
                    self.crashes_dir.display(),
                    serde_json::to_string_pretty(&reproducer).unwrap_or_default()
                );
                self.known.insert(signature.clone());
                Verdict::Unsaved
            }
        }
    }
}
