//! Reading a JSON Schema the way argument generation needs it: one node after following
//! `$ref` (to `#/$defs`, `#/definitions`, any local pointer), `allOf`, and one branch of
//! `anyOf`/`oneOf`; its JSON types (declared, type arrays, or implied by keywords); its
//! numeric bounds; its properties in sorted order.

use serde_json::{Map, Value};

use super::values::Bounds;

/// `$ref`, `allOf`, `anyOf` hops followed while resolving one schema node.
const MAX_HOPS: usize = 8;
/// Schema objects one node collects at most.
const MAX_PARTS: usize = 16;

/// A schema node after following `$ref`, `allOf` and one `anyOf`/`oneOf` branch: the
/// objects whose keywords apply, first match wins.
#[derive(Default)]
pub(crate) struct Node<'s> {
    parts: Vec<&'s Map<String, Value>>,
}

/// The JSON type a value is generated as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Str,
    Int,
    Num,
    Bool,
    Null,
    Array,
    Object,
    Any,
}

impl Kind {
    fn from_name(name: &str) -> Kind {
        match name {
            "string" => Kind::Str,
            "integer" => Kind::Int,
            "number" => Kind::Num,
            "boolean" => Kind::Bool,
            "null" => Kind::Null,
            "array" => Kind::Array,
            "object" => Kind::Object,
            _ => Kind::Any,
        }
    }

    fn of(value: &Value) -> Kind {
        match value {
            Value::Null => Kind::Null,
            Value::Bool(_) => Kind::Bool,
            Value::Number(n) if n.is_i64() || n.is_u64() => Kind::Int,
            Value::Number(_) => Kind::Num,
            Value::String(_) => Kind::Str,
            Value::Array(_) => Kind::Array,
            Value::Object(_) => Kind::Object,
        }
    }
}

impl<'s> Node<'s> {
    pub(crate) fn resolve(root: &'s Value, schema: &'s Value, pick: u64) -> Node<'s> {
        let mut node = Node::default();
        node.add(root, schema, pick, 0);
        node
    }

    fn add(&mut self, root: &'s Value, schema: &'s Value, pick: u64, hops: usize) {
        let Some(map) = schema.as_object() else {
            return;
        };
        if hops > MAX_HOPS || self.parts.len() >= MAX_PARTS {
            return;
        }
        self.parts.push(map);
        if let Some(target) = map
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| pointer(root, r))
        {
            self.add(root, target, pick, hops + 1);
        }
        if let Some(Value::Array(all)) = map.get("allOf") {
            for branch in all {
                self.add(root, branch, pick, hops + 1);
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            if let Some(Value::Array(branches)) = map.get(keyword) {
                if !branches.is_empty() {
                    let len = branches.len() as u64;
                    self.add(root, &branches[(pick % len) as usize], pick / len, hops + 1);
                }
            }
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&'s Value> {
        self.parts.iter().find_map(|part| part.get(key))
    }

    pub(crate) fn number(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    pub(crate) fn count(&self, key: &str) -> Option<usize> {
        self.get(key)
            .and_then(Value::as_u64)
            .map(|n| n.min(usize::MAX as u64) as usize)
    }

    pub(crate) fn string(&self, key: &str) -> Option<&'s str> {
        self.get(key).and_then(Value::as_str)
    }

    pub(crate) fn enumeration(&self) -> Option<&'s Vec<Value>> {
        self.get("enum")
            .and_then(Value::as_array)
            .filter(|e| !e.is_empty())
    }

    /// The declared types, or the ones the keywords imply.
    pub(crate) fn kinds(&self) -> Vec<Kind> {
        match self.get("type") {
            Some(Value::String(name)) => return vec![Kind::from_name(name)],
            Some(Value::Array(names)) => {
                let kinds: Vec<Kind> = names
                    .iter()
                    .filter_map(Value::as_str)
                    .map(Kind::from_name)
                    .collect();
                if !kinds.is_empty() {
                    return kinds;
                }
            }
            _ => {}
        }
        let has = |keys: &[&str]| keys.iter().any(|key| self.get(key).is_some());
        let kind = if let Some(constant) = self.get("const") {
            Kind::of(constant)
        } else if let Some(first) = self.enumeration().and_then(|e| e.first()) {
            Kind::of(first)
        } else if has(&["properties", "additionalProperties", "required"]) {
            Kind::Object
        } else if has(&["items", "prefixItems", "minItems", "maxItems"]) {
            Kind::Array
        } else if has(&["minLength", "maxLength", "pattern", "format"]) {
            Kind::Str
        } else if has(&[
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "multipleOf",
        ]) {
            Kind::Num
        } else {
            Kind::Any
        };
        vec![kind]
    }

    pub(crate) fn kind(&self, pick: u64) -> Kind {
        let kinds = self.kinds();
        kinds[(pick % kinds.len() as u64) as usize]
    }

    /// Declared properties of every part, sorted by name, first declaration wins.
    pub(crate) fn properties(&self) -> Vec<(&'s str, &'s Value)> {
        let mut properties: Vec<(&'s str, &'s Value)> = Vec::new();
        for part in &self.parts {
            if let Some(Value::Object(map)) = part.get("properties") {
                for (name, schema) in map {
                    if !properties.iter().any(|(known, _)| *known == name.as_str()) {
                        properties.push((name.as_str(), schema));
                    }
                }
            }
        }
        properties.sort_by(|a, b| a.0.cmp(b.0));
        properties
    }

    pub(crate) fn required(&self) -> Vec<&'s str> {
        let mut required = Vec::new();
        for part in &self.parts {
            if let Some(Value::Array(names)) = part.get("required") {
                required.extend(names.iter().filter_map(Value::as_str));
            }
        }
        required
    }

    /// The numeric bounds as written, each with whether it is exclusive.
    pub(crate) fn bounds(&self, integer: bool) -> Bounds {
        // Draft 4 spells exclusivity as a boolean beside minimum/maximum; later drafts
        // make exclusiveMinimum/exclusiveMaximum numbers of their own.
        let flag = |key: &str| self.get(key).and_then(Value::as_bool).unwrap_or(false);
        let (min, exclusive_min) = match (self.number("minimum"), self.number("exclusiveMinimum")) {
            (Some(min), _) if flag("exclusiveMinimum") => (Some(min), true),
            (Some(min), Some(exclusive)) if min > exclusive => (Some(min), false),
            (_, Some(exclusive)) => (Some(exclusive), true),
            (min, None) => (min, false),
        };
        let (max, exclusive_max) = match (self.number("maximum"), self.number("exclusiveMaximum")) {
            (Some(max), _) if flag("exclusiveMaximum") => (Some(max), true),
            (Some(max), Some(exclusive)) if max < exclusive => (Some(max), false),
            (_, Some(exclusive)) => (Some(exclusive), true),
            (max, None) => (max, false),
        };
        Bounds {
            min,
            max,
            exclusive_min,
            exclusive_max,
            integer,
        }
    }
}

