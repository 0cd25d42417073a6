//! The scheduler-wide pause and what the scheduler says about itself.
//!
//! The pause is an installation setting (`settings` row `scheduler`, so a
//! rebuilt bus gets it back from the reconcile) mirrored as
//! `control.global` in `<p>_schedules`, which the scheduler obeys. The
//! status combines it with the leader's lease, the replicas' heartbeats
//! and the leader's summary in `<p>_leases`, and the last recorded fires.

use async_nats::jetstream::kv::{self, Operation};
use chrono::{DateTime, TimeDelta, Utc};
use futures::TryStreamExt as _;
use opsc_proto::schedule::{
    Lease, ReplicaBeat, SchedulerControl, SchedulerStatusDoc, StatusFire, keys,
};
use opsc_proto::topology::bucket;
use schemars::JsonSchema;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Serialize;

use super::ScheduleError;
use super::history::{self, FireView};
use super::mirror::{kv_error, open};
use crate::core::Core;
use crate::jobs::access::Actor;
use crate::store::setting;

/// The settings row of the pause.
const SETTING: &str = "scheduler";

/// A replica heartbeat older than this is not shown.
const REPLICA_FRESH: TimeDelta = TimeDelta::seconds(15);

/// A leader summary older than this is not shown.
const STATUS_FRESH: TimeDelta = TimeDelta::seconds(10);

/// Fires shown in the status.
const RECENT: u64 = 20;

/// Compare-and-set attempts on `control.global`.
const TRIES: usize = 3;

/// The leader, from its lease.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LeaderView {
    /// The replica holding the lease.
    pub replica_id: String,
    /// Its lease term: the fence its run intents carry.
    pub term: u64,
    /// When the lease ends unless renewed.
    pub expires_at: DateTime<Utc>,
}

/// `GET /api/v1/scheduler/status`.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SchedulerStatus {
    /// Whether the scheduler-wide pause is on.
    pub paused: bool,
    /// The leader; `null` when no replica holds a live lease.
    pub leader: Option<LeaderView>,
    /// Replicas that reported within the last 15 seconds.
    pub replicas: Vec<ReplicaBeat>,
    /// Schedules the leader has loaded (`null` without a summary of the
    /// last 10 seconds, as the fields below).
    pub schedules_loaded: Option<u64>,
    /// Schedules that may fire.
    pub schedules_active: Option<u64>,
    /// The next fire of any schedule.
    pub next_fire: Option<StatusFire>,
    /// Lag of the most recent on-time fire, in milliseconds.
    pub last_lag_ms: Option<f64>,
    /// p99 of the fire lag over the last minute, in milliseconds.
    pub lag_p99_ms: Option<f64>,
    /// The last 20 fires, skips and misfires recorded, newest first.
    pub recent_fires: Vec<FireView>,
}

/// The pause as stored (off when never set).
pub async fn global(db: &impl ConnectionTrait) -> Result<SchedulerControl, sea_orm::DbErr> {
    Ok(setting::Entity::find_by_id(SETTING.to_owned())
        .one(db)
        .await?
        .and_then(|row| serde_json::from_value(row.value).ok())
        .unwrap_or_default())
}

/// Turns the scheduler-wide pause on or off; the setting is the record,
/// the KV key follows (a failure there is logged and repaired by the
/// reconcile).
pub async fn set_global(
    core: &Core,
    actor: &Actor,
    paused: bool,
) -> Result<SchedulerControl, ScheduleError> {
    let now = Utc::now();
    let control = SchedulerControl {
        paused,
        changed_by: Some(actor.id.to_string()),
        changed_at: Some(now),
    };
    let row = setting::ActiveModel {
        key: Set(SETTING.to_owned()),
        value: Set(
            serde_json::to_value(&control).map_err(|e| ScheduleError::Broken(e.to_string()))?
        ),
        updated_at: Set(now.fixed_offset()),
    };
    setting::Entity::insert(row)
        .on_conflict(
            OnConflict::column(setting::Column::Key)
                .update_columns([setting::Column::Value, setting::Column::UpdatedAt])
                .to_owned(),
        )
        .exec(core.db())
        .await?;
    let mirrored = async {
        let store = open(core, bucket::SCHEDULES).await?;
        sync_control(core, &store).await
    };
    match tokio::time::timeout(std::time::Duration::from_secs(3), mirrored).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => {
            tracing::warn!(error = %e, paused, "Scheduler pause not mirrored; the next reconcile repairs it.");
        }
        Err(_) => {
            tracing::warn!(
                paused,
                "Mirroring the scheduler pause timed out; the next reconcile repairs it."
            );
        }
    }
    Ok(control)
}

