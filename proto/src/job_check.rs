//! Semantic checks of a [`JobDefinition`] beyond what its JSON Schema says,
//! and the validation of parameter values given to a run.
//!
//! Every problem is reported as a [`PathError`] whose `path` is a JSON
//! pointer into the document (`/steps/2/id`, `/parameters/svc/default`), so
//! the api can answer with all of them at once and a form can mark fields.
//!
//! Templates are checked for the names they use, for the size of what they
//! build ([`bounds`]) and, in commands, for where they put values
//! ([`quoting`]).

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::Serialize;

use crate::job::{JobDefinition, ParamType};

pub mod bounds;
pub mod notify;
pub mod quoting;
mod refs;
mod syntax;
mod values;

pub use values::{check_params, check_value};

/// Names the template context reserves; no parameter may take them.
pub const RESERVED_NAMES: [&str; 6] = ["params", "steps", "target", "run", "job", "loop"];

/// Longest job name, in characters.
pub const MAX_NAME_CHARS: usize = 128;

/// Most retries a step may ask for.
pub const MAX_RETRY_ATTEMPTS: u32 = 10;

/// Most runs of one job a concurrency limit may allow at once.
pub const MAX_CONCURRENT_RUNS: u32 = 1000;

/// The longest timeout a job or a step may set: 7 days (a run's deadline
/// must stay far inside what time arithmetic can hold).
pub const MAX_TIMEOUT_SECS: u64 = 7 * 24 * 3600;

/// One problem in a document, located by a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathError {
    /// JSON pointer to the offending value, e.g. `/steps/2/id`.
    pub path: String,
    /// What is wrong with it.
    pub message: String,
}

impl PathError {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

impl std::error::Error for PathError {}

/// Escapes one JSON-pointer reference token (`~` → `~0`, `/` → `~1`).
pub(crate) fn token(raw: &str) -> String {
    raw.replace('~', "~0").replace('/', "~1")
}

/// Whether `s` matches `^[A-Za-z][A-Za-z0-9_-]{0,63}$`.
pub fn is_valid_step_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic())
        && s.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Whether `s` matches `^[A-Za-z_][A-Za-z0-9_]*$`.
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Whether `s` is a job tag: 1 to 64 letters, digits, `-`, `_`, `.`, `:` or `/`.
pub fn is_valid_tag(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'/'))
}

/// Checks `def` for everything its schema cannot express; `step_types` are
/// the step types this installation knows. An empty list means it is valid.
pub fn check(def: &JobDefinition, step_types: &[&str]) -> Vec<PathError> {
    let mut errors = Vec::new();
    let name_chars = def.name.chars().count();
    if def.name.trim().is_empty() {
        errors.push(PathError::new("/name", "must not be empty"));
    } else if name_chars > MAX_NAME_CHARS {
        errors.push(PathError::new(
            "/name",
            format!("must be at most {MAX_NAME_CHARS} characters, not {name_chars}"),
        ));
    }
    if def.tags.len() > 32 {
        errors.push(PathError::new("/tags", "at most 32 tags"));
    }
    for (i, tag) in def.tags.iter().enumerate() {
        if !is_valid_tag(tag) {
            errors.push(PathError::new(
                format!("/tags/{i}"),
                format!("'{tag}' is not a tag: 1 to 64 letters, digits, '-', '_', '.', ':' or '/'"),
            ));
        }
    }
    if def.parallelism == Some(0) {
        errors.push(PathError::new("/parallelism", "must be at least 1"));
    }
    if def.timeout_secs == Some(0) {
        errors.push(PathError::new("/timeout_secs", "must be at least 1"));
    }
    if def.timeout_secs.is_some_and(|t| t > MAX_TIMEOUT_SECS) {
        errors.push(PathError::new(
            "/timeout_secs",
            format!("must be at most {MAX_TIMEOUT_SECS} (7 days)"),
        ));
    }
    if let Some(limit) = &def.concurrency
        && !(1..=MAX_CONCURRENT_RUNS).contains(&limit.max)
    {
        errors.push(PathError::new(
            "/concurrency/max",
            format!("must be between 1 and {MAX_CONCURRENT_RUNS}"),
        ));
    }
    if let Some(Err(why)) = def
        .retry
        .as_ref()
        .map(crate::run_policy::RetryPolicy::check)
    {
        errors.push(PathError::new("/retry", why));
    }
    check_parameters(def, &mut errors);
    if def.steps.is_empty() {
        errors.push(PathError::new("/steps", "a job needs at least one step"));
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, step) in def.steps.iter().enumerate() {
        let at = format!("/steps/{i}");
        if !is_valid_step_id(&step.id) {
            errors.push(PathError::new(
                format!("{at}/id"),
                format!(
                    "'{}' is not a valid step id: a letter, then up to 63 letters, digits, '_' or '-'",
                    step.id
                ),
            ));
        } else if let Some(first) = seen.get(step.id.as_str()) {
            errors.push(PathError::new(
                format!("{at}/id"),
                format!(
                    "duplicate step id '{}' (first used by /steps/{first})",
                    step.id
                ),
            ));
        }
        check_step(def, i, &at, step_types, &mut errors);
        // Later steps may reference this one; record it after its own checks.
        seen.entry(step.id.as_str()).or_insert(i);
    }
    errors
}

