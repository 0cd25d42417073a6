//! How the API shows jobs: a summary in lists, one job with its current
//! definition and grants, its versions; each with its owner and what the
//! caller may do with it ([`Allowed`]). Secret defaults are never shown.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use opsc_proto::job::JobDefinition;
use schemars::JsonSchema;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use serde::Serialize;
use uuid::Uuid;

use super::access::{Actor, Allowed, Grant, Grantee, Permission, allowed, grant_rows};
use super::store::definition_of;
use super::{JobError, redact};
use crate::store::user::{self, Role};
use crate::store::{job, job_grant, job_version};

/// A user as a job names them.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct UserRef {
    /// The user's id.
    pub id: Uuid,
    /// Their login name (absent if the user is gone).
    pub username: Option<String>,
}

/// A job in a list (without its definition).
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobSummary {
    /// The job's id.
    pub id: Uuid,
    /// Unique name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Inactive jobs cannot be run.
    pub active: bool,
    /// The latest version.
    pub current_version: i32,
    /// Who owns it: they run and edit it, change its grants and delete it.
    /// `null`: no owner, only admins may run or edit it.
    pub owner: Option<UserRef>,
    /// What the caller may do with it.
    pub allowed: Allowed,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// One grant as shown: a user's or a role's.
#[derive(Debug, Clone, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GrantView {
    /// A grant to one user.
    User {
        /// The user.
        user_id: Uuid,
        /// Their login name (absent if the user is gone).
        username: Option<String>,
        /// `run`, or `edit` (which includes run).
        access: Permission,
        /// Who made the grant.
        granted_by: Option<Uuid>,
        /// When.
        granted_at: DateTime<Utc>,
    },
    /// A grant to every holder of a role (`operator`).
    Role {
        /// The role.
        role: Role,
        /// `run`, or `edit` (which includes run).
        access: Permission,
        /// Who made the grant.
        granted_by: Option<Uuid>,
        /// When.
        granted_at: DateTime<Utc>,
    },
}

/// A job with its current definition and grants.
#[derive(Debug, Serialize, JsonSchema)]
pub struct JobView {
    /// The job.
    #[serde(flatten)]
    pub job: JobSummary,
    /// Who else may run or edit it.
    pub grants: Vec<GrantView>,
    /// The current version's definition.
    pub definition: JobDefinition,
    /// Its concurrency limit and how full it is, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<ConcurrencyView>,
}

/// A job's concurrency limit and its runs now.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ConcurrencyView {
    /// Runs queued or running at once at most.
    pub max: u32,
    /// What a run beyond that does: `skip`, `queue` or `cancel_previous`.
    pub policy: opsc_proto::run_policy::ConcurrencyPolicy,
    /// Runs holding a slot now (queued or running).
    pub running: u64,
    /// Runs waiting for a slot (policy `queue` or `cancel_previous`).
    pub waiting: u64,
}

/// One stored version of a job.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionSummary {
    /// Version number from 1.
    pub version: i32,
    /// The user who saved it.
    pub created_by: Option<Uuid>,
    /// When it was saved.
    pub created_at: DateTime<Utc>,
}

impl From<job_version::Model> for VersionSummary {
    fn from(v: job_version::Model) -> Self {
        Self {
            version: v.version,
            created_by: v.created_by,
            created_at: v.created_at.to_utc(),
        }
    }
}

/// One stored version with its definition.
#[derive(Debug, Serialize, JsonSchema)]
pub struct VersionView {
    /// The job.
    pub job_id: Uuid,
    /// The version.
    #[serde(flatten)]
    pub version: VersionSummary,
    /// Its definition.
    pub definition: JobDefinition,
}

impl VersionView {
    /// The view of one version.
    pub fn of(v: job_version::Model) -> Result<Self, JobError> {
        let definition = redact(definition_of(&v)?);
        Ok(Self {
            job_id: v.job_id,
            version: v.into(),
            definition,
        })
    }
}

