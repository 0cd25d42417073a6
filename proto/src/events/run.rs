//! Run events: the facts of one run, on `<p>.evt.run.<run_id>.<token>`.
//!
//! Each payload type is one variant of [`RunEvent`]; the subject token and
//! the CloudEvents `type` come from the variant (declared once, in the
//! table at the bottom), so producers publish any of them with one generic
//! call and consumers decode into [`RunEvent`] and match on variants.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{RunStatus, StepStatus};
use crate::Subjects;
use crate::commands::{RunCancel, Trigger};
use crate::envelope::{CloudEvent, DecodeError, EventType, RawEvent, Routed};

/// Which part of a sharded run a worker executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardRef {
    /// Zero-based shard index.
    pub index: u32,
    /// Number of shards of the run.
    pub count: u32,
}

/// `…evt.run.<run_id>.accepted`: the api admitted a run intent. Published
/// before the run's dispatches, so it is the first event of every run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunAccepted {
    /// The run.
    pub run_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The job version it runs.
    pub job_version: u32,
    /// Who or what triggered it.
    pub trigger: Trigger,
    /// The intent it was admitted from, when it came through the bus: the
    /// intent's idempotency key, or else its envelope id. A producer finds
    /// the run its intent created by this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent_id: Option<String>,
    /// Number of shards the run was cut into.
    #[serde(default)]
    pub shards: u32,
}

/// `…evt.run.<run_id>.started`: a worker started (a shard of) the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct RunStarted {
    /// The run.
    pub run_id: Uuid,
    /// The worker executing it.
    pub worker_id: String,
    /// The worker's pool.
    pub pool: String,
    /// The shard it executes.
    pub shard: ShardRef,
}

/// `…evt.run.<run_id>.step_started`: a step began on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepStarted {
    /// The run.
    pub run_id: Uuid,
    /// The step id from the job definition.
    pub step_id: String,
    /// The target, when the step runs on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<Uuid>,
    /// Attempt number, starting at 1.
    pub attempt: u32,
    /// The worker executing it.
    pub worker_id: String,
}

/// `…evt.run.<run_id>.step_finished`: a step ended on a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StepFinished {
    /// The run.
    pub run_id: Uuid,
    /// The step id from the job definition.
    pub step_id: String,
    /// The target, when the step ran on one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_id: Option<Uuid>,
    /// Attempt number, starting at 1.
    pub attempt: u32,
    /// Outcome.
    pub status: StepStatus,
    /// Exit code of a command, when there was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// Wall time of the attempt.
    pub duration_ms: u64,
    /// What went wrong, for people (secrets redacted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Whether captured output hit the size cap.
    #[serde(default)]
    pub output_truncated: bool,
    /// Output lines this attempt published on `<p>.log.<run_id>.<step>`
    /// (the highest `line_no`), all stored before this event: a live
    /// reader shows this event after that many lines.
    #[serde(default)]
    pub output_lines: u64,
    /// The step type (`ssh.exec` …), for metrics and dashboards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_type: Option<String>,
}

/// `…evt.run.<run_id>.shard_finished`: a worker finished a shard.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ShardFinished {
    /// The run.
    pub run_id: Uuid,
    /// The shard.
    pub shard: ShardRef,
    /// The shard's outcome (`succeeded`, `failed`, `cancelled`, `timed_out`, `worker_lost`).
    pub status: RunStatus,
    /// Why, when not succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The worker.
    pub worker_id: String,
}

/// `…evt.run.<run_id>.finished`: the run reached a terminal state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunFinished {
    /// The run.
    pub run_id: Uuid,
    /// Terminal status.
    pub status: RunStatus,
    /// Machine-readable reason for a non-success (`worker_lost`, `timeout` …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Accept-to-finish wall time.
    pub duration_ms: u64,
    /// Its job (absent from releases before the scheduler's reactions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<Uuid>,
    /// The job version it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_version: Option<u32>,
    /// Who or what triggered it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// 1 for a first run, n + 1 for the n-th retry of it.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
    /// The first run of its retry chain (itself when it is no retry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_root: Option<Uuid>,
    /// Why it failed, for retry policies (absent unless it failed, timed
    /// out or lost its worker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<crate::run_policy::FailureClass>,
    /// Non-zero exit codes of its failed steps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exit_codes: Vec<i32>,
    /// The retry policy that applies to it: its schedule's when a schedule
    /// started it and has one, else its job version's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry: Option<crate::run_policy::RetryPolicy>,
}

