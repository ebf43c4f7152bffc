//! The reproducer file: one self-contained JSON document per distinct finding,
//! `crashes/<kind>-<short hash>.json`, that a person can read and diff and that
//! `mcpfuzz replay` re-runs.
//!
//! A reproducer names the finding, the target, the frames to send after the handshake
//! (byte-exact, see [`Frame`](crate::Frame)) and how it was found. [`save`] writes it
//! atomically, so a file in `crashes/` is always complete; [`load`] says exactly what is
//! wrong with a file that is not a reproducer.

use crate::config::TargetSpec;
use crate::finding::Finding;
use crate::transcript::Item;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// The value of the `format` field that marks a JSON file as an mcpfuzz reproducer.
pub const FORMAT: &str = "mcpfuzz-reproducer";

/// The reproducer format version this mcpfuzz writes and reads.
pub const VERSION: u32 = 1;

/// One distinct finding, with everything needed to replay it.
///
/// Fields are written in declaration order; `repeat` defaults to 1 and `found` to
/// [`Found::default`] when a hand-written file leaves them out.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Reproducer {
    /// Always [`FORMAT`].
    pub format: String,
    /// Always [`VERSION`] for files this mcpfuzz writes.
    pub version: u32,
    /// What the oracle saw; `finding.signature` is what a replay must see again.
    pub finding: Finding,
    /// The target the finding was seen in.
    pub target: TargetSpec,
    /// Frames and reply-policy changes to send after the handshake, byte-exact.
    pub transcript: Vec<Item>,
    /// How many times to run the transcript in one target (1 except for leak findings).
    pub repeat: u32,
    /// How the finding was found.
    pub found: Found,
}

impl Reproducer {
    /// A reproducer of the current format and version that runs `transcript` once.
    pub fn new(
        finding: Finding,
        target: TargetSpec,
        transcript: Vec<Item>,
        found: Found,
    ) -> Reproducer {
        Reproducer {
            format: FORMAT.to_owned(),
            version: VERSION,
            finding,
            target,
            transcript,
            repeat: 1,
            found,
        }
    }
}

/// How a finding was found: for the person reading the file, never used by a replay.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Found {
    /// The mcpfuzz version that wrote the file.
    pub mcpfuzz_version: String,
    /// When the file was written, in seconds since the Unix epoch.
    pub unix_time: u64,
    /// Inputs run in the campaign before the finding.
    pub executions: u64,
    /// Seconds from the start of the campaign to the finding.
    pub elapsed_secs: f64,
    /// Items in the transcript before minimization.
    pub original_items: usize,
    /// Whether the transcript is the minimizer's confirmed result.
    pub minimized: bool,
    /// How many fresh-process replays reproduced the finding before it was saved.
    pub confirmations: u32,
}

impl Found {
    /// This mcpfuzz's version and the current time; counters zero. Fill the rest with
    /// struct update syntax: `Found { executions, ..Found::now() }`.
    pub fn now() -> Found {
        let unix_time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or(0);
        Found {
            mcpfuzz_version: env!("CARGO_PKG_VERSION").to_owned(),
            unix_time,
            ..Found::default()
        }
    }
}

/// Eight hex digits that name a finding's file: the 64-bit FNV-1a hash of `signature`,
/// xor-folded to 32 bits.
///
/// File names depend on it, so that a finding seen again overwrites its own file instead
/// of adding a new one: it must never change between versions.
pub fn short_hash(signature: &str) -> String {
    let hash = fnv1a_64(signature.as_bytes());
    format!("{:08x}", (hash >> 32) ^ (hash & 0xffff_ffff))
}

fn fnv1a_64(bytes: &[u8]) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

/// The file name of a finding's reproducer: `<kind>-<short hash of signature>.json`.
pub fn file_name(finding: &Finding) -> String {
    format!("{}-{}.json", finding.kind, short_hash(&finding.signature))
}

