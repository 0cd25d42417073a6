//! What each replica says about itself in `<p>_notify_state`
//! `replica.<id>`, every few seconds: since when it runs, whether delivery
//! is paused, and its delivery counters.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use opsc_proto::notify::keys;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::config::Shared;
use crate::deliver::Counters;

/// `replica.<id>`.
#[derive(Debug, Serialize)]
struct ReplicaDoc<'a> {
    replica: &'a str,
    started_at: DateTime<Utc>,
    seen_at: DateTime<Utc>,
    paused: bool,
    in_flight: u64,
    sent: u64,
    failed: u64,
}

/// The status loop.
#[derive(Debug)]
pub struct StatusLoop {
    /// `<p>_notify_state`.
    pub store: kv::Store,
    /// This replica.
    pub replica: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The configuration (the pause switch).
    pub cfg: Shared,
    /// Counters.
    pub counters: Arc<Counters>,
    /// Cancelled on shutdown.
    pub shutdown: CancellationToken,
}

/// Writes the status every few seconds until shutdown, then removes it.
pub async fn run(s: StatusLoop) {
    let mut tick = tokio::time::interval(Duration::from_secs(3));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let key = keys::replica(&s.replica);
    loop {
        tokio::select! {
            () = s.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let doc = ReplicaDoc {
            replica: &s.replica,
            started_at: s.started_at,
            seen_at: Utc::now(),
            paused: s.cfg.read().is_ok_and(|c| c.control.paused),
            in_flight: s.counters.in_flight.load(Ordering::Relaxed),
            sent: s.counters.sent.load(Ordering::Relaxed),
            failed: s.counters.failed.load(Ordering::Relaxed),
        };
        let Ok(body) = serde_json::to_vec(&doc) else {
            continue;
        };
        if let Err(e) = s.store.put(&key, body.into()).await {
            tracing::debug!(error = %e, "Cannot write the notifier replica status.");
        }
    }
    let _ = s.store.delete(&key).await;
}
