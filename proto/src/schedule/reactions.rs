//! The KV documents of maintenance windows (`<p>_windows`, key
//! `window.<id>`) and of dependencies between jobs (`<p>_schedules`, key
//! `dependency.<id>`), mirrored by the api for the scheduler.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// When a window is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum WindowTiming {
    /// One range of time.
    Once {
        /// It opens here (inclusive).
        start: DateTime<Utc>,
        /// It closes here (exclusive).
        end: DateTime<Utc>,
    },
    /// Every week, on the given days, from a wall time for a duration, in
    /// a time zone (a window that runs past midnight belongs to the day it
    /// opens).
    Weekly {
        /// ISO weekdays it opens on: 1 = Monday … 7 = Sunday.
        days: Vec<u8>,
        /// The wall time it opens.
        #[schemars(with = "String")]
        start_time: NaiveTime,
        /// How long it stays open, in minutes (1 to 10080).
        duration_mins: u32,
        /// IANA time zone of `start_time`.
        time_zone: String,
    },
}

/// What a window covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowScope {
    /// Everything.
    #[serde(default)]
    pub global: bool,
    /// Jobs.
    #[serde(default)]
    pub jobs: Vec<Uuid>,
    /// Target groups.
    #[serde(default)]
    pub groups: Vec<Uuid>,
    /// Targets.
    #[serde(default)]
    pub targets: Vec<Uuid>,
}

/// What a schedule fire inside the window does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WindowFirePolicy {
    /// The fire is skipped, recorded with the reason `window` (the default).
    #[default]
    Skip,
    /// The fire happens when the window closes.
    Defer,
}

/// A maintenance window, as the api mirrors it into `<p>_windows`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct WindowDoc {
    /// The window.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Increases with every change.
    pub revision: u64,
    /// Whether it applies at all.
    pub enabled: bool,
    /// When it is open.
    pub timing: WindowTiming,
    /// What it covers.
    pub scope: WindowScope,
    /// What a schedule fire inside it does.
    #[serde(default)]
    pub fire_policy: WindowFirePolicy,
}

/// What an upstream run's end must be for a dependency to start its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DependencyOn {
    /// It succeeded.
    Success,
    /// It failed, timed out or lost its worker (not: cancelled, skipped).
    Failure,
    /// It ended in any way but skipped.
    Any,
}

/// "Run job B when job A ends", as the api mirrors it into
/// `<p>_schedules` under `dependency.<id>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DependencyDoc {
    /// The dependency.
    pub id: Uuid,
    /// Increases with every change.
    pub revision: u64,
    /// Whether it reacts.
    pub enabled: bool,
    /// Job A.
    pub upstream_job_id: Uuid,
    /// Job B.
    pub downstream_job_id: Uuid,
    /// Which ends of A start B.
    pub on: DependencyOn,
    /// Only when the scheduler handles A's end within this many seconds
    /// of it (a late reaction, after an outage, is recorded and dropped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_secs: Option<u64>,
    /// B's parameters from A's run: B's parameter → `params.<name>`,
    /// `steps.<step>.json.<path>`, `steps.<step>.stdout` or
    /// `steps.<step>.exit_code` (resolved by the api at admission).
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
}
