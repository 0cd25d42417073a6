//! Ad-hoc commands: one command on targets (or on the worker host) without
//! saving a job first, like `ansible -m command`. The command becomes a
//! one-step definition ([`definition`]) checked by the rules of saved jobs,
//! stored as a version of the hidden `ad-hoc` job by who runs it ([`job`]),
//! and admitted like every run ([`crate::runs::admit`]) with the trigger
//! `adhoc`: it is a run like any other (runs list, live output, exit code,
//! notices), its targets are checked the same way (they must exist, their
//! credentials' scopes must cover them), and it reaches into the worker
//! host only as a job version may (an active admin ran it, in a pool that
//! allows `local_exec`).
//!
//! Who may: whoever may save and run a job with that step type. Operators
//! and admins run commands on targets; only admins run them on the worker
//! host. Viewers are refused by the route.

pub mod definition;
pub mod job;

use std::collections::BTreeSet;

use opsc_proto::commands::{TargetSelection, Trigger, TriggerKind};
use opsc_proto::job::JobDefinition;
use opsc_proto::job_check::PathError;
use opsc_runtime::config::PoolsConfig;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::json;
use uuid::Uuid;

pub use definition::Executor;
pub use job::{JOB_ID, JOB_NAME};

use crate::core::Core;
use crate::jobs::access::Actor;
use crate::jobs::host::{Author, permit};
use crate::runs::{Admission, AdmitError, Admitted, JobName};
use crate::store::user::Role;
use crate::store::{run, target, target_group};

/// Names, groups and tags one request may give, each.
pub const MAX_NAMES: usize = 1000;

/// One ad-hoc command to run.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The command line.
    pub command: String,
    /// Where it runs.
    pub executor: Executor,
    /// Targets by name or id.
    pub targets: Vec<String>,
    /// Target groups by name or id.
    pub groups: Vec<String>,
    /// Targets carrying every one of these tags.
    pub tags: Vec<String>,
    /// Targets at once at most.
    pub parallelism: Option<u32>,
    /// Seconds it may take.
    pub timeout_secs: Option<u64>,
    /// The pool of a local command.
    pub pool: Option<String>,
    /// Start it inside an open maintenance window.
    pub override_window: bool,
}

/// Who runs it.
#[derive(Debug, Clone, Copy)]
pub struct Caller<'a> {
    /// The user and effective role.
    pub actor: Actor,
    /// The pool capabilities in force.
    pub pools: &'a PoolsConfig,
}

/// What [`start`] did.
#[derive(Debug, Clone)]
pub struct Started {
    /// The run.
    pub admitted: Admitted,
    /// The version of the ad-hoc job it runs.
    pub version: i32,
    /// The targets it addresses (ids), `None` on the worker host.
    pub selection: Option<TargetSelection>,
}

fn invalid(errors: Vec<PathError>) -> AdmitError {
    AdmitError::Invalid {
        detail: errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; "),
        errors,
    }
}

/// Names as ids, in order and without repeats; each unknown name is one
/// problem at `/<field>/<index>`.
async fn ids_of<E>(
    core: &Core,
    field: &str,
    what: &str,
    given: &[String],
    name_column: E::Column,
    id_column: E::Column,
    errors: &mut Vec<PathError>,
) -> Result<Vec<Uuid>, AdmitError>
where
    E: EntityTrait,
{
    let names: Vec<&str> = given
        .iter()
        .map(|g| g.trim())
        .filter(|g| Uuid::parse_str(g).is_err())
        .collect();
    let found: Vec<(String, Uuid)> = if names.is_empty() {
        Vec::new()
    } else {
        E::find()
            .select_only()
            .column(name_column)
            .column(id_column)
            .filter(name_column.is_in(names))
            .into_tuple()
            .all(core.db())
            .await?
    };
    let mut out: Vec<Uuid> = Vec::new();
    for (i, g) in given.iter().enumerate() {
        let g = g.trim();
        let id = Uuid::parse_str(g)
            .ok()
            .or_else(|| found.iter().find(|(n, _)| n == g).map(|(_, id)| *id));
        match id {
            Some(id) if !out.contains(&id) => out.push(id),
            Some(_) => {}
            None => errors.push(PathError::new(
                format!("/{field}/{i}"),
                format!("no {what} is named {g:?}"),
            )),
        }
    }
    Ok(out)
}

