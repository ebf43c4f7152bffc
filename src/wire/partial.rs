//! JSON that serde_json cannot hold in full.
//!
//! serde_json refuses input nested more than 128 levels (it recurses once per level) and
//! numbers beyond the range of `f64` (`1e999`), yet such a line is valid JSON (RFC 8259
//! leaves depth and number range to implementations) that the target's parser may read:
//! Python's gives up near 1,000 levels and reads `1e999` as infinity, JavaScript's goes
//! deeper still. [`parse`] reads such a line anyway, with each deep container and each
//! such number replaced by `null`, after checking its syntax with a scanner that keeps its
//! nesting on the heap, so no input depth can overflow the stack.

use serde_json::Value;
use std::ops::Range;

/// Containers deeper than this many levels are replaced by `null` when a line is too
/// deep for serde_json; well below its limit of 128, and far deeper than any rule looks.
pub const MAX_PARSED_DEPTH: usize = 100;

/// A parsed line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Parsed {
    /// The line's value.
    Whole(Value),
    /// The value of a line serde_json could not hold, with every container nested deeper
    /// than [`MAX_PARSED_DEPTH`] and every number beyond `f64` replaced by `null`.
    Pruned(Value),
}

impl Parsed {
    pub(crate) fn into_value(self) -> Value {
        match self {
            Parsed::Whole(value) | Parsed::Pruned(value) => value,
        }
    }
}

/// Parses one line (without its `\n`): `None` when it is not JSON.
pub(crate) fn parse(line: &[u8]) -> Option<Parsed> {
    if let Ok(value) = serde_json::from_slice::<Value>(line) {
        return Some(Parsed::Whole(value));
    }
    // Whatever serde_json's reason, only a valid line with parts it cannot hold is worth
    // a second look: any other rejection stands.
    let unreadable = unreadable_parts(line, MAX_PARSED_DEPTH)?;
    if unreadable.is_empty() {
        return None;
    }
    let mut pruned = Vec::with_capacity(line.len());
    let mut start = 0;
    for range in unreadable {
        pruned.extend_from_slice(&line[start..range.start]);
        pruned.extend_from_slice(b"null");
        start = range.end;
    }
    pruned.extend_from_slice(&line[start..]);
    serde_json::from_slice(&pruned).ok().map(Parsed::Pruned)
}

