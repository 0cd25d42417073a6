//! Parameter values: type checks, normalisation, defaults.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

use super::{PathError, token};
use crate::job::{JobDefinition, ParamType, Parameter};

/// Compiles `pattern` so that it must match a whole value.
pub(super) fn whole_match(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// Checks one value against its parameter and returns it normalised:
/// integer strings become integers, `"true"`/`"false"` become booleans.
///
/// `string` and `secret` values must match `pattern` (whole value) when one
/// is set; `enum` takes one of `choices`, `multi_select` an array of them.
pub fn check_value(param: &Parameter, value: &Value) -> Result<Value, String> {
    match param.kind {
        ParamType::String | ParamType::Secret => {
            let s = value.as_str().ok_or_else(|| expected("a string", value))?;
            if let Some(pattern) = &param.pattern {
                let re =
                    whole_match(pattern).map_err(|e| format!("invalid pattern in schema: {e}"))?;
                if !re.is_match(s) {
                    return Err(if param.kind == ParamType::Secret {
                        format!("does not match the pattern {pattern}")
                    } else {
                        format!("'{s}' does not match the pattern {pattern}")
                    });
                }
            }
            Ok(value.clone())
        }
        ParamType::Int => match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
            Value::String(s) => s
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("'{s}' is not an integer")),
            _ => Err(expected("an integer", value)),
        },
        ParamType::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(expected("true or false", value)),
        },
        ParamType::Enum => {
            let s = value.as_str().ok_or_else(|| expected("a string", value))?;
            one_of(param, s)?;
            Ok(value.clone())
        }
        ParamType::MultiSelect => {
            let items = value
                .as_array()
                .ok_or_else(|| expected("an array of choices", value))?;
            for item in items {
                let s = item
                    .as_str()
                    .ok_or_else(|| expected("an array of strings", value))?;
                one_of(param, s)?;
            }
            Ok(value.clone())
        }
    }
}

fn one_of(param: &Parameter, s: &str) -> Result<(), String> {
    if param.choices.iter().any(|c| c == s) {
        Ok(())
    } else {
        Err(format!(
            "'{s}' is not one of the choices: {}",
            param.choices.join(", ")
        ))
    }
}

fn expected(what: &str, got: &Value) -> String {
    let kind = match got {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    format!("expected {what}, got {kind}")
}

/// Checks the values given to a run and completes them with defaults.
///
/// A `null` counts as not given. An optional parameter given no value and
/// having no default is present as `null`, so templates can test it. The
/// answer has every parameter of `def`, normalised by [`check_value`]; or
/// every problem, at `/parameters/<name>`.
pub fn check_params(
    def: &JobDefinition,
    given: &BTreeMap<String, Value>,
) -> Result<BTreeMap<String, Value>, Vec<PathError>> {
    let mut errors = Vec::new();
    let mut out = BTreeMap::new();
    for name in given.keys().filter(|n| !def.parameters.contains_key(*n)) {
        errors.push(PathError::new(
            format!("/parameters/{}", token(name)),
            format!("unknown parameter '{name}'"),
        ));
    }
    for (name, param) in &def.parameters {
        let at = format!("/parameters/{}", token(name));
        let value = given
            .get(name)
            .filter(|v| !v.is_null())
            .or(param.default.as_ref().filter(|v| !v.is_null()));
        match value {
            Some(v) => match check_value(param, v) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(message) => errors.push(PathError::new(at, message)),
            },
            None if param.required => {
                errors.push(PathError::new(at, "required parameter is missing"));
            }
            None => {
                out.insert(name.clone(), Value::Null);
            }
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
