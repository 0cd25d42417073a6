//! What the replicas say about themselves in `<p>_leases`: every replica a
//! heartbeat (`scheduler.replica.<id>`), the leader a summary
//! (`scheduler.status`) for `GET /api/v1/scheduler/status`.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use opsc_proto::schedule::{ReplicaBeat, SchedulerStatusDoc, StatusFire, keys};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Lags kept for the p99 in the summary.
const LAG_WINDOW: Duration = Duration::from_secs(60);

/// The leader's view, shared by the engine (writer) and the status loop.
#[derive(Debug, Clone, Default)]
pub(crate) struct Summary {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Debug, Default)]
struct Inner {
    term: Option<u64>,
    loaded: usize,
    active: usize,
    paused: bool,
    next: Option<(DateTime<Utc>, Uuid)>,
    lags: VecDeque<(Instant, f64)>,
}

impl Summary {
    pub(crate) fn set_leading(&self, term: Option<u64>) {
        if let Ok(mut i) = self.inner.lock() {
            i.term = term;
            if term.is_none() {
                i.lags.clear();
            }
        }
    }

    pub(crate) fn set_book(
        &self,
        loaded: usize,
        active: usize,
        paused: bool,
        next: Option<(DateTime<Utc>, Uuid)>,
    ) {
        if let Ok(mut i) = self.inner.lock() {
            i.loaded = loaded;
            i.active = active;
            i.paused = paused;
            i.next = next;
        }
    }

    pub(crate) fn record_lag(&self, _schedule: Uuid, seconds: f64) {
        if let Ok(mut i) = self.inner.lock() {
            let now = Instant::now();
            i.lags.push_back((now, seconds));
            while i
                .lags
                .front()
                .is_some_and(|(t, _)| now.duration_since(*t) > LAG_WINDOW)
            {
                i.lags.pop_front();
            }
        }
    }

    fn doc(&self, leader: &str) -> Option<SchedulerStatusDoc> {
        let i = self.inner.lock().ok()?;
        let term = i.term?;
        let mut lags: Vec<f64> = i.lags.iter().map(|(_, l)| *l).collect();
        lags.sort_by(f64::total_cmp);
        let p99 = (!lags.is_empty()).then(|| {
            let idx = ((lags.len() as f64) * 0.99).ceil() as usize;
            lags[idx.clamp(1, lags.len()) - 1] * 1000.0
        });
        Some(SchedulerStatusDoc {
            leader: leader.to_owned(),
            term,
            schedules_loaded: i.loaded as u64,
            schedules_active: i.active as u64,
            paused: i.paused,
            next_fire: i
                .next
                .map(|(at, schedule_id)| StatusFire { schedule_id, at }),
            last_lag_ms: i.lags.back().map(|(_, l)| l * 1000.0),
            lag_p99_ms: p99,
            written_at: Utc::now(),
        })
    }
}

/// What the status loop needs.
#[derive(Debug)]
pub(crate) struct StatusLoop {
    /// `<p>_leases`.
    pub store: kv::Store,
    /// This replica.
    pub replica_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// The leader's view.
    pub summary: Summary,
    /// Stops it.
    pub shutdown: CancellationToken,
}

/// Writes the heartbeat every two seconds and, when leading, the summary
/// every second; removes the heartbeat on shutdown.
pub(crate) async fn run(s: StatusLoop) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut n: u64 = 0;
    loop {
        tokio::select! {
            () = s.shutdown.cancelled() => break,
            _ = tick.tick() => {}
        }
        let doc = s.summary.doc(&s.replica_id);
        if n.is_multiple_of(2) {
            let beat = ReplicaBeat {
                replica_id: s.replica_id.clone(),
                version: opsc_runtime::VERSION.to_owned(),
                started_at: s.started_at,
                seen_at: Utc::now(),
                leader: doc.is_some(),
            };
            put(&s.store, &keys::replica(&s.replica_id), &beat).await;
        }
        if let Some(doc) = doc {
            put(&s.store, keys::STATUS, &doc).await;
        }
        n += 1;
    }
    let _ = tokio::time::timeout(
        Duration::from_secs(2),
        s.store.delete(keys::replica(&s.replica_id)),
    )
    .await;
}

async fn put<T: serde::Serialize>(store: &kv::Store, key: &str, value: &T) {
    let body = serde_json::to_vec(value).unwrap_or_default();
    if let Err(e) = store.put(key, body.into()).await {
        tracing::debug!(key, error = %e, "A scheduler status entry was not written.");
    }
}
