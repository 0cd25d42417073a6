//! Releasing waiting runs: when a run of a job ends, the oldest waiting
//! runs of that job take the free slots, in order; their messages are
//! planned again then (targets, credentials and grants as they are now)
//! and published.
//!
//! A release holds the job's lock and the waiting rows' locks from the
//! count to the commit, and publishes before it commits: two api replicas
//! never release one run twice (the second finds it `queued`), a cancel
//! of a waiting run waits for the release and then cancels the queued run,
//! and a crash before the commit leaves the run `waiting`, released again
//! by the [`sweep`] with the same message ids (the bus drops the repeat).

use std::time::Duration;

use opsc_proto::commands::Trigger;
use opsc_proto::events::RunStatus;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionTrait};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::super::admit::{self, Admission, AdmitError, JobName};
use super::super::dispatch;
use crate::core::Core;
use crate::store::{job, run};

/// Seconds between sweeps.
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// After a run ended: releases waiting runs of its job, in the background
/// (the caller is the recorder or the api's end of a run).
pub fn run_ended(core: &Core, run_id: Uuid) {
    let core = core.clone();
    tokio::spawn(async move {
        let row = core
            .db()
            .query_one(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT r.job_id FROM runs r WHERE r.id = $1 AND EXISTS
                   (SELECT 1 FROM runs w WHERE w.job_id = r.job_id AND w.status = 'waiting')",
                vec![run_id.into()],
            ))
            .await;
        if let Ok(Some(row)) = row
            && let Ok(job_id) = row.try_get::<Uuid>("", "job_id")
        {
            job(&core, job_id).await;
        }
    });
}

/// Releases waiting runs of every job that has free slots, every few
/// seconds, so a release lost with a crash still happens.
pub async fn sweep(core: Core, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(SWEEP_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let rows = core
            .db()
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                "SELECT DISTINCT job_id FROM runs WHERE status = 'waiting' LIMIT 1000",
            ))
            .await;
        let Ok(rows) = rows else { continue };
        for row in rows {
            if let Ok(job_id) = row.try_get::<Uuid>("", "job_id") {
                job(&core, job_id).await;
            }
        }
    }
}

/// Releases the oldest waiting runs of a job up to its free slots.
pub async fn job(core: &Core, job_id: Uuid) {
    match try_job(core, job_id).await {
        Ok(failed) => {
            for (run_id, reason) in failed {
                tracing::warn!(%run_id, %reason, "A waiting run could not start.");
                super::super::lifecycle::finish_run(core, run_id, RunStatus::Failed, Some(reason))
                    .await;
            }
        }
        Err(e) => {
            tracing::warn!(%job_id, error = %e, "Waiting runs not released; the sweep retries.");
        }
    }
}

/// The runs that could not start, and why (ended after the commit: their
/// rows are locked until then).
async fn try_job(core: &Core, job_id: Uuid) -> Result<Vec<(Uuid, String)>, sea_orm::DbErr> {
    let txn = core.db().begin().await?;
    super::lock_job(&txn, job_id).await?;
    let Some(j) = job::Entity::find_by_id(job_id).one(&txn).await? else {
        // Deleted: its waiting runs can never start.
        let rows = txn
            .query_all(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT id FROM runs WHERE job_id = $1 AND status = 'waiting'",
                vec![job_id.into()],
            ))
            .await?;
        let reason = "could not start after waiting for a concurrency slot: the job was deleted";
        return rows
            .into_iter()
            .map(|r| Ok((r.try_get("", "id")?, reason.to_owned())))
            .collect();
    };
    let limit = match super::limit_of(core, &j).await {
        Ok(limit) => limit,
        Err(e) => return Err(sea_orm::DbErr::Custom(e.to_string())),
    };
    let (going, _) = super::occupancy(&txn, job_id).await?;
    // A job whose limit was removed lets all its waiting runs go.
    let free = limit.map_or(i64::MAX, |l| {
        i64::from(l.max) - i64::try_from(going).unwrap_or(0)
    });
    if free <= 0 {
        return Ok(Vec::new());
    }
    let rows = txn
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM runs WHERE job_id = $1 AND status = 'waiting'
             ORDER BY created_at, id LIMIT $2 FOR UPDATE",
            vec![job_id.into(), free.min(1000).into()],
        ))
        .await?;
    let mut failed = Vec::new();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let Some(r) = run::Entity::find_by_id(id).one(&txn).await? else {
            continue;
        };
        match start(core, &txn, &r).await {
            Ok(()) => tracing::info!(run_id = %id, %job_id, "Waiting run released."),
            Err(e) if e.is_transient() => {
                // Stays waiting; later releases keep the order.
                tracing::warn!(run_id = %id, error = %e, "Waiting run not released yet.");
                break;
            }
            Err(e) => failed.push((
                id,
                format!("could not start after waiting for a concurrency slot: {e}"),
            )),
        }
    }
    txn.commit().await?;
    Ok(failed)
}

