//! Resource URIs: listed ones, ones expanded from RFC 6570 templates with fuzzed values,
//! made-up and malformed ones.

use arbitrary::Arbitrary;
use serde_json::{json, Value};

use super::context::Out;
use super::values::{self, StringPlan};

/// URIs that look fine but name nothing the server listed.
const MADE_UP: &[&str] = &[
    "file:///nonexistent",
    "file:///",
    "file:///tmp",
    "http://localhost/",
    "https://example.com/a",
    "data:text/plain,hello",
    "urn:x:y",
    "custom://a/b",
    "mem://x",
];

/// URIs that are not well formed.
const MALFORMED: &[&str] = &[
    "",
    "no-scheme",
    "://",
    "file:",
    "file://",
    ":",
    "%zz",
    "file:///%00",
    "a b",
    "http://[::1",
    "\\\\server\\share",
    "file:////",
    "FILE:///A",
    ".",
    "..",
    "?#",
    "file:///..",
    "file:///a/../../..",
    "\u{0}",
];

/// Plain values for template variables before encoding.
const PLAIN: &[&str] = &["a", "test", "1", "x y", "a/b"];

/// Which URI a resources/read (or subscribe) names.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum UriPlan {
    /// A listed resource's URI.
    Listed(u8),
    /// A listed resource's URI, bent.
    ListedMutated(u8, UriMutation),
    /// A template expanded with fuzzed values.
    Template(TemplateFill),
    /// A well-formed URI nobody listed.
    MadeUp(u8),
    /// A malformed URI.
    Malformed(u8),
    /// An edge-case string.
    Str(StringPlan),
    /// No `uri` member.
    Missing,
    /// `"uri": null`.
    Null,
    /// `"uri": 1`.
    Number,
}

/// Changes to a listed URI.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriMutation {
    /// `/..` appended.
    AppendDotDot,
    /// `/` appended.
    AppendSlash,
    /// `?a=1` appended.
    AppendQuery,
    /// `#f` appended.
    AppendFragment,
    /// The whole URI upper-cased.
    Upper,
    /// Every non-alphanumeric byte percent-encoded.
    PercentEncode,
    /// The `scheme:` dropped.
    DropScheme,
    /// Every `/` doubled.
    DoubleSlashes,
    /// `%00` appended.
    AppendPercentNul,
    /// 4,096 characters appended.
    AppendLong,
    /// The last character dropped.
    DropLast,
    /// `/%2e%2e` appended.
    EncodedDotDot,
    /// A breaker from the value tables appended.
    AppendBreaker(u8),
}

/// How a template's variables are filled.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub struct TemplateFill {
    /// Which template, modulo their number.
    pub index: u8,
    /// Per-variable values, variable `i` uses `values[i % len]`; empty means plain values.
    pub values: Vec<TemplateValue>,
    /// Insert values without percent-encoding.
    pub raw: bool,
}

/// One template variable's value.
#[derive(Arbitrary, Debug, Clone, PartialEq)]
pub enum TemplateValue {
    /// A plain value or a harvested token.
    Plain(u8),
    /// An edge-case string.
    Edge(StringPlan),
}

/// The `uri` value, `None` when it is to be left out.
pub(crate) fn uri(out: &mut Out, plan: &UriPlan) -> Option<Value> {
    let catalog = out.catalog;
    let listed = |pick: u8| {
        let resources = &catalog.resources;
        (!resources.is_empty()).then(|| resources[usize::from(pick) % resources.len()].uri.as_str())
    };
    let text = match plan {
        UriPlan::Listed(pick) => match listed(*pick) {
            Some(uri) => uri.to_owned(),
            None => fill_template(
                out,
                &TemplateFill {
                    index: *pick,
                    values: Vec::new(),
                    raw: false,
                },
            ),
        },
        UriPlan::ListedMutated(pick, mutation) => {
            let uri = listed(*pick).unwrap_or(MADE_UP[0]);
            mutate(uri, *mutation)
        }
        UriPlan::Template(fill) => fill_template(out, fill),
        UriPlan::MadeUp(pick) => values::pick_from(MADE_UP, *pick).to_owned(),
        UriPlan::Malformed(pick) => values::pick_from(MALFORMED, *pick).to_owned(),
        UriPlan::Str(string) => return Some(values::string(out, string, "file:///a")),
        UriPlan::Missing => return None,
        UriPlan::Null => return Some(Value::Null),
        UriPlan::Number => return Some(json!(1)),
    };
    Some(Value::String(text))
}

/// A listed template expanded by `fill`, or a made-up URI when none is listed.
pub(crate) fn fill_template(out: &mut Out, fill: &TemplateFill) -> String {
    let templates = &out.catalog.templates;
    if templates.is_empty() {
        return values::pick_from(MADE_UP, fill.index).to_owned();
    }
    let template = templates[usize::from(fill.index) % templates.len()]
        .uri_template
        .clone();
    let mut position = 0;
    expand(&template, fill.raw, |_name| {
        let value = match fill.values.get(position % fill.values.len().max(1)) {
            None => PLAIN[position % PLAIN.len()].to_owned(),
            Some(TemplateValue::Plain(pick)) => match out.token(*pick) {
                Some(token) if pick % 2 == 1 => token.to_owned(),
                _ => values::pick_from(PLAIN, *pick).to_owned(),
            },
            Some(TemplateValue::Edge(string)) => match values::string(out, string, "a") {
                Value::String(text) => text,
                other => other.to_string(),
            },
        };
        position += 1;
        value
    })
}

