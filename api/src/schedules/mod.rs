//! Schedules: cron expressions, read in a time zone, that start runs of a
//! job. PostgreSQL is their system of record; the scheduler role, which
//! has no database, reads them from the `<p>_schedules` KV bucket that
//! [`mirror`] keeps equal to the table, fires them, and reports every
//! occurrence as a schedule event that [`fires`] records.
//!
//! - [`crud`]: the rows, each write validated ([`validate`]: the cron
//!   engine, and a dry run of run admission so a schedule whose runs would
//!   be refused is refused when saved) and audited by the handlers;
//! - [`preview`]: the next occurrences and the calendar of a range;
//! - [`fires`], [`history`]: recording the scheduler's schedule events,
//!   and reading them back;
//! - [`control`]: the scheduler-wide pause and the scheduler's status;
//! - [`fence`]: what the intake checks on a schedule's run intent (the
//!   schedule exists and its leader was not deposed).
//!
//! Who may do what: every signed-in user reads every schedule (as every
//! role reads every job, see [`crate::jobs::access`]); creating, changing,
//! deleting, pausing and resuming a schedule need the right to run its job,
//! checked as `POST /api/v1/jobs/{id}/run` checks it, and changing one
//! needs being its owner or an admin. Secret parameter values are sealed
//! at rest ([`secrets`]), sealed for the api's intake in the KV document,
//! and never shown.
//!
//! Nothing here knows HTTP.

pub mod control;
pub mod crud;
pub mod fence;
pub mod fires;
pub mod history;
pub mod mirror;
pub mod model;
pub mod preview;
mod secrets;
mod validate;
mod view;

use opsc_proto::job_check::PathError;
use tokio_util::sync::CancellationToken;

pub use model::{
    CalendarItem, CalendarQuery, CalendarView, NextPreviewBody, NextQuery, NextView,
    OccurrenceView, ScheduleBody, SchedulePatch, ScheduleQuery, ScheduleView,
};

use crate::core::Core;
use crate::runs::AdmitError;

/// Why a schedule request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ScheduleError {
    /// No such schedule.
    #[error("no such schedule")]
    NotFound,
    /// Something in the request does not fit; every problem, located.
    #[error("the schedule is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<PathError>),
    /// Another schedule has the name.
    #[error("a schedule named {0:?} exists")]
    Taken(String),
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The schedule changed while this request was being handled.
    #[error("the schedule was changed meanwhile; read it again and retry")]
    Changed,
    /// The bus (a KV bucket) is away.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data cannot be used.
    #[error("{0}")]
    Broken(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl ScheduleError {
    /// An `Invalid` with one located problem.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![PathError::new(path, message)])
    }
}

impl From<AdmitError> for ScheduleError {
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::UnknownJob(what) => Self::invalid("/job_id", format!("no job {what}")),
            AdmitError::Inactive => Self::invalid(
                "/job_id",
                "the job is inactive: activate it before scheduling it",
            ),
            AdmitError::Invalid { errors, .. } => Self::Invalid(errors),
            AdmitError::Forbidden(why) => Self::Forbidden(why),
            AdmitError::Unavailable(why) => Self::Unavailable(why),
            AdmitError::Db(e) => Self::Db(e),
            e @ (AdmitError::UnknownVersion(_)
            | AdmitError::KeyReused
            | AdmitError::Limit(_)
            | AdmitError::ClearSecret(_)
            | AdmitError::SecretsRequired(_)
            | AdmitError::InWindow(_)
            | AdmitError::Broken(_)) => Self::Broken(e.to_string()),
        }
    }
}

/// Runs the mirror's reconcile loop and the recorder of schedule events
/// until shutdown.
pub async fn background(core: Core, metrics: fires::FireMetrics, shutdown: CancellationToken) {
    tokio::join!(
        mirror::run(core.clone(), shutdown.clone()),
        fires::record(core, metrics, shutdown),
    );
}
