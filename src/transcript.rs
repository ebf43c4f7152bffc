//! What is sent to a target after the handshake: byte-exact frames and reply-policy changes.
//!
//! A transcript is the unit that is replayed, confirmed, minimized and stored in a
//! reproducer. Frames are kept as bytes so that invalid UTF-8, NUL bytes, CRLF and frames
//! without a newline replay exactly; what the target owes in return is derived from the
//! bytes themselves (see `wire::classify_outgoing`), never stored beside them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Bytes written to the target's stdin in one write, usually one JSON line ending in `\n`.
///
/// Serialized as a JSON string when the bytes are UTF-8, else as `{"hex": "..."}`.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Frame(pub Vec<u8>);

impl Frame {
    /// A frame of one JSON value followed by a newline.
    pub fn json_line(value: &serde_json::Value) -> Frame {
        let mut bytes = serde_json::to_vec(value).expect("serializing a Value is infallible");
        bytes.push(b'\n');
        Frame(bytes)
    }

    /// The bytes as text with invalid UTF-8 replaced, for display only.
    pub fn lossy(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }
}

impl fmt::Debug for Frame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Frame({:?})", self.lossy())
    }
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum FrameRepr {
    Text(String),
    Hex { hex: String },
}

impl Serialize for Frame {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match std::str::from_utf8(&self.0) {
            Ok(text) => FrameRepr::Text(text.to_owned()).serialize(serializer),
            Err(_) => FrameRepr::Hex {
                hex: self.0.iter().map(|b| format!("{b:02x}")).collect(),
            }
            .serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for Frame {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Frame, D::Error> {
        match FrameRepr::deserialize(deserializer)? {
            FrameRepr::Text(text) => Ok(Frame(text.into_bytes())),
            FrameRepr::Hex { hex } => decode_hex(&hex).map(Frame).ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "frame hex is not an even run of hex digits: {hex:?}"
                ))
            }),
        }
    }
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

/// How the fuzzer answers requests the server sends to the client
/// (`roots/list`, `sampling/createMessage`, `elicitation/create`, `ping`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, arbitrary::Arbitrary,
)]
#[serde(rename_all = "kebab-case")]
pub enum ReplyPolicy {
    /// A well-formed result for the method.
    #[default]
    Valid,
    /// A JSON-RPC error reply.
    Error,
    /// `"result": {}` whatever the method expects.
    EmptyResult,
    /// A result of the wrong JSON type or shape.
    WrongShape,
    /// No reply at all.
    NoReply,
    /// A reply whose id is not the request's.
    WrongId,
    /// A line that is not JSON.
    Malformed,
}

/// One step of a transcript.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Item {
    /// Bytes to write to the target.
    Frame(Frame),
    /// From here on, answer server-to-client requests this way.
    Policy {
        /// The policy in force after this item.
        reply_policy: ReplyPolicy,
    },
}

impl Item {
    /// The frame of a `Frame` item.
    pub fn as_frame(&self) -> Option<&Frame> {
        match self {
            Item::Frame(frame) => Some(frame),
            Item::Policy { .. } => None,
        }
    }
}

/// A line for people: lossy UTF-8, control characters escaped, cut at `max` characters.
pub fn compact(line: &[u8], max: usize) -> String {
    let text = String::from_utf8_lossy(line);
    let mut out = String::new();
    for (count, c) in text.chars().enumerate() {
        if count == max {
            out += &format!("... ({} bytes)", line.len());
            break;
        }
        if c.is_control() {
            out += &c.escape_default().to_string();
        } else {
            out.push(c);
        }
    }
    out
}

impl fmt::Display for Item {
    /// A frame as [`compact`] text (at most 2,000 characters), a policy change as
    /// `(reply policy: ...)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Frame(frame) => f.write_str(&compact(&frame.0, 2000)),
            Item::Policy { reply_policy } => {
                let name = serde_json::to_value(reply_policy)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                write!(f, "(reply policy: {name})")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_frames_serialize_as_strings_and_others_as_hex() {
        let items = vec![
            Item::Frame(Frame(b"{\"a\":1}\r\n".to_vec())),
            Item::Frame(Frame(vec![0xff, 0x00, b'\n'])),
            Item::Policy {
                reply_policy: ReplyPolicy::NoReply,
            },
        ];
        let text = serde_json::to_string(&items).unwrap();
        assert_eq!(
            text,
            r#"["{\"a\":1}\r\n",{"hex":"ff000a"},{"reply_policy":"no-reply"}]"#
        );
        let back: Vec<Item> = serde_json::from_str(&text).unwrap();
        assert_eq!(back, items);
    }

    #[test]
    fn odd_hex_is_rejected() {
        let error = serde_json::from_str::<Frame>(r#"{"hex":"abc"}"#).unwrap_err();
        assert!(
            error.to_string().contains("even run of hex digits"),
            "{error}"
        );
    }
}
