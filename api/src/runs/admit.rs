//! Run admission: the one way a run comes to exist.
//!
//! `POST /api/v1/jobs/{id}/run`, re-runs and every run intent on
//! `<p>.cmd.run.request` (the scheduler, dependencies, retries,
//! integrators) pass through [`admit`]: the intent is validated (job,
//! version, parameters, targets), the run row is written idempotently by
//! the intent's key, and the run's `accepted` event and dispatches are
//! published. The answer (202, or the bus acknowledgement) comes only once
//! JetStream stored them; a request refused for any reason leaves nothing.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use opsc_proto::commands::{TargetSelection, Trigger};
use opsc_proto::job::{JobDefinition, ParamType};
use opsc_proto::job_check::PathError;
use sea_orm::{ConnectionTrait, EntityTrait};
use serde_json::{Value, json};
use uuid::Uuid;

use super::dispatch::{self, Prepared};
use super::wire_name;
use crate::core::Core;
use crate::jobs::access::{AccessError, Action, Actor};
use crate::metrics::labels;
use crate::store::{job, job_version, run};
use crate::vault;

mod resolve;

pub(super) use self::resolve::{
    Parameters, Resolved, host_author, known_targets, parameters, resolve_job,
};

/// How long the acknowledgement of a run's messages may take before the
/// run is withdrawn.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(3);

/// A replayed intent whose run is still queued and younger than this gets
/// its messages published again (the bus drops repeats within its
/// two-minute window): its first admission may have died before publishing.
const REPUBLISH_WITHIN: chrono::TimeDelta = chrono::TimeDelta::seconds(100);

/// Vault record kind of a run's secret parameters.
pub const SECRET_KIND: &str = "run-parameters";

/// Default run timeout.
const RUN_TIMEOUT_SECS: u64 = 3600;

/// The job an intent names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobName {
    /// By id.
    Id(Uuid),
    /// By unique name.
    Name(String),
    /// By id, and the name must match.
    Both(Uuid, String),
}

/// A run to admit, from the API or the bus.
#[derive(Debug, Clone)]
pub struct Admission {
    /// The job.
    pub job: JobName,
    /// The version; `None` runs the current one.
    pub version: Option<u32>,
    /// Every parameter value given, secret ones in the clear (they never
    /// leave this process unsealed).
    pub parameters: BTreeMap<String, Value>,
    /// Targets overriding the job's.
    pub targets: Option<TargetSelection>,
    /// Who or what starts it.
    pub trigger: Trigger,
    /// One run per key, ever: the same key admits nothing new. `None` for
    /// an API request without an `Idempotency-Key` (each is its own).
    pub intent_id: Option<String>,
    /// Whether this key may have been admitted before (it was given by the
    /// client or producer).
    pub may_repeat: bool,
    /// The intent id to show in the `accepted` event (bus intents only).
    pub public_intent_id: Option<String>,
    /// The client's `Idempotency-Key` (kept with the run).
    pub idempotency_key: Option<String>,
    /// Names of the parameters that arrived sealed, when secret parameters
    /// must (bus intents); `None` when the caller is trusted with them (the
    /// API, over TLS).
    pub sealed: Option<std::collections::BTreeSet<String>>,
    /// The user who starts it (API requests).
    pub created_by: Option<Uuid>,
    /// Whose access to the job is checked: they must be allowed to run it
    /// (API requests, see [`crate::jobs::access`]). Bus intents carry none:
    /// who may publish them is a NATS permission.
    pub caller: Option<Actor>,
    /// The run it re-runs.
    pub rerun_of: Option<Uuid>,
    /// Its place in a retry chain (a retry intent, see [`super::lineage`]).
    pub retry: Option<super::lineage::RetryLink>,
}

/// What [`admit`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// The run.
    pub run_id: Uuid,
    /// True when the intent had been admitted before: this is that run.
    pub replayed: bool,
}

