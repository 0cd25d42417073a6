//! The KV mirror: `<p>_schedules` kept equal to the `schedules` table, so
//! the scheduler (which has no database) fires what PostgreSQL holds.
//!
//! `schedule.<id>` holds the [`ScheduleDoc`] of each row, its secret
//! parameters sealed for the api's intake; `control.global` the
//! scheduler-wide pause ([`super::control`]). After every committed write
//! the row's key is brought in step ([`after_write`]); a failure is logged
//! and left to the reconcile, which runs at start, after every reconnect
//! and every 30 seconds ([`run`]): it puts the documents whose revision
//! differs from the row's, deletes keys that have no row, and restores
//! `control.global`.
//!
//! Every write is a compare-and-set on the key's last revision, made after
//! reading the row afresh, so a reconcile racing a request's write never
//! leaves an older document behind the newer one.

use std::collections::{BTreeSet, HashSet};

use async_nats::jetstream::kv::{self, Operation};
use futures::{StreamExt as _, TryStreamExt as _};
use opsc_proto::schedule::{Addresses, ScheduleDoc, keys};
use opsc_proto::topology::bucket;
use sea_orm::EntityTrait;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::view::{policies, public_parameters};
use super::{ScheduleError, secrets};
use crate::core::Core;
use crate::store::schedule;
use crate::windows::addresses::Directory;

/// Compare-and-set attempts on one key.
const TRIES: usize = 3;

/// Keys read at once by the reconcile.
const CONCURRENT_READS: usize = 32;

/// The bus's reason as the error of a KV operation.
pub(crate) fn kv_error(what: &str, e: &dyn std::fmt::Display) -> ScheduleError {
    ScheduleError::Unavailable(format!("{what}: {e}"))
}

/// Opens one of the installation's buckets.
pub(crate) async fn open(core: &Core, suffix: &str) -> Result<kv::Store, ScheduleError> {
    core.bus
        .bucket(suffix)
        .await
        .map_err(|e| ScheduleError::Unavailable(e.to_string()))
}

/// The document of a row, its secret parameters sealed for the intake.
pub(crate) fn doc_of(core: &Core, row: &schedule::Model) -> Result<ScheduleDoc, ScheduleError> {
    let (dst, misfire) = policies(row);
    let secret = secrets::open(core, row)?;
    Ok(ScheduleDoc {
        addresses: Default::default(),
        id: row.id,
        revision: u64::try_from(row.revision).unwrap_or(0),
        job_id: row.job_id,
        cron: row.cron.clone(),
        time_zone: row.time_zone.clone(),
        start_at: row.start_at.map(|t| t.to_utc()),
        end_at: row.end_at.map(|t| t.to_utc()),
        enabled: row.enabled,
        paused: row.paused,
        dst,
        misfire,
        parameters: public_parameters(row),
        sealed_parameters: secrets::for_intake(core, row.id, row.job_id, &secret)?,
        targets: row
            .targets
            .clone()
            .and_then(|t| serde_json::from_value(t).ok()),
        created_at: row.created_at.to_utc(),
        timing_changed_at: row.timing_changed_at.map(|t| t.to_utc()),
        updated_at: row.updated_at.to_utc(),
    })
}

/// The revision and addresses of the document a stored value holds, if
/// it holds one.
fn revision_of(value: &[u8]) -> Option<(u64, Addresses)> {
    serde_json::from_slice::<ScheduleDoc>(value)
        .ok()
        .map(|d| (d.revision, d.addresses))
}

/// Makes `schedule.<id>` equal to the row as it is now: its document, or
/// no key when there is no row.
pub async fn sync(core: &Core, store: &kv::Store, id: Uuid) -> Result<(), ScheduleError> {
    sync_with(core, store, id, None).await
}

