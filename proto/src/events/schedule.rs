//! Schedule events, on `<p>.evt.schedule.<schedule_id>.<fired|skipped|misfired>`.
//!
//! The scheduler's leader publishes one for every fire instant it handles,
//! so every occurrence of a schedule is accounted for: fired on time,
//! fired late as a catch-up, skipped (a daylight-saving gap the schedule
//! skips), or missed and dropped (a misfire) with the reason.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::envelope::Routed;
use crate::{EventType, Subjects};

/// `…evt.schedule.<id>.fired`: the scheduler published a run intent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleFired {
    /// The schedule.
    pub schedule_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The fire instant the expression named.
    pub fire_at: DateTime<Utc>,
    /// When the intent was acknowledged by the bus.
    pub fired_at: DateTime<Utc>,
    /// `fired_at - fire_at` in milliseconds.
    pub lag_ms: f64,
    /// The run intent's idempotency key; the run records it as its intent id.
    pub intent_key: String,
    /// Whether this is a catch-up of a missed fire.
    #[serde(default)]
    pub catch_up: bool,
    /// A fire deferred by a maintenance window (policy `defer`) is
    /// published when the window closes: the window, by id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_by: Option<Uuid>,
    /// The schedule revision it fired under.
    pub revision: u64,
    /// The leader's lease term.
    pub term: u64,
}

impl EventType for ScheduleFired {
    const TYPE: &'static str = "io.opsconductor.schedule.fired.v1";
    const SCHEMA: &'static str = "events/schedule.fired.v1.json";
}

impl Routed for ScheduleFired {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.area_event("schedule", &self.schedule_id.to_string(), "fired")
    }
}

/// Why an occurrence did not fire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Its wall time falls in a spring-forward gap and the schedule skips gaps.
    DstGap,
    /// It falls inside a maintenance window whose fire policy is `skip`.
    Window,
    /// Missed, and the misfire policy is `skip`.
    MisfireSkip,
    /// Missed for longer than the misfire policy's `max_age_secs`.
    TooOld,
    /// Missed, and a more recent missed fire is the one catch-up (`run_once`).
    Superseded,
    /// Missed, and beyond `run_all`'s `max_count`.
    OverMaxCount,
}

/// `…evt.schedule.<id>.skipped`: an occurrence the schedule's own policy
/// leaves out (a daylight-saving gap with `gap: skip`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleSkipped {
    /// The schedule.
    pub schedule_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The instant the occurrence would have had (for a gap: where the gap begins).
    pub fire_at: DateTime<Utc>,
    /// The wall time the expression named, in the schedule's zone.
    pub local_time: String,
    /// Why.
    pub reason: SkipReason,
    /// The maintenance window that skipped it (reason `window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_id: Option<Uuid>,
    /// The schedule revision.
    pub revision: u64,
}

impl EventType for ScheduleSkipped {
    const TYPE: &'static str = "io.opsconductor.schedule.skipped.v1";
    const SCHEMA: &'static str = "events/schedule.skipped.v1.json";
}

impl Routed for ScheduleSkipped {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.area_event("schedule", &self.schedule_id.to_string(), "skipped")
    }
}

/// `…evt.schedule.<id>.misfired`: a fire was missed (no scheduler ran, the
/// schedule or scheduler was paused or disabled, the bus was away, the
/// clock jumped) and the misfire policy dropped it. A missed fire that is
/// caught up is a `fired` event with `catch_up: true` instead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleMisfired {
    /// The schedule.
    pub schedule_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The (first) missed fire instant.
    pub fire_at: DateTime<Utc>,
    /// Consecutive missed fires dropped for the same reason are recorded
    /// as one event: the last of them (absent: only `fire_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_fire_at: Option<DateTime<Utc>>,
    /// How many fires this event stands for (at least 1).
    #[serde(default = "one")]
    pub count: u64,
    /// Whether `count` stopped at the counting limit (10,000) and more
    /// fires were dropped.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub count_capped: bool,
    /// When the scheduler noticed it.
    pub noticed_at: DateTime<Utc>,
    /// Why it was dropped.
    pub reason: SkipReason,
    /// The schedule revision.
    pub revision: u64,
}

fn one() -> u64 {
    1
}

impl EventType for ScheduleMisfired {
    const TYPE: &'static str = "io.opsconductor.schedule.misfired.v1";
    const SCHEMA: &'static str = "events/schedule.misfired.v1.json";
}

impl Routed for ScheduleMisfired {
    fn subject(&self, subjects: &Subjects) -> String {
        subjects.area_event("schedule", &self.schedule_id.to_string(), "misfired")
    }
}
