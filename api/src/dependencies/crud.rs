//! Stored dependencies: listing and reading them, and every write —
//! create, replace, merge, delete — each checked ([`super::validate`])
//! and then written in one transaction that locks the table, refuses a
//! cycle ([`super::graph`]) and a pair of jobs that has a dependency, and
//! bumps the revision; mirrored into the KV bucket after the commit
//! ([`super::mirror`]). A refused request changes nothing.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, SqlErr, TransactionTrait,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::validate::{self, Valid};
use super::view::{body_of, views};
use super::{
    DependencyBody, DependencyError, DependencyQuery, DependencyView, JobDependenciesView, graph,
    mirror,
};
use crate::core::Core;
use crate::jobs::access::{self, Action, Actor};
use crate::store::paging::{MAX_LIMIT, Page, Paging, paged};
use crate::store::user::Role;
use crate::store::{job, job_dependency};

pub use super::view::summary;

/// The dependency with this id.
pub async fn find(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<job_dependency::Model, DependencyError> {
    job_dependency::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DependencyError::NotFound("dependency"))
}

/// A page of dependencies, oldest first.
pub async fn list(
    core: &Core,
    q: &DependencyQuery,
) -> Result<Page<DependencyView>, DependencyError> {
    let mut query = job_dependency::Entity::find()
        .order_by_asc(job_dependency::Column::CreatedAt)
        .order_by_asc(job_dependency::Column::Id);
    if let Some(up) = q.upstream_job_id {
        query = query.filter(job_dependency::Column::UpstreamJobId.eq(up));
    }
    if let Some(down) = q.downstream_job_id {
        query = query.filter(job_dependency::Column::DownstreamJobId.eq(down));
    }
    let page: Page<job_dependency::Model> =
        paged(core.db(), query, Paging::of(q.limit, q.offset)).await?;
    Ok(Page {
        items: views(core.db(), page.items).await?,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
}

/// One dependency.
pub async fn get(core: &Core, id: Uuid) -> Result<DependencyView, DependencyError> {
    one_view(core, find(core.db(), id).await?).await
}

async fn one_view(
    core: &Core,
    row: job_dependency::Model,
) -> Result<DependencyView, DependencyError> {
    views(core.db(), vec![row])
        .await?
        .pop()
        .ok_or(DependencyError::NotFound("dependency"))
}

/// Both sides of one job (at most 500 each).
pub async fn of_job(core: &Core, job_id: Uuid) -> Result<JobDependenciesView, DependencyError> {
    job::Entity::find_by_id(job_id)
        .one(core.db())
        .await?
        .ok_or(DependencyError::NotFound("job"))?;
    let side = |column: job_dependency::Column| {
        job_dependency::Entity::find()
            .filter(column.eq(job_id))
            .order_by_asc(job_dependency::Column::CreatedAt)
            .limit(MAX_LIMIT)
            .all(core.db())
    };
    let upstream = side(job_dependency::Column::DownstreamJobId).await?;
    let downstream = side(job_dependency::Column::UpstreamJobId).await?;
    Ok(JobDependenciesView {
        upstream: views(core.db(), upstream).await?,
        downstream: views(core.db(), downstream).await?,
    })
}

/// Refuses a change of `row` unless `actor` owns it or is an admin, and
/// may run its job B.
async fn require_change(
    core: &Core,
    actor: &Actor,
    row: &job_dependency::Model,
) -> Result<(), DependencyError> {
    if actor.role != Role::Admin && row.owner_id != Some(actor.id) {
        return Err(DependencyError::Forbidden(
            "you may not change this dependency: only its owner and admins may".to_owned(),
        ));
    }
    let down = job::Entity::find_by_id(row.downstream_job_id)
        .one(core.db())
        .await?
        .ok_or(DependencyError::NotFound("dependency"))?;
    access::require(core.db(), actor, &down, Action::Run)
        .await
        .map_err(|e| match e {
            access::AccessError::Denied(why) => DependencyError::Forbidden(why),
            access::AccessError::Db(e) => DependencyError::Db(e),
        })
}

/// The row's columns for a valid dependency.
fn columns(v: &Valid) -> job_dependency::ActiveModel {
    job_dependency::ActiveModel {
        upstream_job_id: Set(v.upstream.id),
        downstream_job_id: Set(v.downstream.id),
        on: Set(crate::runs::wire_name(v.on)),
        within_secs: Set(v.within_secs.and_then(|s| i64::try_from(s).ok())),
        parameters: Set(json!(v.parameters)),
        enabled: Set(v.enabled),
        description: Set(v.description.clone()),
        updated_at: Set(Utc::now().fixed_offset()),
        ..Default::default()
    }
}

/// Writes `row` — a new one (`current` = `None`) or over `current` unless
/// it changed meanwhile — in one transaction under the table's lock,
/// refusing a cycle and a pair of jobs that has a dependency.
async fn write(
    core: &Core,
    v: &Valid,
    current: Option<&job_dependency::Model>,
    row: job_dependency::ActiveModel,
) -> Result<job_dependency::Model, DependencyError> {
    let except = current.map(|c| c.id);
    let tx = core.db().begin().await?;
    graph::lock(&tx).await?;
    let taken = || DependencyError::Taken {
        upstream: v.upstream.name.clone(),
        downstream: v.downstream.name.clone(),
    };
    let mut pair = job_dependency::Entity::find()
        .filter(job_dependency::Column::UpstreamJobId.eq(v.upstream.id))
        .filter(job_dependency::Column::DownstreamJobId.eq(v.downstream.id));
    if let Some(id) = except {
        pair = pair.filter(job_dependency::Column::Id.ne(id));
    }
    if pair.one(&tx).await?.is_some() {
        return Err(taken());
    }
    graph::refuse_cycle(&tx, v.upstream.id, v.downstream.id, except).await?;
    let saved = match current {
        None => row.insert(&tx).await,
        Some(c) => {
            job_dependency::Entity::update(row)
                .filter(job_dependency::Column::Revision.eq(c.revision))
                .exec(&tx)
                .await
        }
    }
    .map_err(|e| match e {
        DbErr::RecordNotUpdated => DependencyError::Changed,
        e => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => taken(),
            _ => DependencyError::Db(e),
        },
    })?;
    tx.commit().await?;
    Ok(saved)
}

/// Creates a dependency owned by `actor`.
pub async fn create(
    core: &Core,
    actor: &Actor,
    body: DependencyBody,
) -> Result<DependencyView, DependencyError> {
    let valid = validate::check(core, actor, body).await?;
    let id = Uuid::now_v7();
    let mut row = columns(&valid);
    row.id = Set(id);
    row.owner_id = Set(Some(actor.id));
    row.revision = Set(1);
    row.created_at = Set(Utc::now().fixed_offset());
    let saved = write(core, &valid, None, row).await?;
    mirror::after_write(core, id).await;
    one_view(core, saved).await
}

/// Writes a valid `v` over `current`, one revision up.
async fn update(
    core: &Core,
    current: &job_dependency::Model,
    v: &Valid,
) -> Result<DependencyView, DependencyError> {
    let mut row = columns(v);
    row.id = Set(current.id);
    row.revision = Set(current.revision + 1);
    let saved = write(core, v, Some(current), row).await?;
    mirror::after_write(core, current.id).await;
    one_view(core, saved).await
}

/// Replaces a dependency with `body` (`PUT`): what it omits is reset. The
/// owner stays.
pub async fn replace(
    core: &Core,
    actor: &Actor,
    id: Uuid,
    body: DependencyBody,
) -> Result<DependencyView, DependencyError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    let valid = validate::check(core, actor, body).await?;
    update(core, &current, &valid).await
}

