//! The shape of every plan type that the encoder and the mutator both take apart: a
//! struct's fields, or an enum's variants with their fields, in declaration order.
//!
//! [`encode`](super::encode) writes a plan the way `arbitrary` reads it, and
//! [`mutate`](super::mutate) walks the same plan to change one slot of it; both need
//! the same listing, so it is written once, here, and each side expands it with its own
//! pair of macros. The types with a hand-written impl (`Step`, `Mostly`, `SmallBytes`
//! and the integers) are not listed.

// The plan types the listing names, for the modules that expand it.
pub(super) use super::args::{
    ArgsPlan, ContainerPlan, ExtraProperty, FieldPlan, KeyPlan, ManySize, WholeArgs, WrongType,
};
pub(super) use super::envelope::{
    Bend, Envelope, EnvelopeMutation, ExtraMember, IdPlan, MetaPlan, ParamsPlan, VersionPlan,
};
pub(super) use super::messages::{
    Batch, BatchEntry, BatchShape, CancelPlan, CancelTarget, Notification, NotificationKind,
    NotificationName, ProgressPlan, ProgressToken, ResponseBody, UnknownNotification, Unsolicited,
    UnsolicitedId,
};
pub(super) use super::methods::{
    BadLevel, CallTool, CapabilitiesPlan, ClientInfoPlan, CursorPlan, InitPlan, LevelPlan, Method,
    MethodCall, MethodName, ToolName, UnknownMethod, VersionChoice,
};
pub(super) use super::payloads::{Family, PayloadPlan};
pub(super) use super::prompts::{
    ArgNamePlan, CompletePlan, ContextPlan, PromptArg, PromptPlan, RefPlan,
};
pub(super) use super::raw::{Breakage, BytePlacement, LongLine, LongLineKind, Raw, RawBase};
pub(super) use super::uri::{TemplateFill, TemplateValue, UriMutation, UriPlan};
pub(super) use super::values::{
    Boundary, DeepKind, DeepPlan, Depth, Fill, Junk, LengthClass, LongPlan, NearMiss, Placement,
    StringPlan, SurrogateEdge,
};
pub(super) use crate::transcript::ReplyPolicy;