/// Why an intent was not admitted.
#[derive(Debug, thiserror::Error)]
pub enum AdmitError {
    /// The job does not exist.
    #[error("no job {0}")]
    UnknownJob(String),
    /// The job is inactive.
    #[error("the job is inactive: activate it to run it")]
    Inactive,
    /// The version does not exist.
    #[error("the job has no version {0}")]
    UnknownVersion(u32),
    /// Something in the intent does not fit: parameters, targets, keys.
    #[error("{detail}")]
    Invalid {
        /// What, for people.
        detail: String,
        /// Each problem, located.
        errors: Vec<PathError>,
    },
    /// The idempotency key was used before, by an intent for another job,
    /// other targets or other parameters.
    #[error(
        "the idempotency key was used before for another job, other targets or other parameters"
    )]
    KeyReused,
    /// The caller may not run the job (see [`crate::jobs::access`]), or the
    /// version may not run where it would: it reaches into the worker host
    /// and no admin saved it, or its pool does not allow that.
    #[error("{0}")]
    Forbidden(String),
    /// A secret parameter arrived in the clear where it must be sealed.
    #[error("parameter {0:?} is secret: send it sealed, in sealed_parameters")]
    ClearSecret(String),
    /// A re-run that does not replay the original run's secret parameters
    /// (another user, see [`super::rerun`]) was not given them again.
    #[error(
        "this re-run does not replay the secret parameters of the run: give them again in parameters: {}",
        .0.join(", ")
    )]
    SecretsRequired(Vec<String>),
    /// The job's concurrency limit (`skip`) refuses an API request.
    #[error("{0}")]
    Limit(String),
    /// The bus did not take the run's messages; nothing was started.
    #[error("{0}")]
    Unavailable(String),
    /// A maintenance window keeps the run off (see [`super::windows`]).
    #[error("{0}")]
    InWindow(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
    /// Stored data cannot be used (an unreadable definition, a credential
    /// that does not open).
    #[error("{0}")]
    Broken(String),
}

impl From<AccessError> for AdmitError {
    fn from(e: AccessError) -> Self {
        match e {
            AccessError::Denied(why) => Self::Forbidden(why),
            AccessError::Db(e) => Self::Db(e),
        }
    }
}

impl AdmitError {
    /// An `Invalid` with one located problem.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::Invalid {
            detail: message.clone(),
            errors: vec![PathError::new(path, message)],
        }
    }

    /// Whether trying again may succeed (the bus or database was away).
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Db(_))
    }
}

/// The run of an intent key, if it was admitted before.
async fn existing(
    db: &impl ConnectionTrait,
    intent_id: &str,
) -> Result<Option<run::Model>, sea_orm::DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    run::Entity::find()
        .filter(run::Column::IntentId.eq(intent_id))
        .one(db)
        .await
}

/// Validates, records and dispatches one run; see the module docs.
pub async fn admit(core: &Core, a: Admission) -> Result<Admitted, AdmitError> {
    admit_with(core, a, false).await
}

/// [`admit`], for a person who may ask to run inside an open maintenance
/// window (`override_window`, see [`super::windows`]).
pub async fn admit_with(
    core: &Core,
    a: Admission,
    override_window: bool,
) -> Result<Admitted, AdmitError> {
    use tracing::Instrument as _;
    let span = tracing::info_span!(
        "run.admit",
        trigger = ?a.trigger.kind,
        run_id = tracing::field::Empty,
        job_id = tracing::field::Empty,
    );
    admit_in_span(core, a, override_window)
        .instrument(span)
        .await
}

