//! Request ids as the tracker compares them: hashable keys, loose equality for ids a
//! server changed, and ids guessed from lines that are not JSON to us.

use serde_json::Value;

/// How many `"id": ...` members of a line that is not JSON are remembered.
const MAX_MAYBE_IDS: usize = 4;

/// Request ids, hashable, with numbers compared by value so that `7` and `7.0` are the
/// same id, as they are in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum IdKey {
    Null,
    Int(i128),
    Float(u64),
    Str(Box<str>),
}

impl IdKey {
    pub(crate) fn of(id: &Value) -> Option<IdKey> {
        match id {
            Value::Null => Some(IdKey::Null),
            Value::String(text) => Some(IdKey::Str(text.as_str().into())),
            Value::Number(number) => {
                if let Some(n) = number.as_i64() {
                    return Some(IdKey::Int(n.into()));
                }
                if let Some(n) = number.as_u64() {
                    return Some(IdKey::Int(n.into()));
                }
                let float = number.as_f64()?;
                if float.fract() == 0.0 && float.abs() <= 9_007_199_254_740_992.0 {
                    Some(IdKey::Int(float as i128))
                } else {
                    Some(IdKey::Float(float.to_bits()))
                }
            }
            _ => None,
        }
    }
}
/// Whether a reply id `got` is the sent id `sent` with its type changed (`"7"` and `7`)
/// or, for an odd id, rounded or truncated the way a server's number type does it.
pub(crate) fn loosely_equal(sent: &Value, got: &Value, odd: bool) -> bool {
    let as_number = |value: &Value| match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
        _ => None,
    };
    let (Some(sent_number), Some(got_number)) = (as_number(sent), as_number(got)) else {
        return false;
    };
    let type_changed = sent.is_string() != got.is_string();
    if odd {
        type_changed
            || sent_number == got_number
            || sent_number.trunc() == got_number
            || sent_number.round() == got_number
    } else {
        type_changed && sent_number == got_number
    }
}

/// The scalar values of `"id": ...` members in a line that is not JSON to us, such as one
/// with NaN or a lone surrogate escape that Python and JavaScript parsers accept; a
/// server using one answers it by id.
pub(crate) fn maybe_ids(line: &[u8]) -> Vec<Value> {
    let mut ids = Vec::new();
    let mut rest = line;
    while ids.len() < MAX_MAYBE_IDS {
        let Some(position) = rest.windows(4).position(|window| window == b"\"id\"") else {
            break;
        };
        rest = &rest[position + 4..];
        let Some(value) = skip_whitespace(rest).strip_prefix(b":") else {
            continue;
        };
        let value = skip_whitespace(value);
        let end = if value.first() == Some(&b'"') {
            let mut escaped = false;
            value
                .iter()
                .enumerate()
                .skip(1)
                .find(|(_, byte)| {
                    let closes = **byte == b'"' && !escaped;
                    escaped = **byte == b'\\' && !escaped;
                    closes
                })
                .map_or(0, |(index, _)| index + 1)
        } else {
            value
                .iter()
                .position(|byte| !b"-+.eE0123456789".contains(byte))
                .unwrap_or(value.len())
        };
        if let Ok(id @ (Value::String(_) | Value::Number(_))) =
            serde_json::from_slice::<Value>(&value[..end])
        {
            ids.push(id);
        }
    }
    ids
}

pub(crate) fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn skip_whitespace(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maybe_ids_are_read_from_unparseable_lines() {
        assert_eq!(
            maybe_ids(br#"{"id" : "a\"b", "params":{"id":12,"x":NaN}, "id":-1.5e3"#),
            vec![json!("a\"b"), json!(12), json!(-1500.0)]
        );
        assert_eq!(maybe_ids(b"no ids here"), Vec::<Value>::new());
    }
}
