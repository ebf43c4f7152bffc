//! The MCP client side of one target process: the handshake once per child, discovery into
//! a [`Catalog`], and running transcripts with a barrier `ping` at the end of each, so that
//! late deaths and late replies show up within the script that caused them.
//!
//! Every line sent and received goes through the protocol [`Tracker`]; deaths and
//! deadlines become crash and hang findings here.

mod handshake;
pub mod replies;

pub use handshake::StartError;

use crate::catalog::Catalog;
use crate::config::{TargetSpec, Timeouts};
use crate::feedback::{Event, Features};
use crate::finding::Finding;
use crate::oracle::{self, CrashContext, Injection, Message, Received, Tracker};
use crate::sandbox::Cell;
use crate::target::{Child, Output, Recv, SendError, SpawnOptions};
use crate::transcript::{Item, ReplyPolicy};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The first id of the session's own requests (handshake, discovery, barrier pings); the
/// grammar never uses ids in `[OWN_ID_BASE, 2 * OWN_ID_BASE)`.
pub const OWN_ID_BASE: i64 = 1_000_000_000;

/// Which way a logged line went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Written to the target's stdin.
    Sent,
    /// Read from the target's stdout.
    Received,
}

/// What one [`Session::run`] observed.
#[derive(Debug, Default)]
pub struct Report {
    /// Candidate findings, unconfirmed.
    pub findings: Vec<Finding>,
    /// Protocol-state features for libFuzzer.
    pub features: Features,
    /// Whether the target is still usable for the next script.
    pub alive: bool,
    /// Replies received.
    pub replies: usize,
    /// How each reply to a request of the script came, in order.
    pub timings: Vec<Timing>,
}

/// How one request of a script was answered.
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// The request's label.
    pub label: String,
    /// From sending it to its reply.
    pub latency: Duration,
    /// When the reply arrived.
    pub answered_at: Instant,
    /// How it was answered.
    pub outcome: crate::oracle::Outcome,
}

/// One target process after a successful handshake.
pub struct Session {
    child: Child,
    tracker: Tracker,
    catalog: Catalog,
    policy: ReplyPolicy,
    /// A request of the server's that this script left without a reply of its id (the
    /// policy was silence, a wrong id or a broken line): the server may wait on it.
    owes_server: bool,
    /// `finish` closed stdin: nothing more is sent.
    closing: bool,
    transcript: Vec<Item>,
    next_own_id: i64,
    partial: Vec<u8>,
    timeouts: Timeouts,
    last_label: Option<String>,
    sandbox_root: PathBuf,
    startup_findings: Vec<Finding>,
    log: Option<Vec<(Direction, Vec<u8>)>>,
    alive: bool,
    /// The canary cell around the target's root, when it runs in one.
    cell: Option<Cell>,
    injection: Injection,
    /// The target's processes, whose CPU time each script is charged, refreshed every
    /// [`CPU_PIDS_REFRESH`] scripts; and the scripts run.
    cpu_pids: Vec<i32>,
    scripts: u64,
    /// Harvests tokens for the grammar from the replies.
    reply_tokens: crate::grammar::tokens::ReplyTokens,
}

/// Scripts between two listings of the target's processes for the CPU oracle.
const CPU_PIDS_REFRESH: u64 = 64;

impl Session {
    /// Spawns the target, performs the handshake and discovery.
    ///
    /// Problems that make fuzzing pointless (the target does not start, exits, or never
    /// answers `initialize`) are errors; protocol findings seen on the way are kept and
    /// handed out by [`Session::take_startup_findings`].
    pub fn start(
        spec: &TargetSpec,
        options: &SpawnOptions,
        log: bool,
    ) -> Result<Session, StartError> {
        let child = Child::spawn(spec, options).map_err(StartError::Spawn)?;
        let mut session = Session {
            child,
            tracker: Tracker::new(),
            catalog: Catalog::default(),
            policy: ReplyPolicy::Valid,
            owes_server: false,
            closing: false,
            transcript: Vec::new(),
            next_own_id: OWN_ID_BASE,
            partial: Vec::new(),
            timeouts: spec.timeouts.clone(),
            last_label: None,
            sandbox_root: options.sandbox.clone().unwrap_or_else(std::env::temp_dir),
            startup_findings: Vec::new(),
            log: log.then(Vec::new),
            alive: true,
            cell: None,
            injection: Injection::default(),
            cpu_pids: Vec::new(),
            scripts: 0,
            reply_tokens: Default::default(),
        };
        session.handshake()?;
        // What discovery found is the grammar's first source of tokens; replies add more.
        crate::grammar::tokens::extend(session.catalog.tokens.iter().cloned());
        Ok(session)
    }

