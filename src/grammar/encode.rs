//! The inverse of [`decode`](super::decode): the bytes that decode to a given script.
//!
//! It lets seeds be written as scripts instead of opaque bytes, and a message-level
//! mutator change one step of a decoded script and hand libFuzzer the bytes back. The
//! encoding follows `arbitrary` 1.x exactly: integers little-endian, enum variants as a
//! `u32` scaled by the variant count, collections as a continue-byte before each element
//! and a stop byte after the last, [`SmallBytes`] as a length byte and the bytes.

use super::args::{
    ArgsPlan, ContainerPlan, ExtraProperty, FieldPlan, KeyPlan, ManySize, WholeArgs, WrongType,
};
use super::envelope::{
    Bend, Envelope, EnvelopeMutation, ExtraMember, IdPlan, MetaPlan, ParamsPlan, VersionPlan,
};
use super::messages::{
    Batch, BatchEntry, BatchShape, CancelPlan, CancelTarget, Notification, NotificationKind,
    NotificationName, ProgressPlan, ProgressToken, ResponseBody, UnknownNotification, Unsolicited,
    UnsolicitedId,
};
use super::methods::{
    BadLevel, CallTool, CapabilitiesPlan, ClientInfoPlan, CursorPlan, InitPlan, LevelPlan, Method,
    MethodCall, MethodName, ToolName, UnknownMethod, VersionChoice,
};
use super::payloads::{Family, PayloadPlan};
use super::prompts::{ArgNamePlan, CompletePlan, ContextPlan, PromptArg, PromptPlan, RefPlan};
use super::raw::{Breakage, BytePlacement, LongLine, LongLineKind, Raw, RawBase};
use super::uri::{TemplateFill, TemplateValue, UriMutation, UriPlan};
use super::values::{
    Boundary, DeepKind, DeepPlan, Depth, Fill, Junk, LengthClass, LongPlan, NearMiss, Placement,
    StringPlan, SurrogateEdge,
};
use super::{Mostly, Script, SmallBytes, Step};
use crate::transcript::ReplyPolicy;

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