fn check_parameters(def: &JobDefinition, errors: &mut Vec<PathError>) {
    for (name, param) in &def.parameters {
        let at = format!("/parameters/{}", token(name));
        if !is_identifier(name) {
            errors.push(PathError::new(
                &at,
                format!(
                    "'{name}' is not a valid parameter name: a letter or '_', then letters, digits or '_'"
                ),
            ));
        } else if RESERVED_NAMES.contains(&name.as_str()) {
            errors.push(PathError::new(
                &at,
                format!(
                    "'{name}' is reserved (reserved: {})",
                    RESERVED_NAMES.join(", ")
                ),
            ));
        }
        let needs_choices = matches!(param.kind, ParamType::Enum | ParamType::MultiSelect);
        if needs_choices && param.choices.is_empty() {
            errors.push(PathError::new(
                format!("{at}/choices"),
                "enum and multi_select parameters need at least one choice",
            ));
        }
        let mut pattern_ok = true;
        if let Some(pattern) = &param.pattern
            && let Err(e) = values::whole_match(pattern)
        {
            pattern_ok = false;
            errors.push(PathError::new(
                format!("{at}/pattern"),
                format!("invalid regular expression: {e}"),
            ));
        }
        if let Some(default) = param.default.as_ref().filter(|d| !d.is_null())
            && pattern_ok
            && let Err(message) = check_value(param, default)
        {
            errors.push(PathError::new(format!("{at}/default"), message));
        }
    }
}

fn check_step(
    def: &JobDefinition,
    index: usize,
    at: &str,
    step_types: &[&str],
    errors: &mut Vec<PathError>,
) {
    let Some(step) = def.steps.get(index) else {
        return;
    };
    if !step_types.contains(&step.kind.as_str()) {
        errors.push(PathError::new(
            format!("{at}/type"),
            format!(
                "unknown step type '{}' (known: {})",
                step.kind,
                step_types.join(", ")
            ),
        ));
    }
    if step.timeout_secs == Some(0) {
        errors.push(PathError::new(
            format!("{at}/timeout_secs"),
            "must be at least 1",
        ));
    }
    if step.timeout_secs.is_some_and(|t| t > MAX_TIMEOUT_SECS) {
        errors.push(PathError::new(
            format!("{at}/timeout_secs"),
            format!("must be at most {MAX_TIMEOUT_SECS} (7 days)"),
        ));
    }
    if let Some(retry) = &step.retry
        && retry.attempts > MAX_RETRY_ATTEMPTS
    {
        errors.push(PathError::new(
            format!("{at}/retry/attempts"),
            format!("must be at most {MAX_RETRY_ATTEMPTS}"),
        ));
    }
    let earlier: HashSet<&str> = def.steps[..index].iter().map(|s| s.id.as_str()).collect();
    let scope = refs::Scope::new(def, &earlier);
    for (key, value) in &step.with {
        let language = quoting::language_of(&step.kind, key);
        scope.check_value(
            value,
            &format!("{at}/with/{}", token(key)),
            language,
            errors,
        );
    }
    if let Some(when) = &step.when {
        scope.check_expression(when, &format!("{at}/when"), errors);
    }
    // The notify checks say more than the schema where both complain.
    let mut settings = Vec::new();
    notify::check(&step.kind, &step.with, at, &mut settings);
    let mut from_schema = Vec::new();
    crate::step_catalog::check_with(&step.kind, &step.with, at, &mut from_schema);
    let reported: HashSet<String> = settings.iter().map(|e| e.path.clone()).collect();
    settings.extend(
        from_schema
            .into_iter()
            .filter(|e| !reported.contains(&e.path)),
    );
    errors.extend(settings);
}

#[cfg(test)]
mod tests;
