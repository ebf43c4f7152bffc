//! Coverage from inside the target: a bridge per runtime writes the target's own edges
//! into a map that the fuzzer zeroes before each input, reads after the input's barrier
//! ping, and folds into libFuzzer's extra counters next to the protocol-state features
//! ([`crate::feedback`]), so libFuzzer keeps an input because it reached new server code.
//!
//! - Python: `sitecustomize.py` (embedded here, written to a temporary directory put first
//!   on `PYTHONPATH`) traces lines into a memfd the target opens as
//!   `/proc/<fuzzer pid>/fd/<n>` (`MCPFUZZ_COV_MAP`); through launchers too (`uv run`,
//!   venv entry points), since only the environment has to reach the interpreter.
//! - Node: `node_preload.js` (`NODE_OPTIONS=--require`) keeps an in-process inspector
//!   session with precise block coverage, connects to a Unix socket the fuzzer listens on
//!   (`MCPFUZZ_NODE_COV`), and answers each one-byte request with the edge indices run
//!   since the last one. A socket path rather than an inherited descriptor, because
//!   `npx` and other launchers start the server with only stdio inherited; each node
//!   process connects on its own and the answers are ORed.
//! - Native: the AFL convention, a System V shared memory map named by `__AFL_SHM_ID`
//!   ([`afl`]), for servers built with AFL++ or with the SanitizerCoverage runtime in
//!   `coverage/native/`.
//!
//! `MCPFUZZ_COVERAGE=auto|off|python|node|afl` picks the bridge; `auto` (the default)
//! detects it from the command. A bridge that cannot work (no runtime detected, or the
//! target never reports an edge) is one line on stderr, and the run goes on with
//! protocol features alone.

pub mod afl;

use std::ffi::OsString;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Bytes in a coverage map: one per edge index.
pub const MAP_SIZE: usize = 1 << 16;

const SITECUSTOMIZE: &str = include_str!("sitecustomize.py");
const NODE_PRELOAD: &str = include_str!("node_preload.js");

/// How long a Node target has to answer a coverage request once it has answered the
/// input's barrier ping (its event loop is free by then; this covers a busy machine).
const NODE_ANSWER: Duration = Duration::from_secs(2);

/// How long [`Coverage::collect`] waits for the target to go idle before reading a map
/// it writes itself.
pub const IDLE_WAIT: Duration = Duration::from_millis(20);

/// The runtime a bridge serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// CPython, through `sitecustomize`.
    Python,
    /// Node.js, through a `--require` preload.
    Node,
    /// A native binary instrumented the AFL way.
    Afl,
}

impl Runtime {
    /// The name used in `MCPFUZZ_COVERAGE` and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Python => "python",
            Runtime::Node => "node",
            Runtime::Afl => "afl",
        }
    }
}

/// How much longer than its configured start-up a target traced by the Python bridge
/// may take to answer `initialize`.
const PYTHON_STARTUP_FACTOR: u64 = 4;

/// What `MCPFUZZ_COVERAGE` asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    /// No bridge.
    Off,
    /// The bridge [`detect`] picks from the command.
    Auto,
    /// This bridge, whatever the command.
    Only(Runtime),
}

impl Setting {
    /// Parses `auto`, `off`, `python`, `node` or `afl`.
    pub fn parse(text: &str) -> Result<Setting, String> {
        Ok(match text.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Setting::Auto,
            "off" | "0" | "none" => Setting::Off,
            "python" => Setting::Only(Runtime::Python),
            "node" => Setting::Only(Runtime::Node),
            "afl" | "native" => Setting::Only(Runtime::Afl),
            other => {
                return Err(format!(
                    "MCPFUZZ_COVERAGE={other:?}: expected auto, off, python, node or afl"
                ))
            }
        })
    }

    /// `MCPFUZZ_COVERAGE`, `auto` when unset.
    pub fn from_environment() -> Result<Setting, String> {
        Setting::parse(&std::env::var("MCPFUZZ_COVERAGE").unwrap_or_default())
    }
}

