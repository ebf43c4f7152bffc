//! Byte-exact frames that no JSON serializer writes: broken JSON, invalid UTF-8, NUL
//! bytes, odd line ends, split and joined frames, empty and very long lines.

use arbitrary::Arbitrary;
use serde_json::{json, Value};

use super::args::ArgsPlan;
use super::context::Out;
use super::envelope::{self, Envelope};
use super::methods::{self, CallTool, Method, MethodCall, ToolName};
use super::uri::UriPlan;
use super::values::{self, LengthClass};
use super::{Mostly, SmallBytes};
use crate::transcript::{Frame, Item};

/// Bare JSON values (and near-JSON) that are not messages.
const BARE: &[&str] = &[
    "1",
    "\"x\"",
    "null",
    "true",
    "false",
    "[]",
    "{}",
    "-",
    "1e999",
    "\"\"",
    "[1,2]",
    "{\"jsonrpc\":\"2.0\"}",
    "{\"method\":\"ping\"}",
    "{\"jsonrpc\":\"2.0\",\"id\":null}",
    "NaN",
    "undefined",
];

/// What may follow a complete JSON value on the same line.
const GARBAGE: &[&str] = &[
    " x",
    "}",
    "]",
    ",",
    "\"",
    "garbage",
    "null",
    "0",
    "\u{0}",
    " \u{feff}",
];

/// Byte sequences that are not UTF-8: stray bytes, overlong forms, encoded surrogates,
/// truncated sequences, code points past U+10FFFF.
const INVALID_UTF8: &[&[u8]] = &[
    &[0xff],
    &[0xfe],
    &[0xc0, 0xaf],
    &[0xe0, 0x80, 0xaf],
    &[0xed, 0xa0, 0x80],
    &[0xe2, 0x82],
    &[0x80],
    &[0xf8, 0x88, 0x80, 0x80, 0x80],
    &[0xf4, 0x90, 0x80, 0x80],
    &[0xc3],
];

/// Whitespace-only lines, including whitespace JSON does not allow.
const BLANK_LINES: &[&str] = &[
    " \n",
    "\t\n",
    "   \t  \n",
    "\r\n",
    "\u{a0}\n",
    "\u{feff}\n",
    "\u{b}\u{c}\n",
];

/// A raw frame.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum Raw {
    /// A valid frame broken into invalid JSON.
    Broken {
        /// The frame before breaking.
        base: RawBase,
        /// How it breaks.
        breakage: Breakage,
    },
    /// A bare value or near-JSON word on its own line.
    Bare(u8),
    /// A valid frame with bytes that are not UTF-8.
    InvalidUtf8 {
        /// The frame.
        base: RawBase,
        /// Which bytes, modulo the table.
        bytes: u8,
        /// Where they go.
        placement: BytePlacement,
    },
    /// A valid frame with a raw NUL byte.
    Nul {
        /// The frame.
        base: RawBase,
        /// Where the NUL goes.
        placement: BytePlacement,
    },
    /// A valid frame ending in CRLF.
    Crlf(RawBase),
    /// A valid frame ending in a lone CR.
    CrOnly(RawBase),
    /// A valid frame written in two parts.
    Split {
        /// The frame.
        base: RawBase,
        /// Where it splits, modulo its length.
        at: u16,
    },
    /// A valid frame without its newline, so the next frame joins its line.
    NoNewline(RawBase),
    /// An empty line.
    EmptyLine,
    /// A whitespace-only line.
    BlankLine(u8),
    /// A very long line.
    Long(LongLine),
    /// A valid frame after a UTF-8 byte order mark.
    Bom(RawBase),
    /// Two valid frames in one write.
    TwoInOneWrite(RawBase, RawBase),
    /// A valid frame after leading whitespace.
    LeadingWhitespace(RawBase),
    /// Bytes chosen by the fuzzer, as one line.
    Free(SmallBytes),
}

