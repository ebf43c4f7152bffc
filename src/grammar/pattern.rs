//! A tiny sampler for the subset of regular expressions that JSON Schema `pattern`s
//! usually use: literals, classes, `\d \w \s`, groups with alternation, and quantifiers.
//!
//! It exists so that "valid" strings pass pattern checks and reach the code behind them,
//! without pulling in a regex engine. Anything it does not understand (lookaround,
//! backreferences) makes it give up, and the caller falls back to a plain value.

use super::context::Rng;

/// The most characters a sample may have.
const MAX_SAMPLE: usize = 4096;
/// The most repetitions an unbounded quantifier adds beyond its minimum.
const MAX_EXTRA: u32 = 2;
/// The most repetitions any quantifier produces.
const MAX_REPEAT: u32 = 256;

/// A string that matches `pattern` (searching, as JSON Schema does), or `None` when the
/// pattern is outside the supported subset.
pub(crate) fn sample(pattern: &str, rng: &mut Rng) -> Option<String> {
    let mut parser = Parser {
        chars: pattern.chars().collect(),
        pos: 0,
    };
    let alternatives = parser.alternation(0)?;
    if parser.pos != parser.chars.len() {
        return None;
    }
    let mut text = String::new();
    generate_alternation(&alternatives, rng, &mut text)?;
    Some(text)
}

#[derive(Debug)]
enum Atom {
    Literal(char),
    Class {
        ranges: Vec<(char, char)>,
        negated: bool,
    },
    Group(Vec<Vec<Piece>>),
}

#[derive(Debug)]
struct Piece {
    atom: Atom,
    min: u32,
    max: u32,
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

const DIGITS: &[(char, char)] = &[('0', '9')];
const WORD: &[(char, char)] = &[('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')];
const SPACE: &[(char, char)] = &[(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')];

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn alternation(&mut self, depth: usize) -> Option<Vec<Vec<Piece>>> {
        if depth > 16 {
            return None;
        }
        let mut alternatives = vec![self.sequence(depth)?];
        while self.eat('|') {
            alternatives.push(self.sequence(depth)?);
        }
        Some(alternatives)
    }

    fn sequence(&mut self, depth: usize) -> Option<Vec<Piece>> {
        let mut pieces = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            self.pos += 1;
            let atom = match c {
                '^' | '$' => continue,
                '.' => Atom::Class {
                    ranges: vec![('a', 'z')],
                    negated: false,
                },
                '(' => {
                    if self.eat('?') {
                        // Only non-capturing groups are supported; lookaround and named
                        // groups are not worth a parser here.
                        if !self.eat(':') {
                            return None;
                        }
                    }
                    let group = self.alternation(depth + 1)?;
                    if !self.eat(')') {
                        return None;
                    }
                    Atom::Group(group)
                }
                '[' => self.class()?,
                '\\' => match self.escape()? {
                    Some(atom) => atom,
                    None => continue,
                },
                '*' | '+' | '?' => return None,
                other => Atom::Literal(other),
            };
            let (min, max) = self.quantifier()?;
            pieces.push(Piece { atom, min, max });
        }
        Some(pieces)
    }

    /// An escape after `\`; `None` inside for zero-width assertions.
    fn escape(&mut self) -> Option<Option<Atom>> {
        let c = self.peek()?;
        self.pos += 1;
        let class = |ranges: &[(char, char)], negated| Atom::Class {
            ranges: ranges.to_vec(),
            negated,
        };
        Some(Some(match c {
            'd' => class(DIGITS, false),
            'D' => class(DIGITS, true),
            'w' => class(WORD, false),
            'W' => class(WORD, true),
            's' => class(SPACE, false),
            'S' => class(SPACE, true),
            'b' | 'B' => return Some(None),
            'n' => Atom::Literal('\n'),
            't' => Atom::Literal('\t'),
            'r' => Atom::Literal('\r'),
            'u' => Atom::Literal(self.hex(4)?),
            'x' => Atom::Literal(self.hex(2)?),
            '1'..='9' => return None,
            other => Atom::Literal(other),
        }))
    }

    fn hex(&mut self, digits: usize) -> Option<char> {
        let text: String = self
            .chars
            .get(self.pos..self.pos + digits)?
            .iter()
            .collect();
        self.pos += digits;
        char::from_u32(u32::from_str_radix(&text, 16).ok()?)
    }

    fn class(&mut self) -> Option<Atom> {
        let negated = self.eat('^');
        let mut ranges = Vec::new();
        let mut first = true;
        loop {
            let c = self.peek()?;
            self.pos += 1;
            if c == ']' && !first {
                break;
            }
            first = false;
            let start = if c == '\\' {
                match self.escape()? {
                    Some(Atom::Literal(literal)) => literal,
                    Some(Atom::Class {
                        ranges: more,
                        negated: false,
                    }) => {
                        ranges.extend(more);
                        continue;
                    }
                    _ => return None,
                }
            } else {
                c
            };
            if self.peek() == Some('-') && self.chars.get(self.pos + 1).is_some_and(|&c| c != ']') {
                self.pos += 1;
                let mut end = self.peek()?;
                self.pos += 1;
                if end == '\\' {
                    match self.escape()? {
                        Some(Atom::Literal(literal)) => end = literal,
                        _ => return None,
                    }
                }
                if end < start {
                    return None;
                }
                ranges.push((start, end));
            } else {
                ranges.push((start, start));
            }
        }
        Some(Atom::Class { ranges, negated })
    }

    fn quantifier(&mut self) -> Option<(u32, u32)> {
        let (min, max) = match self.peek() {
            Some('*') => (0, MAX_EXTRA),
            Some('+') => (1, 1 + MAX_EXTRA),
            Some('?') => (0, 1),
            Some('{') => return self.braces(),
            _ => return Some((1, 1)),
        };
        self.pos += 1;
        // Lazy and possessive suffixes do not change what matches.
        let _ = self.eat('?') || self.eat('+');
        Some((min, max))
    }

    fn braces(&mut self) -> Option<(u32, u32)> {
        let start = self.pos;
        self.pos += 1;
        let min = self.integer();
        let Some(min) = min else {
            // A `{` that is not a quantifier is a literal in most dialects.
            self.pos = start;
            return Some((1, 1));
        };
        let max = if self.eat(',') {
            self.integer().unwrap_or(min.saturating_add(MAX_EXTRA))
        } else {
            min
        };
        if !self.eat('}') || max < min || min > MAX_REPEAT {
            return None;
        }
        let _ = self.eat('?');
        Some((min, max.min(MAX_REPEAT)))
    }

    fn integer(&mut self) -> Option<u32> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        text.parse().ok()
    }
}

