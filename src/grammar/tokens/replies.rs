//! Tokens from what the target says while it is fuzzed: short strings in error messages,
//! error data and tool results, such as the key in `Unknown key 'abc'`.
//!
//! This runs for every reply, so it is rate-limited: error replies and tool errors are
//! read, plain results only one in [`RESULT_SAMPLE`]; a text already read is recognized by
//! its hash and skipped, digits aside, so that messages differing only in a counter, id,
//! line number or time are read once. Nor can the pool be flooded with junk: a fragment
//! that the fuzzer itself sent recently (a reflected argument) is not a token, and neither
//! is one with a run of four digits or more (an id, a time, an address).

use std::collections::HashSet;

use serde_json::Value;

use super::{extend, is_full, is_ours};

/// One plain result in this many is read.
pub const RESULT_SAMPLE: u64 = 64;
/// Harvested strings are this long, in bytes.
pub const REPLY_TOKEN_BYTES: std::ops::RangeInclusive<usize> = 2..=64;
/// How much of one text is read.
const MAX_TEXT: usize = 1024;
/// How many texts of one reply are read.
const MAX_TEXTS: usize = 8;
/// Text hashes remembered before the memory starts over.
const MAX_SEEN: usize = 1 << 16;

/// Harvests tokens from the replies of one child; see the module documentation.
#[derive(Debug, Default)]
pub struct ReplyTokens {
    seen: HashSet<u64>,
    results: u64,
}

impl ReplyTokens {
    /// Reads one reply's `error` and `result` members and adds what it finds to the pool.
    /// `was_sent` says whether bytes occur in what the fuzzer sent recently.
    pub fn on_reply(
        &mut self,
        error: Option<&Value>,
        result: Option<&Value>,
        was_sent: &mut dyn FnMut(&[u8]) -> bool,
    ) {
        if error.is_none() {
            let Some(result) = result else {
                return;
            };
            let tool_error = result.get("isError") == Some(&Value::Bool(true));
            self.results += 1;
            if !tool_error && self.results % RESULT_SAMPLE != 1 {
                return;
            }
        }
        if is_full() {
            return;
        }
        let mut found = Vec::new();
        let mut texts = 0;
        let seen = &mut self.seen;
        let mut read = |text: &str| {
            texts += 1;
            if texts > MAX_TEXTS {
                return;
            }
            let text = prefix(text, MAX_TEXT);
            if seen.len() >= MAX_SEEN {
                seen.clear();
            }
            if seen.insert(hash(text)) {
                found.extend(fragments(text, was_sent));
            }
        };
        match (error, result) {
            (Some(error), _) => {
                if let Some(message) = error.get("message").and_then(Value::as_str) {
                    read(message);
                }
                if let Some(data) = error.get("data") {
                    strings_in(data, &mut read, 0);
                }
            }
            (None, Some(result)) => {
                let Some(Value::Array(content)) = result.get("content") else {
                    return;
                };
                for item in content {
                    if item.get("type").and_then(Value::as_str) == Some("text") {
                        if let Some(text) = item.get("text").and_then(Value::as_str) {
                            read(text);
                        }
                    }
                }
            }
            (None, None) => {}
        }
        if !found.is_empty() {
            extend(found);
        }
    }
}

/// Calls `read` with the string values inside error data, depth-first, a few levels deep.
fn strings_in(value: &Value, read: &mut dyn FnMut(&str), depth: usize) {
    if depth > 3 {
        return;
    }
    match value {
        Value::String(text) => read(text),
        Value::Array(items) => items
            .iter()
            .for_each(|item| strings_in(item, read, depth + 1)),
        Value::Object(map) => map
            .values()
            .for_each(|item| strings_in(item, read, depth + 1)),
        _ => {}
    }
}