    /// Starts the target in a fresh canary cell of `sandbox` (its root is what
    /// `{sandbox}` expands to; the cell is removed with the target), as every fuzzing
    /// and replay child is started.
    pub fn start_in_sandbox(
        spec: &TargetSpec,
        sandbox: &crate::sandbox::Sandbox,
        protections: crate::target::Protections,
        log: bool,
    ) -> Result<Session, StartError> {
        Session::start_in_sandbox_with(spec, sandbox, protections, log, Vec::new())
    }

    /// [`Session::start_in_sandbox`] with changes to the target's environment (a coverage
    /// bridge's).
    pub fn start_in_sandbox_with(
        spec: &TargetSpec,
        sandbox: &crate::sandbox::Sandbox,
        protections: crate::target::Protections,
        log: bool,
        env: Vec<crate::coverage::EnvEdit>,
    ) -> Result<Session, StartError> {
        let cell = sandbox.fresh_cell().map_err(|source| {
            StartError::Spawn(crate::target::SpawnError {
                command: spec.command.clone(),
                source,
            })
        })?;
        let options = SpawnOptions {
            remove_on_drop: Some(cell.dir().to_owned()),
            sandbox: Some(cell.root().to_owned()),
            protections,
            writable: Some(cell.dir().to_owned()),
            env,
        };
        let mut session = Session::start(spec, &options, log)?;
        session.injection = Injection::new(cell.canaries().to_vec());
        session.cell = Some(cell);
        Ok(session)
    }

    /// The target's processes, as last listed for the CPU oracle (refreshed every few
    /// scripts).
    pub fn pids(&self) -> &[i32] {
        &self.cpu_pids
    }

    /// What discovery found.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Protocol findings from the handshake and discovery (reproduced by any replay).
    pub fn take_startup_findings(&mut self) -> Vec<Finding> {
        std::mem::take(&mut self.startup_findings)
    }

    /// Everything sent since the handshake.
    pub fn transcript(&self) -> &[Item] {
        &self.transcript
    }

    /// The lines exchanged so far, when the session was started with logging.
    pub fn log(&self) -> &[(Direction, Vec<u8>)] {
        self.log.as_deref().unwrap_or(&[])
    }

    /// The target's process id.
    pub fn pid(&self) -> u32 {
        self.child.pid()
    }

    /// The target's resource use now.
    pub fn sample(&self) -> crate::target::Sample {
        self.child.sample()
    }

    /// Whether the target is still usable.
    pub fn is_alive(&self) -> bool {
        self.alive
    }

    /// Sends `items`, then a barrier `ping`, and waits for every owed reply or its
    /// deadline. A death or a hang ends the run early with `alive == false`.
    pub fn run(&mut self, items: &[Item]) -> Report {
        let mut report = Report {
            alive: true,
            ..Report::default()
        };
        if self.scripts.is_multiple_of(CPU_PIDS_REFRESH) {
            self.cpu_pids = crate::target::group_pids(self.child.pid() as i32);
        }
        self.scripts += 1;
        self.owes_server = false;
        let cpu_before = crate::target::pids_cpu_time(&self.cpu_pids);
        let mut previous = None;
        for item in items {
            if !self.alive {
                break;
            }
            self.transcript.push(item.clone());
            match item {
                Item::Policy { reply_policy } => self.policy = *reply_policy,
                Item::Frame(frame) => {
                    // Payloads name sandbox paths by placeholder; this child's cell fills
                    // them in, so a reproducer replays into its own fresh cell.
                    match self.cell.as_ref().and_then(|cell| cell.expand(&frame.0)) {
                        Some(expanded) => self.send_bytes(&expanded, &mut report),
                        None => self.send_bytes(&frame.0, &mut report),
                    }
                    self.drain_ready(&mut report, &mut previous);
                }
            }
        }
        if self.alive && !self.partial.is_empty() {
            // A frame without a newline would swallow the barrier; end its line first.
            self.send_bytes(b"\n", &mut report);
        }
        if self.alive {
            let barrier = self.next_id();
            let line = crate::transcript::Frame::json_line(
                &json!({"jsonrpc": "2.0", "id": barrier, "method": "ping"}),
            );
            self.send_bytes(&line.0, &mut report);
        }
        self.wait_for_replies(&mut report, &mut previous);
        if self.alive {
            report.findings.extend(self.tracker.end_of_script());
            let used = crate::target::pids_cpu_time(&self.cpu_pids).saturating_sub(cpu_before);
            if used >= Duration::from_millis(self.timeouts.request_cpu_ms) {
                report.findings.push(self.cpu_finding(&report, used));
            }
        }
        self.scan_cell(&mut report);
        report.features.reply_count(report.replies);
        for finding in &report.findings {
            report.features.event(Event::Finding, &finding.signature);
        }
        report.alive = self.alive;
        report
    }

