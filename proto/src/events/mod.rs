//! Events: facts that happened, kept in the event stream for replay.
//!
//! Run events ([`run`]) are published on `<p>.evt.run.<run_id>.<token>`;
//! they carry the per-run `sequence` extension. Consumers are idempotent on
//! the envelope `id` and ignore fields they do not know.

pub mod run;
pub mod schedule;

pub use run::{
    RunAccepted, RunEvent, RunEventData, RunEventError, RunFinished, RunStarted, ShardFinished,
    ShardRef, StepFinished, StepStarted,
};
pub use schedule::{ScheduleFired, ScheduleMisfired, ScheduleSkipped, SkipReason};

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Routed;
use crate::{EventType, Subjects};

/// Terminal and intermediate states of a run. A state only moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Admitted but held by its job's concurrency limit (policy `queue`):
    /// not dispatched; it becomes `queued` when a slot frees, in order.
    Waiting,
    /// Accepted, waiting for a worker.
    Queued,
    /// A worker is executing it.
    Running,
    /// Every step succeeded (or failed with `continue_on_error`).
    Succeeded,
    /// A step failed.
    Failed,
    /// Someone cancelled it.
    Cancelled,
    /// The run timeout passed.
    TimedOut,
    /// The worker died and the run could not be resumed safely.
    WorkerLost,
    /// Never started: its job had as many runs going as its concurrency
    /// limit allows and the policy is `skip`.
    Skipped,
}

impl RunStatus {
    /// Whether no further change can follow.
    pub fn is_terminal(self) -> bool {
        !matches!(self, Self::Waiting | Self::Queued | Self::Running)
    }
}

/// Outcome of one step on one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    /// Finished with success.
    Succeeded,
    /// Finished with failure.
    Failed,
    /// Its `when` condition was false, or an earlier step failed.
    Skipped,
    /// Stopped by a cancel.
    Cancelled,
    /// Stopped by its timeout.
    TimedOut,
}

/// Which output stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutputStream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// `<p>.log.<run_id>.<step>`: one line of live output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OutputLine {
    /// The run.
    pub run_id: Uuid,
    /// The step.
    pub step_id: String,
    /// The target, when the step runs on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<Uuid>,
    /// Line number within the step and target, from 1.
    pub line_no: u64,
    /// Which stream.
    pub stream: OutputStream,
    /// The text, secrets redacted, without the line end.
    pub text: String,
}

impl EventType for OutputLine {
    const TYPE: &'static str = "io.opsconductor.run.output.v1";
    const SCHEMA: &'static str = "events/run.output.v1.json";
}

impl Routed for OutputLine {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.step_log(&self.run_id.to_string(), &self.step_id)
    }
}

/// `<p>.ctl.worker.heartbeat.<pool>` (core NATS): a worker is alive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WorkerHeartbeat {
    /// Unique per worker process.
    pub worker_id: String,
    /// Its pool.
    pub pool: String,
    /// OpsConductor version it runs.
    pub version: String,
    /// Dispatches it executes at once at most.
    pub concurrency: u32,
    /// Dispatches it executes now.
    pub in_flight: u32,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// Whether it is draining (SIGTERM received, taking no new work).
    pub draining: bool,
    /// Seconds until its next heartbeat; a consumer may consider the worker
    /// gone after three missed ones. 0 (or absent) when unknown.
    #[serde(default)]
    pub heartbeat_secs: u64,
}

impl EventType for WorkerHeartbeat {
    const TYPE: &'static str = "io.opsconductor.worker.heartbeat.v1";
    const SCHEMA: &'static str = "events/worker.heartbeat.v1.json";
}

impl Routed for WorkerHeartbeat {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.worker_heartbeat(&self.pool)
    }
}

/// `<p>.dlq.<origin>`: a message a consumer could not process, and why.
///
/// The original message is acknowledged (terminated) once its dead letter is
/// stored, so nothing is lost and nothing blocks the consumer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetter {
    /// The consumer that gave up on it.
    pub origin: String,
    /// The subject it arrived on.
    pub subject: String,
    /// Why it could not be processed.
    pub reason: String,
    /// How many times it was delivered.
    pub deliveries: u64,
    /// The original payload, as UTF-8 when it was, else base64.
    pub payload: String,
    /// `utf8` or `base64`.
    pub payload_encoding: String,
}

impl EventType for DeadLetter {
    const TYPE: &'static str = "io.opsconductor.dead_letter.v1";
    const SCHEMA: &'static str = "events/dead_letter.v1.json";
}

impl Routed for DeadLetter {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.dead_letter(&self.origin)
    }
}

/// `<p>.evt.audit.<audit_id>.recorded`: an audit record was written.
///
/// Emitted for every state-changing request, login success and failure,
/// API-token use and permission denial. Secrets are redacted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AuditRecorded {
    /// The record's id (also in the subject).
    pub audit_id: Uuid,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The acting user, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_id: Option<Uuid>,
    /// Its name (or the name tried at a failed login).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor_name: Option<String>,
    /// `user`, `api_token`, `anonymous` or `system`.
    pub actor_kind: String,
    /// What was done, e.g. `user.create`, `auth.login`.
    pub action: String,
    /// The kind of entity acted on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_type: Option<String>,
    /// Its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id: Option<String>,
    /// `success`, `failure` or `denied`.
    pub outcome: String,
    /// Summary of the change, secrets redacted.
    pub summary: serde_json::Value,
    /// Client address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_addr: Option<String>,
    /// Request id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

impl EventType for AuditRecorded {
    const TYPE: &'static str = "io.opsconductor.audit.recorded.v1";
    const SCHEMA: &'static str = "events/audit.recorded.v1.json";
}

impl Routed for AuditRecorded {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.area_event("audit", &self.audit_id.to_string(), "recorded")
    }
}