/// [`admit_with`] inside its span.
async fn admit_in_span(
    core: &Core,
    a: Admission,
    override_window: bool,
) -> Result<Admitted, AdmitError> {
    if a.may_repeat
        && let Some(key) = &a.intent_id
        && let Some(run) = existing(core.db(), key).await?
    {
        return replay(core, &a, run).await;
    }
    let resolved = resolve_job(core, &a).await?;
    tracing::Span::current().record("job_id", tracing::field::display(resolved.job.id));
    let def = resolved.definition.clone();
    let params = parameters(&def, &a.parameters, a.sealed.as_ref())?;
    known_targets(core, a.targets.as_ref()).await?;
    let verdict = super::windows::apply(core, &a, &resolved, override_window).await?;
    let skip = verdict.skip();
    if !core.bus.is_connected() {
        return Err(AdmitError::Unavailable(
            "not connected to NATS now; nothing was started, retry".to_owned(),
        ));
    }
    let run_id = Uuid::now_v7();
    tracing::Span::current().record("run_id", tracing::field::display(run_id));
    let accepted_at = Utc::now();
    let deadline = accepted_at
        + chrono::Duration::seconds(
            // Held to the checks' bound: a version stored before it existed
            // must not overflow the deadline.
            i64::try_from(
                def.timeout_secs
                    .unwrap_or(RUN_TIMEOUT_SECS)
                    .min(opsc_proto::job_check::MAX_TIMEOUT_SECS),
            )
            .unwrap_or(i64::MAX / 2_000),
        );
    let host = host_author(core, &resolved).await?;
    let prepared = dispatch::prepare(
        core,
        dispatch::Order {
            run_id,
            host,
            job: &resolved.job,
            version: resolved.version,
            definition: &def,
            public: &params.public,
            secret: &params.secret,
            targets: a.targets.as_ref(),
            skip: &skip,
            trigger: &a.trigger,
            intent_id: a.public_intent_id.clone(),
            accepted_at,
            deadline,
        },
    )
    .await?;
    let inserted = insert(
        core,
        Row {
            run_id,
            a: &a,
            job: &resolved.job,
            version: resolved.version,
            params: &params,
            prepared: &prepared,
            accepted_at,
            deadline,
        },
    )
    .await?;
    if inserted != super::concurrency::Placed::Existed
        && let Err(e) = super::windows::record(core, run_id, &verdict).await
    {
        let _ = run::Entity::delete_by_id(run_id).exec(core.db()).await;
        return Err(e);
    }
    if inserted == super::concurrency::Placed::Held {
        super::windows::audit_override(core, &a, run_id, &verdict).await;
        return Ok(Admitted {
            run_id,
            replayed: false,
        });
    }
    if inserted == super::concurrency::Placed::Existed {
        // Another admission of the same key won the race.
        let key = a.intent_id.as_deref().unwrap_or_default();
        let run = existing(core.db(), key)
            .await?
            .ok_or_else(|| AdmitError::Broken("a run of this intent vanished".to_owned()))?;
        same_intent(&a, &run)?;
        return Ok(Admitted {
            run_id: run.id,
            replayed: true,
        });
    }
    if let Err(e) = publish(core, &prepared).await {
        // Not acknowledged: the run does not exist. Some of its messages may
        // have been stored all the same (an acknowledgement lost or late):
        // a cancel makes any worker that takes such a dispatch stop before
        // its first step.
        let _ = run::Entity::delete_by_id(run_id).exec(core.db()).await;
        super::lifecycle::withdraw(core, run_id).await;
        tracing::warn!(error = %e, %run_id, "Run messages not acknowledged; run withdrawn.");
        return Err(AdmitError::Unavailable(
            "the run was not acknowledged by JetStream; nothing was started, retry".to_owned(),
        ));
    }
    super::windows::audit_override(core, &a, run_id, &verdict).await;
    core.metrics
        .runs_admitted
        .get_or_create(&labels(&[("trigger", &wire_name(a.trigger.kind))]))
        .inc();
    Ok(Admitted {
        run_id,
        replayed: false,
    })
}

/// An intent admitted before: its run, with its messages published again
/// when its first admission may have died between the row and the bus.
async fn replay(core: &Core, a: &Admission, run: run::Model) -> Result<Admitted, AdmitError> {
    same_intent(a, &run)?;
    let young = Utc::now() - run.created_at.to_utc() < REPUBLISH_WITHIN;
    if run.status == "queued" && run.started_at.is_none() && young {
        match republish(core, a, &run).await {
            Ok(()) => {}
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                tracing::warn!(run_id = %run.id, error = %e, "Replayed run not published again.");
            }
        }
    }
    Ok(Admitted {
        run_id: run.id,
        replayed: true,
    })
}