/// The valid message a raw frame starts from.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawBase {
    /// `ping`.
    Ping,
    /// `tools/list`.
    ToolsList,
    /// A tools/call of a discovered tool with valid arguments.
    CallTool(u8, u16),
    /// A resources/read of a listed resource.
    ResourcesRead(u8),
    /// `notifications/initialized`.
    Initialized,
}

/// Ways to break a JSON line.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// Cut short, at a position modulo its length.
    Truncated(u16),
    /// The closing brace dropped.
    MissingClose,
    /// One closing brace too many.
    ExtraClose,
    /// One opening brace too many.
    ExtraOpen,
    /// An unclosed `[` in front.
    OpenArray,
    /// The closing brace replaced by `]`.
    WrongClose,
    /// A comma before the closing brace.
    TrailingComma,
    /// Garbage after the value, modulo the table.
    TrailingGarbage(u8),
    /// The message twice on one line.
    TwoOnOneLine,
    /// Single quotes for double quotes.
    SingleQuotes,
    /// A `//` comment after the value.
    Comment,
}

/// Where stray bytes go in a frame.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum BytePlacement {
    /// Inside the last string value.
    InString,
    /// Right after the opening brace.
    AfterOpen,
    /// Before the newline.
    BeforeNewline,
    /// At the start of the line.
    LineStart,
}

/// A very long line.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongLine {
    /// What it holds.
    pub kind: LongLineKind,
    /// How long.
    pub length: LengthClass,
    /// `Huge` means 1 MiB only when this is at least 240.
    pub rare: u8,
}

/// What a long line holds.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LongLineKind {
    /// Letters, not JSON.
    Letters,
    /// A valid ping whose params hold a long string.
    InString,
    /// Unclosed `[` brackets: a recursive parser's stack.
    OpenBrackets,
    /// Spaces before a valid ping.
    LeadingSpaces,
}

/// The frames of a raw step.
pub(crate) fn frames(out: &mut Out, raw: &Raw) -> Vec<Item> {
    let frame = |bytes: Vec<u8>| Item::Frame(Frame(bytes));
    match raw {
        Raw::Broken { base, breakage } => {
            let text = line_without_newline(out, *base, None);
            vec![frame(with_newline(broken(text, *breakage)))]
        }
        Raw::Bare(pick) => vec![frame(with_newline(
            values::pick_from(BARE, *pick).as_bytes().to_vec(),
        ))],
        Raw::InvalidUtf8 {
            base,
            bytes,
            placement,
        } => {
            let bytes = INVALID_UTF8[usize::from(*bytes) % INVALID_UTF8.len()];
            vec![frame(with_newline(stray_bytes(
                out, *base, bytes, *placement,
            )))]
        }
        Raw::Nul { base, placement } => vec![frame(with_newline(stray_bytes(
            out, *base, b"\0", *placement,
        )))],
        Raw::Crlf(base) => {
            let mut text = line_without_newline(out, *base, None);
            text.extend_from_slice(b"\r\n");
            vec![frame(text)]
        }
        Raw::CrOnly(base) => {
            let mut text = line_without_newline(out, *base, None);
            text.push(b'\r');
            vec![frame(text)]
        }
        Raw::Split { base, at } => {
            let mut line = with_newline(line_without_newline(out, *base, None));
            let at = 1 + usize::from(*at) % (line.len() - 1);
            let second = line.split_off(at);
            vec![frame(line), frame(second)]
        }
        Raw::NoNewline(base) => vec![frame(line_without_newline(out, *base, None))],
        Raw::EmptyLine => vec![frame(b"\n".to_vec())],
        Raw::BlankLine(pick) => vec![frame(
            values::pick_from(BLANK_LINES, *pick).as_bytes().to_vec(),
        )],
        Raw::Long(long) => vec![frame(long_line(out, *long))],
        Raw::Bom(base) => {
            let mut text = "\u{feff}".as_bytes().to_vec();
            text.extend(line_without_newline(out, *base, None));
            vec![frame(with_newline(text))]
        }
        Raw::TwoInOneWrite(first, second) => {
            let mut text = with_newline(line_without_newline(out, *first, None));
            text.extend(with_newline(line_without_newline(out, *second, None)));
            vec![frame(text)]
        }
        Raw::LeadingWhitespace(base) => {
            let mut text = b" \t ".to_vec();
            text.extend(line_without_newline(out, *base, None));
            vec![frame(with_newline(text))]
        }
        Raw::Free(bytes) => vec![frame(with_newline(defuse_reserved_ids(bytes.0.clone())))],
    }
}

