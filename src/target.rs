//! The target process: spawned in its own process group with rlimits and a parent-death
//! signal, fed through a non-blocking stdin with deadlines, read through a named thread
//! that splits stdout into capped lines, with a bounded stderr tail kept for evidence.
//!
//! The target starts in a scrubbed environment ([`environment`]) with HOME, TMPDIR and its
//! working directory inside its sandbox root, and with no-new-privileges set.
//!
//! Teardown kills the whole process group and reaps the child, so no zombie or orphan is
//! left behind; if the fuzzer itself dies (SIGKILL, libFuzzer's `_Exit` on timeout), the
//! kernel delivers SIGKILL to the child through `PR_SET_PDEATHSIG`.

pub mod environment;
pub mod launcher;
pub mod mounts;
mod usage;

pub use usage::{
    any_running, group_alive, group_cpu_time, group_pids, group_usage, pids_cpu_time, rss_bytes,
    Usage,
};

use crate::config::TargetSpec;
use crate::oracle::ExitStatus;
use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use std::collections::VecDeque;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::fd::AsFd;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The longest stdout line kept whole; longer lines are cut and reported.
pub const MAX_LINE: usize = 16 << 20;

/// How much of stderr is kept.
const STDERR_TAIL: usize = 64 << 10;

/// One event from the target's stdout.
#[derive(Debug)]
pub enum Output {
    /// A complete line, without its `\n`.
    Line(Vec<u8>),
    /// A line longer than [`MAX_LINE`]: its first bytes and its full length.
    Overlong {
        /// The first [`MAX_LINE`] bytes.
        prefix: Vec<u8>,
        /// The length of the whole line.
        len: usize,
    },
    /// Stdout closed (the target exited or closed it).
    Eof,
}

/// What [`Child::recv`] returns.
#[derive(Debug)]
pub enum Recv {
    /// Output arrived, stamped with when the reader thread saw it.
    Output(Output, Instant),
    /// Nothing arrived before the deadline.
    Timeout,
}

/// Why a write to the target failed.
#[derive(Debug)]
pub enum SendError {
    /// The target closed its stdin or exited.
    Closed,
    /// The target stopped reading: the pipe stayed full until the deadline.
    Timeout,
    /// Any other I/O error.
    Io(io::Error),
}

/// Why a target could not be started.
#[derive(Debug)]
pub struct SpawnError {
    /// The command that failed.
    pub command: Vec<String>,
    /// What the operating system said.
    pub source: io::Error,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let program = self.command.first().map(String::as_str).unwrap_or("");
        write!(
            f,
            "cannot start the target {:?}: {}; check that {program:?} is installed and on \
             PATH (or give its full path) in MCPFUZZ_TARGET, --target or mcpfuzz.toml",
            shell_words::join(&self.command),
            self.source
        )
    }
}

impl std::error::Error for SpawnError {}

/// Resource use of the target at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sample {
    /// Resident set size of the direct child, in bytes.
    pub rss_bytes: u64,
    /// User plus system CPU time of the whole process group.
    pub cpu: Duration,
}

/// A running target process.
pub struct Child {
    process: std::process::Child,
    pid: Pid,
    stdin: Option<ChildStdin>,
    output: Receiver<(Output, Instant)>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    exit: Option<ExitStatus>,
    scratch: Option<PathBuf>,
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child").field("pid", &self.pid).finish()
    }
}

/// Options for [`Child::spawn`] that are not part of the target spec.
#[derive(Clone, Debug, Default)]
pub struct SpawnOptions {
    /// What `{sandbox}` expands to; the directory must exist.
    pub sandbox: Option<PathBuf>,
    /// Remove this directory when the child is torn down.
    pub remove_on_drop: Option<PathBuf>,
    /// The protections to apply beyond the process group and rlimits.
    pub protections: Protections,
    /// The directory that stays writable when the rest of the file system is read-only
    /// (the sandbox cell).
    pub writable: Option<PathBuf>,
    /// Changes to the environment after the spec's own (a coverage bridge's).
    pub env: Vec<crate::coverage::EnvEdit>,
}

/// Protections that need privileges the machine may not grant; [`Protections::probe`]
/// finds out once which it does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Protections {
    /// A fresh network namespace: no network.
    pub network: bool,
    /// A private mount namespace in which everything but the sandbox cell, `/proc`,
    /// `/sys` and `/dev` is read-only.
    pub read_only_mounts: bool,
}

