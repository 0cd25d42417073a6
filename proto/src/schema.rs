//! JSON Schemas generated from the contract types, and the drift check.
//!
//! `opsconductor schemas write` writes them under `schemas/`; the drift test
//! (and `opsconductor schemas check`) fails when the checked-in files differ
//! from what the code generates, so a contract never changes unreviewed.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::commands::{RunCancel, RunIntent};
use crate::envelope::{CloudEvent, EventType};
use crate::events::{
    AuditRecorded, DeadLetter, OutputLine, RunAccepted, RunFinished, RunStarted, StepFinished,
    StepStarted, WorkerHeartbeat,
};
use crate::job::JobDocument;

/// Folders under `schemas/` that this module owns entirely.
pub const OWNED_DIRS: [&str; 2] = ["commands", "events"];

/// One generated schema: its path under `schemas/` and its text.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratedSchema {
    /// Relative path, e.g. `events/run.finished.v1.json`.
    pub path: &'static str,
    /// Pretty-printed JSON with a trailing newline.
    pub text: String,
}

fn envelope_schema<T: EventType>() -> GeneratedSchema {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(CloudEvent<T>)).unwrap_or_else(|_| json!({}));
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".into(), Value::String(T::SCHEMA.to_owned()));
        obj.insert("title".into(), Value::String(T::TYPE.to_owned()));
        if let Some(props) = obj.get_mut("properties").and_then(Value::as_object_mut) {
            props.insert(
                "type".into(),
                json!({ "description": "Versioned event type.", "const": T::TYPE }),
            );
            props.insert(
                "specversion".into(),
                json!({ "description": "CloudEvents version.", "const": "1.0" }),
            );
            props.insert(
                "datacontenttype".into(),
                json!({ "description": "Always JSON.", "const": "application/json" }),
            );
        }
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    GeneratedSchema {
        path: T::SCHEMA,
        text,
    }
}

/// A document schema that is no event: the type itself, with `$id` and title.
fn plain_schema<T: schemars::JsonSchema>(path: &'static str, title: &str) -> GeneratedSchema {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).unwrap_or_else(|_| json!({}));
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("$id".into(), Value::String(path.to_owned()));
        obj.insert("title".into(), Value::String(title.to_owned()));
    }
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    GeneratedSchema { path, text }
}

/// Path under `schemas/` of the job-definition schema.
pub const JOB_SCHEMA: &str = "job.schema.json";

/// Every contract schema, in a stable order.
pub fn all() -> Vec<GeneratedSchema> {
    vec![
        envelope_schema::<RunIntent>(),
        envelope_schema::<RunCancel>(),
        envelope_schema::<RunAccepted>(),
        envelope_schema::<RunStarted>(),
        envelope_schema::<StepStarted>(),
        envelope_schema::<StepFinished>(),
        envelope_schema::<RunFinished>(),
        envelope_schema::<OutputLine>(),
        envelope_schema::<WorkerHeartbeat>(),
        envelope_schema::<DeadLetter>(),
        envelope_schema::<AuditRecorded>(),
        envelope_schema::<crate::dispatch::RunDispatch>(),
        envelope_schema::<crate::events::ShardFinished>(),
        envelope_schema::<crate::probe::ProbeRequest>(),
        envelope_schema::<crate::probe::ProbeReply>(),
        envelope_schema::<crate::events::ScheduleFired>(),
        envelope_schema::<crate::events::ScheduleSkipped>(),
        envelope_schema::<crate::events::ScheduleMisfired>(),
        envelope_schema::<crate::notify::Notice>(),
        envelope_schema::<crate::notify::NotifyCommand>(),
        envelope_schema::<crate::notify::NotificationRecorded>(),
        plain_schema::<JobDocument>(JOB_SCHEMA, "OpsConductor job definition"),
    ]
}

/// One difference between the code and the files on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Drift {
    /// The code has a schema the folder lacks.
    Missing(String),
    /// The file differs from what the code generates.
    Changed(String),
    /// The folder has a file no contract generates any more.
    Stale(String),
}

impl std::fmt::Display for Drift {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing(p) => write!(f, "{p}: missing (the code defines it)"),
            Self::Changed(p) => write!(f, "{p}: differs from the code"),
            Self::Stale(p) => write!(f, "{p}: no contract generates it"),
        }
    }
}

