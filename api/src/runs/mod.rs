//! Runs: accepting them ([`start`]), dispatching them to workers
//! ([`dispatcher`]), recording what workers report ([`recorder`]), and the
//! reaper that ends runs nobody reports on.

pub mod dispatcher;
pub mod recorder;
pub mod resolve;
pub mod start;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::Message;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::events::{RunFinished, RunStatus};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::http::AppState;

/// Runs the dispatcher, the recorders and the reaper until shutdown.
pub async fn background(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (a, b, c, d) = tokio::join!(
        dispatcher::run(state.clone(), shutdown.clone()),
        recorder::events(state.clone(), shutdown.clone()),
        recorder::output(state.clone(), shutdown.clone()),
        reaper(state, shutdown),
    );
    a.and(b).and(c).and(d)
}

/// Pulls from a durable consumer and hands each message to `handle`, at
/// most `concurrency` at once; reconnects after errors; drains on shutdown.
pub(crate) async fn consume<F, Fut>(
    state: &AppState,
    name: &str,
    stream: &str,
    shutdown: CancellationToken,
    concurrency: usize,
    handle: F,
) -> anyhow::Result<()>
where
    F: Fn(AppState, Message) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let mut tasks = tokio::task::JoinSet::new();
    'outer: while !shutdown.is_cancelled() {
        let messages = async {
            let s = state
                .bus
                .js
                .get_stream(stream)
                .await
                .map_err(|e| e.to_string())?;
            let c: async_nats::jetstream::consumer::PullConsumer =
                s.get_consumer(name).await.map_err(|e| e.to_string())?;
            c.messages().await.map_err(|e| e.to_string())
        };
        let mut messages = match messages.await {
            Ok(m) => m,
            Err(e) => {
                tracing::debug!(consumer = name, error = %e, "Consumer not available yet.");
                tokio::select! {
                    () = shutdown.cancelled() => break,
                    () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                }
            }
        };
        loop {
            let permit = tokio::select! {
                () = shutdown.cancelled() => break 'outer,
                p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break 'outer },
            };
            let next = tokio::select! {
                () = shutdown.cancelled() => break 'outer,
                m = messages.next() => m,
            };
            match next {
                Some(Ok(msg)) => {
                    let (state, handle) = (state.clone(), handle.clone());
                    tasks.spawn(async move {
                        handle(state, msg).await;
                        drop(permit);
                    });
                }
                Some(Err(e)) => {
                    tracing::debug!(consumer = name, error = %e, "Consumer stream error; reopening.");
                    break;
                }
                None => break,
            }
            while tasks.try_join_next().is_some() {}
        }
    }
    while tasks.join_next().await.is_some() {}
    Ok(())
}

/// The name a unit enum variant has on the wire (`worker_lost`, `manual` …).
pub(crate) fn wire_name<T: serde::Serialize>(v: T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Moves a run to a terminal status unless it has one; whether it moved.
pub(crate) async fn set_terminal(
    db: &impl ConnectionTrait,
    run_id: Uuid,
    status: RunStatus,
    reason: Option<String>,
) -> Result<bool, sea_orm::DbErr> {
    let res = db
        .execute(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE runs SET status = $2, reason = $3, finished_at = now(), updated_at = now()
             WHERE id = $1 AND status IN ('queued', 'running')",
            vec![run_id.into(), wire_name(status).into(), reason.into()],
        ))
        .await?;
    Ok(res.rows_affected() > 0)
}

/// Publishes `run.finished` for a run that just ended (deduplicated by id).
pub(crate) async fn announce_finished(
    state: &AppState,
    run_id: Uuid,
    status: RunStatus,
    reason: Option<String>,
) {
    let started = <crate::store::run::Entity as sea_orm::EntityTrait>::find_by_id(run_id)
        .one(state.store.db())
        .await
        .ok()
        .flatten()
        .map(|r| r.created_at.to_utc());
    let duration_ms = started
        .map(|s| u64::try_from((chrono::Utc::now() - s).num_milliseconds()).unwrap_or(0))
        .unwrap_or(0);
    let mut event = CloudEvent::new(
        state.bus.source.clone(),
        RunFinished {
            run_id,
            status,
            reason,
            duration_ms,
        },
    )
    .with_subject(run_id.to_string());
    event.id = format!("{run_id}.finished");
    if let Err(e) = state
        .bus
        .publish(
            state
                .bus
                .subjects
                .run_event(&run_id.to_string(), "finished"),
            &event,
        )
        .await
    {
        tracing::warn!(error = %e, %run_id, "run.finished not published (the row is final).");
    }
}

/// Ends a run from the api side (cannot be dispatched, reaped, cancelled
/// before dispatch) and announces it.
pub(crate) async fn finish_run(
    state: &AppState,
    run_id: Uuid,
    status: RunStatus,
    reason: Option<String>,
) {
    match set_terminal(state.store.db(), run_id, status, reason.clone()).await {
        Ok(true) => announce_finished(state, run_id, status, reason).await,
        Ok(false) => {}
        Err(e) => tracing::warn!(error = %e, %run_id, "Run not finished."),
    }
}

/// Seconds between reaper passes.
const REAPER_EVERY: Duration = Duration::from_secs(15);

/// Ends runs nobody reports on: past their deadline (plus a minute), or
/// never dispatched within ten minutes.
async fn reaper(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            () = tokio::time::sleep(REAPER_EVERY) => {}
        }
        let rows = state
            .store
            .db()
            .query_all(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id, (deadline IS NULL) AS undispatched FROM runs WHERE status IN ('queued','running')
                 AND ((deadline IS NOT NULL AND deadline < now() - interval '1 minute')
                   OR (deadline IS NULL AND created_at < now() - interval '10 minutes')) LIMIT 500",
            ))
            .await;
        let Ok(rows) = rows else { continue };
        for row in rows {
            let (Ok(id), Ok(undispatched)) = (
                row.try_get::<Uuid>("", "id"),
                row.try_get::<bool>("", "undispatched"),
            ) else {
                continue;
            };
            let (status, reason) = if undispatched {
                (RunStatus::Failed, "reaper: the run was never dispatched")
            } else {
                (
                    RunStatus::TimedOut,
                    "reaper: no worker reported the end of the run by its deadline",
                )
            };
            tracing::warn!(run_id = %id, reason, "Run reaped.");
            finish_run(&state, id, status, Some(reason.to_owned())).await;
        }
    }
}