    /// Closes stdin and waits for the target to exit: a healthy server exits 0 on end of
    /// input. Returns the findings that this produces (a non-zero exit is a crash).
    pub fn finish(mut self) -> Vec<Finding> {
        let mut report = Report::default();
        if !self.alive {
            return report.findings;
        }
        self.closing = true;
        self.child.close_stdin();
        let deadline = Instant::now() + Duration::from_millis(self.timeouts.exit_ms);
        let mut previous = None;
        loop {
            match self.child.recv(deadline) {
                Recv::Output(Output::Eof, _) => {
                    // Nothing more can be answered now: judge what was left optional.
                    report.findings.extend(self.tracker.end_of_input());
                    break;
                }
                Recv::Output(output, at) => {
                    self.handle_output(output, at, &mut report, &mut previous)
                }
                Recv::Timeout => break,
            }
        }
        match self.child.wait_exit(deadline) {
            Some(oracle::ExitStatus::Code(0)) | None => {}
            Some(status) => {
                let stderr = self.child.stderr_tail_settled(Duration::from_millis(200));
                report.findings.push(oracle::crash_finding(
                    status,
                    &stderr,
                    CrashContext::OnEndOfInput,
                    self.last_label.as_deref(),
                ));
            }
        }
        self.scan_cell(&mut report);
        self.alive = false;
        report.findings
    }

    /// The finding for a script that burned `used` CPU and was answered: it belongs to
    /// the request that took longest to serve, from when the target could start on it
    /// (it was sent, and the reply before it was out) to its reply. Latency alone would
    /// blame whatever queued behind the slow request.
    fn cpu_finding(&self, report: &Report, used: Duration) -> Finding {
        let mut previous: Option<Instant> = None;
        let mut slowest: Option<(&Timing, Duration)> = None;
        for timing in &report.timings {
            let sent_at = timing.answered_at.checked_sub(timing.latency);
            let start = match (sent_at, previous) {
                (Some(sent), Some(before)) => sent.max(before),
                (Some(sent), None) => sent,
                (None, before) => before.unwrap_or(timing.answered_at),
            };
            let service = timing.answered_at.saturating_duration_since(start);
            if slowest.is_none_or(|(_, longest)| service > longest) {
                slowest = Some((timing, service));
            }
            previous = Some(timing.answered_at);
        }
        let slowest = slowest.map(|(timing, _)| timing);
        let label = slowest
            .map(|timing| timing.label.as_str())
            .or(self.last_label.as_deref())
            .unwrap_or("-");
        let latency_ms = slowest.map_or(0, |timing| timing.latency.as_millis() as u64);
        Finding::new(
            crate::Kind::Cpu,
            label,
            crate::Severity::Medium,
            format!(
                "{label} burned {:.2} s of CPU before its reply (limit {:.2} s)",
                used.as_secs_f64(),
                self.timeouts.request_cpu_ms as f64 / 1e3
            ),
            json!({
                "label": label,
                "cpu_ms": used.as_millis() as u64,
                "limit_ms": self.timeouts.request_cpu_ms,
                "latency_ms": latency_ms,
            }),
        )
    }

    /// Judges what changed in the cell outside the root since the last scan.
    fn scan_cell(&mut self, report: &mut Report) {
        if let Some(cell) = &mut self.cell {
            let changes = cell.scan();
            if !changes.is_empty() {
                report.findings.extend(self.injection.on_changes(&changes));
            }
        }
    }

    fn next_id(&mut self) -> i64 {
        self.next_own_id += 1;
        self.next_own_id
    }

