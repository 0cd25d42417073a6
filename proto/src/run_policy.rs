//! Policies of runs that the scheduler and the api carry out together:
//! retries of failed runs and concurrency limits per job.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Why a run failed, as far as a retry policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FailureClass {
    /// The run or a step hit its timeout.
    TimedOut,
    /// A target could not be reached or refused the login (SSH, WinRM,
    /// SFTP or HTTP connection errors).
    ConnectionError,
    /// The worker died and the run could not be resumed safely.
    WorkerLost,
    /// A command exited with a non-zero code (see `exit_codes`).
    ExitCode,
    /// Anything else (a template error, a refused step, a cancel).
    Other,
}

/// "Smart retry": run a failed run again, later, for the failure classes
/// chosen. Delay of attempt `n` (n = 1 for the first retry):
/// `min(delay_secs * backoff^(n-1), max_delay_secs)`, plus up to
/// `jitter_pct` percent of it at random.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetryPolicy {
    /// Retries at most (1 to 20).
    #[schemars(range(min = 1, max = 20))]
    pub max_retries: u32,
    /// Seconds before the first retry (0 to 86400; default 30).
    #[serde(default = "default_delay")]
    #[schemars(range(max = 86_400))]
    pub delay_secs: u64,
    /// Each further retry waits this many times longer (1.0 to 10.0; default 2.0).
    #[serde(default = "default_backoff")]
    #[schemars(range(min = 1.0, max = 10.0))]
    pub backoff: f64,
    /// Random extra delay, in percent of the delay (0 to 100; default 10).
    #[serde(default = "default_jitter")]
    #[schemars(range(max = 100))]
    pub jitter_pct: u32,
    /// Longest delay, in seconds (default 3600).
    #[serde(default = "default_max_delay")]
    #[schemars(range(min = 1, max = 604_800))]
    pub max_delay_secs: u64,
    /// The failure classes retried (default: timed out, connection error,
    /// worker lost).
    #[serde(default = "default_classes")]
    pub on: Vec<FailureClass>,
    /// With `exit_code` in `on`: only these exit codes (empty: any non-zero).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exit_codes: Vec<i32>,
}

fn default_delay() -> u64 {
    30
}

fn default_backoff() -> f64 {
    2.0
}

fn default_jitter() -> u32 {
    10
}

fn default_max_delay() -> u64 {
    3600
}

fn default_classes() -> Vec<FailureClass> {
    vec![
        FailureClass::TimedOut,
        FailureClass::ConnectionError,
        FailureClass::WorkerLost,
    ]
}

impl RetryPolicy {
    /// Why the policy is out of range, if it is.
    pub fn check(&self) -> Result<(), String> {
        if !(1..=20).contains(&self.max_retries) {
            return Err("max_retries must be between 1 and 20".to_owned());
        }
        if self.delay_secs > 86_400 {
            return Err("delay_secs must be at most 86400".to_owned());
        }
        if !(1.0..=10.0).contains(&self.backoff) {
            return Err("backoff must be between 1.0 and 10.0".to_owned());
        }
        if self.jitter_pct > 100 {
            return Err("jitter_pct must be at most 100".to_owned());
        }
        if !(1..=604_800).contains(&self.max_delay_secs) {
            return Err("max_delay_secs must be between 1 and 604800".to_owned());
        }
        if self.on.is_empty() {
            return Err("on must name at least one failure class".to_owned());
        }
        Ok(())
    }

    /// Whether a run that failed this way, with these exit codes, is retried.
    pub fn covers(&self, class: FailureClass, exit_codes: &[i32]) -> bool {
        if !self.on.contains(&class) {
            return false;
        }
        class != FailureClass::ExitCode
            || self.exit_codes.is_empty()
            || exit_codes.iter().any(|c| self.exit_codes.contains(c))
    }

    /// The delay before retry number `n` (1-based) without jitter, in seconds.
    pub fn base_delay_secs(&self, n: u32) -> f64 {
        let exp = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
        (self.delay_secs as f64 * self.backoff.powi(exp)).min(self.max_delay_secs as f64)
    }
}

/// What a new run of a job does when the job already has `max` runs going.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConcurrencyPolicy {
    /// The new run is not started; it is recorded as `skipped` with the reason.
    Skip,
    /// The new run waits (status `waiting`) and starts, in order, when a
    /// slot frees (the default).
    #[default]
    Queue,
    /// The oldest running run is cancelled and the new one starts.
    CancelPrevious,
}

/// A job's limit on runs going at once, applied to every trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConcurrencyLimit {
    /// Runs queued or running at once at most (1 to 1000).
    #[schemars(range(min = 1, max = 1000))]
    pub max: u32,
    /// What happens beyond it.
    #[serde(default)]
    pub policy: ConcurrencyPolicy,
}
