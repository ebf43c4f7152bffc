//! The inverse of [`decode`](super::decode): the bytes that decode to a given script.
//!
//! It lets seeds be written as scripts instead of opaque bytes, and a message-level
//! mutator change one step of a decoded script and hand libFuzzer the bytes back. The
//! encoding follows `arbitrary` 1.x exactly: integers little-endian, enum variants as a
//! `u32` scaled by the variant count, collections as a continue-byte before each element
//! and a stop byte after the last, [`SmallBytes`] as a length byte and the bytes.

use super::shapes::*;
use super::{Mostly, Script, SmallBytes, Step};

/// The bytes that [`decode`](super::decode) turns back into `script` (its first
/// [`MAX_STEPS`](super::MAX_STEPS) steps).
pub fn encode(script: &Script) -> Vec<u8> {
    let mut bytes = Vec::new();
    for step in script.steps.iter().take(super::MAX_STEPS) {
        step.encode(&mut bytes);
    }
    bytes
}

/// Writing a value the way `arbitrary` reads it.
trait Encode {
    fn encode(&self, bytes: &mut Vec<u8>);
}

/// Writes the `u32` that the derived `Arbitrary` maps to variant `index` of `count`.
fn variant(bytes: &mut Vec<u8>, index: usize, count: usize) {
    bytes.extend_from_slice(&variant_bytes(index, count));
}

/// The bytes the derived `Arbitrary` reads as variant `index` of `count`: it maps a
/// `u32` to `(u32 * count) >> 32`, and the smallest such `u32` is
/// `ceil(index * 2^32 / count)`, little-endian.
pub(super) fn variant_bytes(index: usize, count: usize) -> [u8; 4] {
    let scaled = ((index as u64) << 32).div_ceil(count as u64);
    u32::try_from(scaled).unwrap_or(u32::MAX).to_le_bytes()
}

impl Encode for u8 {
    fn encode(&self, bytes: &mut Vec<u8>) {
        bytes.push(*self);
    }
}

impl Encode for u16 {
    fn encode(&self, bytes: &mut Vec<u8>) {
        bytes.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for u32 {
    fn encode(&self, bytes: &mut Vec<u8>) {
        bytes.extend_from_slice(&self.to_le_bytes());
    }
}

impl Encode for bool {
    fn encode(&self, bytes: &mut Vec<u8>) {
        bytes.push(u8::from(*self));
    }
}

impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, bytes: &mut Vec<u8>) {
        for item in self {
            true.encode(bytes);
            item.encode(bytes);
        }
        false.encode(bytes);
    }
}

impl<T: Encode> Encode for Mostly<T> {
    fn encode(&self, bytes: &mut Vec<u8>) {
        self.pick.encode(bytes);
        self.alternative.encode(bytes);
    }
}

impl Encode for SmallBytes {
    fn encode(&self, bytes: &mut Vec<u8>) {
        let len = self.0.len().min(SmallBytes::MAX);
        // `len` is at most 64, so it fits a byte and survives the decoder's `% 65`.
        (len as u8).encode(bytes);
        bytes.extend_from_slice(&self.0[..len]);
    }
}

impl Encode for Step {
    fn encode(&self, bytes: &mut Vec<u8>) {
        // The first selector value of each kind's range in `Step::arbitrary`.
        match self {
            Step::CallTool(call) => {
                0u8.encode(bytes);
                call.encode(bytes);
            }
            Step::Method(call) => {
                96u8.encode(bytes);
                call.encode(bytes);
            }
            Step::Notification(note) => {
                160u8.encode(bytes);
                note.encode(bytes);
            }
            Step::Batch(batch) => {
                184u8.encode(bytes);
                batch.encode(bytes);
            }
            Step::UnsolicitedResponse(response) => {
                200u8.encode(bytes);
                response.encode(bytes);
            }
            Step::Raw(raw) => {
                212u8.encode(bytes);
                raw.encode(bytes);
            }
            Step::SetReplyPolicy(policy) => {
                244u8.encode(bytes);
                policy.encode(bytes);
            }
        }
    }
}

