//! Job definitions as documents: reading them from JSON or YAML with every
//! problem located by a JSON pointer, the checks a definition passes before
//! it is stored, the redaction applied before one is shown, and writing one
//! back out for export.
//!
//! Storage is in [`store`], how jobs are shown in [`view`], who may run,
//! edit and manage a job in [`access`] and [`grants`]; HTTP is in
//! `handlers::jobs` and `handlers::job_access`. Semantic rules live in
//! `opsc_proto::job_check`, shared with the other roles; this module only
//! adds what concerns storing a definition.

pub mod access;
pub mod bulk;
pub mod cache;
pub mod document;
pub mod grants;
pub mod host;
pub mod listing;
pub mod store;
pub mod view;

use opsc_proto::job::{JobDefinition, ParamType, STEP_TYPES};
use opsc_proto::job_check::{PathError, check};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

/// Why a `default` on a `secret` parameter is refused.
pub const SECRET_DEFAULT: &str =
    "secret parameters cannot have defaults: pass the value at run time";

/// The two document formats of a definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "JobFormat")]
pub enum Format {
    /// `application/json`.
    Json,
    /// `application/yaml` (also `text/yaml`).
    Yaml,
}

impl Format {
    /// The format a `Content-Type` names; `None` for anything else.
    pub fn of_content_type(value: &str) -> Option<Self> {
        let essence = value.split(';').next().unwrap_or("").trim();
        let essence = essence.to_ascii_lowercase();
        match essence.as_str() {
            "application/json" => Some(Self::Json),
            "application/yaml" | "application/x-yaml" | "text/yaml" | "text/x-yaml" => {
                Some(Self::Yaml)
            }
            other if other.starts_with("application/") && other.ends_with("+json") => {
                Some(Self::Json)
            }
            _ => None,
        }
    }

    /// The media type of an exported document.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Json => "application/json",
            Self::Yaml => "application/yaml",
        }
    }

    /// The file extension of an exported document.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
        }
    }
}

/// Reads a definition; a document that does not fit the model answers
/// every problem found, each at its path (an empty path for syntax errors),
/// unknown fields with the closest known name ([`crate::strict`]). A field
/// the model does not know is such a problem: the wire types ignore unknown
/// fields (for newer peers), but a person's typo must not pass silently.
pub fn parse(body: &[u8], format: Format) -> Result<JobDefinition, Vec<PathError>> {
    let read = match format {
        Format::Json => crate::strict::json_document::<JobDefinition>(body),
        Format::Yaml => crate::strict::yaml_document::<JobDefinition>(body),
    };
    read.map_err(|e| match e {
        crate::strict::Refusal::Syntax(why) => vec![PathError::new("", why)],
        crate::strict::Refusal::Shape(errors) => errors,
    })
}

/// Every reason not to store `def`: the shared semantic checks, and secret
/// parameters with a default (a stored secret would be shown to viewers and
/// kept in every version).
pub fn validate(def: &JobDefinition) -> Vec<PathError> {
    let mut errors = check(def, STEP_TYPES);
    for (name, param) in &def.parameters {
        if param.kind == ParamType::Secret && param.default.is_some() {
            let path = format!("/parameters/{}/default", crate::strict::escape(name));
            // Whatever else is said about this default is beside the point.
            errors.retain(|e| e.path != path);
            errors.push(PathError::new(path, SECRET_DEFAULT));
        }
    }
    errors
}

