//! What the schedule endpoints take and answer.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsc_calendar::OccurrenceKind;
use opsc_proto::commands::TargetSelection;
use opsc_proto::run_policy::RetryPolicy;
use opsc_proto::schedule::{DstPolicy, MisfirePolicy};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

/// `POST /api/v1/schedules` and `PUT /api/v1/schedules/{id}`: the whole
/// schedule. `PATCH` takes any of these fields and keeps the others.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleBody {
    /// Unique name, 1–100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The job to run, by id (or give `job_name`; with both, they must
    /// name the same job).
    #[serde(default)]
    pub job_id: Option<Uuid>,
    /// The job to run, by name.
    #[serde(default)]
    pub job_name: Option<String>,
    /// The cron expression: 5 fields (minute hour day-of-month month
    /// day-of-week), 6 with seconds first, or a nickname (`@daily`).
    pub cron: String,
    /// IANA time zone the expression is read in (default `UTC`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// No fire before this instant.
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// No fire after this instant; after `start_at`.
    #[serde(default)]
    pub end_at: Option<DateTime<Utc>>,
    /// Whether it fires (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Daylight-saving behaviour (default: shift out of gaps, first of a
    /// repeated hour).
    #[serde(default)]
    pub dst: Option<DstPolicy>,
    /// What missed fires do (default: one catch-up run, within an hour).
    #[serde(default)]
    pub misfire: Option<MisfirePolicy>,
    /// Parameter values for its runs, checked against the job's typed
    /// parameters. Values of the job's `secret` parameters are stored
    /// encrypted and never shown again (`secret_parameters` lists them).
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Targets instead of the job's, as for a run.
    #[serde(default)]
    pub targets: Option<TargetSelection>,
    /// Retries of its failed runs, instead of the job's policy.
    #[serde(default)]
    pub retry: Option<RetryPolicy>,
}

/// The fields of `PATCH /api/v1/schedules/{id}`: those given replace the
/// schedule's (`null` resets one to its default), the others stay.
/// `parameters`, when given, replaces every parameter, secret ones too.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    /// Unique name, 1–100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The job, by id.
    pub job_id: Option<Uuid>,
    /// The job, by name.
    pub job_name: Option<String>,
    /// The cron expression.
    pub cron: Option<String>,
    /// IANA time zone.
    pub time_zone: Option<String>,
    /// No fire before this instant.
    pub start_at: Option<DateTime<Utc>>,
    /// No fire after this instant.
    pub end_at: Option<DateTime<Utc>>,
    /// Whether it fires.
    pub enabled: Option<bool>,
    /// Daylight-saving behaviour.
    pub dst: Option<DstPolicy>,
    /// What missed fires do.
    pub misfire: Option<MisfirePolicy>,
    /// Every parameter value.
    pub parameters: Option<BTreeMap<String, Value>>,
    /// Targets instead of the job's.
    pub targets: Option<TargetSelection>,
    /// Retries of its failed runs (`null`: the job's policy).
    pub retry: Option<RetryPolicy>,
}

/// A schedule as the API shows it: secret parameter values never.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ScheduleView {
    /// Id.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// The job it runs.
    pub job_id: Uuid,
    /// That job's name now.
    pub job_name: Option<String>,
    /// Who created it (they and admins change it); `null` once that user
    /// is gone.
    pub owner_id: Option<Uuid>,
    /// The cron expression.
    pub cron: String,
    /// IANA time zone it is read in.
    pub time_zone: String,
    /// No fire before this instant.
    pub start_at: Option<DateTime<Utc>>,
    /// No fire after this instant.
    pub end_at: Option<DateTime<Utc>>,
    /// Whether it fires.
    pub enabled: bool,
    /// Paused (`POST …/pause`): no fire until resumed.
    pub paused: bool,
    /// Daylight-saving behaviour.
    pub dst: DstPolicy,
    /// What missed fires do.
    pub misfire: MisfirePolicy,
    /// Non-secret parameter values.
    pub parameters: BTreeMap<String, Value>,
    /// Names of the secret parameters it holds values for (the values are
    /// never shown).
    pub secret_parameters: Vec<String>,
    /// Targets instead of the job's.
    pub targets: Option<TargetSelection>,
    /// Retries of its failed runs; `null`: the job's policy applies.
    pub retry: Option<RetryPolicy>,
    /// Increases with every change.
    pub revision: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Its next fire (UTC); `null` when disabled, paused or past its end.
    pub next_fire_at: Option<DateTime<Utc>>,
    /// The same instant in the schedule's zone (RFC 3339 with offset).
    pub next_fire_local: Option<String>,
}

/// Filters and paging for `GET /api/v1/schedules`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleQuery {
    /// Only schedules of this job.
    #[serde(default)]
    pub job_id: Option<Uuid>,
    /// Only enabled (true) or disabled (false) schedules.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Items skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `GET /api/v1/schedules/{id}/next`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextQuery {
    /// How many occurrences, 1 to 100 (default 10).
    #[serde(default)]
    pub count: Option<u32>,
}

/// One occurrence of a schedule.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OccurrenceView {
    /// The instant (UTC).
    pub at: DateTime<Utc>,
    /// The same instant in the schedule's zone (RFC 3339 with offset).
    pub local: String,
    /// Regular, shifted out of a daylight-saving gap, skipped in a gap (it
    /// does not fire), or one of the two occurrences of a repeated hour.
    pub kind: OccurrenceKind,
}

/// The next occurrences of a schedule, skipped ones included (marked).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NextView {
    /// Oldest first.
    pub items: Vec<OccurrenceView>,
}

/// `POST /api/v1/schedules/next`: an expression not saved yet (a form
/// being filled in), read as a schedule with it would be.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NextPreviewBody {
    /// Cron expression (5 or 6 fields, or a nickname such as `@daily`).
    pub cron: String,
    /// IANA time zone (default `UTC`).
    #[serde(default)]
    pub time_zone: Option<String>,
    /// Daylight-saving policy.
    #[serde(default)]
    pub dst: Option<DstPolicy>,
    /// No occurrence before this.
    #[serde(default)]
    pub start_at: Option<DateTime<Utc>>,
    /// No occurrence after this.
    #[serde(default)]
    pub end_at: Option<DateTime<Utc>>,
    /// How many occurrences (1 to 100, default 10).
    #[serde(default)]
    pub count: Option<u32>,
}

/// `GET /api/v1/schedules/calendar`: the range `[from, to)`, 31 days at most.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarQuery {
    /// Start of the range (RFC 3339), included.
    pub from: DateTime<Utc>,
    /// End of the range (RFC 3339), excluded.
    pub to: DateTime<Utc>,
}

/// One occurrence in the calendar.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CalendarItem {
    /// The schedule.
    pub schedule_id: Uuid,
    /// Its name.
    pub schedule_name: String,
    /// Its job.
    pub job_id: Uuid,
    /// The instant (UTC).
    pub at: DateTime<Utc>,
    /// The same instant in the schedule's zone.
    pub local: String,
    /// What kind of occurrence.
    pub kind: OccurrenceKind,
}

/// Every occurrence of every enabled schedule in a range, oldest first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CalendarView {
    /// At most 10,000.
    pub items: Vec<CalendarItem>,
    /// True when the range holds more than `items`.
    pub truncated: bool,
}
