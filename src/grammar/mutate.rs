//! A structure-aware mutator for libFuzzer: it decodes the input into a [`Script`],
//! changes one to three things at the message or value level, and encodes the script
//! again, so that the result always decodes and most of the script stays as it was.
//!
//! Byte mutations of an `arbitrary` encoding shift every field after the byte they
//! touch, which reshapes the rest of the script; the edits here keep the other steps
//! and the other values of the touched step. Step edits insert, delete, duplicate,
//! swap or replace whole steps, or change the reply policy. Value edits walk one step's
//! plan tree (`mutate/walk.rs`, built from the listing of plan shapes in `shapes.rs`
//! that the encoder shares; a new plan variant that is missing there is a compile
//! error) and change one slot: a string plan or free bytes (a harvested token spliced
//! in, one character changed), a field plan or id (a numeric boundary), a payload plan
//! (another family or form), an enum (its neighbour variant), a list (an item added,
//! copied or dropped), or a small number.
//!
//! One time in five, and whenever the input decodes to no steps, [`mutate`] hands the
//! input to the caller's fallback (libFuzzer's own byte mutation), which keeps the
//! dictionary and comparison-guided mutations in play.

mod focus;
mod walk;

use arbitrary::{Arbitrary, Unstructured};

use super::args::FieldPlan;
use super::context::Rng;
use super::envelope::IdPlan;
use super::payloads::{Family, PayloadPlan};
use super::values::{Boundary, Placement, StringPlan};
use super::{decode, encode, Mostly, Script, SmallBytes, Step, MAX_STEPS};
use crate::transcript::ReplyPolicy;
pub use focus::Focus;
use focus::Place;
use walk::{Choice, Slot, Walk};

/// Random bytes behind a fresh step, list item or re-chosen variant; enough for any
/// plan's usual size, and `arbitrary` pads with zeros past the end.
const FRESH_BYTES: usize = 96;

/// Mixed into the seed so that crossover and mutation draw different numbers.
const CROSSOVER_SALT: u64 = 0x6372_6f73_736f_7665;

/// Boundary numbers a field plan takes; `BelowMin` and `AboveMax` are the `i32`
/// extremes plus one when the schema has no bounds, and the lexemes `1e400`, `-1e400`
/// and `1e-400` overflow or underflow a double (the nearest JSON has to NaN).
const FIELD_BOUNDARIES: &[Boundary] = &[
    Boundary::Zero,
    Boundary::MinusOne,
    Boundary::One,
    Boundary::I64Min,
    Boundary::I64Max,
    Boundary::U64Max,
    Boundary::TwoPow53Plus1,
    Boundary::BelowMin,
    Boundary::AboveMax,
    Boundary::AtMin,
    Boundary::AtMax,
    Boundary::NegativeZero,
    Boundary::Huge,
    Boundary::Tiny,
    Boundary::Fraction,
    Boundary::Lexeme(0),
    Boundary::Lexeme(1),
    Boundary::Lexeme(2),
];

/// Boundary request ids.
const ID_BOUNDARIES: &[IdPlan] = &[
    IdPlan::Zero,
    IdPlan::Negative,
    IdPlan::I64Max,
    IdPlan::I64Min,
    IdPlan::U64Max,
    IdPlan::TwoPow53Plus1,
    IdPlan::Float,
    IdPlan::IntegralFloat,
    IdPlan::NumericString,
    IdPlan::Null,
];

/// Bytes that change one character of free text into something parsers care about.
const ODD_BYTES: &[u8] = b"\"\\/.%{}[]:\0\n'$`|;&<>~*?#\xff\xc3";

/// Mutates the script encoded in `data[..size]` in place and returns its new length, at
/// most `max_size`, following libFuzzer's `LLVMFuzzerCustomMutator` contract (`data`
/// holds at least `max(size, max_size)` bytes). `tokens` are strings worth splicing in.
/// The same arguments always give the same result. When the input holds no step, and
/// one time in five, it returns `fallback(data, size, max_size)` instead, which is
/// meant to be `libfuzzer_sys::fuzzer_mutate`.
///
/// ```
/// use mcpfuzz::grammar::{decode, encode, mutate, seed_scripts};
///
/// let bytes = encode(&seed_scripts()[0]);
/// let mut data = bytes.clone();
/// data.resize(4096, 0);
/// let mut focus = mutate::Focus::new();
/// let n = mutate::mutate(&mut focus, &mut data, bytes.len(), 4096, 7, &["alpha".into()], |_, size, _| size);
/// assert!(!decode(&data[..n]).steps.is_empty());
/// ```
pub fn mutate(
    focus: &mut Focus,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    tokens: &[String],
    fallback: impl FnOnce(&mut [u8], usize, usize) -> usize,
) -> usize {
    match mutate_structured(focus, data, size, max_size, seed, tokens) {
        Some((new_size, place)) => {
            focus.remember(&data[..new_size], place);
            new_size
        }
        None => {
            focus.forget();
            fallback(data, size, max_size)
        }
    }
}

