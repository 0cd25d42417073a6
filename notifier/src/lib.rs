//! The notifier role: consumes run events and notification requests, applies rules, preferences, quiet hours and escalation, and delivers through channels (email, Slack, Teams, webhooks) with retries and a dead-letter queue. It reads channel and rule configuration from a KV bucket the api keeps in step with PostgreSQL.
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

/// Everything the notifier needs, built once by the binary.
#[derive(Debug)]
pub struct NotifierContext {
    /// The bus.
    pub bus: Bus,
    /// Process metrics.
    pub metrics: Metrics,
    /// Cancelled on SIGTERM.
    pub shutdown: CancellationToken,
}

/// Runs the notifier until shutdown.
pub async fn run(ctx: NotifierContext) -> anyhow::Result<()> {
    tracing::info!(prefix = %ctx.bus.prefix(), "Notifier started.");
    ctx.shutdown.cancelled().await;
    tracing::info!("Notifier stopped.");
    Ok(())
}