/// Writes every schema under `dir`, removing stale files in the owned folders.
pub fn write(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    for stale in check(dir)?.into_iter().filter_map(|d| match d {
        Drift::Stale(p) => Some(p),
        _ => None,
    }) {
        std::fs::remove_file(dir.join(stale))?;
    }
    let mut written = Vec::new();
    for schema in all() {
        let path = dir.join(schema.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, &schema.text)?;
        written.push(path);
    }
    Ok(written)
}

/// Compares `dir` with the generated schemas; an empty list means no drift.
pub fn check(dir: &Path) -> std::io::Result<Vec<Drift>> {
    let generated = all();
    let mut drift = Vec::new();
    for schema in &generated {
        match std::fs::read_to_string(dir.join(schema.path)) {
            Ok(text) if text == schema.text => {}
            Ok(_) => drift.push(Drift::Changed(schema.path.to_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                drift.push(Drift::Missing(schema.path.to_owned()));
            }
            Err(e) => return Err(e),
        }
    }
    for owned in OWNED_DIRS {
        let Ok(entries) = std::fs::read_dir(dir.join(owned)) else {
            continue;
        };
        for entry in entries {
            let rel = format!("{owned}/{}", entry?.file_name().to_string_lossy());
            if !generated.iter().any(|s| s.path == rel) {
                drift.push(Drift::Stale(rel));
            }
        }
    }
    Ok(drift)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checked_in() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas")
    }

    /// The checked-in schemas match the code. On failure: `opsconductor schemas write`.
    #[test]
    fn checked_in_schemas_match_the_code() {
        let drift = check(&checked_in()).unwrap();
        assert!(
            drift.is_empty(),
            "schemas/ drifted from proto/ — run `cargo run -- schemas write` and review the diff:\n{}",
            drift
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// The check itself notices each kind of drift.
    #[test]
    fn check_detects_changed_missing_and_stale_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path()).unwrap();
        assert!(check(dir.path()).unwrap().is_empty());

        let changed = dir.path().join(RunFinished::SCHEMA);
        let text = std::fs::read_to_string(&changed).unwrap();
        std::fs::write(&changed, text.replace("duration_ms", "duration_secs")).unwrap();
        std::fs::remove_file(dir.path().join(RunIntent::SCHEMA)).unwrap();
        std::fs::write(dir.path().join("events/old.v0.json"), "{}").unwrap();

        let mut drift = check(dir.path()).unwrap();
        drift.sort_by_key(ToString::to_string);
        assert_eq!(
            drift,
            vec![
                Drift::Missing(RunIntent::SCHEMA.into()),
                Drift::Stale("events/old.v0.json".into()),
                Drift::Changed(RunFinished::SCHEMA.into()),
            ]
        );
    }

    #[test]
    fn schemas_pin_the_event_type() {
        for s in all().into_iter().filter(|s| s.path != JOB_SCHEMA) {
            let v: Value = serde_json::from_str(&s.text).unwrap();
            assert!(v["properties"]["type"]["const"].is_string(), "{}", s.path);
            assert_eq!(
                v["required"].as_array().map(|a| a.contains(&json!("data"))),
                Some(true)
            );
        }
    }

    #[test]
    fn the_job_schema_is_a_plain_document_schema() {
        let job = all().into_iter().find(|s| s.path == JOB_SCHEMA).unwrap();
        let v: Value = serde_json::from_str(&job.text).unwrap();
        assert_eq!(v["$id"], json!(JOB_SCHEMA));
        assert_eq!(v["title"], json!("OpsConductor job definition"));
        assert_eq!(v["additionalProperties"], json!(false));
        assert_eq!(v["required"], json!(["name", "steps"]));
        assert_eq!(v["properties"]["steps"]["minItems"], json!(1));
        assert_eq!(v["properties"]["name"]["maxLength"], json!(128));
        assert!(v["$defs"]["Step"]["properties"]["id"]["pattern"].is_string());
        assert_eq!(
            v["$defs"]["Retry"]["properties"]["attempts"]["maximum"],
            json!(10)
        );
    }
}