/// The structured part of [`mutate`]: the new size and the place edited, or `None`
/// when the caller should mutate the bytes. Half the time while the focus holds inputs,
/// it mutates one of those instead of `data`.
fn mutate_structured(
    focus: &mut Focus,
    data: &mut [u8],
    size: usize,
    max_size: usize,
    seed: u32,
    tokens: &[String],
) -> Option<(usize, Option<Place>)> {
    let mut rng = Rng::new(u64::from(seed));
    if rng.below(5) == 0 {
        return None;
    }
    let (script, place) = match focus.pick(&mut rng) {
        Some((bytes, place)) => (decode(&bytes), Some(place)),
        None => (decode(&data[..size.min(data.len())]), None),
    };
    if script.steps.is_empty() {
        return None;
    }
    let (mutated, edited) = match place {
        Some(place) => focused_edit(&script, place, &mut rng, tokens),
        None => mutate_script(&script, &mut rng, tokens),
    }?;
    Some((write_within(&mutated, data, max_size), edited))
}

/// An edit of an input in focus, three times in four on its text: the slot its last
/// edit changed (the first text at or after it) when that is known, otherwise one text
/// slot of the step it changed or of any step. Free text is grown or corrected at its
/// end ([`climb`]); a field or string plan that is not free text becomes a short one to
/// climb from. Otherwise any edit.
fn focused_edit(
    script: &Script,
    place: Option<Place>,
    rng: &mut Rng,
    tokens: &[String],
) -> Option<(Script, Option<Place>)> {
    let n_steps = script.steps.len();
    if rng.below(4) != 0 {
        let step = match place {
            Some(place) if place.step < n_steps && rng.below(4) != 0 => place.step,
            _ => rng.below(n_steps),
        };
        let mut steps = script.steps.clone();
        let slot = match place {
            Some(Place {
                step: at,
                slot: Some(slot),
            }) if at == step => Some(slot),
            _ => None,
        };
        if let Some(slot) = text_edit(&mut steps[step], slot, rng, tokens) {
            if steps != script.steps {
                let place = Place {
                    step,
                    slot: Some(slot),
                };
                return Some((Script { steps }, Some(place)));
            }
        }
    }
    mutate_script(script, rng, tokens)
}

/// Edits one text slot of `step`: the first free text at or after `slot` (or the slot
/// itself), or without a slot one of the step's texts at random. Returns the index of
/// the slot edited, `None` when the step has no text.
fn text_edit(
    step: &mut Step,
    slot: Option<usize>,
    rng: &mut Rng,
    tokens: &[String],
) -> Option<usize> {
    // The texts: free bytes, and field or string plans that hold none (a plan that is
    // free text is reached through its bytes).
    let mut texts = Vec::new();
    let mut index = 0;
    step.walk(&mut |found| {
        let text = match found {
            Slot::Bytes(_) => true,
            Slot::Field(field) => !matches!(field, FieldPlan::Str(StringPlan::Free(_))),
            Slot::String(plan) => !matches!(plan, StringPlan::Free(_)),
            _ => false,
        };
        if text {
            texts.push(index);
        }
        index += 1;
    });
    let target = match slot {
        Some(slot) => texts
            .iter()
            .copied()
            .find(|&text| text >= slot)
            .unwrap_or(slot),
        None => *texts.get(rng.below(texts.len()))?,
    };
    let mut index = 0;
    step.walk(&mut |found| {
        if index == target {
            match found {
                Slot::Bytes(bytes) => climb(&mut bytes.0, rng, tokens),
                Slot::Field(field) if rng.below(4) != 0 => {
                    *field = FieldPlan::Str(StringPlan::Free(short_text(rng)));
                }
                Slot::String(plan) if rng.below(4) != 0 => {
                    *plan = StringPlan::Free(short_text(rng));
                }
                other => apply(other, rng, tokens, false),
            }
        }
        index += 1;
    });
    Some(target)
}

