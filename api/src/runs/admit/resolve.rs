//! What a run is of: the job and the version to run, its parameters
//! checked and split into shown and secret ones, the author whose rights
//! decide host steps, and the targets an override names.

#[allow(
    clippy::wildcard_imports,
    reason = "the admission's own types and imports"
)]
use super::*;

/// A job row and the definition of the version to run.
pub(in crate::runs) struct Resolved {
    pub(in crate::runs) job: job::Model,
    pub(in crate::runs) version: i32,
    pub(in crate::runs) definition: Arc<JobDefinition>,
}

pub(in crate::runs) async fn resolve_job(
    core: &Core,
    a: &Admission,
) -> Result<Resolved, AdmitError> {
    let db = core.db();
    let found = match &a.job {
        JobName::Id(id) | JobName::Both(id, _) => job::Entity::find_by_id(*id).one(db).await?,
        JobName::Name(name) => {
            use sea_orm::{ColumnTrait, QueryFilter};
            job::Entity::find()
                .filter(job::Column::Name.eq(name.as_str()))
                .one(db)
                .await?
        }
    };
    // The hidden job of ad-hoc commands starts runs only as ad-hoc
    // commands: never by a bus intent, a schedule, a dependency or a re-run,
    // which would replay whatever command someone typed.
    let found = found.filter(|j| {
        j.id != crate::runs::adhoc::JOB_ID
            || a.trigger.kind == opsc_proto::commands::TriggerKind::Adhoc
    });
    let j = found.ok_or_else(|| {
        AdmitError::UnknownJob(match &a.job {
            JobName::Id(id) | JobName::Both(id, _) => id.to_string(),
            JobName::Name(n) => format!("named {n:?}"),
        })
    })?;
    if let JobName::Both(_, name) = &a.job
        && *name != j.name
    {
        return Err(AdmitError::invalid(
            "/job_name",
            format!("job {} is named {:?}, not {name:?}", j.id, j.name),
        ));
    }
    if let Some(caller) = &a.caller {
        crate::jobs::access::require(db, caller, &j, Action::Run).await?;
    }
    if !j.active {
        return Err(AdmitError::Inactive);
    }
    let version = match a.version {
        None => j.current_version,
        Some(v) => i32::try_from(v).map_err(|_| AdmitError::UnknownVersion(v))?,
    };
    if let Some(def) = core.definitions.get(j.id, version) {
        return Ok(Resolved {
            job: j,
            version,
            definition: def,
        });
    }
    let row = job_version::Entity::find_by_id((j.id, version))
        .one(db)
        .await?
        .ok_or(AdmitError::UnknownVersion(
            u32::try_from(version).unwrap_or(0),
        ))?;
    let def: JobDefinition = serde_json::from_value(row.definition)
        .map_err(|e| AdmitError::Broken(format!("the stored definition is unreadable: {e}")))?;
    let def = Arc::new(def);
    core.definitions.put(j.id, version, def.clone());
    Ok(Resolved {
        job: j,
        version,
        definition: def,
    })
}

/// The author of a version that reaches into the worker host, looked up
/// at admission: such a version runs only while its author is an active
/// admin (a demoted or disabled author's versions stop running).
pub(in crate::runs) async fn host_author(
    core: &Core,
    r: &Resolved,
) -> Result<Option<dispatch::HostAuthor>, AdmitError> {
    if !r.definition.uses_host() {
        return Ok(None);
    }
    let db = core.db();
    let author = job_version::Entity::find_by_id((r.job.id, r.version))
        .one(db)
        .await?
        .and_then(|v| v.created_by);
    let admin = match author {
        Some(id) => crate::store::user::Entity::find_by_id(id)
            .one(db)
            .await?
            .is_some_and(|u| u.active && u.role == crate::store::user::Role::Admin),
        None => false,
    };
    Ok(Some(dispatch::HostAuthor { id: author, admin }))
}

/// Parameter values split into what may be shown and what is secret.
pub(in crate::runs) struct Parameters {
    pub(in crate::runs) public: BTreeMap<String, Value>,
    pub(in crate::runs) secret: BTreeMap<String, Value>,
}

pub(in crate::runs) fn parameters(
    def: &JobDefinition,
    given: &BTreeMap<String, Value>,
    sealed: Option<&std::collections::BTreeSet<String>>,
) -> Result<Parameters, AdmitError> {
    if let Some(sealed) = sealed
        && let Some(name) = given.keys().find(|name| {
            def.parameters
                .get(*name)
                .is_some_and(|p| p.kind == ParamType::Secret)
                && !sealed.contains(*name)
        })
    {
        return Err(AdmitError::ClearSecret(name.clone()));
    }
    // A sealed value is only ever accepted for a secret parameter: naming
    // a version where it is a plain string would store it in the clear.
    if let Some(sealed) = sealed
        && let Some(name) = sealed.iter().find(|name| {
            def.parameters
                .get(*name)
                .is_none_or(|p| p.kind != ParamType::Secret)
        })
    {
        return Err(AdmitError::invalid(
            &format!("/sealed_parameters/{name}"),
            format!(
                "parameter {name:?} arrived sealed but is not a secret parameter of this version"
            ),
        ));
    }
    let resolved =
        opsc_proto::job_check::check_params(def, given).map_err(|errors| AdmitError::Invalid {
            detail: format!(
                "the parameters do not fit the job: {}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
            errors,
        })?;
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
    Ok(Parameters { public, secret })
}

/// Refuses a target override naming targets or groups that do not exist.
pub(in crate::runs) async fn known_targets(
    core: &Core,
    targets: Option<&TargetSelection>,
) -> Result<(), AdmitError> {
    let Some(sel) = targets else { return Ok(()) };
    let missing = crate::targets::unknown_in(core.db(), sel).await?;
    if missing.is_empty() {
        return Ok(());
    }
    Err(AdmitError::Invalid {
        detail: missing.join("; "),
        errors: missing
            .iter()
            .map(|m| PathError::new("/targets", m.clone()))
            .collect(),
    })
}