/// The runtime `command` runs, judged the way a shell would start it: the program's
/// name (`python3.11`, `node`), a launcher that ends up running one (`uv run`, `uvx`,
/// `pipx run`, `npx`, `npm exec`), a script whose `#!` line names one (venv entry points,
/// `build/index.js` made executable), `env PROGRAM`, or a native binary that carries the
/// AFL map's variable name (AFL++ builds, the SanitizerCoverage runtime). `None` for
/// anything else.
pub fn detect(command: &[String]) -> Option<Runtime> {
    let mut words = command.iter().map(String::as_str).peekable();
    let mut program = words.next()?;
    // `env [VAR=value...] program`.
    if base_name(program) == "env" {
        program = words.find(|word| !word.contains('=') && !word.starts_with('-'))?;
    }
    if let Some(runtime) = by_name(base_name(program)) {
        return Some(runtime);
    }
    let path = resolve(program)?;
    let head = read_head(&path, 256)?;
    if let Some(line) = head.strip_prefix(b"#!") {
        let line =
            String::from_utf8_lossy(line.split(|&b| b == b'\n').next().unwrap_or(b"")).into_owned();
        return line
            .split_whitespace()
            .filter(|word| *word != "-S" && !word.contains('='))
            .map(base_name)
            .find_map(by_name);
    }
    if head.starts_with(b"\x7fELF") && file_contains(&path, b"__AFL_SHM_ID") {
        return Some(Runtime::Afl);
    }
    None
}

/// A runtime from a program's base name.
fn by_name(name: &str) -> Option<Runtime> {
    let python = name.starts_with("python")
        && name[6..]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 'w');
    if python
        || matches!(
            name,
            "uv" | "uvx" | "pipx" | "poetry" | "pdm" | "hatch" | "rye"
        )
    {
        return Some(Runtime::Python);
    }
    if matches!(
        name,
        "node" | "nodejs" | "npx" | "npm" | "pnpm" | "yarn" | "tsx" | "ts-node"
    ) {
        return Some(Runtime::Node);
    }
    None
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// `program` as a file: itself when it has a slash, else the first match on `PATH`.
fn resolve(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| candidate.is_file())
    })
}

fn read_head(path: &Path, len: usize) -> Option<Vec<u8>> {
    let mut head = vec![0; len];
    let mut file = std::fs::File::open(path).ok()?;
    let read = file.read(&mut head).ok()?;
    head.truncate(read);
    Some(head)
}

/// Whether the file (its first 256 MiB) holds `needle`.
fn file_contains(path: &Path, needle: &[u8]) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let mut buffer = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut total = 0usize;
    while total < 256 << 20 {
        let Ok(read) = file.read(&mut buffer) else {
            return false;
        };
        if read == 0 {
            return false;
        }
        total += read;
        carry.extend_from_slice(&buffer[..read]);
        if carry.windows(needle.len()).any(|window| window == needle) {
            return true;
        }
        let keep = carry.len().saturating_sub(needle.len() - 1);
        carry.drain(..keep);
    }
    false
}

/// A change to one variable of the target's environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvEdit {
    /// Set it.
    Set(String, OsString),
    /// Put a directory first in a `:`-separated list (`PYTHONPATH`).
    Prepend(String, OsString),
    /// Append a word to a space-separated list (`NODE_OPTIONS`).
    Append(String, OsString),
}

/// A Node preload that makes every collection of V8 a full one (`--gc-global`, which
/// `NODE_OPTIONS` does not take but `v8.setFlagsFromString` does at start-up).
const NODE_FULL_GC_PRELOAD: &str = "require('v8').setFlagsFromString('--gc-global');\n";

/// For a Node `command`: the variables that make its collections full ones, with the
/// preload written into `dir`; nothing for any other runtime. V8 otherwise lets its heap
/// grow for thousands of requests before its collections keep pace, which a resource
/// trend reads as a leak; with full collections the heap follows what is live, and the
/// cost (measured: 7.3 s instead of 6.8 s for 6,000 requests to server-memory) is paid
/// only where a leak is being confirmed.
pub fn full_gc_env(command: &[String], dir: &Path) -> io::Result<Vec<EnvEdit>> {
    if detect(command) != Some(Runtime::Node) {
        return Ok(Vec::new());
    }
    let path = dir.join("mcpfuzz-full-gc.js");
    if !path.exists() {
        std::fs::write(&path, NODE_FULL_GC_PRELOAD)?;
    }
    let mut require = OsString::from("--require ");
    require.push(path.as_os_str());
    Ok(vec![EnvEdit::Append("NODE_OPTIONS".into(), require)])
}

