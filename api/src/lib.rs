//! The api role: the thin HTTP gateway and the system of record.
//!
//! Owns PostgreSQL (the [`store`]) — no other role opens a database
//! connection — the HTTP surface ([`http`]), and start-up duties such as
//! creating the first admin ([`bootstrap`]). It reaches workers, the
//! scheduler and the notifier only through the bus.
//!
//! It must not execute steps, connect to targets, or deliver notifications.

pub mod audit;
pub mod auth;
pub mod bootstrap;
pub mod console;
pub mod core;
pub mod credentials;
pub mod demo;
pub mod dependencies;
pub mod handlers;
pub mod http;
pub mod insights;
pub mod jobs;
pub mod metrics;
pub mod mirror_loop;
pub mod notices;
pub mod notifications;
pub mod notify_config;
pub mod password;
pub mod rotation;
pub mod runs;
pub mod schedules;
pub mod sessions;
pub mod settings;
pub mod slots;
pub mod store;
pub mod strict;
pub mod targets;
pub mod tokens;
pub mod users;
pub mod vault;
pub mod windows;
pub mod workers;

use std::sync::Arc;

use opsc_runtime::bus::Bus;
use opsc_runtime::{Check, Config, Health, Metrics};
use tokio_util::sync::CancellationToken;

pub use bootstrap::BootstrapOutcome;
pub use store::Store;

/// Everything the api role needs, built once by the binary.
#[derive(Debug)]
pub struct ApiContext {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The system of record, prepared by [`prepare`].
    pub store: Store,
    /// The bus.
    pub bus: Bus,
    /// Process metrics.
    pub metrics: Metrics,
    /// Readiness checks of the whole process (bus, other roles); the
    /// database check is added here.
    pub checks: Vec<Check>,
    /// Cancelled on SIGTERM.
    pub shutdown: CancellationToken,
}

/// Connects to PostgreSQL, refuses a schema that is behind, and creates the
/// first admin when the user table is empty.
pub async fn prepare(config: &Config) -> anyhow::Result<(Store, BootstrapOutcome)> {
    let store = Store::connect(config).await?;
    store.require_migrated().await?;
    let outcome = bootstrap::ensure_admin(
        store.db(),
        &config.security.bootstrap_admin_username,
        config.bootstrap_admin_password()?,
    )
    .await?;
    Ok((store, outcome))
}

/// Serves the HTTP API and the operability endpoints until shutdown, then drains.
pub async fn serve(ctx: ApiContext) -> anyhow::Result<()> {
    let mut checks = ctx.checks;
    checks.push(ctx.store.check());
    let health = Health::new(checks, ctx.metrics.clone());
    let core = core::Core::new(
        ctx.store.clone(),
        ctx.bus.clone(),
        ctx.config.clone(),
        &ctx.metrics,
    )?;
    let background = tokio::spawn(runs::background(core.clone(), ctx.shutdown.clone()));
    let schedules = tokio::spawn(schedules::background(
        core.clone(),
        schedules::fires::FireMetrics::register(&ctx.metrics),
        ctx.shutdown.clone(),
    ));
    let heartbeats = tokio::spawn(workers::listen(core.clone(), ctx.shutdown.clone()));
    tokio::spawn(auth::listen_forget(core.clone(), ctx.shutdown.clone()));
    tokio::spawn(dependencies::mirror::run(
        core.clone(),
        ctx.shutdown.clone(),
    ));
    tokio::spawn(windows::background(core.clone(), ctx.shutdown.clone()));
    tokio::spawn(notify_config::background(
        core.clone(),
        ctx.shutdown.clone(),
    ));
    tokio::spawn(notices::background(core.clone(), ctx.shutdown.clone()));
    tokio::spawn(notifications::record(core.clone(), ctx.shutdown.clone()));
    let app = http::router(http::AppState(core)).merge(health.router());
    let app = http::layers(app, &ctx.config);
    let addr = ctx.config.http.addr;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {addr} (http.addr, OPSC_HTTP_ADDR): {e}"))?;
    tracing::info!(addr = %listener.local_addr()?, "API listening.");
    let shutdown = ctx.shutdown.clone();
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move { shutdown.cancelled().await })
    .await?;
    if let Err(e) = background.await {
        tracing::error!(error = %e, "Run processing panicked.");
    }
    if let Err(e) = schedules.await {
        tracing::error!(error = %e, "Schedule mirroring or recording panicked.");
    }
    if let Ok(Err(e)) = heartbeats.await {
        tracing::warn!(error = %e, "Heartbeat listener stopped.");
    }
    ctx.store.close().await;
    tracing::info!("API stopped.");
    Ok(())
}