/// The tokens in one text: the text itself when it is one short word (a value, not a
/// sentence), the parts in quotes, and the identifier-like words. Fragments that were
/// sent are dropped, and so is the whole text when any of its parts was (it reflects
/// the input); so are fragments with escape sequences in them (`\u00e9`), which are
/// the server's rendering of some other string.
pub(crate) fn fragments(text: &str, was_sent: &mut dyn FnMut(&[u8]) -> bool) -> Vec<String> {
    let mut parts: Vec<&str> = quoted(text);
    parts.extend(
        text.split(|c: char| !is_word_char(c))
            .filter_map(identifier),
    );
    let mut reflected = false;
    let mut found: Vec<String> = Vec::new();
    for part in parts {
        if !REPLY_TOKEN_BYTES.contains(&part.len())
            || found.iter().any(|known| known == part)
            || has_digit_run(part, 4)
            || has_escape(part)
        {
            continue;
        }
        if sent(part, was_sent) {
            reflected = true;
        } else if !is_ours(part) {
            found.push(part.to_owned());
        }
    }
    let whole = text.trim();
    if !reflected
        && REPLY_TOKEN_BYTES.contains(&whole.len())
        && !whole.contains(|c: char| c.is_control() || c.is_whitespace())
        && !has_digit_run(whole, 4)
        && !has_escape(whole)
        && !is_ours(whole)
        && !found.iter().any(|known| known == whole)
        && !sent(whole, was_sent)
    {
        found.insert(0, whole.to_owned());
    }
    found
}

/// Whether `part` was sent, as it is or as it reads inside a JSON string.
fn sent(part: &str, was_sent: &mut dyn FnMut(&[u8]) -> bool) -> bool {
    if was_sent(part.as_bytes()) {
        return true;
    }
    let escaped = serde_json::to_string(part).expect("serializing a str is infallible");
    let escaped = &escaped[1..escaped.len() - 1];
    escaped != part && was_sent(escaped.as_bytes())
}

/// Text between matching quotes (`'`, `"` or a backtick), where the opening quote does
/// not follow a letter or digit (an apostrophe, as in `can't`, opens nothing).
fn quoted(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut previous: Option<char> = None;
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        let opens = matches!(c, '\'' | '"' | '`') && !previous.is_some_and(char::is_alphanumeric);
        previous = Some(c);
        if !opens {
            continue;
        }
        let start = at + c.len_utf8();
        if let Some(length) = text[start..].find(c) {
            parts.push(&text[start..start + length]);
            // Continue after the closing quote.
            for _ in text[start..start + length + 1].chars() {
                chars.next();
            }
            previous = Some(c);
        }
    }
    parts
}

/// Word characters, backslash included so that an escape sequence stays inside its
/// word (and the word is then dropped) rather than leaving a word like `u00e9` behind.
fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/' | ':' | '@' | '$' | '\\')
}

/// Whether `text` holds a `\u` or `\x` escape sequence.
fn has_escape(text: &str) -> bool {
    text.as_bytes()
        .windows(2)
        .any(|pair| pair[0] == b'\\' && matches!(pair[1], b'u' | b'x' | b'U'))
}

/// A word that reads as a name rather than prose: it has an underscore, letters and
/// digits, an inner capital (`camelCase`), inner punctuation (`a.b`, `x-y`, `a/b`), or
/// is all capitals (`ENOENT`). Trailing sentence punctuation is dropped first.
fn identifier(word: &str) -> Option<&str> {
    let word = word.trim_end_matches(['.', ':', '-', '/']);
    if word.contains('\\') {
        return None;
    }
    let bytes = word.as_bytes();
    let letters = bytes.iter().any(u8::is_ascii_alphabetic);
    let digits = bytes.iter().any(u8::is_ascii_digit);
    let camel = bytes
        .windows(2)
        .any(|pair| pair[0].is_ascii_lowercase() && pair[1].is_ascii_uppercase());
    let inner_punctuation = bytes.len() > 2
        && bytes[1..bytes.len() - 1]
            .iter()
            .any(|b| matches!(b, b'_' | b'.' | b'-' | b'/' | b':' | b'@' | b'$'));
    let capitals = bytes.len() >= 2
        && letters
        && bytes
            .iter()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_');
    let name = letters && (word.contains('_') || digits || camel || inner_punctuation || capitals);
    name.then_some(word)
}