/// Writes `repro` to `dir/`[`file_name`], creating `dir`, and returns the path.
///
/// The JSON goes to a temporary file in `dir` that is synced and then renamed over the
/// final name, so the file is either the old one or the complete new one even if the
/// process is killed halfway. Errors name the file.
pub fn save(dir: &Path, repro: &Reproducer) -> io::Result<PathBuf> {
    static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

    fs::create_dir_all(dir).map_err(|error| with_path("cannot create", dir, error))?;
    let name = file_name(&repro.finding);
    let final_path = dir.join(&name);
    let mut bytes = serde_json::to_vec_pretty(repro).map_err(|error| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot write {}: {error}", final_path.display()),
        )
    })?;
    bytes.push(b'\n');

    // A leading dot keeps half-written files out of `known_signatures` and `*.json` globs;
    // pid and counter keep concurrent writers (processes and threads) apart.
    let temp_path = dir.join(format!(
        ".{name}.{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let written =
        write_synced(&temp_path, &bytes).and_then(|()| fs::rename(&temp_path, &final_path));
    if let Err(error) = written {
        // Best effort: the temporary file may not exist if `create_new` failed.
        let _ = fs::remove_file(&temp_path);
        return Err(with_path("cannot write", &final_path, error));
    }
    // Sync the directory so the rename itself survives a crash of the machine; not every
    // file system allows opening a directory for that, hence best effort.
    if let Ok(directory) = File::open(dir) {
        let _ = directory.sync_all();
    }
    Ok(final_path)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn with_path(doing: &str, path: &Path, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{doing} {}: {error}", path.display()))
}

/// Reads and checks a reproducer file.
pub fn load(path: &Path) -> Result<Reproducer, ReproError> {
    let bytes = fs::read(path).map_err(|source| ReproError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &bytes)
}

/// The top-level fields a reproducer may have; others are ignored with a warning.
const FIELDS: [&str; 7] = [
    "format",
    "version",
    "finding",
    "target",
    "transcript",
    "repeat",
    "found",
];

fn parse(path: &Path, bytes: &[u8]) -> Result<Reproducer, ReproError> {
    let value: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|error| ReproError::NotJson {
            path: path.to_owned(),
            line: error.line(),
            column: error.column(),
            reason: json_reason(&error),
        })?;
    let serde_json::Value::Object(mut fields) = value else {
        return Err(ReproError::WrongFormat {
            path: path.to_owned(),
            format: None,
        });
    };
    match fields.get("format") {
        Some(serde_json::Value::String(format)) if format == FORMAT => {}
        other => {
            return Err(ReproError::WrongFormat {
                path: path.to_owned(),
                format: other.cloned(),
            })
        }
    }
    let version = match fields.get("version") {
        None => return Err(missing(path, "version")),
        Some(version) => version.as_u64().ok_or_else(|| ReproError::InvalidField {
            path: path.to_owned(),
            field: "version",
            reason: format!("is {version}, not a whole number"),
        })?,
    };
    if version != u64::from(VERSION) {
        return Err(ReproError::UnsupportedVersion {
            path: path.to_owned(),
            version,
        });
    }
    for name in fields
        .keys()
        .filter(|name| !FIELDS.contains(&name.as_str()))
    {
        log::warn!(
            "{}: ignoring unknown field {name:?} (known: {})",
            path.display(),
            FIELDS.join(", ")
        );
    }

    let finding = take(path, &mut fields, "finding")?.ok_or_else(|| missing(path, "finding"))?;
    let target = take(path, &mut fields, "target")?.ok_or_else(|| missing(path, "target"))?;
    let transcript =
        take(path, &mut fields, "transcript")?.ok_or_else(|| missing(path, "transcript"))?;
    let repeat = take(path, &mut fields, "repeat")?.unwrap_or(1);
    if repeat == 0 {
        return Err(ReproError::InvalidField {
            path: path.to_owned(),
            field: "repeat",
            reason: "is 0; a transcript must run at least once".to_owned(),
        });
    }
    let found = take(path, &mut fields, "found")?.unwrap_or_default();
    Ok(Reproducer {
        format: FORMAT.to_owned(),
        version: VERSION,
        finding,
        target,
        transcript,
        repeat,
        found,
    })
}

/// Removes and decodes one top-level field, so a decoding error can name the field.
fn take<T: DeserializeOwned>(
    path: &Path,
    fields: &mut serde_json::Map<String, serde_json::Value>,
    field: &'static str,
) -> Result<Option<T>, ReproError> {
    let Some(value) = fields.remove(field) else {
        return Ok(None);
    };
    serde_json::from_value(value)
        .map(Some)
        .map_err(|error| ReproError::InvalidField {
            path: path.to_owned(),
            field,
            reason: format!("does not decode: {error}"),
        })
}

fn missing(path: &Path, field: &'static str) -> ReproError {
    ReproError::MissingField {
        path: path.to_owned(),
        field,
    }
}

/// serde_json's message without its trailing " at line L column C", which the error
/// states separately.
fn json_reason(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Why a file could not be loaded as a reproducer.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReproError {
    /// The file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: io::Error,
    },
    /// The file is not JSON.
    NotJson {
        /// The file.
        path: PathBuf,
        /// Line of the first syntax error, from 1.
        line: usize,
        /// Column of the first syntax error, from 1.
        column: usize,
        /// What is wrong there.
        reason: String,
    },
    /// The file is JSON but not a reproducer: no `"format": "mcpfuzz-reproducer"`.
    WrongFormat {
        /// The file.
        path: PathBuf,
        /// The `format` value found, if any.
        format: Option<serde_json::Value>,
    },
    /// The file is a reproducer of a version this mcpfuzz cannot read.
    UnsupportedVersion {
        /// The file.
        path: PathBuf,
        /// The version it declares.
        version: u64,
    },
    /// A required field is absent.
    MissingField {
        /// The file.
        path: PathBuf,
        /// The top-level field.
        field: &'static str,
    },
    /// A field is present but does not have the expected shape.
    InvalidField {
        /// The file.
        path: PathBuf,
        /// The top-level field.
        field: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

impl ReproError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ReproError::Io { path, .. }
            | ReproError::NotJson { path, .. }
            | ReproError::WrongFormat { path, .. }
            | ReproError::UnsupportedVersion { path, .. }
            | ReproError::MissingField { path, .. }
            | ReproError::InvalidField { path, .. } => path,
        }
    }
}

