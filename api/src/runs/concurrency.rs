//! Concurrency limits per job (`concurrency: {max, policy}` in the job's
//! current version), applied at admission to every trigger.
//!
//! A slot is a run of the job in `queued` or `running`, counted from the
//! run rows under a lock on the job's row, in the transaction that writes
//! the new run: two admissions at once never both take the last slot, and
//! nothing is counted that could leak. A run whose worker died holds its
//! slot until the worker-loss path or the reaper ends it.
//!
//! Beyond the limit the policy decides:
//! - `skip`: a run from the bus is recorded `skipped` (and `run.finished`
//!   published); a request to the API is refused with 409 and records nothing;
//! - `queue`: the run is recorded `waiting`, not dispatched, and released in
//!   order when a slot frees ([`release`]);
//! - `cancel_previous`: the oldest runs beyond the newest `max` are
//!   cancelled, and the new run waits (as under `queue`) until their slots
//!   are free, so the limit holds even while they stop.

pub mod release;
mod rows;

use std::sync::Arc;

use opsc_proto::events::{RunFinished, RunStatus};
use opsc_proto::job::JobDefinition;
use opsc_proto::run_policy::{ConcurrencyLimit, ConcurrencyPolicy};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionTrait};
use serde_json::Value;
use uuid::Uuid;

use super::admit::{Admission, AdmitError};
use super::wire_name;
use crate::core::Core;
use crate::metrics::labels;
use crate::store::{job, job_version};

pub use rows::occupancy;
use rows::{lock_job, open_runs, write_row};

/// The reason a cancelled previous run carries.
pub const CANCELLED_BY_NEWER: &str = "a newer run (concurrency limit, cancel_previous)";

/// What writing a run row did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placed {
    /// A run of the same intent existed; nothing was written.
    Existed,
    /// The run is `queued`: publish its messages now.
    Queued,
    /// The limit holds it (`waiting`) or skipped it (`skipped`); its
    /// messages are published when it is released, or never.
    Held,
}

impl From<bool> for Placed {
    fn from(inserted: bool) -> Self {
        if inserted {
            Self::Queued
        } else {
            Self::Existed
        }
    }
}

/// The limit of a job: its current version's, whatever version a run asks
/// for (an old version without one must not bypass it).
pub async fn limit_of(core: &Core, j: &job::Model) -> Result<Option<ConcurrencyLimit>, AdmitError> {
    Ok(current_definition(core, j).await?.concurrency)
}

async fn current_definition(core: &Core, j: &job::Model) -> Result<Arc<JobDefinition>, AdmitError> {
    if let Some(def) = core.definitions.get(j.id, j.current_version) {
        return Ok(def);
    }
    let row = job_version::Entity::find_by_id((j.id, j.current_version))
        .one(core.db())
        .await?
        .ok_or_else(|| AdmitError::Broken("the job's current version is missing".to_owned()))?;
    let def: JobDefinition = serde_json::from_value(row.definition)
        .map_err(|e| AdmitError::Broken(format!("the stored definition is unreadable: {e}")))?;
    let def = Arc::new(def);
    core.definitions.put(j.id, j.current_version, def.clone());
    Ok(def)
}

/// A run of the job not ended yet, oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Open {
    id: Uuid,
    waiting: bool,
}

/// What the limit makes of a new run.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decision {
    status: RunStatus,
    /// Runs to cancel (`cancel_previous`), oldest first.
    victims: Vec<Open>,
}

fn decide(limit: ConcurrencyLimit, open: &[Open]) -> Decision {
    let max = usize::try_from(limit.max).unwrap_or(usize::MAX);
    let going = open.iter().filter(|o| !o.waiting).count();
    let anyone_waiting = open.iter().any(|o| o.waiting);
    let status = if going < max && !anyone_waiting {
        RunStatus::Queued
    } else if limit.policy == ConcurrencyPolicy::Skip && going >= max {
        RunStatus::Skipped
    } else {
        RunStatus::Waiting
    };
    let victims = if limit.policy == ConcurrencyPolicy::CancelPrevious {
        // Keep the newest max - 1 besides the new run.
        let keep = max.saturating_sub(1);
        open[..open.len().saturating_sub(keep)].to_vec()
    } else {
        Vec::new()
    };
    let status = if victims.iter().any(|v| !v.waiting) {
        RunStatus::Waiting
    } else {
        status
    };
    Decision { status, victims }
}

/// The reason of a run skipped with `going` runs going.
fn skip_reason(going: usize, limit: ConcurrencyLimit) -> String {
    format!("concurrency limit: {going} of {} runs going", limit.max)
}

/// The run a row is for: its job and its id.
pub(super) type RunOf<'a> = (&'a job::Model, Uuid);

