//! What every KV mirror of the api (schedules, dependencies, maintenance
//! windows) runs on: the write right after a committed change
//! ([`after_write`]), and the reconcile loop ([`keep_in_step`]) — a pass at
//! start, after every reconnect to NATS and every [`RECONCILE_EVERY`],
//! retried after [`RETRY_AFTER`] when a pass fails, until shutdown.

use std::fmt::Display;
use std::future::Future;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// How often a mirror is reconciled with PostgreSQL when nothing happens.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(30);

/// How soon a failed pass is tried again.
const RETRY_AFTER: Duration = Duration::from_secs(5);

/// How long the write after a committed change may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(3);

/// Brings the key of a row just written in step with `write`; a failure
/// is logged and left to the reconcile, the committed write stands. `what`
/// names the mirror and `id` the row in the logs.
pub async fn after_write<Fut, E>(core: &Core, what: &'static str, id: uuid::Uuid, write: Fut)
where
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    if !core.bus.is_connected() {
        tracing::warn!(mirror = what, %id, "Not connected to NATS; mirrored by the next reconcile.");
        return;
    }
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => {
            tracing::warn!(mirror = what, %id, error = %e, "Not mirrored; the next reconcile repairs it.");
        }
        Err(_) => {
            tracing::warn!(mirror = what, %id, "Mirroring timed out; the next reconcile repairs it.");
        }
    }
}

/// Runs `pass` at start, after every reconnect and every
/// [`RECONCILE_EVERY`], until shutdown. A pass answers how many entries it
/// repaired; `what` names the mirror in the logs.
pub async fn keep_in_step<F, Fut, E>(
    core: Core,
    shutdown: CancellationToken,
    what: &'static str,
    pass: F,
) where
    F: Fn(Core) -> Fut,
    Fut: Future<Output = Result<usize, E>>,
    E: Display,
{
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut connected = false;
    let mut last_done: Option<Instant> = None;
    let mut last_try: Option<Instant> = None;
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now_connected = core.bus.is_connected();
        let reconnected = now_connected && !connected;
        connected = now_connected;
        if !connected {
            continue;
        }
        let due = last_done.is_none_or(|t| t.elapsed() >= RECONCILE_EVERY);
        let waited = last_try.is_none_or(|t| t.elapsed() >= RETRY_AFTER);
        if !(reconnected || (due && waited)) {
            continue;
        }
        last_try = Some(Instant::now());
        match pass(core.clone()).await {
            Ok(repaired) => {
                last_done = Some(Instant::now());
                if repaired > 0 {
                    tracing::info!(
                        mirror = what,
                        repaired,
                        "KV mirror reconciled with PostgreSQL."
                    );
                }
            }
            Err(e) => {
                tracing::warn!(mirror = what, error = %e, "KV mirror not reconciled; trying again shortly.");
            }
        }
    }
}
