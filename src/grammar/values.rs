//! Generic value classes that know nothing about schemas: edge-case strings, boundary
//! numbers, near-miss spellings, deep nesting and junk values.
//!
//! Everything here is a generic edge class (lengths, encodings, number limits, separators);
//! injection payload families belong elsewhere.

use arbitrary::Arbitrary;
use serde_json::{json, Number, Value};

use super::context::Out;
use super::payloads::{self, PayloadPlan};
use super::SmallBytes;

/// One character each: ASCII, multibyte, astral, control, noncharacter.
const ONE_CHARS: &[&str] = &[
    "a", "0", " ", "-", "é", "€", "😀", "\u{0}", "\u{7f}", "\u{ffff}",
];

/// Unicode edge cases that stress length checks, normalization, rendering and case maps.
pub(crate) const UNICODE_EDGES: &[&str] = &[
    "\u{202E}abc\u{202C}",
    "a\u{0}b",
    "e\u{301}\u{302}\u{303}\u{304}\u{305}\u{306}\u{307}\u{308}\u{309}\u{30a}",
    "😀",
    "👨\u{200d}👩\u{200d}👧\u{200d}👦",
    "🇺🇸",
    "𝕏𝔸𝕄",
    "\u{FEFF}a",
    "\u{C0}\u{AF}\u{E0}\u{80}\u{AF}",
    "%c0%af%e0%80%af",
    "a\u{200B}b\u{200D}c",
    "\u{2028}\u{2029}",
    "\u{1}\u{1b}[31m\u{7f}",
    "\u{FFFE}\u{FFFF}",
    "ＡＢＣ１２３",
    "İıßẞ",
    "ﬁ\u{212B}",
    "\u{FFFD}",
    "\u{10FFFD}",
    "אבג",
    "日本語",
];

/// Whitespace-only strings, including whitespace JSON and most trims do not know.
const WHITESPACE: &[&str] = &[
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    " \t\r\n",
    "\u{a0}",
    "\u{3000}",
    "\u{2003}\u{2009}",
    "\u{85}",
];

/// Sequences that break paths, URLs, templates and quoting.
pub(crate) const BREAKERS: &[&str] = &[
    "..",
    "/",
    "%00",
    "\\",
    "\n",
    "\"",
    "'",
    "../",
    "./",
    "%",
    "%zz",
    "%2e%2e%2f",
    "{",
    "}",
    "[",
    "]",
    ":",
    "#",
    "?",
    "&",
    "*",
    "~",
    "|",
    "<",
    ">",
    "\r\n",
    ",",
    "$",
    "`",
    "//",
    "\\\\",
    "\u{0}",
    "{{",
    "${",
];

/// Number spellings that are valid JSON but that serde_json cannot produce: overflow,
/// underflow, negative zero, exponents, more digits than any integer type.
pub(crate) const LEXEMES: &[&str] = &[
    "1e400",
    "-1e400",
    "1e-400",
    "-0",
    "1E2",
    "1.0",
    "0.0",
    "100000000000000000000000000000",
    "-100000000000000000000000000000",
    "0.1e1",
    "1e+2",
    "123456789012345678901234567890.5",
    "4.9e-325",
    "1.7976931348623157e309",
];

/// An edge-case string.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum StringPlan {
    /// `""`.
    Empty,
    /// One character from a small table (ASCII, multibyte, astral, control).
    OneChar(u8),
    /// A long string.
    Long(LongPlan),
    /// A Unicode edge case: RTL override, NUL, combining marks, emoji, BOM, and so on.
    Unicode(u8),
    /// A lone or misordered UTF-16 surrogate escape written into the JSON text.
    Surrogate(SurrogateEdge),
    /// Whitespace only.
    Whitespace(u8),
    /// A path, URL or quoting breaker, alone or placed around the field's usual value.
    Breaking {
        /// Which breaker, modulo the table.
        kind: u8,
        /// Where it goes relative to the usual value.
        placement: Placement,
    },
    /// A harvested catalog token.
    Token(u8),
    /// A harvested catalog token, misspelled.
    TokenNearMiss(u8, NearMiss),
    /// Bytes chosen by the fuzzer, read as lossy UTF-8.
    Free(SmallBytes),
    /// An injection payload.
    Payload(PayloadPlan),
    /// A token the target announced or said at run time, from the pool of
    /// [`tokens`](super::tokens), `pick` modulo its size; the usual value when it is empty.
    Harvested(u16),
}

