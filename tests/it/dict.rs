//! `mcpfuzz dict` against the demo server: a dictionary libFuzzer can read, with the
//! names the server announces in each of their forms.

use crate::util::{demo_server, mcpfuzz, run, text, TempDir};

/// The entries of a libFuzzer dictionary, unescaped the way libFuzzer reads them;
/// panics on a line libFuzzer would reject.
fn entries(dictionary: &str) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    for line in dictionary.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (_, quoted) = line.split_once('"').unwrap_or_else(|| panic!("{line:?}"));
        let inner = quoted
            .strip_suffix('"')
            .unwrap_or_else(|| panic!("{line:?}"));
        let bytes = inner.as_bytes();
        let mut entry = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            assert!((b' '..=b'~').contains(&bytes[at]), "{line:?}");
            match (bytes[at], bytes.get(at + 1)) {
                (b'\\', Some(b'\\' | b'"')) => {
                    entry.push(bytes[at + 1]);
                    at += 2;
                }
                (b'\\', Some(b'x')) => {
                    let hex = std::str::from_utf8(&bytes[at + 2..at + 4]).unwrap();
                    entry.push(u8::from_str_radix(hex, 16).unwrap());
                    at += 4;
                }
                (b'\\', _) => panic!("invalid escape in {line:?}"),
                (b'"', _) => panic!("unescaped quote in {line:?}"),
                (byte, _) => {
                    entry.push(byte);
                    at += 1;
                }
            }
        }
        entries.push(entry);
    }
    entries
}

#[test]
fn dict_writes_the_demo_catalog_as_a_libfuzzer_dictionary() {
    let dir = TempDir::new("dict");
    let path = dir.path().join("jsonrpc.dict");
    let target = format!("python3 {}", demo_server());
    let output = run(mcpfuzz()
        .args(["dict", "--target", &target, "--output"])
        .arg(&path));
    assert_eq!(output.status.code(), Some(0), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("mcpfuzz dict: "),
        "{}",
        text(&output)
    );
    let dictionary = std::fs::read_to_string(&path).unwrap();
    assert!(dictionary.starts_with("# "), "{dictionary}");
    let entries = entries(&dictionary);
    assert!(
        entries.iter().all(|entry| (1..=64).contains(&entry.len())),
        "{dictionary}"
    );
    for name in ["echo", "read_file", "lookup_user"] {
        let mut sized = vec![name.len() as u8];
        sized.extend_from_slice(name.as_bytes());
        assert!(
            entries.contains(&name.as_bytes().to_vec()),
            "{name} in {dictionary}"
        );
        assert!(entries.contains(&sized), "sized {name} in {dictionary}");
    }
}

#[test]
fn dict_without_a_working_target_fails_with_a_message() {
    let output = run(mcpfuzz().args(["dict", "--target", "false"]));
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("failed to start"),
        "{}",
        text(&output)
    );
}
