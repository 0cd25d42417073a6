//! The checks a dependency passes before it is stored: its own fields, the
//! two jobs (they exist, they differ), the mapping against both jobs'
//! current definitions ([`super::source`]), and a dry run of job B's
//! admission ([`crate::runs::preflight`]) with the caller as the one who
//! runs it — the same code `POST /api/v1/jobs/{id}/run` passes — so a
//! dependency cannot start B where the caller could not start it by hand.
//! Every problem is located (`/upstream_job_id`, `/parameters/<name>` …).
//! Cycles are checked when the row is written ([`super::graph`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::job::{JobDefinition, ParamType, Parameter};
use opsc_proto::job_check::PathError;
use opsc_proto::schedule::DependencyOn;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::Value;
use uuid::Uuid;

use super::source::{self, at};
use super::{DependencyBody, DependencyError};
use crate::core::Core;
use crate::jobs::access::{self, Action, Actor};
use crate::runs::{Admission, AdmitError, JobName};
use crate::store::{job, job_version};

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 4000;

/// Longest `within_secs`: a week.
pub(crate) const MAX_WITHIN_SECS: u64 = 604_800;

/// A dependency that passed every check, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct Valid {
    pub upstream: job::Model,
    pub downstream: job::Model,
    pub on: DependencyOn,
    pub within_secs: Option<u64>,
    pub parameters: BTreeMap<String, String>,
    pub enabled: bool,
    pub description: String,
}

/// One side of the dependency, as the body names it.
struct Side<'a> {
    field: &'static str,
    id: Option<Uuid>,
    name: Option<&'a str>,
}

impl Side<'_> {
    fn upstream(body: &DependencyBody) -> Side<'_> {
        Side {
            field: "upstream_job",
            id: body.upstream_job_id,
            name: body.upstream_job_name.as_deref(),
        }
    }

    fn downstream(body: &DependencyBody) -> Side<'_> {
        Side {
            field: "downstream_job",
            id: body.downstream_job_id,
            name: body.downstream_job_name.as_deref(),
        }
    }

    /// The job it names, or where and why it names none.
    async fn resolve(&self, core: &Core) -> Result<Result<job::Model, PathError>, DependencyError> {
        let (id_at, name_at) = (
            format!("/{}_id", self.field),
            format!("/{}_name", self.field),
        );
        let found = match (self.id, self.name) {
            (Some(id), _) => job::Entity::find_by_id(id).one(core.db()).await?,
            (None, Some(name)) => {
                job::Entity::find()
                    .filter(job::Column::Name.eq(name))
                    .one(core.db())
                    .await?
            }
            (None, None) => {
                return Ok(Err(PathError::new(
                    id_at,
                    format!("one of {0}_id and {0}_name is required", self.field),
                )));
            }
        };
        Ok(match (found, self.id, self.name) {
            (None, Some(id), _) => Err(PathError::new(id_at, format!("no job {id}"))),
            (None, None, name) => Err(PathError::new(
                name_at,
                format!("no job named {:?}", name.unwrap_or_default()),
            )),
            (Some(j), Some(_), Some(name)) if j.name != name => Err(PathError::new(
                name_at,
                format!("job {} is named {:?}, not {name:?}", j.id, j.name),
            )),
            (Some(j), _, _) => Ok(j),
        })
    }
}

