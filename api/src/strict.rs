//! Reading what people send strictly: every problem located by a JSON
//! pointer, and a field the type does not know refused — the wire types
//! ignore unknown fields (for newer peers), a person's typo must not pass.

#[cfg(test)]
mod document_tests;
pub mod schema;
pub mod suggest;
pub mod wording;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

pub use opsc_proto::job_check::PathError;

use self::schema::Place;

/// Why a document was not read: its syntax, or every problem of its shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not JSON (or YAML) at all.
    #[error("{0}")]
    Syntax(String),
    /// A document of the wrong shape: every problem found, each located.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Shape(Vec<PathError>),
}

/// `T` from a JSON body, read as strictly as [`json`]; when refused, every
/// problem the type's JSON Schema finds in the body at once (missing,
/// unknown — with the closest known name —, mistyped and out-of-range
/// fields), or serde's one located problem when the schema finds none.
pub fn json_document<T: DeserializeOwned + JsonSchema>(body: &[u8]) -> Result<T, Refusal> {
    match json::<T>(body) {
        Ok(value) => Ok(value),
        Err(BodyError::Syntax(why)) => Err(Refusal::Syntax(why)),
        Err(BodyError::Shape(first)) => match serde_json::from_slice(body) {
            Ok(value) => Err(Refusal::Shape(all_problems::<T>(&value, first))),
            Err(_) => Err(Refusal::Shape(vec![first])),
        },
    }
}

/// `T` from a YAML document, with the same strictness and problems as
/// [`json_document`] (YAML is read as the JSON value it denotes).
pub fn yaml_document<T: DeserializeOwned + JsonSchema>(body: &[u8]) -> Result<T, Refusal> {
    let text = std::str::from_utf8(body)
        .map_err(|e| Refusal::Syntax(format!("the document is not UTF-8: {e}")))?;
    let mut unknown: Option<PathError> = None;
    let mut note = |path: serde_ignored::Path<'_>| {
        if unknown.is_none() {
            unknown = Some(unknown_field(&path));
        }
    };
    let read = serde_path_to_error::deserialize(serde_ignored::Deserializer::new(
        serde_norway::Deserializer::from_str(text),
        &mut note,
    ));
    let first = match (read, unknown) {
        (Ok(value), None) => return Ok(value),
        (Ok(_), Some(first)) => first,
        (Err(e), _) => located(&e),
    };
    match serde_norway::from_str::<serde_json::Value>(text) {
        Ok(value) => Err(Refusal::Shape(all_problems::<T>(&value, first))),
        Err(e) => Err(Refusal::Syntax(e.to_string())),
    }
}

/// The schema's problems of a refused value, with serde's first problem
/// added when the schema says nothing about its place.
pub fn all_problems<T: JsonSchema>(value: &serde_json::Value, first: PathError) -> Vec<PathError> {
    let mut found = schema::problems::<T>(value);
    let related = |p: &str| {
        let (a, b) = (p, first.path.as_str());
        a == b || a.starts_with(&format!("{b}/")) || b.starts_with(&format!("{a}/"))
    };
    if !found.iter().any(|e| related(&e.path)) {
        found.push(first);
    }
    found
}

/// Why a JSON body was not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON at all.
    #[error("{0}")]
    Syntax(String),
    /// JSON of the wrong shape, at this place.
    #[error("{0}")]
    Shape(PathError),
}

/// `T` from a JSON body: the first problem found, located.
pub fn json<T: DeserializeOwned>(body: &[u8]) -> Result<T, BodyError> {
    numbers_in_range(body).map_err(BodyError::Syntax)?;
    let mut unknown: Option<PathError> = None;
    let mut note = |path: serde_ignored::Path<'_>| {
        if unknown.is_none() {
            unknown = Some(unknown_field(&path));
        }
    };
    let mut de = serde_json::Deserializer::from_slice(body);
    let value =
        serde_path_to_error::deserialize(serde_ignored::Deserializer::new(&mut de, &mut note))
            .map_err(|e| match e.inner().classify() {
                serde_json::error::Category::Data => BodyError::Shape(located(&e)),
                _ => BodyError::Syntax(e.inner().to_string()),
            })?;
    de.end().map_err(|e| BodyError::Syntax(e.to_string()))?;
    match unknown {
        Some(e) => Err(BodyError::Shape(e)),
        None => Ok(value),
    }
}

/// Largest magnitude of a number the api stores: PostgreSQL keeps JSON
/// numbers as exact decimals, and one near the limit of a double (1.8e308)
/// would not read back.
pub const MAX_NUMBER: f64 = 1e300;