    /// Writes bytes and tells the tracker about every line they complete.
    fn send_bytes(&mut self, bytes: &[u8], report: &mut Report) {
        // After `finish` closed stdin, a request the server still sends goes unanswered:
        // the pipe was closed by us, which is no death of the target's.
        if self.closing {
            return;
        }
        let deadline = Instant::now() + Duration::from_millis(self.timeouts.request_ms);
        let now = Instant::now();
        let mut rest = bytes;
        while let Some(end) = rest.iter().position(|&b| b == b'\n') {
            self.partial.extend_from_slice(&rest[..end]);
            let line = std::mem::take(&mut self.partial);
            self.tracker.on_sent(&line, now);
            self.injection.on_sent(&line, &self.tracker);
            if let Some(label) = self.tracker.last_label() {
                if self.last_label.as_deref() != Some(label) {
                    self.last_label = Some(label.to_owned());
                }
            }
            if let Some(log) = &mut self.log {
                log.push((Direction::Sent, line));
            }
            rest = &rest[end + 1..];
        }
        self.partial.extend_from_slice(rest);
        match self.child.send(bytes, deadline) {
            Ok(()) => {}
            Err(SendError::Closed) => self.died(report, None),
            Err(SendError::Timeout) => self.hung(report),
            Err(SendError::Io(error)) => {
                log::warn!("writing to the target failed: {error}");
                self.died(report, None);
            }
        }
    }

    /// Handles whatever output is already waiting, without blocking.
    fn drain_ready(&mut self, report: &mut Report, previous: &mut Option<u8>) {
        while self.alive {
            match self.child.recv(Instant::now()) {
                Recv::Timeout => return,
                Recv::Output(Output::Eof, _) => self.died(report, None),
                Recv::Output(output, at) => self.handle_output(output, at, report, previous),
            }
        }
    }

    /// Waits until nothing required is owed, or the earliest deadline passes.
    fn wait_for_replies(&mut self, report: &mut Report, previous: &mut Option<u8>) {
        let request_timeout = Duration::from_millis(self.timeouts.request_ms);
        while self.alive {
            let Some(earliest) = self.tracker.earliest_pending_at() else {
                return;
            };
            let deadline = earliest + request_timeout;
            match self.child.recv(deadline) {
                Recv::Output(Output::Eof, _) => self.died(report, None),
                Recv::Output(output, at) => self.handle_output(output, at, report, previous),
                Recv::Timeout => self.hung(report),
            }
        }
    }

    fn handle_output(
        &mut self,
        output: Output,
        at: Instant,
        report: &mut Report,
        previous: &mut Option<u8>,
    ) {
        let received = match output {
            Output::Line(line) => {
                let mut received = self.tracker.on_received(&line, at);
                let answered: Vec<(&Value, &str)> = received
                    .messages
                    .iter()
                    .filter_map(|message| match message {
                        Message::Reply(reply) => {
                            reply.id.as_ref().map(|id| (id, reply.label.as_str()))
                        }
                        _ => None,
                    })
                    .collect();
                let injections = self.injection.on_received(&line, &answered);
                received.findings.extend(injections);
                if let Some(log) = &mut self.log {
                    log.push((Direction::Received, line));
                }
                received
            }
            Output::Overlong { prefix, len } => self.tracker.on_overlong(&prefix, len, at),
            Output::Eof => return self.died(report, None),
        };
        self.absorb(received, at, report, previous);
    }

    /// Acts on what the tracker made of one line: features, answers to server requests,
    /// findings.
    fn absorb(
        &mut self,
        received: Received,
        at: Instant,
        report: &mut Report,
        previous: &mut Option<u8>,
    ) {
        for message in received.messages {
            match message {
                Message::Reply(reply) => {
                    report.replies += 1;
                    if !reply.id.as_ref().is_some_and(is_own_id) {
                        report.timings.push(Timing {
                            label: reply.label.clone(),
                            latency: reply.latency,
                            answered_at: at,
                            outcome: reply.outcome,
                        });
                        let transcript = &self.transcript;
                        self.reply_tokens.on_reply(
                            reply.error.as_ref(),
                            reply.result.as_ref(),
                            &mut |needle| sent_recently(transcript, needle),
                        );
                    }
                    let outcome = reply.outcome.index();
                    report.features.outcome(&reply.label, outcome, *previous);
                    *previous = Some(outcome);
                }
                Message::ServerRequest { id, method, .. } => {
                    report.features.event(Event::ServerRequest, &method);
                    if matches!(
                        self.policy,
                        ReplyPolicy::NoReply | ReplyPolicy::WrongId | ReplyPolicy::Malformed
                    ) {
                        self.owes_server = true;
                    }
                    if let Some(answer) =
                        replies::answer(self.policy, &id, &method, &self.sandbox_root)
                    {
                        self.send_bytes(&answer, report);
                    }
                }
                Message::Notification { method, .. } => {
                    report.features.event(Event::Notification, &method)
                }
                Message::Other => {}
            }
        }
        report.findings.extend(received.findings);
    }