/// Implements `Encode` for a struct: its fields in declaration order. Destructuring
/// without `..` makes a forgotten field a compile error. A `=> Hook` (the mutator's
/// slot for the whole value) is ignored.
macro_rules! encode_struct {
    ($type:ident $(=> $hook:ident)? { $($field:ident),* $(,)? }) => {
        impl Encode for $type {
            fn encode(&self, bytes: &mut Vec<u8>) {
                let $type { $($field),* } = self;
                $( $field.encode(bytes); )*
            }
        }
    };
}

/// Implements `Encode` for an enum: the variant's index, then its fields. The variants
/// must be listed in declaration order (the round-trip tests check); the exhaustive
/// match makes a forgotten variant a compile error. A `=> Hook` is ignored.
macro_rules! encode_enum {
    ($type:ident $(=> $hook:ident)? { $($variant:ident $(($($field:ident),*))? $({ $($named:ident),* })?),* $(,)? }) => {
        impl Encode for $type {
            fn encode(&self, bytes: &mut Vec<u8>) {
                const NAMES: &[&str] = &[$(stringify!($variant)),*];
                let index_of = |name: &str| NAMES.iter().position(|known| *known == name).unwrap_or(0);
                match self {
                    $(
                        $type::$variant $(($($field),*))? $({ $($named),* })? => {
                            variant(bytes, index_of(stringify!($variant)), NAMES.len());
                            $($( $field.encode(bytes); )*)?
                            $($( $named.encode(bytes); )*)?
                        }
                    )*
                }
            }
        }
    };
}

plan_shapes!(encode_struct, encode_enum);

#[cfg(test)]
mod tests {
    use super::super::context::Rng;
    use super::super::{decode, describe, CallTool, Step};
    use super::*;
    use crate::grammar::args::{ArgsPlan, FieldPlan};
    use crate::grammar::envelope::{Bend, Envelope, IdPlan};
    use crate::grammar::values::{Fill, LengthClass, LongPlan, StringPlan};

    #[test]
    fn decoding_the_encoding_gives_the_script_back() {
        let mut rng = Rng::new(3);
        for _ in 0..5000 {
            let len = rng.below(800);
            let data: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            let script = decode(&data);
            let bytes = encode(&script);
            assert_eq!(decode(&bytes), script, "{}", describe(&script));
        }
    }

    #[test]
    fn hand_written_scripts_round_trip() {
        let script = Script {
            steps: vec![
                Step::CallTool(CallTool {
                    tool: 3,
                    name: Mostly::usual(crate::grammar::methods::ToolName::Unknown),
                    args: ArgsPlan {
                        fields: vec![
                            FieldPlan::Str(StringPlan::Long(LongPlan {
                                length: LengthClass::L65536,
                                fill: Fill::Ascii,
                                rare: 0,
                            })),
                            FieldPlan::Valid(0),
                        ],
                        ..ArgsPlan::default()
                    },
                    envelope: Envelope::bent(Bend::Id(IdPlan::NumericString)),
                }),
                Step::Raw(crate::grammar::raw::Raw::Free(SmallBytes(
                    b"{\"a\":1}".to_vec(),
                ))),
                Step::SetReplyPolicy(ReplyPolicy::Malformed),
            ],
        };
        assert_eq!(decode(&encode(&script)), script);
        assert!(encode(&Script::default()).is_empty());
    }

    #[test]
    fn variants_map_to_the_smallest_selecting_u32() {
        let mut bytes = Vec::new();
        variant(&mut bytes, 0, 7);
        variant(&mut bytes, 6, 7);
        variant(&mut bytes, 1, 2);
        assert_eq!(bytes[..4], [0, 0, 0, 0]);
        let last = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        assert_eq!((u64::from(last) * 7) >> 32, 6);
        assert_eq!((u64::from(last - 1) * 7) >> 32, 5);
        assert_eq!(bytes[8..], 0x8000_0000u32.to_le_bytes());
    }
}
