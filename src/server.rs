//! Assembles the roles of one process: one bus connection, one metrics
//! registry, one shutdown token, and the operability endpoints.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use opsc_api::{ApiContext, Store};
use opsc_runtime::bus::{self, StartOptions};
use opsc_runtime::{Config, Health, Metrics, Role};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// What to start.
#[derive(Debug)]
pub struct Launch {
    /// Validated configuration.
    pub config: Arc<Config>,
    /// The roles of this process.
    pub roles: Vec<Role>,
    /// A store already prepared (dev), else the api prepares its own.
    pub store: Option<Store>,
}

/// Runs the roles until SIGTERM, then drains within `shutdown.drain_timeout_secs`.
pub async fn run(launch: Launch) -> anyhow::Result<()> {
    let Launch {
        config,
        roles,
        store,
    } = launch;
    let has = |r: Role| roles.contains(&r);
    let names = if roles.len() == Role::ALL.len() {
        "all".to_owned()
    } else {
        roles.iter().map(|r| r.name()).collect::<Vec<_>>().join("+")
    };
    let shutdown = CancellationToken::new();
    opsc_runtime::shutdown::cancel_on_signal(shutdown.clone());
    let metrics = Metrics::new(&names);

    // The database first: a wrong URL or an old schema stops the api at once.
    let store = match (has(Role::Api), store) {
        (false, _) => None,
        (true, Some(s)) => Some(s),
        (true, None) => Some(opsc_api::prepare(&config).await?.0),
    };

    let extra = if has(Role::Worker) {
        opsc_workers::consumers(&config.nats.prefix, &config.worker)
    } else {
        Vec::new()
    };
    let bus_rt = bus::start(StartOptions {
        nats: &config.nats,
        roles: &names,
        extra_consumers: extra,
        metrics: &metrics,
        shutdown: shutdown.clone(),
    })
    .await?;
    let checks = bus_rt.checks();
    let bus = bus_rt.bus.clone();

    let mut tasks: JoinSet<(&'static str, anyhow::Result<()>)> = JoinSet::new();
    if has(Role::Worker) {
        let ctx = opsc_workers::WorkerContext {
            bus: bus.clone(),
            config: config.worker.clone(),
            metrics: metrics.clone(),
            seal: config.worker_seal_key()?,
            host: opsc_workers::host::Host::from_config(&config.worker, &config.pools)?,
            shutdown: shutdown.clone(),
        };
        tasks.spawn(async move { ("worker", opsc_workers::run(ctx).await) });
    }
    if has(Role::Scheduler) {
        let ctx = opsc_scheduler::SchedulerContext {
            bus: bus.clone(),
            config: config.scheduler.clone(),
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
        };
        tasks.spawn(async move { ("scheduler", Box::pin(opsc_scheduler::run(ctx)).await) });
    }
    if has(Role::Notifier) {
        let ctx = opsc_notifier::NotifierContext {
            bus: bus.clone(),
            config: config.notifier.clone(),
            seal_key: config.notifier_seal_key()?,
            metrics: metrics.clone(),
            shutdown: shutdown.clone(),
        };
        tasks.spawn(async move { ("notifier", Box::pin(opsc_notifier::run(ctx)).await) });
    }
    if let Some(store) = store {
        let ctx = ApiContext {
            config: config.clone(),
            store,
            bus: bus.clone(),
            metrics: metrics.clone(),
            checks,
            shutdown: shutdown.clone(),
        };
        tasks.spawn(async move { ("api", opsc_api::serve(ctx).await) });
    } else {
        let addr = match roles.first() {
            Some(Role::Scheduler) => config.scheduler.health_addr,
            Some(Role::Notifier) => config.notifier.health_addr,
            _ => config.worker.health_addr,
        };
        let health = Health::new(checks, metrics.clone());
        let token = shutdown.clone();
        tasks.spawn(async move { ("health", health.serve(addr, token).await) });
    }
    tracing::info!(roles = %names, prefix = %config.nats.prefix, "OpsConductor started.");

    let first_failure = supervise(&mut tasks, &shutdown, config.shutdown.drain_timeout_secs).await;
    // Never hang on NATS while exiting.
    let _ = tokio::time::timeout(Duration::from_secs(2), bus.client.flush()).await;
    // The spans of the drain, exported before exit (bounded like one export).
    let export = Duration::from_secs(config.telemetry.export_timeout_secs + 1);
    let _ = tokio::time::timeout(export, opsc_runtime::telemetry::shutdown()).await;
    match first_failure {
        Some((role, e)) => Err(e).with_context(|| format!("the {role} role failed")),
        None => {
            tracing::info!("Stopped cleanly.");
            Ok(())
        }
    }
}

/// Waits for every task; the first failure stops the others. After shutdown
/// starts, tasks get `drain_secs` to finish before they are aborted.
async fn supervise(
    tasks: &mut JoinSet<(&'static str, anyhow::Result<()>)>,
    shutdown: &CancellationToken,
    drain_secs: u64,
) -> Option<(&'static str, anyhow::Error)> {
    let mut failure = None;
    loop {
        let next = if shutdown.is_cancelled() {
            match tokio::time::timeout(Duration::from_secs(drain_secs), tasks.join_next()).await {
                Ok(n) => n,
                Err(_) => {
                    tracing::warn!(drain_secs, "Drain timeout passed; aborting what is left.");
                    tasks.abort_all();
                    return failure;
                }
            }
        } else {
            tokio::select! {
                n = tasks.join_next() => n,
                () = shutdown.cancelled() => continue,
            }
        };
        match next {
            None => return failure,
            Some(Ok((_, Ok(())))) => {
                if !shutdown.is_cancelled() {
                    shutdown.cancel();
                }
            }
            Some(Ok((role, Err(e)))) => {
                tracing::error!(role, error = %format!("{e:#}"), "Role failed; stopping.");
                shutdown.cancel();
                failure.get_or_insert((role, e));
            }
            Some(Err(join)) => {
                tracing::error!(error = %join, "Role task panicked; stopping.");
                shutdown.cancel();
                failure.get_or_insert(("task", anyhow::anyhow!("task panicked: {join}")));
            }
        }
    }
}