/// An edit of free text that extends a matching prefix: a character appended or the
/// last one replaced most often, one replaced or inserted anywhere sometimes,
/// otherwise any [`mutate_bytes`] edit.
fn climb(bytes: &mut Vec<u8>, rng: &mut Rng, tokens: &[String]) {
    let len = bytes.len();
    let odd = one_char(rng);
    match rng.below(8) {
        0..=2 if len < SmallBytes::MAX => bytes.push(odd),
        3..=4 if len > 0 => bytes[len - 1] = odd,
        5 if len > 0 => bytes[rng.below(len)] = odd,
        6 if len < SmallBytes::MAX => bytes.insert(rng.below(len + 1), odd),
        _ => mutate_bytes(bytes, rng, tokens, false),
    }
}

/// Combines two encoded scripts into `out` (libFuzzer's `LLVMFuzzerCustomCrossOver`
/// contract): a prefix of the first script's steps, then a suffix of the second's. It
/// returns the length written, at most `out.len()`, or 0 (libFuzzer then picks another
/// mutation) two times in three, so that crossover does not take half of all mutations,
/// and when neither input holds a step.
pub fn crossover(first: &[u8], second: &[u8], out: &mut [u8], seed: u32) -> usize {
    let mut rng = Rng::new(u64::from(seed) ^ CROSSOVER_SALT);
    if rng.below(3) != 0 {
        return 0;
    }
    let first = decode(first);
    let second = decode(second);
    let cut_first = 1 + rng.below(first.steps.len().max(1));
    let cut_second = rng.below(second.steps.len().max(1));
    let steps: Vec<Step> = first
        .steps
        .iter()
        .take(cut_first)
        .chain(second.steps.iter().skip(cut_second))
        .take(MAX_STEPS)
        .cloned()
        .collect();
    if steps.is_empty() {
        return 0;
    }
    let max_size = out.len();
    write_within(&Script { steps }, out, max_size)
}

/// Writes the encoding of as many leading steps as fit `max_size` into `data` (at least
/// the first step, cut short if it alone is too long) and returns its length.
fn write_within(script: &Script, data: &mut [u8], max_size: usize) -> usize {
    let mut bytes = Vec::new();
    for step in script.steps.iter().take(MAX_STEPS) {
        let one = encode(&Script {
            steps: vec![step.clone()],
        });
        if !bytes.is_empty() && bytes.len() + one.len() > max_size {
            break;
        }
        bytes.extend(one);
    }
    let new_size = bytes.len().min(max_size).min(data.len());
    data[..new_size].copy_from_slice(&bytes[..new_size]);
    new_size
}

/// One or two edits of `script`, with the place of the last one; `None` when a few
/// tries all left it unchanged.
fn mutate_script(
    script: &Script,
    rng: &mut Rng,
    tokens: &[String],
) -> Option<(Script, Option<Place>)> {
    let n_edits = [1, 1, 1, 2][rng.below(4)];
    for _ in 0..4 {
        let mut steps = script.steps.clone();
        let mut place = None;
        for _ in 0..n_edits {
            place = edit(&mut steps, rng, tokens);
        }
        if steps != script.steps {
            return Some((Script { steps }, place));
        }
    }
    None
}

/// One edit: a step inserted, deleted, duplicated, swapped or replaced, the reply
/// policy changed, or (most often) one value inside one step. Returns the step it
/// left changed (and the slot, for a value edit), when there is one.
fn edit(steps: &mut Vec<Step>, rng: &mut Rng, tokens: &[String]) -> Option<Place> {
    let n_steps = steps.len();
    let room = n_steps < MAX_STEPS;
    let step = |step| Some(Place { step, slot: None });
    match rng.below(100) {
        0..=7 if room => {
            let at = rng.below(n_steps + 1);
            steps.insert(at, fresh_step(rng));
            step(at)
        }
        8..=12 if room && n_steps > 0 => {
            let copy = steps[rng.below(n_steps)].clone();
            let at = rng.below(n_steps + 1);
            steps.insert(at, copy);
            step(at)
        }
        13..=20 if n_steps > 1 => {
            steps.remove(rng.below(n_steps));
            None
        }
        21..=26 if room && n_steps > 0 => {
            let at = rng.below(n_steps);
            let copy = steps[at].clone();
            steps.insert(at + 1, copy);
            step(at + 1)
        }
        27..=32 if n_steps > 1 => {
            let first = rng.below(n_steps);
            let second = (first + 1 + rng.below(n_steps - 1)) % n_steps;
            steps.swap(first, second);
            None
        }
        33..=38 if n_steps > 0 => {
            let at = rng.below(n_steps);
            steps[at] = fresh_step(rng);
            step(at)
        }
        39..=44 => {
            change_reply_policy(steps, rng);
            None
        }
        _ if n_steps > 0 => {
            let at = rng.below(n_steps);
            let slot = mutate_value(&mut steps[at], rng, tokens);
            Some(Place { step: at, slot })
        }
        _ => {
            steps.push(fresh_step(rng));
            step(steps.len() - 1)
        }
    }
}

