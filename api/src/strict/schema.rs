//! Every problem of a JSON value against a type's JSON Schema, at once and
//! in field language ("`ssh.credential_id` is required").
//!
//! Only consulted after strict decoding refused a body, to list all that is
//! wrong instead of the first thing serde met: it never accepts a body by
//! itself. It knows the keywords schemars emits: `$ref`, `type`, `enum`,
//! `const`, `anyOf`/`oneOf`/`allOf`, `properties`, `required`,
//! `additionalProperties`, `items`, the length, size and range bounds, and
//! the `uuid`, `date-time` and integer formats.

use opsc_proto::job_check::PathError;
use schemars::JsonSchema;
use serde_json::{Map, Value};

use super::suggest::{closest, listed};

/// Nesting beyond which the walk stops (schemas are finite, values too;
/// this only guards a self-referring `$ref`).
const MAX_DEPTH: usize = 128;

/// A bound of a range, and whether it is exclusive.
type Bound = Option<(f64, bool)>;

/// Problems collected at most: a few more than an answer shows, so that it
/// can say there were more.
const MAX_FOUND: usize = 200;

/// The schema a `$ref` that leads nowhere stands for: anything.
static ANYTHING: Value = Value::Bool(true);

/// Every problem of `value` as a `T`, each at its JSON pointer.
pub fn problems<T: JsonSchema>(value: &Value) -> Vec<PathError> {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    let root = schema.as_value();
    let mut walker = Walker {
        root,
        errors: Vec::new(),
    };
    walker.check(root, value, &Place::default(), 0);
    walker.errors
}

/// Where a value sits: its JSON pointer and its dotted name for sentences.
#[derive(Debug, Clone, Default)]
pub struct Place {
    /// `/steps/0/id`.
    pub pointer: String,
    /// `steps[0].id`.
    pub dotted: String,
}

impl Place {
    /// The member `key` of this object.
    pub fn key(&self, key: &str) -> Self {
        let dotted = if self.dotted.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.dotted)
        };
        Self {
            pointer: format!("{}/{}", self.pointer, super::escape(key)),
            dotted,
        }
    }

    /// The item `index` of this array.
    pub fn index(&self, index: usize) -> Self {
        Self {
            pointer: format!("{}/{index}", self.pointer),
            dotted: format!("{}[{index}]", self.dotted),
        }
    }

    /// The value's name in a sentence.
    pub fn name(&self) -> String {
        if self.dotted.is_empty() {
            "the body".to_owned()
        } else {
            format!("`{}`", self.dotted)
        }
    }
}

struct Walker<'a> {
    root: &'a Value,
    errors: Vec<PathError>,
}

impl<'a> Walker<'a> {
    fn push(&mut self, place: &Place, message: String) {
        // Past this many the answer shows only a count (see
        // `Problem::errors`); finding more is work for nothing.
        if self.errors.len() <= MAX_FOUND {
            self.errors
                .push(PathError::new(place.pointer.clone(), message));
        }
    }

