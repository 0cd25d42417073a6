//! Run lineage: how runs that other runs caused are admitted and shown.
//!
//! - [`retry`]: an intent with `retry_of` (trigger kind `retry`) runs the
//!   failed run again — its job version, parameters (secret ones from its
//!   vault) and target override — as the next attempt of its chain.
//! - [`inputs`]: an intent with `parameters_from` (trigger kind
//!   `dependency`) takes parameter values from the upstream run, resolved
//!   here so no value crosses the bus.
//! - [`finished`]: the context `run.finished` carries for the scheduler.
//! - [`chain`]: the retry chain of a run, for the API.
//!
//! Both admissions refuse (the intake dead-letters the intent with the
//! reason) whatever does not fit, before anything is written.

pub mod chain;
pub mod finished;
mod inputs;
mod link;
mod retry;
mod sources;

use opsc_proto::commands::{RunIntent, TriggerKind};
use uuid::Uuid;

use super::admit::{Admission, AdmitError};
use crate::core::Core;

pub use finished::describe;

/// A run's place in a retry chain, written with the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryLink {
    /// 2 for the first retry, n + 1 for the n-th.
    pub attempt: u32,
    /// The failed run it retries.
    pub retry_of: Uuid,
    /// The first run of the chain.
    pub retry_root: Uuid,
}

/// Why an intent's lineage was not resolved.
#[derive(Debug, thiserror::Error)]
pub enum LineageError {
    /// It cannot be admitted: the reason, for the dead letter.
    #[error("{0}")]
    Refused(String),
    /// The database was away; trying again may succeed.
    #[error("{0}")]
    Transient(String),
}

impl From<AdmitError> for LineageError {
    fn from(e: AdmitError) -> Self {
        if e.is_transient() {
            Self::Transient(e.to_string())
        } else {
            Self::Refused(e.to_string())
        }
    }
}

impl From<sea_orm::DbErr> for LineageError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Transient(e.to_string())
    }
}

/// A refusal.
fn refuse<T>(reason: impl Into<String>) -> Result<T, LineageError> {
    Err(LineageError::Refused(reason.into()))
}

/// Completes the admission of a bus intent that names a run it follows
/// (`retry_of`, `parameters_from`); nothing to do for the others.
pub async fn resolve(
    core: &Core,
    intent: &RunIntent,
    a: &mut Admission,
) -> Result<(), LineageError> {
    match (intent.retry_of, &intent.parameters_from) {
        (None, None) => match intent.trigger.kind {
            TriggerKind::Dependency => link::check(core, intent, a).await,
            TriggerKind::Retry => refuse("a retry intent names the run it retries in retry_of"),
            _ => Ok(()),
        },
        (Some(_), Some(_)) => refuse("retry_of and parameters_from exclude each other"),
        (Some(of), None) => retry::admission(core, intent, a, of).await,
        (None, Some(from)) => inputs::admission(core, intent, a, from).await,
    }
}

/// Whether a run in `status` has ended.
fn is_terminal(status: &str) -> bool {
    !matches!(status, "queued" | "running" | "waiting")
}
