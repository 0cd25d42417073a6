//! The notifier role: consumes notices and notification requests, applies rules, preferences, quiet hours and escalation, and delivers through channels (email, Slack, Teams, webhooks) with retries and a dead-letter queue. It reads channel and rule configuration from a KV bucket the api keeps in step with PostgreSQL.
//!
//! It must not open a database connection or import the api crate.
//!
//! - [`config`]: follows `<p>_notify_config` into one snapshot.
//! - [`decide`]: from a notice to deliveries (pure).
//! - [`notices`], [`commands`]: the two durable consumers.
//! - [`deliver`]: one attempt, at-least-once with `<p>_notify_sent`.
//! - [`ticker`]: digests and escalations that fall due.
//! - [`status`], [`metrics`]: what the replica says about itself.

pub mod channels;
pub mod commands;
pub mod config;
pub mod decide;
pub mod deliver;
pub mod follow;
pub mod metrics;
pub mod notices;
pub mod render;
pub mod state;
pub mod status;
pub mod ticker;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::topology::{Topology, bucket, consumer};
use opsc_runtime::Metrics;
use opsc_runtime::bus::Bus;
use opsc_runtime::bus::consume::{self, Options};
use opsc_runtime::config::NotifierConfig;
use opsc_runtime::keys::SealKey;
use tokio_util::sync::CancellationToken;

pub use channels::Registry;

/// Everything the notifier needs, built once by the binary.
#[derive(Debug)]
pub struct NotifierContext {
    /// The bus.
    pub bus: Bus,
    /// The `[notifier]` settings.
    pub config: NotifierConfig,
    /// The key that opens channel secrets.
    pub seal_key: SealKey,
    /// Process metrics.
    pub metrics: Metrics,
    /// Cancelled on SIGTERM.
    pub shutdown: CancellationToken,
}

/// Runs the notifier with every channel kind until shutdown.
pub async fn run(ctx: NotifierContext) -> anyhow::Result<()> {
    Box::pin(run_with(ctx, channels::registry())).await
}

/// Runs the notifier with the channel kinds of `registry` until shutdown.
pub async fn run_with(ctx: NotifierContext, registry: Registry) -> anyhow::Result<()> {
    let replica = format!(
        "notifier-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    tracing::info!(prefix = %ctx.bus.prefix(), replica = %replica, "Notifier started.");
    let Some((cfg_store, state_store, sent_store)) = Box::pin(open(&ctx.bus, &ctx.shutdown)).await
    else {
        return Ok(());
    };
    let metrics = metrics::NotifierMetrics::register(&ctx.metrics);
    let cfg: config::Shared = Arc::default();
    let counters = Arc::new(deliver::Counters::default());
    let deliverer = deliver::Deliverer {
        bus: ctx.bus.clone(),
        sent: sent_store,
        registry: Arc::new(registry),
        cfg: cfg.clone(),
        limiter: deliver::limit::Limiter::default(),
        metrics: metrics.clone(),
        replica: replica.clone(),
        counters: counters.clone(),
        retry_base_ms: ctx.config.retry_base_ms.clamp(100, 60_000),
        inflight: Arc::default(),
    };
    let mut tasks = tokio::task::JoinSet::new();
    let (c, seal, refused) = (
        cfg.clone(),
        ctx.seal_key.clone(),
        metrics.refused_documents.clone(),
    );
    tasks.spawn(follow::follow(
        cfg_store,
        "notify_config",
        ctx.shutdown.clone(),
        move |seen| {
            if let Ok(mut snap) = c.write() {
                let before = snap.channels.len() + snap.rules.len() + snap.prefs.len();
                let put = matches!(seen, follow::Seen::Put { .. });
                snap.apply(&seal, seen);
                if put && snap.channels.len() + snap.rules.len() + snap.prefs.len() < before {
                    refused.inc();
                }
            }
        },
    ));
    let concurrency = usize::try_from(ctx.config.concurrency.clamp(1, 256)).unwrap_or(16);
    if let Some(spec) = Topology::shared_consumer(ctx.bus.prefix(), consumer::NOTIFIER_EVENTS) {
        let handler = Arc::new(notices::Notices {
            d: deliverer.clone(),
            state: state_store.clone(),
        });
        tasks.spawn(consume::run(
            ctx.bus.clone(),
            Options::new(spec).concurrency(concurrency),
            handler,
            ctx.shutdown.clone(),
        ));
    } else {
        tracing::error!("The topology declares no notifier-events consumer.");
    }
    if let Some(spec) = Topology::shared_consumer(ctx.bus.prefix(), consumer::NOTIFIER_COMMANDS) {
        let handler = Arc::new(commands::Commands {
            d: deliverer.clone(),
            state: state_store.clone(),
        });
        tasks.spawn(consume::run(
            ctx.bus.clone(),
            Options::new(spec).concurrency(concurrency),
            handler,
            ctx.shutdown.clone(),
        ));
    } else {
        tracing::error!("The topology declares no notifier-commands consumer.");
    }
    tasks.spawn(
        ticker::Ticker {
            d: deliverer,
            state: state_store.clone(),
            every: Duration::from_secs(ctx.config.tick_secs.clamp(1, 300)),
            shutdown: ctx.shutdown.clone(),
        }
        .run(),
    );
    tasks.spawn(status::run(status::StatusLoop {
        store: state_store,
        replica,
        started_at: chrono::Utc::now(),
        cfg,
        counters,
        shutdown: ctx.shutdown.clone(),
    }));
    while tasks.join_next().await.is_some() {}
    tracing::info!("Notifier stopped.");
    Ok(())
}

/// Opens the buckets, retrying while the topology is being provisioned.
async fn open(
    bus: &Bus,
    shutdown: &CancellationToken,
) -> Option<(kv::Store, kv::Store, kv::Store)> {
    loop {
        let opened = async {
            Ok::<_, opsc_runtime::bus::BucketError>((
                bus.bucket(bucket::NOTIFY_CONFIG).await?,
                bus.bucket(bucket::NOTIFY_STATE).await?,
                bus.bucket(bucket::NOTIFY_SENT).await?,
            ))
        }
        .await;
        match opened {
            Ok(b) => return Some(b),
            Err(e) => tracing::debug!(error = %e, "Notifier buckets not ready yet."),
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}
