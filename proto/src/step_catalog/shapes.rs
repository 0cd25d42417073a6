//! Building blocks of the `with` schemas: every value that is not text may
//! also be a template (`{{ … }}`), which renders to text on the worker.

use serde_json::{Map, Value, json};

/// Matches a string holding a template (`{{ … }}` or `{% … %}`).
pub const TEMPLATE_PATTERN: &str = r"\{\{|\{%";

/// A string holding a template.
pub fn template() -> Value {
    json!({"type": "string", "pattern": TEMPLATE_PATTERN, "title": "a template ({{ … }})"})
}

/// An object schema of `properties` (name → schema), of which `required`
/// must be present, refusing any other key; `examples` must pass it.
pub fn settings(properties: Vec<(&str, Value)>, required: &[&str], examples: Vec<Value>) -> Value {
    let properties: Map<String, Value> = properties
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
        "examples": Value::Array(examples),
    })
}

/// Text.
pub fn text(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

/// Text that must not be empty.
pub fn required_text(description: &str) -> Value {
    json!({"type": "string", "minLength": 1, "description": description})
}

/// A boolean, the text `true`/`false`, or a template. `words` is the
/// pattern of the texts the worker reads as booleans.
fn flag_of(description: &str, default: Option<bool>, words: &str) -> Value {
    let mut v = json!({
        "description": description,
        "anyOf": [
            {"type": "boolean"},
            {"type": "string", "pattern": words, "title": "the text true or false"},
            template(),
        ],
    });
    if let Some(d) = default {
        v["default"] = json!(d);
    }
    v
}

/// A boolean as the transfer steps read it (also `"true"`/`"false"`).
pub fn flag(description: &str, default: Option<bool>) -> Value {
    flag_of(description, default, r"^\s*(true|false)\s*$")
}

/// A boolean as the HTTP steps read it (also `yes`/`no`/`1`/`0`).
pub fn loose_flag(description: &str, default: Option<bool>) -> Value {
    flag_of(
        description,
        default,
        r"^\s*(true|false|yes|no|1|0|TRUE|FALSE|True|False|YES|NO|Yes|No)\s*$",
    )
}

/// A plain boolean (the worker reads no text for it).
pub fn strict_flag(description: &str, default: bool) -> Value {
    json!({"type": "boolean", "description": description, "default": default})
}

/// A number in `min..=max` (`integer` or `number`), its digits as text, or
/// a template.
pub fn number(kind: &str, description: &str, min: f64, max: f64, default: Option<f64>) -> Value {
    let digits = if kind == "integer" {
        r"^\s*[0-9]+\s*$"
    } else {
        r"^\s*[0-9]+(\.[0-9]+)?\s*$"
    };
    let mut v = json!({
        "description": description,
        "anyOf": [
            {"type": kind, "minimum": min, "maximum": max},
            {"type": "string", "pattern": digits, "title": "a number as text"},
            template(),
        ],
    });
    if let Some(d) = default {
        v["default"] = json!(d);
    }
    v
}

/// One of `choices`, or a template.
pub fn choice(description: &str, choices: &[&str], default: Option<&str>) -> Value {
    let mut v = json!({
        "description": description,
        "anyOf": [{"type": "string", "enum": choices}, template()],
    });
    if let Some(d) = default {
        v["default"] = json!(d);
    }
    v
}

/// `env`: variable name → value.
pub fn env(description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": {"type": ["string", "number", "boolean"]},
    })
}

/// Headers, query or form fields: name → scalar, or a list of scalars
/// (the key repeated).
pub fn scalars(description: &str) -> Value {
    json!({
        "type": "object",
        "description": description,
        "additionalProperties": {
            "type": ["string", "number", "boolean", "null", "array"],
            "items": {"type": ["string", "number", "boolean", "null"]},
        },
    })
}

/// Any JSON value.
pub fn any(description: &str) -> Value {
    json!({"description": description})
}