    /// The schema a `$ref` names (only local ones: `#/$defs/…`).
    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut schema = schema;
        for _ in 0..MAX_DEPTH {
            match schema.get("$ref").and_then(Value::as_str) {
                Some(r) => match r.strip_prefix('#').and_then(|p| self.root.pointer(p)) {
                    Some(target) => schema = target,
                    None => return &ANYTHING,
                },
                None => return schema,
            }
        }
        schema
    }

    /// The problems a check would find, without keeping them.
    fn trial(
        &mut self,
        schema: &'a Value,
        value: &Value,
        place: &Place,
        depth: usize,
    ) -> Vec<PathError> {
        let saved = std::mem::take(&mut self.errors);
        self.check(schema, value, place, depth);
        std::mem::replace(&mut self.errors, saved)
    }

    fn check(&mut self, schema: &'a Value, value: &Value, place: &Place, depth: usize) {
        if depth > MAX_DEPTH {
            return;
        }
        let schema = self.resolve(schema);
        let Some(keywords) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                self.push(place, format!("{} is not allowed here", place.name()));
            }
            return;
        };
        if !fits_type(keywords, value) {
            let expected = expectation(self, schema, 0);
            self.push(
                place,
                format!(
                    "{} must be {expected}, not {}",
                    place.name(),
                    kind_of(value)
                ),
            );
            return;
        }
        if let Some(allowed) = keywords.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            self.push(place, not_among(place, allowed, value));
            return;
        }
        if let Some(allowed) = keywords.get("const")
            && allowed != value
        {
            self.push(
                place,
                not_among(place, std::slice::from_ref(allowed), value),
            );
            return;
        }
        for all in keywords
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.check(all, value, place, depth + 1);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = keywords.get(key).and_then(Value::as_array) {
                self.branches(branches, value, place, depth);
            }
        }
        match value {
            Value::Object(members) => self.object(keywords, members, place, depth),
            Value::Array(items) => self.array(keywords, items, place, depth),
            Value::String(text) => string(self, keywords, text, place),
            Value::Number(_) => number(self, keywords, value, place),
            Value::Null | Value::Bool(_) => {}
        }
    }

    /// `anyOf`/`oneOf`: fine when one branch fits; otherwise the problems
    /// of the branch the value was most likely meant for.
    fn branches(&mut self, branches: &'a [Value], value: &Value, place: &Place, depth: usize) {
        let resolved: Vec<&'a Value> = branches.iter().map(|b| self.resolve(b)).collect();
        let mut fitting: Vec<&'a Value> = resolved
            .iter()
            .copied()
            .filter(|b| b.as_object().is_none_or(|k| fits_type(k, value)))
            .collect();
        if fitting.is_empty() {
            let expected: Vec<String> = resolved.iter().map(|b| expectation(self, b, 0)).collect();
            let mut unique: Vec<String> = Vec::new();
            for e in expected {
                if !unique.contains(&e) && e != "null" {
                    unique.push(e);
                }
            }
            let words = match unique.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => "null".to_owned(),
            };
            self.push(
                place,
                format!("{} must be {words}, not {}", place.name(), kind_of(value)),
            );
            return;
        }
        // An enumeration spelled as one `const` branch per value.
        let consts: Option<Vec<Value>> = resolved.iter().map(|b| b.get("const").cloned()).collect();
        if let Some(consts) = consts {
            if !consts.contains(value) {
                self.push(place, not_among(place, &consts, value));
            }
            return;
        }
        if let Value::Object(members) = value
            && let Some((tag, consts)) = tag_of(&fitting)
        {
            let given = members.get(&tag);
            let chosen: Vec<&'a Value> = fitting
                .iter()
                .copied()
                .filter(|b| const_of(b, &tag).is_none_or(|c| Some(c) == given))
                .collect();
            if chosen.is_empty() {
                let at = place.key(&tag);
                match given {
                    None => self.push(&at, format!("{} is required", at.name())),
                    Some(v) => self.push(&at, not_among(&at, &consts, v)),
                }
                return;
            }
            fitting = chosen;
        }
        let mut best: Option<Vec<PathError>> = None;
        for branch in fitting {
            let found = self.trial(branch, value, place, depth + 1);
            if found.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| found.len() < b.len()) {
                best = Some(found);
            }
        }
        self.errors.extend(best.unwrap_or_default());
    }

    fn object(
        &mut self,
        keywords: &'a Map<String, Value>,
        members: &Map<String, Value>,
        place: &Place,
        depth: usize,
    ) {
        let properties = keywords.get("properties").and_then(Value::as_object);
        for name in keywords
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(name) = name.as_str()
                && !members.contains_key(name)
            {
                let at = place.key(name);
                self.push(&at, format!("{} is required", at.name()));
            }
        }
        let extra = keywords.get("additionalProperties");
        let closed = extra == Some(&Value::Bool(false))
            || keywords.get("unevaluatedProperties") == Some(&Value::Bool(false));
        let known = self.known_fields(keywords);
        for (name, member) in members {
            let at = place.key(name);
            if let Some(schema) = properties.and_then(|p| p.get(name)) {
                self.check(schema, member, &at, depth + 1);
            } else if closed && !known.iter().any(|k| k == name) {
                self.push(&at, unknown(place, name, &known));
            } else if let Some(schema) = extra.filter(|e| e.is_object()) {
                self.check(schema, member, &at, depth + 1);
            }
        }
        let count = members.len() as u64;
        if let Some(min) = keywords.get("minProperties").and_then(Value::as_u64)
            && count < min
        {
            self.push(
                place,
                format!("{} must have at least {min} entries", place.name()),
            );
        }
        if let Some(max) = keywords.get("maxProperties").and_then(Value::as_u64)
            && count > max
        {
            self.push(
                place,
                format!("{} must have at most {max} entries", place.name()),
            );
        }
    }

    /// The field names an object schema knows, its branches' included
    /// (a flattened enum's fields are declared there).
    fn known_fields(&self, keywords: &'a Map<String, Value>) -> Vec<String> {
        let mut known: Vec<String> = keywords
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        for key in ["allOf", "anyOf", "oneOf"] {
            for branch in keywords
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let branch = self.resolve(branch);
                if let Some(p) = branch.get("properties").and_then(Value::as_object) {
                    known.extend(
                        p.keys()
                            .filter(|k| !known.contains(k))
                            .cloned()
                            .collect::<Vec<_>>(),
                    );
                }
            }
        }
        known
    }

    fn array(
        &mut self,
        keywords: &'a Map<String, Value>,
        items: &[Value],
        place: &Place,
        depth: usize,
    ) {
        let prefix = keywords.get("prefixItems").and_then(Value::as_array);
        for (i, item) in items.iter().enumerate() {
            let schema = prefix
                .and_then(|p| p.get(i))
                .or_else(|| keywords.get("items"));
            if let Some(schema) = schema {
                self.check(schema, item, &place.index(i), depth + 1);
            }
        }
        let count = items.len() as u64;
        match (
            keywords.get("minItems").and_then(Value::as_u64),
            keywords.get("maxItems").and_then(Value::as_u64),
        ) {
            (Some(1), _) if count == 0 => {
                self.push(place, format!("{} must not be empty", place.name()));
            }
            (Some(min), _) if count < min => {
                self.push(
                    place,
                    format!("{} must have at least {min} items", place.name()),
                );
            }
            (_, Some(max)) if count > max => {
                self.push(
                    place,
                    format!("{} must have at most {max} items", place.name()),
                );
            }
            _ => {}
        }
    }
}

