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
mod reactions;
mod retries;
mod status;
mod windows;

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
use crate::retries::Retries;
use crate::status::Summary;
use crate::windows::Windows;

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
    let Some(Buckets {
        schedules,
        leases,
        state,
        windows: windows_bucket,
    }) = Box::pin(open(&ctx.bus, &ctx.shutdown)).await
    else {
        return Ok(());
    };
    let metrics = SchedulerMetrics::register(&ctx.metrics);
    let book = Arc::new(std::sync::RwLock::new(Book::default()));
    let cursors = Cursors::default();
    let (changes_tx, changes_rx) = mpsc::unbounded_channel();
    let windows_changes = changes_tx.clone();
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
        parsed: std::sync::Mutex::default(),
    };
    tasks.spawn(follow::follow(
        schedules,
        "schedules",
        ctx.shutdown.clone(),
        move |s| keeper.apply(s),
    ));
    let windows = Windows::new(windows_changes);
    let w = windows.clone();
    tasks.spawn(follow::follow(
        windows_bucket,
        "windows",
        ctx.shutdown.clone(),
        move |s| w.apply(s),
    ));
    let retries = Retries::default();
    let r = retries.clone();
    let c = cursors.clone();
    tasks.spawn(follow::follow(
        state.clone(),
        "scheduler_state",
        ctx.shutdown.clone(),
        move |s| {
            r.apply(s.clone());
            c.apply(s);
        },
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
    tasks.spawn(reactions(
        &ctx,
        book.clone(),
        state.clone(),
        metrics.clone(),
    ));
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
        windows,
        retries,
        shutdown: ctx.shutdown.clone(),
    };
    engine.run().await;
    lease_stop.cancel();
    let _ = lease;
    while tasks.join_next().await.is_some() {}
    tracing::info!("Scheduler stopped.");
    Ok(())
}

/// The buckets the scheduler reads and writes.
#[derive(Debug)]
struct Buckets {
    schedules: kv::Store,
    leases: kv::Store,
    state: kv::Store,
    windows: kv::Store,
}

/// Reacts to finished runs on the shared durable `scheduler` until shutdown.
fn reactions(
    ctx: &SchedulerContext,
    book: book::SharedBook,
    state: kv::Store,
    metrics: SchedulerMetrics,
) -> impl std::future::Future<Output = ()> + Send + 'static {
    let bus = ctx.bus.clone();
    let shutdown = ctx.shutdown.clone();
    async move {
        let Some(spec) = opsc_proto::topology::Topology::shared_consumer(
            bus.prefix(),
            opsc_proto::topology::consumer::SCHEDULER,
        ) else {
            tracing::error!("The topology declares no scheduler consumer.");
            return;
        };
        let handler = std::sync::Arc::new(reactions::Reactions {
            bus: bus.clone(),
            book,
            state,
            metrics,
        });
        opsc_runtime::bus::consume::run(
            bus,
            opsc_runtime::bus::consume::Options::new(spec),
            handler,
            shutdown,
        )
        .await;
    }
}

/// Opens the buckets, retrying while the topology is being provisioned.
async fn open(bus: &Bus, shutdown: &CancellationToken) -> Option<Buckets> {
    loop {
        let opened = async {
            Ok::<_, opsc_runtime::bus::BucketError>(Buckets {
                schedules: bus.bucket(bucket::SCHEDULES).await?,
                leases: bus.bucket(bucket::LEASES).await?,
                state: bus.bucket(bucket::SCHEDULER_STATE).await?,
                windows: bus.bucket(bucket::WINDOWS).await?,
            })
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