/// Where a breaker goes relative to a base value.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The breaker alone.
    Alone,
    /// After the base.
    Append,
    /// Before the base.
    Prepend,
    /// On both sides.
    Surround,
    /// In the middle of the base.
    Middle,
}

/// A long string: its length class and what it is made of.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct LongPlan {
    /// How long.
    pub length: LengthClass,
    /// What it repeats.
    pub fill: Fill,
    /// `Huge` means 1 MiB only when this is at least 240; otherwise 64 KiB, so huge
    /// values stay rare.
    pub rare: u8,
}

/// Length classes of long strings, in characters.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthClass {
    /// 256.
    L256,
    /// 1,000.
    L1000,
    /// 4,096.
    L4096,
    /// 8,193.
    L8193,
    /// 65,536.
    L65536,
    /// 1 MiB when `rare` allows, else 65,537.
    Huge,
}

impl LengthClass {
    /// The length in characters.
    pub fn chars(self, rare: u8) -> usize {
        match self {
            LengthClass::L256 => 256,
            LengthClass::L1000 => 1000,
            LengthClass::L4096 => 4096,
            LengthClass::L8193 => 8193,
            LengthClass::L65536 => 65536,
            LengthClass::Huge if rare >= 240 => 1 << 20,
            LengthClass::Huge => 65537,
        }
    }
}

/// What a long string repeats.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fill {
    /// `A`.
    Ascii,
    /// Digits `0123456789`.
    Digits,
    /// `é`, two bytes each.
    Multibyte,
    /// `😀`, four bytes and two UTF-16 units each.
    Astral,
    /// The field's usual value.
    Base,
    /// Spaces.
    Spaces,
}

/// Lone and misordered surrogate escapes; serde_json cannot hold them in a `String`, so
/// they are written into the frame text.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurrogateEdge {
    /// `\ud800` alone.
    High,
    /// `\udc00` alone.
    Low,
    /// `\udc00\ud800`: a pair in the wrong order.
    Reversed,
    /// Text ending in a high surrogate, as a UTF-16 truncation leaves it.
    HighAtEnd,
    /// A valid pair, escaped: `\ud83d\ude00`.
    PairEscaped,
    /// `\u0000` escaped.
    EscapedNul,
}

impl SurrogateEdge {
    fn parts(self) -> (&'static str, &'static str, &'static str) {
        match self {
            SurrogateEdge::High => ("", "\\ud800", ""),
            SurrogateEdge::Low => ("", "\\udc00", ""),
            SurrogateEdge::Reversed => ("a", "\\udc00\\ud800", "b"),
            SurrogateEdge::HighAtEnd => ("abc", "\\udbff", ""),
            SurrogateEdge::PairEscaped => ("", "\\ud83d\\ude00", ""),
            SurrogateEdge::EscapedNul => ("a", "\\u0000", "b"),
        }
    }
}

/// Generates an edge-case string; `base` is the field's usual value.
pub(crate) fn string(out: &mut Out, plan: &StringPlan, base: &str) -> Value {
    Value::String(match plan {
        StringPlan::Empty => String::new(),
        StringPlan::OneChar(pick) => pick_from(ONE_CHARS, *pick).to_owned(),
        StringPlan::Long(long) => long_string(out, long, base),
        StringPlan::Unicode(pick) => pick_from(UNICODE_EDGES, *pick).to_owned(),
        StringPlan::Surrogate(edge) => surrogate(out, *edge),
        StringPlan::Whitespace(pick) => pick_from(WHITESPACE, *pick).to_owned(),
        StringPlan::Breaking { kind, placement } => {
            place(pick_from(BREAKERS, *kind), *placement, base)
        }
        StringPlan::Token(pick) => out.token(*pick).unwrap_or(base).to_owned(),
        StringPlan::TokenNearMiss(pick, near_miss) => {
            near_miss.apply(out.token(*pick).unwrap_or(base))
        }
        StringPlan::Free(bytes) => bytes.lossy(),
        StringPlan::Payload(payload) => {
            let nonce = out.ids.payload_nonce();
            payloads::render(payload, nonce, base)
        }
        StringPlan::Harvested(pick) => out.harvested(*pick).unwrap_or(base).to_owned(),
    })
}

/// A string with a lone surrogate escape in the middle, as a string holding a marker.
pub(crate) fn surrogate(out: &mut Out, edge: SurrogateEdge) -> String {
    let (before, escape, after) = edge.parts();
    format!(
        "{before}{}{after}",
        out.splice_inline(escape.as_bytes().to_vec())
    )
}