/// Makes `control.global` equal to the setting; true when it wrote.
pub(crate) async fn sync_control(core: &Core, store: &kv::Store) -> Result<bool, ScheduleError> {
    let mut last = String::new();
    for _ in 0..TRIES {
        let entry = store
            .entry(keys::CONTROL)
            .await
            .map_err(|e| kv_error(keys::CONTROL, &e))?;
        let wanted = global(core.db()).await?;
        let stored = entry
            .as_ref()
            .filter(|e| e.operation == Operation::Put)
            .and_then(|e| serde_json::from_slice::<SchedulerControl>(&e.value).ok());
        if stored.as_ref() == Some(&wanted) {
            return Ok(false);
        }
        let bytes =
            serde_json::to_vec(&wanted).map_err(|e| ScheduleError::Broken(e.to_string()))?;
        let expected = entry.as_ref().map_or(0, |e| e.revision);
        match store.update(keys::CONTROL, bytes.into(), expected).await {
            Ok(_) => return Ok(true),
            Err(e) => last = e.to_string(),
        }
    }
    Err(kv_error(keys::CONTROL, &last))
}

/// A JSON document under `key`, if there is one that reads.
async fn read<T: serde::de::DeserializeOwned>(
    store: &kv::Store,
    key: &str,
) -> Result<Option<T>, ScheduleError> {
    let value = store.get(key).await.map_err(|e| kv_error(key, &e))?;
    Ok(value.and_then(|v| serde_json::from_slice(&v).ok()))
}

/// The replicas that reported within [`REPLICA_FRESH`].
async fn replicas(
    store: &kv::Store,
    now: DateTime<Utc>,
) -> Result<Vec<ReplicaBeat>, ScheduleError> {
    let names: Vec<String> = store
        .keys()
        .await
        .map_err(|e| kv_error("listing leases", &e))?
        .try_collect()
        .await
        .map_err(|e| kv_error("listing leases", &e))?;
    let mut out = Vec::new();
    for key in names.iter().filter(|k| k.starts_with(keys::REPLICA_PREFIX)) {
        if let Some(beat) = read::<ReplicaBeat>(store, key).await?
            && now - beat.seen_at <= REPLICA_FRESH
        {
            out.push(beat);
        }
    }
    out.sort_by(|a, b| a.replica_id.cmp(&b.replica_id));
    Ok(out)
}

/// The scheduler's status; see [`SchedulerStatus`].
pub async fn status(core: &Core) -> Result<SchedulerStatus, ScheduleError> {
    let now = Utc::now();
    let paused = global(core.db()).await?.paused;
    let recent_fires = history::recent(core, RECENT).await?;
    let leases = open(core, bucket::LEASES).await?;
    let leader = read::<Lease>(&leases, keys::LEADER)
        .await?
        .filter(|l| l.expires_at > now)
        .map(|l| LeaderView {
            replica_id: l.holder,
            term: l.term,
            expires_at: l.expires_at,
        });
    let replicas = replicas(&leases, now).await?;
    let summary = read::<SchedulerStatusDoc>(&leases, keys::STATUS)
        .await?
        .filter(|s| now - s.written_at <= STATUS_FRESH);
    Ok(SchedulerStatus {
        paused,
        leader,
        replicas,
        schedules_loaded: summary.as_ref().map(|s| s.schedules_loaded),
        schedules_active: summary.as_ref().map(|s| s.schedules_active),
        next_fire: summary.as_ref().and_then(|s| s.next_fire.clone()),
        last_lag_ms: summary.as_ref().and_then(|s| s.last_lag_ms),
        lag_p99_ms: summary.as_ref().and_then(|s| s.lag_p99_ms),
        recent_fires,
    })
}
