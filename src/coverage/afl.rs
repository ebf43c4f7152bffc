//! The AFL shared-memory map (`__AFL_SHM_ID`).
//!
//! A native target built with AFL++ (`afl-clang-fast`, `afl-cc`) or with SanitizerCoverage
//! plus mcpfuzz's runtime (`coverage/native/mcpfuzz_cov.c`) looks up the System V shared
//! memory segment named by `__AFL_SHM_ID` at startup, attaches it and counts every edge it
//! takes in one byte of it. [`AflMap`] owns that segment on the fuzzer's side: create it,
//! pass [`AflMap::env`] to the target, [`clear`](AflMap::clear) it before an input and
//! read [`bytes`](AflMap::bytes) once the target has answered.
//!
//! The segment is marked for removal (`IPC_RMID`) right after the fuzzer attaches it. On
//! Linux, a segment marked for removal lives on while any process has it attached, and
//! other processes can still attach it by id (a Linux extension; POSIX leaves it
//! unspecified). So targets work exactly as before, and the kernel frees the segment when
//! the last process detaches, even if the fuzzer is killed with SIGKILL and never runs its
//! `Drop`. Nothing is ever left behind in `ipcs -m`.
//!
//! The target must be able to attach: same user (the segment is mode 0600) and same IPC
//! namespace.

use std::fmt;
use std::io;
use std::ptr::{self, NonNull};

use nix::libc;

/// AFL's classic map size (64 KiB), what most AFL-style runtimes assume without
/// `AFL_MAP_SIZE`.
pub const DEFAULT_SIZE: usize = 1 << 16;

/// A System V shared memory segment that a native target fills with AFL-style edge
/// counters, attached in this process and removed when the last process detaches it.
///
/// # Examples
///
/// ```no_run
/// use mcpfuzz::coverage::afl::{AflMap, DEFAULT_SIZE};
///
/// let mut map = AflMap::create(DEFAULT_SIZE)?;
/// let mut server = std::process::Command::new("./magic_server");
/// server.envs(map.env());
/// // ... spawn, handshake, then per input:
/// map.clear();
/// // ... send the input, wait for the reply ...
/// let n_edges = map.bytes().iter().filter(|&&count| count != 0).count();
/// # let _ = n_edges;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct AflMap {
    id: i32,
    base: NonNull<u8>,
    size: usize,
}

// SAFETY: the attachment belongs to this value alone; nothing in this process aliases it,
// so moving it to another thread or reading it from several is as safe as for a `Vec<u8>`.
unsafe impl Send for AflMap {}
// SAFETY: shared references only read the bytes (see `Send`).
unsafe impl Sync for AflMap {}

impl AflMap {
    /// Creates a private segment of `size` bytes (mode 0600), attaches it, zeroes it and
    /// marks it for removal, so it disappears with the last process that has it attached.
    ///
    /// Fails with `InvalidInput` for a size of zero, and with the OS error when the kernel
    /// refuses the segment (for example `size` above `kernel.shmmax`, or `kernel.shmmni`
    /// segments already in use).
    pub fn create(size: usize) -> io::Result<AflMap> {
        if size == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "an AFL map needs at least one byte",
            ));
        }
        // SAFETY: plain system calls; every pointer passed is null or the one shmat returned.
        unsafe {
            let id = libc::shmget(
                libc::IPC_PRIVATE,
                size,
                libc::IPC_CREAT | libc::IPC_EXCL | 0o600,
            );
            if id < 0 {
                return Err(io::Error::last_os_error());
            }
            let address = libc::shmat(id, ptr::null(), 0);
            if address as isize == -1 {
                let error = io::Error::last_os_error();
                libc::shmctl(id, libc::IPC_RMID, ptr::null_mut());
                return Err(error);
            }
            // Linux keeps an attached segment alive after IPC_RMID and still lets other
            // processes attach it by id, so removing it now costs nothing and guarantees
            // that a fuzzer killed without running Drop leaks nothing.
            if libc::shmctl(id, libc::IPC_RMID, ptr::null_mut()) < 0 {
                let error = io::Error::last_os_error();
                libc::shmdt(address);
                return Err(error);
            }
            let base = NonNull::new(address.cast::<u8>())
                .expect("shmat returns a non-null address on success");
            // A fresh segment is zero-filled by the kernel; the map starts empty either way.
            let mut map = AflMap { id, base, size };
            map.clear();
            Ok(map)
        }
    }

    /// The segment's System V id, the value of `__AFL_SHM_ID`.
    pub fn id(&self) -> i32 {
        self.id
    }

    /// The environment variables a target needs to find the map: `__AFL_SHM_ID` (the id)
    /// and `AFL_MAP_SIZE` (the size in bytes).
    pub fn env(&self) -> Vec<(String, String)> {
        vec![
            ("__AFL_SHM_ID".to_owned(), self.id.to_string()),
            ("AFL_MAP_SIZE".to_owned(), self.size.to_string()),
        ]
    }

    /// Zeroes the map, typically after the handshake and before each input.
    pub fn clear(&mut self) {
        // SAFETY: base points to `size` attached, writable bytes owned by this value.
        unsafe { ptr::write_bytes(self.base.as_ptr(), 0, self.size) }
    }

    /// The edge counters: one byte per slot, the number of hits modulo 256.
    ///
    /// The target writes these bytes from another process, so read them while it is
    /// quiescent. Receiving its reply is not quite enough: after writing the reply, the
    /// target still runs a few blocks (returning to its read loop) until it blocks reading
    /// its input, and those edges may land before or after the read. A reader that needs
    /// exact, repeatable sets waits for that (the target's `/proc/<pid>/stat` state turns
    /// to `S`), as this module's tests do; otherwise a handful of tail edges is noise.
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: base points to `size` attached bytes that stay mapped while self lives.
        unsafe { std::slice::from_raw_parts(self.base.as_ptr(), self.size) }
    }
}