/// At most `max` bytes of `text`, cut at a character boundary.
fn prefix(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Whether `text` has `run` ASCII digits in a row.
fn has_digit_run(text: &str, run: usize) -> bool {
    let mut digits = 0;
    text.bytes().any(|byte| {
        digits = if byte.is_ascii_digit() { digits + 1 } else { 0 };
        digits >= run
    })
}

/// A hash (64-bit FNV-1a) of `text` that ignores its digits.
fn hash(text: &str) -> u64 {
    text.bytes()
        .filter(|byte| !byte.is_ascii_digit())
        .fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
}

#[cfg(test)]
mod tests {
    use super::super::snapshot;
    use super::*;
    use serde_json::json;

    fn never_sent(_: &[u8]) -> bool {
        false
    }

    fn fragments_of(text: &str) -> Vec<String> {
        fragments(text, &mut never_sent)
    }

    #[test]
    fn error_messages_give_quoted_parts_and_names() {
        assert_eq!(fragments_of("Unknown key 'abc'"), ["abc"]);
        assert_eq!(fragments_of(" HELLO_2 "), ["HELLO_2"]);
        assert_eq!(fragments_of("ok"), ["ok"]);
        assert_eq!(
            fragments_of(r"unexpected argument '\ufffdX' near \u00e9t\x41 ok_then"),
            ["ok_then"]
        );
        assert_eq!(
            fragments_of("can't open \"config.yaml\": expected one of `dry_run`, maxDepth, ENOENT, v2 or plain words"),
            ["config.yaml", "dry_run", "maxDepth", "ENOENT", "v2"]
        );
        assert_eq!(fragments_of("x"), Vec::<String>::new());
        assert_eq!(fragments_of("a line\nand another"), Vec::<String>::new());
    }

    #[test]
    fn reflected_input_and_probes_are_not_tokens() {
        let sent = br#"{"arguments":{"name":"zq9\"x","n":"1234"}}"#;
        let mut was_sent = |needle: &[u8]| memchr::memmem::find(sent, needle).is_some();
        assert_eq!(
            fragments("no tool 'zq9\"x' (code E_NOTOOL)", &mut was_sent),
            ["E_NOTOOL"]
        );
        assert_eq!(
            fragments_of("read MCPFUZZ-CANARY-7f3a from 'mcpfuzz-s0123abcd': 3162399999"),
            Vec::<String>::new()
        );
        assert_eq!(fragments_of("'1234567890'"), Vec::<String>::new());
        assert_eq!(
            fragments_of("request_1234 failed at 2025-06-18T10:00:00Z"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn messages_that_differ_only_in_digits_are_read_once() {
        let mut tokens = ReplyTokens::default();
        for step in 0..500 {
            let error = json!({"message": format!("bad input at step{step} (use 'strict')")});
            tokens.on_reply(Some(&error), None, &mut never_sent);
        }
        assert_eq!(*snapshot(), ["strict", "step0"]);
    }

    #[test]
    fn replies_feed_the_pool_at_the_sampled_rate() {
        let mut tokens = ReplyTokens::default();
        let error = json!({"code": -32602, "message": "Unknown key 'abc'", "data": {"hint": "use 'key_name'"}});
        tokens.on_reply(Some(&error), None, &mut never_sent);
        tokens.on_reply(Some(&error), None, &mut never_sent);
        let result = |text: &str| json!({"content": [{"type": "text", "text": text}]});
        for i in 0..RESULT_SAMPLE {
            tokens.on_reply(None, Some(&result(&format!("said_{i}"))), &mut never_sent);
        }
        let tool_error =
            json!({"isError": true, "content": [{"type": "text", "text": "bad 'mode'"}]});
        tokens.on_reply(None, Some(&tool_error), &mut never_sent);
        assert_eq!(*snapshot(), ["abc", "key_name", "said_0", "mode"]);
    }
}
