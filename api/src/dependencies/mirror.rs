//! The KV mirror: the `dependency.*` keys of `<p>_schedules` kept equal to
//! the `job_dependencies` table, so the scheduler (which has no database)
//! reacts to what PostgreSQL holds.
//!
//! `dependency.<id>` holds the [`DependencyDoc`] of each row. After every
//! committed write the row's key is brought in step ([`after_write`]); a
//! failure is logged and left to the reconcile, which runs at start, after
//! every reconnect and every 30 seconds ([`run`]): it puts the documents
//! whose revision differs from the row's and deletes `dependency.*` keys
//! that have no row (a job deleted takes its dependencies with it). It
//! touches no other key of the bucket: schedules and the global pause are
//! [`crate::schedules::mirror`]'s.
//!
//! Every write is a compare-and-set on the key's last revision, made after
//! reading the row afresh, so a reconcile racing a request's write never
//! leaves an older document behind the newer one.

use std::collections::{HashMap, HashSet};

use async_nats::jetstream::kv::{self, Operation};
use futures::{StreamExt as _, TryStreamExt as _};
use opsc_proto::schedule::{DependencyDoc, keys};
use opsc_proto::topology::bucket;
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::DependencyError;
use super::view::{doc_of, revision_of};
use crate::core::Core;
use crate::store::job_dependency;

/// Compare-and-set attempts on one key.
const TRIES: usize = 3;

/// Keys read at once by the reconcile.
const CONCURRENT_READS: usize = 32;

fn kv_error(what: &str, e: &dyn std::fmt::Display) -> DependencyError {
    DependencyError::Unavailable(format!("{what}: {e}"))
}

async fn open(core: &Core) -> Result<kv::Store, DependencyError> {
    core.bus
        .bucket(bucket::SCHEDULES)
        .await
        .map_err(|e| DependencyError::Unavailable(e.to_string()))
}

/// The revision of the document a stored value holds, if it holds one.
fn stored_revision(value: &[u8]) -> Option<u64> {
    serde_json::from_slice::<DependencyDoc>(value)
        .ok()
        .map(|d| d.revision)
}

/// Makes `dependency.<id>` equal to the row as it is now: its document, or
/// no key when there is no row.
pub async fn sync(core: &Core, store: &kv::Store, id: Uuid) -> Result<(), DependencyError> {
    let key = keys::dependency(id);
    let mut last = String::new();
    for _ in 0..TRIES {
        let entry = store
            .entry(key.as_str())
            .await
            .map_err(|e| kv_error(&key, &e))?;
        let live = entry.as_ref().filter(|e| e.operation == Operation::Put);
        // Read after the entry: a write committed before this read is seen
        // here, one committed after it syncs the key itself, later.
        let row = job_dependency::Entity::find_by_id(id)
            .one(core.db())
            .await?;
        let Some(row) = row else {
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
        if live.and_then(|e| stored_revision(&e.value)) == Some(revision_of(&row)) {
            return Ok(());
        }
        let bytes = serde_json::to_vec(&doc_of(&row))
            .map_err(|e| DependencyError::Broken(e.to_string()))?;
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
    crate::mirror_loop::after_write(core, "dependencies", id, write).await;
}

/// Makes the `dependency.*` keys equal to the table; returns how many keys
/// were written or deleted.
pub async fn reconcile(core: &Core) -> Result<usize, DependencyError> {
    let store = open(core).await?;
    let rows: HashMap<Uuid, u64> = job_dependency::Entity::find()
        .all(core.db())
        .await?
        .iter()
        .map(|r| (r.id, revision_of(r)))
        .collect();
    let stored: Vec<String> = store
        .keys()
        .await
        .map_err(|e| kv_error("listing keys", &e))?
        .try_collect()
        .await
        .map_err(|e| kv_error("listing keys", &e))?;
    let mut out_of_step: Vec<Uuid> = Vec::new();
    let mut present: Vec<(Uuid, u64)> = Vec::new();
    let mut strays = 0;
    for key in stored
        .iter()
        .filter_map(|k| k.strip_prefix(keys::DEPENDENCY_PREFIX))
    {
        match key.parse::<Uuid>() {
            Ok(id) => match rows.get(&id) {
                Some(revision) => present.push((id, *revision)),
                None => out_of_step.push(id),
            },
            Err(_) => {
                let stray = format!("{}{key}", keys::DEPENDENCY_PREFIX);
                store
                    .delete(stray.as_str())
                    .await
                    .map_err(|e| kv_error(&stray, &e))?;
                strays += 1;
            }
        }
    }
    let seen: HashSet<Uuid> = present.iter().map(|(id, _)| *id).collect();
    out_of_step.extend(rows.keys().filter(|id| !seen.contains(*id)));
    let differing: Vec<Uuid> = futures::stream::iter(present)
        .map(|(id, revision)| {
            let store = store.clone();
            async move {
                let value = store
                    .get(keys::dependency(id))
                    .await
                    .map_err(|e| kv_error("reading a dependency", &e))?;
                let same = value.as_deref().and_then(stored_revision) == Some(revision);
                Ok::<_, DependencyError>((!same).then_some(id))
            }
        })
        .buffer_unordered(CONCURRENT_READS)
        .try_filter_map(|id| async move { Ok(id) })
        .try_collect()
        .await?;
    out_of_step.extend(differing);
    for id in &out_of_step {
        sync(core, &store, *id).await?;
    }
    Ok(out_of_step.len() + strays)
}

/// Reconciles at start, after every reconnect and every
/// [`crate::mirror_loop::RECONCILE_EVERY`], until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    crate::mirror_loop::keep_in_step(core, shutdown, "dependencies", |core| async move {
        reconcile(&core).await
    })
    .await;
}