/// The problems of the dependency's own fields.
fn own_fields(body: &DependencyBody) -> Vec<PathError> {
    let mut errors = Vec::new();
    if body
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        errors.push(PathError::new(
            "/description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    if body
        .within_secs
        .is_some_and(|s| !(1..=MAX_WITHIN_SECS).contains(&s))
    {
        errors.push(PathError::new(
            "/within_secs",
            format!("must be 1 to {MAX_WITHIN_SECS} seconds (a week)"),
        ));
    }
    errors.extend(source::syntax(&body.parameters));
    errors
}

/// The current definition of `j`.
pub(crate) async fn definition(
    core: &Core,
    j: &job::Model,
) -> Result<Arc<JobDefinition>, DependencyError> {
    if let Some(def) = core.definitions.get(j.id, j.current_version) {
        return Ok(def);
    }
    let row = job_version::Entity::find_by_id((j.id, j.current_version))
        .one(core.db())
        .await?
        .ok_or_else(|| DependencyError::Broken(format!("job {} has no current version", j.id)))?;
    let def: JobDefinition = serde_json::from_value(row.definition).map_err(|e| {
        DependencyError::Broken(format!("the stored definition is unreadable: {e}"))
    })?;
    let def = Arc::new(def);
    core.definitions.put(j.id, j.current_version, def.clone());
    Ok(def)
}

/// A value standing in for a mapped parameter in the dry run: its default,
/// else a value of its type (the real one comes from A's run).
fn stand_in(p: &Parameter) -> Value {
    if let Some(v) = p.default.as_ref().filter(|v| !v.is_null()) {
        return v.clone();
    }
    match p.kind {
        ParamType::Int => Value::from(0),
        ParamType::Bool => Value::Bool(false),
        ParamType::Enum => p
            .choices
            .first()
            .cloned()
            .map_or(Value::Null, Value::String),
        ParamType::MultiSelect => Value::Array(Vec::new()),
        ParamType::String | ParamType::Secret => Value::String("x".to_owned()),
    }
}

/// Dry-runs B's admission as `actor` would start it by hand; problems of
/// mapped parameters are left out (their values come from A's run, and
/// admission checks them then).
async fn may_run(
    core: &Core,
    actor: &Actor,
    down: &job::Model,
    def: &JobDefinition,
    map: &BTreeMap<String, String>,
) -> Result<(), DependencyError> {
    let parameters = map
        .keys()
        .filter_map(|name| {
            def.parameters
                .get(name)
                .map(|p| (name.clone(), stand_in(p)))
        })
        .collect();
    let admission = Admission {
        job: JobName::Id(down.id),
        version: None,
        parameters,
        targets: None,
        trigger: Trigger::new(TriggerKind::Dependency, actor.id.to_string()),
        intent_id: None,
        may_repeat: false,
        public_intent_id: None,
        idempotency_key: None,
        sealed: None,
        created_by: Some(actor.id),
        caller: Some(*actor),
        rerun_of: None,
        retry: None,
    };
    match crate::runs::preflight::preflight(core, &admission).await {
        Ok(_) => Ok(()),
        Err(AdmitError::Invalid { errors, .. }) => {
            let mapped: Vec<String> = map.keys().map(|k| at(k)).collect();
            let left: Vec<PathError> = errors
                .into_iter()
                .filter(|e| !mapped.contains(&e.path))
                .collect();
            if left.is_empty() {
                Ok(())
            } else {
                Err(DependencyError::Invalid(left))
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// Checks `body` for `actor`; see the module docs.
pub(crate) async fn check(
    core: &Core,
    actor: &Actor,
    body: DependencyBody,
) -> Result<Valid, DependencyError> {
    let mut errors = own_fields(&body);
    let up = Side::upstream(&body).resolve(core).await?;
    let down = Side::downstream(&body).resolve(core).await?;
    let (up, down) = match (up, down) {
        (Ok(up), Ok(down)) => (up, down),
        (up, down) => {
            errors.extend(up.err());
            errors.extend(down.err());
            return Err(DependencyError::Invalid(errors));
        }
    };
    if up.id == down.id {
        errors.push(PathError::new(
            "/downstream_job_id",
            format!("job {:?} cannot depend on itself", up.name),
        ));
    }
    if !errors.is_empty() {
        return Err(DependencyError::Invalid(errors));
    }
    let (up_def, down_def) = (definition(core, &up).await?, definition(core, &down).await?);
    let errors = source::against(&body.parameters, &up_def, &down_def);
    if !errors.is_empty() {
        return Err(DependencyError::Invalid(errors));
    }
    may_run(core, actor, &down, &down_def, &body.parameters).await?;
    let secrets = source::secret_sources(&body.parameters, &up_def);
    if let Some(first) = secrets.first() {
        access::require(core.db(), actor, &up, Action::Edit)
            .await
            .map_err(|e| match e {
                access::AccessError::Denied(why) => DependencyError::Forbidden(format!(
                    "parameter {first:?} of job {:?} is secret: mapping it needs the right to \
                     edit that job ({why})",
                    up.name
                )),
                access::AccessError::Db(e) => DependencyError::Db(e),
            })?;
    }
    Ok(Valid {
        upstream: up,
        downstream: down,
        on: body.on.unwrap_or(DependencyOn::Success),
        within_secs: body.within_secs,
        parameters: body.parameters,
        enabled: body.enabled.unwrap_or(true),
        description: body.description.unwrap_or_default(),
    })
}