/// Checks every number of a JSON document (outside strings) against
/// [`MAX_NUMBER`]; the error quotes the first that is too large.
pub fn numbers_in_range(body: &[u8]) -> Result<(), String> {
    let mut i = 0;
    let mut in_string = false;
    while i < body.len() {
        let b = body[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b == b'-' || b.is_ascii_digit() {
            let start = i;
            while i < body.len()
                && matches!(body[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
            {
                i += 1;
            }
            let text = String::from_utf8_lossy(&body[start..i]);
            if text
                .parse::<f64>()
                .is_ok_and(|v| !v.is_finite() || v.abs() > MAX_NUMBER)
            {
                let shown: String = text.chars().take(24).collect();
                return Err(format!(
                    "the number {shown}… is too large: numbers must lie within ±1e300"
                ));
            }
            continue;
        }
        i += 1;
    }
    Ok(())
}

/// The problem an ignored field makes: its pointer, and what it is.
pub fn unknown_field(path: &serde_ignored::Path<'_>) -> PathError {
    fn walk(p: &serde_ignored::Path<'_>, out: &mut Vec<String>) {
        use serde_ignored::Path as P;
        match p {
            P::Root => {}
            P::Seq { parent, index } => {
                walk(parent, out);
                out.push(index.to_string());
            }
            P::Map { parent, key } => {
                walk(parent, out);
                out.push(key.clone());
            }
            P::Some { parent } | P::NewtypeStruct { parent } | P::NewtypeVariant { parent } => {
                walk(parent, out);
            }
        }
    }
    let mut segments = Vec::new();
    walk(path, &mut segments);
    let name = segments.last().cloned().unwrap_or_default();
    let pointer: String = segments.iter().map(|s| format!("/{}", escape(s))).collect();
    let parent = segments[..segments.len().saturating_sub(1)]
        .iter()
        .fold(Place::default(), |p, s| p.key(s));
    PathError::new(pointer, schema::unknown(&parent, &name, &[]))
}

/// A deserializer's error at its path.
pub fn located<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> PathError {
    // The YAML error names its own path (`steps[0].with: …`); drop it.
    let mut place = Place::default();
    let mut prefixes = Vec::new();
    for segment in e.path().iter() {
        match segment {
            Segment::Seq { index } => place = place.index(*index),
            Segment::Map { key } | Segment::Enum { variant: key } => place = place.key(key),
            Segment::Unknown => {}
        }
        prefixes.push(format!("{}: ", place.dotted));
    }
    let message = e.inner().to_string();
    let message = prefixes
        .iter()
        .rev()
        .find_map(|p| message.strip_prefix(p.as_str()))
        .unwrap_or(&message);
    let (pointer, message) = wording::reword(&place, message);
    PathError::new(pointer, message)
}

/// Escapes one JSON-pointer reference token.
pub fn escape(raw: &str) -> String {
    raw.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only parsed")]
    struct Outer {
        name: String,
        #[serde(default)]
        inner: Option<Inner>,
        #[serde(default)]
        free: BTreeMap<String, serde_json::Value>,
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code, reason = "only parsed")]
    struct Inner {
        count: u32,
    }

    #[test]
    fn unknown_fields_are_located_and_maps_stay_free() {
        let shape = |body: &[u8]| match json::<Outer>(body) {
            Err(BodyError::Shape(e)) => e,
            other => panic!("{other:?}"),
        };
        let e = shape(br#"{"name": "x", "inner": {"count": 1, "cuont": 2}}"#);
        assert_eq!(
            (e.path.as_str(), e.message.as_str()),
            ("/inner/cuont", "unknown field `cuont` in `inner`")
        );
        assert!(json::<Outer>(br#"{"name": "x", "free": {"anything": 1}}"#).is_ok());
        assert_eq!(
            shape(br#"{"name": "x", "inner": {"count": "one"}}"#).path,
            "/inner/count"
        );
        assert!(matches!(
            json::<Outer>(br#"{"name": "x"} trailing"#),
            Err(BodyError::Syntax(_))
        ));
        assert!(matches!(
            json::<Outer>(b"{\"name\": "),
            Err(BodyError::Syntax(_))
        ));
    }
}

#[cfg(test)]
mod number_tests {
    use super::numbers_in_range;

    #[test]
    fn numbers_beyond_the_stored_range_are_refused_outside_strings_only() {
        assert!(numbers_in_range(br#"{"a": [1, -2.5e10, 1e300, "9e999"]}"#).is_ok());
        for bad in [
            &br#"{"a": -1.7976931348623157e+308}"#[..],
            br#"[1e301]"#,
            br#"{"m": {"x": [9.9e999]}}"#,
        ] {
            let e = numbers_in_range(bad).unwrap_err();
            assert!(e.contains("within ±1e300"), "{e}");
        }
        assert!(numbers_in_range(br#"{"s": "a\"b 1e400"}"#).is_ok());
    }
}
