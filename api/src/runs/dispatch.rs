//! The messages of an admitted run: the `accepted` event and one dispatch
//! per shard, with the shard's credentials and the secret parameters sealed
//! for the pool that executes it.
//!
//! Targets per step: the run's override, else the step's own selection,
//! else the job's. Steps that address no target run on the worker — once
//! per target, with that target's context, in a run that has targets.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::commands::{TargetSelection, Trigger};
use opsc_proto::dispatch::{
    DispatchHttp, DispatchSecrets, DispatchSsh, DispatchTarget, DispatchWinrm, HostGrant, JobRef,
    RunDispatch,
};
use opsc_proto::events::{RunAccepted, ShardRef};
use opsc_proto::job::JobDefinition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::admit::AdmitError;
use super::plan::{self, DEFAULT_PARALLELISM};
use crate::core::Core;
use crate::store::{credential, job, target};
use crate::targets::WinrmScheme;
use crate::targets::hostkey::HostKeyState;

/// Who saved a version that reaches into the worker host.
#[derive(Debug, Clone, Copy)]
pub struct HostAuthor {
    /// The author, when known.
    pub id: Option<Uuid>,
    /// Whether they are an active admin now.
    pub admin: bool,
}

/// What [`prepare`] needs to know about the run.
#[derive(Debug)]
pub struct Order<'a> {
    /// The run.
    pub run_id: Uuid,
    /// For a definition that reaches into the worker host: its author.
    pub host: Option<HostAuthor>,
    /// Its job.
    pub job: &'a job::Model,
    /// The version run.
    pub version: i32,
    /// That version's definition.
    pub definition: &'a JobDefinition,
    /// Parameters that may be shown (secret ones as `***`).
    pub public: &'a BTreeMap<String, Value>,
    /// Secret parameters.
    pub secret: &'a BTreeMap<String, Value>,
    /// The run's target override.
    pub targets: Option<&'a TargetSelection>,
    /// Targets left out of the plan (inside a maintenance window).
    pub skip: &'a BTreeSet<Uuid>,
    /// Its trigger.
    pub trigger: &'a Trigger,
    /// The intent id to show in `accepted`.
    pub intent_id: Option<String>,
    /// When it was accepted.
    pub accepted_at: DateTime<Utc>,
    /// When it must have ended.
    pub deadline: DateTime<Utc>,
}

/// The run's messages, ready to publish.
#[derive(Debug)]
pub struct Prepared {
    /// `…evt.run.<id>.accepted`.
    pub accepted: CloudEvent<RunAccepted>,
    /// One dispatch per shard.
    pub dispatches: Vec<CloudEvent<RunDispatch>>,
    /// Every target the run addresses.
    pub target_ids: Vec<Uuid>,
}

/// A target and the ids of the steps that run on it.
type Assigned = (target::Model, Vec<String>);