/// Changes the first reply-policy step to another policy, or inserts one.
fn change_reply_policy(steps: &mut Vec<Step>, rng: &mut Rng) {
    let policy = ReplyPolicy::arbitrary(&mut Unstructured::new(&random_bytes(rng, 4)))
        .unwrap_or(ReplyPolicy::Error);
    let existing = steps
        .iter()
        .position(|step| matches!(step, Step::SetReplyPolicy(_)));
    match existing {
        Some(at) => match &mut steps[at] {
            Step::SetReplyPolicy(existing) if *existing != policy => *existing = policy,
            Step::SetReplyPolicy(existing) => flip_choice(existing, rng),
            _ => {}
        },
        None if steps.len() < MAX_STEPS => {
            let at = rng.below(steps.len() + 1);
            steps.insert(at, Step::SetReplyPolicy(policy));
        }
        None => {
            let at = rng.below(steps.len());
            steps[at] = Step::SetReplyPolicy(policy);
        }
    }
}

/// A step decoded from random bytes.
fn fresh_step(rng: &mut Rng) -> Step {
    let bytes = random_bytes(rng, FRESH_BYTES);
    Step::arbitrary(&mut Unstructured::new(&bytes))
        .unwrap_or(Step::SetReplyPolicy(ReplyPolicy::Valid))
}

fn random_bytes(rng: &mut Rng, len: usize) -> Vec<u8> {
    (0..len).map(|_| rng.next_u64() as u8).collect()
}

/// Changes one slot of `step`'s plan tree, chosen with [`slot_weight`]; one time in
/// three (with tokens) it splices a token into one of the step's string slots instead.
/// Returns the index of the slot changed.
fn mutate_value(step: &mut Step, rng: &mut Rng, tokens: &[String]) -> Option<usize> {
    let mut splice = !tokens.is_empty() && rng.below(3) == 0;
    let mut weights = Vec::new();
    step.walk(&mut |slot| weights.push(slot_weight(&slot, splice)));
    let mut total: usize = weights.iter().sum();
    if total == 0 && splice {
        splice = false;
        weights.clear();
        step.walk(&mut |slot| weights.push(slot_weight(&slot, splice)));
        total = weights.iter().sum();
    }
    if total == 0 {
        return None;
    }
    let mut draw = rng.below(total);
    let target = weights
        .iter()
        .position(|&weight| {
            if draw < weight {
                true
            } else {
                draw -= weight;
                false
            }
        })
        .unwrap_or(0);
    let mut index = 0;
    step.walk(&mut |slot| {
        if index == target {
            apply(slot, rng, tokens, splice);
        }
        index += 1;
    });
    Some(target)
}

/// How often a slot is chosen: the value-level plans most, list and small-number
/// slots least; for a token splice, only the slots that take text.
fn slot_weight(slot: &Slot<'_>, splice: bool) -> usize {
    match slot {
        Slot::String(_) | Slot::Bytes(_) | Slot::Field(_) if splice => 1,
        _ if splice => 0,
        // Text is where a server's own logic reads the input: it gets most edits.
        Slot::Bytes(_) => 16,
        Slot::String(_) => 8,
        Slot::Field(_) | Slot::Payload(_) => 4,
        Slot::Id(_) | Slot::Choice(_) => 2,
        Slot::List(_) | Slot::Pick(_) | Slot::Byte(_) | Slot::Short(_) | Slot::Flag(_) => 1,
    }
}

