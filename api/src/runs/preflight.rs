//! A dry run of admission: everything [`super::admit`] checks before it
//! writes the run — the caller's right to run the job, the job being
//! active, the parameters against the job's typed parameters, the target
//! override, where each shard's steps may run and the scope of every
//! credential the targets use — and nothing written or published.
//!
//! Schedules are checked with it when they are saved, so a schedule whose
//! runs would be refused is refused then, by the same code.

use std::sync::Arc;

use chrono::Utc;
use opsc_proto::job::JobDefinition;
use uuid::Uuid;

use super::admit::{self, Admission, AdmitError};
use super::dispatch;
use crate::core::Core;
use crate::store::job;

/// What [`preflight`] found: the job the admission would run.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The job.
    pub job: job::Model,
    /// The definition of the version it would run.
    pub definition: Arc<JobDefinition>,
}

/// What a dry run of admission resolved and built.
pub(super) struct DryRun {
    /// The job, its version and definition.
    pub resolved: admit::Resolved,
    /// The parameters as the run would have them.
    pub params: admit::Parameters,
    /// The messages it would publish, built (credentials opened and
    /// checked against their scope, host grants decided per shard) and
    /// never sent.
    pub prepared: dispatch::Prepared,
}

/// Admission's checks on `a`, and the messages it would publish.
pub(super) async fn dry_run(core: &Core, a: &Admission) -> Result<DryRun, AdmitError> {
    let resolved = admit::resolve_job(core, a).await?;
    let params = admit::parameters(&resolved.definition, &a.parameters, a.sealed.as_ref())?;
    admit::known_targets(core, a.targets.as_ref()).await?;
    let host = admit::host_author(core, &resolved).await?;
    let now = Utc::now();
    let prepared = dispatch::prepare(
        core,
        dispatch::Order {
            run_id: Uuid::now_v7(),
            host,
            job: &resolved.job,
            version: resolved.version,
            definition: &resolved.definition,
            public: &params.public,
            secret: &params.secret,
            targets: a.targets.as_ref(),
            skip: &std::collections::BTreeSet::new(),
            trigger: &a.trigger,
            intent_id: None,
            accepted_at: now,
            deadline: now,
        },
    )
    .await?;
    Ok(DryRun {
        resolved,
        params,
        prepared,
    })
}

/// Checks `a` as [`admit::admit`] would, and starts nothing.
pub async fn preflight(core: &Core, a: &Admission) -> Result<Checked, AdmitError> {
    let DryRun { resolved, .. } = dry_run(core, a).await?;
    Ok(Checked {
        job: resolved.job,
        definition: resolved.definition,
    })
}