/// Merges the given top-level `fields` into a dependency (`PATCH`): each
/// replaces the stored one (`null` resets it); `parameters`, when given,
/// replaces the whole mapping.
pub async fn patch(
    core: &Core,
    actor: &Actor,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<DependencyView, DependencyError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    let base = serde_json::to_value(body_of(&current))
        .map_err(|e| DependencyError::Broken(e.to_string()))?;
    let Value::Object(mut merged) = base else {
        return Err(DependencyError::Broken(
            "a dependency is an object".to_owned(),
        ));
    };
    // A job named by name only replaces the job, not just its name.
    for side in ["upstream_job", "downstream_job"] {
        if fields.contains_key(&format!("{side}_name"))
            && !fields.contains_key(&format!("{side}_id"))
        {
            merged.remove(&format!("{side}_id"));
        }
    }
    for (k, v) in fields {
        let v = if k == "parameters" && v.is_null() {
            json!({})
        } else {
            v
        };
        merged.insert(k, v);
    }
    let bytes = serde_json::to_vec(&merged).map_err(|e| DependencyError::Broken(e.to_string()))?;
    let body: DependencyBody = crate::strict::json(&bytes).map_err(|e| match e {
        crate::strict::BodyError::Shape(at) => DependencyError::Invalid(vec![at]),
        crate::strict::BodyError::Syntax(why) => DependencyError::invalid("", why),
    })?;
    let valid = validate::check(core, actor, body).await?;
    update(core, &current, &valid).await
}

/// Deletes a dependency; the row as it was.
pub async fn delete(
    core: &Core,
    actor: &Actor,
    id: Uuid,
) -> Result<job_dependency::Model, DependencyError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    let done = job_dependency::Entity::delete_many()
        .filter(job_dependency::Column::Id.eq(id))
        .filter(job_dependency::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await?;
    if done.rows_affected == 0 {
        return Err(DependencyError::Changed);
    }
    mirror::after_write(core, id).await;
    Ok(current)
}