/// Changes the slot; `splice` asks for a token in a text slot.
fn apply(slot: Slot<'_>, rng: &mut Rng, tokens: &[String], splice: bool) {
    match slot {
        Slot::Choice(choice) => flip_choice(choice, rng),
        Slot::String(plan) => mutate_string(plan, rng, tokens, splice),
        Slot::Bytes(bytes) => mutate_bytes(&mut bytes.0, rng, tokens, splice),
        Slot::Field(field) => mutate_field(field, rng, tokens, splice),
        Slot::Id(id) => *id = ID_BOUNDARIES[rng.below(ID_BOUNDARIES.len())],
        Slot::Payload(payload) => mutate_payload(payload, rng),
        Slot::List(list) => {
            let len = list.len();
            match rng.below(3) {
                0 if len > 0 => list.remove_at(rng.below(len)),
                1 if len > 0 => list.duplicate(rng.below(len)),
                _ => list.insert_fresh(rng.below(len + 1), &random_bytes(rng, FRESH_BYTES)),
            }
        }
        Slot::Pick(pick) => {
            *pick = if *pick >= Mostly::<()>::THRESHOLD {
                0
            } else {
                u8::MAX
            };
        }
        Slot::Byte(byte) => {
            *byte = match rng.below(6) {
                0 => byte.wrapping_add(1),
                1 => byte.wrapping_sub(1),
                2 => [0, 1, 0x7f, 0x80, 0xff][rng.below(5)],
                _ => rng.next_u64() as u8,
            }
        }
        Slot::Short(short) => {
            *short = match rng.below(4) {
                0 => short.wrapping_add(1),
                1 => [0, 1, 0x7fff, 0x8000, 0xffff][rng.below(5)],
                _ => rng.next_u64() as u16,
            }
        }
        Slot::Flag(flag) => *flag = !*flag,
    }
}

/// Moves an enum to a neighbouring variant (usually) or any other one, with fresh
/// fields.
fn flip_choice(choice: &mut dyn Choice, rng: &mut Rng) {
    let count = choice.count();
    if count < 2 {
        return;
    }
    let index = choice.index();
    let next = match rng.below(4) {
        0 => (index + 1 + rng.below(count - 1)) % count,
        1 => (index + count - 1) % count,
        _ => (index + 1) % count,
    };
    choice.choose(next, &random_bytes(rng, FRESH_BYTES));
}

/// A token's bytes, cut to what [`SmallBytes`] holds; `None` without tokens.
fn token(rng: &mut Rng, tokens: &[String]) -> Option<Vec<u8>> {
    let token = tokens.get(rng.below(tokens.len()))?;
    Some(clip(token))
}

/// The bytes of `text` that fit [`SmallBytes`], cut at a character boundary.
fn clip(text: &str) -> Vec<u8> {
    let mut end = text.len().min(SmallBytes::MAX);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.as_bytes()[..end].to_vec()
}

/// A token or a numeric boundary for one property. A third of the tokens go in by
/// their place in the pool (`tokens` is the pool the materializer reads, which only
/// grows), so that a number or a boolean token takes the field's type; the others as
/// text, which replays without the pool.
fn mutate_field(field: &mut FieldPlan, rng: &mut Rng, tokens: &[String], splice: bool) {
    if !splice && rng.below(3) == 0 {
        *field = FieldPlan::Str(StringPlan::Free(short_text(rng)));
        return;
    }
    if tokens.is_empty() || !(splice || rng.below(4) == 0) {
        *field = FieldPlan::Boundary(FIELD_BOUNDARIES[rng.below(FIELD_BOUNDARIES.len())]);
        return;
    }
    let index = rng.below(tokens.len());
    *field = match u16::try_from(index) {
        Ok(pick) if rng.below(3) == 0 => FieldPlan::Harvested(pick),
        _ => FieldPlan::Str(StringPlan::Free(SmallBytes(clip(&tokens[index])))),
    };
}

/// A token in place of the string, or around free text; otherwise one character
/// changed.
fn mutate_string(plan: &mut StringPlan, rng: &mut Rng, tokens: &[String], splice: bool) {
    if let StringPlan::Free(bytes) = plan {
        return mutate_bytes(&mut bytes.0, rng, tokens, splice);
    }
    match (rng.below(3), token(rng, tokens)) {
        (_, Some(token)) if splice => *plan = StringPlan::Free(SmallBytes(token)),
        (1, _) => *plan = StringPlan::Free(short_text(rng)),
        (0, Some(token)) => *plan = StringPlan::Free(SmallBytes(token)),
        (0, None) => *plan = StringPlan::Token(rng.next_u64() as u8),
        _ => {
            // Without the text at hand (it depends on the schema), one odd character
            // goes into the field's usual value.
            let placement = [Placement::Append, Placement::Prepend, Placement::Middle];
            *plan = StringPlan::Breaking {
                kind: rng.next_u64() as u8,
                placement: placement[rng.below(placement.len())],
            };
        }
    }
}

