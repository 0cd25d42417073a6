//! The cursors: how far each schedule has been handled, in
//! `<p>_scheduler_state`. Every replica follows them; only the leader writes
//! them, each by compare-and-set on the revision it last saw, so two
//! writers cannot both move one cursor and a deposed leader's late write
//! fails.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use async_nats::jetstream::kv::{self, CreateErrorKind, UpdateErrorKind};
use opsc_proto::schedule::{Cursor, keys};
use uuid::Uuid;

use crate::follow::Seen;

/// A cursor and the revision of its entry.
#[derive(Debug, Clone)]
pub(crate) struct Known {
    /// The cursor.
    pub cursor: Cursor,
    /// The KV revision holding it.
    pub revision: u64,
}

/// The cursors every replica holds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cursors {
    inner: Arc<RwLock<HashMap<Uuid, Known>>>,
    /// Entries that do not read, by revision: the next write replaces them
    /// (an unreadable cursor must not stop its schedule for good).
    unreadable: Arc<RwLock<HashMap<Uuid, u64>>>,
    loaded: Arc<std::sync::atomic::AtomicBool>,
}

/// Why a cursor was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CursorError {
    /// Someone else wrote it since we read it.
    #[error("the cursor of schedule {0} was written by another replica")]
    Conflict(Uuid),
    /// The bus did not take the write.
    #[error("cannot write the cursor of schedule {id}: {reason}")]
    Bus {
        /// The schedule.
        id: Uuid,
        /// Why.
        reason: String,
    },
}

impl Cursors {
    /// The cursor of a schedule, if it has one.
    pub(crate) fn get(&self, id: Uuid) -> Option<Known> {
        self.inner.read().ok().and_then(|m| m.get(&id).cloned())
    }

    /// Whether the bucket's current content has been read.
    pub(crate) fn loaded(&self) -> bool {
        self.loaded.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Takes one thing the watch saw.
    pub(crate) fn apply(&self, seen: Seen) {
        match seen {
            Seen::Loaded => self
                .loaded
                .store(true, std::sync::atomic::Ordering::Release),
            Seen::Reopened => self
                .loaded
                .store(false, std::sync::atomic::Ordering::Release),
            _ => {}
        }
        let Ok(mut map) = self.inner.write() else {
            return;
        };
        match seen {
            Seen::Put {
                key,
                value,
                revision,
            } => {
                let Some(id) = cursor_id(&key) else { return };
                match serde_json::from_slice::<Cursor>(&value) {
                    Ok(cursor) => {
                        let newer = map.get(&id).is_none_or(|k| k.revision < revision);
                        if newer {
                            map.insert(id, Known { cursor, revision });
                        }
                    }
                    Err(e) => {
                        tracing::error!(key, error = %e, "An unreadable cursor is ignored; the next write replaces it.");
                        map.remove(&id);
                        if let Ok(mut bad) = self.unreadable.write() {
                            bad.insert(id, revision);
                        }
                    }
                }
            }
            Seen::Gone { key, .. } => {
                if let Some(id) = cursor_id(&key) {
                    map.remove(&id);
                }
            }
            Seen::Reopened | Seen::Loaded => {}
        }
    }

    /// Moves a schedule's cursor, by compare-and-set.
    pub(crate) async fn write(
        &self,
        store: &kv::Store,
        id: Uuid,
        cursor: Cursor,
    ) -> Result<(), CursorError> {
        let key = keys::cursor(id);
        let body = serde_json::to_vec(&cursor).unwrap_or_default().into();
        let known = self.get(id).map(|k| k.revision).or_else(|| {
            self.unreadable
                .read()
                .ok()
                .and_then(|m| m.get(&id).copied())
        });
        let written = match known {
            Some(revision) => store.update(&key, body, revision).await.map_err(|e| {
                if e.kind() == UpdateErrorKind::WrongLastRevision {
                    CursorError::Conflict(id)
                } else {
                    CursorError::Bus {
                        id,
                        reason: e.to_string(),
                    }
                }
            }),
            None => store.create(&key, body).await.map_err(|e| {
                if e.kind() == CreateErrorKind::AlreadyExists {
                    CursorError::Conflict(id)
                } else {
                    CursorError::Bus {
                        id,
                        reason: e.to_string(),
                    }
                }
            }),
        };
        match written {
            Ok(revision) => {
                if let Ok(mut bad) = self.unreadable.write() {
                    bad.remove(&id);
                }
                if let Ok(mut map) = self.inner.write() {
                    let newer = map.get(&id).is_none_or(|k| k.revision < revision);
                    if newer {
                        map.insert(id, Known { cursor, revision });
                    }
                }
                Ok(())
            }
            Err(CursorError::Conflict(id)) => {
                // Read it again so the next attempt starts from the truth.
                if let Ok(Some(entry)) = store.entry(&key).await {
                    match serde_json::from_slice::<Cursor>(&entry.value) {
                        Ok(cursor) => {
                            if let Ok(mut map) = self.inner.write() {
                                map.insert(
                                    id,
                                    Known {
                                        cursor,
                                        revision: entry.revision,
                                    },
                                );
                            }
                        }
                        Err(_) => {
                            if let Ok(mut bad) = self.unreadable.write() {
                                bad.insert(id, entry.revision);
                            }
                        }
                    }
                }
                Err(CursorError::Conflict(id))
            }
            Err(e) => Err(e),
        }
    }
}

fn cursor_id(key: &str) -> Option<Uuid> {
    key.strip_prefix(keys::CURSOR_PREFIX)
        .and_then(|s| Uuid::parse_str(s).ok())
}