fn generate_alternation(
    alternatives: &[Vec<Piece>],
    rng: &mut Rng,
    text: &mut String,
) -> Option<()> {
    let sequence = &alternatives[rng.below(alternatives.len())];
    for piece in sequence {
        let extra = (piece.max - piece.min).min(MAX_EXTRA) as usize;
        let count = piece.min as usize + rng.below(extra + 1);
        for _ in 0..count {
            match &piece.atom {
                Atom::Literal(c) => text.push(*c),
                Atom::Class { ranges, negated } => text.push(class_char(ranges, *negated, rng)?),
                Atom::Group(group) => generate_alternation(group, rng, text)?,
            }
            if text.len() > MAX_SAMPLE {
                return None;
            }
        }
    }
    Some(())
}

fn class_char(ranges: &[(char, char)], negated: bool, rng: &mut Rng) -> Option<char> {
    let contains = |c: char| ranges.iter().any(|&(start, end)| start <= c && c <= end);
    if negated {
        return ['a', 'A', '0', '_', '-', '.', ' ', 'x', '~']
            .into_iter()
            .find(|&c| !contains(c));
    }
    let &(start, end) = ranges.get(rng.below(ranges.len()))?;
    let span = end as u32 - start as u32;
    let offset = rng.below(span as usize + 1) as u32;
    char::from_u32(start as u32 + offset).or(Some(start))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn samples(pattern: &str) -> Vec<String> {
        (0..20)
            .map(|seed| sample(pattern, &mut Rng::new(seed)).unwrap())
            .collect()
    }

    #[test]
    fn samples_match_common_patterns() {
        for text in samples(r"^\d{4}-\d{2}-\d{2}$") {
            assert_eq!(text.len(), 10, "{text}");
            assert!(text.chars().enumerate().all(|(i, c)| if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }));
        }
        for text in samples("^[a-z0-9_-]+$") {
            assert!(!text.is_empty() && text.len() <= 3, "{text}");
            assert!(text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'));
        }
        for text in samples("^(?:red|green|blue)$") {
            assert!(["red", "green", "blue"].contains(&text.as_str()), "{text}");
        }
        for text in samples(r"^[^/\\]{2,3}\.txt$") {
            assert!(text.ends_with(".txt") && !text.contains('/'), "{text}");
        }
        assert_eq!(
            samples(r"^a\u0041{2}x{1,}?$")[0]
                .chars()
                .take(3)
                .collect::<String>(),
            "aAA"
        );
    }

    #[test]
    fn unsupported_patterns_give_up() {
        for pattern in [r"(a)\1", "(?=a)a", "a**", "[z-a]", "(a", "[abc", "a{3,1}"] {
            assert_eq!(sample(pattern, &mut Rng::new(0)), None, "{pattern}");
        }
        assert_eq!(sample("a{", &mut Rng::new(0)).as_deref(), Some("a{"));
        assert_eq!(sample("x{999999}", &mut Rng::new(0)), None);
    }
}