/// Which targets each step runs on; `Ok(None)` when no step addresses any.
async fn assign(core: &Core, o: &Order<'_>) -> Result<Option<Vec<Assigned>>, AdmitError> {
    let def = o.definition;
    let run_sel: Option<TargetSelection> = o.targets.cloned().or_else(|| def.targets.clone());
    let mut per_target: BTreeMap<Uuid, Assigned> = BTreeMap::new();
    let mut any_selection = false;
    let mut untargeted: Vec<String> = Vec::new();
    let mut resolved: Vec<(TargetSelection, BTreeMap<Uuid, target::Model>)> = Vec::new();
    for step in &def.steps {
        let sel = if o.targets.is_some() {
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
                let targets = crate::targets::resolve(core.db(), &sel).await?;
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
    if !any_selection {
        return Ok(None);
    }
    per_target.retain(|id, _| !o.skip.contains(id));
    if per_target.is_empty() {
        return Err(AdmitError::invalid(
            "/targets",
            "the target selection matches no enabled target",
        ));
    }
    let mut out: Vec<Assigned> = per_target.into_values().collect();
    for (_, steps) in &mut out {
        steps.extend(untargeted.iter().cloned());
    }
    Ok(Some(out))
}

/// Plans the run's shards and builds its messages.
pub async fn prepare(core: &Core, o: Order<'_>) -> Result<Prepared, AdmitError> {
    let def = o.definition;
    let assigned = assign(core, &o).await?.unwrap_or_default();
    let mut by_pool: BTreeMap<String, Vec<Assigned>> = BTreeMap::new();
    for a in assigned {
        by_pool.entry(a.0.pool.clone()).or_default().push(a);
    }
    let default_pool = def
        .pool
        .clone()
        .unwrap_or_else(|| crate::jobs::host::DEFAULT_POOL.to_owned());
    let shards = plan::shards(
        by_pool,
        &default_pool,
        def.parallelism.unwrap_or(DEFAULT_PARALLELISM),
    );
    let materials = materials(core, &shards).await?;
    let count = u32::try_from(shards.len()).unwrap_or(u32::MAX);
    let job = JobRef {
        id: o.job.id,
        name: o.job.name.clone(),
        version: u32::try_from(o.version).unwrap_or(0),
        author: o.host.and_then(|h| h.id),
    };
    let digest = o.host.map(|_| def.digest());
    let mut target_ids = Vec::new();
    let mut dispatches = Vec::with_capacity(shards.len());
    for (index, shard) in shards.into_iter().enumerate() {
        let index = u32::try_from(index).unwrap_or(u32::MAX);
        let host = grant(core, &o, &shard, digest.as_deref())?;
        let mut secrets = DispatchSecrets {
            parameters: o.secret.clone(),
            credentials: BTreeMap::new(),
            host,
        };
        let mut targets = Vec::with_capacity(shard.targets.len());
        for (t, steps) in shard.targets {
            target_ids.push(t.id);
            let (dt, creds) = dispatch_target(&t, steps);
            for id in creds {
                let m = materials.get(&id).ok_or_else(|| {
                    AdmitError::invalid(
                        "/targets",
                        format!("the credential of target {} no longer exists", t.name),
                    )
                })?;
                secrets.credentials.insert(id, m.clone());
            }
            targets.push(dt);
        }
        let mut d = RunDispatch {
            run_id: o.run_id,
            shard: ShardRef { index, count },
            pool: shard.pool,
            parallelism: shard.parallelism,
            job: job.clone(),
            definition: def.clone(),
            parameters: o
                .public
                .iter()
                .filter(|(k, _)| !o.secret.contains_key(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            sealed: None,
            targets,
            trigger: o.trigger.clone(),
            accepted_at: o.accepted_at,
            deadline: o.deadline,
        };
        if !secrets.parameters.is_empty()
            || !secrets.credentials.is_empty()
            || secrets.host.is_some()
        {
            let plain =
                serde_json::to_vec(&secrets).map_err(|e| AdmitError::Broken(e.to_string()))?;
            d.sealed = Some(core.sealer.seal_for(&d.pool, &plain, &d.seal_context()));
        }
        dispatches.push(
            CloudEvent::new(core.bus.source.clone(), d).with_id(format!("{}.{index}", o.run_id)),
        );
    }
    let accepted = CloudEvent::new(
        core.bus.source.clone(),
        RunAccepted {
            run_id: o.run_id,
            job_id: o.job.id,
            job_version: job.version,
            trigger: o.trigger.clone(),
            intent_id: o.intent_id,
            shards: count,
        },
    )
    .with_subject(o.run_id.to_string())
    .with_id(format!("{}.accepted", o.run_id));
    Ok(Prepared {
        accepted,
        dispatches,
        target_ids,
    })
}

/// The leave a shard needs for its steps that reach into the worker host,
/// or why it may not have it: the version's author must be an active admin
/// and the shard's pool must allow each such step it runs.
fn grant(
    core: &Core,
    o: &Order<'_>,
    shard: &plan::Shard<Assigned>,
    digest: Option<&str>,
) -> Result<Option<HostGrant>, AdmitError> {
    let (Some(author), Some(digest)) = (o.host, digest) else {
        return Ok(None);
    };
    let runs: BTreeSet<&str> = if shard.targets.is_empty() {
        o.definition.steps.iter().map(|s| s.id.as_str()).collect()
    } else {
        shard
            .targets
            .iter()
            .flat_map(|(_, steps)| steps.iter().map(String::as_str))
            .collect()
    };
    let allowed = core.config.pools.of(&shard.pool);
    let mut any = false;
    for step in o
        .definition
        .steps
        .iter()
        .filter(|s| runs.contains(s.id.as_str()))
    {
        let Some(how) = step.host_use() else { continue };
        any = true;
        let admin = author.admin && author.id.is_some();
        if let Some(why) = crate::jobs::host::refusal(step, how, admin, &shard.pool, allowed) {
            return Err(AdmitError::Forbidden(why));
        }
    }
    Ok(any.then(|| HostGrant {
        author: author.id.unwrap_or_default(),
        allowed,
        definition: digest.to_owned(),
    }))
}

/// The material of every credential the shards' targets use, opened once,
/// after each use was checked against the credential's scope: nothing is
/// sealed for a target outside it.
async fn materials(
    core: &Core,
    shards: &[plan::Shard<Assigned>],
) -> Result<BTreeMap<Uuid, opsc_proto::material::CredentialMaterial>, AdmitError> {
    let ids: BTreeSet<Uuid> = shards
        .iter()
        .flat_map(|s| s.targets.iter())
        .flat_map(|(t, _)| credentials_of(t))
        .collect();
    let mut out = BTreeMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let rows: HashMap<Uuid, credential::Model> = credential::Entity::find()
        .filter(credential::Column::Id.is_in(ids))
        .all(core.db())
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    for (t, _) in shards.iter().flat_map(|s| s.targets.iter()) {
        crate::targets::scope::check_uses(core.db(), t, &rows)
            .await?
            .map_err(AdmitError::Forbidden)?;
    }
    for row in rows.values() {
        let m = crate::credentials::material::material(&core.vault, row)
            .map_err(|reason| AdmitError::invalid("/targets", reason))?;
        out.insert(row.id, m);
    }
    Ok(out)
}

fn credentials_of(t: &target::Model) -> BTreeSet<Uuid> {
    let spec = crate::targets::spec_of(t);
    let mut ids = BTreeSet::new();
    if let Some(s) = spec.ssh {
        ids.insert(s.credential_id);
    }
    if let Some(w) = spec.winrm {
        ids.insert(w.credential_id);
    }
    if let Some(c) = spec.http.and_then(|h| h.credential_id) {
        ids.insert(c);
    }
    ids
}

/// A target as a worker needs it, and the credentials it uses.
fn dispatch_target(t: &target::Model, steps: Vec<String>) -> (DispatchTarget, BTreeSet<Uuid>) {
    let spec = crate::targets::spec_of(t);
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
