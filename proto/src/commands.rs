//! Commands: requests to do something, consumed exactly once from a work queue.
//!
//! Commands travel in the same CloudEvents envelope as events and are published
//! with `Nats-Msg-Id` set to the envelope id, so a retried publish inside the
//! stream's duplicate window is dropped.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::EventType;

/// Who or what started a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    /// The kind of trigger.
    pub kind: TriggerKind,
    /// The user, API token, schedule or run that triggered it (an id).
    pub actor: String,
}

/// The kinds of trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TriggerKind {
    /// A person, in the console or CLI.
    Manual,
    /// An API token (automation).
    Api,
    /// A cron schedule fired.
    Schedule,
    /// Another run finished ("run B after A").
    Dependency,
    /// A retry policy re-ran a failed run.
    Retry,
    /// Someone re-ran an earlier run with the same parameters.
    Rerun,
}

/// Which targets a run addresses, overriding the job's default selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetSelection {
    /// Target ids.
    #[serde(default)]
    pub targets: Vec<Uuid>,
    /// Target group ids.
    #[serde(default)]
    pub groups: Vec<Uuid>,
    /// Targets carrying all of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `<p>.cmd.run.request`: please run this job version.
///
/// The api assigns `run_id` before publishing, so the `202` answer can name
/// the run. Secret parameter values never travel here: the api keeps them
/// sealed and the dispatch carries them sealed for the receiving pool.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// The run this request creates.
    pub run_id: Uuid,
    /// The job to run.
    pub job_id: Uuid,
    /// The immutable job version to run.
    pub job_version: u32,
    /// Non-secret parameter values by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Targets overriding the job's default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetSelection>,
    /// Who or what asked for the run.
    pub trigger: Trigger,
}

impl EventType for RunRequest {
    const TYPE: &'static str = "io.opsconductor.cmd.run.request.v1";
    const SCHEMA: &'static str = "commands/run.request.v1.json";
}

/// `<p>.ctl.run.<run_id>.cancel` (core NATS): stop this run now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunCancel {
    /// The run to stop.
    pub run_id: Uuid,
    /// Who asked (a user or token id).
    pub requested_by: String,
    /// Why, free text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl EventType for RunCancel {
    const TYPE: &'static str = "io.opsconductor.cmd.run.cancel.v1";
    const SCHEMA: &'static str = "commands/run.cancel.v1.json";
}