/// Applies `edits` to `env` in order.
pub fn apply(env: &mut Vec<(OsString, OsString)>, edits: &[EnvEdit]) {
    for edit in edits {
        let (name, value) = match edit {
            EnvEdit::Set(name, value) => (name, value.clone()),
            EnvEdit::Prepend(name, value) | EnvEdit::Append(name, value) => {
                let current = env
                    .iter()
                    .find(|(key, _)| key == name.as_str())
                    .map(|(_, value)| value.clone())
                    .filter(|value| !value.is_empty());
                match (current, edit) {
                    (None, _) => (name, value.clone()),
                    (Some(current), EnvEdit::Prepend(..)) => {
                        let mut joined = value.clone();
                        joined.push(":");
                        joined.push(current);
                        (name, joined)
                    }
                    (Some(mut current), _) => {
                        current.push(" ");
                        current.push(value);
                        (name, current)
                    }
                }
            }
        };
        env.retain(|(key, _)| key != name.as_str());
        env.push((name.into(), value));
    }
}

/// Where a bridge's edges arrive.
enum Channel {
    /// A memfd both sides map (Python).
    Memfd {
        map: SharedMap,
        fd: std::os::fd::OwnedFd,
    },
    /// Answers over a Unix socket, ORed into a local map (Node).
    Socket {
        listener: UnixListener,
        path: PathBuf,
        clients: Vec<UnixStream>,
        map: Vec<u8>,
    },
    /// A System V segment (native).
    Afl(afl::AflMap),
}

/// A writable shared mapping of a memfd.
struct SharedMap {
    pointer: std::ptr::NonNull<std::ffi::c_void>,
    len: usize,
}

// SAFETY: the mapping is owned by this value alone; the target writes into it through
// its own mapping, which Rust does not see; all access here goes through &self/&mut self.
unsafe impl Send for SharedMap {}

