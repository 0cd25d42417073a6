//! The dispatcher: turns run requests into dispatches. It resolves targets
//! (per step), groups them by pool, cuts shards, seals the credentials and
//! secret parameters for each pool, and publishes the shards.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use async_nats::jetstream::Message;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunRequest, TargetSelection};
use opsc_proto::dispatch::{
    DispatchHttp, DispatchSecrets, DispatchSsh, DispatchTarget, DispatchWinrm, JobRef, RunDispatch,
};
use opsc_proto::events::{RunAccepted, RunStatus, ShardRef};
use opsc_proto::job::JobDefinition;
use opsc_proto::topology::consumer;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::resolve::resolve;
use super::start::SECRET_KIND;
use crate::handlers::targets::spec_of;
use crate::http::AppState;
use crate::store::{credential, job_version, run, target};
use crate::targets::WinrmScheme;
use crate::targets::hostkey::HostKeyState;
use crate::vault;

/// Targets per shard at most.
pub const SHARD_SIZE: usize = 100;
/// Default run timeout.
const RUN_TIMEOUT_SECS: u64 = 3600;
/// Requests dispatched at once.
const CONCURRENCY: usize = 64;

/// A target and the ids of the steps that run on it.
type Assigned = (target::Model, Vec<String>);

/// Consumes run requests until shutdown.
pub async fn run(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    super::consume(
        &state,
        consumer::DISPATCHER,
        &state.bus.streams.commands.clone(),
        shutdown,
        CONCURRENCY,
        |state, msg| async move {
            handle(&state, msg).await;
        },
    )
    .await
}

async fn handle(state: &AppState, msg: Message) {
    let request = match CloudEvent::<RunRequest>::decode(&msg.payload) {
        Ok(e) => e.data,
        Err(e) => {
            if let Err(e) = state
                .bus
                .dead_letter(
                    consumer::DISPATCHER,
                    &msg,
                    &format!("undecodable run request: {e}"),
                )
                .await
            {
                tracing::error!(error = %e, "Dead letter not stored.");
            }
            return;
        }
    };
    let run_id = request.run_id;
    match dispatch(state, &request).await {
        Ok(()) => {
            let _ = msg.double_ack().await;
        }
        Err(Failure::Retry(e)) => {
            tracing::warn!(%run_id, error = %e, "Dispatch failed; will retry.");
            let _ = msg
                .ack_with(async_nats::jetstream::AckKind::Nak(Some(
                    Duration::from_secs(1),
                )))
                .await;
        }
        Err(Failure::Fatal(reason)) => {
            tracing::warn!(%run_id, %reason, "Run cannot be dispatched.");
            super::finish_run(state, run_id, RunStatus::Failed, Some(reason)).await;
            let _ = msg.double_ack().await;
        }
    }
}

enum Failure {
    /// Transient (database, bus): redeliver.
    Retry(String),
    /// The run cannot run: fail it with this reason.
    Fatal(String),
}

impl From<sea_orm::DbErr> for Failure {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Retry(e.to_string())
    }
}

impl From<crate::http::problem::Problem> for Failure {
    fn from(p: crate::http::problem::Problem) -> Self {
        Self::Retry(p.describe())
    }
}