/// [`sync`], with the inventory a reconcile read once (the document's
/// `addresses` are computed from it, see [`crate::windows::addresses`]).
async fn sync_with(
    core: &Core,
    store: &kv::Store,
    id: Uuid,
    dir: Option<&Directory>,
) -> Result<(), ScheduleError> {
    let key = keys::schedule(id);
    let mut last = String::new();
    for _ in 0..TRIES {
        let entry = store
            .entry(key.as_str())
            .await
            .map_err(|e| kv_error(&key, &e))?;
        let live = entry.as_ref().filter(|e| e.operation == Operation::Put);
        // Read after the entry: a write committed before this read is seen
        // here, one committed after it syncs the key itself, later.
        let row = schedule::Entity::find_by_id(id).one(core.db()).await?;
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
        let addresses = match dir {
            Some(d) => d.addresses(&row),
            None => Directory::load(core, &BTreeSet::from([row.job_id]))
                .await?
                .addresses(&row),
        };
        let current = u64::try_from(row.revision)
            .ok()
            .map(|r| (r, addresses.clone()));
        if live.and_then(|e| revision_of(&e.value)) == current {
            return Ok(());
        }
        let mut doc = doc_of(core, &row)?;
        doc.addresses = addresses;
        let bytes = serde_json::to_vec(&doc).map_err(|e| ScheduleError::Broken(e.to_string()))?;
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
        let store = open(core, bucket::SCHEDULES).await?;
        sync(core, &store, id).await
    };
    crate::mirror_loop::after_write(core, "schedules", id, write).await;
}

/// What one reconcile found out of step (and brought in step).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Repaired {
    /// Keys written or deleted.
    pub schedules: usize,
    /// Whether `control.global` was restored.
    pub control: bool,
}

/// Makes the bucket equal to the table; see the module docs.
pub async fn reconcile(core: &Core) -> Result<Repaired, ScheduleError> {
    let store = open(core, bucket::SCHEDULES).await?;
    let rows = schedule::Entity::find().all(core.db()).await?;
    let ids: HashSet<Uuid> = rows.iter().map(|r| r.id).collect();
    let stored: Vec<String> = store
        .keys()
        .await
        .map_err(|e| kv_error("listing keys", &e))?
        .try_collect()
        .await
        .map_err(|e| kv_error("listing keys", &e))?;
    let mut out_of_step: Vec<Uuid> = Vec::new();
    let mut present = HashSet::new();
    let mut strays = 0;
    for key in stored
        .iter()
        .filter_map(|k| k.strip_prefix(keys::SCHEDULE_PREFIX))
    {
        match key.parse::<Uuid>() {
            Ok(id) if ids.contains(&id) => {
                present.insert(id);
            }
            Ok(id) => out_of_step.push(id),
            Err(_) => {
                let stray = format!("{}{key}", keys::SCHEDULE_PREFIX);
                store
                    .delete(stray.as_str())
                    .await
                    .map_err(|e| kv_error(&stray, &e))?;
                strays += 1;
            }
        }
    }
    out_of_step.extend(ids.iter().filter(|id| !present.contains(id)));
    let jobs: BTreeSet<Uuid> = rows.iter().map(|r| r.job_id).collect();
    let dir = Directory::load(core, &jobs).await?;
    let to_compare: Vec<(Uuid, Option<(u64, Addresses)>)> = rows
        .iter()
        .filter(|r| present.contains(&r.id))
        .map(|r| {
            (
                r.id,
                u64::try_from(r.revision)
                    .ok()
                    .map(|v| (v, dir.addresses(r))),
            )
        })
        .collect();
    let differing: Vec<Uuid> = futures::stream::iter(to_compare)
        .map(|(id, revision)| {
            let store = store.clone();
            async move {
                let value = store
                    .get(keys::schedule(id))
                    .await
                    .map_err(|e| kv_error("reading a schedule", &e))?;
                let same = value.as_deref().and_then(revision_of) == revision;
                Ok::<_, ScheduleError>((!same).then_some(id))
            }
        })
        .buffer_unordered(CONCURRENT_READS)
        .try_filter_map(|id| async move { Ok(id) })
        .try_collect()
        .await?;
    out_of_step.extend(differing);
    for id in &out_of_step {
        // One schedule that cannot be mirrored (its secrets do not open)
        // must not keep the others out of step.
        if let Err(e) = sync_with(core, &store, *id, Some(&dir)).await {
            if !matches!(e, ScheduleError::Broken(_)) {
                return Err(e);
            }
            tracing::error!(schedule_id = %id, error = %e, "A schedule cannot be mirrored; the others are.");
        }
    }
    let control = super::control::sync_control(core, &store).await?;
    Ok(Repaired {
        schedules: out_of_step.len() + strays,
        control,
    })
}

/// Reconciles at start, after every reconnect and every
/// [`crate::mirror_loop::RECONCILE_EVERY`], until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    crate::mirror_loop::keep_in_step(core, shutdown, "schedules", |core| async move {
        reconcile(&core)
            .await
            .map(|r| r.schedules + usize::from(r.control))
    })
    .await;
}
