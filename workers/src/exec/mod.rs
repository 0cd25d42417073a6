//! The dispatch consumer: pulls dispatches of this worker's pool with
//! bounded concurrency, executes them, keeps them alive with AckProgress,
//! and reports each shard's end.
//!
//! Failure semantics: a dispatch redelivered after its worker died (the
//! message was delivered before and never acknowledged) resumes where the
//! lost worker stopped (see [`resume`]): finished steps keep their results,
//! steps not yet started run, and a step that was interrupted runs again only
//! when it is idempotent; otherwise its target ends `worker_lost`. When the
//! run's history cannot be read, the shard is repeated from the start only
//! when every step is idempotent, and ends `worker_lost` otherwise. Either
//! way no run waits forever.

pub mod emit;
pub mod output;
pub mod resume;
pub mod shard;
pub mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use async_nats::jetstream::{AckKind, Message};
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::dispatch::{DispatchSecrets, RunDispatch, ShardFinished};
use opsc_proto::events::{RunStarted, RunStatus};
use opsc_proto::topology::consumer;
use opsc_runtime::bus::Bus;
use opsc_runtime::seal::SealKey;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::steps::Registry;

/// What the consumer needs.
#[derive(Debug, Clone)]
pub struct Executor {
    /// The bus.
    pub bus: Bus,
    /// This worker's pool.
    pub pool: String,
    /// This worker.
    pub worker_id: String,
    /// Opens the dispatches' secrets.
    pub seal: SealKey,
    /// Dispatches at once at most.
    pub concurrency: u32,
    /// Dispatches running now (reported in heartbeats).
    pub in_flight: Arc<AtomicU32>,
}

async fn consumer_of(bus: &Bus, pool: &str) -> Result<PullConsumer, String> {
    let stream = bus
        .js
        .get_stream(&bus.streams.commands)
        .await
        .map_err(|e| e.to_string())?;
    stream
        .get_consumer(&consumer::dispatch(pool))
        .await
        .map_err(|e| e.to_string())
}