/// Whether a repeated key asks for the run it made: the same job, targets
/// and (shown) parameters. Anything else is another intent reusing the
/// key, which must not be answered with someone else's run.
fn same_intent(a: &Admission, run: &run::Model) -> Result<(), AdmitError> {
    let job_differs = match &a.job {
        JobName::Id(id) | JobName::Both(id, _) => *id != run.job_id,
        JobName::Name(name) => *name != run.job_name,
    };
    let version_differs = a
        .version
        .is_some_and(|v| i32::try_from(v).ok() != Some(run.job_version));
    let targets_differ = a.targets.as_ref().map(|t| json!(t)) != run.targets;
    let stored = run.parameters.as_object();
    let parameters_differ = a.parameters.iter().any(|(k, v)| {
        let sealed = a.sealed.as_ref().is_some_and(|s| s.contains(k));
        match stored.and_then(|m| m.get(k)) {
            Some(Value::String(shown)) if shown == "***" => false,
            // Given as "5" or "true", stored normalised as 5 or true.
            Some(shown) => {
                !sealed
                    && shown != v
                    && v.as_str().is_none_or(|given| {
                        serde_json::to_string(shown).ok().as_deref() != Some(given)
                    })
            }
            None => true,
        }
    });
    if job_differs || version_differs || targets_differ || parameters_differ {
        return Err(AdmitError::KeyReused);
    }
    Ok(())
}

async fn republish(core: &Core, a: &Admission, run: &run::Model) -> Result<(), AdmitError> {
    let mut again = a.clone();
    again.version = u32::try_from(run.job_version).ok();
    again.job = JobName::Id(run.job_id);
    let resolved = resolve_job(core, &again).await?;
    let params = parameters(&resolved.definition, &a.parameters, a.sealed.as_ref())?;
    let host = host_author(core, &resolved).await?;
    let skip = super::windows::recorded(core, run.id).await?;
    let prepared = dispatch::prepare(
        core,
        dispatch::Order {
            run_id: run.id,
            host,
            job: &resolved.job,
            version: resolved.version,
            definition: &resolved.definition,
            public: &params.public,
            secret: &params.secret,
            targets: a.targets.as_ref(),
            skip: &skip,
            trigger: &a.trigger,
            intent_id: a.public_intent_id.clone(),
            accepted_at: run.created_at.to_utc(),
            deadline: run.deadline.map_or_else(Utc::now, |d| d.to_utc()),
        },
    )
    .await?;
    if run
        .shards
        .is_some_and(|n| usize::try_from(n).ok() != Some(prepared.dispatches.len()))
    {
        return Err(AdmitError::Broken(
            "the targets changed since the first admission; the reaper will end the run".to_owned(),
        ));
    }
    publish(core, &prepared)
        .await
        .map_err(|e| AdmitError::Unavailable(e.to_string()))
}

/// Sends the `accepted` event, then every dispatch, and waits for all
/// acknowledgements: on one connection they are stored in this order, so a
/// run's first event always precedes its workers' events.
pub(super) async fn publish(
    core: &Core,
    p: &Prepared,
) -> Result<(), opsc_runtime::bus::PublishError> {
    use tracing::Instrument as _;
    // The dispatches carry this span's context: each shard is its child.
    let span = tracing::info_span!(
        "run.dispatch",
        run_id = %p.accepted.data.run_id,
        job_id = %p.accepted.data.job_id,
        shards = p.dispatches.len(),
    );
    let send = async {
        let mut pending = Vec::with_capacity(1 + p.dispatches.len());
        pending.push(core.bus.send(&p.accepted).await?);
        for d in &p.dispatches {
            pending.push(core.bus.send(d).await?);
        }
        for ack in pending {
            ack.ack().await?;
        }
        tracing::debug!("Run dispatched.");
        Ok(())
    }
    .instrument(span);
    tokio::time::timeout(PUBLISH_TIMEOUT, send)
        .await
        .unwrap_or_else(|_| {
            Err(opsc_runtime::bus::PublishError {
                subject: core.bus.subjects.run_request(),
                reason: format!("no acknowledgement within {PUBLISH_TIMEOUT:?}"),
            })
        })
}