/// The login names of `ids`.
async fn names(
    db: &impl ConnectionTrait,
    ids: BTreeSet<Uuid>,
) -> Result<HashMap<Uuid, String>, DbErr> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.username))
        .collect())
}

fn summary(j: job::Model, names: &HashMap<Uuid, String>, allowed: Allowed) -> JobSummary {
    JobSummary {
        owner: j.owner_id.map(|id| UserRef {
            id,
            username: names.get(&id).cloned(),
        }),
        allowed,
        id: j.id,
        name: j.name,
        description: j.description,
        active: j.active,
        current_version: j.current_version,
        created_at: j.created_at.to_utc(),
        updated_at: j.updated_at.to_utc(),
    }
}

/// The summaries of `jobs` for `actor`: three queries for the whole page
/// (the jobs, their grants, their owners' names).
pub async fn summaries(
    db: &impl ConnectionTrait,
    actor: &Actor,
    jobs: Vec<job::Model>,
) -> Result<Vec<JobSummary>, DbErr> {
    let ids: Vec<Uuid> = jobs.iter().map(|j| j.id).collect();
    let mut grants: HashMap<Uuid, Vec<Grant>> = HashMap::new();
    if actor.role == Role::Operator && !ids.is_empty() {
        for row in job_grant::Entity::find()
            .filter(job_grant::Column::JobId.is_in(ids))
            .all(db)
            .await?
        {
            if let Some(g) = Grant::of(&row) {
                grants.entry(row.job_id).or_default().push(g);
            }
        }
    }
    let names = names(db, jobs.iter().filter_map(|j| j.owner_id).collect()).await?;
    Ok(jobs
        .into_iter()
        .map(|j| {
            let of = grants.get(&j.id).map_or(&[][..], Vec::as_slice);
            let may = allowed(actor, j.owner_id, of);
            summary(j, &names, may)
        })
        .collect())
}

/// `rows` as shown, named from `names`.
fn views_of(mut rows: Vec<job_grant::Model>, names: &HashMap<Uuid, String>) -> Vec<GrantView> {
    rows.sort_by_key(|r| (r.role.is_none(), r.granted_at, r.id));
    rows.into_iter()
        .filter_map(|r| {
            let grant = Grant::of(&r)?;
            let granted_at = r.granted_at.to_utc();
            Some(match grant.grantee {
                Grantee::User(user_id) => GrantView::User {
                    user_id,
                    username: names.get(&user_id).cloned(),
                    access: grant.permission,
                    granted_by: r.granted_by,
                    granted_at,
                },
                Grantee::Role(role) => GrantView::Role {
                    role,
                    access: grant.permission,
                    granted_by: r.granted_by,
                    granted_at,
                },
            })
        })
        .collect()
}

/// The view of a job and its current version for `actor`.
pub async fn job_view(
    db: &impl ConnectionTrait,
    actor: &Actor,
    j: job::Model,
    v: &job_version::Model,
) -> Result<JobView, JobError> {
    let definition = redact(definition_of(v)?);
    let concurrency = match definition.concurrency {
        Some(limit) if v.version == j.current_version => {
            let (running, waiting) = crate::runs::concurrency::occupancy(db, j.id).await?;
            Some(ConcurrencyView {
                max: limit.max,
                policy: limit.policy,
                running,
                waiting,
            })
        }
        _ => None,
    };
    let rows = grant_rows(db, j.id).await?;
    let rules: Vec<Grant> = rows.iter().filter_map(Grant::of).collect();
    let may = allowed(actor, j.owner_id, &rules);
    let people = rows.iter().filter_map(|r| r.user_id).chain(j.owner_id);
    let names = names(db, people.collect()).await?;
    Ok(JobView {
        grants: views_of(rows, &names),
        job: summary(j, &names, may),
        definition,
        concurrency,
    })
}