/// Plans a waiting run's messages, publishes them and marks it `queued`
/// (in the caller's transaction). Its deadline counts from now.
async fn start(core: &Core, txn: &impl ConnectionTrait, r: &run::Model) -> Result<(), AdmitError> {
    let trigger: Trigger = serde_json::from_value(json!({
        "kind": r.trigger_kind, "actor": r.trigger_actor,
        "origin": r.trigger_origin, "cause_run_id": r.cause_run_id,
    }))
    .map_err(|e| AdmitError::Broken(format!("the stored trigger is unreadable: {e}")))?;
    let targets = r
        .targets
        .clone()
        .and_then(|t| serde_json::from_value(t).ok());
    let a = Admission {
        job: JobName::Id(r.job_id),
        version: u32::try_from(r.job_version).ok(),
        parameters: std::collections::BTreeMap::new(),
        targets,
        trigger: trigger.clone(),
        intent_id: None,
        may_repeat: false,
        public_intent_id: r
            .intent_id
            .as_deref()
            .and_then(|k| k.strip_prefix("bus:"))
            .map(str::to_owned),
        idempotency_key: None,
        sealed: None,
        created_by: None,
        caller: None,
        rerun_of: None,
        retry: None,
    };
    let resolved = admit::resolve_job(core, &a).await?;
    let public = r
        .parameters
        .as_object()
        .map(|m| m.clone().into_iter().collect())
        .unwrap_or_default();
    let secret = super::super::rerun::secret_parameters(core, r)?;
    let host = admit::host_author(core, &resolved).await?;
    // Targets a maintenance window left out at admission stay out.
    let skip = super::super::windows::recorded(core, r.id).await?;
    let timeout = r.deadline.map_or(chrono::TimeDelta::hours(1), |d| {
        d.to_utc() - r.created_at.to_utc()
    });
    let deadline = chrono::Utc::now() + timeout;
    let prepared = dispatch::prepare(
        core,
        dispatch::Order {
            run_id: r.id,
            host,
            job: &resolved.job,
            version: resolved.version,
            definition: &resolved.definition,
            public: &public,
            secret: &secret,
            targets: a.targets.as_ref(),
            skip: &skip,
            trigger: &trigger,
            intent_id: a.public_intent_id.clone(),
            accepted_at: r.created_at.to_utc(),
            deadline,
        },
    )
    .await?;
    admit::publish(core, &prepared)
        .await
        .map_err(|e| AdmitError::Unavailable(e.to_string()))?;
    txn.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE runs SET status = 'queued', shards = $2, target_ids = $3, deadline = $4, updated_at = now()
         WHERE id = $1 AND status = 'waiting'",
        vec![
            r.id.into(),
            i32::try_from(prepared.dispatches.len()).unwrap_or(i32::MAX).into(),
            json!(prepared.target_ids).into(),
            deadline.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Cancels a waiting run; `None` when it did, else the run as it is now
/// (released meanwhile: it is cancelled as the queued run it became).
pub async fn cancel_waiting(
    core: &Core,
    r: &run::Model,
    by_name: &str,
) -> Result<Option<run::Model>, sea_orm::DbErr> {
    let moved = core
        .db()
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE runs SET status = 'cancelled', reason = $2, finished_at = now(), updated_at = now()
             WHERE id = $1 AND status = 'waiting'",
            vec![r.id.into(), format!("cancelled by {by_name}").into()],
        ))
        .await?;
    if moved.rows_affected() == 1 {
        let reason = Some(format!("cancelled by {by_name}"));
        let m = opsc_proto::events::RunFinished::new(r.id, RunStatus::Cancelled, reason, 0);
        super::announce(core, m).await;
        return Ok(None);
    }
    Ok(Some(
        run::Entity::find_by_id(r.id)
            .one(core.db())
            .await?
            .unwrap_or_else(|| r.clone()),
    ))
}
