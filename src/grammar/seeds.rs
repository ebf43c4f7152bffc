//! Seed scripts for a corpus: one script per generic input class, so that a fresh
//! campaign tries every class at least once before mutation takes over. Write them with
//! [`encode`](super::encode); like everything in the grammar they know no particular
//! server (tools are addressed by index, modulo what the catalog lists).

use super::args::{ArgsPlan, FieldPlan, WrongType};
use super::envelope::{
    Bend, Envelope, EnvelopeMutation, ExtraMember, IdPlan, ParamsPlan, VersionPlan,
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
use super::uri::{TemplateFill, TemplateValue, UriPlan};
use super::values::{
    Boundary, DeepKind, DeepPlan, Depth, Fill, Junk, LengthClass, LongPlan, NearMiss, StringPlan,
};
use super::{Mostly, Script, SmallBytes, Step};
use crate::transcript::ReplyPolicy;

/// Tool indices the seeds address; catalogs with fewer tools wrap around.
const SEED_TOOLS: u8 = 8;
/// Tool indices the payload seeds address.
const PAYLOAD_SEED_TOOLS: u8 = 16;
/// Plan lists are this long, with the odd plan at one position and valid plans at the
/// others: since plans rotate over the sorted properties, each of the first four
/// properties gets the odd plan alone in some seed.
const SEED_POSITIONS: usize = 4;

/// The seed scripts, in a fixed order.
pub fn seed_scripts() -> Vec<Script> {
    let mut scripts = Vec::new();
    for tool in 0..SEED_TOOLS {
        scripts.push(one(Step::CallTool(call(tool, Vec::new()))));
        for plan in field_plans() {
            // One odd property at a time, the others valid: servers usually stop at the
            // first invalid argument, so an odd value beside odd neighbours may never be
            // looked at.
            for position in 0..SEED_POSITIONS {
                let mut fields = vec![FieldPlan::Valid(0); SEED_POSITIONS];
                fields[position] = plan.clone();
                scripts.push(one(Step::CallTool(call(tool, fields))));
            }
        }
    }
    for method in methods() {
        scripts.push(one(Step::Method(MethodCall {
            method,
            envelope: Envelope::valid(),
        })));
    }
    for bend in bends() {
        scripts.push(one(ping(Envelope::bent(bend))));
    }
    for kind in notifications() {
        scripts.push(one(Step::Notification(Notification {
            kind,
            mutation: Mostly::usual(EnvelopeMutation::Reversed),
        })));
    }
    scripts.extend(batches().into_iter().map(one));
    scripts.extend(unsolicited().into_iter().map(one));
    scripts.extend(raws().into_iter().map(|raw| one(Step::Raw(raw))));
    // Injection payloads: each family's most general forms in every property of every
    // tool (one plan rotates over all properties), then in resource URIs, template
    // values and prompt arguments.
    for tool in 0..PAYLOAD_SEED_TOOLS {
        for plan in payload_plans() {
            scripts.push(one(Step::CallTool(call(
                tool,
                vec![FieldPlan::Payload(plan)],
            ))));
        }
    }
    for plan in payload_plans() {
        let edge = StringPlan::Payload(plan);
        scripts.push(one(Step::Method(MethodCall {
            method: Method::ResourcesRead(UriPlan::Str(edge.clone())),
            envelope: Envelope::valid(),
        })));
        scripts.push(one(Step::Method(MethodCall {
            method: Method::ResourcesRead(UriPlan::Template(TemplateFill {
                index: 0,
                values: vec![TemplateValue::Edge(edge.clone())],
                raw: true,
            })),
            envelope: Envelope::valid(),
        })));
        scripts.push(one(Step::Method(MethodCall {
            method: Method::PromptsGet(PromptPlan {
                prompt: 0,
                name: Mostly::usual(NearMiss::Upper),
                args: vec![PromptArg::Edge(edge)],
                extras: Vec::new(),
                whole: Mostly::default(),
            }),
            envelope: Envelope::valid(),
        })));
    }
    // A tool may ask the client something (sampling, roots, elicitation) while it runs;
    // each odd way of answering gets a call of each tool on its own, so that an earlier
    // tool's failure cannot hide a later one's.
    for policy in REPLY_POLICIES {
        for tool in 0..SEED_TOOLS {
            scripts.push(Script {
                steps: vec![
                    Step::SetReplyPolicy(policy),
                    Step::CallTool(call(tool, Vec::new())),
                ],
            });
        }
    }
    scripts
}

/// Every reply policy but the valid one.
const REPLY_POLICIES: [ReplyPolicy; 6] = [
    ReplyPolicy::Error,
    ReplyPolicy::EmptyResult,
    ReplyPolicy::WrongShape,
    ReplyPolicy::NoReply,
    ReplyPolicy::WrongId,
    ReplyPolicy::Malformed,
];

fn one(step: Step) -> Script {
    Script { steps: vec![step] }
}

fn call(tool: u8, fields: Vec<FieldPlan>) -> CallTool {
    CallTool {
        tool,
        name: Mostly::usual(ToolName::Unknown),
        args: ArgsPlan {
            fields,
            ..ArgsPlan::default()
        },
        envelope: Envelope::valid(),
    }
}

fn ping(envelope: Envelope) -> Step {
    Step::Method(MethodCall {
        method: Method::Ping(Mostly::usual(Junk::Null)),
        envelope,
    })
}

/// The field plans the seeds aim at single properties.
fn field_plans() -> Vec<FieldPlan> {
    vec![
        FieldPlan::Boundary(Boundary::BelowMin),
        FieldPlan::Boundary(Boundary::AtMax),
        FieldPlan::Boundary(Boundary::AboveMax),
        FieldPlan::Boundary(Boundary::Zero),
        FieldPlan::Str(StringPlan::Empty),
        FieldPlan::Str(StringPlan::Long(LongPlan {
            length: LengthClass::L65536,
            fill: Fill::Ascii,
            rare: 0,
        })),
        // Index 1 of the Unicode table: a NUL inside text.
        FieldPlan::Str(StringPlan::Unicode(1)),
        FieldPlan::EnumViolation(NearMiss::Upper, 0),
        FieldPlan::Omit,
        FieldPlan::WrongType(WrongType::Str),
    ]
}

/// The payloads the seeds try: per family, forms that work in the most contexts.
fn payload_plans() -> Vec<PayloadPlan> {
    use Family::*;
    vec![
        // `';echo $((A*B)) #` and `$(touch M)`: a quoted and an unquoted context.
        PayloadPlan::new(Shell, 1, 0),
        PayloadPlan::new(Shell, 18, 1),
        // `"$(touch M)"`.
        PayloadPlan::new(Shell, 20, 1),
        // `--output=M`.
        PayloadPlan::new(Option, 0, 0),
        // `../secret.txt`, `../outside/secret.txt`, then the absolute prefix siblings.
        PayloadPlan::new(PathRead, 0, 0),
        PayloadPlan::new(PathRead, 1, 1),
        PayloadPlan::new(PathRead, 4, 2),
        PayloadPlan::new(PathRead, 4, 3),
        // `./../N` and `{base}/N`.
        PayloadPlan::new(PathWrite, 1, 0),
        PayloadPlan::new(PathWrite, 4, 0),
        // `{{A*B}}` and `${A*B}`.
        PayloadPlan::new(Template, 0, 0),
        PayloadPlan::new(Template, 1, 0),
        // `' UNION SELECT A*B--` and two columns.
        PayloadPlan::new(Sql, 0, 0),
        PayloadPlan::new(Sql, 1, 0),
        PayloadPlan::new(Markup, 0, 0),
    ]
}

fn methods() -> Vec<Method> {
    let cursor = || Mostly::usual(CursorPlan::Empty);
    vec![
        Method::Ping(Mostly::usual(Junk::Null)),
        Method::Ping(Mostly::unusual(Junk::Deep(DeepPlan {
            kind: DeepKind::Mixed,
            depth: Depth::D10000,
        }))),
        Method::Initialize(InitPlan {
            version: Mostly::usual(VersionChoice::Null),
            capabilities: Mostly::usual(CapabilitiesPlan::Empty),
            client_info: Mostly::usual(ClientInfoPlan::Missing),
        }),
        Method::ToolsList(cursor()),
        Method::ToolsList(Mostly::unusual(CursorPlan::Str(StringPlan::Whitespace(0)))),
        Method::ResourcesList(cursor()),
        Method::TemplatesList(cursor()),
        Method::PromptsList(cursor()),
        Method::ResourcesRead(UriPlan::Listed(0)),
        Method::ResourcesRead(UriPlan::Template(TemplateFill {
            index: 0,
            values: Vec::new(),
            raw: false,
        })),
        Method::ResourcesRead(UriPlan::Malformed(0)),
        Method::Subscribe(UriPlan::Listed(0)),
        Method::Unsubscribe(UriPlan::Listed(0)),
        Method::PromptsGet(PromptPlan {
            prompt: 0,
            name: Mostly::usual(NearMiss::Upper),
            args: Vec::new(),
            extras: Vec::new(),
            whole: Mostly::default(),
        }),
        Method::PromptsGet(PromptPlan {
            prompt: 0,
            name: Mostly::usual(NearMiss::Upper),
            args: vec![PromptArg::Omit],
            extras: Vec::new(),
            whole: Mostly::default(),
        }),
        Method::Complete(CompletePlan {
            reference: RefPlan::Prompt(0),
            argument: ArgNamePlan::Declared(0),
            value: Mostly::usual(StringPlan::Empty),
            context: Mostly::usual(ContextPlan::Empty),
        }),
        Method::Complete(CompletePlan {
            reference: RefPlan::Resource(0),
            argument: ArgNamePlan::Declared(0),
            value: Mostly::usual(StringPlan::Empty),
            context: Mostly::usual(ContextPlan::Empty),
        }),
        Method::SetLevel(LevelPlan {
            level: 0,
            invalid: Mostly::usual(BadLevel::Unknown),
        }),
        Method::SetLevel(LevelPlan {
            level: 0,
            invalid: Mostly::unusual(BadLevel::Unknown),
        }),
        Method::Unknown(UnknownMethod {
            name: MethodName::NearMiss(3, NearMiss::CapitalizeLastSegment),
            params: Mostly::usual(Junk::Null),
        }),
        Method::Unknown(UnknownMethod {
            name: MethodName::ClientSide(0),
            params: Mostly::usual(Junk::Null),
        }),
    ]
}

fn bends() -> Vec<Bend> {
    let ids = [
        IdPlan::SmallInt(0),
        IdPlan::Zero,
        IdPlan::Negative,
        IdPlan::Str,
        IdPlan::NumericString,
        IdPlan::EmptyString,
        IdPlan::Null,
        IdPlan::Float,
        IdPlan::IntegralFloat,
        IdPlan::TwoPow53Plus1,
        IdPlan::I64Max,
        IdPlan::I64Min,
        IdPlan::U64Max,
        IdPlan::Duplicate(0),
        IdPlan::Missing,
        IdPlan::Object,
        IdPlan::Array,
        IdPlan::Bool,
    ];
    let mutations = [
        EnvelopeMutation::Version(VersionPlan::Absent),
        EnvelopeMutation::Version(VersionPlan::One),
        EnvelopeMutation::Version(VersionPlan::Number),
        EnvelopeMutation::Version(VersionPlan::Null),
        EnvelopeMutation::Params(ParamsPlan::Null),
        EnvelopeMutation::Params(ParamsPlan::EmptyArray),
        EnvelopeMutation::Params(ParamsPlan::Number),
        EnvelopeMutation::Extra(ExtraMember::Result),
        EnvelopeMutation::Extra(ExtraMember::DuplicateId),
        EnvelopeMutation::Reversed,
        EnvelopeMutation::MethodType(Junk::Null),
    ];
    ids.into_iter()
        .map(Bend::Id)
        .chain(mutations.into_iter().map(Bend::Member))
        .collect()
}

fn notifications() -> Vec<NotificationKind> {
    vec![
        NotificationKind::Initialized,
        NotificationKind::Cancelled(CancelPlan {
            target: CancelTarget::Recent(0),
            reason: Mostly::usual(StringPlan::Empty),
        }),
        NotificationKind::Cancelled(CancelPlan {
            target: CancelTarget::Null,
            reason: Mostly::usual(StringPlan::Empty),
        }),
        NotificationKind::Progress(ProgressPlan {
            token: ProgressToken::RecentId(0),
            progress: Mostly::usual(Boundary::Zero),
            total: Mostly::unusual(Boundary::Zero),
            message: Mostly::usual(StringPlan::Empty),
        }),
        NotificationKind::RootsListChanged,
        NotificationKind::Unknown(UnknownNotification {
            name: NotificationName::ServerSide(0),
            params: Mostly::usual(Junk::Null),
        }),
    ]
}

fn batches() -> Vec<Step> {
    let request = || {
        BatchEntry::Method(MethodCall {
            method: Method::Ping(Mostly::usual(Junk::Null)),
            envelope: Envelope::valid(),
        })
    };
    vec![
        Step::Batch(Batch {
            entries: Vec::new(),
            shape: Mostly::usual(BatchShape::Nested),
        }),
        Step::Batch(Batch {
            entries: vec![request(), request(), BatchEntry::Junk(Junk::Null)],
            shape: Mostly::usual(BatchShape::Nested),
        }),
        Step::Batch(Batch {
            entries: vec![BatchEntry::CallTool(call(0, Vec::new()))],
            shape: Mostly::unusual(BatchShape::RepeatFirst),
        }),
    ]
}

fn unsolicited() -> Vec<Step> {
    let response = |id, body| {
        Step::UnsolicitedResponse(Unsolicited {
            id,
            body,
            version: Mostly::usual(VersionPlan::Absent),
        })
    };
    vec![
        response(UnsolicitedId::Zero, ResponseBody::EmptyResult),
        response(UnsolicitedId::Recent(0), ResponseBody::SamplingResult),
        response(UnsolicitedId::Str(0), ResponseBody::Both),
    ]
}

fn raws() -> Vec<Raw> {
    let base = RawBase::Ping;
    vec![
        Raw::Broken {
            base,
            breakage: Breakage::Truncated(10),
        },
        Raw::Broken {
            base,
            breakage: Breakage::TrailingGarbage(0),
        },
        Raw::Bare(0),
        Raw::InvalidUtf8 {
            base,
            bytes: 0,
            placement: BytePlacement::InString,
        },
        Raw::Nul {
            base,
            placement: BytePlacement::BeforeNewline,
        },
        Raw::Crlf(base),
        Raw::CrOnly(base),
        Raw::Split { base, at: 10 },
        Raw::NoNewline(base),
        Raw::EmptyLine,
        Raw::BlankLine(0),
        Raw::Long(LongLine {
            kind: LongLineKind::OpenBrackets,
            length: LengthClass::L65536,
            rare: 0,
        }),
        Raw::Bom(base),
        Raw::TwoInOneWrite(base, RawBase::ToolsList),
        Raw::LeadingWhitespace(base),
        Raw::Free(SmallBytes(b"{\"jsonrpc\":\"2.0\"".to_vec())),
    ]
}

#[cfg(test)]
mod tests {
    use super::super::{decode, encode, Materializer};
    use super::*;
    use crate::catalog::Catalog;
    use std::collections::HashSet;

    #[test]
    fn seeds_round_trip_and_are_distinct() {
        let scripts = seed_scripts();
        assert!(scripts.len() > 400, "{}", scripts.len());
        let mut seen = HashSet::new();
        for script in &scripts {
            let bytes = encode(script);
            assert_eq!(&decode(&bytes), script);
            assert!(seen.insert(bytes), "duplicate seed {script:?}");
        }
    }

    #[test]
    fn every_seed_materializes() {
        let catalog = Catalog::default();
        let mut materializer = Materializer::new();
        for script in seed_scripts() {
            assert!(
                !materializer.materialize(&script, &catalog).is_empty(),
                "{script:?}"
            );
        }
    }
}
