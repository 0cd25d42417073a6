//! Accepting a run: validate the parameters and targets, store the run,
//! publish the run request, and answer only once JetStream has it.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use chrono::Utc;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunRequest, TargetSelection, Trigger};
use opsc_proto::job::{JobDefinition, ParamType};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::http::AppState;

/// How long a run request may wait for JetStream's acknowledgement before
/// the run is withdrawn and the answer is 503.
const PUBLISH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
use crate::http::problem::Problem;
use crate::store::{job, job_version, run, target, target_group};
use crate::vault;

/// A request to run a job.
#[derive(Debug, Clone)]
pub struct StartRun {
    /// The job.
    pub job_id: Uuid,
    /// Parameter values given.
    pub parameters: BTreeMap<String, Value>,
    /// Target override.
    pub targets: Option<TargetSelection>,
    /// Who or what starts it.
    pub trigger: Trigger,
    /// The client's `Idempotency-Key`.
    pub idempotency_key: Option<String>,
    /// The user.
    pub created_by: Option<Uuid>,
    /// The run re-run.
    pub rerun_of: Option<Uuid>,
}

/// Vault record kind of a run's secret parameters.
pub const SECRET_KIND: &str = "run-parameters";

async fn existing(state: &AppState, who: Option<Uuid>, key: &str) -> Result<Option<Uuid>, Problem> {
    let mut q = run::Entity::find().filter(run::Column::IdempotencyKey.eq(key));
    q = match who {
        Some(u) => q.filter(run::Column::CreatedBy.eq(u)),
        None => q.filter(run::Column::CreatedBy.is_null()),
    };
    Ok(q.one(state.store.db()).await?.map(|r| r.id))
}

async fn check_targets(state: &AppState, sel: &TargetSelection) -> Result<(), Problem> {
    let db = state.store.db();
    for id in &sel.targets {
        if target::Entity::find_by_id(*id).one(db).await?.is_none() {
            return Err(Problem::invalid(format!("targets: no target {id}")));
        }
    }
    for id in &sel.groups {
        if target_group::Entity::find_by_id(*id)
            .one(db)
            .await?
            .is_none()
        {
            return Err(Problem::invalid(format!("groups: no target group {id}")));
        }
    }
    Ok(())
}

/// Starts a run; its id, and whether an earlier request with the same
/// idempotency key had started it already.
pub async fn start(state: &AppState, req: StartRun) -> Result<(Uuid, bool), Problem> {
    if let Some(key) = &req.idempotency_key {
        if key.is_empty() || key.len() > 200 {
            return Err(Problem::invalid("Idempotency-Key must be 1-200 characters"));
        }
        if let Some(id) = existing(state, req.created_by, key).await? {
            return Ok((id, true));
        }
    }
    let db = state.store.db();
    let j = job::Entity::find_by_id(req.job_id)
        .one(db)
        .await?
        .ok_or_else(|| Problem::not_found_entity("job"))?;
    if !j.active {
        return Err(Problem::conflict(
            "the job is inactive: activate it to run it",
        ));
    }
    let version = job_version::Entity::find_by_id((j.id, j.current_version))
        .one(db)
        .await?
        .ok_or_else(|| Problem::internal(&"the job's current version is missing"))?;
    let def: JobDefinition = serde_json::from_value(version.definition.clone())
        .map_err(|e| Problem::internal(&format!("stored definition unreadable: {e}")))?;
    let resolved =
        opsc_proto::job_check::check_params(&def, &req.parameters).map_err(|errors| {
            Problem::invalid("the parameters do not fit the job").errors(json!(errors))
        })?;
    if let Some(sel) = &req.targets {
        check_targets(state, sel).await?;
    }
    let (mut public, mut secret) = (BTreeMap::new(), BTreeMap::new());
    for (name, value) in resolved {
        let is_secret = def
            .parameters
            .get(&name)
            .is_some_and(|p| p.kind == ParamType::Secret);
        if is_secret {
            secret.insert(name.clone(), value);
            public.insert(name, json!("***"));
        } else {
            public.insert(name, value);
        }
    }
    if !state.bus.is_connected() {
        // Answer at once instead of holding the request for a reconnect.
        return Err(bus_unavailable(
            "not connected to NATS now; nothing was started, retry",
        ));
    }
    let run_id = Uuid::now_v7();
    let sealed = (!secret.is_empty()).then(|| {
        let bytes = serde_json::to_vec(&secret).unwrap_or_default();
        vault::seal(&state.vault, run_id, SECRET_KIND, &bytes)
    });
    let now = Utc::now().fixed_offset();
    let row = run::ActiveModel {
        id: Set(run_id),
        job_id: Set(j.id),
        job_name: Set(j.name.clone()),
        job_version: Set(j.current_version),
        status: Set("queued".to_owned()),
        reason: Set(None),
        trigger_kind: Set(super::wire_name(req.trigger.kind)),
        trigger_actor: Set(req.trigger.actor.clone()),
        parameters: Set(json!(public)),
        secret_parameters: Set(sealed.as_ref().map(|s| s.sealed.clone())),
        secret_dek: Set(sealed.as_ref().map(|s| s.wrapped_dek.clone())),
        secret_kek_id: Set(sealed.as_ref().map(|s| s.kek_id.clone())),
        targets: Set(req.targets.as_ref().map(|t| json!(t))),
        target_ids: Set(json!([])),
        shards: Set(None),
        deadline: Set(None),
        shards_finished: Set(json!({})),
        idempotency_key: Set(req.idempotency_key.clone()),
        rerun_of: Set(req.rerun_of),
        created_by: Set(req.created_by),
        created_at: Set(now),
        started_at: Set(None),
        finished_at: Set(None),
        updated_at: Set(now),
    };
    if let Err(e) = row.insert(db).await {
        // Two requests with one key raced: the other one won.
        if let Some(key) = &req.idempotency_key
            && let Some(id) = existing(state, req.created_by, key).await?
        {
            return Ok((id, true));
        }
        return Err(e.into());
    }
    let request = RunRequest {
        run_id,
        job_id: j.id,
        job_version: u32::try_from(j.current_version).unwrap_or(0),
        parameters: public,
        targets: req.targets,
        trigger: req.trigger,
    };
    let mut event = CloudEvent::new(state.bus.source.clone(), request);
    event.id = run_id.to_string();
    let published = tokio::time::timeout(
        PUBLISH_TIMEOUT,
        state.bus.publish(state.bus.subjects.run_request(), &event),
    )
    .await
    .unwrap_or_else(|_| {
        Err(opsc_runtime::bus::PublishError {
            subject: state.bus.subjects.run_request(),
            reason: format!("no acknowledgement within {PUBLISH_TIMEOUT:?}"),
        })
    });
    if let Err(e) = published {
        // Not acknowledged: the run does not exist.
        let _ = run::Entity::delete_by_id(run_id).exec(db).await;
        tracing::warn!(error = %e, "Run request not acknowledged; run withdrawn.");
        return Err(bus_unavailable(
            "the run request was not acknowledged by JetStream; nothing was started, retry",
        ));
    }
    Ok((run_id, false))
}

/// 503: the bus did not take the run request.
fn bus_unavailable(detail: &str) -> Problem {
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "bus-unavailable",
        "The bus is unavailable",
    )
    .detail(detail)
}
