//! Dependencies between jobs: "run job B (downstream) when job A
//! (upstream) ends with success, failure or either", optionally only
//! within a time after A ended, B's parameters taken from A's run by a
//! mapping (`params.<name>`, `steps.<step>.json.<path>`,
//! `steps.<step>.stdout`, `steps.<step>.exit_code`). PostgreSQL is their
//! system of record; the scheduler, which has no database, reads them from
//! `<p>_schedules` (`dependency.<id>`), which [`mirror`] keeps equal to the
//! table, and publishes B's run intents with `parameters_from` naming A's
//! run.
//!
//! - [`crud`]: the rows; every write is checked ([`validate`]: the jobs,
//!   the mapping against both jobs' current definitions, a dry run of B's
//!   admission with the caller as the one who runs it) and, in the same
//!   transaction under a lock of the table, refused when it would close a
//!   cycle ([`graph`]). A refused request changes nothing.
//!
//! Who may do what: every signed-in user reads every dependency (as every
//! role reads every job); creating, changing and deleting one needs the
//! right to run job B, checked as `POST /api/v1/jobs/{id}/run` checks it,
//! and changing or deleting one needs being its owner or an admin.
//! Mapping a secret parameter of A needs the right to edit A, who could
//! make A reveal it anyway: otherwise the owner of B could read A's
//! secrets through B.
//!
//! Nothing here knows HTTP.

pub mod crud;
mod graph;
pub mod mirror;
pub mod model;
mod source;
mod validate;
mod view;

use opsc_proto::job_check::PathError;

pub use model::{
    DependencyBody, DependencyPatch, DependencyQuery, DependencyView, JobDependenciesView,
};

use crate::runs::AdmitError;

/// Why a dependency request was refused.
#[derive(Debug, thiserror::Error)]
pub enum DependencyError {
    /// No such dependency (or, for a job's dependencies, no such job).
    #[error("no such {0}")]
    NotFound(&'static str),
    /// Something in the request does not fit; every problem, located.
    #[error("the dependency is invalid: {}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<PathError>),
    /// The two jobs have a dependency already.
    #[error("job {downstream:?} already depends on job {upstream:?}")]
    Taken {
        /// Job A's name.
        upstream: String,
        /// Job B's name.
        downstream: String,
    },
    /// The caller may not do this.
    #[error("{0}")]
    Forbidden(String),
    /// The dependency changed while this request was being handled.
    #[error("the dependency was changed meanwhile; read it again and retry")]
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

impl DependencyError {
    /// An `Invalid` with one located problem.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![PathError::new(path, message)])
    }
}

impl From<AdmitError> for DependencyError {
    /// A refusal of the dry run of job B's admission.
    fn from(e: AdmitError) -> Self {
        match e {
            AdmitError::UnknownJob(what) => {
                Self::invalid("/downstream_job_id", format!("no job {what}"))
            }
            AdmitError::Inactive => Self::invalid(
                "/downstream_job_id",
                "the job is inactive: activate it before making it depend on another",
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
