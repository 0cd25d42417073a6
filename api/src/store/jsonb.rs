//! What PostgreSQL cannot keep in `text` or `jsonb`: the NUL character.
//! Values that come from outside (a worker's event, a program's output)
//! pass through [`storable`] before they are bound, so one such character
//! does not make the whole statement fail.

use serde_json::Value;

/// What stands in for a NUL: the replacement character, so the reader
/// still sees that something was there.
const STAND_IN: &str = "\u{FFFD}";

/// `v` with every NUL, in strings and in keys, replaced by U+FFFD.
pub fn storable(v: Value) -> Value {
    match v {
        Value::String(s) if s.contains('\0') => Value::String(s.replace('\0', STAND_IN)),
        Value::Array(items) => Value::Array(items.into_iter().map(storable).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = if k.contains('\0') {
                        k.replace('\0', STAND_IN)
                    } else {
                        k
                    };
                    (k, storable(v))
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn replaces_nul_in_strings_and_keys_at_any_depth() {
        let v = json!({"a\u{0}": ["x\u{0}y", {"b": "\u{0}"}], "n": 1, "ok": "fine"});
        assert_eq!(
            storable(v),
            json!({"a\u{FFFD}": ["x\u{FFFD}y", {"b": "\u{FFFD}"}], "n": 1, "ok": "fine"})
        );
    }
}