/// Places `breaker` relative to `base`.
pub(crate) fn place(breaker: &str, placement: Placement, base: &str) -> String {
    match placement {
        Placement::Alone => breaker.to_owned(),
        Placement::Append => format!("{base}{breaker}"),
        Placement::Prepend => format!("{breaker}{base}"),
        Placement::Surround => format!("{breaker}{base}{breaker}"),
        Placement::Middle => {
            let middle = base
                .char_indices()
                .nth(base.chars().count() / 2)
                .map_or(base.len(), |(i, _)| i);
            format!("{}{breaker}{}", &base[..middle], &base[middle..])
        }
    }
}

/// A long string within the script's byte budget.
pub(crate) fn long_string(out: &mut Out, plan: &LongPlan, base: &str) -> String {
    let unit = match plan.fill {
        Fill::Ascii => "A",
        Fill::Digits => "0123456789",
        Fill::Multibyte => "é",
        Fill::Astral => "😀",
        Fill::Base if !base.is_empty() => base,
        Fill::Base => "a",
        Fill::Spaces => " ",
    };
    let wanted_chars = plan.length.chars(plan.rare);
    let bytes_per_char = unit.len().div_ceil(unit.chars().count());
    let granted = out.take_budget(wanted_chars * bytes_per_char) / bytes_per_char;
    unit.chars().cycle().take(granted).collect()
}

/// A string of exactly `chars` characters made from `base` (padded with `a`), within the
/// budget.
pub(crate) fn fit_length(out: &mut Out, base: &str, chars: usize) -> String {
    let have = base.chars().count();
    if have >= chars {
        return base.chars().take(chars).collect();
    }
    let granted = out.take_budget(chars - have);
    let mut text = String::with_capacity(base.len() + granted);
    text.push_str(base);
    text.extend(std::iter::repeat_n('a', granted));
    text
}

/// A table entry, `pick` modulo the table's length.
pub(crate) fn pick_from<'t>(table: &[&'t str], pick: u8) -> &'t str {
    table[usize::from(pick) % table.len()]
}

/// Near-miss spellings of a name or enum value.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NearMiss {
    /// All upper case.
    Upper,
    /// All lower case.
    Lower,
    /// The first character's case flipped.
    FlipFirstCase,
    /// The last `/`-segment capitalized: `tools/Call`.
    CapitalizeLastSegment,
    /// A trailing `/`.
    TrailingSlash,
    /// A leading `/`.
    LeadingSlash,
    /// The prefix `rpc.`.
    RpcPrefix,
    /// One extra character.
    AppendChar,
    /// The last character dropped.
    DropLast,
    /// The empty string.
    Empty,
    /// Repeated to several kilobytes.
    VeryLong,
    /// A trailing space.
    TrailingSpace,
    /// A leading space.
    LeadingSpace,
    /// A NUL character in the middle.
    InnerNul,
    /// `/` replaced by `.`.
    DotForSlash,
    /// `/` doubled.
    DoubleSlash,
    /// A Latin vowel replaced by its Cyrillic look-alike.
    Homoglyph,
    /// Written twice.
    Doubled,
}

impl NearMiss {
    /// The misspelling of `base`.
    pub fn apply(self, base: &str) -> String {
        match self {
            NearMiss::Upper => base.to_uppercase(),
            NearMiss::Lower => base.to_lowercase(),
            NearMiss::FlipFirstCase => {
                let mut chars = base.chars();
                match chars.next() {
                    Some(first) if first.is_uppercase() => {
                        first.to_lowercase().chain(chars).collect()
                    }
                    Some(first) => first.to_uppercase().chain(chars).collect(),
                    None => "A".to_owned(),
                }
            }
            NearMiss::CapitalizeLastSegment => {
                let start = base.rfind('/').map_or(0, |i| i + 1);
                let (head, tail) = base.split_at(start);
                let mut chars = tail.chars();
                match chars.next() {
                    Some(first) => format!("{head}{}{}", first.to_uppercase(), chars.as_str()),
                    None => format!("{head}X"),
                }
            }
            NearMiss::TrailingSlash => format!("{base}/"),
            NearMiss::LeadingSlash => format!("/{base}"),
            NearMiss::RpcPrefix => format!("rpc.{base}"),
            NearMiss::AppendChar => format!("{base}s"),
            NearMiss::DropLast => {
                let mut text = base.to_owned();
                text.pop();
                text
            }
            NearMiss::Empty => String::new(),
            NearMiss::VeryLong => {
                let unit = if base.is_empty() { "a" } else { base };
                unit.repeat(4096 / unit.len() + 1)
            }
            NearMiss::TrailingSpace => format!("{base} "),
            NearMiss::LeadingSpace => format!(" {base}"),
            NearMiss::InnerNul => place("\u{0}", Placement::Middle, base),
            NearMiss::DotForSlash if base.contains('/') => base.replace('/', "."),
            NearMiss::DotForSlash => format!("{base}."),
            NearMiss::DoubleSlash if base.contains('/') => base.replace('/', "//"),
            NearMiss::DoubleSlash => format!("{base}//"),
            NearMiss::Homoglyph => match base.find(['a', 'e', 'o', 'i']) {
                Some(i) => {
                    let look_alike = match &base[i..i + 1] {
                        "a" => "\u{430}",
                        "e" => "\u{435}",
                        "o" => "\u{43e}",
                        _ => "\u{456}",
                    };
                    format!("{}{look_alike}{}", &base[..i], &base[i + 1..])
                }
                None => format!("{base}\u{430}"),
            },
            NearMiss::Doubled => format!("{base}{base}"),
        }
    }
}