impl Protections {
    /// Tries each protection once in a throwaway child (failing inside the real target's
    /// `pre_exec` would fail the run) and says, one line each, which are not available.
    pub fn probe() -> Protections {
        let protections = Protections {
            network: probe(|| {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
                Ok(())
            }),
            read_only_mounts: mounts::ReadOnlyMounts::new(&[&std::env::temp_dir()])
                .map(|plan| {
                    probe(move || {
                        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
                        plan.apply_in_child()?;
                        Ok(())
                    })
                })
                .unwrap_or(false),
        };
        if !protections.network {
            crate::say!(
                "mcpfuzz: network namespaces are not available here (unshare(CLONE_NEWNET) \
                 needs root); the target keeps network access"
            );
        }
        if !protections.read_only_mounts {
            crate::say!(
                "mcpfuzz: mount namespaces are not available here (unshare(CLONE_NEWNS) needs \
                 root); the target can write wherever its user may, not only in its sandbox"
            );
        }
        protections
    }
}

/// Whether `setup` succeeds between fork and exec of a throwaway `/bin/sh -c "exit 0"`.
fn probe(setup: impl FnMut() -> io::Result<()> + Send + Sync + 'static) -> bool {
    let mut command = Command::new("/bin/sh");
    command
        .arg("-c")
        .arg("exit 0")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: every setup passed here makes only async-signal-safe system calls.
    unsafe {
        command.pre_exec(setup);
    }
    matches!(command.status(), Ok(status) if status.success())
}

