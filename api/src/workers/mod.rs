//! Live workers, known from their heartbeats.
//!
//! Workers publish `io.opsconductor.worker.heartbeat.v1` on core NATS
//! (`<p>.ctl.worker.heartbeat.<pool>`). The api subscribes ([`listen`]) and
//! keeps each worker's latest heartbeat in a [`Registry`]: a worker counts
//! as live until it misses [`MISSED_BEATS`] heartbeats in a row. Nothing is
//! stored: after an api restart the table fills again within one heartbeat
//! period.

mod listen;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use opsc_proto::events::WorkerHeartbeat;
use schemars::JsonSchema;
use serde::Serialize;

pub use listen::listen;

/// Heartbeats a worker may miss before it is considered gone.
pub const MISSED_BEATS: u32 = 3;

/// A live worker as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct WorkerView {
    /// Unique per worker process.
    pub id: String,
    /// Its pool.
    pub pool: String,
    /// OpsConductor version it runs.
    pub version: String,
    /// Dispatches it executes at once at most.
    pub concurrency: u32,
    /// Dispatches it executed at its last heartbeat (its current load).
    pub in_flight: u32,
    /// Draining: stopping, taking no new work.
    pub draining: bool,
    /// When the worker process started.
    pub started_at: DateTime<Utc>,
    /// When the api received its last heartbeat.
    pub last_heartbeat_at: DateTime<Utc>,
    /// Seconds between its heartbeats; it is dropped after three missed ones.
    pub heartbeat_secs: u64,
}

#[derive(Debug)]
struct Entry {
    beat: WorkerHeartbeat,
    /// When it arrived, on the monotonic clock (expiry).
    seen: Instant,
    /// When it arrived, on the wall clock (shown).
    seen_at: DateTime<Utc>,
}

/// The latest heartbeat of every live worker; cheap to clone (shared).
#[derive(Debug, Clone)]
pub struct Registry {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    /// The period assumed for heartbeats that do not say theirs.
    default_period: Duration,
}

impl Registry {
    /// An empty registry; `default_period` applies to heartbeats without
    /// `heartbeat_secs` (the api's own `worker.heartbeat_secs`).
    pub fn new(default_period: Duration) -> Self {
        Self {
            entries: Arc::default(),
            default_period,
        }
    }

    fn period(&self, beat: &WorkerHeartbeat) -> Duration {
        if beat.heartbeat_secs == 0 {
            self.default_period
        } else {
            Duration::from_secs(beat.heartbeat_secs)
        }
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.seen) > self.period(&e.beat) * MISSED_BEATS
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        // A panic while holding the lock leaves plain data behind: keep going.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a heartbeat received at `now` (monotonic) / `at` (wall clock).
    pub fn observe(&self, beat: WorkerHeartbeat, now: Instant, at: DateTime<Utc>) {
        self.lock().insert(
            beat.worker_id.clone(),
            Entry {
                beat,
                seen: now,
                seen_at: at,
            },
        );
    }

    /// Forgets workers that missed their heartbeats; their pools and ids.
    pub fn prune(&self, now: Instant) -> Vec<(String, String)> {
        let mut gone = Vec::new();
        self.lock().retain(|id, e| {
            let expired = self.expired(e, now);
            if expired {
                gone.push((e.beat.pool.clone(), id.clone()));
            }
            !expired
        });
        gone
    }

    /// The live workers (of `pool`, when given), sorted by pool, then id.
    pub fn live(&self, pool: Option<&str>, now: Instant) -> Vec<WorkerView> {
        let mut out: Vec<WorkerView> = self
            .lock()
            .values()
            .filter(|e| !self.expired(e, now))
            .filter(|e| pool.is_none_or(|p| e.beat.pool == p))
            .map(|e| WorkerView {
                id: e.beat.worker_id.clone(),
                pool: e.beat.pool.clone(),
                version: e.beat.version.clone(),
                concurrency: e.beat.concurrency,
                in_flight: e.beat.in_flight,
                draining: e.beat.draining,
                started_at: e.beat.started_at,
                last_heartbeat_at: e.seen_at,
                heartbeat_secs: self.period(&e.beat).as_secs(),
            })
            .collect();
        out.sort_by(|a, b| (&a.pool, &a.id).cmp(&(&b.pool, &b.id)));
        out
    }
}

#[cfg(test)]
mod tests;
