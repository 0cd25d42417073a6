//! Notices: the facts a notification can be about, on
//! `<p>.evt.notice.<id>.<kind>`. The api publishes each one after the fact
//! is recorded in PostgreSQL, with everything the notifier needs to decide
//! and render (it has no database): a run's final status with its job,
//! its place in the job's history and its duration baseline; a schedule's
//! skip or misfire; a failed connection test; a dead letter.
//!
//! The envelope id is the notice id (`run:<run_id>:finished` …), so a
//! repeated publish is dropped by the stream and a redelivery is known.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::commands::Trigger;
use crate::envelope::Routed;
use crate::events::RunStatus;
use crate::{EventType, Subjects};

/// What a notice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A run started (its first shard began).
    RunStarted,
    /// A run reached its final, recorded state.
    RunFinished,
    /// A schedule's occurrence was skipped (a window, a daylight-saving gap, a concurrency limit).
    ScheduleSkipped,
    /// A schedule's occurrence was missed and dropped.
    ScheduleMisfired,
    /// A target's connection test failed.
    TargetTestFailed,
    /// A consumer gave up on a message.
    DeadLetter,
}

impl NoticeKind {
    /// The subject token (`run_finished` …).
    pub fn token(self) -> &'static str {
        match self {
            Self::RunStarted => "run_started",
            Self::RunFinished => "run_finished",
            Self::ScheduleSkipped => "schedule_skipped",
            Self::ScheduleMisfired => "schedule_misfired",
            Self::TargetTestFailed => "target_test_failed",
            Self::DeadLetter => "dead_letter",
        }
    }
}

/// What a rule can listen for. One notice may carry several (a failed run
/// that ends a success streak is `run_failed` and `status_changed`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum NotifyTrigger {
    /// A run started.
    RunStarted,
    /// A run succeeded.
    RunSucceeded,
    /// A run failed and will not be retried (its last attempt).
    RunFailed,
    /// A run was cancelled.
    RunCancelled,
    /// A run timed out and will not be retried.
    RunTimedOut,
    /// A run lost its worker and will not be retried.
    RunWorkerLost,
    /// A run failed, timed out or lost its worker, and a retry follows.
    RunRetrying,
    /// The run's status differs from the job's previous run's.
    StatusChanged,
    /// A run took longer than its job's baseline by the rule's margin.
    RunSlow,
    /// The job failed at least twice in a row (see the rule's `after_failures`).
    FailureStreak,
    /// The job succeeded after one or more failures.
    Recovered,
    /// A schedule's occurrence was skipped.
    ScheduleSkipped,
    /// A schedule's occurrence was missed.
    ScheduleMisfired,
    /// A target's connection test failed.
    TargetTestFailed,
    /// A consumer dead-lettered a message.
    DeadLetter,
}

/// Whether a trigger is good news, bad news or neither (for the
/// `failures_only` and `successes_only` preference levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polarity {
    /// Bad news.
    Failure,
    /// Good news.
    Success,
    /// Neither.
    Neutral,
}

impl NotifyTrigger {
    /// Every trigger, in documentation order.
    pub const ALL: [Self; 15] = [
        Self::RunStarted,
        Self::RunSucceeded,
        Self::RunFailed,
        Self::RunCancelled,
        Self::RunTimedOut,
        Self::RunWorkerLost,
        Self::RunRetrying,
        Self::StatusChanged,
        Self::RunSlow,
        Self::FailureStreak,
        Self::Recovered,
        Self::ScheduleSkipped,
        Self::ScheduleMisfired,
        Self::TargetTestFailed,
        Self::DeadLetter,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RunStarted => "run_started",
            Self::RunSucceeded => "run_succeeded",
            Self::RunFailed => "run_failed",
            Self::RunCancelled => "run_cancelled",
            Self::RunTimedOut => "run_timed_out",
            Self::RunWorkerLost => "run_worker_lost",
            Self::RunRetrying => "run_retrying",
            Self::StatusChanged => "status_changed",
            Self::RunSlow => "run_slow",
            Self::FailureStreak => "failure_streak",
            Self::Recovered => "recovered",
            Self::ScheduleSkipped => "schedule_skipped",
            Self::ScheduleMisfired => "schedule_misfired",
            Self::TargetTestFailed => "target_test_failed",
            Self::DeadLetter => "dead_letter",
        }
    }

    /// Good news, bad news or neither.
    pub fn polarity(self) -> Polarity {
        match self {
            Self::RunFailed
            | Self::RunTimedOut
            | Self::RunWorkerLost
            | Self::RunSlow
            | Self::FailureStreak
            | Self::ScheduleMisfired
            | Self::TargetTestFailed
            | Self::DeadLetter => Polarity::Failure,
            Self::RunSucceeded | Self::Recovered => Polarity::Success,
            Self::RunStarted
            | Self::RunCancelled
            | Self::RunRetrying
            | Self::StatusChanged
            | Self::ScheduleSkipped => Polarity::Neutral,
        }
    }
}

