//! Retries decided and waiting for their time, in `<p>_scheduler_state`
//! under `retry.<run id>`: durable, so a retry decided by one replica is
//! published by whichever leads when it falls due, exactly once (its
//! intent's idempotency key is `retry:<root>:<attempt>`).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use opsc_proto::schedule::{PendingRetry, keys};
use uuid::Uuid;

use crate::book::id_after;
use crate::follow::Seen;

/// A pending retry and the revision of its entry.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    /// The retry.
    pub retry: PendingRetry,
    /// The KV revision holding it.
    pub revision: u64,
}

/// The pending retries every replica holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Retries {
    inner: Arc<RwLock<HashMap<Uuid, Waiting>>>,
}

impl Retries {
    /// Takes one thing the watch saw.
    pub(crate) fn apply(&self, seen: Seen) {
        let Ok(mut map) = self.inner.write() else {
            return;
        };
        match seen {
            Seen::Put {
                key,
                value,
                revision,
            } => {
                let Some(id) = id_after(&key, keys::RETRY_PREFIX) else {
                    return;
                };
                match serde_json::from_slice::<PendingRetry>(&value) {
                    Ok(retry) => {
                        map.insert(id, Waiting { retry, revision });
                    }
                    Err(e) => {
                        tracing::warn!(key, error = %e, "An unreadable pending retry is ignored.");
                    }
                }
            }
            Seen::Gone { key } => {
                if let Some(id) = id_after(&key, keys::RETRY_PREFIX) {
                    map.remove(&id);
                }
            }
            Seen::Reopened => map.clear(),
            Seen::Loaded => {}
        }
    }

    /// Every pending retry.
    pub(crate) fn all(&self) -> Vec<Waiting> {
        self.inner
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Forgets one (after it was published and its entry deleted).
    pub(crate) fn forget(&self, run: Uuid) {
        if let Ok(mut m) = self.inner.write() {
            m.remove(&run);
        }
    }
}
