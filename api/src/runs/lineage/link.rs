//! A dependent run without parameters from its upstream run: its intent
//! must still name a dependency that links the two, so a producer on the
//! bus cannot pass a run off as the reaction to another one.

use opsc_proto::commands::RunIntent;
use sea_orm::EntityTrait;
use uuid::Uuid;

use super::{LineageError, refuse};
use crate::core::Core;
use crate::runs::admit::{Admission, resolve_job};
use crate::store::{job_dependency, run};

/// Checks that the intent's actor is an enabled dependency from the job of
/// `trigger.cause_run_id` to the intent's job.
pub(super) async fn check(
    core: &Core,
    intent: &RunIntent,
    a: &Admission,
) -> Result<(), LineageError> {
    let Some(cause) = intent.trigger.cause_run_id else {
        return refuse("a dependency intent names the upstream run in trigger.cause_run_id");
    };
    let db = core.db();
    let Some(upstream) = run::Entity::find_by_id(cause).one(db).await? else {
        return refuse(format!("dependency: no run {cause}"));
    };
    let resolved = resolve_job(core, a).await?;
    let dependency = match intent.trigger.actor.parse::<Uuid>() {
        Ok(id) => job_dependency::Entity::find_by_id(id).one(db).await?,
        Err(_) => None,
    };
    let Some(dep) = dependency.filter(|d| {
        d.enabled && d.upstream_job_id == upstream.job_id && d.downstream_job_id == resolved.job.id
    }) else {
        return refuse(
            "dependency: the trigger's actor is no enabled dependency of this job on the upstream run's job",
        );
    };
    reaction(intent, &dep, &upstream)
}

/// A dependency's intent is exactly that dependency's reaction to that end
/// of the upstream run: its key, no targets or version of its own, no
/// parameters beyond the mapping, an end the dependency reacts to, and in
/// time. So one upstream run starts one run of B, on B's own targets.
pub(super) fn reaction(
    intent: &RunIntent,
    dep: &job_dependency::Model,
    upstream: &run::Model,
) -> Result<(), LineageError> {
    let key = format!("dependency:{}:{}", dep.id, upstream.id);
    if intent.idempotency_key.as_deref() != Some(key.as_str()) {
        return refuse(format!(
            "dependency: the intent's idempotency key must be {key}"
        ));
    }
    if intent.targets.is_some() || intent.job_version.is_some() {
        return refuse(
            "dependency: an intent of a dependency names no targets or job_version of its own",
        );
    }
    if !intent.parameters.is_empty() || intent.sealed_parameters.is_some() {
        return refuse(
            "dependency: an intent of a dependency takes its parameters from the mapping only",
        );
    }
    let status = upstream.status.as_str();
    let failed = matches!(status, "failed" | "timed_out" | "worker_lost");
    let reacts = match dep.on.as_str() {
        "success" => status == "succeeded",
        "failure" => failed,
        _ => failed || matches!(status, "succeeded" | "cancelled"),
    };
    if !reacts {
        return refuse(format!(
            "dependency: it reacts on {}, and the upstream run {} is {status}",
            dep.on, upstream.id
        ));
    }
    if let (Some(within), Some(ended)) = (dep.within_secs, upstream.finished_at) {
        let late = (chrono::Utc::now() - ended.to_utc()).num_seconds();
        if late > within {
            return refuse(format!(
                "dependency: the upstream run ended {late} s ago, beyond its {within} s"
            ));
        }
    }
    Ok(())
}