/// When `bytes` is one JSON value (surrounded by optional whitespace), the byte ranges of
/// the containers that open at nesting level `max_depth + 1` and of the numbers beyond
/// `f64` outside them, in order; `None` when it is not JSON. Iterative: the nesting lives
/// in a `Vec`.
///
/// Strings are checked for control characters and escapes; what else serde_json refuses
/// (lone surrogate escapes) is left to it, which parses everything outside the ranges
/// again.
fn unreadable_parts(bytes: &[u8], max_depth: usize) -> Option<Vec<Range<usize>>> {
    std::str::from_utf8(bytes).ok()?;
    let mut scanner = Scanner { bytes, pos: 0 };
    // `true` for an object, `false` for an array.
    let mut stack: Vec<bool> = Vec::new();
    let mut unreadable = Vec::new();
    let mut deep_start = 0;
    'value: loop {
        scanner.skip_whitespace();
        match scanner.peek()? {
            open @ (b'{' | b'[') => {
                let is_object = open == b'{';
                stack.push(is_object);
                if stack.len() == max_depth + 1 {
                    deep_start = scanner.pos;
                }
                scanner.pos += 1;
                scanner.skip_whitespace();
                let close = if is_object { b'}' } else { b']' };
                if scanner.peek() != Some(close) {
                    if is_object {
                        scanner.key()?;
                    }
                    continue 'value;
                }
                // An empty container: closed below.
            }
            b'"' => scanner.string()?,
            b't' => scanner.literal(b"true")?,
            b'f' => scanner.literal(b"false")?,
            b'n' => scanner.literal(b"null")?,
            b'-' | b'0'..=b'9' => {
                let start = scanner.pos;
                scanner.number()?;
                if stack.len() <= max_depth && !scanner.number_fits(start) {
                    unreadable.push(start..scanner.pos);
                }
            }
            _ => return None,
        }
        // After a value: a comma, or the end of containers, or the end of the input.
        loop {
            scanner.skip_whitespace();
            let Some(&is_object) = stack.last() else {
                return (scanner.pos == bytes.len()).then_some(unreadable);
            };
            match scanner.peek()? {
                b',' => {
                    scanner.pos += 1;
                    if is_object {
                        scanner.skip_whitespace();
                        scanner.key()?;
                    }
                    continue 'value;
                }
                b'}' if is_object => {}
                b']' if !is_object => {}
                _ => return None,
            }
            scanner.pos += 1;
            if stack.len() == max_depth + 1 {
                unreadable.push(deep_start..scanner.pos);
            }
            stack.pop();
        }
    }
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_whitespace(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    /// An object key and its colon.
    fn key(&mut self) -> Option<()> {
        if self.peek() != Some(b'"') {
            return None;
        }
        self.string()?;
        self.skip_whitespace();
        (self.peek() == Some(b':')).then(|| self.pos += 1)
    }

    fn string(&mut self) -> Option<()> {
        self.pos += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.pos += 1;
                    return Some(());
                }
                b'\\' => {
                    self.pos += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.pos += 1,
                        b'u' => {
                            let hex = self.bytes.get(self.pos + 1..self.pos + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.pos += 5;
                        }
                        _ => return None,
                    }
                }
                0x00..=0x1f => return None,
                _ => self.pos += 1,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let end = self.pos + word.len();
        (self.bytes.get(self.pos..end)? == word).then(|| self.pos = end)
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    fn number(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek()? {
            b'0' => self.pos += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            self.at_least_one_digit()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            self.at_least_one_digit()?;
        }
        Some(())
    }

    /// Whether the number that starts at `start` and ends here is within `f64`'s range.
    fn number_fits(&self, start: usize) -> bool {
        std::str::from_utf8(&self.bytes[start..self.pos])
            .ok()
            .and_then(|text| text.parse::<f64>().ok())
            .is_some_and(f64::is_finite)
    }

    fn at_least_one_digit(&mut self) -> Option<()> {
        if !self.peek()?.is_ascii_digit() {
            return None;
        }
        self.digits();
        Some(())
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|byte| byte.is_ascii_digit()) {
            self.pos += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nested(depth: usize, inner: &str) -> String {
        format!("{}{inner}{}", "[".repeat(depth), "]".repeat(depth))
    }

    #[test]
    fn shallow_lines_parse_whole_and_garbage_does_not_parse() {
        assert_eq!(
            parse(br#"{"a":[1]}"#),
            Some(Parsed::Whole(json!({"a": [1]})))
        );
        for garbage in [
            &b"{\"a\":"[..],
            b"[1,]",
            b"{\"a\" 1}",
            b"\"\\x\"",
            b"01",
            b"1.",
            b"-",
            b"tru",
            b"[1] 2",
            b"\"\\ud800\"",
        ] {
            assert_eq!(parse(garbage), None, "{}", String::from_utf8_lossy(garbage));
        }
    }

    #[test]
    fn deep_lines_are_pruned_at_the_depth_limit() {
        let line = format!(
            r#"{{"jsonrpc":"2.0","id":7,"params":{}, "x" : [ {{ }} , "s\"]\\" ]}}"#,
            nested(300, "1")
        );
        let Some(Parsed::Pruned(value)) = parse(line.as_bytes()) else {
            panic!("not pruned: {line}");
        };
        assert_eq!(value["id"], json!(7));
        assert_eq!(value["x"], json!([{}, "s\"]\\"]));
        // `params` is level 2, so its arrays at levels 2 to 100 survive and the one at
        // level 101 is null.
        let mut inner = &value["params"];
        for _ in 2..MAX_PARSED_DEPTH {
            inner = &inner[0];
        }
        assert_eq!(inner, &json!([null]));
    }

    #[test]
    fn deep_lines_must_still_be_json() {
        for line in [
            nested(300, "1,"),
            nested(300, "1") + "]",
            nested(300, "{\"a\":}"),
            format!("{}{}", "[".repeat(300), "]".repeat(299)),
            format!("{} x", nested(300, "")),
        ] {
            assert_eq!(parse(line.as_bytes()), None, "{line}");
        }
        assert!(matches!(
            parse(format!(" {}\r", nested(129, "")).as_bytes()),
            Some(Parsed::Pruned(_))
        ));
    }

    #[test]
    fn numbers_beyond_f64_read_as_null() {
        assert_eq!(parse(b"1e999"), Some(Parsed::Pruned(Value::Null)));
        assert_eq!(
            parse(br#"{"id":-1E+400,"a":[1e308,0.5e-999,1e999]}"#),
            Some(Parsed::Pruned(json!({"id": null, "a": [1e308, 0.0, null]})))
        );
        let digits = format!("[{}]", "9".repeat(400));
        assert_eq!(
            parse(digits.as_bytes()),
            Some(Parsed::Pruned(json!([null])))
        );
        let deep = format!("[{},1e999]", nested(300, "1e999"));
        let Some(Parsed::Pruned(value)) = parse(deep.as_bytes()) else {
            panic!("not pruned: {deep}");
        };
        assert_eq!(value[1], Value::Null);
        assert_eq!(parse(b"[1e999,]"), None);
    }

    #[test]
    fn the_deepest_lines_do_not_overflow_a_test_thread_stack() {
        let depth = 100_000;
        let arrays = nested(depth, "");
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for line in [arrays, objects] {
            assert!(matches!(parse(line.as_bytes()), Some(Parsed::Pruned(_))));
        }
    }
}
