//! The scheduler role: turns cron schedules, dependencies ("run B after A") and retry policies into run intents on `<p>.cmd.run.request`. Any number of replicas may run; each fire produces exactly one run. It reads schedules and maintenance windows from KV buckets the api keeps in step with PostgreSQL, and finished-run events from its durable consumer.
//!
//! It must not open a database connection or import the api crate.
//!
//! Status: this crate is the role's frame — bus provisioning (its durable
//! consumer and buckets are part of the shared topology), readiness,
//! metrics and draining on SIGTERM are in place; the domain logic arrives
//! with its own issue.

use opsc_runtime::Metrics;
use opsc_runtime::bus::Bus;
use tokio_util::sync::CancellationToken;

/// Everything the scheduler needs, built once by the binary.
#[derive(Debug)]
pub struct SchedulerContext {
    /// The bus.
    pub bus: Bus,
    /// Process metrics.
    pub metrics: Metrics,
    /// Cancelled on SIGTERM.
    pub shutdown: CancellationToken,
}

/// Runs the scheduler until shutdown.
pub async fn run(ctx: SchedulerContext) -> anyhow::Result<()> {
    tracing::info!(prefix = %ctx.bus.prefix(), "Scheduler started.");
    ctx.shutdown.cancelled().await;
    tracing::info!("Scheduler stopped.");
    Ok(())
}