/// A token spliced in (whole, as a prefix or as a suffix), or one byte changed,
/// inserted or dropped; the result stays within [`SmallBytes::MAX`].
fn mutate_bytes(bytes: &mut Vec<u8>, rng: &mut Rng, tokens: &[String], splice: bool) {
    let len = bytes.len();
    let splice = if splice || rng.below(3) == 0 {
        token(rng, tokens)
    } else {
        None
    };
    if let Some(token) = splice {
        match rng.below(3) {
            0 => *bytes = token,
            1 => {
                let mut spliced = token;
                spliced.extend_from_slice(bytes);
                spliced.truncate(SmallBytes::MAX);
                *bytes = spliced;
            }
            _ => {
                bytes.truncate(SmallBytes::MAX - token.len());
                bytes.extend(token);
            }
        }
        return;
    }
    let odd = one_char(rng);
    // Edits at the end come often: a server that compares its input one character at a
    // time is climbed by growing (or correcting the end of) a matching prefix, each step
    // rewarded by the new code it reaches.
    match rng.below(20) {
        0..=5 if len > 0 => bytes[rng.below(len)] = odd,
        6..=9 if len < SmallBytes::MAX => bytes.push(odd),
        10..=12 if len > 0 => bytes[len - 1] = odd,
        13..=15 if len < SmallBytes::MAX => bytes.insert(rng.below(len + 1), odd),
        16..=17 if len > 0 => {
            bytes.remove(rng.below(len));
        }
        18..=19 if len > 0 => bytes.truncate(rng.below(len)),
        _ if len < SmallBytes::MAX => bytes.push(odd),
        _ => bytes[rng.below(len)] = odd,
    }
}

/// A character for free text: printable ASCII three times in four, otherwise a byte
/// that breaks quoting, paths or UTF-8.
fn one_char(rng: &mut Rng) -> u8 {
    if rng.below(4) == 0 {
        ODD_BYTES[rng.below(ODD_BYTES.len())]
    } else {
        b' ' + rng.below(95) as u8
    }
}

/// A short string of [`one_char`]s: free text to climb from.
fn short_text(rng: &mut Rng) -> SmallBytes {
    let len = 1 + rng.below(4);
    SmallBytes((0..len).map(|_| one_char(rng)).collect())
}

/// Another family, form, variant or placement for a payload.
fn mutate_payload(payload: &mut PayloadPlan, rng: &mut Rng) {
    match rng.below(4) {
        0 => {
            let others: Vec<Family> = Family::ALL
                .into_iter()
                .filter(|family| *family != payload.family)
                .collect();
            payload.family = others[rng.below(others.len())];
        }
        1 => payload.form = payload.form.wrapping_add(1),
        2 => payload.variant = rng.next_u64() as u8,
        _ => payload.append = !payload.append,
    }
}

#[cfg(test)]
mod tests {
    use super::super::{describe, seed_scripts, Materializer};
    use super::*;
    use crate::catalog::{Catalog, Tool};
    use serde_json::json;

    /// Returned by the tests' fallback, so that they can tell it was taken.
    const FELL_BACK: usize = usize::MAX;

    fn no_fallback(_: &mut [u8], _: usize, _: usize) -> usize {
        FELL_BACK
    }

    /// The encoded seed scripts and random bytes.
    fn inputs() -> Vec<Vec<u8>> {
        let mut inputs: Vec<Vec<u8>> = seed_scripts().iter().map(encode).collect();
        let mut rng = Rng::new(11);
        for _ in 0..200 {
            let len = 1 + rng.below(600);
            inputs.push(random_bytes(&mut rng, len));
        }
        inputs
    }

    /// Mutates `input` in a buffer of `max_size` (at least the input's length).
    fn run(input: &[u8], max_size: usize, seed: u32, tokens: &[String]) -> Option<Vec<u8>> {
        run_in(&mut Focus::new(), input, max_size, seed, tokens)
    }

    /// [`run`] with `focus`.
    fn run_in(
        focus: &mut Focus,
        input: &[u8],
        max_size: usize,
        seed: u32,
        tokens: &[String],
    ) -> Option<Vec<u8>> {
        let mut data = input.to_vec();
        data.resize(max_size.max(input.len()), 0);
        let new_size = mutate(
            focus,
            &mut data,
            input.len(),
            max_size,
            seed,
            tokens,
            no_fallback,
        );
        (new_size != FELL_BACK).then(|| data[..new_size].to_vec())
    }

