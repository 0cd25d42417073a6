//! The KV mirror: `<p>_windows` kept equal to the `maintenance_windows`
//! table, so the scheduler (which has no database) skips and defers fires
//! by what PostgreSQL holds.
//!
//! `window.<id>` holds the [`WindowDoc`] of each row. After every
//! committed write the row's key is brought in step ([`after_write`]); a
//! failure is logged and left to the reconcile, which runs at start, after
//! every reconnect and every 30 seconds ([`run`]): it puts the documents
//! whose revision differs from the row's and deletes `window.*` keys that
//! have no row. Every write is a compare-and-set on the key's last
//! revision, made after reading the row afresh, so a reconcile racing a
//! request's write never leaves an older document behind the newer one.

use std::collections::{HashMap, HashSet};

use async_nats::jetstream::kv::{self, Operation};
use futures::TryStreamExt as _;
use opsc_proto::schedule::{WindowDoc, keys};
use opsc_proto::topology::bucket;
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::WindowError;
use super::view::doc_of;
use crate::core::Core;
use crate::store::maintenance_window as window;

/// Compare-and-set attempts on one key.
const TRIES: usize = 3;

fn kv_error(what: &str, e: &dyn std::fmt::Display) -> WindowError {
    WindowError::Unavailable(format!("{what}: {e}"))
}

async fn open(core: &Core) -> Result<kv::Store, WindowError> {
    core.bus
        .bucket(bucket::WINDOWS)
        .await
        .map_err(|e| WindowError::Unavailable(e.to_string()))
}

/// The revision of the document a stored value holds, if it holds one.
fn revision_of(value: &[u8]) -> Option<u64> {
    serde_json::from_slice::<WindowDoc>(value)
        .ok()
        .map(|d| d.revision)
}

/// Makes `window.<id>` equal to the row as it is now: its document, or no
/// key when there is no row.
pub async fn sync(core: &Core, store: &kv::Store, id: Uuid) -> Result<(), WindowError> {
    let key = keys::window(id);
    let mut last = String::new();
    for _ in 0..TRIES {
        let entry = store
            .entry(key.as_str())
            .await
            .map_err(|e| kv_error(&key, &e))?;
        let live = entry.as_ref().filter(|e| e.operation == Operation::Put);
        // Read after the entry: a write committed after this read syncs
        // the key itself, later.
        let Some(row) = window::Entity::find_by_id(id).one(core.db()).await? else {
            let Some(e) = live else { return Ok(()) };
            match store
                .delete_expect_revision(key.as_str(), Some(e.revision))
                .await
            {
                Ok(()) => return Ok(()),
                Err(e) => last = e.to_string(),
            }
            continue;
        };
        let current = u64::try_from(row.revision).ok();
        if live.and_then(|e| revision_of(&e.value)) == current {
            return Ok(());
        }
        let bytes =
            serde_json::to_vec(&doc_of(&row)?).map_err(|e| WindowError::Broken(e.to_string()))?;
        let expected = entry.as_ref().map_or(0, |e| e.revision);
        match store.update(key.as_str(), bytes.into(), expected).await {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(kv_error(&key, &last))
}

/// Brings the key of a row just written in step; a failure is logged and
/// left to the reconcile, the write stands.
pub async fn after_write(core: &Core, id: Uuid) {
    let write = async {
        let store = open(core).await?;
        sync(core, &store, id).await
    };
    crate::mirror_loop::after_write(core, "windows", id, write).await;
}

/// Makes the bucket's `window.*` keys equal to the table; how many keys
/// it wrote or deleted.
pub async fn reconcile(core: &Core) -> Result<usize, WindowError> {
    let store = open(core).await?;
    let rows = window::Entity::find().all(core.db()).await?;
    let revisions: HashMap<Uuid, Option<u64>> = rows
        .iter()
        .map(|r| (r.id, u64::try_from(r.revision).ok()))
        .collect();
    let stored: Vec<String> = store
        .keys()
        .await
        .map_err(|e| kv_error("listing keys", &e))?
        .try_collect()
        .await
        .map_err(|e| kv_error("listing keys", &e))?;
    let mut out_of_step: HashSet<Uuid> = HashSet::new();
    let mut present: HashSet<Uuid> = HashSet::new();
    let mut repaired = 0;
    for key in &stored {
        let Some(rest) = key.strip_prefix(keys::WINDOW_PREFIX) else {
            continue;
        };
        match rest.parse::<Uuid>() {
            Ok(id) => {
                present.insert(id);
                let value = store
                    .get(key.as_str())
                    .await
                    .map_err(|e| kv_error("reading a window", &e))?;
                let same = revisions
                    .get(&id)
                    .is_some_and(|r| value.as_deref().and_then(revision_of) == *r);
                if !same {
                    out_of_step.insert(id);
                }
            }
            Err(_) => {
                store
                    .delete(key.as_str())
                    .await
                    .map_err(|e| kv_error(key, &e))?;
                repaired += 1;
            }
        }
    }
    out_of_step.extend(revisions.keys().filter(|id| !present.contains(id)));
    for id in &out_of_step {
        sync(core, &store, *id).await?;
    }
    Ok(repaired + out_of_step.len())
}

/// Reconciles at start, after every reconnect and every
/// [`crate::mirror_loop::RECONCILE_EVERY`], until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    crate::mirror_loop::keep_in_step(core, shutdown, "windows", |core| async move {
        reconcile(&core).await
    })
    .await;
}
