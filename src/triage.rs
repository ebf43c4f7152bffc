//! Turning candidate findings into reproducers: replay in a fresh target to confirm,
//! minimize at the message level, deduplicate by signature, save atomically.

use crate::config::TargetSpec;
use crate::finding::Finding;
use crate::minimize::{self, Budget};
use crate::repro::{self, Found, Reproducer};
use crate::sandbox::Sandbox;
use crate::session::{Direction, Session, StartError};
use crate::target::Protections;
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
    let mut session = Session::start_in_sandbox(spec, sandbox, protections, keep_log)?;
    let mut replayed = Replayed {
        findings: session.take_startup_findings(),
        log: Vec::new(),
    };
    for _ in 0..repeat.max(1) {
        let report = session.run(items);
        replayed.findings.extend(report.findings);
        if !report.alive {
            break;
        }
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
        let reproduces = |items: &[Item]| {
            replay(&self.spec, sandbox, self.protections, items, 1, false)
                .map(|replayed| replayed.has(signature))
                .unwrap_or(false)
        };
        let base: Vec<Item> = if reproduces(script) {
            script.to_vec()
        } else if since_spawn.len() > script.len() && reproduces(since_spawn) {
            since_spawn.to_vec()
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
        let mut still_fails = |items: &[Item]| reproduces(items);
        let minimized = minimize::minimize(&base, &budget, &mut still_fails);
        let (items, minimized_ok) = if minimized.confirmed {
            (minimized.items, true)
        } else {
            (base.clone(), false)
        };
        let reproducer = Reproducer {
            format: repro::FORMAT.into(),
            version: repro::VERSION,
            finding: candidate.clone(),
            target: self.spec.clone(),
            transcript: items,
            repeat: 1,
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
                eprintln!(
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
