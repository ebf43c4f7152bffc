//! libFuzzer dictionaries of harvested tokens (`mcpfuzz dict` writes one, and
//! `scripts/fuzz` passes it with `-dict=`).
//!
//! libFuzzer inserts dictionary words into the input bytes, but the grammar reads those
//! bytes as an `arbitrary` encoding: a token written plainly only becomes a string value
//! where it happens to land inside free bytes. So each token is also written the way the
//! grammar reads it: as a [`SmallBytes`] (a length byte, then the bytes), which any
//! free-bytes slot (a string, a key, a tool or method name, a raw frame) reads whole;
//! and as one more element of a field-plan list that sends it as a string value. Both
//! forms come from [`encode`], so they follow the grammar as it changes.

use super::args::{ArgsPlan, FieldPlan};
use super::methods::{CallTool, ToolName};
use super::values::StringPlan;
use super::{encode, Mostly, Script, SmallBytes, Step};

/// The longest entry libFuzzer keeps; it silently drops longer ones.
pub const MAX_ENTRY: usize = 64;

/// The dictionary text for `tokens`: a comment line per `header` line, then for each
/// token (in order) its plain, length-prefixed and field-plan forms, each when it fits
/// in [`MAX_ENTRY`] bytes, as `name="value"` lines.
pub fn render(tokens: &[String], header: &str) -> String {
    let mut text = String::new();
    for line in header.lines() {
        text.push_str("# ");
        text.push_str(line);
        text.push('\n');
    }
    for (index, token) in tokens.iter().enumerate() {
        for (form, bytes) in forms(token.as_bytes()) {
            if !bytes.is_empty() && bytes.len() <= MAX_ENTRY {
                text.push_str(&format!("{form}_{index}=\"{}\"\n", escape(&bytes)));
            }
        }
    }
    text
}

/// The forms of one token: `token` (as it is), `sized` (as a [`SmallBytes`]) and `field`
/// (the continue byte and encoded plan of one more field that sends it as a string).
pub fn forms(token: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut forms = vec![("token", token.to_vec())];
    if token.len() <= SmallBytes::MAX {
        let mut sized = vec![token.len() as u8];
        sized.extend_from_slice(token);
        forms.push(("sized", sized));
        let field = FieldPlan::Str(StringPlan::Free(SmallBytes(token.to_vec())));
        forms.push(("field", list_element(field)));
    }
    forms
}

/// The bytes that one more element of a field-plan list takes: the encodings of a tool
/// call without fields and with just `field` differ exactly there, since the list's stop
/// byte (0) is where the other has its continue byte (1).
fn list_element(field: FieldPlan) -> Vec<u8> {
    let call = |fields: Vec<FieldPlan>| {
        encode(&Script {
            steps: vec![Step::CallTool(CallTool {
                tool: 0,
                name: Mostly::usual(ToolName::Unknown),
                args: ArgsPlan {
                    fields,
                    ..ArgsPlan::default()
                },
                envelope: Default::default(),
            })],
        })
    };
    let without = call(Vec::new());
    let with = call(vec![field]);
    let start = without
        .iter()
        .zip(&with)
        .position(|(a, b)| a != b)
        .expect("a list with an element encodes differently from an empty one");
    let length = with.len() - without.len();
    with[start..start + length].to_vec()
}

/// `bytes` as the inside of a dictionary string: printable ASCII as it is, except `\`
/// and `"` (escaped with a backslash), and every other byte as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for &byte in bytes {
        match byte {
            b'\\' => text.push_str("\\\\"),
            b'"' => text.push_str("\\\""),
            b' '..=b'~' => text.push(char::from(byte)),
            _ => text.push_str(&format!("\\x{byte:02X}")),
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::decode;

    #[test]
    fn escaping_follows_the_dictionary_format() {
        assert_eq!(escape(b"plain text"), "plain text");
        assert_eq!(escape(b"a\"b\\c"), "a\\\"b\\\\c");
        assert_eq!(escape(b"\n\x00\x7f"), "\\x0A\\x00\\x7F");
        assert_eq!(escape("é".as_bytes()), "\\xC3\\xA9");
    }

    #[test]
    fn the_dictionary_has_every_form_that_fits() {
        let tokens = vec!["fast".to_string(), "q\"x".to_string(), "y".repeat(60)];
        let text = render(&tokens, "for a test\nsecond line");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[..2], ["# for a test", "# second line"]);
        assert_eq!(lines[2], "token_0=\"fast\"");
        assert_eq!(lines[3], "sized_0=\"\\x04fast\"");
        assert!(lines[4].starts_with("field_0=\"\\x01") && lines[4].ends_with("\\x04fast\""));
        assert_eq!(lines[6], "sized_1=\"\\x03q\\\"x\"");
        // The 60-byte token fits plain and sized, but its field form is too long.
        assert!(text.contains("sized_2="));
        assert!(!text.contains("field_2="));
    }

    #[test]
    fn the_field_form_inserted_at_the_list_end_is_one_more_string_field() {
        let field = FieldPlan::Str(StringPlan::Free(SmallBytes(b"key_name".to_vec())));
        let script = |fields: Vec<FieldPlan>| Script {
            steps: vec![Step::CallTool(CallTool {
                tool: 2,
                name: Mostly::usual(ToolName::Missing),
                args: ArgsPlan {
                    fields,
                    seed: 7,
                    ..ArgsPlan::default()
                },
                envelope: Default::default(),
            })],
        };
        let without = encode(&script(vec![FieldPlan::Null]));
        let (_, element) = forms(b"key_name").pop().unwrap();
        let expected = script(vec![FieldPlan::Null, field]);
        let places = (0..=without.len())
            .filter(|&at| {
                let mut bytes = without.clone();
                bytes.splice(at..at, element.iter().copied());
                decode(&bytes) == expected
            })
            .count();
        assert_eq!(places, 1);
    }
}