/// `<p>.evt.notice.<id>.<kind>`: one fact, with its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Notice {
    /// Stable id of the fact: `run:<run_id>:started|finished`,
    /// `schedule:<id>:<fire_at>:skipped|misfired`, `target:<id>:<test id>`,
    /// `dlq:<stream sequence>`. Also the envelope id.
    pub notice_id: String,
    /// What it is about.
    pub kind: NoticeKind,
    /// When the fact happened.
    pub at: DateTime<Utc>,
    /// The console's address (`http.public_url`), for links; absent when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub console_url: Option<String>,
    /// The run, for run notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunDigest>,
    /// The schedule, for schedule notices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleNotice>,
    /// The target, for a failed connection test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<TargetNotice>,
    /// The dead letter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter: Option<DeadLetterNotice>,
}

/// The job of a run or schedule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct JobRef {
    /// The job.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Its owner.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner_id: Option<Uuid>,
    /// Whether the job is marked critical (its failures bypass quiet hours).
    #[serde(default)]
    pub critical: bool,
}

/// How long a job's successful runs usually take.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Baseline {
    /// The 95th percentile of the durations of the job's last successful runs, in ms.
    pub p95_ms: u64,
    /// The median, in ms.
    pub p50_ms: u64,
    /// How many runs it was computed from (at most 20, at least 5).
    pub samples: u32,
}

/// A target of a run and how it fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetDigest {
    /// The target.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// `succeeded`, `failed`, `skipped` … (the worst of its steps); absent when no step ran on it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A failed step of a run, with the end of its output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FailedStepDigest {
    /// The step id.
    pub step_id: String,
    /// The target it failed on, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// `failed` or `timed_out`.
    pub status: String,
    /// The exit code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The error, redacted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The last lines of its output (at most 20, as stored: redacted).
    #[serde(default)]
    pub last_lines: Vec<String>,
}

/// A run, as recorded when the notice was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunDigest {
    /// The run.
    pub run_id: Uuid,
    /// Its job.
    pub job: JobRef,
    /// The job version it ran.
    pub job_version: u32,
    /// Its status (`running` for a started notice).
    pub status: RunStatus,
    /// Why it ended so, when not succeeded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Who or what started it.
    pub trigger: Trigger,
    /// The user who started it (manual, API and re-run triggers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_by: Option<Uuid>,
    /// 1 for a first run, n + 1 for its n-th retry.
    pub attempt: u32,
    /// The first run of its retry chain.
    pub retry_root: Uuid,
    /// Whether a retry follows this failure (its retry policy applies and has attempts left).
    #[serde(default)]
    pub will_retry: bool,
    /// Accept-to-finish wall time (finished notices).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The job's baseline before this run (absent with fewer than 5 successful runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<Baseline>,
    /// The final status of the job's previous finished run (retries of a
    /// chain count as one: its last attempt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_status: Option<RunStatus>,
    /// Consecutive final failures of the job ending with this run (0 when this run did not fail).
    #[serde(default)]
    pub failure_streak: u32,
    /// The targets, with their outcome.
    #[serde(default)]
    pub targets: Vec<TargetDigest>,
    /// The groups of those targets, by id.
    #[serde(default)]
    pub group_ids: Vec<Uuid>,
    /// Failed steps, with exit codes and the end of their output.
    #[serde(default)]
    pub failed_steps: Vec<FailedStepDigest>,
    /// The schedule that started it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<ScheduleLink>,
}

/// A schedule, by id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleLink {
    /// The schedule.
    pub id: Uuid,
    /// Its name.
    pub name: String,
}

/// A schedule's skipped or missed occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ScheduleNotice {
    /// The schedule.
    pub schedule_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its job.
    pub job: JobRef,
    /// The occurrence.
    pub fire_at: DateTime<Utc>,
    /// Why it did not fire, for people.
    pub reason: String,
    /// The maintenance window that skipped it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_id: Option<Uuid>,
}