/// Writes a run row (column name → value, as the group insert takes it):
/// through the group insert when the job has no limit, else [`insert`].
pub(super) async fn write(
    core: &Core,
    (job, run_id): RunOf<'_>,
    a: &Admission,
    row: Value,
) -> Result<Placed, AdmitError> {
    let Some(limit) = limit_of(core, job).await? else {
        return Ok(core
            .runs_writer
            .insert(row, run_id.to_string())
            .await?
            .into());
    };
    let i = Insert {
        limit,
        job,
        run_id,
        a,
        row,
    };
    insert(core, i).await
}

/// What [`insert`] needs.
struct Insert<'a> {
    limit: ConcurrencyLimit,
    job: &'a job::Model,
    run_id: Uuid,
    a: &'a Admission,
    row: Value,
}

/// Writes the run row of a job that has a limit, with the status the
/// limit gives it, under the job's lock; then carries out the policy.
async fn insert(core: &Core, mut i: Insert<'_>) -> Result<Placed, AdmitError> {
    let txn = core.db().begin().await?;
    lock_job(&txn, i.job.id).await?;
    let open = open_runs(&txn, i.job.id).await?;
    let d = decide(i.limit, &open);
    let going = open.iter().filter(|o| !o.waiting).count();
    let from_api = i.a.caller.is_some() || !i.a.trigger.kind.allowed_on_bus();
    let mut reason = None;
    if d.status == RunStatus::Skipped {
        if from_api {
            return Err(AdmitError::Limit(format!(
                "the job allows {} run(s) at once and {going} are going (concurrency policy skip): \
                 nothing was started",
                i.limit.max
            )));
        }
        reason = Some(skip_reason(going, i.limit));
    }
    if !write_row(
        &txn,
        std::mem::take(&mut i.row),
        d.status,
        reason.as_deref(),
    )
    .await?
    {
        txn.commit().await?;
        return Ok(Placed::Existed);
    }
    txn.commit().await?;
    match d.status {
        RunStatus::Queued => return Ok(Placed::Queued),
        RunStatus::Skipped => skipped(core, &i, reason).await,
        _ => {
            tracing::info!(run_id = %i.run_id, job_id = %i.job.id, going, "Run waits for a concurrency slot.");
            cancel_victims(core, &d.victims).await;
            release::job(core, i.job.id).await;
        }
    }
    Ok(Placed::Held)
}

/// Announces a skipped run's end, so the scheduler and notifier see it.
async fn skipped(core: &Core, i: &Insert<'_>, reason: Option<String>) {
    tracing::info!(run_id = %i.run_id, job_id = %i.job.id, "Run skipped by the job's concurrency limit.");
    core.metrics
        .runs_finished
        .get_or_create(&labels(&[
            ("trigger", &wire_name(i.a.trigger.kind)),
            ("status", "skipped"),
        ]))
        .inc();
    announce(
        core,
        RunFinished::new(i.run_id, RunStatus::Skipped, reason, 0),
    )
    .await;
}

/// Publishes `run.finished` of a run the limit ended (skipped, or
/// cancelled while waiting), with the context the scheduler reads.
async fn announce(core: &Core, m: RunFinished) {
    let run_id = m.run_id;
    let mut batch = [m];
    if let Err(e) = super::lineage::describe(core.db(), &mut batch).await {
        tracing::warn!(error = %e, %run_id, "The context of run.finished not read; published without it.");
    }
    let [m] = batch;
    if let Err(e) = super::lifecycle::publish(core, &m).await {
        tracing::warn!(%run_id, error = %e, "run.finished not published (the row is final).");
    }
}

/// Cancels the runs a newer one replaces (`cancel_previous`), best effort:
/// one whose cancel is lost keeps its slot until it ends, and the new run
/// waits for it.
async fn cancel_victims(core: &Core, victims: &[Open]) {
    for v in victims {
        let Ok(Some(run)) = crate::store::run::Entity::find_by_id(v.id)
            .one(core.db())
            .await
        else {
            continue;
        };
        if !matches!(run.status.as_str(), "waiting" | "queued" | "running") {
            continue;
        }
        // Kept for when the workers report the end (they only say "cancelled").
        let _ = core
            .db()
            .execute(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE runs SET reason = $2 WHERE id = $1 AND status IN ('queued', 'running')
                   AND reason IS NULL",
                vec![
                    run.id.into(),
                    format!("cancelled by {CANCELLED_BY_NEWER}").into(),
                ],
            ))
            .await;
        if let Err(e) =
            super::lifecycle::cancel(core, &run, "concurrency", CANCELLED_BY_NEWER).await
        {
            tracing::warn!(run_id = %run.id, error = %e, "A previous run was not cancelled.");
        }
    }
}

#[cfg(test)]
mod tests;
