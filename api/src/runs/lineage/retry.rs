//! A retry intent (`retry_of`): the failed run again, as the next attempt
//! of its chain.
//!
//! Refused unless the trigger kind is `retry`, the intent gives no
//! parameters, sealed parameters, targets or version (they are the run's),
//! the run exists, is a run of the job the intent names, has ended and did
//! not succeed, a retry policy applies to it (its schedule's or its job
//! version's) and allows one more attempt, and no other intent retried it
//! already. The new run runs the same version with the same parameters —
//! secret ones opened from the run's vault record: the steps that receive
//! them are the same immutable version's, so nothing new can read them —
//! and the same target override.

use opsc_proto::commands::{RunIntent, TriggerKind};
use opsc_proto::job::ParamType;
use opsc_proto::run_policy::RetryPolicy;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::{LineageError, RetryLink, is_terminal, refuse};
use crate::core::Core;
use crate::runs::admit::{Admission, resolve_job};
use crate::store::{run, schedule};

/// Completes `a` as a retry of run `of`; see the module docs.
pub(super) async fn admission(
    core: &Core,
    intent: &RunIntent,
    a: &mut Admission,
    of: Uuid,
) -> Result<(), LineageError> {
    if intent.trigger.kind != TriggerKind::Retry {
        return refuse("retry_of needs trigger kind retry");
    }
    if !intent.parameters.is_empty()
        || intent.sealed_parameters.is_some()
        || intent.targets.is_some()
        || intent.job_version.is_some()
    {
        return refuse(
            "a retry takes the parameters, targets and version of the run it retries: give none",
        );
    }
    let Some(old) = run::Entity::find_by_id(of).one(core.db()).await? else {
        return refuse(format!("retry_of: no run {of}"));
    };
    a.version = u32::try_from(old.job_version).ok();
    let resolved = resolve_job(core, a).await?;
    if resolved.job.id != old.job_id {
        return refuse(format!(
            "retry_of: run {of} is not a run of job {:?}",
            resolved.job.name
        ));
    }
    if !is_terminal(&old.status) || old.status == "succeeded" || old.status == "skipped" {
        return refuse(format!(
            "retry_of: run {of} is {}; only a run that ended without success is retried",
            old.status
        ));
    }
    let attempt = u32::try_from(old.attempt).unwrap_or(1).saturating_add(1);
    let Some(policy) = policy(core, &old, resolved.definition.retry.as_ref()).await? else {
        return refuse(format!(
            "retry_of: no retry policy applies to run {of} (neither its schedule nor its job version has one)"
        ));
    };
    if attempt > policy.max_retries.saturating_add(1) {
        return refuse(format!(
            "retry_of: attempt {attempt} is beyond the policy's {} retries",
            policy.max_retries
        ));
    }
    let other = run::Entity::find()
        .filter(run::Column::RetryOf.eq(of))
        .one(core.db())
        .await?;
    if let Some(other) = other
        && other.intent_id != a.intent_id
    {
        return refuse(format!(
            "retry_of: run {of} was retried already, by run {}",
            other.id
        ));
    }
    let def = &resolved.definition;
    let is_secret = |name: &str| {
        def.parameters
            .get(name)
            .is_some_and(|p| p.kind == ParamType::Secret)
    };
    let mut parameters: std::collections::BTreeMap<String, Value> = old
        .parameters
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(name, _)| !is_secret(name))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let secret = crate::runs::rerun::secret_parameters(core, &old)?;
    let mut sealed = std::collections::BTreeSet::new();
    for (name, value) in secret {
        sealed.insert(name.clone());
        parameters.insert(name, value);
    }
    a.parameters = parameters;
    a.sealed = Some(sealed);
    a.targets = old
        .targets
        .clone()
        .and_then(|t| serde_json::from_value(t).ok());
    a.trigger.cause_run_id = Some(old.id);
    a.retry = Some(RetryLink {
        attempt,
        retry_of: old.id,
        retry_root: old.retry_root.unwrap_or(old.id),
    });
    Ok(())
}

/// The policy that applies to `old`: its schedule's when a schedule
/// started it and has one, else its version's.
async fn policy(
    core: &Core,
    old: &run::Model,
    version: Option<&RetryPolicy>,
) -> Result<Option<RetryPolicy>, LineageError> {
    if old.trigger_kind == "schedule"
        && let Ok(id) = old.trigger_actor.parse::<Uuid>()
        && let Some(s) = schedule::Entity::find_by_id(id).one(core.db()).await?
        && let Some(p) = s.retry.and_then(|v| serde_json::from_value(v).ok())
    {
        return Ok(Some(p));
    }
    Ok(version.cloned())
}