/// Writes the `u32` that the derived `Arbitrary` maps to variant `index` of `count`:
/// it picks `(u32 * count) >> 32`, so the smallest such `u32` is `ceil(index * 2^32 / count)`.
fn variant(bytes: &mut Vec<u8>, index: usize, count: usize) {
    let scaled = ((index as u64) << 32).div_ceil(count as u64);
    let scaled = u32::try_from(scaled).unwrap_or(u32::MAX);
    scaled.encode(bytes);
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
/// without `..` makes a forgotten field a compile error.
macro_rules! encode_struct {
    ($type:ident { $($field:ident),* $(,)? }) => {
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
/// match makes a forgotten variant a compile error.
macro_rules! encode_enum {
    ($type:ident { $($variant:ident $(($($field:ident),*))? $({ $($named:ident),* })?),* $(,)? }) => {
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

encode_enum!(ReplyPolicy {
    Valid,
    Error,
    EmptyResult,
    WrongShape,
    NoReply,
    WrongId,
    Malformed
});
encode_struct!(PayloadPlan {
    family,
    form,
    variant,
    append
});
encode_enum!(Family {
    Shell,
    Option,
    PathRead,
    PathWrite,
    Template,
    Sql,
    Markup
});
encode_struct!(ArgsPlan {
    whole,
    fields,
    extras,
    seed
});
encode_enum!(WholeArgs {
    Absent,
    Null,
    EmptyObject,
    Array,
    Stringified,
    Number,
    Bool,
    EmptyArray
});
encode_enum!(FieldPlan { Valid(a), Boundary(a), Str(a), WrongType(a), Null, EnumViolation(a, b), Omit, Deep(a), Container(a), Token(a), BadFormat(a), Payload(a), Harvested(a) });
encode_enum!(WrongType {
    Str,
    Number,
    Fraction,
    Bool,
    Object,
    Array,
    ArrayOfValid,
    ObjectWrapping,
    Null,
    Stringified
});
encode_enum!(ContainerPlan { Empty, Many(a), Duplicates, Mixed, ExtraKey(a), Nested });
encode_enum!(ManySize {
    Ten,
    Hundred,
    Thousand,
    TenThousand
});
encode_struct!(ExtraProperty { key, value });
encode_enum!(KeyPlan { Unknown, Empty, Long, Token(a), NearMissOf(a, b), DuplicateOf(a), Unicode(a), Free(a) });
encode_enum!(IdPlan { Counter, SmallInt(a), Zero, Negative, Str, NumericString, EmptyString, Null, Float, IntegralFloat, TwoPow53Plus1, I64Max, I64Min, U64Max, Duplicate(a), Missing, Object, Array, Bool });
encode_enum!(EnvelopeMutation { Version(a), Params(a), Extra(a), Reversed, MethodType(a), Meta(a) });
encode_enum!(VersionPlan {
    Absent,
    One,
    Number,
    Integer,
    Null,
    Empty,
    Padded,
    Three,
    Array,
    Short
});
encode_enum!(ParamsPlan {
    Absent,
    Null,
    EmptyObject,
    Array,
    EmptyArray,
    Stringified,
    Number,
    Bool
});
encode_enum!(ExtraMember { Unknown(a), Result, Error, TopMeta, DuplicateId, DuplicateMethod, DuplicateVersion, EmptyKey });
encode_enum!(MetaPlan {
    IntegerToken,
    StringToken,
    NullToken,
    ObjectToken,
    NotAnObject,
    Empty
});
encode_struct!(Envelope { bend });
encode_enum!(Bend { Id(a), Member(a), Both(a, b) });
encode_struct!(Notification { kind, mutation });
encode_enum!(NotificationKind { Initialized, Cancelled(a), Progress(a), RootsListChanged, Unknown(a) });
encode_struct!(CancelPlan { target, reason });
encode_enum!(CancelTarget { Recent(a), Unknown, UnknownString, Null, Missing, Junk(a) });
encode_struct!(ProgressPlan {
    token,
    progress,
    total,
    message
});
encode_enum!(ProgressToken { RecentId(a), Token(a), Number(a), Null, Missing });
encode_struct!(UnknownNotification { name, params });
encode_enum!(NotificationName { NearMiss(a, b), ServerSide(a), Other(a), Free(a) });
encode_struct!(Batch { entries, shape });
encode_enum!(BatchEntry { CallTool(a), Method(a), Notification(a), Junk(a) });
encode_enum!(BatchShape {
    Nested,
    RepeatFirst,
    FirstOnly
});
encode_struct!(Unsolicited { id, body, version });
encode_enum!(UnsolicitedId { Zero, Small(a), Recent(a), Str(a), Large, Negative, Null, Missing });
encode_enum!(ResponseBody { EmptyResult, Result(a), Error(a, b), Both, Neither, MalformedError, SamplingResult, RootsResult });
encode_struct!(CallTool {
    tool,
    name,
    args,
    envelope
});
encode_enum!(ToolName { NearMiss(a), Unknown, Missing, Null, Number, Token(a), Free(a) });
encode_struct!(MethodCall { method, envelope });
encode_enum!(Method { Ping(a), Initialize(a), ToolsList(a), ResourcesList(a), TemplatesList(a), PromptsList(a), ResourcesRead(a), Subscribe(a), Unsubscribe(a), PromptsGet(a), Complete(a), SetLevel(a), Unknown(a) });
encode_struct!(InitPlan {
    version,
    capabilities,
    client_info
});
encode_enum!(VersionChoice { Known(a), Future, Ancient, Str(a), Number, Null, Missing });
encode_enum!(CapabilitiesPlan { Empty, WrongTypes, Missing, Junk(a) });
encode_enum!(ClientInfoPlan { Missing, NoVersion, Name(a), Junk(a) });
encode_enum!(CursorPlan { EmptyParams, Empty, Null, Token(a), Str(a), Number(a), Object, Base64(a) });
encode_struct!(LevelPlan { level, invalid });
encode_enum!(BadLevel { NearMiss(a), Unknown, Number(a), Null, Missing });
encode_struct!(UnknownMethod { name, params });
encode_enum!(MethodName { NearMiss(a, b), ClientSide(a), NotificationAsRequest(a), Other(a), Free(a) });
encode_struct!(PromptPlan {
    prompt,
    name,
    args,
    extras,
    whole
});
encode_enum!(PromptArg { Valid(a), Edge(a), Omit, Junk(a) });
encode_struct!(CompletePlan {
    reference,
    argument,
    value,
    context
});
encode_enum!(RefPlan { Prompt(a), Resource(a), UnknownType, MissingType, Null, NearMissPrompt(a, b) });
encode_enum!(ArgNamePlan { Declared(a), Unknown, Empty, Missing, NearMiss(a, b) });
encode_enum!(ContextPlan {
    Arguments,
    Empty,
    NotAnObject,
    NullArguments
});
encode_enum!(Raw { Broken { base, breakage }, Bare(a), InvalidUtf8 { base, bytes, placement }, Nul { base, placement }, Crlf(a), CrOnly(a), Split { base, at }, NoNewline(a), EmptyLine, BlankLine(a), Long(a), Bom(a), TwoInOneWrite(a, b), LeadingWhitespace(a), Free(a) });
encode_enum!(RawBase { Ping, ToolsList, CallTool(a, b), ResourcesRead(a), Initialized });
encode_enum!(Breakage { Truncated(a), MissingClose, ExtraClose, ExtraOpen, OpenArray, WrongClose, TrailingComma, TrailingGarbage(a), TwoOnOneLine, SingleQuotes, Comment });
encode_enum!(BytePlacement {
    InString,
    AfterOpen,
    BeforeNewline,
    LineStart
});
encode_struct!(LongLine { kind, length, rare });
encode_enum!(LongLineKind {
    Letters,
    InString,
    OpenBrackets,
    LeadingSpaces
});
encode_enum!(UriPlan { Listed(a), ListedMutated(a, b), Template(a), MadeUp(a), Malformed(a), Str(a), Missing, Null, Number });
encode_enum!(UriMutation { AppendDotDot, AppendSlash, AppendQuery, AppendFragment, Upper, PercentEncode, DropScheme, DoubleSlashes, AppendPercentNul, AppendLong, DropLast, EncodedDotDot, AppendBreaker(a) });
encode_struct!(TemplateFill { index, values, raw });
encode_enum!(TemplateValue { Plain(a), Edge(a) });
encode_enum!(StringPlan { Empty, OneChar(a), Long(a), Unicode(a), Surrogate(a), Whitespace(a), Breaking { kind, placement }, Token(a), TokenNearMiss(a, b), Free(a), Payload(a), Harvested(a) });
encode_enum!(Placement {
    Alone,
    Append,
    Prepend,
    Surround,
    Middle
});
encode_struct!(LongPlan { length, fill, rare });
encode_enum!(LengthClass {
    L256,
    L1000,
    L4096,
    L8193,
    L65536,
    Huge
});
encode_enum!(Fill {
    Ascii,
    Digits,
    Multibyte,
    Astral,
    Base,
    Spaces
});
encode_enum!(SurrogateEdge {
    High,
    Low,
    Reversed,
    HighAtEnd,
    PairEscaped,
    EscapedNul
});
encode_enum!(NearMiss {
    Upper,
    Lower,
    FlipFirstCase,
    CapitalizeLastSegment,
    TrailingSlash,
    LeadingSlash,
    RpcPrefix,
    AppendChar,
    DropLast,
    Empty,
    VeryLong,
    TrailingSpace,
    LeadingSpace,
    InnerNul,
    DotForSlash,
    DoubleSlash,
    Homoglyph,
    Doubled
});
encode_enum!(Boundary { BelowMin, AtMin, AtMax, AboveMax, Zero, MinusOne, One, I64Min, I64Max, U64Max, TwoPow53Plus1, NegativeZero, Huge, Tiny, Fraction, NumericString, Lexeme(a) });
encode_struct!(DeepPlan { kind, depth });
encode_enum!(DeepKind {
    Arrays,
    Objects,
    Mixed
});
encode_enum!(Depth {
    D100,
    D128,
    D256,
    D513,
    D1000,
    D5000,
    D10000
});
encode_enum!(Junk { Null, True, False, Number(a), Str(a), EmptyArray, EmptyObject, MixedArray, SmallObject, Deep(a) });

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
