//! The admission fence of schedule intents: a run intent whose trigger is
//! a schedule is admitted only when it
//!
//! - carries `fence`, the lease term of the scheduler leader that fired it,
//!   no older than the term of the lease in `<p>_leases` now (no lease: any
//!   term), so a deposed leader that still fires is refused;
//! - names in `trigger.actor` a schedule that exists (a deleted schedule
//!   fires no more, whatever a stale KV document says) and whose job is the
//!   intent's job.
//!
//! A refused intent that was admitted before (its run exists: a
//! redelivery, after a new leader took over) is let through, so the intake
//! answers it with its run rather than a dead letter.

use std::time::{Duration, Instant};

use async_nats::jetstream::kv;
use opsc_proto::commands::{RunIntent, TriggerKind};
use opsc_proto::schedule::{Lease, keys};
use opsc_proto::topology::bucket;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::core::Core;
use crate::store::{job, run, schedule};

/// How long a lease read answers intents that carry its term.
const LEASE_TTL: Duration = Duration::from_millis(500);

/// Why an intent did not pass.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FenceError {
    /// It must not be admitted, ever.
    #[error("{0}")]
    Refused(String),
    /// The lease or the schedule could not be read now.
    #[error("{0}")]
    Transient(String),
}

/// The fence, with a short-lived copy of the leader's lease.
#[derive(Debug, Default)]
pub struct Fence {
    store: Mutex<Option<kv::Store>>,
    lease: Mutex<Option<(Instant, Option<Lease>)>>,
}

fn refused(why: impl Into<String>) -> FenceError {
    FenceError::Refused(why.into())
}

fn transient(e: &dyn std::fmt::Display) -> FenceError {
    FenceError::Transient(e.to_string())
}

impl Fence {
    /// Checks `intent`, which is admitted as `intent_id`; intents of other
    /// triggers pass.
    pub async fn check(
        &self,
        core: &Core,
        intent: &RunIntent,
        intent_id: &str,
    ) -> Result<(), FenceError> {
        if intent.trigger.kind != TriggerKind::Schedule {
            return Ok(());
        }
        match self.judge(core, intent).await {
            Err(FenceError::Refused(why)) => {
                let admitted = run::Entity::find()
                    .filter(run::Column::IntentId.eq(intent_id))
                    .one(core.db())
                    .await
                    .map_err(|e| transient(&e))?
                    .is_some();
                if admitted {
                    Ok(())
                } else {
                    Err(FenceError::Refused(why))
                }
            }
            other => other,
        }
    }

    async fn judge(&self, core: &Core, intent: &RunIntent) -> Result<(), FenceError> {
        let Some(fence) = intent.fence else {
            return Err(refused(
                "a schedule's run intent must carry fence, the scheduler leader's lease term",
            ));
        };
        let actor = &intent.trigger.actor;
        let id: Uuid = actor
            .parse()
            .map_err(|_| refused(format!("unknown schedule {actor:?}")))?;
        let row = schedule::Entity::find_by_id(id)
            .one(core.db())
            .await
            .map_err(|e| transient(&e))?
            .ok_or_else(|| refused(format!("unknown schedule {id}")))?;
        match (intent.job_id, &intent.job_name) {
            (Some(job), _) if job != row.job_id => {
                return Err(refused(format!(
                    "schedule {id} runs job {}, not job {job}",
                    row.job_id
                )));
            }
            (None, Some(name)) => {
                let job = job::Entity::find_by_id(row.job_id)
                    .one(core.db())
                    .await
                    .map_err(|e| transient(&e))?;
                if job.is_none_or(|j| j.name != *name) {
                    return Err(refused(format!(
                        "schedule {id} runs job {}, not the job named {name:?}",
                        row.job_id
                    )));
                }
            }
            _ => {}
        }
        same_as_row(intent, &row)?;
        // The steady state, a leader's intent carrying the current term, is
        // answered from a short-lived copy; anything else reads the lease.
        if self.cached_term().await == Some(fence) {
            return Ok(());
        }
        match self.read_lease(core).await? {
            Some(lease) if fence < lease.term => Err(refused(format!(
                "deposed scheduler leader: fence {fence} is older than the current term {}",
                lease.term
            ))),
            Some(lease) if fence > lease.term => Err(refused(format!(
                "fence {fence} is newer than the current term {}: no scheduler leader holds it",
                lease.term
            ))),
            _ => Ok(()),
        }
    }

    /// The term of the lease read within [`LEASE_TTL`], if any.
    async fn cached_term(&self) -> Option<u64> {
        let cache = self.lease.lock().await;
        match cache.as_ref() {
            Some((at, Some(lease))) if at.elapsed() < LEASE_TTL => Some(lease.term),
            _ => None,
        }
    }

    /// The leader's lease as it is now (`None`: no leader holds one).
    async fn read_lease(&self, core: &Core) -> Result<Option<Lease>, FenceError> {
        let store = self.store(core).await?;
        let value = store.get(keys::LEADER).await.map_err(|e| transient(&e))?;
        let lease = value.and_then(|v| serde_json::from_slice::<Lease>(&v).ok());
        *self.lease.lock().await = Some((Instant::now(), lease.clone()));
        Ok(lease)
    }

    async fn store(&self, core: &Core) -> Result<kv::Store, FenceError> {
        let mut store = self.store.lock().await;
        if let Some(s) = store.as_ref() {
            return Ok(s.clone());
        }
        let opened = core
            .bus
            .bucket(bucket::LEASES)
            .await
            .map_err(|e| transient(&e))?;
        *store = Some(opened.clone());
        Ok(opened)
    }
}

/// A schedule's intent runs what the schedule says and nothing else: its
/// parameters and targets, the job's current version, the schedule active,
/// and a key `schedule:<id>:<instant>` for an instant that has come. So a
/// producer who copies a schedule's intent (and its sealed secrets) can
/// neither point it elsewhere nor take a future fire's key.
fn same_as_row(intent: &RunIntent, row: &schedule::Model) -> Result<(), FenceError> {
    if !row.enabled || row.paused {
        return Err(refused(format!(
            "schedule {} is {}",
            row.id,
            if row.enabled { "paused" } else { "disabled" }
        )));
    }
    if intent.job_version.is_some() {
        return Err(refused(
            "a schedule's intent runs the job's current version: job_version must be absent",
        ));
    }
    let params = serde_json::to_value(&intent.parameters).unwrap_or_default();
    if params != row.parameters {
        return Err(refused(format!(
            "the parameters are not those of schedule {}",
            row.id
        )));
    }
    let targets = intent
        .targets
        .as_ref()
        .and_then(|t| serde_json::to_value(t).ok());
    let stored = row.targets.clone().filter(|t| !t.is_null());
    let normal = |v: Option<serde_json::Value>| {
        v.and_then(|v| serde_json::from_value::<opsc_proto::commands::TargetSelection>(v).ok())
    };
    if normal(targets) != normal(stored) {
        return Err(refused(format!(
            "the targets are not those of schedule {}",
            row.id
        )));
    }
    let prefix = format!("schedule:{}:", row.id);
    let instant = intent
        .idempotency_key
        .as_deref()
        .and_then(|k| k.strip_prefix(&prefix))
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .ok_or_else(|| {
            refused(format!(
                "a schedule's intent has the idempotency key {prefix}<instant>"
            ))
        })?;
    if instant.to_utc() > chrono::Utc::now() + chrono::Duration::seconds(60) {
        return Err(refused(format!("fire instant {instant} has not come yet")));
    }
    Ok(())
}