/// The targets of `req` as ids, or why they cannot be.
async fn selection(core: &Core, req: &Request) -> Result<Option<TargetSelection>, AdmitError> {
    let mut errors = Vec::new();
    for (field, list) in [
        ("targets", &req.targets),
        ("groups", &req.groups),
        ("tags", &req.tags),
    ] {
        if list.len() > MAX_NAMES {
            errors.push(PathError::new(
                format!("/{field}"),
                format!("at most {MAX_NAMES} entries, not {}", list.len()),
            ));
        }
    }
    let none = req.targets.is_empty() && req.groups.is_empty() && req.tags.is_empty();
    if req.executor.on_targets() {
        if none {
            errors.push(PathError::new(
                "/targets",
                "name the targets to run on: targets, groups or tags",
            ));
        }
        if req.pool.is_some() {
            errors.push(PathError::new(
                "/pool",
                "only a local command takes a pool: each target's own pool runs its command",
            ));
        }
    } else if !none {
        errors.push(PathError::new(
            "/targets",
            "a local command runs on the worker host and takes no targets, groups or tags (give a pool)",
        ));
    }
    if let Some(i) = req.tags.iter().position(|t| t.trim().is_empty()) {
        errors.push(PathError::new(format!("/tags/{i}"), "must not be empty"));
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if !req.executor.on_targets() {
        return Ok(None);
    }
    let targets = ids_of::<target::Entity>(
        core,
        "targets",
        "target",
        &req.targets,
        target::Column::Name,
        target::Column::Id,
        &mut errors,
    )
    .await?;
    let groups = ids_of::<target_group::Entity>(
        core,
        "groups",
        "target group",
        &req.groups,
        target_group::Column::Name,
        target_group::Column::Id,
        &mut errors,
    )
    .await?;
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let tags: BTreeSet<String> = req.tags.iter().map(|t| t.trim().to_owned()).collect();
    Ok(Some(TargetSelection {
        targets,
        groups,
        tags: tags.into_iter().collect(),
    }))
}

/// Refuses what the caller may not run: on the worker host only admins,
/// in a pool that allows it (the rules of saving such a job version).
fn may_run(caller: &Caller<'_>, def: &JobDefinition) -> Result<(), AdmitError> {
    if caller.actor.role == Role::Viewer {
        return Err(AdmitError::Forbidden(
            "viewers may not run commands".to_owned(),
        ));
    }
    if def.uses_host() && caller.actor.role != Role::Admin {
        return Err(AdmitError::Forbidden(
            "only admins may run a command on the worker host (local); operators run commands on targets"
                .to_owned(),
        ));
    }
    permit(
        def,
        &Author {
            actor: caller.actor,
            pools: caller.pools,
        },
    )
    .map_err(|e| AdmitError::Forbidden(e.to_string()))
}

/// The intent key of a request with `Idempotency-Key` `key` (the same
/// space as job runs: one key is one run, whichever route made it).
fn intent_of(user: Uuid, key: &str) -> String {
    format!("http:{user}:{key}")
}

/// For a repeated key: the version its run ran, when it was this same
/// command; a key used for anything else is refused.
async fn earlier(
    core: &Core,
    intent: &str,
    def: &JobDefinition,
) -> Result<Option<i32>, AdmitError> {
    let Some(r) = run::Entity::find()
        .filter(run::Column::IntentId.eq(intent))
        .one(core.db())
        .await?
    else {
        return Ok(None);
    };
    if r.job_id != JOB_ID {
        return Err(AdmitError::KeyReused);
    }
    match job::definition(core.db(), r.job_version).await? {
        Some(d) if d == *def => Ok(Some(r.job_version)),
        _ => Err(AdmitError::KeyReused),
    }
}

/// Everything admission checks that could refuse the command (targets,
/// maintenance windows, credential scopes, where host steps may run),
/// before its version is stored, so a refused command stores nothing.
async fn precheck(
    core: &Core,
    caller: &Caller<'_>,
    def: &JobDefinition,
    a: &Admission,
    override_window: bool,
) -> Result<(), AdmitError> {
    use super::admit::Resolved;
    crate::runs::admit::known_targets(core, a.targets.as_ref()).await?;
    let now = chrono::Utc::now();
    let job = crate::store::job::Model {
        id: JOB_ID,
        name: JOB_NAME.to_owned(),
        description: String::new(),
        active: true,
        current_version: 0,
        created_by: None,
        owner_id: None,
        created_at: now.fixed_offset(),
        updated_at: now.fixed_offset(),
    };
    let resolved = Resolved {
        job,
        version: 0,
        definition: std::sync::Arc::new(def.clone()),
    };
    let verdict = super::windows::apply(core, a, &resolved, override_window).await?;
    let host = def.uses_host().then_some(super::dispatch::HostAuthor {
        id: Some(caller.actor.id),
        admin: caller.actor.role == Role::Admin,
    });
    super::dispatch::prepare(
        core,
        super::dispatch::Order {
            run_id: Uuid::now_v7(),
            host,
            job: &resolved.job,
            version: 0,
            definition: def,
            public: &Default::default(),
            secret: &Default::default(),
            targets: a.targets.as_ref(),
            skip: &verdict.skip(),
            trigger: &a.trigger,
            intent_id: None,
            accepted_at: now,
            deadline: now,
        },
    )
    .await?;
    if !core.bus.is_connected() {
        return Err(AdmitError::Unavailable(
            "not connected to NATS now; nothing was started, retry".to_owned(),
        ));
    }
    Ok(())
}

/// Checks, stores and admits one ad-hoc command; see the module docs.
pub async fn start(
    core: &Core,
    caller: &Caller<'_>,
    req: Request,
    key: Option<String>,
) -> Result<Started, AdmitError> {
    let def = definition::build(&definition::Spec {
        command: &req.command,
        executor: req.executor,
        parallelism: req.parallelism,
        timeout_secs: req.timeout_secs,
        pool: req.pool.as_deref(),
    })
    .map_err(invalid)?;
    may_run(caller, &def)?;
    let selection = selection(core, &req).await?;
    let user = caller.actor.id;
    let intent = key.as_deref().map(|k| intent_of(user, k));
    let replayed = match &intent {
        Some(i) => earlier(core, i, &def).await?,
        None => None,
    };
    let mut admission = Admission {
        job: JobName::Id(JOB_ID),
        version: None,
        parameters: Default::default(),
        targets: selection.clone(),
        trigger: Trigger::new(TriggerKind::Adhoc, user.to_string()),
        intent_id: intent,
        may_repeat: key.is_some(),
        public_intent_id: None,
        idempotency_key: key,
        sealed: None,
        created_by: Some(user),
        // Who may run ad hoc is decided above, not by the job's owner.
        caller: None,
        rerun_of: None,
        retry: None,
    };
    let version = match replayed {
        Some(v) => v,
        None => {
            precheck(core, caller, &def, &admission, req.override_window).await?;
            job::version_for(core.db(), &def, user).await?
        }
    };
    admission.version = u32::try_from(version).ok();
    let admitted = crate::runs::admit_with(core, admission, req.override_window).await?;
    Ok(Started {
        admitted,
        version,
        selection,
    })
}

/// What the audit entry of a started command says.
pub fn summary(req_command: &str, executor: Executor, started: &Started) -> serde_json::Value {
    json!({
        "executor": executor,
        "command": req_command,
        "job_id": JOB_ID,
        "job_version": started.version,
        "targets": started.selection,
    })
}