    /// The length of the longest common subsequence of two step lists.
    fn common_steps(before: &[Step], after: &[Step]) -> usize {
        let mut table = vec![vec![0; after.len() + 1]; before.len() + 1];
        for (i, old) in before.iter().enumerate() {
            for (j, new) in after.iter().enumerate() {
                table[i + 1][j + 1] = if old == new {
                    table[i][j] + 1
                } else {
                    table[i][j + 1].max(table[i + 1][j])
                };
            }
        }
        table[before.len()][after.len()]
    }

    #[test]
    fn mutated_scripts_decode_and_round_trip() {
        let inputs = inputs();
        let tokens = vec!["alpha".to_owned(), "../etc/passwd".to_owned()];
        let mut n_structured = 0;
        for seed in 0..2000u32 {
            let input = &inputs[seed as usize % inputs.len()];
            let Some(output) = run(input, 4096, seed, &tokens) else {
                continue;
            };
            n_structured += 1;
            let script = decode(&output);
            assert!(!script.steps.is_empty(), "seed {seed}: no steps");
            assert_eq!(
                decode(&encode(&script)),
                script,
                "seed {seed}:\n{}",
                describe(&script)
            );
        }
        // About one in five falls back to byte mutation.
        assert!((1400..1800).contains(&n_structured), "{n_structured}");
    }

    #[test]
    fn most_mutations_keep_most_steps() {
        let inputs: Vec<Vec<u8>> = inputs()
            .into_iter()
            .filter(|input| decode(input).steps.len() >= 2)
            .collect();
        let (mut n_local, mut n_total) = (0, 0);
        for seed in 0..2000u32 {
            let input = &inputs[seed as usize % inputs.len()];
            let Some(output) = run(input, 1 << 16, seed, &[]) else {
                continue;
            };
            let before = decode(input).steps;
            let after = decode(&output).steps;
            n_total += 1;
            if 2 * common_steps(&before, &after) >= before.len() {
                n_local += 1;
            }
        }
        assert!(n_local * 10 >= n_total * 9, "{n_local} of {n_total}");
    }

    #[test]
    fn value_edits_change_one_step() {
        let mut rng = Rng::new(5);
        let script = decode(&random_bytes(&mut rng, 2000));
        let mut n_one = 0;
        for _ in 0..500 {
            let mut steps = script.steps.clone();
            let at = rng.below(steps.len());
            mutate_value(&mut steps[at], &mut rng, &[]);
            let n_changed = steps
                .iter()
                .zip(&script.steps)
                .filter(|(new, old)| new != old)
                .count();
            assert!(n_changed <= 1);
            n_one += n_changed;
        }
        assert!(n_one > 400, "{n_one}");
    }

    #[test]
    fn tokens_reach_the_frames() {
        let catalog = Catalog {
            tools: vec![Tool {
                name: "echo".into(),
                input_schema: json!({
                    "type": "object",
                    "properties": {"text": {"type": "string"}, "n": {"type": "integer"}},
                    "required": ["text"]
                }),
            }],
            ..Catalog::default()
        };
        let tokens = vec!["zqx-token".to_owned()];
        let (mut n_with_token, mut n_scripts) = (0, 0);
        for (index, script) in seed_scripts().iter().enumerate().step_by(7) {
            let mut bytes = encode(script);
            // A short chain of mutations, as a corpus entry goes through.
            for round in 0..5u32 {
                if let Some(output) = run(&bytes, 4096, index as u32 * 31 + round, &tokens) {
                    bytes = output;
                }
            }
            n_scripts += 1;
            let items = Materializer::new().materialize(&decode(&bytes), &catalog);
            if items
                .iter()
                .filter_map(|item| item.as_frame())
                .any(|frame| frame.lossy().contains("zqx-token"))
            {
                n_with_token += 1;
            }
        }
        // Tokens land in plans the catalog never reads too (a third property's plan,
        // a step kind without text), and some go in by their place in the global pool,
        // which the materializer reads instead of `tokens`; so not every chain shows one.
        assert!(
            n_with_token * 6 >= n_scripts,
            "{n_with_token} of {n_scripts}"
        );
    }

    #[test]
    fn output_fits_max_size() {
        let inputs = inputs();
        let mut rng = Rng::new(9);
        for seed in 0..1000u32 {
            let input = &inputs[seed as usize % inputs.len()];
            let max_size = 1 + rng.below(input.len() + 40);
            if let Some(output) = run(input, max_size, seed, &[]) {
                assert!(output.len() <= max_size, "{} > {max_size}", output.len());
                assert!(!decode(&output).steps.is_empty());
            }
        }
    }