/// Boundary numbers; applied to strings and arrays they become lengths and counts.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Boundary {
    /// One below the minimum (or below `i32::MIN` without one).
    BelowMin,
    /// The minimum (an exclusive minimum itself, which is invalid).
    AtMin,
    /// The maximum (an exclusive maximum itself, which is invalid).
    AtMax,
    /// One above the maximum (or above `i32::MAX` without one).
    AboveMax,
    /// 0.
    Zero,
    /// -1.
    MinusOne,
    /// 1.
    One,
    /// `i64::MIN`.
    I64Min,
    /// `i64::MAX`.
    I64Max,
    /// `u64::MAX`.
    U64Max,
    /// 2^53 + 1, the first integer a double cannot hold.
    TwoPow53Plus1,
    /// -0.0.
    NegativeZero,
    /// 1e308.
    Huge,
    /// 5e-324, the smallest subnormal double.
    Tiny,
    /// The minimum (or 0) plus one half: a fraction where an integer is expected.
    Fraction,
    /// The number as a string, with leading zeros.
    NumericString,
    /// A number spelling serde_json cannot produce (`1e400`, `-0`, 30 digits).
    Lexeme(u8),
}

/// Numeric bounds of a schema, exclusive ones already folded in for integers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Bounds {
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    /// The minimum itself is invalid.
    pub(crate) exclusive_min: bool,
    /// The maximum itself is invalid.
    pub(crate) exclusive_max: bool,
    pub(crate) integer: bool,
}

/// A boundary number for a field with `bounds`.
pub(crate) fn boundary_number(out: &mut Out, boundary: Boundary, bounds: Bounds) -> Value {
    let min = bounds.min.unwrap_or(f64::from(i32::MIN));
    let max = bounds.max.unwrap_or(f64::from(i32::MAX));
    match boundary {
        Boundary::BelowMin => number(min - 1.0),
        Boundary::AtMin => number(min),
        Boundary::AtMax => number(max),
        Boundary::AboveMax => number(max + 1.0),
        Boundary::Zero => json!(0),
        Boundary::MinusOne => json!(-1),
        Boundary::One => json!(1),
        Boundary::I64Min => json!(i64::MIN),
        Boundary::I64Max => json!(i64::MAX),
        Boundary::U64Max => json!(u64::MAX),
        Boundary::TwoPow53Plus1 => json!(9_007_199_254_740_993_u64),
        Boundary::NegativeZero => json!(-0.0),
        Boundary::Huge => json!(1e308),
        Boundary::Tiny => json!(5e-324),
        Boundary::Fraction => json!(bounds.min.unwrap_or(0.0).floor() + 0.5),
        Boundary::NumericString => {
            Value::String(format!("00{}", number(bounds.min.unwrap_or(7.0))))
        }
        Boundary::Lexeme(pick) => out.splice_value(pick_from(LEXEMES, pick).as_bytes().to_vec()),
    }
}