/// Pulls and executes dispatches until shutdown; in-flight ones finish.
pub async fn consume(ex: Executor, shutdown: CancellationToken) -> anyhow::Result<()> {
    let registry = Arc::new(crate::steps::registry());
    let permits = Arc::new(Semaphore::new(ex.concurrency as usize));
    let mut running = tokio::task::JoinSet::new();
    let mut consumer = None;
    while !shutdown.is_cancelled() {
        let Some(c) = consumer.as_ref() else {
            match consumer_of(&ex.bus, &ex.pool).await {
                Ok(c) => consumer = Some(c),
                Err(e) => {
                    tracing::debug!(error = %e, "Dispatch consumer not available yet.");
                    tokio::select! {
                        () = shutdown.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
            continue;
        };
        let first = tokio::select! {
            () = shutdown.cancelled() => break,
            p = permits.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let mut held = vec![first];
        while let Ok(p) = permits.clone().try_acquire_owned() {
            held.push(p);
        }
        let batch = c
            .fetch()
            .max_messages(held.len())
            .expires(Duration::from_secs(1))
            .messages()
            .await;
        let mut batch = match batch {
            Ok(b) => b,
            Err(e) => {
                tracing::debug!(error = %e, "Fetching dispatches failed; retrying.");
                consumer = None;
                continue;
            }
        };
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => None,
                m = batch.next() => m,
            };
            let Some(msg) = next else { break };
            let Ok(msg) = msg else { continue };
            let Some(permit) = held.pop() else { break };
            let ex = ex.clone();
            let registry = registry.clone();
            running.spawn(async move {
                ex.in_flight.fetch_add(1, Ordering::Relaxed);
                handle(&ex, registry, msg).await;
                ex.in_flight.fetch_sub(1, Ordering::Relaxed);
                drop(permit);
            });
        }
        while running.try_join_next().is_some() {}
    }
    tracing::info!(in_flight = running.len(), "Dispatch consumer draining.");
    while running.join_next().await.is_some() {}
    Ok(())
}

async fn handle(ex: &Executor, registry: Arc<Registry>, msg: Message) {
    let dispatch = match CloudEvent::<RunDispatch>::decode(&msg.payload) {
        Ok(e) => e.data,
        Err(e) => {
            if let Err(e) = ex
                .bus
                .dead_letter("dispatch", &msg, &format!("undecodable dispatch: {e}"))
                .await
            {
                tracing::error!(error = %e, "Dead letter not stored.");
            }
            return;
        }
    };
    let run_id = dispatch.run_id;
    let shard = dispatch.shard;
    let emitter = emit::Emitter::new(ex.bus.clone(), run_id, shard.index);
    let finish = |status: RunStatus, reason: Option<String>| ShardFinished {
        run_id,
        shard,
        status,
        reason,
        worker_id: ex.worker_id.clone(),
    };
    let finished_id = Some(format!("{run_id}.{}.shard_finished", shard.index));
    let secrets = match open_secrets(&ex.seal, &dispatch) {
        Ok(s) => s,
        Err(e) => {
            emitter
                .emit(
                    "shard_finished",
                    finish(RunStatus::Failed, Some(e)),
                    finished_id,
                )
                .await;
            let _ = msg.double_ack().await;
            return;
        }
    };
    let redelivered = msg.info().map(|i| i.delivered > 1).unwrap_or(false);
    let history = if redelivered {
        match resume::load(&ex.bus, run_id, shard.index).await {
            Ok(h) => {
                tracing::info!(%run_id, shard = shard.index, steps_recorded = h.steps.len(), "Resuming a redelivered dispatch.");
                emitter.continue_after(h.last_counter);
                Some(h)
            }
            Err(e) => {
                tracing::warn!(%run_id, shard = shard.index, error = %e, "The history of a redelivered dispatch is unreadable.");
                None
            }
        }
    } else {
        None
    };
    if redelivered && history.is_none() && !all_idempotent(&dispatch, &registry) {
        tracing::warn!(%run_id, shard = shard.index, "Redelivered dispatch with non-idempotent steps: worker_lost.");
        let reason = "worker_lost: the worker running this shard stopped mid-run and its steps cannot be safely repeated";
        emitter
            .emit(
                "shard_finished",
                finish(RunStatus::WorkerLost, Some(reason.to_owned())),
                finished_id,
            )
            .await;
        let _ = msg.double_ack().await;
        return;
    }
    emitter
        .emit(
            "started",
            RunStarted {
                run_id,
                worker_id: ex.worker_id.clone(),
                pool: ex.pool.clone(),
                shard,
            },
            None,
        )
        .await;
    let cancel = CancellationToken::new();
    let cancel_watch = watch_cancel(&ex.bus, run_id, cancel.clone()).await;
    let deadline = (dispatch.deadline - chrono::Utc::now())
        .to_std()
        .unwrap_or(Duration::ZERO);
    let job = shard::Shard {
        dispatch,
        secrets,
        registry,
        emitter,
        bus: ex.bus.clone(),
        worker_id: ex.worker_id.clone(),
        cancel: cancel.clone(),
        history,
    };
    let mut progress = tokio::time::interval(Duration::from_secs(10));
    progress.tick().await;
    let work = job.run();
    tokio::pin!(work);
    let timer = tokio::time::sleep(deadline);
    tokio::pin!(timer);
    let mut timed_out = false;
    let (status, reason) = loop {
        tokio::select! {
            r = &mut work => break r,
            _ = progress.tick() => { let _ = msg.ack_with(AckKind::Progress).await; }
            () = &mut timer, if !timed_out => { timed_out = true; cancel.cancel(); }
        }
    };
    if let Some(h) = cancel_watch {
        h.abort();
    }
    let (status, reason) = if timed_out {
        (
            RunStatus::TimedOut,
            Some("the run timeout passed".to_owned()),
        )
    } else {
        (status, reason)
    };
    job.emitter
        .emit("shard_finished", finish(status, reason), finished_id)
        .await;
    if let Err(e) = msg.double_ack().await {
        tracing::warn!(error = %e, %run_id, "Dispatch acknowledgement not confirmed.");
    }
}

fn open_secrets(seal: &SealKey, d: &RunDispatch) -> Result<DispatchSecrets, String> {
    let Some(sealed) = &d.sealed else {
        return Ok(DispatchSecrets::default());
    };
    let bytes = seal
        .open(sealed, &d.seal_context())
        .map_err(|e| e.to_string())?;
    serde_json::from_slice(&bytes)
        .map_err(|_| "the sealed secrets are not a secrets document".to_owned())
}

fn all_idempotent(d: &RunDispatch, registry: &Registry) -> bool {
    d.definition.steps.iter().all(|s| {
        s.idempotent.unwrap_or_else(|| {
            registry
                .get(s.kind.as_str())
                .is_some_and(|k| k.idempotent())
        })
    })
}

/// Cancels `token` when a cancel request for the run arrives.
async fn watch_cancel(
    bus: &Bus,
    run_id: uuid::Uuid,
    token: CancellationToken,
) -> Option<tokio::task::JoinHandle<()>> {
    let mut sub = bus
        .client
        .subscribe(bus.subjects.run_cancel(&run_id.to_string()))
        .await
        .ok()?;
    // A cancel sent before this worker subscribed is in the event stream.
    if let Ok(events) = bus.js.get_stream(&bus.streams.events).await {
        let earlier = bus
            .subjects
            .run_event(&run_id.to_string(), "cancel_requested");
        if events
            .get_last_raw_message_by_subject(&earlier)
            .await
            .is_ok()
        {
            token.cancel();
        }
    }
    Some(tokio::spawn(async move {
        if sub.next().await.is_some() {
            tracing::info!(%run_id, "Cancel requested.");
            token.cancel();
        }
    }))
}
