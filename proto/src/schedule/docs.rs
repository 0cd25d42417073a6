//! The KV documents of schedules and of the scheduler replicas.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{DstPolicy, MisfirePolicy};
use crate::commands::TargetSelection;

/// Key names in the scheduler's buckets.
pub mod keys {
    use uuid::Uuid;

    /// `<p>_schedules`: one schedule.
    pub fn schedule(id: Uuid) -> String {
        format!("schedule.{id}")
    }

    /// `<p>_schedules`: the prefix of every schedule key.
    pub const SCHEDULE_PREFIX: &str = "schedule.";

    /// `<p>_schedules`: the global pause switch.
    pub const CONTROL: &str = "control.global";

    /// `<p>_leases`: the scheduler leader's lease.
    pub const LEADER: &str = "scheduler.leader";

    /// `<p>_leases`: the leader's status summary.
    pub const STATUS: &str = "scheduler.status";

    /// `<p>_leases`: the prefix of replica heartbeats.
    pub const REPLICA_PREFIX: &str = "scheduler.replica.";

    /// `<p>_leases`: one replica's heartbeat.
    pub fn replica(id: &str) -> String {
        format!("{REPLICA_PREFIX}{id}")
    }

    /// `<p>_scheduler_state`: how far one schedule has been handled.
    pub fn cursor(schedule: Uuid) -> String {
        format!("cursor.{schedule}")
    }

    /// `<p>_scheduler_state`: the prefix of every cursor key.
    pub const CURSOR_PREFIX: &str = "cursor.";

    /// `<p>_scheduler_state`: a retry waiting for its time.
    pub fn retry(run: Uuid) -> String {
        format!("{RETRY_PREFIX}{run}")
    }

    /// `<p>_scheduler_state`: the prefix of pending retries.
    pub const RETRY_PREFIX: &str = "retry.";

    /// `<p>_windows`: one maintenance window.
    pub fn window(id: Uuid) -> String {
        format!("{WINDOW_PREFIX}{id}")
    }

    /// `<p>_windows`: the prefix of every window key.
    pub const WINDOW_PREFIX: &str = "window.";

    /// `<p>_schedules`: one dependency.
    pub fn dependency(id: Uuid) -> String {
        format!("{DEPENDENCY_PREFIX}{id}")
    }

    /// `<p>_schedules`: the prefix of every dependency key.
    pub const DEPENDENCY_PREFIX: &str = "dependency.";
}

/// One schedule, as the api mirrors it into `<p>_schedules`.
///
/// Self-sufficient: the scheduler builds run intents from it alone.
/// Secret parameters are sealed for the api's intake key, bound to the
/// intent's seal context (`run-intent/job:<job_id>`): the scheduler passes
/// them through and cannot read them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleDoc {
    /// The schedule.
    pub id: Uuid,
    /// Increases with every change of the schedule.
    pub revision: u64,
    /// The job it runs.
    pub job_id: Uuid,
    /// The cron expression (5 or 6 fields, or a nickname such as `@daily`).
    pub cron: String,
    /// IANA time zone the expression is read in.
    pub time_zone: String,
    /// No fire before this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<DateTime<Utc>>,
    /// No fire after this instant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_at: Option<DateTime<Utc>>,
    /// Disabled schedules do not fire.
    pub enabled: bool,
    /// Paused schedules do not fire; missed fires follow the misfire
    /// policy on resume.
    #[serde(default)]
    pub paused: bool,
    /// Daylight-saving behaviour.
    #[serde(default)]
    pub dst: DstPolicy,
    /// Misfire behaviour.
    #[serde(default)]
    pub misfire: MisfirePolicy,
    /// Non-secret parameter values for its runs.
    #[serde(default)]
    pub parameters: BTreeMap<String, serde_json::Value>,
    /// Secret parameter values, sealed for the api's intake key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_parameters: Option<String>,
    /// Targets overriding the job's default selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<TargetSelection>,
    /// The targets and groups its runs address (the override, else the
    /// job's default selection, tags resolved), for maintenance windows
    /// scoped to groups or targets. Recomputed by the api's reconcile.
    #[serde(default)]
    pub addresses: Addresses,
    /// When the schedule was created; no fire before it.
    pub created_at: DateTime<Utc>,
    /// When its timing last changed (cron, time zone, DST policy, start or
    /// end); absent: `created_at`. Occurrences of the current timing before
    /// this instant are never fired or caught up: an edit does not replay
    /// what the new expression would have fired earlier. Pausing, disabling
    /// or changing parameters leaves it alone, so fires missed while a
    /// schedule was paused or disabled follow the misfire policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timing_changed_at: Option<DateTime<Utc>>,
    /// When this revision was written.
    pub updated_at: DateTime<Utc>,
}

