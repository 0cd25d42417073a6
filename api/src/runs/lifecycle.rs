//! How runs end: announcing `run.finished` (retried until the bus takes
//! it), ending a run from the api side, cancelling, and the reaper that
//! ends runs nobody reports on.

use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::commands::RunCancel;
use opsc_proto::events::{RunFinished, RunStatus};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::wire_name;
use crate::core::Core;
use crate::metrics::labels;

/// Publishes `run.finished` events in the background, retrying each until
/// JetStream stored it, so a bus hiccup never leaves a run's end unsaid.
#[derive(Debug, Clone)]
pub struct Announcer {
    tx: mpsc::UnboundedSender<RunFinished>,
}

impl Announcer {
    /// Starts the announcer; it stops at `shutdown` (what is queued is
    /// tried once more first).
    pub fn start(core: Core, shutdown: CancellationToken) -> Self {
        let (tx, mut rx) = mpsc::unbounded_channel::<RunFinished>();
        tokio::spawn(async move {
            let mut retry: Vec<RunFinished> = Vec::new();
            loop {
                let next = tokio::select! {
                    m = rx.recv() => m,
                    () = tokio::time::sleep(Duration::from_secs(2)), if !retry.is_empty() => None,
                    () = shutdown.cancelled() => {
                        while let Ok(m) = rx.try_recv() {
                            retry.push(m);
                        }
                        let _ = super::lineage::describe(core.db(), &mut retry).await;
                        for m in retry {
                            let _ = publish(&core, &m).await;
                        }
                        return;
                    }
                };
                let mut batch: Vec<RunFinished> = std::mem::take(&mut retry);
                if let Some(m) = next {
                    batch.push(m);
                }
                while let Ok(m) = rx.try_recv() {
                    batch.push(m);
                }
                // The scheduler decides retries and dependent runs from
                // this context: without it, the event waits.
                if let Err(e) = super::lineage::describe(core.db(), &mut batch).await {
                    tracing::warn!(error = %e, "The context of run.finished not read; retrying.");
                    retry = batch;
                    continue;
                }
                let mut pending = Vec::with_capacity(batch.len());
                for m in batch {
                    let event = event(&core, &m);
                    match core.bus.send(&event).await {
                        Ok(p) => pending.push((m, p)),
                        Err(_) => retry.push(m),
                    }
                }
                for (m, p) in pending {
                    if let Err(e) = p.ack().await {
                        tracing::warn!(run_id = %m.run_id, error = %e, "run.finished not stored yet; retrying.");
                        retry.push(m);
                    }
                }
            }
        });
        Self { tx }
    }

    /// Queues the announcement of a run's end.
    pub fn announce(&self, finished: RunFinished) {
        if self.tx.send(finished).is_err() {
            tracing::warn!("The announcer stopped; a run.finished event is not published.");
        }
    }
}

fn event(core: &Core, m: &RunFinished) -> CloudEvent<RunFinished> {
    CloudEvent::new(core.bus.source.clone(), m.clone())
        .with_subject(m.run_id.to_string())
        .with_id(format!("{}.finished", m.run_id))
}

pub(super) async fn publish(
    core: &Core,
    m: &RunFinished,
) -> Result<(), opsc_runtime::bus::PublishError> {
    core.bus.publish(&event(core, m)).await.map(|_| ())
}

/// Moves a run to a terminal status unless it has one; whether it moved.
pub async fn set_terminal(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    status: RunStatus,
    reason: Option<String>,
) -> Result<Option<(chrono::DateTime<chrono::FixedOffset>, String)>, sea_orm::DbErr> {
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE runs SET status = $2, reason = $3, finished_at = now(), updated_at = now()
             WHERE id = $1 AND status IN ('waiting', 'queued', 'running') RETURNING created_at, trigger_kind",
            vec![run_id.into(), wire_name(status).into(), reason.into()],
        ))
        .await?;
    row.map(|r| Ok((r.try_get("", "created_at")?, r.try_get("", "trigger_kind")?)))
        .transpose()
}

/// Ends a run from the api side (cancelled before any worker took it,
/// reaped) and announces it.
pub async fn finish_run(core: &Core, run_id: Uuid, status: RunStatus, reason: Option<String>) {
    match set_terminal(core.db(), run_id, status, reason.clone()).await {
        Ok(Some((created_at, trigger))) => {
            super::concurrency::release::run_ended(core, run_id);
            let duration_ms =
                u64::try_from((chrono::Utc::now() - created_at.to_utc()).num_milliseconds())
                    .unwrap_or(0);
            core.metrics
                .runs_finished
                .get_or_create(&labels(&[
                    ("trigger", &trigger),
                    ("status", &wire_name(status)),
                ]))
                .inc();
            let mut m = [RunFinished::new(run_id, status, reason, duration_ms)];
            if let Err(e) = super::lineage::describe(core.db(), &mut m).await {
                tracing::warn!(error = %e, %run_id, "The context of run.finished not read; published without it.");
            }
            let [m] = m;
            if let Err(e) = publish(core, &m).await {
                tracing::warn!(error = %e, %run_id, "run.finished not published (the row is final).");
            }
        }
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, %run_id, "Run not finished."),
    }
}