    /// The target closed stdout or stdin: collect its exit status and stderr as a crash.
    fn died(&mut self, report: &mut Report, context: Option<CrashContext>) {
        if !self.alive {
            return;
        }
        self.alive = false;
        let exit_deadline = Instant::now() + Duration::from_millis(self.timeouts.exit_ms.max(200));
        let status = match self.child.wait_exit(exit_deadline) {
            Some(status) => status,
            None => {
                // Stdout closed but the process lingers: end it, and report what we saw.
                self.child.kill();
                self.child
                    .try_wait()
                    .unwrap_or(oracle::ExitStatus::Signal(9))
            }
        };
        let context = context.unwrap_or_else(|| {
            if self.tracker.pending().iter().any(|p| !is_own_id(&p.id)) {
                CrashContext::DuringScript
            } else {
                CrashContext::AtBarrier
            }
        });
        let stderr = self.child.stderr_tail_settled(Duration::from_millis(200));
        log::debug!("target died: {status:?} ({context:?})");
        report.findings.push(oracle::crash_finding(
            status,
            &stderr,
            context,
            self.last_label.as_deref(),
        ));
        report
            .features
            .event(Event::Crash, self.last_label.as_deref().unwrap_or("-"));
    }

    /// A deadline passed: tell busy from idle by the target's CPU use, then kill it.
    fn hung(&mut self, report: &mut Report) {
        if !self.alive {
            return;
        }
        self.alive = false;
        // Exited in the meantime? Then it is a crash, not a hang.
        if self.child.try_wait().is_some() {
            self.alive = true;
            return self.died(report, None);
        }
        // The client (we) left a request of the server's unanswered: a server that waits
        // for the answer (the SDKs do, for a minute) is right to. No finding; a fresh
        // target goes on.
        if self.owes_server {
            report.features.event(Event::Hang, "awaiting-client");
            self.child.kill();
            return;
        }
        // CPU time comes in 10 ms ticks. A spinning target gets 20 ticks of a 200 ms window
        // on an idle machine and still several on a loaded one; a target that dropped the
        // reply and waits for input gets none.
        let window = Duration::from_millis(200);
        let before = self.child.sample().cpu;
        std::thread::sleep(window);
        let cpu_used = self.child.sample().cpu.saturating_sub(before);
        let busy = cpu_used * 5 >= window;
        let pending = self.tracker.pending();
        // The hang belongs to the earliest request without a reply; the barrier only when
        // nothing else is owed.
        let culprit = pending
            .iter()
            .filter(|p| !is_own_id(&p.id))
            .min_by_key(|p| p.sent_at)
            .or_else(|| pending.iter().min_by_key(|p| p.sent_at));
        let (label, waited, line) = match culprit {
            Some(p) => (p.label.clone(), p.sent_at.elapsed(), p.line.clone()),
            None => (
                self.last_label.clone().unwrap_or_else(|| "-".into()),
                Duration::from_millis(self.timeouts.request_ms),
                Vec::new(),
            ),
        };
        let stderr = self.child.stderr_tail();
        let mut finding = oracle::hang_finding(&label, busy, waited, cpu_used, &line);
        if let Value::Object(map) = &mut finding.evidence {
            map.insert("stderr_tail".into(), json!(tail_chars(&stderr, 2048)));
        }
        report.findings.push(finding);
        report.features.event(Event::Hang, &label);
        self.child.kill();
    }
}

fn is_own_id(id: &Value) -> bool {
    id.as_i64()
        .is_some_and(|id| (OWN_ID_BASE..2 * OWN_ID_BASE).contains(&id))
}

/// Whether `needle` occurs in one of the last frames sent (the first 64 KiB of each), so
/// that text the target merely reflects is not harvested as a token.
fn sent_recently(transcript: &[Item], needle: &[u8]) -> bool {
    transcript
        .iter()
        .rev()
        .filter_map(Item::as_frame)
        .take(32)
        .any(|frame| {
            memchr::memmem::find(&frame.0[..frame.0.len().min(64 << 10)], needle).is_some()
        })
}

fn tail_chars(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}
