//! The scheduler role: turns cron schedules into run intents on
//! `<p>.cmd.run.request`. Any number of replicas may run; one leads at a
//! time (a fenced lease in `<p>_leases`), and each fire instant makes one
//! run (its intent's idempotency key is `schedule:<id>:<instant>`).
//!
//! Every replica follows the schedules the api mirrors into
//! `<p>_schedules` ([`book`]) and the cursors in `<p>_scheduler_state`
//! ([`cursors`]), so a standby that takes the lease ([`lease`]) fires at
//! once. The leader's engine ([`engine`]) decides what falls due with the
//! misfire policy ([`plan`]) and carries it out ([`fire`]); every fire,
//! skip and misfire is an event on `<p>.evt.schedule.<id>.<type>`.
//!
//! It must not open a database connection or import the api crate; cron
//! and time zones are `opsc-calendar`'s.

mod book;
mod cursors;
mod engine;
mod fire;
mod follow;
mod lease;
mod metrics;
mod plan;
mod status;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::topology::bucket;
use opsc_runtime::Metrics;
use opsc_runtime::bus::Bus;
use opsc_runtime::config::SchedulerConfig;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::book::{Book, Keeper};
use crate::cursors::Cursors;
use crate::engine::Engine;
use crate::metrics::SchedulerMetrics;
use crate::status::Summary;

/// Everything the scheduler needs, built once by the binary.
#[derive(Debug)]
pub struct SchedulerContext {
    /// The bus.
    pub bus: Bus,
    /// The `[scheduler]` settings.
    pub config: SchedulerConfig,
    /// Process metrics.
    pub metrics: Metrics,
    /// Cancelled on SIGTERM.
    pub shutdown: CancellationToken,
}

/// Runs the scheduler until shutdown.
pub async fn run(ctx: SchedulerContext) -> anyhow::Result<()> {
    let replica_id = format!(
        "scheduler-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    tracing::info!(prefix = %ctx.bus.prefix(), replica = %replica_id, "Scheduler started.");
    let Some((schedules, leases, state)) = open(&ctx.bus, &ctx.shutdown).await else {
        return Ok(());
    };
    let metrics = SchedulerMetrics::register(&ctx.metrics);
    let book = Arc::new(std::sync::RwLock::new(Book::default()));
    let cursors = Cursors::default();
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    let (leadership_tx, leadership_rx) = watch::channel(None);
    let summary = Summary::default();
    // The lease outlives the engine's shutdown by a moment, so the engine
    // stops firing before the lease is handed back.
    let lease_stop = CancellationToken::new();
    let mut tasks = tokio::task::JoinSet::new();
    let keeper = Keeper {
        book: book.clone(),
        changes: changes_tx,
        metrics: metrics.clone(),
        bus: ctx.bus.clone(),
    };
    tasks.spawn(follow::follow(
        schedules,
        "schedules",
        ctx.shutdown.clone(),
        move |s| keeper.apply(s),
    ));
    let c = cursors.clone();
    tasks.spawn(follow::follow(
        state.clone(),
        "scheduler_state",
        ctx.shutdown.clone(),
        move |s| c.apply(s),
    ));
    let lease = tasks.spawn(lease::run(lease::LeaseLoop {
        store: leases.clone(),
        replica_id: replica_id.clone(),
        lease: Duration::from_millis(ctx.config.lease_ms),
        leadership: leadership_tx,
        metrics: metrics.clone(),
        shutdown: lease_stop.clone(),
    }));
    tasks.spawn(status::run(status::StatusLoop {
        store: leases,
        replica_id,
        started_at: chrono::Utc::now(),
        summary: summary.clone(),
        shutdown: ctx.shutdown.clone(),
    }));
    let engine = Engine {
        bus: ctx.bus.clone(),
        state,
        book,
        cursors,
        changes: changes_rx,
        leadership: leadership_rx,
        grace: chrono::Duration::milliseconds(
            i64::try_from(ctx.config.misfire_grace_ms).unwrap_or(1000),
        ),
        metrics,
        summary,
        shutdown: ctx.shutdown.clone(),
    };
    engine.run().await;
    lease_stop.cancel();
    let _ = lease;
    while tasks.join_next().await.is_some() {}
    tracing::info!("Scheduler stopped.");
    Ok(())
}

/// Opens the three buckets, retrying while the topology is being provisioned.
async fn open(
    bus: &Bus,
    shutdown: &CancellationToken,
) -> Option<(kv::Store, kv::Store, kv::Store)> {
    loop {
        let opened = async {
            Ok::<_, opsc_runtime::bus::BucketError>((
                bus.bucket(bucket::SCHEDULES).await?,
                bus.bucket(bucket::LEASES).await?,
                bus.bucket(bucket::SCHEDULER_STATE).await?,
            ))
        }
        .await;
        match opened {
            Ok(b) => return Some(b),
            Err(e) => tracing::debug!(error = %e, "Scheduler buckets not ready yet."),
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}