impl ScheduleDoc {
    /// The instant from which occurrences of the current timing count.
    pub fn effective_from(&self) -> DateTime<Utc> {
        self.timing_changed_at
            .map_or(self.created_at, |t| t.max(self.created_at))
    }

    /// Whether it may fire at all now (enabled, not paused).
    pub fn active(&self) -> bool {
        self.enabled && !self.paused
    }

    /// The idempotency key of its run intent for the fire at `at`: one run
    /// per schedule and fire instant, however many replicas fire it.
    pub fn intent_key(&self, at: DateTime<Utc>) -> String {
        format!(
            "schedule:{}:{}",
            self.id,
            at.format("%Y-%m-%dT%H:%M:%S%.3fZ")
        )
    }
}

/// The targets and groups a schedule's runs address.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Addresses {
    /// Target ids.
    #[serde(default)]
    pub targets: Vec<Uuid>,
    /// Group ids (the groups named, and the groups of the targets).
    #[serde(default)]
    pub groups: Vec<Uuid>,
}

/// `retry.<run id>` in `<p>_scheduler_state`: a retry decided and waiting
/// for its time; the leader publishes it when `due_at` passes and then
/// deletes the entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PendingRetry {
    /// The failed run it retries.
    pub run_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The attempt this retry makes (2 for the first retry).
    pub attempt: u32,
    /// The first run of the chain.
    pub retry_root: Uuid,
    /// When to publish it.
    pub due_at: DateTime<Utc>,
}

/// `control.global` in `<p>_schedules`: the scheduler-wide switch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SchedulerControl {
    /// While true no schedule fires; missed fires follow each schedule's
    /// misfire policy on resume.
    pub paused: bool,
    /// Who changed it last (a user id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    /// When.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<DateTime<Utc>>,
}

/// `scheduler.leader` in `<p>_leases`: which replica leads, fenced.
///
/// Taken and renewed only by compare-and-set on the entry's revision. The
/// `term` is the KV revision at which the holder took the lease; it stays
/// the same across renewals and every run intent of that leader carries it
/// (`RunIntent::fence`), so the api refuses intents of a deposed leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Lease {
    /// The replica holding it.
    pub holder: String,
    /// The KV revision at which it was taken.
    pub term: u64,
    /// The holder gives it up by this instant unless it renewed it; other
    /// replicas may take it after this instant plus a margin for clock skew.
    pub expires_at: DateTime<Utc>,
    /// When it was taken.
    pub acquired_at: DateTime<Utc>,
}

/// `scheduler.replica.<id>` in `<p>_leases`: a replica is alive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReplicaBeat {
    /// Unique per process.
    pub replica_id: String,
    /// OpsConductor version.
    pub version: String,
    /// When the process started.
    pub started_at: DateTime<Utc>,
    /// When it wrote this.
    pub seen_at: DateTime<Utc>,
    /// Whether it leads.
    pub leader: bool,
}

/// One recent fire in the status summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct StatusFire {
    /// The schedule.
    pub schedule_id: Uuid,
    /// The fire instant.
    pub at: DateTime<Utc>,
}

/// `scheduler.status` in `<p>_leases`: the leader's summary, written about
/// once a second.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SchedulerStatusDoc {
    /// The leader replica.
    pub leader: String,
    /// Its lease term.
    pub term: u64,
    /// Schedules loaded (all, active or not).
    pub schedules_loaded: u64,
    /// Schedules that may fire.
    pub schedules_active: u64,
    /// Whether the global pause is on.
    pub paused: bool,
    /// The next fire of any schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_fire: Option<StatusFire>,
    /// Lag of the most recent on-time fire, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_lag_ms: Option<f64>,
    /// p99 of the fire lag over the last minute, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lag_p99_ms: Option<f64>,
    /// When it was written.
    pub written_at: DateTime<Utc>,
}

/// `cursor.<schedule id>` in `<p>_scheduler_state`: every fire of the
/// schedule at or before `handled_until` has been fired, skipped or
/// recorded as a misfire. Only a leader writes it, by compare-and-set; a
/// clock that jumps back never replays a fire at or before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Cursor {
    /// The last handled fire instant.
    pub handled_until: DateTime<Utc>,
    /// The schedule revision it was handled under.
    pub revision: u64,
    /// The lease term of the leader that wrote it.
    pub term: u64,
}
