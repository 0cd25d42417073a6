//! Maintenance windows: when runs and schedule fires keep off jobs and
//! targets. PostgreSQL is their record; the scheduler, which has no
//! database, reads them from the `<p>_windows` KV bucket that [`mirror`]
//! keeps equal to the table, and skips or defers the fires inside them.
//! Run admission applies them too (`crate::runs::windows`): a manual run
//! inside a window needs an override, and targets inside one are left out.
//!
//! - [`crud`]: the rows, each write checked ([`validate`]: the timing by
//!   the calendar crate, the scope's ids against the inventory and jobs);
//! - [`view`]: how a row is shown (open now, its next openings) and the
//!   calendar of a range;
//! - [`mirror`]: the KV documents and their reconcile;
//! - [`addresses`]: the targets and groups a schedule's runs address,
//!   for the schedules' KV documents.
//!
//! Who may: admins create, change and delete windows (they constrain every
//! user); every signed-in user reads them. Nothing here knows HTTP.

pub mod addresses;
pub mod crud;
pub mod mirror;
pub mod model;
mod validate;
pub mod view;

use opsc_proto::job_check::PathError;
use tokio_util::sync::CancellationToken;

pub use model::{
    OpeningView, TargetPolicy, TimingBody, WindowBody, WindowCalendarItem, WindowCalendarQuery,
    WindowCalendarView, WindowPatch, WindowQuery, WindowView,
};

use crate::core::Core;

/// Why a maintenance-window request was refused.
#[derive(Debug, thiserror::Error)]
pub enum WindowError {
    /// No such window.
    #[error("no such maintenance window")]
    NotFound,
    /// Something in the request does not fit; every problem, located.
    #[error("the maintenance window is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<PathError>),
    /// Another window has the name.
    #[error("a maintenance window named {0:?} exists")]
    Taken(String),
    /// The window changed while this request was being handled.
    #[error("the maintenance window was changed meanwhile; read it again and retry")]
    Changed,
    /// The bus (the KV bucket) is away.
    #[error("{0}")]
    Unavailable(String),
    /// Stored data cannot be used.
    #[error("{0}")]
    Broken(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

impl WindowError {
    /// An `Invalid` with one located problem.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![PathError::new(path, message)])
    }
}

/// Runs the mirror's reconcile loop until shutdown.
pub async fn background(core: Core, shutdown: CancellationToken) {
    mirror::run(core, shutdown).await;
}
