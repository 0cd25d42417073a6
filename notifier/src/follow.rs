//! Following a KV bucket: every current entry first, then every change,
//! reopened after the connection drops (the notifier keeps its
//! configuration this way, on every replica).

use std::time::Duration;

use async_nats::jetstream::kv::{self, Operation};
use bytes::Bytes;
use futures::StreamExt as _;
use tokio_util::sync::CancellationToken;

/// One thing seen in the bucket.
#[derive(Debug, Clone)]
pub enum Seen {
    /// A key holds this value now.
    Put {
        /// The key.
        key: String,
        /// Its value.
        value: Bytes,
        /// Its revision.
        revision: u64,
    },
    /// A key was deleted or purged.
    Gone {
        /// The key.
        key: String,
    },
    /// Every entry that existed when the watch opened has been seen.
    Loaded,
    /// The watch is being reopened; everything will be seen again.
    Reopened,
}

/// Feeds `on` with what the bucket holds and how it changes, until shutdown.
pub async fn follow(
    store: kv::Store,
    what: &'static str,
    shutdown: CancellationToken,
    mut on: impl FnMut(Seen),
) {
    let mut first = true;
    loop {
        if !first {
            on(Seen::Reopened);
            tokio::select! {
                () = shutdown.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
        first = false;
        let empty = match store.status().await {
            Ok(s) => s.values() == 0,
            Err(e) => {
                tracing::warn!(bucket = what, error = %e, "Cannot read the bucket's status; retrying.");
                continue;
            }
        };
        let mut watch = match store.watch_with_history(">").await {
            Ok(w) => w,
            Err(e) => {
                tracing::warn!(bucket = what, error = %e, "Cannot watch the bucket; retrying.");
                continue;
            }
        };
        let mut loaded = empty;
        if loaded {
            on(Seen::Loaded);
        }
        loop {
            let next = tokio::select! {
                () = shutdown.cancelled() => return,
                n = watch.next() => n,
            };
            match next {
                Some(Ok(entry)) => {
                    let current = entry.seen_current || entry.delta == 0;
                    on(match entry.operation {
                        Operation::Put => Seen::Put {
                            key: entry.key,
                            value: entry.value,
                            revision: entry.revision,
                        },
                        Operation::Delete | Operation::Purge => Seen::Gone { key: entry.key },
                    });
                    if current && !loaded {
                        loaded = true;
                        on(Seen::Loaded);
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(bucket = what, error = %e, "The bucket watch failed; reopening.");
                    break;
                }
                None => break,
            }
        }
    }
}