/// The base message's JSON text, optionally with `inline` bytes appended to its last
/// string value.
fn line_without_newline(out: &mut Out, base: RawBase, inline: Option<&[u8]>) -> Vec<u8> {
    let mut value = base_message(out, base);
    if let Some(bytes) = inline {
        let marker = out.splice_inline(bytes.to_vec());
        match last_string(&mut value) {
            Some(text) => text.push_str(&marker),
            None => {
                if let Value::Object(map) = &mut value {
                    map.insert("x".to_owned(), Value::String(marker));
                }
            }
        }
    }
    let mut line = out.line(&value);
    line.pop();
    line
}

fn base_message(out: &mut Out, base: RawBase) -> Value {
    let envelope = Envelope::default();
    match base {
        RawBase::Ping => envelope::request(out, &envelope, "ping", None),
        RawBase::ToolsList => envelope::request(out, &envelope, "tools/list", None),
        RawBase::CallTool(tool, seed) => {
            let call = CallTool {
                tool,
                name: Mostly::usual(ToolName::Unknown),
                args: ArgsPlan {
                    seed,
                    ..ArgsPlan::default()
                },
                envelope,
            };
            methods::call_tool(out, &call)
        }
        RawBase::ResourcesRead(pick) => {
            let call = MethodCall {
                method: Method::ResourcesRead(UriPlan::Listed(pick)),
                envelope,
            };
            methods::method_call(out, &call)
        }
        RawBase::Initialized => json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    }
}

/// The last string value in document order.
fn last_string(value: &mut Value) -> Option<&mut String> {
    match value {
        Value::String(text) => Some(text),
        Value::Array(items) => items.iter_mut().rev().find_map(last_string),
        Value::Object(map) => map.values_mut().rev().find_map(last_string),
        _ => None,
    }
}

fn with_newline(mut text: Vec<u8>) -> Vec<u8> {
    text.push(b'\n');
    text
}

fn broken(mut text: Vec<u8>, breakage: Breakage) -> Vec<u8> {
    match breakage {
        Breakage::Truncated(at) => {
            text.truncate(1 + usize::from(at) % (text.len() - 1).max(1));
        }
        Breakage::MissingClose => {
            text.pop();
        }
        Breakage::ExtraClose => text.push(b'}'),
        Breakage::ExtraOpen => text.insert(0, b'{'),
        Breakage::OpenArray => text.insert(0, b'['),
        Breakage::WrongClose => {
            text.pop();
            text.push(b']');
        }
        Breakage::TrailingComma => text.insert(text.len().saturating_sub(1), b','),
        Breakage::TrailingGarbage(pick) => {
            text.extend_from_slice(values::pick_from(GARBAGE, pick).as_bytes())
        }
        Breakage::TwoOnOneLine => text.extend(text.clone()),
        Breakage::SingleQuotes => text
            .iter_mut()
            .filter(|b| **b == b'"')
            .for_each(|b| *b = b'\''),
        Breakage::Comment => text.extend_from_slice(b" // c"),
    }
    text
}

fn stray_bytes(out: &mut Out, base: RawBase, bytes: &[u8], placement: BytePlacement) -> Vec<u8> {
    if placement == BytePlacement::InString {
        return line_without_newline(out, base, Some(bytes));
    }
    let mut text = line_without_newline(out, base, None);
    let at = match placement {
        BytePlacement::AfterOpen => 1.min(text.len()),
        BytePlacement::LineStart => 0,
        _ => text.len(),
    };
    text.splice(at..at, bytes.iter().copied());
    text
}