    #[test]
    fn a_seed_gives_the_same_mutation() {
        let inputs = inputs();
        let tokens = vec!["alpha".to_owned()];
        let mut n_distinct = 0;
        for seed in 0..300u32 {
            let input = &inputs[seed as usize % inputs.len()];
            let first = run(input, 4096, seed, &tokens);
            assert_eq!(first, run(input, 4096, seed, &tokens));
            if first != run(input, 4096, seed + 1, &tokens) {
                n_distinct += 1;
            }
        }
        assert!(n_distinct > 250, "{n_distinct}");
    }

    #[test]
    fn empty_input_falls_back() {
        let mut data = vec![0; 16];
        assert_eq!(
            mutate(&mut Focus::new(), &mut data, 0, 16, 3, &[], |_, _, _| 5),
            5
        );
    }

    #[test]
    fn re_chosen_variants_round_trip() {
        let mut rng = Rng::new(2);
        for _ in 0..3000 {
            let mut step = fresh_step(&mut rng);
            let mut choices = 0;
            step.walk(&mut |slot| choices += usize::from(matches!(slot, Slot::Choice(_))));
            let target = rng.below(choices);
            let mut index = 0;
            step.walk(&mut |slot| {
                if let Slot::Choice(choice) = slot {
                    if index == target {
                        let next = (choice.index() + 1) % choice.count();
                        choice.choose(next, &[]);
                        assert_eq!(choice.index(), next);
                    }
                    index += 1;
                }
            });
            let script = Script { steps: vec![step] };
            assert_eq!(decode(&encode(&script)), script);
        }
    }

    #[test]
    fn crossover_joins_steps_of_both() {
        let first = encode(&Script {
            steps: vec![Step::SetReplyPolicy(ReplyPolicy::Error); 3],
        });
        let second = encode(&Script {
            steps: vec![Step::SetReplyPolicy(ReplyPolicy::NoReply); 3],
        });
        let mut n_mixed = 0;
        for seed in 0..300 {
            let mut out = vec![0; 64];
            let new_size = crossover(&first, &second, &mut out, seed);
            if new_size == 0 {
                continue;
            }
            let steps = decode(&out[..new_size]).steps;
            assert_eq!(steps[0], Step::SetReplyPolicy(ReplyPolicy::Error));
            if steps.contains(&Step::SetReplyPolicy(ReplyPolicy::NoReply)) {
                n_mixed += 1;
            }
        }
        assert!(n_mixed > 50, "{n_mixed}");
    }

    /// The free text at walk index `slot` of `step`, if that slot is free text.
    fn text_at(step: &mut Step, slot: usize) -> Option<Vec<u8>> {
        let mut index = 0;
        let mut text = None;
        step.walk(&mut |found| {
            if let (true, Slot::Bytes(bytes)) = (index == slot, found) {
                text = Some(bytes.0.clone());
            }
            index += 1;
        });
        text
    }

    #[test]
    fn a_rewarded_edit_is_climbed() {
        // A seed step with free text, as if an edit of that text had just reached new code.
        let (mut script, step, slot) = seed_scripts()
            .into_iter()
            .find_map(|mut script| {
                (0..script.steps.len()).find_map(|step| {
                    let mut index = 0;
                    let mut slot = None;
                    script.steps[step].walk(&mut |found| {
                        if matches!(found, Slot::Bytes(_)) && slot.is_none() {
                            slot = Some(index);
                        }
                        index += 1;
                    });
                    slot.map(|slot| (script.clone(), step, slot))
                })
            })
            .expect("a seed with free text");
        let before = text_at(&mut script.steps[step], slot).expect("free text");
        let bytes = encode(&script);
        let mut focus = Focus::new();
        let place = Place {
            step,
            slot: Some(slot),
        };
        focus.remember(&bytes, Some(place));
        focus.reward(&bytes);
        // libFuzzer hands the mutator other inputs; the focus brings this one back.
        let other = encode(&seed_scripts()[0]);
        let (mut grown, mut structured) = (0, 0);
        for seed in 0..2_000 {
            let Some(output) = run_in(&mut focus, &other, 4096, seed, &[]) else {
                continue;
            };
            structured += 1;
            let mut after = decode(&output);
            let Some(step) = after.steps.get_mut(step) else {
                continue;
            };
            if text_at(step, slot)
                .is_some_and(|text| text.len() == before.len() + 1 && text.starts_with(&before))
            {
                grown += 1;
            }
        }
        // Half the mutations start from the focus, three in four of those edit its text,
        // and about a third of those append one character.
        assert!(
            grown * 20 > structured,
            "{grown} of {structured} grew the text"
        );
    }
}
