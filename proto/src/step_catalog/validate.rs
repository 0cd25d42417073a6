//! A validator for the subset of JSON Schema the `with` schemas use:
//! `type` (one or a list), `properties`, `required`,
//! `additionalProperties`, `enum`, `anyOf`, `items`, `minItems`,
//! `maxItems`, `minLength`, `minimum`, `maximum` and `pattern`. Every
//! problem is reported, each at its JSON pointer.

use regex::Regex;
use serde_json::Value;

use super::closest;
use crate::job_check::{PathError, token};

/// Where a value sits: its JSON pointer, and the step type it belongs to
/// (named in messages).
#[derive(Debug, Clone)]
pub struct Place<'a> {
    /// JSON pointer of the value.
    pub path: String,
    /// The step type, e.g. `ssh.exec`.
    pub owner: &'a str,
}

impl Place<'_> {
    fn child(&self, key: &str) -> Self {
        Self {
            path: format!("{}/{}", self.path, token(key)),
            owner: self.owner,
        }
    }
}

/// Checks `value` against `schema`, adding a [`PathError`] per problem.
pub fn validate(schema: &Value, value: &Value, at: &Place<'_>, errors: &mut Vec<PathError>) {
    let Some(schema) = schema.as_object() else {
        return;
    };
    if let Some(alternatives) = schema.get("anyOf").and_then(Value::as_array) {
        let fits = alternatives.iter().any(|alt| {
            let mut scratch = Vec::new();
            validate(alt, value, at, &mut scratch);
            scratch.is_empty()
        });
        if !fits {
            let wanted: Vec<String> = alternatives.iter().map(describe).collect();
            errors.push(PathError::new(
                &at.path,
                format!("must be {}", wanted.join(" or ")),
            ));
            return;
        }
    }
    if let Some(kind) = schema.get("type")
        && !type_fits(kind, value)
    {
        errors.push(PathError::new(
            &at.path,
            format!("must be {}", describe(&Value::Object(schema.clone()))),
        ));
        return;
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array)
        && !choices.contains(value)
    {
        let names: Vec<String> = choices.iter().map(|c| format!("`{}`", plain(c))).collect();
        let near = value
            .as_str()
            .and_then(|s| closest(s, choices.iter().filter_map(Value::as_str)));
        let mut message = format!("must be one of {}", names.join(", "));
        if let Some(near) = near {
            message.push_str(&format!("; did you mean `{near}`?"));
        }
        errors.push(PathError::new(&at.path, message));
        return;
    }
    match value {
        Value::String(s) => check_string(schema, s, at, errors),
        Value::Number(n) => check_number(schema, n.as_f64().unwrap_or(0.0), at, errors),
        Value::Array(items) => check_array(schema, items, at, errors),
        Value::Object(map) => check_object(schema, map, at, errors),
        Value::Bool(_) | Value::Null => {}
    }
}

fn type_fits(kind: &Value, value: &Value) -> bool {
    let one = |k: &str| match k {
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        _ => true,
    };
    match kind {
        Value::String(k) => one(k),
        Value::Array(ks) => ks.iter().filter_map(Value::as_str).any(one),
        _ => true,
    }
}

fn check_string(
    schema: &serde_json::Map<String, Value>,
    s: &str,
    at: &Place<'_>,
    errors: &mut Vec<PathError>,
) {
    if let Some(min) = schema.get("minLength").and_then(Value::as_u64)
        && (s.chars().count() as u64) < min
    {
        errors.push(PathError::new(&at.path, "must not be empty"));
    }
    if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
        let matches = Regex::new(pattern).is_ok_and(|re| re.is_match(s));
        if !matches {
            errors.push(PathError::new(
                &at.path,
                format!("must be {}", describe(&Value::Object(schema.clone()))),
            ));
        }
    }
}