impl Child {
    /// Starts the target with piped stdio in its own process group.
    pub fn spawn(spec: &TargetSpec, options: &SpawnOptions) -> Result<Child, SpawnError> {
        let sandbox = options.sandbox.clone().unwrap_or_else(std::env::temp_dir);
        let mut argv = spec.expanded_command(&sandbox);
        // The target's working directory is its sandbox root unless the spec names one;
        // relative file arguments (`build/index.js`) are then resolved where the user
        // ran the fuzzer, as they meant them.
        let cwd = match (&spec.cwd, &options.sandbox) {
            (Some(cwd), _) => Some(cwd.clone()),
            (None, Some(root)) => {
                absolutize_file_arguments(&mut argv);
                Some(root.clone())
            }
            (None, None) => None,
        };
        let mut env = environment::scrubbed(
            std::env::vars_os(),
            &[
                spec.env_passthrough.clone(),
                environment::passthrough_from_environment(),
            ]
            .concat(),
            options.sandbox.as_deref(),
        );
        // Hash seeds change dict and set order between runs; a fixed seed keeps a Python
        // target's behaviour, and so every replay, the same.
        if !env.iter().any(|(key, _)| key == "PYTHONHASHSEED") {
            env.push(("PYTHONHASHSEED".into(), "0".into()));
        }
        let spec_env: Vec<crate::coverage::EnvEdit> = spec
            .env
            .iter()
            .map(|(key, value)| {
                let value =
                    value.replace(crate::config::SANDBOX_TOKEN, &sandbox.display().to_string());
                crate::coverage::EnvEdit::Set(key.clone(), value.into())
            })
            .collect();
        crate::coverage::apply(&mut env, &spec_env);
        crate::coverage::apply(&mut env, &options.env);
        // A package runner fetches its package once, then runs it offline from a cache
        // the target may write to (see `launcher`).
        let launcher = launcher::detect(&argv, &launcher::cache_root());
        if let Some(launcher) = &launcher {
            launcher
                .prepare(&env, cwd.as_deref())
                .map_err(|why| SpawnError {
                    command: argv.clone(),
                    source: io::Error::other(why),
                })?;
            for (name, value) in launcher.env() {
                env.retain(|(key, _)| *key != name);
                env.push((name, value));
            }
        }
        let mut command = Command::new(&argv[0]);
        command
            .args(&argv[1..])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env_clear()
            .envs(env);
        if let Some(cwd) = &cwd {
            command.current_dir(cwd).env("PWD", cwd);
        }
        let limits =
            Limits::from_spec(spec, options, launcher.as_ref().map(|l| l.cache.as_path()))?;
        let parent = nix::unistd::getpid();
        // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
        // system calls (setpgid, prctl, getppid, setrlimit, unshare, mount) with paths
        // prepared before the fork; it allocates nothing.
        unsafe {
            command.pre_exec(move || limits.apply_in_child(parent));
        }
        let mut process = command.spawn().map_err(|source| SpawnError {
            command: argv.clone(),
            source,
        })?;
        let pid = Pid::from_raw(process.id() as i32);
        let stdin = process.stdin.take().expect("stdin was piped");
        set_nonblocking(&stdin);
        let stdout = process.stdout.take().expect("stdout was piped");
        let stderr_pipe = process.stderr.take().expect("stderr was piped");
        let (sender, output) = mpsc::channel();
        thread::Builder::new()
            .name(format!("target-{pid}-stdout"))
            .spawn(move || read_lines(stdout, sender))
            .expect("spawning a thread succeeds");
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr);
        thread::Builder::new()
            .name(format!("target-{pid}-stderr"))
            .spawn(move || read_tail(stderr_pipe, &tail))
            .expect("spawning a thread succeeds");
        log::debug!("spawned target pid {pid}: {}", shell_words::join(&argv));
        Ok(Child {
            process,
            pid,
            stdin: Some(stdin),
            output,
            stderr,
            exit: None,
            scratch: options.remove_on_drop.clone(),
        })
    }

    /// The child's process id (also its process group id).
    pub fn pid(&self) -> u32 {
        self.pid.as_raw() as u32
    }

    /// Writes all of `bytes` to the target's stdin, waiting at most until `deadline` for
    /// room in the pipe. Interrupted system calls are retried.
    pub fn send(&mut self, bytes: &[u8], deadline: Instant) -> Result<(), SendError> {
        let stdin = self.stdin.as_mut().ok_or(SendError::Closed)?;
        let mut written = 0;
        while written < bytes.len() {
            match stdin.write(&bytes[written..]) {
                Ok(0) => return Err(SendError::Closed),
                Ok(n) => written += n,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    let now = Instant::now();
                    if now >= deadline {
                        return Err(SendError::Timeout);
                    }
                    let wait = poll_timeout(deadline - now);
                    let mut fds = [PollFd::new(stdin.as_fd(), PollFlags::POLLOUT)];
                    match poll(&mut fds, wait) {
                        Ok(_) | Err(Errno::EINTR) => {}
                        Err(errno) => return Err(SendError::Io(errno.into())),
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::BrokenPipe => {
                    return Err(SendError::Closed)
                }
                Err(error) => return Err(SendError::Io(error)),
            }
        }
        Ok(())
    }

    /// Waits until `deadline` for the next stdout event.
    pub fn recv(&mut self, deadline: Instant) -> Recv {
        let now = Instant::now();
        let wait = deadline.saturating_duration_since(now);
        match self.output.recv_timeout(wait) {
            Ok((output, at)) => Recv::Output(output, at),
            Err(RecvTimeoutError::Timeout) => Recv::Timeout,
            // The reader thread sends Eof before it ends, so a disconnect means Eof was
            // already delivered; keep answering Eof.
            Err(RecvTimeoutError::Disconnected) => Recv::Output(Output::Eof, now),
        }
    }

    /// Closes the target's stdin: a healthy server exits 0 on end of input.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The exit status, if the child has exited (non-blocking).
    pub fn try_wait(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            if let Ok(Some(status)) = self.process.try_wait() {
                self.exit = Some(convert_status(status));
            }
        }
        self.exit
    }

    /// Waits until `deadline` for the child to exit.
    pub fn wait_exit(&mut self, deadline: Instant) -> Option<ExitStatus> {
        loop {
            if let Some(status) = self.try_wait() {
                return Some(status);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            thread::sleep((deadline - now).min(Duration::from_millis(2)));
        }
    }

    /// Kills the whole process group and reaps the child.
    pub fn kill(&mut self) {
        self.stdin = None;
        // The group may already be gone; ESRCH is the normal case then.
        let _ = killpg(self.pid, Signal::SIGKILL);
        if self.exit.is_none() {
            if let Ok(status) = self.process.wait() {
                self.exit = Some(convert_status(status));
            }
        }
        // SIGKILL is delivered asynchronously to the rest of the group; wait (briefly) until
        // it is gone so that "torn down" means no process of the target is left.
        let deadline = Instant::now() + Duration::from_secs(1);
        while group_alive(self.pid.as_raw()) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// The last bytes the target wrote to stderr, as text.
    pub fn stderr_tail(&self) -> String {
        let tail = self
            .stderr
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let (front, back) = tail.as_slices();
        let mut bytes = Vec::with_capacity(tail.len());
        bytes.extend_from_slice(front);
        bytes.extend_from_slice(back);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Waits up to `settle` for the stderr reader to catch up after an exit, then returns
    /// the tail: a dying process's last words arrive just after its stdout closes.
    pub fn stderr_tail_settled(&self, settle: Duration) -> String {
        let deadline = Instant::now() + settle;
        let mut last_len = usize::MAX;
        loop {
            let len = self.stderr.lock().map(|tail| tail.len()).unwrap_or(0);
            if (len == last_len && Arc::strong_count(&self.stderr) == 1)
                || Instant::now() >= deadline
            {
                break;
            }
            last_len = len;
            thread::sleep(Duration::from_millis(5));
        }
        self.stderr_tail()
    }

    /// RSS of the child and CPU time of its process group, from `/proc`.
    pub fn sample(&self) -> Sample {
        Sample {
            rss_bytes: rss_bytes(self.pid.as_raw()).unwrap_or(0),
            cpu: group_cpu_time(self.pid.as_raw()),
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        self.kill();
        if let Some(dir) = &self.scratch {
            // The fuzzer removes only the scratch directory it created for this child.
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Limits applied in the child between fork and exec.
#[derive(Clone)]
struct Limits {
    max_open_files: u64,
    address_space: Option<u64>,
    isolate_network: bool,
    read_only: Option<mounts::ReadOnlyMounts>,
}

impl Limits {
    fn from_spec(
        spec: &TargetSpec,
        options: &SpawnOptions,
        cache: Option<&Path>,
    ) -> Result<Limits, SpawnError> {
        let read_only = match (&options.writable, options.protections.read_only_mounts) {
            (Some(writable), true) => {
                let mut dirs = vec![writable.as_path()];
                dirs.extend(cache);
                Some(
                    mounts::ReadOnlyMounts::new(&dirs).map_err(|source| SpawnError {
                        command: spec.command.clone(),
                        source,
                    })?,
                )
            }
            _ => None,
        };
        Ok(Limits {
            max_open_files: spec.max_open_files,
            address_space: spec.memory_limit_mb.map(|mb| mb << 20),
            isolate_network: options.protections.network,
            read_only,
        })
    }

    fn apply_in_child(&self, parent: Pid) -> io::Result<()> {
        use nix::sys::resource::{setrlimit, Resource};
        nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0))?;
        nix::sys::prctl::set_pdeathsig(Signal::SIGKILL)?;
        // The parent may have died between fork and prctl; then nobody would kill us.
        if nix::unistd::getppid() != parent {
            return Err(io::Error::other(
                "the fuzzer exited while the target started",
            ));
        }
        // Nothing the target runs (a setuid helper an injection reaches) gains privileges.
        nix::sys::prctl::set_no_new_privs()?;
        setrlimit(Resource::RLIMIT_CORE, 0, 0)?;
        setrlimit(
            Resource::RLIMIT_NOFILE,
            self.max_open_files,
            self.max_open_files,
        )?;
        if let Some(bytes) = self.address_space {
            setrlimit(Resource::RLIMIT_AS, bytes, bytes)?;
        }
        if self.isolate_network {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)?;
        }
        if let Some(read_only) = &self.read_only {
            nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
            read_only.apply_in_child()?;
        }
        Ok(())
    }
}

/// Makes relative words that name existing files absolute (from the fuzzer's working
/// directory), since the target runs elsewhere. The program itself is left alone unless it
/// has a `/` (a bare name is looked up on PATH); options (`-x`, `--x=y`) are left alone.
fn absolutize_file_arguments(argv: &mut [String]) {
    for (i, word) in argv.iter_mut().enumerate() {
        let path = Path::new(word.as_str());
        if word.is_empty()
            || word.starts_with('-')
            || path.is_absolute()
            || (i == 0 && !word.contains('/'))
            || !path.exists()
        {
            continue;
        }
        if let Ok(absolute) = std::path::absolute(path) {
            *word = absolute.display().to_string();
        }
    }
}

fn set_nonblocking(stdin: &ChildStdin) {
    use nix::fcntl::{fcntl, FcntlArg, OFlag};
    if let Ok(flags) = fcntl(stdin, FcntlArg::F_GETFL) {
        let flags = OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK;
        let _ = fcntl(stdin, FcntlArg::F_SETFL(flags));
    }
}

fn poll_timeout(wait: Duration) -> PollTimeout {
    let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
    PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
}

fn convert_status(status: std::process::ExitStatus) -> ExitStatus {
    match (status.code(), status.signal()) {
        (Some(code), _) => ExitStatus::Code(code),
        (None, Some(signal)) => ExitStatus::Signal(signal),
        (None, None) => ExitStatus::Code(-1),
    }
}

/// Splits stdout into lines of at most [`MAX_LINE`] bytes and sends them on, then `Eof`.
fn read_lines(stdout: impl Read, sender: mpsc::Sender<(Output, Instant)>) {
    let mut reader = BufReader::with_capacity(64 << 10, stdout);
    let mut line = Vec::new();
    let mut overlong_len: Option<usize> = None;
    loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        if chunk.is_empty() {
            break;
        }
        let (take, complete) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        let body = &chunk[..if complete { take - 1 } else { take }];
        match &mut overlong_len {
            Some(len) => *len += body.len(),
            None if line.len() + body.len() > MAX_LINE => {
                let room = MAX_LINE - line.len();
                line.extend_from_slice(&body[..room]);
                overlong_len = Some(MAX_LINE + body.len() - room);
            }
            None => line.extend_from_slice(body),
        }
        reader.consume(take);
        if complete {
            let output = match overlong_len.take() {
                Some(len) => Output::Overlong {
                    prefix: std::mem::take(&mut line),
                    len,
                },
                None => Output::Line(std::mem::take(&mut line)),
            };
            if sender.send((output, Instant::now())).is_err() {
                return;
            }
        }
    }
    if !line.is_empty() {
        // A last line without a newline is still output the target produced.
        let _ = sender.send((Output::Line(line), Instant::now()));
    }
    let _ = sender.send((Output::Eof, Instant::now()));
}

fn read_tail(mut stderr: impl Read, tail: &Mutex<VecDeque<u8>>) {
    let mut buffer = [0u8; 8192];
    loop {
        let n = match stderr.read(&mut buffer) {
            Ok(0) => return,
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        let mut tail = tail.lock().unwrap_or_else(|poison| poison.into_inner());
        tail.extend(&buffer[..n]);
        let excess = tail.len().saturating_sub(STDERR_TAIL);
        tail.drain(..excess);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(script: &str) -> TargetSpec {
        TargetSpec::from_command(vec!["/bin/sh".into(), "-c".into(), script.into()])
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(10)
    }

    #[test]
    fn lines_round_trip_and_eof_follows() {
        let mut child = Child::spawn(&spec("cat"), &SpawnOptions::default()).unwrap();
        child.send(b"{\"a\":1}\nsecond\n", soon()).unwrap();
        let mut lines = Vec::new();
        for _ in 0..2 {
            match child.recv(soon()) {
                Recv::Output(Output::Line(line), _) => lines.push(line),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(lines, vec![b"{\"a\":1}".to_vec(), b"second".to_vec()]);
        child.close_stdin();
        assert!(matches!(child.recv(soon()), Recv::Output(Output::Eof, _)));
        assert_eq!(child.wait_exit(soon()), Some(ExitStatus::Code(0)));
    }

    #[test]
    fn exit_status_and_stderr_tail_are_reported() {
        let mut child = Child::spawn(
            &spec("echo oops >&2; kill -SEGV $$"),
            &SpawnOptions::default(),
        )
        .unwrap();
        assert!(matches!(child.recv(soon()), Recv::Output(Output::Eof, _)));
        assert_eq!(child.wait_exit(soon()), Some(ExitStatus::Signal(11)));
        assert_eq!(
            child.stderr_tail_settled(Duration::from_secs(5)).trim(),
            "oops"
        );
    }

    #[test]
    fn a_full_pipe_times_out_instead_of_blocking() {
        let mut child = Child::spawn(&spec("sleep 30"), &SpawnOptions::default()).unwrap();
        let big = vec![b'x'; 4 << 20];
        let deadline = Instant::now() + Duration::from_millis(200);
        assert!(matches!(
            child.send(&big, deadline),
            Err(SendError::Timeout)
        ));
        let pid = child.pid() as i32;
        drop(child);
        assert!(!group_alive(pid));
    }

    #[test]
    fn overlong_lines_are_cut() {
        let mut child = Child::spawn(
            &spec("head -c 17000000 /dev/zero | tr '\\0' x; echo; echo after"),
            &SpawnOptions::default(),
        )
        .unwrap();
        match child.recv(soon()) {
            Recv::Output(Output::Overlong { prefix, len }, _) => {
                assert_eq!(prefix.len(), MAX_LINE);
                assert_eq!(len, 17_000_000);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            matches!(child.recv(soon()), Recv::Output(Output::Line(line), _) if line == b"after")
        );
    }

    #[test]
    fn relative_file_arguments_become_absolute() {
        let mut argv: Vec<String> = ["python3", "Cargo.toml", "-v", "no-such-file", "src"]
            .iter()
            .map(|word| word.to_string())
            .collect();
        absolutize_file_arguments(&mut argv);
        let here = std::env::current_dir().unwrap();
        assert_eq!(argv[0], "python3");
        assert_eq!(argv[1], here.join("Cargo.toml").display().to_string());
        assert_eq!(argv[2..4], ["-v", "no-such-file"]);
        assert_eq!(argv[4], here.join("src").display().to_string());
    }

    #[test]
    fn the_sandboxed_target_runs_in_its_root_with_a_scrubbed_environment() {
        let root = std::env::temp_dir().join(format!("mcpfuzz-env-root-{}", std::process::id()));
        std::fs::create_dir_all(&root).unwrap();
        let root = root.canonicalize().unwrap();
        let options = SpawnOptions {
            sandbox: Some(root.clone()),
            ..SpawnOptions::default()
        };
        let mut child = Child::spawn(
            &spec("pwd; echo \"$HOME|$TMPDIR|${MCPFUZZ_TEST_SECRET:-unset}\""),
            &options,
        )
        .unwrap();
        let mut lines = Vec::new();
        while let Recv::Output(Output::Line(line), _) = child.recv(soon()) {
            lines.push(String::from_utf8(line).unwrap());
        }
        let root_text = root.display().to_string();
        assert_eq!(
            lines,
            vec![
                root_text.clone(),
                format!("{root_text}/.home|{root_text}/.tmp|unset")
            ]
        );
        drop(child);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn with_read_only_mounts_only_the_cell_is_writable() {
        let protections = Protections::probe();
        let base = std::env::temp_dir().join(format!("mcpfuzz-ro-{}", std::process::id()));
        let cell = base.join("cell");
        std::fs::create_dir_all(&cell).unwrap();
        let options = SpawnOptions {
            protections,
            writable: Some(cell.clone()),
            ..SpawnOptions::default()
        };
        let script = format!(
            "touch {0}/inside && echo inside-ok; touch {1}/outside 2>/dev/null && echo outside-ok; \
             echo done",
            cell.display(),
            base.display()
        );
        let mut child = Child::spawn(&spec(&script), &options).unwrap();
        let mut lines = Vec::new();
        while let Recv::Output(Output::Line(line), _) = child.recv(soon()) {
            lines.push(String::from_utf8(line).unwrap());
        }
        drop(child);
        let expected = if protections.read_only_mounts {
            vec!["inside-ok", "done"]
        } else {
            vec!["inside-ok", "outside-ok", "done"]
        };
        assert_eq!(lines, expected, "{protections:?}");
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn killing_reaps_the_whole_group() {
        let mut child =
            Child::spawn(&spec("sleep 30 & sleep 30"), &SpawnOptions::default()).unwrap();
        let pid = child.pid() as i32;
        thread::sleep(Duration::from_millis(50));
        assert!(group_alive(pid));
        child.kill();
        assert!(!group_alive(pid));
        assert_eq!(child.try_wait(), Some(ExitStatus::Signal(9)));
    }
}