fn long_line(out: &mut Out, long: LongLine) -> Vec<u8> {
    let length = out.take_budget(long.length.chars(long.rare));
    let mut text = match long.kind {
        LongLineKind::Letters => vec![b'a'; length],
        LongLineKind::OpenBrackets => vec![b'['; length],
        LongLineKind::LeadingSpaces => {
            let mut text = vec![b' '; length];
            text.extend(line_without_newline(out, RawBase::Ping, None));
            text
        }
        LongLineKind::InString => {
            let request = envelope::request(
                out,
                &Envelope::default(),
                "ping",
                Some(json!({"pad": "a".repeat(length)})),
            );
            let mut line = out.line(&request);
            line.pop();
            line
        }
    };
    text.push(b'\n');
    text
}

/// Changes any 10-digit run that could be a reserved id (1,000,000,000 to 1,999,999,999)
/// so that fuzzer-chosen bytes cannot answer or collide with the session's barrier.
fn defuse_reserved_ids(mut bytes: Vec<u8>) -> Vec<u8> {
    let mut i = 0;
    while i < bytes.len() {
        let run = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
        if run == 10 && bytes[i] == b'1' {
            bytes[i] = b'3';
        }
        i += run.max(1);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::grammar::context::IdState;

    fn bytes_of(raw: &Raw) -> Vec<Vec<u8>> {
        let catalog = Catalog::default();
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 22);
        frames(&mut out, raw)
            .into_iter()
            .map(|item| item.as_frame().map(|frame| frame.0.clone()).unwrap())
            .collect()
    }

    #[test]
    fn split_frames_join_into_one_valid_line() {
        for at in [0, 1, 7, 500, u16::MAX] {
            let parts = bytes_of(&Raw::Split {
                base: RawBase::Ping,
                at,
            });
            assert_eq!(parts.len(), 2);
            assert!(!parts[0].is_empty() && !parts[0].ends_with(b"\n"));
            let joined = [parts[0].clone(), parts[1].clone()].concat();
            assert_eq!(
                joined,
                b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
            );
        }
    }

    #[test]
    fn broken_and_stray_bytes() {
        let ping = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}";
        let broken = |breakage| {
            bytes_of(&Raw::Broken {
                base: RawBase::Ping,
                breakage,
            })
            .remove(0)
        };
        assert_eq!(
            broken(Breakage::MissingClose),
            format!("{}\n", &ping[..ping.len() - 1]).into_bytes()
        );
        assert_eq!(broken(Breakage::Truncated(4)), b"{\"jso\n");
        assert_eq!(
            broken(Breakage::TrailingComma),
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\",}\n"
        );
        let invalid = bytes_of(&Raw::InvalidUtf8 {
            base: RawBase::Ping,
            bytes: 0,
            placement: BytePlacement::InString,
        });
        assert_eq!(
            invalid[0],
            b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\xff\"}\n"
        );
        let nul = bytes_of(&Raw::Nul {
            base: RawBase::Ping,
            placement: BytePlacement::AfterOpen,
        });
        assert_eq!(
            nul[0],
            b"{\0\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n"
        );
        assert_eq!(
            bytes_of(&Raw::CrOnly(RawBase::Initialized))[0].last(),
            Some(&b'\r')
        );
    }

    #[test]
    fn free_bytes_never_carry_reserved_ids() {
        assert_eq!(
            defuse_reserved_ids(b"{\"id\":1500000000}".to_vec()),
            b"{\"id\":3500000000}"
        );
        assert_eq!(
            defuse_reserved_ids(b"15000000001 1 999999999".to_vec()),
            b"15000000001 1 999999999"
        );
    }

    #[test]
    fn long_lines_are_long() {
        let long = LongLine {
            kind: LongLineKind::OpenBrackets,
            length: LengthClass::L65536,
            rare: 0,
        };
        let lines = bytes_of(&Raw::Long(long));
        assert_eq!(lines[0].len(), 65537);
        let in_string = bytes_of(&Raw::Long(LongLine {
            kind: LongLineKind::InString,
            ..long
        }));
        let value: Value = serde_json::from_slice(&in_string[0]).unwrap();
        assert_eq!(value["params"]["pad"].as_str().map(str::len), Some(65536));
    }
}