/// What the run row is made of.
struct Row<'a> {
    run_id: Uuid,
    a: &'a Admission,
    job: &'a job::Model,
    version: i32,
    params: &'a Parameters,
    prepared: &'a Prepared,
    accepted_at: DateTime<Utc>,
    deadline: DateTime<Utc>,
}

/// Writes the run row; false when a run of the same intent exists.
async fn insert(core: &Core, r: Row<'_>) -> Result<super::concurrency::Placed, AdmitError> {
    let sealed = (!r.params.secret.is_empty()).then(|| {
        let bytes = serde_json::to_vec(&r.params.secret).unwrap_or_default();
        vault::seal(&core.vault, r.run_id, SECRET_KIND, &bytes)
    });
    let hex = |b: &[u8]| format!("\\x{}", data_encoding::HEXLOWER.encode(b));
    let a = r.a;
    let row = json!({
        "id": r.run_id,
        "job_id": r.job.id,
        "job_name": r.job.name,
        "job_version": r.version,
        "trigger_kind": wire_name(a.trigger.kind),
        "trigger_actor": a.trigger.actor,
        "trigger_origin": a.trigger.origin,
        "cause_run_id": a.trigger.cause_run_id,
        "parameters": r.params.public,
        "secret_parameters": sealed.as_ref().map(|s| hex(&s.sealed)),
        "secret_dek": sealed.as_ref().map(|s| hex(&s.wrapped_dek)),
        "secret_kek_id": sealed.as_ref().map(|s| s.kek_id.clone()),
        "targets": a.targets,
        "target_ids": r.prepared.target_ids,
        "shards": r.prepared.dispatches.len(),
        "deadline": r.deadline,
        "idempotency_key": a.idempotency_key,
        "intent_id": a.intent_id,
        "rerun_of": a.rerun_of,
        "attempt": a.retry.map_or(1, |l| l.attempt),
        "retry_of": a.retry.map(|l| l.retry_of),
        "retry_root": a.retry.map(|l| l.retry_root),
        "created_by": a.created_by,
        "created_at": r.accepted_at,
    });
    super::concurrency::write(core, (r.job, r.run_id), a, row).await
}

/// The group insert of run rows (see [`crate::store::batch`]): a run whose
/// intent was admitted before is skipped.
pub fn writer(db: sea_orm::DatabaseConnection) -> crate::store::batch::Batcher {
    crate::store::batch::Batcher::start(
        db,
        "INSERT INTO runs (id, job_id, job_name, job_version, status, trigger_kind, trigger_actor,
           trigger_origin, cause_run_id, parameters, secret_parameters, secret_dek, secret_kek_id,
           targets, target_ids, shards, deadline, idempotency_key, intent_id, rerun_of, created_by,
           created_at, updated_at, attempt, retry_of, retry_root)
         SELECT x.id, x.job_id, x.job_name, x.job_version, 'queued', x.trigger_kind, x.trigger_actor,
           x.trigger_origin, x.cause_run_id, x.parameters, x.secret_parameters, x.secret_dek, x.secret_kek_id,
           x.targets, x.target_ids, x.shards, x.deadline, x.idempotency_key, x.intent_id, x.rerun_of,
           x.created_by, x.created_at, x.created_at, x.attempt, x.retry_of, x.retry_root
         FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, job_id uuid, job_name text, job_version int,
           trigger_kind text, trigger_actor text, trigger_origin text, cause_run_id uuid, parameters jsonb,
           secret_parameters bytea, secret_dek bytea, secret_kek_id text, targets jsonb, target_ids jsonb,
           shards int, deadline timestamptz, idempotency_key text, intent_id text, rerun_of uuid,
           created_by uuid, created_at timestamptz, attempt int, retry_of uuid, retry_root uuid)
         ON CONFLICT (intent_id) WHERE intent_id IS NOT NULL DO NOTHING RETURNING id::text AS id",
        "id",
    )
}