fn string(walker: &mut Walker<'_>, keywords: &Map<String, Value>, text: &str, place: &Place) {
    let length = text.chars().count() as u64;
    let min = keywords.get("minLength").and_then(Value::as_u64);
    let max = keywords.get("maxLength").and_then(Value::as_u64);
    if min == Some(1) && length == 0 {
        walker.push(place, format!("{} must not be empty", place.name()));
    } else if let Some(min) = min.filter(|m| length < *m) {
        walker.push(
            place,
            format!("{} must have at least {min} characters", place.name()),
        );
    } else if let Some(max) = max.filter(|m| length > *m) {
        walker.push(
            place,
            format!("{} must have at most {max} characters", place.name()),
        );
    }
    match keywords.get("format").and_then(Value::as_str) {
        Some("uuid") if uuid::Uuid::parse_str(text).is_err() => {
            walker.push(
                place,
                format!(
                    "{} must be a UUID, such as `0190c9a4-7f6e-7d3a-9b1c-2f4e5d6a7b8c`",
                    place.name()
                ),
            );
        }
        Some("date-time") if chrono::DateTime::parse_from_rfc3339(text).is_err() => {
            walker.push(
                place,
                format!(
                    "{} must be a date and time such as `2026-01-31T12:00:00Z` (RFC 3339)",
                    place.name()
                ),
            );
        }
        _ => {}
    }
}

fn number(walker: &mut Walker<'_>, keywords: &Map<String, Value>, value: &Value, place: &Place) {
    let Some(v) = value.as_f64() else { return };
    let (low, high) = bounds(keywords);
    let below = low.is_some_and(|(l, exclusive)| if exclusive { v <= l } else { v < l });
    let above = high.is_some_and(|(h, exclusive)| if exclusive { v >= h } else { v > h });
    if below || above {
        let what = if fits("integer", value)
            && keywords
                .get("type")
                .is_some_and(|t| names_type(t, "integer"))
        {
            "an integer"
        } else {
            "a number"
        };
        walker.push(
            place,
            format!("{} must be {}", place.name(), ranged(what, low, high)),
        );
    }
}

/// The lower and upper bounds (and whether each is exclusive) from the
/// range keywords and an integer format, whichever is tighter.
fn bounds(keywords: &Map<String, Value>) -> (Bound, Bound) {
    let number = |k: &str| keywords.get(k).and_then(Value::as_f64);
    let mut low = number("minimum")
        .map(|v| (v, false))
        .or(number("exclusiveMinimum").map(|v| (v, true)));
    let mut high = number("maximum")
        .map(|v| (v, false))
        .or(number("exclusiveMaximum").map(|v| (v, true)));
    let format: Option<(f64, f64)> = match keywords.get("format").and_then(Value::as_str) {
        Some("uint8") => Some((0.0, f64::from(u8::MAX))),
        Some("int8") => Some((f64::from(i8::MIN), f64::from(i8::MAX))),
        Some("uint16") => Some((0.0, f64::from(u16::MAX))),
        Some("int16") => Some((f64::from(i16::MIN), f64::from(i16::MAX))),
        Some("uint32") => Some((0.0, f64::from(u32::MAX))),
        Some("int32") => Some((f64::from(i32::MIN), f64::from(i32::MAX))),
        _ => None,
    };
    if let Some((lo, hi)) = format {
        if low.is_none_or(|(l, _)| l < lo) {
            low = Some((lo, false));
        }
        if high.is_none_or(|(h, _)| h > hi) {
            high = Some((hi, false));
        }
    }
    (low, high)
}