impl Drop for AflMap {
    fn drop(&mut self) {
        // SAFETY: base is the address shmat returned and has not been detached yet. The
        // segment is already marked for removal, so detaching is all that is left; the
        // second IPC_RMID is harmless and covers a kernel that refused the first one.
        unsafe {
            libc::shmdt(self.base.as_ptr().cast::<libc::c_void>());
            libc::shmctl(self.id, libc::IPC_RMID, ptr::null_mut());
        }
    }
}

impl fmt::Debug for AflMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AflMap")
            .field("id", &self.id)
            .field("size", &self.size)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::collections::BTreeSet;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::path::PathBuf;
    use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
    use std::sync::OnceLock;
    use std::time::{Duration, Instant};

    /// Linux's `SHM_DEST` mode bit (`<linux/shm.h>`), which the libc crate does not export.
    const SHM_DEST: u32 = 0o1000;

    /// The secret's first character (the fixture compares character codes).
    const FIRST_SECRET_CHAR: char = '\u{52}';

    /// Builds the fixture once per test process with testbed/coverage/native/build.sh and
    /// returns its output directory.
    fn fixture_dir() -> &'static PathBuf {
        static DIR: OnceLock<PathBuf> = OnceLock::new();
        DIR.get_or_init(|| {
            let script =
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testbed/coverage/native/build.sh");
            let output = Command::new("sh")
                .arg(&script)
                .output()
                .unwrap_or_else(|error| panic!("cannot run {script:?}: {error}"));
            assert!(
                output.status.success(),
                "{script:?} failed (needs gcc): {}",
                String::from_utf8_lossy(&output.stderr)
            );
            PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
        })
    }

    /// The fixture with its stdio attached, speaking one JSON message per line.
    struct Server {
        child: Child,
        stdin: ChildStdin,
        stdout: BufReader<ChildStdout>,
    }

    impl Server {
        fn spawn(binary: &str, env: &[(String, String)]) -> Server {
            let path = fixture_dir().join(binary);
            let mut child = Command::new(&path)
                .env_remove("__AFL_SHM_ID")
                .env_remove("AFL_MAP_SIZE")
                .envs(env.iter().cloned())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|error| panic!("cannot spawn {path:?}: {error}"));
            let stdin = child.stdin.take().expect("stdin is piped");
            let stdout = BufReader::new(child.stdout.take().expect("stdout is piped"));
            Server {
                child,
                stdin,
                stdout,
            }
        }

        /// Sends one line and, for a request, returns the reply line.
        fn send(&mut self, line: &str, expect_reply: bool) -> Option<String> {
            writeln!(self.stdin, "{line}").expect("the server reads its stdin");
            self.stdin.flush().expect("the server reads its stdin");
            if !expect_reply {
                return None;
            }
            let mut reply = String::new();
            self.stdout
                .read_line(&mut reply)
                .expect("the server writes its stdout");
            assert!(reply.ends_with('\n'), "no reply to {line:?}, got {reply:?}");
            Some(reply)
        }

        /// Waits until the server sleeps (blocked reading its stdin): it has finished the
        /// blocks that follow its last reply, so the map holds still.
        fn wait_until_idle(&self) {
            let path = format!("/proc/{}/stat", self.child.id());
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let stat = std::fs::read_to_string(&path).unwrap();
                // The state follows the command name, which is in parentheses.
                let state = stat.rsplit(") ").next().unwrap().chars().next().unwrap();
                if state == 'S' {
                    return;
                }
                assert!(Instant::now() < deadline, "server never blocked: {stat:?}");
                std::thread::yield_now();
            }
        }

        fn handshake(&mut self) {
            let reply = self.send(
                r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#,
                true,
            );
            assert!(reply.unwrap().contains(r#""serverInfo""#));
            self.send(
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                false,
            );
        }

        fn inspect(&mut self, value: &str) -> String {
            let request = serde_json::json!({
                "jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "inspect", "arguments": {"value": value}},
            });
            self.send(&request.to_string(), true).unwrap()
        }

        /// Closes stdin, waits for a clean exit and returns what the server wrote on stderr.
        fn finish(mut self) -> String {
            drop(self.stdin);
            let status = self.child.wait().expect("the server can be waited for");
            let mut stderr = String::new();
            self.child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut stderr)
                .unwrap();
            assert!(
                status.success(),
                "server exited with {status}, stderr {stderr:?}"
            );
            stderr
        }
    }

    fn edges(map: &AflMap) -> BTreeSet<usize> {
        map.bytes()
            .iter()
            .enumerate()
            .filter(|(_, &count)| count != 0)
            .map(|(index, _)| index)
            .collect()
    }

    /// Edges of one `inspect` call in a fresh server, counted from after the handshake.
    fn edges_of_inspect(value: &str) -> BTreeSet<usize> {
        let mut map = AflMap::create(DEFAULT_SIZE).unwrap();
        let mut server = Server::spawn("magic_server", &map.env());
        server.handshake();
        server.wait_until_idle();
        map.clear();
        let reply = server.inspect(value);
        assert!(reply.contains("inspected"), "unexpected reply {reply:?}");
        server.wait_until_idle();
        let edges = edges(&map);
        server.finish();
        edges
    }

    fn segment_mode(id: i32) -> io::Result<u32> {
        // SAFETY: shmid_ds is plain data; shmctl fills it or fails.
        unsafe {
            let mut info: libc::shmid_ds = std::mem::zeroed();
            if libc::shmctl(id, libc::IPC_STAT, &mut info) < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(u32::from(info.shm_perm.mode))
        }
    }

    #[test]
    fn env_names_the_segment_and_its_size() {
        let map = AflMap::create(4096).unwrap();
        assert_eq!(
            map.env(),
            vec![
                ("__AFL_SHM_ID".to_owned(), map.id().to_string()),
                ("AFL_MAP_SIZE".to_owned(), "4096".to_owned()),
            ]
        );
        assert_eq!(map.bytes().len(), 4096);
        assert!(map.bytes().iter().all(|&count| count == 0));
    }

    #[test]
    fn zero_size_is_rejected() {
        let error = AflMap::create(0).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn segment_is_marked_for_removal_at_once_and_gone_after_drop() {
        let map = AflMap::create(DEFAULT_SIZE).unwrap();
        let id = map.id();
        let mode = segment_mode(id).unwrap();
        assert_eq!(mode & 0o777, 0o600);
        assert_ne!(mode & SHM_DEST, 0, "segment {id} is not marked for removal");
        drop(map);
        assert!(segment_mode(id).is_err(), "segment {id} survived its map");
    }

    #[test]
    fn child_attaches_after_removal_mark_and_reports_edges() {
        let map = AflMap::create(DEFAULT_SIZE).unwrap();
        let mut env = map.env();
        env.push(("MCPFUZZ_COV_DEBUG".to_owned(), "1".to_owned()));
        let mut server = Server::spawn("magic_server", &env);
        server.handshake();
        server.inspect("hello");
        server.wait_until_idle();
        let n_edges = edges(&map).len();
        let stderr = server.finish();
        assert!(
            stderr.contains(&format!("mcpfuzz_cov: attached map {}", map.id())),
            "the runtime did not attach: {stderr:?}"
        );
        assert!(
            n_edges > 20,
            "only {n_edges} edges after a handshake and a call"
        );
    }

    #[test]
    fn first_secret_character_adds_edges() {
        let miss = edges_of_inspect("zzzzzz");
        let first = edges_of_inspect(&format!("{FIRST_SECRET_CHAR}zzzzz"));
        assert!(!miss.is_empty());
        assert_ne!(miss, first);
        assert!(
            first.difference(&miss).count() > 0,
            "matching the first character reached nothing new"
        );
    }

    #[test]
    fn same_input_gives_same_edges_in_fresh_processes() {
        let once = edges_of_inspect("hello");
        let again = edges_of_inspect("hello");
        assert!(!once.is_empty());
        assert_eq!(once, again);
    }

    #[test]
    fn server_runs_normally_without_a_map() {
        let dead_id = {
            let map = AflMap::create(4096).unwrap();
            map.id()
        };
        let cases: [&[(String, String)]; 3] = [
            &[],
            &[("__AFL_SHM_ID".to_owned(), "not-a-number".to_owned())],
            &[("__AFL_SHM_ID".to_owned(), dead_id.to_string())],
        ];
        for env in cases {
            let mut server = Server::spawn("magic_server", env);
            server.handshake();
            let reply = server.inspect("hello");
            assert_eq!(
                reply,
                "{\"jsonrpc\":\"2.0\",\"id\":2,\"result\":{\"content\":[{\"type\":\"text\",\
                 \"text\":\"inspected 5 characters\"}],\"isError\":false}}\n"
            );
            let stderr = server.finish();
            assert_eq!(stderr, "", "with env {env:?}");
        }
    }

    #[test]
    fn clear_zeroes_what_the_target_wrote() {
        let mut map = AflMap::create(DEFAULT_SIZE).unwrap();
        let mut server = Server::spawn("magic_server", &map.env());
        server.handshake();
        server.wait_until_idle();
        assert!(!edges(&map).is_empty());
        map.clear();
        assert!(edges(&map).is_empty());
        server.finish();
    }
}
