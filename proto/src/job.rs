//! The job-definition model: what `schemas/job.schema.json` describes and
//! what the api stores as immutable versions and sends, resolved, to workers.
//!
//! Decoding ignores fields this version does not know (a dispatch from a
//! newer api must not break an older worker); the api refuses them in the
//! documents people send it, so a typo never passes silently.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::commands::TargetSelection;

/// A job definition document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct JobDefinition {
    /// Unique name.
    #[schemars(length(min = 1, max = 128))]
    pub name: String,
    /// What it does.
    #[serde(default)]
    pub description: String,
    /// Tags, for notification rules, subscriptions and filters (each 1 to
    /// 64 characters of letters, digits, `-`, `_`, `.`, `:` or `/`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub tags: Vec<String>,
    /// A critical job's failures reach people even in their quiet hours.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub critical: bool,
    /// Typed parameters by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, Parameter>,
    /// Default targets of steps that address targets.
    #[serde(default)]
    pub targets: Option<TargetSelection>,
    /// The worker pool to run in when no target decides (local steps).
    #[serde(default)]
    pub pool: Option<String>,
    /// Targets running at once at most (default 50).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub parallelism: Option<u32>,
    /// Go on with other targets after one fails (default true).
    #[serde(default)]
    pub keep_going: Option<bool>,
    /// Seconds the whole run may take (default 3600).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
    /// Retries of a failed run ("smart retry", carried out by the
    /// scheduler): how often, how long after, for which failure classes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<crate::run_policy::RetryPolicy>,
    /// Runs of this job going (queued or running) at once at most, and
    /// what a run beyond that does; applies to every trigger. The job's
    /// current version decides it for every run of the job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<crate::run_policy::ConcurrencyLimit>,
    /// The steps, in order.
    #[schemars(length(min = 1))]
    pub steps: Vec<Step>,
}

/// Parameter types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ParamType {
    /// Text.
    String,
    /// Integer.
    Int,
    /// true/false.
    Bool,
    /// One of `choices`.
    Enum,
    /// Several of `choices`.
    MultiSelect,
    /// Text never shown, logged or stored in clear.
    Secret,
}

/// One parameter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Parameter {
    /// Its type.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Shown in forms.
    #[serde(default)]
    pub description: String,
    /// Must be given (or have a default).
    #[serde(default)]
    pub required: bool,
    /// Value when none is given.
    #[serde(default)]
    pub default: Option<Value>,
    /// Allowed values of `enum` and `multi_select`.
    #[serde(default)]
    pub choices: Vec<String>,
    /// Regular expression a `string` must match (whole value).
    #[serde(default)]
    pub pattern: Option<String>,
}

/// Retry policy of a step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Retry {
    /// Further attempts after the first (0-10).
    #[schemars(range(max = 10))]
    pub attempts: u32,
    /// Seconds before the first retry; doubles each time (default 1).
    #[serde(default = "one")]
    pub backoff_secs: u64,
}

fn one() -> u64 {
    1
}

/// One step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct Step {
    /// Unique within the job: letters, digits, `_`, `-`.
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9_-]{0,63}$"))]
    pub id: String,
    /// Shown in the console.
    #[serde(default)]
    pub name: Option<String>,
    /// The step type, e.g. `ssh.exec`, `local.exec`, `wait`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Targets of this step (default: the job's).
    #[serde(default)]
    pub targets: Option<TargetSelection>,
    /// Type-specific settings; strings are templates.
    #[serde(default, rename = "with")]
    pub with: BTreeMap<String, Value>,
    /// Seconds the step may take (default 300).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
    /// Retries.
    #[serde(default)]
    pub retry: Option<Retry>,
    /// A failure does not fail the run.
    #[serde(default)]
    pub continue_on_error: bool,
    /// A template expression; the step runs only when it is true.
    #[serde(default)]
    pub when: Option<String>,
    /// Whether running the step twice is harmless. A run whose worker was
    /// lost repeats an interrupted step only when it is; by default the step
    /// type decides (reads, waits and file transfers are; commands are not).
    #[serde(default)]
    pub idempotent: Option<bool>,
}

/// The step types workers of this version execute. A definition naming
/// another type is refused when saved.
pub const STEP_TYPES: &[&str] = &[
    "local.exec",
    "ssh.exec",
    "wait",
    "http.request",
    "http.get",
    "http.post",
    "http.put",
    "http.patch",
    "http.delete",
    "webhook.call",
    "sftp.upload",
    "sftp.download",
    "sftp.sync",
    "ssh.copy",
    "winrm.exec",
    "winrm.copy",
    "notify.email",
    "notify.slack",
    "notify.teams",
    "notify.webhook",
];

/// What a pool's workers may do on their own host (configured per pool by
/// an admin; see `[pools]` in the configuration).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct HostCapabilities {
    /// Run `local.exec` commands.
    #[serde(default)]
    pub local_exec: bool,
    /// Read and write worker-side paths in the transfer steps.
    #[serde(default)]
    pub host_files: bool,
}

/// How a step reaches into the worker host it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostUse {
    /// It runs a command there (`local.exec`).
    LocalExec,
    /// It reads or writes a worker-side path, named by this `with` key.
    Files(&'static str),
}

impl HostUse {
    /// Whether `caps` allow it.
    pub fn allowed_by(self, caps: HostCapabilities) -> bool {
        match self {
            Self::LocalExec => caps.local_exec,
            Self::Files(_) => caps.host_files,
        }
    }

