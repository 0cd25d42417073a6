//! A dependent run's parameters taken from its upstream run
//! (`parameters_from`), resolved at admission.
//!
//! Only a dependency links two runs this way: the intent's trigger kind is
//! `dependency`, its actor names a dependency (`job_dependencies`) from
//! the upstream run's job to the intent's job, every mapping entry is one
//! of that dependency's, and `trigger.cause_run_id` is the upstream run.
//! So a producer on the bus cannot read another job's run into a job of
//! its choice: whoever created the dependency was checked then (mapping a
//! secret of A needs the right to edit A).
//!
//! Sources: `params.<name>` (a secret one opened from the upstream run's
//! vault record, and then only into a `secret` parameter: a secret never
//! becomes a visible parameter), `steps.<step>.stdout` (its stored
//! standard output, trimmed, at most [`super::sources::MAX_STDOUT`] bytes),
//! `steps.<step>.exit_code`, and `steps.<step>.json.<path>`: the stored
//! standard output parsed as JSON and walked by the dot-separated path
//! (object keys, or array indexes). A step named must have run exactly
//! once (one target, or none). The values then pass the downstream job's
//! parameter checks like any given value. A value that is absent refuses
//! the intent, naming the mapping entry.

use opsc_proto::commands::{ParametersFrom, RunIntent, TriggerKind};
use opsc_proto::job::ParamType;
use sea_orm::EntityTrait;
use serde_json::Value;
use uuid::Uuid;

use super::sources::Sources;
use super::{LineageError, is_terminal, refuse};
use crate::core::Core;
use crate::runs::admit::{Admission, resolve_job};
use crate::store::{job_dependency, run};

/// Completes `a` with the values `from` maps; see the module docs.
pub(super) async fn admission(
    core: &Core,
    intent: &RunIntent,
    a: &mut Admission,
    from: &ParametersFrom,
) -> Result<(), LineageError> {
    if intent.trigger.kind != TriggerKind::Dependency {
        return refuse("parameters_from needs trigger kind dependency");
    }
    if intent.trigger.cause_run_id != Some(from.run_id) {
        return refuse("parameters_from.run_id must be the trigger's cause_run_id");
    }
    let db = core.db();
    let Some(upstream) = run::Entity::find_by_id(from.run_id).one(db).await? else {
        return refuse(format!("parameters_from: no run {}", from.run_id));
    };
    if !is_terminal(&upstream.status) {
        return refuse(format!(
            "parameters_from: run {} has not ended (it is {})",
            upstream.id, upstream.status
        ));
    }
    let resolved = resolve_job(core, a).await?;
    let dependency = match intent.trigger.actor.parse::<Uuid>() {
        Ok(id) => job_dependency::Entity::find_by_id(id).one(db).await?,
        Err(_) => None,
    };
    let Some(dep) = dependency.filter(|d| {
        d.enabled && d.upstream_job_id == upstream.job_id && d.downstream_job_id == resolved.job.id
    }) else {
        return refuse(
            "parameters_from: the trigger's actor is no enabled dependency of this job on the upstream run's job",
        );
    };
    if let Some((name, source)) = from.map.iter().find(|(name, source)| {
        dep.parameters.get(name.as_str()).and_then(Value::as_str) != Some(source.as_str())
    }) {
        return refuse(format!(
            "parameters_from: {name:?} ← {source:?} is not in the dependency's mapping"
        ));
    }
    let values = Sources::read(core, &upstream, &from.map).await?;
    let def = &resolved.definition;
    let mut sealed = a.sealed.clone().unwrap_or_default();
    for (name, source) in &from.map {
        let (value, secret) = values.value(source).map_err(|why| {
            LineageError::Refused(format!("parameters_from: {name:?} ← {source:?}: {why}"))
        })?;
        let downstream_secret = def
            .parameters
            .get(name)
            .is_some_and(|p| p.kind == ParamType::Secret);
        if secret && !downstream_secret {
            return refuse(format!(
                "parameters_from: {name:?} ← {source:?}: a secret value may only feed a secret parameter"
            ));
        }
        if a.parameters.insert(name.clone(), value).is_some() {
            return refuse(format!(
                "parameter {name:?} is given both in parameters and in parameters_from"
            ));
        }
        if downstream_secret {
            sealed.insert(name.clone());
        }
    }
    a.sealed = Some(sealed);
    // Last, so the refusals above name what is wrong with the mapping.
    super::link::reaction(intent, &dep, &upstream)
}
