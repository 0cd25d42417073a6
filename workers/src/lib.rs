//! The worker role: executes steps for one pool.
//!
//! A worker needs only an outbound NATS connection: no database, no inbound
//! port besides its own operability endpoints. It announces itself with
//! heartbeats on `<p>.ctl.worker.heartbeat.<pool>` (the api lists live
//! workers from them) and pulls dispatches from its pool's durable consumer.
//!
//! It must not import the api crate or open a database connection.

pub mod egress;
pub mod exec;
mod heartbeat;
pub mod host;
pub mod probe;
pub mod ssh;
pub mod steps;
pub mod template;
pub mod winrm;

use std::time::Duration;

use chrono::{DateTime, Utc};
use opsc_proto::Prefix;
use opsc_proto::topology::{ConsumerSpec, Topology};
use opsc_runtime::Metrics;
use opsc_runtime::bus::Bus;
use opsc_runtime::config::WorkerConfig;
use opsc_runtime::keys::SealKey;
use tokio_util::sync::CancellationToken;

/// Everything a worker needs, built once by the binary.
#[derive(Debug)]
pub struct WorkerContext {
    /// The bus.
    pub bus: Bus,
    /// Worker settings.
    pub config: WorkerConfig,
    /// Process metrics.
    pub metrics: Metrics,
    /// Opens credentials sealed for this pool.
    pub seal: SealKey,
    /// What this worker may do on its host.
    pub host: host::Host,
    /// Cancelled on SIGTERM: stop taking work, drain, exit.
    pub shutdown: CancellationToken,
}

/// The durable consumer this worker's pool shares, to provision at start.
pub fn consumers(prefix: &Prefix, config: &WorkerConfig) -> Vec<ConsumerSpec> {
    vec![Topology::dispatch_consumer(prefix, &config.pool)]
}

/// Runs the worker until shutdown.
pub async fn run(ctx: WorkerContext) -> anyhow::Result<()> {
    let identity = heartbeat::Identity {
        worker_id: format!("{}-{}", hostname(), uuid::Uuid::now_v7().simple()),
        pool: ctx.config.pool.clone(),
        concurrency: ctx.config.concurrency,
        started_at: Utc::now(),
    };
    tracing::info!(worker_id = %identity.worker_id, pool = %identity.pool, "Worker started.");
    let in_flight = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let beats = heartbeat::run(heartbeat::Heartbeat {
        bus: &ctx.bus,
        identity: &identity,
        in_flight: &in_flight,
        every: Duration::from_secs(ctx.config.heartbeat_secs),
        metrics: &ctx.metrics,
        shutdown: &ctx.shutdown,
    });
    let probes = probe::serve(probe::Prober {
        bus: &ctx.bus,
        pool: &ctx.config.pool,
        seal: &ctx.seal,
        worker_id: &identity.worker_id,
        egress: &ctx.host.egress,
        shutdown: &ctx.shutdown,
    });
    let executor = exec::consume(
        exec::Executor {
            bus: ctx.bus.clone(),
            pool: ctx.config.pool.clone(),
            worker_id: identity.worker_id.clone(),
            seal: ctx.seal.clone(),
            host: std::sync::Arc::new(ctx.host.clone()),
            concurrency: ctx.config.concurrency,
            in_flight: in_flight.clone(),
        },
        ctx.shutdown.clone(),
    );
    let ((), probes, executed) = tokio::join!(beats, probes, executor);
    if let Err(e) = probes {
        tracing::error!(error = %e, "Connection tests stopped.");
    }
    if let Err(e) = executed {
        tracing::error!(error = %e, "Dispatch consumer stopped.");
    }
    tracing::info!(worker_id = %identity.worker_id, "Worker stopped.");
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "worker".to_owned())
}

/// When this process started; reported in heartbeats.
pub type StartedAt = DateTime<Utc>;
