//! Insights for the console's dashboard: runs per time bucket by status,
//! per-job success rates and duration percentiles, the slowest and most
//! failing jobs, runs slower than their job's baseline, and totals. Every
//! figure is an aggregate computed by PostgreSQL ([`queries`]); no run is
//! loaded into the api to be counted.
//!
//! Runs are counted by the time they were accepted (`created_at`), and a
//! duration is accept-to-finish, as `GET /api/v1/runs` shows it. Viewers
//! see every run there, so insights cover every run as well.

pub mod period;
pub mod queries;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::Serialize;
use uuid::Uuid;

pub use period::{Bucket, InsightsQuery, Period, PeriodError};

/// How many runs of each status were accepted in one bucket.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BucketCounts {
    /// The bucket's start (UTC, truncated to the hour or day).
    pub start: DateTime<Utc>,
    /// Runs in it, in all.
    pub total: i64,
    /// Runs by status (`succeeded`, `failed`, …); statuses without runs are absent.
    pub by_status: std::collections::BTreeMap<String, i64>,
}

/// One job's figures over the period.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobStats {
    /// The job.
    pub job_id: Uuid,
    /// Its name at its latest run in the period.
    pub job_name: String,
    /// Runs accepted in the period.
    pub runs: i64,
    /// Of them, succeeded.
    pub succeeded: i64,
    /// Of them, failed, timed out or lost with their worker.
    pub failed: i64,
    /// `succeeded / (succeeded + failed)`, 0 to 1; `null` when neither.
    pub success_rate: Option<f64>,
    /// Median accept-to-finish milliseconds of its finished runs.
    pub p50_ms: Option<f64>,
    /// 95th percentile of the same.
    pub p95_ms: Option<f64>,
}

/// A finished run that took longer than its job's baseline.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SlowRun {
    /// The run.
    pub run_id: Uuid,
    /// Its job.
    pub job_id: Uuid,
    /// The job's name when it ran.
    pub job_name: String,
    /// Its status.
    pub status: String,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Its accept-to-finish milliseconds.
    pub duration_ms: f64,
    /// The job's baseline: the 95th percentile of its finished runs in the
    /// 30 days before the period (with 20 or more of them), else twice
    /// their median (with 3 or more).
    pub baseline_ms: f64,
    /// `p95` or `2x_median`: how the baseline was found.
    pub baseline: String,
}

/// Counts over the whole period.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Totals {
    /// Runs accepted.
    pub runs: i64,
    /// Succeeded.
    pub succeeded: i64,
    /// Failed, timed out or lost with their worker.
    pub failed: i64,
    /// Cancelled.
    pub cancelled: i64,
    /// Not finished yet (waiting, queued or running).
    pub in_progress: i64,
    /// `succeeded / (succeeded + failed)`; `null` when neither.
    pub success_rate: Option<f64>,
    /// Median accept-to-finish milliseconds of the finished runs.
    pub p50_ms: Option<f64>,
    /// 95th percentile of the same.
    pub p95_ms: Option<f64>,
}

/// `GET /api/v1/insights`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Insights {
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    /// `hour` or `day`.
    pub bucket: Bucket,
    /// Only this job's runs, when asked for.
    pub job_id: Option<Uuid>,
    /// Runs per bucket by status, oldest first; buckets without runs are absent.
    pub series: Vec<BucketCounts>,
    /// Every job with runs in the period, by name.
    pub jobs: Vec<JobStats>,
    /// The 10 jobs with the highest p95 duration.
    pub slowest: Vec<JobStats>,
    /// The 10 jobs with the most failed runs (at least one).
    pub most_failing: Vec<JobStats>,
    /// Up to 50 runs slower than their job's baseline, the slowest
    /// relative to it first.
    pub slower_than_baseline: Vec<SlowRun>,
    /// Counts over the period.
    pub totals: Totals,
}