/// A failed connection test.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TargetNotice {
    /// The target.
    pub target_id: Uuid,
    /// Its name.
    pub name: String,
    /// Its groups.
    #[serde(default)]
    pub group_ids: Vec<Uuid>,
    /// What failed, redacted.
    pub error: String,
    /// Who ran the test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tested_by: Option<Uuid>,
}

/// A dead letter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DeadLetterNotice {
    /// The consumer that gave up.
    pub origin: String,
    /// The subject the message came on.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// Deliveries tried.
    pub deliveries: u64,
}

impl EventType for Notice {
    const TYPE: &'static str = "io.opsconductor.notice.v1";
    const SCHEMA: &'static str = "events/notice.v1.json";
}

impl Routed for Notice {
    fn subject(&self, subjects: &Subjects) -> String {
        let id = self
            .run
            .as_ref()
            .map(|r| r.run_id.to_string())
            .or_else(|| self.schedule.as_ref().map(|s| s.schedule_id.to_string()))
            .or_else(|| self.target.as_ref().map(|t| t.target_id.to_string()))
            .unwrap_or_else(|| "system".to_owned());
        subjects.area_event("notice", &id, self.kind.token())
    }
}

/// A slower-than-usual margin when a rule names none: 50 % above the p95.
pub const DEFAULT_SLOW_MARGIN_PCT: u32 = 50;

impl RunDigest {
    /// Whether the run took longer than its baseline's p95 by `margin_pct`.
    pub fn is_slow(&self, margin_pct: u32) -> bool {
        match (self.duration_ms, self.baseline) {
            (Some(d), Some(b)) => {
                u128::from(d) * 100 > u128::from(b.p95_ms) * (100 + u128::from(margin_pct))
            }
            _ => false,
        }
    }
}

impl Notice {
    /// The triggers this notice carries; `slow_margin_pct` decides `run_slow`.
    pub fn triggers(&self, slow_margin_pct: u32) -> Vec<NotifyTrigger> {
        use NotifyTrigger as T;
        match self.kind {
            NoticeKind::RunStarted => vec![T::RunStarted],
            NoticeKind::ScheduleSkipped => vec![T::ScheduleSkipped],
            NoticeKind::ScheduleMisfired => vec![T::ScheduleMisfired],
            NoticeKind::TargetTestFailed => vec![T::TargetTestFailed],
            NoticeKind::DeadLetter => vec![T::DeadLetter],
            NoticeKind::RunFinished => {
                let Some(run) = &self.run else {
                    return Vec::new();
                };
                let failed = matches!(
                    run.status,
                    RunStatus::Failed | RunStatus::TimedOut | RunStatus::WorkerLost
                );
                let mut out = Vec::new();
                if failed && run.will_retry {
                    out.push(T::RunRetrying);
                    return out;
                }
                match run.status {
                    RunStatus::Succeeded => out.push(T::RunSucceeded),
                    RunStatus::Failed => out.push(T::RunFailed),
                    RunStatus::Cancelled => out.push(T::RunCancelled),
                    RunStatus::TimedOut => out.push(T::RunTimedOut),
                    RunStatus::WorkerLost => out.push(T::RunWorkerLost),
                    RunStatus::Waiting
                    | RunStatus::Queued
                    | RunStatus::Running
                    | RunStatus::Skipped => {}
                }
                if run.previous_status.is_some_and(|p| p != run.status) {
                    out.push(T::StatusChanged);
                }
                if failed && run.failure_streak >= 2 {
                    out.push(T::FailureStreak);
                }
                if run.status == RunStatus::Succeeded
                    && run.previous_status.is_some_and(|p| {
                        matches!(
                            p,
                            RunStatus::Failed | RunStatus::TimedOut | RunStatus::WorkerLost
                        )
                    })
                {
                    out.push(T::Recovered);
                }
                if run.is_slow(slow_margin_pct) {
                    out.push(T::RunSlow);
                }
                out
            }
        }
    }

    /// The job this notice is about, when it is about one.
    pub fn job(&self) -> Option<&JobRef> {
        self.run
            .as_ref()
            .map(|r| &r.job)
            .or_else(|| self.schedule.as_ref().map(|s| &s.job))
    }
}
