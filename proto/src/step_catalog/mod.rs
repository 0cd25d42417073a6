//! The step-type catalogue: for every type in [`crate::job::STEP_TYPES`],
//! its family, a description, whether it is idempotent and needs a target
//! (both as the worker's executor says; a worker test keeps them equal),
//! and a JSON Schema (draft 2020-12) of its `with` settings.
//!
//! The schemas serve the api (`GET /api/v1/step-types`, the console's
//! forms and completion) and [`crate::job_check`], which refuses a job
//! whose `with` does not fit them at save time ([`check_with`]). A value
//! that is not text may also be a template (`{{ … }}`): it renders to text,
//! which the worker reads again.

mod exec;
mod http;
mod notify;
pub mod shapes;
mod transfer;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::sync::LazyLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::job_check::PathError;

pub use validate::validate;

/// One step type as the catalogue describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct StepTypeSpec {
    /// The type's name, as written in a step's `type` (`ssh.exec`).
    pub name: &'static str,
    /// Its family (`ssh`, `sftp`, `winrm`, `http`, `local`, `notify`, `flow`).
    pub family: &'static str,
    /// What it does, in one line.
    pub description: String,
    /// Whether running it twice is harmless (a redelivered run may repeat it).
    pub idempotent: bool,
    /// Whether it runs on a target (else once per run, on the worker).
    pub needs_target: bool,
    /// JSON Schema (draft 2020-12) of its `with` settings.
    pub with_schema: Value,
}

static CATALOG: LazyLock<Vec<StepTypeSpec>> = LazyLock::new(|| {
    let mut all: Vec<StepTypeSpec> = [
        exec::specs(),
        transfer::specs(),
        http::specs(),
        notify::specs(),
    ]
    .into_iter()
    .flatten()
    .collect();
    all.sort_by(|a, b| (a.family, a.name).cmp(&(b.family, b.name)));
    all
});

/// Every step type, sorted by family, then name.
pub fn catalog() -> &'static [StepTypeSpec] {
    &CATALOG
}

/// The step type called `name`.
pub fn find(name: &str) -> Option<&'static StepTypeSpec> {
    CATALOG.iter().find(|s| s.name == name)
}

/// Checks the `with` settings of a step of type `step_type` at `at`
/// (`/steps/2`) against its schema: unknown keys (with the closest known
/// one), missing required keys, wrong types and values. A type without a
/// catalogue entry is left alone.
pub fn check_with(
    step_type: &str,
    with: &BTreeMap<String, Value>,
    at: &str,
    errors: &mut Vec<PathError>,
) {
    let Some(spec) = find(step_type) else {
        return;
    };
    let object: serde_json::Map<String, Value> =
        with.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    validate(
        &spec.with_schema,
        &Value::Object(object),
        &validate::Place {
            path: format!("{at}/with"),
            owner: step_type,
        },
        errors,
    );
}

/// The known name closest to `unknown`, when it is close enough to be a
/// typo (at most a third of its letters differ, at least one).
pub fn closest<'a>(unknown: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (unknown.chars().count() / 3).max(1);
    known
        .into_iter()
        .map(|k| (distance(unknown, k), k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance of `a` and `b`, in characters.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let keep = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(keep + 1);
            prev = keep;
        }
    }
    row[b.len()]
}