    /// The capability it needs, as configured (`pools.<this>`).
    pub fn capability(self) -> &'static str {
        match self {
            Self::LocalExec => "local_exec",
            Self::Files(_) => "host_files",
        }
    }

    /// What it does, for error messages.
    pub fn describe(self) -> String {
        match self {
            Self::LocalExec => "runs a command on the worker host".to_owned(),
            Self::Files(key) => format!("uses a worker-side path (with.{key})"),
        }
    }
}

impl Step {
    /// How this step reaches into the worker host, if it does: `local.exec`
    /// always; `sftp.download` and `sftp.sync` always (one side is the
    /// worker); `sftp.upload`, `ssh.copy` and `winrm.copy` when they copy a
    /// worker file (`source`) rather than inline `content`.
    pub fn host_use(&self) -> Option<HostUse> {
        match self.kind.as_str() {
            "local.exec" => Some(HostUse::LocalExec),
            "sftp.download" => Some(HostUse::Files("dest")),
            "sftp.sync" => Some(HostUse::Files(
                if self.with.get("direction").and_then(Value::as_str) == Some("download") {
                    "dest"
                } else {
                    "source"
                },
            )),
            "sftp.upload" | "ssh.copy" | "winrm.copy" if self.with.contains_key("source") => {
                Some(HostUse::Files("source"))
            }
            _ => None,
        }
    }
}

impl JobDefinition {
    /// Whether any step reaches into the worker host.
    pub fn uses_host(&self) -> bool {
        self.steps.iter().any(|s| s.host_use().is_some())
    }

    /// SHA-256 (hex) of this definition as serialized: binds a grant to
    /// the exact definition it was given for.
    pub fn digest(&self) -> String {
        use sha2::Digest as _;
        let bytes = serde_json::to_vec(self).unwrap_or_default();
        sha2::Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// A target, group or credential as a person names it in a document they
/// send: by id, or by name. The api resolves names when it saves the
/// document, so stored versions, exports and everything on the bus hold
/// ids. A string that reads as a UUID is always an id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Ref {
    /// The id.
    Id(Uuid),
    /// The name: the one named exactly so, or else the only one whose name
    /// equals it ignoring case.
    Name(String),
}

impl Ref {
    /// What `text` names: an id when it reads as a UUID, else a name.
    pub fn parse(text: &str) -> Self {
        match text.parse::<Uuid>() {
            Ok(id) => Self::Id(id),
            Err(_) => Self::Name(text.to_owned()),
        }
    }
}

/// Which targets a job or step addresses, as written in a document: targets
/// and groups by id or name (stored as ids), and tags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct NamedSelection {
    /// Targets, by id or name.
    #[serde(default)]
    pub targets: Vec<Ref>,
    /// Target groups, by id or name.
    #[serde(default)]
    pub groups: Vec<Ref>,
    /// Targets carrying all of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// The schema of a job definition as people send it (create, update,
/// import): a [`JobDefinition`] whose targets and groups may be named by id
/// or name. Only a schema: the api resolves the names and stores the
/// resulting [`JobDefinition`], which this schema also describes.
#[derive(Debug, Clone, Copy)]
pub struct JobDocument;

/// A [`Step`] as people write it, for [`JobDocument`].
#[derive(Debug, Clone, Copy)]
pub struct StepDocument;

/// Replaces `properties.targets` of an object schema with
/// `Option<NamedSelection>`, keeping its description.
fn named_targets(schema: &mut Schema, generator: &mut SchemaGenerator) {
    let named = generator
        .subschema_for::<Option<NamedSelection>>()
        .to_value();
    if let Some(slot) = schema.pointer_mut("/properties/targets") {
        let description = slot.get("description").cloned();
        *slot = named;
        if let (Some(d), Some(map)) = (description, slot.as_object_mut()) {
            map.insert("description".to_owned(), d);
        }
    }
}

impl JsonSchema for JobDocument {
    fn schema_name() -> Cow<'static, str> {
        "JobDocument".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::JobDocument").into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = JobDefinition::json_schema(generator);
        named_targets(&mut schema, generator);
        let step = generator.subschema_for::<StepDocument>().to_value();
        if let Some(items) = schema.pointer_mut("/properties/steps/items") {
            *items = step;
        }
        schema.insert(
            "description".to_owned(),
            Value::from(
                "A job definition document as sent to the API: targets and groups by id or name \
                 (the stored version holds ids).",
            ),
        );
        schema
    }
}

impl JsonSchema for StepDocument {
    fn schema_name() -> Cow<'static, str> {
        "StepDocument".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::StepDocument").into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = Step::json_schema(generator);
        named_targets(&mut schema, generator);
        schema.insert(
            "description".to_owned(),
            Value::from("One step, its targets and groups by id or name."),
        );
        schema
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_schema_takes_names_where_the_definition_takes_ids() {
        let doc = serde_json::to_value(schemars::schema_for!(JobDocument)).unwrap_or_default();
        let defs = &doc["$defs"];
        assert_eq!(doc["additionalProperties"], false, "{doc}");
        let named = |s: &Value| s.to_string().contains("NamedSelection");
        assert!(named(&doc["properties"]["targets"]), "{doc}");
        assert!(
            named(&defs["StepDocument"]["properties"]["targets"]),
            "{doc}"
        );
        let refs = defs["Ref"]["anyOf"].as_array().map(Vec::len);
        assert_eq!(refs, Some(2), "an id or a name: {doc}");
        assert_eq!(Ref::parse("web-1"), Ref::Name("web-1".to_owned()));
        let id = Uuid::now_v7();
        assert_eq!(Ref::parse(&id.to_string()), Ref::Id(id));
    }
}
