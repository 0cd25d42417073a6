//! Jobs and their immutable versions in PostgreSQL (how the API shows them
//! is in [`super::view`]). Every write of a job row and its version is one
//! transaction, so a refused request leaves nothing behind; each checks the
//! writer's access to the job ([`super::access`]) on the locked row.

use chrono::Utc;
use opsc_proto::job::JobDefinition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use super::JobError;
use super::access::{Action, Actor, require};
use super::host::{Author, permit};
use super::view::{JobView, job_view};
use crate::store::{job, job_grant, job_version};

/// The definition stored in a version row.
pub fn definition_of(v: &job_version::Model) -> Result<JobDefinition, JobError> {
    serde_json::from_value(v.definition.clone())
        .map_err(|e| JobError::Broken(format!("the stored definition is unreadable: {e}")))
}

/// What a write did.
#[derive(Debug)]
pub struct Saved {
    /// The job row after the write.
    pub job: job::Model,
    /// Its current version.
    pub version: job_version::Model,
    /// False when the definition equalled the current one: nothing written.
    pub changed: bool,
}

impl Saved {
    /// The view of the result for `actor`.
    pub async fn view(self, db: &impl ConnectionTrait, actor: &Actor) -> Result<JobView, JobError> {
        job_view(db, actor, self.job, &self.version).await
    }
}

fn taken(name: &str) -> JobError {
    JobError::Taken(name.to_owned())
}

/// Turns a unique violation (a concurrent write took the name) into `Taken`.
fn unique(name: &str) -> impl FnOnce(DbErr) -> JobError + '_ {
    move |e| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => taken(name),
        _ => JobError::Db(e),
    }
}

/// The job with this id.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<job::Model, JobError> {
    job::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(JobError::NotFound("job"))
}

/// The job named `name`, if any.
pub async fn find_by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<job::Model>, JobError> {
    Ok(job::Entity::find()
        .filter(job::Column::Name.eq(name))
        .one(db)
        .await?)
}

/// One version of a job.
pub async fn version(
    db: &impl ConnectionTrait,
    id: Uuid,
    version: i32,
) -> Result<job_version::Model, JobError> {
    job_version::Entity::find_by_id((id, version))
        .one(db)
        .await?
        .ok_or(JobError::NotFound("job version"))
}

/// The job and its current version.
pub async fn current(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<(job::Model, job_version::Model), JobError> {
    let j = find(db, id).await?;
    let v = version(db, id, j.current_version).await?;
    Ok((j, v))
}

fn version_row(id: Uuid, n: i32, def: &JobDefinition, actor: Uuid) -> job_version::ActiveModel {
    job_version::ActiveModel {
        job_id: Set(id),
        version: Set(n),
        definition: Set(json!(def)),
        created_by: Set(Some(actor)),
        created_at: Set(Utc::now().fixed_offset()),
    }
}

/// Creates a job with `def` as version 1, owned by `author`; 409 when the
/// name is taken, 403 when `author` may not store it (see [`super::host`]).
pub async fn create(
    db: &DatabaseConnection,
    def: &JobDefinition,
    author: &Author<'_>,
) -> Result<Saved, JobError> {
    permit(def, author)?;
    let actor = author.actor.id;
    let txn = db.begin().await?;
    if find_by_name(&txn, &def.name).await?.is_some() {
        return Err(taken(&def.name));
    }
    let id = Uuid::now_v7();
    let now = Utc::now().fixed_offset();
    let job = job::ActiveModel {
        id: Set(id),
        name: Set(def.name.clone()),
        description: Set(def.description.clone()),
        active: Set(true),
        current_version: Set(1),
        created_by: Set(Some(actor)),
        owner_id: Set(Some(actor)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await
    .map_err(unique(&def.name))?;
    let version = version_row(id, 1, def, actor).insert(&txn).await?;
    txn.commit().await?;
    Ok(Saved {
        job,
        version,
        changed: true,
    })
}

/// Stores `def` as the next version of job `id` and renames it with the
/// definition. `author` must be allowed to edit the job (403 otherwise,
/// even for an unchanged definition). A definition equal to the current one
/// writes nothing; one `author` may not store is refused (see
/// [`super::host`]).
pub async fn revise(
    db: &DatabaseConnection,
    id: Uuid,
    def: &JobDefinition,
    author: &Author<'_>,
) -> Result<Saved, JobError> {
    let actor = author.actor.id;
    let txn = db.begin().await?;
    // Locks the row so two writers cannot both create version N+1.
    let current = job::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(JobError::NotFound("job"))?;
    require(&txn, &author.actor, &current, Action::Edit).await?;
    let latest = version(&txn, id, current.current_version).await?;
    // An admin saving an unchanged definition that reaches into the worker
    // host adopts it: a new version by them, so it may run (see `host`).
    let adopts = author.admin() && def.uses_host() && latest.created_by != Some(actor);
    if !adopts && definition_of(&latest).is_ok_and(|d| d == *def) {
        txn.rollback().await?;
        return Ok(Saved {
            job: current,
            version: latest,
            changed: false,
        });
    }
    permit(def, author)?;
    if current.name != def.name
        && find_by_name(&txn, &def.name)
            .await?
            .is_some_and(|other| other.id != id)
    {
        return Err(taken(&def.name));
    }
    let next = current.current_version + 1;
    let version = version_row(id, next, def, actor).insert(&txn).await?;
    let mut row: job::ActiveModel = current.into();
    row.name = Set(def.name.clone());
    row.description = Set(def.description.clone());
    row.current_version = Set(next);
    row.updated_at = Set(Utc::now().fixed_offset());
    let job = row.update(&txn).await.map_err(unique(&def.name))?;
    txn.commit().await?;
    Ok(Saved {
        job,
        version,
        changed: true,
    })
}

/// Sets whether the job may run, when `actor` may edit it; the row after
/// the change.
pub async fn set_active(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &Actor,
    active: bool,
) -> Result<job::Model, JobError> {
    let current = find(db, id).await?;
    require(db, actor, &current, Action::Edit).await?;
    let mut row: job::ActiveModel = current.into();
    row.active = Set(active);
    row.updated_at = Set(Utc::now().fixed_offset());
    Ok(row.update(db).await?)
}

/// Deletes the job, its versions and grants, when `actor` may; its runs
/// keep their history.
pub async fn delete(
    db: &DatabaseConnection,
    id: Uuid,
    actor: &Actor,
) -> Result<job::Model, JobError> {
    let txn = db.begin().await?;
    let gone = job::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or(JobError::NotFound("job"))?;
    require(&txn, actor, &gone, Action::Delete).await?;
    job_grant::Entity::delete_many()
        .filter(job_grant::Column::JobId.eq(id))
        .exec(&txn)
        .await?;
    job_version::Entity::delete_many()
        .filter(job_version::Column::JobId.eq(id))
        .exec(&txn)
        .await?;
    job::Entity::delete_by_id(id).exec(&txn).await?;
    txn.commit().await?;
    Ok(gone)
}
