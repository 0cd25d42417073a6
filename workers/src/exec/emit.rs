//! Run events of one shard, with the per-run `sequence` extension:
//! `shard index << 32 | counter`, so events of one shard are totally ordered
//! and shards never collide.

use std::sync::atomic::{AtomicU64, Ordering};

use opsc_proto::{CloudEvent, EventType};
use opsc_runtime::bus::Bus;
use uuid::Uuid;

/// Publishes the events of one shard.
#[derive(Debug)]
pub struct Emitter {
    bus: Bus,
    run_id: Uuid,
    base: u64,
    counter: AtomicU64,
}

impl Emitter {
    /// For shard `index` of `run_id`.
    pub fn new(bus: Bus, run_id: Uuid, index: u32) -> Self {
        Self {
            bus,
            run_id,
            base: u64::from(index) << 32,
            counter: AtomicU64::new(0),
        }
    }

    /// Continues the counter after `last` (a redelivered shard: the events
    /// of the lost worker keep their place in the run's order).
    pub fn continue_after(&self, last: u64) {
        self.counter.fetch_max(last, Ordering::Relaxed);
    }

    /// Publishes `data` as `…evt.run.<run_id>.<event>` and waits for the ack;
    /// `id` (when given) makes a repeat of the same fact deduplicate.
    pub async fn emit<T: EventType>(&self, event: &str, data: T, id: Option<String>) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let mut envelope = CloudEvent::new(self.bus.source.clone(), data)
            .with_subject(self.run_id.to_string())
            .with_sequence(self.base | n);
        if let Some(id) = id {
            envelope.id = id;
        }
        let subject = self.bus.subjects.run_event(&self.run_id.to_string(), event);
        // Events matter more than speed: retry a few times before giving up.
        for attempt in 1..=5_u32 {
            match self.bus.publish(subject.clone(), &envelope).await {
                Ok(_) => return,
                Err(e) if attempt == 5 => {
                    tracing::error!(error = %e, "Run event lost after 5 attempts.");
                }
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "Run event not acknowledged; retrying.");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * u64::from(attempt)))
                        .await;
                }
            }
        }
    }
}