/// Why a cancel was not sent.
#[derive(Debug, thiserror::Error)]
pub enum CancelError {
    /// The run has ended already.
    #[error("the run is {0} already")]
    Ended(String),
    /// The bus did not take the request.
    #[error("{0}")]
    Unavailable(String),
}

/// Asks the workers of a run to stop it: kept as an event (a worker that
/// takes a shard later sees it) and sent at once on core NATS. A run no
/// worker took yet ends here.
pub async fn cancel(
    core: &Core,
    run: &crate::store::run::Model,
    by: &str,
    by_name: &str,
) -> Result<(), CancelError> {
    let now_run;
    let run = if run.status == "waiting" {
        match super::concurrency::release::cancel_waiting(core, run, by_name).await {
            Ok(None) => return Ok(()),
            Ok(Some(r)) => {
                now_run = r;
                &now_run
            }
            Err(e) => return Err(CancelError::Unavailable(e.to_string())),
        }
    } else {
        run
    };
    if !matches!(run.status.as_str(), "queued" | "running") {
        return Err(CancelError::Ended(run.status.clone()));
    }
    let id = run.id;
    let request = RunCancel {
        run_id: id,
        requested_by: by.to_owned(),
        reason: None,
    };
    let event = CloudEvent::new(core.bus.source.clone(), request.clone())
        .with_subject(id.to_string())
        .with_id(format!("{id}.cancel_requested"));
    core.bus
        .publish(&event)
        .await
        .map_err(|e| CancelError::Unavailable(e.to_string()))?;
    let now = CloudEvent::new(core.bus.source.clone(), request);
    let _ = core
        .bus
        .publish_core(core.bus.subjects.run_cancel(&id.to_string()), &now)
        .await;
    if run.status == "queued" && run.started_at.is_none() {
        // No worker reported yet; one that takes a shard later sees the
        // event and stops at once. The run ends when its shards report, or
        // here when it was never dispatched at all.
        if run.shards.is_none() {
            finish_run(
                core,
                id,
                RunStatus::Cancelled,
                Some(format!("cancelled by {by_name}")),
            )
            .await;
        }
    }
    Ok(())
}

/// Tells workers to stop a run that was withdrawn at admission (its row is
/// gone, but a dispatch may have reached the bus): best effort, kept as an
/// event for a worker that takes the dispatch later.
pub async fn withdraw(core: &Core, run_id: Uuid) {
    let request = RunCancel {
        run_id,
        requested_by: "api".to_owned(),
        reason: Some("withdrawn: the bus did not acknowledge the run".to_owned()),
    };
    let event = CloudEvent::new(core.bus.source.clone(), request.clone())
        .with_subject(run_id.to_string())
        .with_id(format!("{run_id}.cancel_requested"));
    let kept = tokio::time::timeout(Duration::from_secs(2), core.bus.publish(&event)).await;
    if !matches!(kept, Ok(Ok(_))) {
        tracing::warn!(%run_id, "The withdrawal of a run was not stored; a dispatch that did reach the bus would run.");
    }
    let now = CloudEvent::new(core.bus.source.clone(), request);
    let _ = core
        .bus
        .publish_core(core.bus.subjects.run_cancel(&run_id.to_string()), &now)
        .await;
}

/// Seconds between reaper passes.
const REAPER_EVERY: Duration = Duration::from_secs(15);

/// Ends runs nobody reports on: past their deadline (plus a minute).
pub async fn reaper(core: Core, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(REAPER_EVERY) => {}
        }
        let rows = core
            .db()
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id FROM runs WHERE status IN ('queued','running')
                 AND deadline IS NOT NULL AND deadline < now() - interval '1 minute' LIMIT 500",
            ))
            .await;
        let Ok(rows) = rows else { continue };
        for row in rows {
            let Ok(id) = row.try_get::<Uuid>("", "id") else {
                continue;
            };
            let reason = "reaper: no worker reported the end of the run by its deadline";
            tracing::warn!(run_id = %id, reason, "Run reaped.");
            finish_run(&core, id, RunStatus::TimedOut, Some(reason.to_owned())).await;
        }
    }
}
