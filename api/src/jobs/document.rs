//! A job definition as people send it ([`opsc_proto::job::JobDocument`]):
//! targets and groups by id or name. The names are resolved
//! ([`crate::targets::names`]) before the document is read strictly and
//! checked ([`super::accept`]), so the stored version holds ids.
//!
//! A document that names nothing is read exactly as sent. One that does is
//! read after its names were replaced, written back in its own format; one
//! with unknown or ambiguous names is refused with those errors and every
//! other problem the document has, found with the names left out.

use opsc_proto::job::JobDefinition;
use sea_orm::ConnectionTrait;
use serde_json::Value;
use uuid::Uuid;

use super::{Format, JobError, accept as read_checked, invalid};
use crate::targets::names::{self, Resolver};

/// The document as a tree, when it parses as one (otherwise the strict
/// reading reports why not).
fn tree(body: &[u8], format: Format) -> Option<Value> {
    match format {
        Format::Json => serde_json::from_slice(body).ok(),
        Format::Yaml => std::str::from_utf8(body)
            .ok()
            .and_then(|text| serde_norway::from_str(text).ok()),
    }
}

fn write(doc: &Value, format: Format) -> Result<Vec<u8>, JobError> {
    let broken = |e: &dyn std::fmt::Display| {
        JobError::Broken(format!("the document cannot be written back: {e}"))
    };
    match format {
        Format::Json => serde_json::to_vec_pretty(doc).map_err(|e| broken(&e)),
        Format::Yaml => serde_norway::to_string(doc)
            .map(String::into_bytes)
            .map_err(|e| broken(&e)),
    }
}

/// Reads, resolves and validates a definition: the definition to store,
/// with ids where the document had names.
pub async fn accept(
    db: &impl ConnectionTrait,
    body: &[u8],
    format: Format,
) -> Result<JobDefinition, JobError> {
    let Some(mut doc) = tree(body, format) else {
        return read_checked(body, format);
    };
    let mut resolver = Resolver::new(db);
    let places = names::job_places(&doc);
    let (unresolved, replaced) = names::rewrite_all(&mut resolver, &mut doc, &places).await?;
    if unresolved.is_empty() {
        if replaced == 0 {
            return read_checked(body, format);
        }
        return read_checked(&write(&doc, format)?, format);
    }
    // Every other problem too: read the document with a placeholder id
    // where a name did not resolve.
    for e in &unresolved {
        if let Some(slot) = doc.pointer_mut(&e.path) {
            *slot = Value::String(Uuid::nil().to_string());
        }
    }
    let mut errors = unresolved.clone();
    if let Err(JobError::Invalid(others)) = read_checked(&write(&doc, format)?, format) {
        errors.extend(
            others
                .into_iter()
                .filter(|o| !unresolved.iter().any(|u| u.path == o.path)),
        );
    }
    Err(invalid(&errors))
}