const WHAT_REPRODUCERS_ARE: &str = "reproducers are the JSON files mcpfuzz writes to crashes/";

impl fmt::Display for ReproError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path().display();
        match self {
            ReproError::Io { source, .. } => write!(
                f,
                "cannot read reproducer {path}: {source}; check the path, {WHAT_REPRODUCERS_ARE}"
            ),
            ReproError::NotJson {
                line,
                column,
                reason,
                ..
            } => write!(
                f,
                "{path} is not an mcpfuzz reproducer: it is not valid JSON ({reason} at line \
                 {line} column {column}); {WHAT_REPRODUCERS_ARE}"
            ),
            ReproError::WrongFormat { format: None, .. } => write!(
                f,
                "{path} is not an mcpfuzz reproducer: it has no \"format\": {FORMAT:?} \
                 marker; {WHAT_REPRODUCERS_ARE}"
            ),
            ReproError::WrongFormat {
                format: Some(format),
                ..
            } => write!(
                f,
                "{path} is not an mcpfuzz reproducer: its \"format\" is {format}, not \
                 {FORMAT:?}; {WHAT_REPRODUCERS_ARE}"
            ),
            ReproError::UnsupportedVersion { version, .. } => write!(
                f,
                "{path} is a version {version} mcpfuzz reproducer, but mcpfuzz {} reads \
                 version {VERSION} only; replay it with the mcpfuzz that wrote it (its \
                 found.mcpfuzz_version)",
                env!("CARGO_PKG_VERSION")
            ),
            ReproError::MissingField { field, .. } => write!(
                f,
                "{path} is not a complete mcpfuzz reproducer: the {field:?} field is missing; \
                 restore it or re-create the file with mcpfuzz, {WHAT_REPRODUCERS_ARE}"
            ),
            ReproError::InvalidField { field, reason, .. } => write!(
                f,
                "{path} is not a valid mcpfuzz reproducer: the {field:?} field {reason}; \
                 fix that field or re-create the file with mcpfuzz, {WHAT_REPRODUCERS_ARE}"
            ),
        }
    }
}

impl std::error::Error for ReproError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ReproError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The signatures of every reproducer in `dir`, so a new run does not report old findings
/// again.
///
/// A missing directory has none; files that do not load are skipped with a warning.
pub fn known_signatures(dir: &Path) -> HashSet<String> {
    let mut signatures = HashSet::new();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            if error.kind() != io::ErrorKind::NotFound {
                log::warn!("cannot list reproducers in {}: {error}", dir.display());
            }
            return signatures;
        }
    };
    for entry in entries {
        let path = match entry {
            Ok(entry) => entry.path(),
            Err(error) => {
                log::warn!("cannot list reproducers in {}: {error}", dir.display());
                continue;
            }
        };
        if !is_reproducer_name(&path) {
            continue;
        }
        match load(&path) {
            Ok(repro) => {
                signatures.insert(repro.finding.signature);
            }
            Err(error) => log::warn!("skipping: {error}"),
        }
    }
    signatures
}