/// Why a job request was refused.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// No such job (or version).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// The name is taken by another job.
    #[error("a job named {0:?} exists")]
    Taken(String),
    /// The document is not a valid definition; every problem, located.
    #[error("the job definition is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<PathError>),
    /// The caller may not do this: store this definition (it reaches into
    /// the worker host, see [`host`]), or act on this job ([`access`]).
    #[error("{0}")]
    Forbidden(String),
    /// An import collides with an existing job.
    #[error("{0}")]
    Conflict(String),
    /// Stored data cannot be read back.
    #[error("{0}")]
    Broken(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl From<access::AccessError> for JobError {
    fn from(e: access::AccessError) -> Self {
        match e {
            access::AccessError::Denied(why) => Self::Forbidden(why),
            access::AccessError::Db(e) => Self::Db(e),
        }
    }
}

/// The refusal naming every problem.
pub fn invalid(errors: &[PathError]) -> JobError {
    JobError::Invalid(errors.to_vec())
}

/// Reads and validates a definition.
pub fn accept(body: &[u8], format: Format) -> Result<JobDefinition, JobError> {
    let def = parse(body, format).map_err(|e| invalid(&e))?;
    let errors = validate(&def);
    if errors.is_empty() {
        Ok(def)
    } else {
        Err(invalid(&errors))
    }
}

/// Removes what must never be shown: defaults of secret parameters (none
/// can be stored through the API; this guards older or hand-made rows).
pub fn redact(mut def: JobDefinition) -> JobDefinition {
    for param in def.parameters.values_mut() {
        if param.kind == ParamType::Secret {
            param.default = None;
        }
    }
    def
}

/// The document for export, without the keys left unset.
pub fn render(def: &JobDefinition, format: Format) -> Result<String, JobError> {
    let broken = |e: &dyn std::fmt::Display| {
        JobError::Broken(format!("the definition cannot be written out: {e}"))
    };
    let mut doc = serde_json::to_value(def).map_err(|e| broken(&e))?;
    drop_nulls(&mut doc);
    if let Some(steps) = doc.get_mut("steps").and_then(Value::as_array_mut) {
        steps.iter_mut().for_each(drop_nulls);
    }
    if let Some(params) = doc.get_mut("parameters").and_then(Value::as_object_mut) {
        params.values_mut().for_each(drop_nulls);
    }
    match format {
        Format::Json => serde_json::to_string_pretty(&doc).map_err(|e| broken(&e)),
        Format::Yaml => {
            drop_defaults(&mut doc);
            serde_norway::to_string(&doc).map_err(|e| broken(&e))
        }
    }
}

/// Drops the members equal to their defaults (empty descriptions, lists
/// and maps, `false` flags; empty lists of a target selection), so a YAML
/// export reads like a hand-written file; reading it back gives the same
/// definition. `with` values are left alone.
fn drop_defaults(doc: &mut Value) {
    fn empty(v: &Value) -> bool {
        match v {
            Value::String(s) => s.is_empty(),
            Value::Array(a) => a.is_empty(),
            Value::Object(o) => o.is_empty(),
            Value::Bool(b) => !b,
            _ => false,
        }
    }
    fn prune(v: &mut Value, keys: &[&str]) {
        if let Some(map) = v.as_object_mut() {
            if let Some(sel) = map.get_mut("targets").and_then(Value::as_object_mut) {
                sel.retain(|_, v| !empty(v));
            }
            map.retain(|k, v| !(keys.contains(&k.as_str()) && empty(v)));
        }
    }
    prune(doc, &["description", "parameters", "tags", "critical"]);
    if let Some(steps) = doc.get_mut("steps").and_then(Value::as_array_mut) {
        for step in steps {
            prune(step, &["with", "continue_on_error"]);
        }
    }
    if let Some(params) = doc.get_mut("parameters").and_then(Value::as_object_mut) {
        for param in params.values_mut() {
            prune(param, &["description", "required", "choices"]);
        }
    }
}

/// Drops the null members of one object (optional fields left unset); the
/// values inside `with` are left alone, where null may mean something.
fn drop_nulls(v: &mut Value) {
    if let Some(map) = v.as_object_mut() {
        map.retain(|_, value| !value.is_null());
    }
}

/// A file name for a job's exported document.
pub fn file_name(job: &str, format: Format) -> String {
    let stem: String = job
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_matches('.');
    let stem = if stem.is_empty() { "job" } else { stem };
    format!("{stem}.{}", format.extension())
}

#[cfg(test)]
mod tests;
