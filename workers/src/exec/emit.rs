//! Run events of one shard, with the per-run `sequence` extension:
//! `shard index << 32 | counter`, so events of one shard are totally ordered
//! and shards never collide.
//!
//! Events are sent without waiting for each acknowledgement (one
//! connection stores them in the order sent) and the acknowledgements are
//! collected; [`Emitter::emit_durable`] waits for everything sent so far.
//! A step's `step_started` is durable before the step runs: a worker that
//! dies mid-step must leave the record that the step had started, or its
//! successor could repeat a step that is not safe to repeat.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::events::RunEventData;
use opsc_runtime::bus::{Bus, Encoded, Pending};
use uuid::Uuid;

/// Sends of one event tried at most.
const ATTEMPTS: u32 = 5;

/// Publishes the events of one shard.
#[derive(Debug)]
pub struct Emitter {
    bus: Bus,
    run_id: Uuid,
    base: u64,
    counter: AtomicU64,
    pending: Mutex<Vec<(Encoded, Option<Pending>)>>,
}

impl Emitter {
    /// For shard `index` of `run_id`.
    pub fn new(bus: Bus, run_id: Uuid, index: u32) -> Self {
        Self {
            bus,
            run_id,
            base: u64::from(index) << 32,
            counter: AtomicU64::new(0),
            pending: Mutex::default(),
        }
    }

    /// Continues the counter after `last` (a redelivered shard: the events
    /// of the lost worker keep their place in the run's order).
    pub fn continue_after(&self, last: u64) {
        self.counter.fetch_max(last, Ordering::Relaxed);
    }

    /// Sends `data` as `…evt.run.<run_id>.<token>`; `id` (when given) makes
    /// a repeat of the same fact deduplicate. Its acknowledgement is
    /// awaited by the next [`Emitter::flush`].
    pub async fn emit<T: RunEventData + opsc_proto::Routed>(&self, data: T, id: Option<String>) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let mut envelope = CloudEvent::new(self.bus.source.clone(), data)
            .with_subject(self.run_id.to_string())
            .with_sequence(self.base | n);
        if let Some(id) = id {
            envelope.id = id;
        }
        let encoded = Encoded::of(&self.bus.subjects, &envelope);
        let sent = self.bus.send_encoded(encoded.clone()).await.ok();
        if let Ok(mut p) = self.pending.lock() {
            p.push((encoded, sent));
        }
    }

    /// [`Emitter::emit`], then waits until JetStream stored it and every
    /// event sent before.
    pub async fn emit_durable<T: RunEventData + opsc_proto::Routed>(
        &self,
        data: T,
        id: Option<String>,
    ) {
        self.emit(data, id).await;
        self.flush().await;
    }

    /// Waits until every event sent so far is stored, sending again (same
    /// id: a repeat is dropped) what was not acknowledged, a few times.
    pub async fn flush(&self) {
        let mut todo: Vec<(Encoded, Option<Pending>)> = self
            .pending
            .lock()
            .map(|mut p| std::mem::take(&mut *p))
            .unwrap_or_default();
        for attempt in 1..=ATTEMPTS {
            let mut failed = Vec::new();
            for (encoded, sent) in todo {
                let stored = match sent {
                    Some(p) => p.ack().await.is_ok(),
                    None => false,
                };
                if !stored {
                    failed.push(encoded);
                }
            }
            if failed.is_empty() {
                return;
            }
            if attempt == ATTEMPTS {
                tracing::error!(run_id = %self.run_id, lost = failed.len(), "Run events lost after {ATTEMPTS} attempts.");
                return;
            }
            tracing::warn!(run_id = %self.run_id, attempt, count = failed.len(), "Run events not acknowledged; sending again.");
            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            todo = Vec::with_capacity(failed.len());
            for encoded in failed {
                let sent = self.bus.send_encoded(encoded.clone()).await.ok();
                todo.push((encoded, sent));
            }
        }
    }
}