/// Invokes `$struct_macro!(Type { field, ... })` for every plan struct and
/// `$enum_macro!(Type { Unit, Tuple(a, b), Named { x, y }, ... })` for every plan enum.
///
/// Fields are listed in declaration order, and so are variants: the encoder writes a
/// variant's position as its selector, and the mutator re-chooses variants by
/// position. The field names of tuple variants are only bindings. An optional
/// `=> Hook` after a type names the `Slot` variant the mutator visits the whole value
/// as; the encoder ignores it. The names resolve where the macro is invoked, so the
/// invoking module takes them, with the macro, from `use shapes::*`.
macro_rules! plan_shapes {
    ($struct_macro:ident, $enum_macro:ident) => {
        $enum_macro!(ReplyPolicy {
            Valid,
            Error,
            EmptyResult,
            WrongShape,
            NoReply,
            WrongId,
            Malformed
        });
        $struct_macro!(PayloadPlan => Payload {
            family,
            form,
            variant,
            append
        });
        $enum_macro!(Family {
            Shell,
            Option,
            PathRead,
            PathWrite,
            Template,
            Sql,
            Markup
        });
        $struct_macro!(ArgsPlan {
            whole,
            fields,
            extras,
            seed
        });
        $enum_macro!(WholeArgs {
            Absent,
            Null,
            EmptyObject,
            Array,
            Stringified,
            Number,
            Bool,
            EmptyArray
        });
        $enum_macro!(FieldPlan => Field { Valid(a), Boundary(a), Str(a), WrongType(a), Null, EnumViolation(a, b), Omit, Deep(a), Container(a), Token(a), BadFormat(a), Payload(a), Harvested(a) });
        $enum_macro!(WrongType {
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
        $enum_macro!(ContainerPlan { Empty, Many(a), Duplicates, Mixed, ExtraKey(a), Nested });
        $enum_macro!(ManySize {
            Ten,
            Hundred,
            Thousand,
            TenThousand
        });
        $struct_macro!(ExtraProperty { key, value });
        $enum_macro!(KeyPlan { Unknown, Empty, Long, Token(a), NearMissOf(a, b), DuplicateOf(a), Unicode(a), Free(a) });
        $enum_macro!(IdPlan => Id { Counter, SmallInt(a), Zero, Negative, Str, NumericString, EmptyString, Null, Float, IntegralFloat, TwoPow53Plus1, I64Max, I64Min, U64Max, Duplicate(a), Missing, Object, Array, Bool });
        $enum_macro!(EnvelopeMutation { Version(a), Params(a), Extra(a), Reversed, MethodType(a), Meta(a) });
        $enum_macro!(VersionPlan {
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
        $enum_macro!(ParamsPlan {
            Absent,
            Null,
            EmptyObject,
            Array,
            EmptyArray,
            Stringified,
            Number,
            Bool
        });
        $enum_macro!(ExtraMember { Unknown(a), Result, Error, TopMeta, DuplicateId, DuplicateMethod, DuplicateVersion, EmptyKey });
        $enum_macro!(MetaPlan {
            IntegerToken,
            StringToken,
            NullToken,
            ObjectToken,
            NotAnObject,
            Empty
        });
        $struct_macro!(Envelope { bend });
        $enum_macro!(Bend { Id(a), Member(a), Both(a, b) });
        $struct_macro!(Notification { kind, mutation });
        $enum_macro!(NotificationKind { Initialized, Cancelled(a), Progress(a), RootsListChanged, Unknown(a) });
        $struct_macro!(CancelPlan { target, reason });
        $enum_macro!(CancelTarget { Recent(a), Unknown, UnknownString, Null, Missing, Junk(a) });
        $struct_macro!(ProgressPlan {
            token,
            progress,
            total,
            message
        });
        $enum_macro!(ProgressToken { RecentId(a), Token(a), Number(a), Null, Missing });
        $struct_macro!(UnknownNotification { name, params });
        $enum_macro!(NotificationName { NearMiss(a, b), ServerSide(a), Other(a), Free(a) });
        $struct_macro!(Batch { entries, shape });
        $enum_macro!(BatchEntry { CallTool(a), Method(a), Notification(a), Junk(a) });
        $enum_macro!(BatchShape {
            Nested,
            RepeatFirst,
            FirstOnly
        });
        $struct_macro!(Unsolicited { id, body, version });
        $enum_macro!(UnsolicitedId { Zero, Small(a), Recent(a), Str(a), Large, Negative, Null, Missing });
        $enum_macro!(ResponseBody { EmptyResult, Result(a), Error(a, b), Both, Neither, MalformedError, SamplingResult, RootsResult });
        $struct_macro!(CallTool {
            tool,
            name,
            args,
            envelope
        });
        $enum_macro!(ToolName { NearMiss(a), Unknown, Missing, Null, Number, Token(a), Free(a) });
        $struct_macro!(MethodCall { method, envelope });
        $enum_macro!(Method { Ping(a), Initialize(a), ToolsList(a), ResourcesList(a), TemplatesList(a), PromptsList(a), ResourcesRead(a), Subscribe(a), Unsubscribe(a), PromptsGet(a), Complete(a), SetLevel(a), Unknown(a) });
        $struct_macro!(InitPlan {
            version,
            capabilities,
            client_info
        });
        $enum_macro!(VersionChoice { Known(a), Future, Ancient, Str(a), Number, Null, Missing });
        $enum_macro!(CapabilitiesPlan { Empty, WrongTypes, Missing, Junk(a) });
        $enum_macro!(ClientInfoPlan { Missing, NoVersion, Name(a), Junk(a) });
        $enum_macro!(CursorPlan { EmptyParams, Empty, Null, Token(a), Str(a), Number(a), Object, Base64(a) });
        $struct_macro!(LevelPlan { level, invalid });
        $enum_macro!(BadLevel { NearMiss(a), Unknown, Number(a), Null, Missing });
        $struct_macro!(UnknownMethod { name, params });
        $enum_macro!(MethodName { NearMiss(a, b), ClientSide(a), NotificationAsRequest(a), Other(a), Free(a) });
        $struct_macro!(PromptPlan {
            prompt,
            name,
            args,
            extras,
            whole
        });
        $enum_macro!(PromptArg { Valid(a), Edge(a), Omit, Junk(a) });
        $struct_macro!(CompletePlan {
            reference,
            argument,
            value,
            context
        });
        $enum_macro!(RefPlan { Prompt(a), Resource(a), UnknownType, MissingType, Null, NearMissPrompt(a, b) });
        $enum_macro!(ArgNamePlan { Declared(a), Unknown, Empty, Missing, NearMiss(a, b) });
        $enum_macro!(ContextPlan {
            Arguments,
            Empty,
            NotAnObject,
            NullArguments
        });
        $enum_macro!(Raw { Broken { base, breakage }, Bare(a), InvalidUtf8 { base, bytes, placement }, Nul { base, placement }, Crlf(a), CrOnly(a), Split { base, at }, NoNewline(a), EmptyLine, BlankLine(a), Long(a), Bom(a), TwoInOneWrite(a, b), LeadingWhitespace(a), Free(a) });
        $enum_macro!(RawBase { Ping, ToolsList, CallTool(a, b), ResourcesRead(a), Initialized });
        $enum_macro!(Breakage { Truncated(a), MissingClose, ExtraClose, ExtraOpen, OpenArray, WrongClose, TrailingComma, TrailingGarbage(a), TwoOnOneLine, SingleQuotes, Comment });
        $enum_macro!(BytePlacement {
            InString,
            AfterOpen,
            BeforeNewline,
            LineStart
        });
        $struct_macro!(LongLine { kind, length, rare });
        $enum_macro!(LongLineKind {
            Letters,
            InString,
            OpenBrackets,
            LeadingSpaces
        });
        $enum_macro!(UriPlan { Listed(a), ListedMutated(a, b), Template(a), MadeUp(a), Malformed(a), Str(a), Missing, Null, Number });
        $enum_macro!(UriMutation { AppendDotDot, AppendSlash, AppendQuery, AppendFragment, Upper, PercentEncode, DropScheme, DoubleSlashes, AppendPercentNul, AppendLong, DropLast, EncodedDotDot, AppendBreaker(a) });
        $struct_macro!(TemplateFill { index, values, raw });
        $enum_macro!(TemplateValue { Plain(a), Edge(a) });
        $enum_macro!(StringPlan => String { Empty, OneChar(a), Long(a), Unicode(a), Surrogate(a), Whitespace(a), Breaking { kind, placement }, Token(a), TokenNearMiss(a, b), Free(a), Payload(a), Harvested(a) });
        $enum_macro!(Placement {
            Alone,
            Append,
            Prepend,
            Surround,
            Middle
        });
        $struct_macro!(LongPlan { length, fill, rare });
        $enum_macro!(LengthClass {
            L256,
            L1000,
            L4096,
            L8193,
            L65536,
            Huge
        });
        $enum_macro!(Fill {
            Ascii,
            Digits,
            Multibyte,
            Astral,
            Base,
            Spaces
        });
        $enum_macro!(SurrogateEdge {
            High,
            Low,
            Reversed,
            HighAtEnd,
            PairEscaped,
            EscapedNul
        });
        $enum_macro!(NearMiss {
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
        $enum_macro!(Boundary { BelowMin, AtMin, AtMax, AboveMax, Zero, MinusOne, One, I64Min, I64Max, U64Max, TwoPow53Plus1, NegativeZero, Huge, Tiny, Fraction, NumericString, Lexeme(a) });
        $struct_macro!(DeepPlan { kind, depth });
        $enum_macro!(DeepKind {
            Arrays,
            Objects,
            Mixed
        });
        $enum_macro!(Depth {
            D100,
            D128,
            D256,
            D513,
            D1000,
            D5000,
            D10000
        });
        $enum_macro!(Junk { Null, True, False, Number(a), Str(a), EmptyArray, EmptyObject, MixedArray, SmallObject, Deep(a) });
    };
}

pub(crate) use plan_shapes;
