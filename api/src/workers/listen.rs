//! The heartbeat subscription that feeds the [`Registry`](super::Registry).

use std::time::{Duration, Instant};

use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::events::WorkerHeartbeat;
use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// How often expired workers are forgotten (listing never shows them anyway).
const PRUNE_EVERY: Duration = Duration::from_secs(5);

/// Subscribes to every pool's heartbeats and records them in
/// `state.workers` until shutdown. Core NATS re-subscribes by itself after
/// a reconnect.
pub async fn listen(state: Core, shutdown: CancellationToken) -> anyhow::Result<()> {
    let subject = state.bus.subjects.worker_heartbeats_all();
    let mut beats = loop {
        match state.bus.client.subscribe(subject.clone()).await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(error = %e, %subject, "Heartbeat subscription failed; retrying.");
                tokio::select! {
                    () = shutdown.cancelled() => return Ok(()),
                    () = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
    };
    let mut prune = tokio::time::interval(PRUNE_EVERY);
    prune.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => break,
            m = beats.next() => {
                let Some(m) = m else { break };
                match CloudEvent::<WorkerHeartbeat>::decode(&m.payload) {
                    Ok(event) => state.workers.observe(event.data, Instant::now(), chrono::Utc::now()),
                    Err(e) => tracing::debug!(error = %e, subject = %m.subject, "Heartbeat not understood; ignored."),
                }
            }
            _ = prune.tick() => {
                for (pool, worker_id) in state.workers.prune(Instant::now()) {
                    tracing::info!(%pool, %worker_id, "Worker missed its heartbeats; forgotten.");
                }
            }
        }
    }
    let _ = beats.unsubscribe().await;
    Ok(())
}