async fn dispatch(state: &AppState, req: &RunRequest) -> Result<(), Failure> {
    let db = state.store.db();
    let Some(row) = run::Entity::find_by_id(req.run_id).one(db).await? else {
        // Withdrawn (its request was never acknowledged) or deleted.
        tracing::info!(run_id = %req.run_id, "Run request for an unknown run ignored.");
        return Ok(());
    };
    if row.status != "queued" {
        return Ok(());
    }
    let version = job_version::Entity::find_by_id((row.job_id, row.job_version))
        .one(db)
        .await?
        .ok_or_else(|| Failure::Fatal("the job version no longer exists".to_owned()))?;
    let def: JobDefinition = serde_json::from_value(version.definition)
        .map_err(|e| Failure::Fatal(format!("the job definition is unreadable: {e}")))?;
    let secret_params: BTreeMap<String, serde_json::Value> =
        match (&row.secret_parameters, &row.secret_dek, &row.secret_kek_id) {
            (Some(sealed), Some(dek), Some(kek)) => {
                let env = vault::Sealed {
                    sealed: sealed.clone(),
                    wrapped_dek: dek.clone(),
                    kek_id: kek.clone(),
                };
                let bytes = vault::open(&state.vault, row.id, SECRET_KIND, &env).map_err(|e| {
                    Failure::Fatal(format!("secret parameters cannot be opened: {e}"))
                })?;
                serde_json::from_slice(&bytes).unwrap_or_default()
            }
            _ => BTreeMap::new(),
        };

    // Targets per step: the run's override, else the step's own, else the job's.
    let run_sel: Option<TargetSelection> = req.targets.clone().or_else(|| def.targets.clone());
    let mut per_target: BTreeMap<Uuid, (target::Model, Vec<String>)> = BTreeMap::new();
    let mut any_selection = false;
    // Steps that address no target: in a run with targets they run on the
    // worker once per target, with that target's context.
    let mut untargeted: Vec<String> = Vec::new();
    let mut resolved: Vec<(TargetSelection, BTreeMap<Uuid, target::Model>)> = Vec::new();
    for step in &def.steps {
        let sel = if req.targets.is_some() {
            run_sel.clone()
        } else {
            step.targets.clone().or_else(|| run_sel.clone())
        };
        let Some(sel) = sel else {
            untargeted.push(step.id.clone());
            continue;
        };
        any_selection = true;
        let targets = match resolved.iter().find(|(s, _)| *s == sel) {
            Some((_, targets)) => targets.clone(),
            None => {
                let targets = resolve(state, &sel).await?;
                resolved.push((sel, targets.clone()));
                targets
            }
        };
        for (id, t) in targets {
            per_target
                .entry(id)
                .or_insert_with(|| (t, Vec::new()))
                .1
                .push(step.id.clone());
        }
    }
    if any_selection && per_target.is_empty() {
        return Err(Failure::Fatal(
            "the target selection matches no enabled target".to_owned(),
        ));
    }
    for (_, steps) in per_target.values_mut() {
        steps.extend(untargeted.iter().cloned());
    }

    // Shards: per pool, SHARD_SIZE targets each; a run without targets is one shard.
    let mut by_pool: BTreeMap<String, Vec<(target::Model, Vec<String>)>> = BTreeMap::new();
    for (_, (t, steps)) in per_target {
        by_pool.entry(t.pool.clone()).or_default().push((t, steps));
    }
    let mut plans: Vec<(String, Vec<Assigned>)> = Vec::new();
    if by_pool.is_empty() {
        plans.push((
            def.pool.clone().unwrap_or_else(|| "default".to_owned()),
            Vec::new(),
        ));
    }
    for (pool, targets) in by_pool {
        let mut rest = targets;
        while !rest.is_empty() {
            let tail = rest.split_off(rest.len().min(SHARD_SIZE));
            plans.push((pool.clone(), rest));
            rest = tail;
        }
    }
    let count = u32::try_from(plans.len()).unwrap_or(u32::MAX);
    let accepted_at = row.created_at.to_utc();
    let deadline = accepted_at
        + chrono::Duration::seconds(
            i64::try_from(def.timeout_secs.unwrap_or(RUN_TIMEOUT_SECS)).unwrap_or(i64::MAX / 2_000),
        );
    let target_ids: Vec<Uuid> = plans
        .iter()
        .flat_map(|(_, ts)| ts.iter().map(|(t, _)| t.id))
        .collect();
    run::Entity::update_many()
        .col_expr(
            run::Column::Shards,
            Expr::value(i32::try_from(count).unwrap_or(i32::MAX)),
        )
        .col_expr(run::Column::TargetIds, Expr::value(json!(target_ids)))
        .col_expr(run::Column::Deadline, Expr::value(deadline.fixed_offset()))
        .filter(run::Column::Id.eq(row.id))
        .exec(db)
        .await?;
    let job = JobRef {
        id: row.job_id,
        name: row.job_name.clone(),
        version: u32::try_from(row.job_version).unwrap_or(0),
    };
    for (index, (pool, targets)) in plans.into_iter().enumerate() {
        let shard = ShardRef {
            index: u32::try_from(index).unwrap_or(u32::MAX),
            count,
        };
        let mut secrets = DispatchSecrets {
            parameters: secret_params.clone(),
            credentials: BTreeMap::new(),
        };
        let mut dispatched = Vec::new();
        for (t, steps) in targets {
            let (dt, creds) = dispatch_target(&t, steps);
            for id in creds {
                if secrets.credentials.contains_key(&id) {
                    continue;
                }
                let c = credential::Entity::find_by_id(id)
                    .one(db)
                    .await?
                    .ok_or_else(|| {
                        Failure::Fatal(format!(
                            "the credential of target {} no longer exists",
                            t.name
                        ))
                    })?;
                let m = crate::credentials::material::material(&state.vault, &c)
                    .map_err(Failure::Fatal)?;
                secrets.credentials.insert(id, m);
            }
            dispatched.push(dt);
        }
        let mut d = RunDispatch {
            run_id: row.id,
            shard,
            job: job.clone(),
            definition: def.clone(),
            parameters: req
                .parameters
                .iter()
                .filter(|(k, _)| !secret_params.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            sealed: None,
            targets: dispatched,
            trigger: req.trigger.clone(),
            accepted_at,
            deadline,
        };
        if !secrets.parameters.is_empty() || !secrets.credentials.is_empty() {
            let plain = serde_json::to_vec(&secrets).map_err(|e| Failure::Fatal(e.to_string()))?;
            d.sealed = Some(state.sealer.seal_for(&pool, &plain, &d.seal_context()));
        }
        let mut event = CloudEvent::new(state.bus.source.clone(), d);
        event.id = format!("{}.{}", row.id, index);
        state
            .bus
            .publish(state.bus.subjects.run_dispatch(&pool), &event)
            .await
            .map_err(|e| Failure::Retry(e.to_string()))?;
    }
    let mut accepted = CloudEvent::new(
        state.bus.source.clone(),
        RunAccepted {
            run_id: row.id,
            job_id: row.job_id,
            job_version: job.version,
            trigger: req.trigger.clone(),
        },
    )
    .with_subject(row.id.to_string());
    accepted.id = format!("{}.accepted", row.id);
    state
        .bus
        .publish(
            state
                .bus
                .subjects
                .run_event(&row.id.to_string(), "accepted"),
            &accepted,
        )
        .await
        .map_err(|e| Failure::Retry(e.to_string()))?;
    Ok(())
}

/// A target as a worker needs it, and the credentials it uses.
fn dispatch_target(t: &target::Model, steps: Vec<String>) -> (DispatchTarget, BTreeSet<Uuid>) {
    let spec = spec_of(t);
    let mut creds = BTreeSet::new();
    let pinned = HostKeyState::from_column(t.host_key.as_ref()).pinned_key();
    let ssh = spec.ssh.map(|s| {
        creds.insert(s.credential_id);
        DispatchSsh {
            port: s.port,
            credential_id: s.credential_id,
            connect_timeout_secs: s.connect_timeout_secs,
            host_key_policy: s.host_key_policy,
            pinned,
        }
    });
    let winrm = spec.winrm.map(|w| {
        creds.insert(w.credential_id);
        let https = w.scheme == WinrmScheme::Https;
        DispatchWinrm {
            https,
            port: w.port.unwrap_or(if https { 5986 } else { 5985 }),
            verify_tls: w.verify_tls,
            credential_id: w.credential_id,
        }
    });
    let http = spec.http.map(|h| {
        if let Some(c) = h.credential_id {
            creds.insert(c);
        }
        DispatchHttp {
            base_url: h.base_url,
            credential_id: h.credential_id,
            verify_tls: h.verify_tls,
        }
    });
    let facts = t
        .last_test
        .as_ref()
        .and_then(|v| v.get("facts"))
        .and_then(|f| serde_json::from_value(f.clone()).ok())
        .unwrap_or_default();
    (
        DispatchTarget {
            id: t.id,
            name: t.name.clone(),
            hostname: t.hostname.clone(),
            os_type: t.os_type.clone(),
            tags: spec.tags,
            metadata: spec.metadata,
            facts,
            ssh,
            winrm,
            http,
            steps,
        },
        creds,
    )
}
