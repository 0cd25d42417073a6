//! The per-schedule policies: daylight-saving transitions and misfires.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What a fire time in a spring-forward gap (a wall time that does not
/// exist that day) does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GapPolicy {
    /// Fire once, at the first valid instant after the gap (the default).
    #[default]
    Shift,
    /// Do not fire that day; the skip is recorded.
    Skip,
}

/// What a fire time in a repeated fall-back hour (a wall time that occurs
/// twice that day) does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OverlapPolicy {
    /// Fire once, at the first occurrence (the default).
    #[default]
    First,
    /// Fire once, at the second occurrence.
    Second,
    /// Fire at both occurrences.
    Both,
}

/// How a schedule meets daylight-saving transitions. Interval expressions
/// (an hour field of `*` or `*/N`) keep their real-time spacing whatever
/// the policy: they fire at both occurrences of a repeated hour and do not
/// fire twice at the end of a gap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DstPolicy {
    /// Spring-forward gap.
    #[serde(default)]
    pub gap: GapPolicy,
    /// Fall-back overlap.
    #[serde(default)]
    pub overlap: OverlapPolicy,
}

/// What to do with fires that were missed: no scheduler ran, the schedule
/// or the scheduler was paused or disabled, the bus was away, or the clock
/// jumped forward.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MisfireMode {
    /// Drop every missed fire (each is recorded as a misfire).
    Skip,
    /// One catch-up run for the most recent missed fire; the others are
    /// dropped (the default).
    #[default]
    RunOnce,
    /// A catch-up run for every missed fire, oldest first, at most
    /// `max_count`, `stagger_ms` apart.
    RunAll,
}

/// The misfire policy of a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MisfirePolicy {
    /// What to do.
    #[serde(default)]
    pub mode: MisfireMode,
    /// A missed fire older than this many seconds is dropped, whatever the
    /// mode (1 to 604800; default 3600).
    #[serde(default = "default_max_age")]
    #[schemars(range(min = 1, max = 604_800))]
    pub max_age_secs: u64,
    /// `run_all`: catch-up runs at most (1 to 1000; default 10); the
    /// oldest beyond it are dropped.
    #[serde(default = "default_max_count")]
    #[schemars(range(min = 1, max = 1000))]
    pub max_count: u32,
    /// `run_all`: milliseconds between catch-up runs (0 to 600000; default 1000).
    #[serde(default = "default_stagger")]
    #[schemars(range(max = 600_000))]
    pub stagger_ms: u64,
}

fn default_max_age() -> u64 {
    3600
}

fn default_max_count() -> u32 {
    10
}

fn default_stagger() -> u64 {
    1000
}

impl Default for MisfirePolicy {
    fn default() -> Self {
        Self {
            mode: MisfireMode::default(),
            max_age_secs: default_max_age(),
            max_count: default_max_count(),
            stagger_ms: default_stagger(),
        }
    }
}

impl MisfirePolicy {
    /// Why the policy is out of range, if it is.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=604_800).contains(&self.max_age_secs) {
            return Err("max_age_secs must be between 1 and 604800".to_owned());
        }
        if !(1..=1000).contains(&self.max_count) {
            return Err("max_count must be between 1 and 1000".to_owned());
        }
        if self.stagger_ms > 600_000 {
            return Err("stagger_ms must be at most 600000".to_owned());
        }
        Ok(())
    }
}