fn check_number(
    schema: &serde_json::Map<String, Value>,
    n: f64,
    at: &Place<'_>,
    errors: &mut Vec<PathError>,
) {
    let min = schema.get("minimum").and_then(Value::as_f64);
    let max = schema.get("maximum").and_then(Value::as_f64);
    if min.is_some_and(|m| n < m) || max.is_some_and(|m| n > m) {
        errors.push(PathError::new(
            &at.path,
            format!("must be {}", describe(&Value::Object(schema.clone()))),
        ));
    }
}

fn check_array(
    schema: &serde_json::Map<String, Value>,
    items: &[Value],
    at: &Place<'_>,
    errors: &mut Vec<PathError>,
) {
    let len = items.len() as u64;
    if let Some(min) = schema.get("minItems").and_then(Value::as_u64)
        && len < min
    {
        errors.push(PathError::new(
            &at.path,
            format!("needs at least {min} item(s)"),
        ));
    }
    if let Some(max) = schema.get("maxItems").and_then(Value::as_u64)
        && len > max
    {
        errors.push(PathError::new(&at.path, format!("at most {max} items")));
    }
    if let Some(item) = schema.get("items") {
        for (i, v) in items.iter().enumerate() {
            validate(item, v, &at.child(&i.to_string()), errors);
        }
    }
}

fn check_object(
    schema: &serde_json::Map<String, Value>,
    map: &serde_json::Map<String, Value>,
    at: &Place<'_>,
    errors: &mut Vec<PathError>,
) {
    let properties = schema.get("properties").and_then(Value::as_object);
    let known = || {
        properties
            .into_iter()
            .flat_map(|p| p.keys().map(String::as_str))
    };
    for name in schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        if let Some(name) = name.as_str()
            && !map.contains_key(name)
        {
            errors.push(PathError::new(
                at.child(name).path,
                format!("`{name}` is required for {}", at.owner),
            ));
        }
    }
    for (key, v) in map {
        if let Some(sub) = properties.and_then(|p| p.get(key)) {
            validate(sub, v, &at.child(key), errors);
            continue;
        }
        match schema.get("additionalProperties") {
            Some(Value::Bool(false)) => {
                let mut message = format!("unknown setting `{key}` for {}", at.owner);
                match closest(key, known()) {
                    Some(near) => message.push_str(&format!("; did you mean `{near}`?")),
                    None => {
                        let all: Vec<&str> = known().collect();
                        message.push_str(&format!(" (known: {})", all.join(", ")));
                    }
                }
                errors.push(PathError::new(at.child(key).path, message));
            }
            Some(extra @ Value::Object(_)) => validate(extra, v, &at.child(key), errors),
            _ => {}
        }
    }
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What a schema accepts, in words ("a whole number from 0 to 10").
fn describe(schema: &Value) -> String {
    if let Some(title) = schema.get("title").and_then(Value::as_str) {
        return title.to_owned();
    }
    if let Some(choices) = schema.get("enum").and_then(Value::as_array) {
        let names: Vec<String> = choices.iter().map(|c| format!("`{}`", plain(c))).collect();
        return format!("one of {}", names.join(", "));
    }
    let range = || match (
        schema.get("minimum").and_then(Value::as_f64),
        schema.get("maximum").and_then(Value::as_f64),
    ) {
        (Some(a), Some(b)) => format!(" from {a} to {b}"),
        (Some(a), None) => format!(" of at least {a}"),
        (None, Some(b)) => format!(" of at most {b}"),
        (None, None) => String::new(),
    };
    let one = |k: &str| match k {
        "string" => "text".to_owned(),
        "boolean" => "true or false".to_owned(),
        "null" => "null".to_owned(),
        "array" => "a list".to_owned(),
        "object" => "an object".to_owned(),
        "integer" => format!("a whole number{}", range()),
        "number" => format!("a number{}", range()),
        other => other.to_owned(),
    };
    match schema.get("type") {
        Some(Value::String(k)) => one(k),
        Some(Value::Array(ks)) => ks
            .iter()
            .filter_map(Value::as_str)
            .map(one)
            .collect::<Vec<_>>()
            .join(" or "),
        _ => "a valid value".to_owned(),
    }
}