/// The text a boundary class stands for in a string field (other than lengths).
pub(crate) fn boundary_text(boundary: Boundary) -> String {
    match boundary {
        Boundary::MinusOne => "-1".to_owned(),
        Boundary::One => "1".to_owned(),
        Boundary::I64Min => i64::MIN.to_string(),
        Boundary::I64Max => i64::MAX.to_string(),
        Boundary::U64Max => u64::MAX.to_string(),
        Boundary::TwoPow53Plus1 => "9007199254740993".to_owned(),
        Boundary::NegativeZero => "-0".to_owned(),
        Boundary::Huge => "1e308".to_owned(),
        Boundary::Tiny => "5e-324".to_owned(),
        Boundary::Fraction => "0.5".to_owned(),
        Boundary::NumericString => "007".to_owned(),
        Boundary::Lexeme(pick) => pick_from(LEXEMES, pick).to_owned(),
        _ => "0".to_owned(),
    }
}

/// A JSON number for `x`: an integer when it is one and fits, else a double; NaN and
/// infinities (which JSON lacks) become `null`.
pub(crate) fn number(x: f64) -> Value {
    const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;
    if x.fract() == 0.0 && (-TWO_POW_63..TWO_POW_63).contains(&x) {
        json!(x as i64)
    } else if x.fract() == 0.0 && (0.0..TWO_POW_64).contains(&x) {
        json!(x as u64)
    } else {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

/// Deeply nested arrays or objects, written as text so that neither building nor
/// dropping a `Value` recurses 10,000 deep.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeepPlan {
    /// What nests.
    pub kind: DeepKind,
    /// How deep.
    pub depth: Depth,
}

/// What nests in a `DeepPlan`.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeepKind {
    /// `[[[1]]]`.
    Arrays,
    /// `{"a":{"a":1}}`.
    Objects,
    /// `[{"a":[{"a":1}]}]`.
    Mixed,
}

/// Nesting depths.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    /// 100.
    D100,
    /// 128.
    D128,
    /// 256.
    D256,
    /// 513.
    D513,
    /// 1,000.
    D1000,
    /// 5,000.
    D5000,
    /// 10,000.
    D10000,
}

impl Depth {
    /// The number of levels.
    pub fn levels(self) -> usize {
        match self {
            Depth::D100 => 100,
            Depth::D128 => 128,
            Depth::D256 => 256,
            Depth::D513 => 513,
            Depth::D1000 => 1000,
            Depth::D5000 => 5000,
            Depth::D10000 => 10000,
        }
    }
}

/// The nested value as a splice.
pub(crate) fn deep(out: &mut Out, plan: DeepPlan) -> Value {
    let text = deep_text(out, plan);
    out.splice_value(text)
}

/// The nested JSON text, as deep as the budget allows.
pub(crate) fn deep_text(out: &mut Out, plan: DeepPlan) -> Vec<u8> {
    const OPEN_ARRAY: &[u8] = b"[";
    const OPEN_OBJECT: &[u8] = b"{\"a\":";
    let per_level = OPEN_OBJECT.len() + 1;
    let levels = out.take_budget(plan.depth.levels() * per_level) / per_level;
    let mut text = Vec::with_capacity(levels * per_level + 1);
    let object_at = |level: usize| match plan.kind {
        DeepKind::Arrays => false,
        DeepKind::Objects => true,
        DeepKind::Mixed => level % 2 == 1,
    };
    for level in 0..levels {
        text.extend_from_slice(if object_at(level) {
            OPEN_OBJECT
        } else {
            OPEN_ARRAY
        });
    }
    text.push(b'1');
    for level in (0..levels).rev() {
        text.push(if object_at(level) { b'}' } else { b']' });
    }
    text
}

/// A value of any JSON type, for params, results and other places without a schema.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum Junk {
    /// `null`.
    Null,
    /// `true`.
    True,
    /// `false`.
    False,
    /// A boundary number.
    Number(Boundary),
    /// An edge-case string.
    Str(StringPlan),
    /// `[]`.
    EmptyArray,
    /// `{}`.
    EmptyObject,
    /// `["a",1,null,{}]`.
    MixedArray,
    /// `{"a":1}`.
    SmallObject,
    /// Deep nesting.
    Deep(DeepPlan),
}