/// Follows a local JSON pointer (`#`, `#/$defs/x`, `#/definitions/x`).
fn pointer<'s>(root: &'s Value, reference: &str) -> Option<&'s Value> {
    match reference.strip_prefix('#')? {
        "" => Some(root),
        path => root.pointer(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_all_of_and_one_branch_merge_into_one_node() {
        let root = json!({
            "$ref": "#/definitions/base",
            "definitions": {
                "base": {"allOf": [
                    {"properties": {"b": {"type": "string"}}, "required": ["b"]},
                    {"properties": {"a": {"type": "integer"}}}
                ]},
                "tilde~name": {"type": "boolean"}
            },
            "anyOf": [{"properties": {"c": {}}}, {"properties": {"d": {}}, "required": ["d"]}]
        });
        let names = |pick| {
            Node::resolve(&root, &root, pick)
                .properties()
                .iter()
                .map(|(name, _)| *name)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(0), ["a", "b", "c"]);
        assert_eq!(names(1), ["a", "b", "d"]);
        assert_eq!(Node::resolve(&root, &root, 1).required(), ["b", "d"]);
        let escaped = json!({"$ref": "#/definitions/tilde~0name"});
        assert_eq!(Node::resolve(&root, &escaped, 0).kinds(), [Kind::Bool]);
        let cycle = json!({"$ref": "#"});
        assert_eq!(Node::resolve(&cycle, &cycle, 0).parts.len(), MAX_HOPS + 1);
    }

    #[test]
    fn kinds_are_declared_or_implied() {
        let kinds = |schema: serde_json::Value| Node::resolve(&schema, &schema, 0).kinds();
        assert_eq!(
            kinds(json!({"type": ["string", "null"]})),
            [Kind::Str, Kind::Null]
        );
        assert_eq!(kinds(json!({"enum": [1, 2]})), [Kind::Int]);
        assert_eq!(kinds(json!({"const": 1.5})), [Kind::Num]);
        assert_eq!(kinds(json!({"required": ["x"]})), [Kind::Object]);
        assert_eq!(kinds(json!({"maxItems": 2})), [Kind::Array]);
        assert_eq!(kinds(json!({"pattern": "^a$"})), [Kind::Str]);
        assert_eq!(kinds(json!({"maximum": 2})), [Kind::Num]);
        assert_eq!(kinds(json!({"type": "tuple"})), [Kind::Any]);
        assert_eq!(kinds(json!(true)), [Kind::Any]);
    }

    #[test]
    fn bounds_keep_their_exclusivity() {
        let bounds = |schema: serde_json::Value| Node::resolve(&schema, &schema, 0).bounds(true);
        let draft4 = bounds(json!({"minimum": 0, "exclusiveMinimum": true, "maximum": 9}));
        assert_eq!(
            (
                draft4.min,
                draft4.exclusive_min,
                draft4.max,
                draft4.exclusive_max
            ),
            (Some(0.0), true, Some(9.0), false)
        );
        let draft6 = bounds(json!({"minimum": 0, "exclusiveMinimum": 3, "exclusiveMaximum": 5}));
        assert_eq!(
            (
                draft6.min,
                draft6.exclusive_min,
                draft6.max,
                draft6.exclusive_max
            ),
            (Some(3.0), true, Some(5.0), true)
        );
        let tighter = bounds(json!({"minimum": 4, "exclusiveMinimum": 3}));
        assert_eq!((tighter.min, tighter.exclusive_min), (Some(4.0), false));
    }
}
