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

pub mod cancels;
pub mod emit;
pub mod output;
pub mod resume;
pub mod shard;
pub mod target;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::dispatch::{DispatchSecrets, RunDispatch};
use opsc_proto::events::{RunStarted, RunStatus, ShardFinished};
use opsc_proto::topology::Topology;
use opsc_runtime::bus::Bus;
use opsc_runtime::bus::consume::{self, AckMode, Delivery, Handler, Options, Outcome};
use opsc_runtime::keys::SealKey;
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
    /// What this worker may do on its host.
    pub host: Arc<crate::host::Host>,
    /// Dispatches at once at most.
    pub concurrency: u32,
    /// Dispatches running now (reported in heartbeats).
    pub in_flight: Arc<AtomicU32>,
}

/// The dispatch handler: one shard per message.
struct Worker {
    ex: Executor,
    registry: Arc<Registry>,
    cancels: cancels::Cancels,
}

impl std::fmt::Debug for Worker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Worker")
            .field("worker_id", &self.ex.worker_id)
            .finish_non_exhaustive()
    }
}

/// Pulls and executes dispatches until shutdown; in-flight ones finish.
pub async fn consume(ex: Executor, shutdown: CancellationToken) -> anyhow::Result<()> {
    let spec = Topology::dispatch_consumer(ex.bus.prefix(), &ex.pool);
    let concurrency = ex.concurrency as usize;
    let worker = Worker {
        cancels: cancels::Cancels::start(ex.bus.clone(), shutdown.clone()),
        registry: Arc::new(crate::steps::registry()),
        ex,
    };
    consume::run(
        worker.ex.bus.clone(),
        Options::new(spec)
            .concurrency(concurrency)
            .batch(concurrency)
            // A lost acknowledgement only means a redelivery, which resumes
            // a shard whose every step is recorded as done: nothing runs twice.
            .ack(AckMode::Single),
        Arc::new(worker),
        shutdown,
    )
    .await;
    Ok(())
}

impl Handler<CloudEvent<RunDispatch>> for Worker {
    async fn handle(&self, d: &Delivery<CloudEvent<RunDispatch>>) -> Outcome {
        self.ex.in_flight.fetch_add(1, Ordering::Relaxed);
        // The shard continues the trace of the api's dispatch.
        let data = &d.message.data;
        let span = tracing::info_span!(
            "worker.shard",
            run_id = %data.run_id,
            job_id = %data.job.id,
            shard = data.shard.index,
            pool = %data.pool,
            trace_id = tracing::field::Empty,
        );
        opsc_runtime::telemetry::set_parent(&span, d.message.traceparent.as_deref());
        tracing::Instrument::instrument(
            self.execute(d.message.data.clone(), d.redelivered()),
            span,
        )
        .await;
        self.ex.in_flight.fetch_sub(1, Ordering::Relaxed);
        Outcome::Ack
    }
}

impl Worker {
    /// Runs one shard to its end and reports it; every path reports.
    async fn execute(&self, dispatch: RunDispatch, redelivered: bool) {
        let ex = &self.ex;
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
        if dispatch.pool != ex.pool {
            let reason = format!(
                "dispatched to pool {:?} but received by a worker of {:?}",
                dispatch.pool, ex.pool
            );
            emitter
                .emit_durable(finish(RunStatus::Failed, Some(reason)), finished_id)
                .await;
            return;
        }
        let secrets = match open_secrets(&ex.seal, &dispatch) {
            Ok(s) => s,
            Err(e) => {
                emitter
                    .emit_durable(finish(RunStatus::Failed, Some(e)), finished_id)
                    .await;
                return;
            }
        };
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
        if redelivered && history.is_none() && !all_idempotent(&dispatch, &self.registry) {
            tracing::warn!(%run_id, shard = shard.index, "Redelivered dispatch with non-idempotent steps: worker_lost.");
            let reason = "worker_lost: the worker running this shard stopped mid-run and its steps cannot be safely repeated";
            emitter
                .emit_durable(
                    finish(RunStatus::WorkerLost, Some(reason.to_owned())),
                    finished_id,
                )
                .await;
            return;
        }
        let watch = self
            .cancels
            .watch(run_id, dispatch.accepted_at, redelivered)
            .await;
        let cancel = watch.token.clone();
        emitter
            .emit(
                RunStarted {
                    run_id,
                    worker_id: ex.worker_id.clone(),
                    pool: ex.pool.clone(),
                    shard,
                },
                None,
            )
            .await;
        let deadline = (dispatch.deadline - chrono::Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO);
        let job = shard::Shard {
            dispatch,
            secrets,
            host: ex.host.clone(),
            registry: self.registry.clone(),
            emitter,
            bus: ex.bus.clone(),
            worker_id: ex.worker_id.clone(),
            cancel: cancel.clone(),
            history,
        };
        let work = job.run();
        tokio::pin!(work);
        let timer = tokio::time::sleep(deadline);
        tokio::pin!(timer);
        let mut timed_out = false;
        let (status, reason) = loop {
            tokio::select! {
                r = &mut work => break r,
                () = &mut timer, if !timed_out => { timed_out = true; cancel.cancel(); }
            }
        };
        drop(watch);
        let (status, reason) = if timed_out {
            (
                RunStatus::TimedOut,
                Some("the run timeout passed".to_owned()),
            )
        } else {
            (status, reason)
        };
        job.emitter
            .emit_durable(finish(status, reason), finished_id)
            .await;
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
