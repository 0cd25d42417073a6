//! Reading what people send strictly: every problem located by a JSON
//! pointer, and a field the type does not know refused — the wire types
//! ignore unknown fields (for newer peers), a person's typo must not pass.

use serde::de::DeserializeOwned;
use serde_path_to_error::Segment;

pub use opsc_proto::job_check::PathError;

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
    PathError::new(pointer, format!("unknown field `{name}`"))
}

/// A deserializer's error at its path.
pub fn located<E: std::fmt::Display>(e: &serde_path_to_error::Error<E>) -> PathError {
    let mut pointer = String::new();
    // The YAML error names its own path (`steps[0].with: …`); drop it.
    let mut dotted = String::new();
    let mut prefixes = Vec::new();
    for segment in e.path().iter() {
        match segment {
            Segment::Seq { index } => {
                pointer.push_str(&format!("/{index}"));
                dotted.push_str(&format!("[{index}]"));
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                pointer.push_str(&format!("/{}", escape(key)));
                if !dotted.is_empty() {
                    dotted.push('.');
                }
                dotted.push_str(key);
            }
            Segment::Unknown => {}
        }
        prefixes.push(format!("{dotted}: "));
    }
    let message = e.inner().to_string();
    let message = prefixes
        .iter()
        .rev()
        .find_map(|p| message.strip_prefix(p.as_str()))
        .unwrap_or(&message);
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
            ("/inner/cuont", "unknown field `cuont`")
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