/// `*.json`, but not the hidden temporary files of an unfinished [`save`].
fn is_reproducer_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return false;
    };
    name.ends_with(".json") && !name.starts_with('.') && path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Kind, Severity};
    use crate::transcript::{Frame, ReplyPolicy};
    use serde_json::json;

    /// A scratch directory removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("mcpfuzz-repro-test-{}-{name}", std::process::id()));
            let _ = fs::remove_dir_all(&path);
            fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }

        fn write(&self, name: &str, text: &str) -> PathBuf {
            let path = self.0.join(name);
            fs::write(&path, text).unwrap();
            path
        }

        fn names(&self) -> Vec<String> {
            let mut names: Vec<String> = fs::read_dir(&self.0)
                .unwrap()
                .map(|entry| entry.unwrap().file_name().into_string().unwrap())
                .collect();
            names.sort();
            names
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn sample(signature_rest: &str) -> Reproducer {
        let finding = Finding::new(
            Kind::Crash,
            signature_rest,
            Severity::High,
            "exit by SIGSEGV after tools/call",
            json!({"signal": 11, "stderr_tail": "Segmentation fault"}),
        );
        let target = TargetSpec::from_command(vec!["python3".into(), "server.py".into()]);
        let transcript = vec![
            Item::Frame(Frame(
                b"{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\"}\n".to_vec(),
            )),
            Item::Policy {
                reply_policy: ReplyPolicy::WrongId,
            },
            Item::Frame(Frame(b"{\"a\":1}\r\n".to_vec())),
        ];
        let found = Found {
            executions: 1234,
            elapsed_secs: 1.5,
            original_items: 7,
            minimized: true,
            confirmations: 2,
            ..Found::now()
        };
        Reproducer::new(finding, target, transcript, found)
    }

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a_64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a_64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a_64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn file_names_are_stable() {
        // These exact strings name files users have checked in: never change them.
        assert_eq!(short_hash(""), "4fd0bfc1");
        assert_eq!(short_hash("foobar"), "72ad2699");
        let finding = sample("exit-signal-11/tools/call:echo").finding;
        assert_eq!(finding.signature, "crash/exit-signal-11/tools/call:echo");
        assert_eq!(file_name(&finding), "crash-6e107366.json");
    }

    #[test]
    fn save_then_load_round_trips() {
        let dir = TempDir::new("round-trip");
        let repro = sample("exit-signal-11/tools/call:echo");
        let path = save(&dir.0.join("crashes"), &repro).unwrap();
        assert_eq!(path, dir.0.join("crashes").join(file_name(&repro.finding)));
        assert_eq!(load(&path).unwrap(), repro);
    }

    #[test]
    fn saved_file_is_pretty_json_in_field_order() {
        let dir = TempDir::new("pretty");
        let path = save(&dir.0, &sample("x")).unwrap();
        let text = fs::read_to_string(path).unwrap();
        assert!(
            text.starts_with("{\n  \"format\": \"mcpfuzz-reproducer\",\n  \"version\": 1,\n"),
            "{text}"
        );
        assert!(text.ends_with("}\n"), "{text}");
    }

    #[test]
    fn invalid_utf8_frame_survives_save_and_load_byte_exact() {
        let dir = TempDir::new("invalid-utf8");
        let mut repro = sample("x");
        let raw = vec![0xff, 0xfe, 0x00, b'{', b'\r', b'\n'];
        repro.transcript = vec![Item::Frame(Frame(raw.clone()))];
        let path = save(&dir.0, &repro).unwrap();
        assert!(fs::read_to_string(&path)
            .unwrap()
            .contains("\"hex\": \"fffe007b0d0a\""));
        assert_eq!(
            load(&path).unwrap().transcript,
            vec![Item::Frame(Frame(raw))]
        );
    }

    #[test]
    fn save_leaves_no_temporary_files_and_overwrites() {
        let dir = TempDir::new("no-temp");
        let repro = sample("x");
        save(&dir.0, &repro).unwrap();
        let mut changed = repro.clone();
        changed.found.executions = 99;
        save(&dir.0, &changed).unwrap();
        assert_eq!(dir.names(), vec![file_name(&repro.finding)]);
        assert_eq!(
            load(&dir.0.join(file_name(&repro.finding))).unwrap(),
            changed
        );
    }

    #[test]
    fn repeat_and_found_default_when_absent() {
        let dir = TempDir::new("defaults");
        let mut value = serde_json::to_value(sample("x")).unwrap();
        let object = value.as_object_mut().unwrap();
        object.remove("repeat");
        object.remove("found");
        let path = dir.write("hand-written.json", &value.to_string());
        let repro = load(&path).unwrap();
        assert_eq!(repro.repeat, 1);
        assert_eq!(repro.found, Found::default());
    }

    /// Loads `text` from a file named `name` and returns the error message.
    fn load_error(dir: &TempDir, name: &str, text: &str) -> String {
        let path = dir.write(name, text);
        load(&path).unwrap_err().to_string()
    }

    fn with_field(field: &str, replacement: Option<serde_json::Value>) -> String {
        let mut value = serde_json::to_value(sample("x")).unwrap();
        let object = value.as_object_mut().unwrap();
        match replacement {
            Some(replacement) => object.insert(field.to_owned(), replacement),
            None => object.remove(field),
        };
        value.to_string()
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let dir = TempDir::new("io");
        let path = dir.0.join("absent.json");
        let error = load(&path).unwrap_err();
        assert!(
            matches!(&error, ReproError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
        let text = error.to_string();
        assert!(
            text.starts_with(&format!("cannot read reproducer {}: ", path.display())),
            "{text}"
        );
        assert!(text.ends_with(WHAT_REPRODUCERS_ARE), "{text}");
    }

    #[test]
    fn each_load_error_names_file_problem_and_fix() {
        let dir = TempDir::new("errors");
        let at = |name: &str| dir.0.join(name).display().to_string();
        assert_eq!(
            load_error(&dir, "a.json", "{\n  \"format\": oops\n}"),
            format!(
                "{} is not an mcpfuzz reproducer: it is not valid JSON (expected value at \
                 line 2 column 13); reproducers are the JSON files mcpfuzz writes to crashes/",
                at("a.json")
            )
        );
        assert_eq!(
            load_error(&dir, "b.json", "[1, 2]"),
            format!(
                "{} is not an mcpfuzz reproducer: it has no \"format\": \"mcpfuzz-reproducer\" \
                 marker; reproducers are the JSON files mcpfuzz writes to crashes/",
                at("b.json")
            )
        );
        assert_eq!(
            load_error(&dir, "c.json", &with_field("format", Some(json!("sarif")))),
            format!(
                "{} is not an mcpfuzz reproducer: its \"format\" is \"sarif\", not \
                 \"mcpfuzz-reproducer\"; reproducers are the JSON files mcpfuzz writes to \
                 crashes/",
                at("c.json")
            )
        );
        assert_eq!(
            load_error(&dir, "d.json", &with_field("version", Some(json!(2)))),
            format!(
                "{} is a version 2 mcpfuzz reproducer, but mcpfuzz {} reads version 1 only; \
                 replay it with the mcpfuzz that wrote it (its found.mcpfuzz_version)",
                at("d.json"),
                env!("CARGO_PKG_VERSION")
            )
        );
        assert_eq!(
            load_error(&dir, "e.json", &with_field("transcript", None)),
            format!(
                "{} is not a complete mcpfuzz reproducer: the \"transcript\" field is missing; \
                 restore it or re-create the file with mcpfuzz, reproducers are the JSON files \
                 mcpfuzz writes to crashes/",
                at("e.json")
            )
        );
        assert_eq!(
            load_error(&dir, "f.json", &with_field("version", Some(json!("1")))),
            format!(
                "{} is not a valid mcpfuzz reproducer: the \"version\" field is \"1\", not a \
                 whole number; fix that field or re-create the file with mcpfuzz, reproducers \
                 are the JSON files mcpfuzz writes to crashes/",
                at("f.json")
            )
        );
        assert_eq!(
            load_error(
                &dir,
                "g.json",
                &with_field("transcript", Some(json!([{"hex": "abc"}])))
            ),
            format!(
                "{} is not a valid mcpfuzz reproducer: the \"transcript\" field does not \
                 decode: data did not match any variant of untagged enum Item; fix that field \
                 or re-create the file with mcpfuzz, reproducers are the JSON files mcpfuzz \
                 writes to crashes/",
                at("g.json")
            )
        );
        assert_eq!(
            load_error(&dir, "h.json", &with_field("repeat", Some(json!(0)))),
            format!(
                "{} is not a valid mcpfuzz reproducer: the \"repeat\" field is 0; a transcript \
                 must run at least once; fix that field or re-create the file with mcpfuzz, \
                 reproducers are the JSON files mcpfuzz writes to crashes/",
                at("h.json")
            )
        );
    }

    #[test]
    fn known_signatures_skips_unreadable_files_and_temporaries() {
        let dir = TempDir::new("known");
        save(&dir.0, &sample("one")).unwrap();
        save(&dir.0, &sample("two")).unwrap();
        dir.write("garbage.json", "not json");
        dir.write("notes.txt", "not a reproducer either");
        let hidden = serde_json::to_string(&sample("hidden")).unwrap();
        dir.write(".crash-00000000.json.1.0.tmp", &hidden);
        dir.write(".hidden.json", &hidden);
        let mut signatures: Vec<String> = known_signatures(&dir.0).into_iter().collect();
        signatures.sort();
        assert_eq!(signatures, vec!["crash/one", "crash/two"]);
        assert!(known_signatures(&dir.0.join("absent")).is_empty());
    }
}
