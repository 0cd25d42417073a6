//! What the maintenance-window endpoints take and answer.

use chrono::{DateTime, Utc};
use opsc_proto::schedule::{WindowFirePolicy, WindowScope};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// When a window is open, as the API takes and shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum TimingBody {
    /// One range of time, `[start, end)`, at most 366 days.
    Once {
        /// It opens here (RFC 3339).
        start: DateTime<Utc>,
        /// It closes here; after `start`.
        end: DateTime<Utc>,
    },
    /// Every week on `days` from `start_time` for `duration_mins`, in
    /// `time_zone` (a window that runs past midnight belongs to the day it
    /// opens; a `start_time` in a daylight-saving gap opens right after
    /// the gap, one in a repeated hour at its first occurrence; the
    /// duration is real time).
    Weekly {
        /// ISO weekdays, 1 = Monday … 7 = Sunday, each once.
        days: Vec<u8>,
        /// Wall time it opens, `HH:MM`.
        start_time: String,
        /// Minutes it stays open, 1 to 10080.
        duration_mins: u32,
        /// IANA time zone (default `UTC`).
        #[serde(default)]
        time_zone: Option<String>,
    },
}

/// What a run on many targets does with its targets inside an open window.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetPolicy {
    /// They are left out of the run (the default).
    #[default]
    Exclude,
    /// They stay in the run.
    Include,
}

impl TargetPolicy {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exclude => "exclude",
            Self::Include => "include",
        }
    }
}

/// `POST /api/v1/maintenance-windows` and `PUT …/{id}`: the whole window.
/// `PATCH` takes any of these fields and keeps the others.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowBody {
    /// Unique name, 1–100 characters.
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// Whether it applies (default true).
    #[serde(default)]
    pub enabled: Option<bool>,
    /// When it is open.
    pub timing: TimingBody,
    /// What it covers: everything (`global`), or jobs, target groups and
    /// targets by id. At least one.
    pub scope: WindowScope,
    /// What a schedule fire inside it does: `skip` (default) or `defer`
    /// to the window's end.
    #[serde(default)]
    pub fire_policy: Option<WindowFirePolicy>,
    /// What a run does with its targets inside it: `exclude` (default) or
    /// `include`.
    #[serde(default)]
    pub target_policy: Option<TargetPolicy>,
}

/// The fields of `PATCH /api/v1/maintenance-windows/{id}`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowPatch {
    /// Unique name.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Whether it applies.
    pub enabled: Option<bool>,
    /// When it is open (replaced whole).
    pub timing: Option<TimingBody>,
    /// What it covers (replaced whole).
    pub scope: Option<WindowScope>,
    /// `skip` or `defer`.
    pub fire_policy: Option<WindowFirePolicy>,
    /// `exclude` or `include`.
    pub target_policy: Option<TargetPolicy>,
}

/// One opening of a window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct OpeningView {
    /// It opens (UTC).
    pub opens_at: DateTime<Utc>,
    /// It closes (UTC).
    pub closes_at: DateTime<Utc>,
}

/// A window as the API shows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WindowView {
    /// Id.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Whether it applies.
    pub enabled: bool,
    /// When it is open.
    pub timing: TimingBody,
    /// What it covers.
    pub scope: WindowScope,
    /// What a schedule fire inside it does.
    pub fire_policy: WindowFirePolicy,
    /// What a run does with its targets inside it.
    pub target_policy: TargetPolicy,
    /// Increases with every change.
    pub revision: u64,
    /// The admin who created it; `null` once that user is gone.
    pub owner_id: Option<Uuid>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
    /// Whether it is open now (and enabled).
    pub open_now: bool,
    /// When open now: when it closes (openings that continue each other
    /// count as one, followed up to 8 days).
    pub closes_at: Option<DateTime<Utc>>,
    /// Its next three openings after now (none while disabled).
    pub next_openings: Vec<OpeningView>,
}

/// Filters and paging for `GET /api/v1/maintenance-windows`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowQuery {
    /// Only enabled (true) or disabled (false) windows.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Page size, 1 to 500 (default 50).
    #[serde(default)]
    pub limit: Option<u64>,
    /// Items skipped.
    #[serde(default)]
    pub offset: Option<u64>,
}

/// `GET /api/v1/maintenance-windows/calendar`: `[from, to)`, 31 days at most.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowCalendarQuery {
    /// Start of the range (RFC 3339), included.
    pub from: DateTime<Utc>,
    /// End of the range (RFC 3339), excluded.
    pub to: DateTime<Utc>,
}

/// One opening in the calendar.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WindowCalendarItem {
    /// The window.
    pub window_id: Uuid,
    /// Its name.
    pub window_name: String,
    /// It opens (UTC).
    pub opens_at: DateTime<Utc>,
    /// It closes (UTC).
    pub closes_at: DateTime<Utc>,
}

/// Every opening of every enabled window overlapping a range, by opening.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct WindowCalendarView {
    /// At most 10,000.
    pub items: Vec<WindowCalendarItem>,
    /// True when the range holds more than `items`.
    pub truncated: bool,
}
