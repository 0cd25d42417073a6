//! A dry run for people: what a run of a job would do where — the targets
//! it would address with their pools, the steps on each, and the checks
//! admission makes (the right to run the job, the job being active, the
//! parameters, the target override, host-step authorship and credential
//! scopes) — with no run written and nothing published. It shares
//! [`super::preflight`]'s path through admission and keeps the messages
//! it builds to describe them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::admit::{Admission, AdmitError};
use crate::core::Core;

/// One step as it would run on a target.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewStep {
    /// The step's id.
    pub id: String,
    /// Its type (`ssh.exec` …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Its condition, when it has one (decided when the run gets there).
    pub when: Option<String>,
    /// Its settings as stored: templates are rendered on the worker, with
    /// the run's parameters; secret parameters never appear here.
    pub with: BTreeMap<String, Value>,
}

/// A target the run would address.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PreviewTarget {
    /// The target's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Its host name or address.
    pub address: String,
    /// The pool whose workers would run its steps.
    pub pool: String,
    /// The steps on it, in job order.
    pub steps: Vec<PreviewStep>,
}

/// What a run would do; nothing was started.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Preview {
    /// The job.
    pub job_id: Uuid,
    /// Its name.
    pub job_name: String,
    /// The version that would run.
    pub version: i32,
    /// The parameters as the run would record them (defaults applied,
    /// secret ones as `••••`).
    pub parameters: BTreeMap<String, Value>,
    /// The targets, by name; empty when the steps run once on a worker.
    pub targets: Vec<PreviewTarget>,
    /// The steps when the job addresses no target (they run on a worker of
    /// the job's pool).
    pub worker_steps: Vec<PreviewStep>,
    /// The checks admission made and passed.
    pub checks: Vec<String>,
}

/// The mask of a secret value.
pub const MASK: &str = "••••";

/// What `a` would run, checked as [`admit::admit`] checks it.
pub async fn preview(core: &Core, a: &Admission) -> Result<Preview, AdmitError> {
    let super::preflight::DryRun {
        resolved,
        params,
        prepared,
    } = super::preflight::dry_run(core, a).await?;
    let def = &resolved.definition;
    let step = |id: &str| {
        def.steps.iter().find(|s| s.id == id).map(|s| PreviewStep {
            id: s.id.clone(),
            kind: s.kind.clone(),
            when: s.when.clone(),
            with: s.with.clone(),
        })
    };
    let mut targets = Vec::new();
    for d in &prepared.dispatches {
        for t in &d.data.targets {
            targets.push(PreviewTarget {
                id: t.id,
                name: t.name.clone(),
                address: t.hostname.clone(),
                pool: d.data.pool.clone(),
                steps: t.steps.iter().filter_map(|s| step(s)).collect(),
            });
        }
    }
    targets.sort_by(|a, b| a.name.cmp(&b.name));
    let worker_steps = if targets.is_empty() {
        def.steps.iter().filter_map(|s| step(&s.id)).collect()
    } else {
        Vec::new()
    };
    let parameters = params
        .public
        .into_iter()
        .map(|(k, v)| {
            if params.secret.contains_key(&k) {
                (k, Value::String(MASK.to_owned()))
            } else {
                (k, v)
            }
        })
        .collect();
    let mut checks = vec![
        "the caller may run the job".to_owned(),
        "the job is active".to_owned(),
        "the parameters fit the job's typed parameters".to_owned(),
    ];
    if a.targets.is_some() {
        checks.push("the target override names existing targets and groups".to_owned());
    }
    if !targets.is_empty() {
        checks
            .push("every target's credentials exist and their scope allows the target".to_owned());
    }
    if def.uses_host() {
        checks.push("the version reaching into the worker host was saved by an active admin, and its pool allows it".to_owned());
    }
    Ok(Preview {
        job_id: resolved.job.id,
        job_name: resolved.job.name,
        version: resolved.version,
        parameters,
        targets,
        worker_steps,
        checks,
    })
}