fn first_attempt() -> u32 {
    1
}

impl RunFinished {
    /// The end of a run, without the context the api adds.
    pub fn new(run_id: Uuid, status: RunStatus, reason: Option<String>, duration_ms: u64) -> Self {
        Self {
            run_id,
            status,
            reason,
            duration_ms,
            job_id: None,
            job_version: None,
            trigger: None,
            attempt: 1,
            retry_root: None,
            failure: None,
            exit_codes: Vec::new(),
            retry: None,
        }
    }
}

/// A payload that is one of the events of a run.
pub trait RunEventData: EventType + Into<RunEvent> {
    /// The last subject token: `<p>.evt.run.<run_id>.<TOKEN>`.
    const TOKEN: &'static str;
    /// The run it belongs to.
    fn run_id(&self) -> Uuid;
}

/// Declares [`RunEvent`] from one table of `Variant(Type) = "token"`, so
/// the variant, its payload type, its subject token and its CloudEvents
/// `type` can never disagree.
macro_rules! run_events {
    ($($(#[$doc:meta])* $variant:ident($ty:ty) = $token:literal),+ $(,)?) => {
        /// Any event of a run.
        #[derive(Debug, Clone, PartialEq)]
        pub enum RunEvent {
            $($(#[$doc])* $variant($ty)),+
        }

        impl RunEvent {
            /// The CloudEvents types of every run event.
            pub const TYPES: &'static [&'static str] = &[$(<$ty as EventType>::TYPE),+];

            /// The subject token of this event.
            pub fn token(&self) -> &'static str {
                match self { $(Self::$variant(_) => $token),+ }
            }

            /// The CloudEvents `type` of this event.
            pub fn event_type(&self) -> &'static str {
                match self { $(Self::$variant(_) => <$ty as EventType>::TYPE),+ }
            }

            /// The run it belongs to.
            pub fn run_id(&self) -> Uuid {
                match self { $(Self::$variant(d) => d.run_id),+ }
            }

            /// `data` as the payload `event_type` names; `None` for a type
            /// this version does not know (a newer producer's).
            fn from_data(event_type: &str, data: &RawValue) -> Result<Option<Self>, serde_json::Error> {
                $(
                    if event_type == <$ty as EventType>::TYPE {
                        return serde_json::from_str::<$ty>(data.get()).map(|d| Some(Self::$variant(d)));
                    }
                )+
                Ok(None)
            }
        }

        $(
            impl RunEventData for $ty {
                const TOKEN: &'static str = $token;
                fn run_id(&self) -> Uuid {
                    self.run_id
                }
            }

            impl From<$ty> for RunEvent {
                fn from(d: $ty) -> Self {
                    Self::$variant(d)
                }
            }

            impl Routed for $ty {
                fn subject(&self, subjects: &Subjects) -> String {
                    subjects.run_event(&self.run_id.to_string(), $token)
                }
            }
        )+
    };
}

run_events! {
    /// The api admitted the run.
    Accepted(RunAccepted) = "accepted",
    /// A worker started a shard.
    Started(RunStarted) = "started",
    /// A step began on a target.
    StepStarted(StepStarted) = "step_started",
    /// A step ended on a target.
    StepFinished(StepFinished) = "step_finished",
    /// A worker finished a shard.
    ShardFinished(ShardFinished) = "shard_finished",
    /// Someone asked to cancel the run (kept, so a worker starting later sees it).
    CancelRequested(RunCancel) = "cancel_requested",
    /// The run ended.
    Finished(RunFinished) = "finished",
}

impl EventType for RunAccepted {
    const TYPE: &'static str = "io.opsconductor.run.accepted.v1";
    const SCHEMA: &'static str = "events/run.accepted.v1.json";
}

impl EventType for RunStarted {
    const TYPE: &'static str = "io.opsconductor.run.started.v1";
    const SCHEMA: &'static str = "events/run.started.v1.json";
}

impl EventType for StepStarted {
    const TYPE: &'static str = "io.opsconductor.run.step_started.v1";
    const SCHEMA: &'static str = "events/run.step_started.v1.json";
}

impl EventType for StepFinished {
    const TYPE: &'static str = "io.opsconductor.run.step_finished.v1";
    const SCHEMA: &'static str = "events/run.step_finished.v1.json";
}

impl EventType for ShardFinished {
    const TYPE: &'static str = "io.opsconductor.run.shard_finished.v1";
    const SCHEMA: &'static str = "events/run.shard_finished.v1.json";
}

impl EventType for RunFinished {
    const TYPE: &'static str = "io.opsconductor.run.finished.v1";
    const SCHEMA: &'static str = "events/run.finished.v1.json";
}

/// Why a message is not a run event this consumer can apply.
#[derive(Debug, thiserror::Error)]
pub enum RunEventError {
    /// Not an envelope, or its data does not fit its type.
    #[error(transparent)]
    Malformed(#[from] DecodeError),
    /// A valid envelope of a type that is not a run event this version
    /// knows: skip it (a newer producer, or another area's event).
    #[error("not a run event this version knows: {0}")]
    Unknown(String),
}

impl RunEvent {
    /// Decodes an envelope carrying any run event.
    pub fn decode(bytes: &[u8]) -> Result<CloudEvent<Self>, RunEventError> {
        let raw = RawEvent::decode_raw(bytes)?;
        let event_type = raw.event_type.clone();
        let event = raw
            .map_data(|data| Self::from_data(&event_type, &data))
            .map_err(|e| RunEventError::Malformed(DecodeError::Data(e)))?;
        event.map_data(|d| d.ok_or(RunEventError::Unknown(event_type)))
    }
}

impl crate::envelope::Decode for CloudEvent<RunEvent> {
    fn decode(payload: &[u8]) -> Result<Option<Self>, String> {
        match RunEvent::decode(payload) {
            Ok(e) => Ok(Some(e)),
            Err(RunEventError::Unknown(_)) => Ok(None),
            Err(e @ RunEventError::Malformed(_)) => Err(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Prefix;
    use crate::commands::TriggerKind;

    #[test]
    fn the_variant_names_subject_and_type() {
        let s = Subjects::new(Prefix::parse("t1").unwrap());
        let e = RunFinished::new(Uuid::nil(), RunStatus::Failed, None, 1);
        assert_eq!(
            e.subject(&s),
            format!("t1.evt.run.{}.finished", Uuid::nil())
        );
        let ev: RunEvent = e.into();
        assert_eq!(ev.token(), "finished");
        assert_eq!(ev.event_type(), "io.opsconductor.run.finished.v1");
        assert!(RunEvent::TYPES.contains(&"io.opsconductor.cmd.run.cancel.v1"));
    }

    #[test]
    fn decodes_into_the_variant_and_skips_unknown_types() {
        let accepted = RunAccepted {
            run_id: Uuid::now_v7(),
            job_id: Uuid::now_v7(),
            job_version: 2,
            trigger: Trigger {
                kind: TriggerKind::Schedule,
                actor: "s1".into(),
                origin: None,
                cause_run_id: None,
            },
            intent_id: Some("k".into()),
            shards: 1,
        };
        let bytes = CloudEvent::new("/x", accepted.clone()).encode();
        let decoded = RunEvent::decode(&bytes).unwrap();
        assert_eq!(decoded.data, RunEvent::Accepted(accepted));

        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        v["type"] = "io.opsconductor.run.paused.v1".into();
        let unknown = RunEvent::decode(&serde_json::to_vec(&v).unwrap());
        assert!(matches!(unknown, Err(RunEventError::Unknown(t)) if t.ends_with("paused.v1")));

        v["type"] = "io.opsconductor.run.accepted.v1".into();
        v["data"]["job_version"] = "two".into();
        let bad = RunEvent::decode(&serde_json::to_vec(&v).unwrap());
        assert!(matches!(bad, Err(RunEventError::Malformed(_))));
    }
}