/// "an integer between 1 and 65535", "a number above 0" …
fn ranged(what: &str, low: Bound, high: Bound) -> String {
    match (low, high) {
        (Some((l, false)), Some((h, false))) => format!("{what} between {l} and {h}"),
        (Some((l, le)), Some((h, he))) => format!(
            "{what} {} {l} and {} {h}",
            if le { "above" } else { "at least" },
            if he { "below" } else { "at most" }
        ),
        (Some((l, true)), None) => format!("{what} above {l}"),
        (Some((l, false)), None) => format!("{what} of at least {l}"),
        (None, Some((h, true))) => format!("{what} below {h}"),
        (None, Some((h, false))) => format!("{what} of at most {h}"),
        (None, None) => what.to_owned(),
    }
}

/// What a schema expects, in words ("an integer between 1 and 65535").
fn expectation(walker: &Walker<'_>, schema: &Value, depth: usize) -> String {
    let schema = walker.resolve(schema);
    let Some(keywords) = schema.as_object() else {
        return "anything".to_owned();
    };
    if let Some(allowed) = keywords.get("enum").and_then(Value::as_array) {
        return listed(allowed.iter().filter_map(Value::as_str));
    }
    let types: Vec<&str> = match keywords.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let mut words: Vec<String> = types
        .iter()
        .filter(|t| **t != "null" || types.len() == 1)
        .map(|t| match *t {
            "integer" | "number" => {
                let (low, high) = bounds(keywords);
                let what = if *t == "integer" {
                    "an integer"
                } else {
                    "a number"
                };
                ranged(what, low, high)
            }
            other => article(other).to_owned(),
        })
        .collect();
    if words.is_empty() && depth < 4 {
        for key in ["anyOf", "oneOf"] {
            for branch in keywords
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let word = expectation(walker, branch, depth + 1);
                if word != "null" && word != "anything" && !words.contains(&word) {
                    words.push(word);
                }
            }
        }
    }
    match words.split_last() {
        None => "anything".to_owned(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
    }
}

fn article(kind: &str) -> &'static str {
    match kind {
        "string" => "a string",
        "boolean" => "true or false",
        "object" => "an object",
        "array" => "a list",
        "integer" => "an integer",
        "number" => "a number",
        "null" => "null",
        _ => "a value",
    }
}

/// What a JSON value is, in words.
pub fn kind_of(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true or false",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn names_type(t: &Value, name: &str) -> bool {
    match t {
        Value::String(s) => s == name,
        Value::Array(ts) => ts.iter().any(|t| t == name),
        _ => false,
    }
}

fn fits(kind: &str, value: &Value) -> bool {
    match kind {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    }
}

/// Whether the `type` keyword (if any) admits the value.
fn fits_type(keywords: &Map<String, Value>, value: &Value) -> bool {
    match keywords.get("type") {
        Some(Value::String(t)) => fits(t, value),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(|t| fits(t, value)),
        _ => true,
    }
}

/// The `const` a branch's property `tag` must have.
fn const_of<'a>(branch: &'a Value, tag: &str) -> Option<&'a Value> {
    branch.get("properties")?.get(tag)?.get("const")
}

/// The property that tells tagged branches apart, and its values.
fn tag_of(branches: &[&Value]) -> Option<(String, Vec<Value>)> {
    let first = branches.first()?.get("properties")?.as_object()?;
    let tag = first
        .iter()
        .find(|(_, p)| p.get("const").is_some())
        .map(|(k, _)| k.clone())?;
    let consts: Vec<Value> = branches
        .iter()
        .filter_map(|b| const_of(b, &tag).cloned())
        .collect();
    (consts.len() == branches.len()).then_some((tag, consts))
}

fn not_among(place: &Place, allowed: &[Value], value: &Value) -> String {
    let words: Vec<String> = allowed
        .iter()
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .collect();
    let mut message = format!(
        "{} must be {}",
        place.name(),
        listed(words.iter().map(String::as_str))
    );
    if let Some(given) = value.as_str()
        && let Some(near) = closest(given, words.iter().map(String::as_str))
    {
        message.push_str(&format!("; did you mean `{near}`?"));
    }
    message
}

/// "unknown field `comand` in `steps[0]`; did you mean `command`?"
pub fn unknown(parent: &Place, name: &str, known: &[String]) -> String {
    let mut message = format!(
        "unknown field `{}`",
        crate::http::problem::bounded_text(name)
    );
    if !parent.dotted.is_empty() {
        message.push_str(&format!(" in `{}`", parent.dotted));
    }
    match closest(name, known.iter().map(String::as_str)) {
        Some(near) => message.push_str(&format!("; did you mean `{near}`?")),
        None if !known.is_empty() && known.len() <= 16 => {
            message.push_str(&format!(
                "; the known fields are {}",
                listed(known.iter().map(String::as_str)).replacen(" or ", " and ", 1)
            ));
        }
        None => {}
    }
    message
}
