//! Commands: requests to do something, consumed exactly once from a work queue.
//!
//! Commands travel in the same CloudEvents envelope as events and are published
//! with `Nats-Msg-Id` set to the envelope id, so a retried publish inside the
//! stream's duplicate window is dropped.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Routed;
use crate::{EventType, Subjects};

/// Who or what started a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Trigger {
    /// The kind of trigger.
    pub kind: TriggerKind,
    /// The user, API token, schedule or run that triggered it (an id).
    pub actor: String,
    /// Where the intent came from, for the record: a producer's name such as
    /// `scheduler` or `integration:ci` (absent for the api's own runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The run that caused this one: the upstream run of a dependency, the
    /// failed run of a retry, the run that is re-run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause_run_id: Option<Uuid>,
}

impl Trigger {
    /// A trigger of `kind` by `actor`, with no origin or cause.
    pub fn new(kind: TriggerKind, actor: impl Into<String>) -> Self {
        Self {
            kind,
            actor: actor.into(),
            origin: None,
            cause_run_id: None,
        }
    }
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
    /// An integration published a run intent on the bus.
    Integration,
    /// A person ran one command ad hoc (`POST /api/v1/adhoc-runs`,
    /// `opsconductor run`), without a saved job.
    Adhoc,
}

impl TriggerKind {
    /// Whether a run intent on the bus may carry this kind. Manual, API and
    /// re-run triggers name a user and are set by the api only: a producer
    /// on the bus cannot act as a person.
    pub fn allowed_on_bus(self) -> bool {
        matches!(
            self,
            Self::Schedule | Self::Dependency | Self::Retry | Self::Integration
        )
    }
}

/// Which targets a run addresses, overriding the job's default selection.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
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

/// `<p>.cmd.run.request`: please start a run of a job.
///
/// Self-sufficient: any producer allowed to publish on this subject (the
/// scheduler, dependencies, retries, integrators) starts a run with it, and
/// the api admits it exactly like `POST /api/v1/jobs/{id}/run`: validated,
/// recorded idempotently, dispatched. One intent makes one run however often
/// it is published or redelivered: runs are keyed by `idempotency_key`, or
/// else by the envelope id. An intent the api cannot admit (unknown job,
/// version or target, parameters that do not fit) is stored on
/// `<p>.dlq.admission` with the reason, and nothing else changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunIntent {
    /// The job, by id. One of `job_id` and `job_name` is required; with
    /// both, they must name the same job.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    /// The job, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    /// The immutable version to run; absent: the job's current version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_version: Option<u32>,
    /// Non-secret parameter values by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Secret parameter values: a JSON object sealed for the api's intake
    /// key (`opsconductor keys seal-key --intake`) and bound to
    /// [`RunIntent::seal_context`]. Secrets never travel in `parameters`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_parameters: Option<String>,
    /// Targets overriding the job's default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetSelection>,
    /// Who or what asks for the run (`schedule`, `dependency`, `retry` or
    /// `integration` on the bus).
    pub trigger: Trigger,
    /// One run per key, forever (e.g. `schedule:<id>:<fire time>`, so
    /// several scheduler replicas firing one slot make one run). Absent: the
    /// envelope id is the key. 1-200 visible ASCII characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
    /// The scheduler leader's lease term (`Lease::term`), on intents of
    /// schedule triggers: the api refuses an intent whose term is older
    /// than the current lease's, so a deposed leader cannot fire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fence: Option<u64>,
    /// A retry of this failed run (trigger kind `retry`): the api runs the
    /// same job version with the same parameters (secret ones included,
    /// from its vault) and targets, as attempt `n + 1` of the chain;
    /// `parameters`, `targets` and `job_version` must then be empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_of: Option<Uuid>,
    /// Parameters taken from an upstream run (trigger kind `dependency`),
    /// resolved by the api at admission, so no value crosses the bus.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameters_from: Option<ParametersFrom>,
}

/// Parameters of a dependent run taken from the run it depends on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParametersFrom {
    /// The upstream run.
    pub run_id: Uuid,
    /// Parameter of the new run → where its value comes from in the
    /// upstream run: `params.<name>`, `steps.<step>.json.<path>` (a key
    /// path into the step's JSON output, dot-separated), `steps.<step>.stdout`
    /// or `steps.<step>.exit_code`. A value that is absent refuses the
    /// intent (it is dead-lettered with the reason).
    pub map: BTreeMap<String, String>,
}

impl RunIntent {
    /// The context `sealed_parameters` is bound to: the job as the intent
    /// names it, so a sealed value opens only for intents of that job; for
    /// a schedule's intents also the schedule (`run-intent/schedule:<id>/…`),
    /// so a schedule's sealed secrets open only in that schedule's intents.
    pub fn seal_context(&self) -> String {
        let job = match (&self.job_id, &self.job_name) {
            (Some(id), _) => format!("job:{id}"),
            (None, Some(name)) => format!("name:{name}"),
            (None, None) => String::new(),
        };
        if self.trigger.kind == TriggerKind::Schedule {
            format!("run-intent/schedule:{}/{job}", self.trigger.actor)
        } else {
            format!("run-intent/{job}")
        }
    }
}

impl EventType for RunIntent {
    const TYPE: &'static str = "io.opsconductor.cmd.run.request.v1";
    const SCHEMA: &'static str = "commands/run.request.v1.json";
}

impl Routed for RunIntent {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.run_request()
    }
}

/// `<p>.ctl.run.<run_id>.cancel` (core NATS): stop this run now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
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