/// The value of a `Junk` plan.
pub(crate) fn junk(out: &mut Out, plan: &Junk) -> Value {
    match plan {
        Junk::Null => Value::Null,
        Junk::True => json!(true),
        Junk::False => json!(false),
        Junk::Number(boundary) => boundary_number(out, *boundary, Bounds::default()),
        Junk::Str(plan) => string(out, plan, "a"),
        Junk::EmptyArray => json!([]),
        Junk::EmptyObject => json!({}),
        Junk::MixedArray => json!(["a", 1, null, {}]),
        Junk::SmallObject => json!({"a": 1}),
        Junk::Deep(plan) => deep(out, *plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::grammar::context::IdState;

    fn with_out<T>(budget: usize, f: impl FnOnce(&mut Out) -> T) -> T {
        let catalog = Catalog {
            tokens: vec!["alpha".into()],
            ..Catalog::default()
        };
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, budget);
        f(&mut out)
    }

    #[test]
    fn near_misses_of_a_method_name() {
        let cases = [
            (NearMiss::CapitalizeLastSegment, "tools/Call"),
            (NearMiss::TrailingSlash, "tools/call/"),
            (NearMiss::RpcPrefix, "rpc.tools/call"),
            (NearMiss::Upper, "TOOLS/CALL"),
            (NearMiss::FlipFirstCase, "Tools/call"),
            (NearMiss::DotForSlash, "tools.call"),
            (NearMiss::DropLast, "tools/cal"),
            (NearMiss::Empty, ""),
            (NearMiss::Homoglyph, "t\u{43e}ols/call"),
        ];
        for (near_miss, expected) in cases {
            assert_eq!(near_miss.apply("tools/call"), expected, "{near_miss:?}");
        }
        assert!(NearMiss::VeryLong.apply("tools/call").len() > 4096);
    }

    #[test]
    fn boundaries_follow_the_bounds() {
        let bounds = Bounds {
            min: Some(1.0),
            max: Some(10.0),
            integer: true,
            ..Bounds::default()
        };
        with_out(0, |out| {
            assert_eq!(boundary_number(out, Boundary::BelowMin, bounds), json!(0));
            assert_eq!(boundary_number(out, Boundary::AboveMax, bounds), json!(11));
            assert_eq!(boundary_number(out, Boundary::Fraction, bounds), json!(1.5));
            assert_eq!(
                boundary_number(out, Boundary::NumericString, bounds),
                json!("001")
            );
            assert_eq!(
                boundary_number(out, Boundary::AboveMax, Bounds::default()),
                json!(2_147_483_648_i64)
            );
            let lexeme = boundary_number(out, Boundary::Lexeme(0), bounds);
            assert_eq!(out.line(&json!([lexeme])), b"[1e400]\n");
        });
        assert_eq!(serde_json::to_string(&number(-0.0)).unwrap(), "0");
        assert_eq!(serde_json::to_string(&json!(-0.0)).unwrap(), "-0.0");
    }

    #[test]
    fn long_strings_respect_the_budget() {
        let plan = LongPlan {
            length: LengthClass::Huge,
            fill: Fill::Astral,
            rare: 255,
        };
        assert_eq!(
            with_out(usize::MAX, |out| long_string(out, &plan, ""))
                .chars()
                .count(),
            1 << 20
        );
        assert_eq!(
            with_out(40, |out| long_string(out, &plan, ""))
                .chars()
                .count(),
            10
        );
        let rare = LongPlan { rare: 0, ..plan };
        assert_eq!(
            with_out(usize::MAX, |out| long_string(out, &rare, ""))
                .chars()
                .count(),
            65537
        );
    }

    #[test]
    fn deep_nesting_is_balanced_text() {
        let text = with_out(usize::MAX, |out| {
            deep_text(
                out,
                DeepPlan {
                    kind: DeepKind::Mixed,
                    depth: Depth::D10000,
                },
            )
        });
        assert!(text.starts_with(b"[{\"a\":[{\"a\":"));
        assert_eq!(text.iter().filter(|&&b| b == b'[').count(), 5000);
        assert_eq!(text.iter().filter(|&&b| b == b'}').count(), 5000);
        assert!(text.ends_with(b"}]}]") && text.windows(3).any(|w| w == b"1}]"));
        let shallow = with_out(60, |out| {
            deep_text(
                out,
                DeepPlan {
                    kind: DeepKind::Arrays,
                    depth: Depth::D100,
                },
            )
        });
        assert_eq!(shallow, b"[[[[[[[[[[1]]]]]]]]]]");
    }

    #[test]
    fn surrogates_and_breakers() {
        let line = with_out(0, |out| {
            let value = string(out, &StringPlan::Surrogate(SurrogateEdge::HighAtEnd), "x");
            out.line(&value)
        });
        assert_eq!(line, b"\"abc\\udbff\"\n");
        assert_eq!(place("..", Placement::Middle, "abcd"), "ab..cd");
        assert_eq!(place("/", Placement::Surround, "a"), "/a/");
        let token = with_out(0, |out| {
            string(out, &StringPlan::TokenNearMiss(3, NearMiss::Upper), "x")
        });
        assert_eq!(token, json!("ALPHA"));
    }
}