impl SharedMap {
    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` bytes, readable, and lives as long as self. The
        // target may write concurrently; bytes are plain u8, so a torn read is a stale
        // byte, never undefined behaviour for the reader in practice (volatile is not
        // needed for a map that is read once per input after the target went idle).
        unsafe { std::slice::from_raw_parts(self.pointer.as_ptr().cast(), self.len) }
    }

    fn clear(&mut self) {
        // SAFETY: as in `bytes`, writable.
        unsafe { std::ptr::write_bytes(self.pointer.as_ptr().cast::<u8>(), 0, self.len) };
    }
}

impl Drop for SharedMap {
    fn drop(&mut self) {
        // SAFETY: unmapping the mapping made in `Coverage::python`.
        let _ = unsafe { nix::sys::mman::munmap(self.pointer, self.len) };
    }
}

/// A bridge for one run: its map, its files, and what it has seen.
pub struct Coverage {
    runtime: Runtime,
    channel: Channel,
    dir: PathBuf,
    /// Every edge seen in the run, for the status line.
    seen: Vec<u8>,
    edges: u64,
    /// Inputs collected; a bridge that reports nothing after a few is given up.
    inputs: u64,
}

impl std::fmt::Debug for Coverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Coverage")
            .field("runtime", &self.runtime)
            .field("edges", &self.edges)
            .finish()
    }
}

impl Coverage {
    /// The bridge `setting` asks for on `command`, or why there is none (one line for
    /// people; `None` for `off`, said by no line).
    pub fn for_command(setting: Setting, command: &[String]) -> Result<Coverage, Option<String>> {
        let runtime = match setting {
            Setting::Off => return Err(None),
            Setting::Only(runtime) => runtime,
            Setting::Auto => detect(command).ok_or_else(|| {
                Some(format!(
                    "no coverage bridge for `{}` (not a Python, Node or AFL-instrumented \
                     command; MCPFUZZ_COVERAGE=python|node|afl forces one): fuzzing with \
                     protocol features only",
                    command.first().map(String::as_str).unwrap_or("")
                ))
            })?,
        };
        Coverage::new(runtime).map_err(|error| {
            Some(format!(
                "the {} coverage bridge could not be set up ({error}): fuzzing with \
                 protocol features only",
                runtime.as_str()
            ))
        })
    }

    /// A bridge for `runtime`, with its files in a fresh temporary directory.
    pub fn new(runtime: Runtime) -> io::Result<Coverage> {
        let dir = fresh_dir()?;
        let channel = match runtime {
            Runtime::Python => {
                std::fs::write(dir.join("sitecustomize.py"), SITECUSTOMIZE)?;
                let fd = nix::sys::memfd::memfd_create(
                    "mcpfuzz-coverage",
                    nix::sys::memfd::MFdFlags::MFD_CLOEXEC,
                )?;
                nix::unistd::ftruncate(&fd, MAP_SIZE as i64)?;
                // SAFETY: a fresh shared mapping of a memfd we own, of its full length.
                let pointer = unsafe {
                    nix::sys::mman::mmap(
                        None,
                        std::num::NonZeroUsize::new(MAP_SIZE).expect("not zero"),
                        nix::sys::mman::ProtFlags::PROT_READ
                            | nix::sys::mman::ProtFlags::PROT_WRITE,
                        nix::sys::mman::MapFlags::MAP_SHARED,
                        &fd,
                        0,
                    )?
                };
                Channel::Memfd {
                    map: SharedMap {
                        pointer,
                        len: MAP_SIZE,
                    },
                    fd,
                }
            }
            Runtime::Node => {
                std::fs::write(dir.join("preload.cjs"), NODE_PRELOAD)?;
                let path = dir.join("node.sock");
                let listener = UnixListener::bind(&path)?;
                listener.set_nonblocking(true)?;
                Channel::Socket {
                    listener,
                    path,
                    clients: Vec::new(),
                    map: vec![0; MAP_SIZE],
                }
            }
            Runtime::Afl => Channel::Afl(afl::AflMap::create(MAP_SIZE)?),
        };
        Ok(Coverage {
            runtime,
            channel,
            dir,
            seen: vec![0; MAP_SIZE],
            edges: 0,
            inputs: 0,
        })
    }

    /// The bridge's runtime.
    pub fn runtime(&self) -> Runtime {
        self.runtime
    }

    /// Distinct edges seen in the run so far.
    pub fn edges(&self) -> u64 {
        self.edges
    }

    /// What the target's environment needs for this bridge.
    pub fn env(&self) -> Vec<EnvEdit> {
        let size = EnvEdit::Set("MCPFUZZ_COV_SIZE".into(), MAP_SIZE.to_string().into());
        match &self.channel {
            Channel::Memfd { fd, .. } => vec![
                EnvEdit::Prepend("PYTHONPATH".into(), self.dir.clone().into_os_string()),
                EnvEdit::Set(
                    "MCPFUZZ_COV_MAP".into(),
                    format!("/proc/{}/fd/{}", std::process::id(), fd.as_raw_fd()).into(),
                ),
                EnvEdit::Set("PYTHONHASHSEED".into(), "0".into()),
                size,
            ],
            Channel::Socket { path, .. } => {
                let mut require = OsString::from("--require=");
                require.push(self.dir.join("preload.cjs"));
                vec![
                    EnvEdit::Append("NODE_OPTIONS".into(), require),
                    EnvEdit::Set("MCPFUZZ_NODE_COV".into(), path.clone().into_os_string()),
                    size,
                ]
            }
            Channel::Afl(map) => map
                .env()
                .into_iter()
                .map(|(name, value)| EnvEdit::Set(name, value.into()))
                .collect(),
        }
    }

    /// Starts `spec` in a fresh cell of `sandbox` with this bridge's environment, and
    /// [`started`](Coverage::started) once its handshake is done.
    pub fn start(
        &mut self,
        spec: &crate::TargetSpec,
        sandbox: &crate::sandbox::Sandbox,
        protections: crate::target::Protections,
    ) -> Result<crate::session::Session, crate::session::StartError> {
        // Tracing every line from the first import is slow where `sys.monitoring` is
        // missing (Python before 3.12) and through launchers that start helper
        // interpreters (`uvx`): start-up gets more time than the plain target needs.
        let mut spec = spec.clone();
        if self.runtime() == Runtime::Python {
            spec.timeouts.startup_ms = spec
                .timeouts
                .startup_ms
                .saturating_mul(PYTHON_STARTUP_FACTOR);
        }
        let session = crate::session::Session::start_in_sandbox_with(
            &spec,
            sandbox,
            protections,
            false,
            self.env(),
        )?;
        self.started();
        Ok(session)
    }

    /// Called when a new target has finished its handshake: forgets the previous
    /// target's connections and drops what start-up covered, so the first input is
    /// judged on its own edges.
    pub fn started(&mut self) {
        match &mut self.channel {
            Channel::Socket {
                listener,
                clients,
                map,
                ..
            } => {
                clients.clear();
                // The target answered `initialize`, so its preload has connected, or is
                // about to.
                let deadline = Instant::now() + Duration::from_millis(500);
                loop {
                    accept_all(listener, clients);
                    if !clients.is_empty() || Instant::now() >= deadline {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                ask_all(clients, map);
                map.fill(0);
            }
            _ => self.arm(),
        }
    }

    /// Zeroes the map before an input.
    pub fn arm(&mut self) {
        match &mut self.channel {
            Channel::Memfd { map, .. } => map.clear(),
            Channel::Socket { map, .. } => map.fill(0),
            Channel::Afl(map) => map.clear(),
        }
    }

    /// Reads the map after an input's barrier ping (asking Node targets for theirs),
    /// counts new edges, and returns the map. `pids` are the target's processes: a map
    /// the target writes itself is read once none of them is running (the few lines a
    /// server runs after its reply, back to its read loop, would otherwise race with the
    /// read), waiting at most [`IDLE_WAIT`]. Returns the one line to print when the bridge
    /// has reported nothing over its first inputs: the run then goes on without it.
    pub fn collect(&mut self, pids: &[i32]) -> Result<&[u8], String> {
        if let Channel::Socket {
            listener,
            clients,
            map,
            ..
        } = &mut self.channel
        {
            accept_all(listener, clients);
            ask_all(clients, map);
        } else {
            let deadline = Instant::now() + IDLE_WAIT;
            while crate::target::any_running(pids) && Instant::now() < deadline {
                std::thread::yield_now();
            }
        }
        let map: &[u8] = match &self.channel {
            Channel::Memfd { map, .. } => map.bytes(),
            Channel::Socket { map, .. } => map,
            Channel::Afl(map) => map.bytes(),
        };
        // Maps are sparse: skip zero words, and look at bytes only where one is set.
        for (word_index, word) in map.chunks_exact(8).enumerate() {
            if u64::from_ne_bytes(word.try_into().expect("eight bytes")) == 0 {
                continue;
            }
            for (offset, &byte) in word.iter().enumerate() {
                let seen = &mut self.seen[word_index * 8 + offset];
                if byte != 0 && *seen == 0 {
                    *seen = 1;
                    self.edges += 1;
                }
            }
        }
        self.inputs += 1;
        if self.edges == 0 && self.inputs >= 3 {
            return Err(format!(
                "the {} coverage bridge reported no edge in the target's first inputs \
                 (the target is not {}, or ignores the bridge's environment): fuzzing with \
                 protocol features only",
                self.runtime.as_str(),
                match self.runtime {
                    Runtime::Python => "a CPython process that imports site",
                    Runtime::Node => "a Node.js process that honours NODE_OPTIONS",
                    Runtime::Afl => "a binary instrumented for the AFL map",
                }
            ));
        }
        Ok(map)
    }
}

impl Drop for Coverage {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn accept_all(listener: &UnixListener, clients: &mut Vec<UnixStream>) {
    while let Ok((mut stream, _)) = listener.accept() {
        let _ = stream.set_nonblocking(false);
        let _ = stream.set_read_timeout(Some(NODE_ANSWER));
        let _ = stream.set_write_timeout(Some(NODE_ANSWER));
        let mut hello = [0u8; 8];
        if stream.read_exact(&mut hello).is_ok() && &hello[..4] == b"MCPC" {
            clients.push(stream);
        }
    }
}

/// Asks every client for the edges run since its last answer and ORs them into `map`;
/// a client that does not answer in time (it exited, or hangs) is dropped.
fn ask_all(clients: &mut Vec<UnixStream>, map: &mut [u8]) {
    clients.retain_mut(|client| ask(client, map).is_ok());
}

fn ask(client: &mut UnixStream, map: &mut [u8]) -> io::Result<()> {
    client.write_all(b"c")?;
    let mut count = [0u8; 4];
    client.read_exact(&mut count)?;
    let count = u32::from_le_bytes(count) as usize;
    if count > MAP_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "too many indices",
        ));
    }
    let mut indices = vec![0u8; count * 4];
    client.read_exact(&mut indices)?;
    for index in indices.chunks_exact(4) {
        let index = u32::from_le_bytes(index.try_into().expect("four bytes")) as usize;
        if let Some(slot) = map.get_mut(index) {
            *slot = 1;
        }
    }
    Ok(())
}

/// A new private directory for a bridge's files, outside every sandbox cell (the cells'
/// changes are evidence; these files are not).
fn fresh_dir() -> io::Result<PathBuf> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    crate::sandbox::remove_stale(&std::env::temp_dir(), "mcpfuzz-coverage-");
    let dir = std::env::temp_dir().join(format!(
        "mcpfuzz-coverage-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

#[cfg(test)]
mod tests;