/// The variable names of a template, in order.
pub(crate) fn variables(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    expand(template, true, |name| {
        names.push(name.to_owned());
        String::new()
    });
    names
}

/// Expands an RFC 6570 template (levels 1 to 3, prefix and explode modifiers ignored);
/// `value` gives each variable's value in order.
pub(crate) fn expand(template: &str, raw: bool, mut value: impl FnMut(&str) -> String) -> String {
    let mut text = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|close| open + close) else {
            rest = &rest[open..];
            break;
        };
        let expression = &rest[open + 1..close];
        rest = &rest[close + 1..];
        let (operator, names) = match expression.chars().next() {
            Some(c @ ('+' | '#' | '.' | '/' | ';' | '?' | '&')) => (Some(c), &expression[1..]),
            _ => (None, expression),
        };
        let (first, separator, named, reserved) = match operator {
            None => ("", ",", false, false),
            Some('+') => ("", ",", false, true),
            Some('#') => ("#", ",", false, true),
            Some('.') => (".", ".", false, false),
            Some('/') => ("/", "/", false, false),
            Some(';') => (";", ";", true, false),
            Some('?') => ("?", "&", true, false),
            _ => ("&", "&", true, false),
        };
        text.push_str(first);
        for (i, spec) in names.split(',').enumerate() {
            let name = spec.split(':').next().unwrap_or(spec).trim_end_matches('*');
            let raw_value = value(name);
            let encoded = if raw {
                raw_value
            } else {
                encode(&raw_value, reserved)
            };
            if i > 0 {
                text.push_str(separator);
            }
            if named {
                text.push_str(name);
                if !(encoded.is_empty() && operator == Some(';')) {
                    text.push('=');
                }
            }
            text.push_str(&encoded);
        }
    }
    text.push_str(rest);
    text
}

/// Percent-encodes all but unreserved characters (and reserved ones when allowed).
fn encode(value: &str, allow_reserved: bool) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut text = String::with_capacity(value.len() * 3);
    for byte in value.bytes() {
        let keep = byte.is_ascii_alphanumeric()
            || b"-._~".contains(&byte)
            || (allow_reserved && b":/?#[]@!$&'()*+,;=".contains(&byte));
        if keep {
            text.push(char::from(byte));
        } else {
            text.push('%');
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
    text
}

fn mutate(uri: &str, mutation: UriMutation) -> String {
    match mutation {
        UriMutation::AppendDotDot => format!("{uri}/.."),
        UriMutation::AppendSlash => format!("{uri}/"),
        UriMutation::AppendQuery => format!("{uri}?a=1"),
        UriMutation::AppendFragment => format!("{uri}#f"),
        UriMutation::Upper => uri.to_uppercase(),
        UriMutation::PercentEncode => encode(uri, false),
        UriMutation::DropScheme => uri.split_once(':').map_or(uri, |(_, rest)| rest).to_owned(),
        UriMutation::DoubleSlashes => uri.replace('/', "//"),
        UriMutation::AppendPercentNul => format!("{uri}%00"),
        UriMutation::AppendLong => format!("{uri}{}", "a".repeat(4096)),
        UriMutation::DropLast => {
            let mut text = uri.to_owned();
            text.pop();
            text
        }
        UriMutation::EncodedDotDot => format!("{uri}/%2e%2e"),
        UriMutation::AppendBreaker(pick) => {
            format!("{uri}{}", values::pick_from(values::BREAKERS, pick))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{Catalog, ResourceTemplate};
    use crate::grammar::context::IdState;
    use crate::grammar::values::SurrogateEdge;

    #[test]
    fn expands_template_operators() {
        let values = ["a b", "c/d"];
        let mut i = 0;
        let mut next = |_: &str| {
            i += 1;
            values[(i - 1) % 2].to_owned()
        };
        assert_eq!(expand("file:///{path}", false, &mut next), "file:///a%20b");
        assert_eq!(expand("file:///{+path}", false, &mut next), "file:///c/d");
        assert_eq!(
            expand("x{/a,b}{?q,r}", false, &mut next),
            "x/a%20b/c%2Fd?q=a%20b&r=c%2Fd"
        );
        assert_eq!(expand("{;p}{#f}", true, &mut next), ";p=a b#c/d");
        assert_eq!(
            expand("db://{table}/{id:3}/{rest*}{", false, |name| name
                .to_owned()),
            "db://table/id/rest{"
        );
        assert_eq!(
            variables("users://{id}/posts{?limit,offset}"),
            ["id", "limit", "offset"]
        );
    }

    #[test]
    fn templates_get_fuzzed_values() {
        let catalog = Catalog {
            templates: vec![ResourceTemplate {
                uri_template: "users://{id}/profile".into(),
            }],
            ..Catalog::default()
        };
        let mut ids = IdState::new();
        let mut out = Out::new(&catalog, &mut ids, 1 << 20);
        let plan = UriPlan::Template(TemplateFill {
            index: 0,
            values: vec![TemplateValue::Edge(StringPlan::Surrogate(
                SurrogateEdge::High,
            ))],
            raw: true,
        });
        let value = uri(&mut out, &plan).unwrap();
        assert_eq!(out.line(&value), b"\"users://\\ud800/profile\"\n");
        let listed = uri(&mut out, &UriPlan::Listed(3)).unwrap();
        assert_eq!(listed, json!("users://a/profile"));
        assert_eq!(mutate("file:///a", UriMutation::DropScheme), "///a");
    }
}
