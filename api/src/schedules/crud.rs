//! Stored schedules: listing and reading them, and every write — create,
//! replace, merge, pause, resume, delete — each checked ([`super::validate`])
//! before one statement changes the row, bumping its revision, and
//! mirrored into the KV bucket after the commit ([`super::mirror`]). A
//! refused request changes nothing.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::validate::{self, Valid};
use super::view::{body_of, policies, views};
use super::{ScheduleBody, ScheduleError, ScheduleQuery, ScheduleView, mirror, secrets};
use crate::core::Core;
use crate::jobs::access::{self, Action, Actor};
use crate::store::paging::{Page, Paging, paged};
use crate::store::user::Role;
use crate::store::{job, schedule};

pub use super::view::summary;

/// The schedule with this id.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<schedule::Model, ScheduleError> {
    schedule::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ScheduleError::NotFound)
}

/// A page of schedules, by name.
pub async fn list(core: &Core, q: &ScheduleQuery) -> Result<Page<ScheduleView>, ScheduleError> {
    let mut query = schedule::Entity::find().order_by_asc(schedule::Column::Name);
    if let Some(job) = q.job_id {
        query = query.filter(schedule::Column::JobId.eq(job));
    }
    if let Some(enabled) = q.enabled {
        query = query.filter(schedule::Column::Enabled.eq(enabled));
    }
    let page: Page<schedule::Model> =
        paged(core.db(), query, Paging::of(q.limit, q.offset)).await?;
    Ok(Page {
        items: views(core.db(), page.items).await?,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
}

/// One schedule.
pub async fn get(core: &Core, id: Uuid) -> Result<ScheduleView, ScheduleError> {
    let row = find(core.db(), id).await?;
    one_view(core, row).await
}

async fn one_view(core: &Core, row: schedule::Model) -> Result<ScheduleView, ScheduleError> {
    views(core.db(), vec![row])
        .await?
        .pop()
        .ok_or(ScheduleError::NotFound)
}

/// Refuses a change of `row` unless `actor` owns it or is an admin, and
/// may run its job.
async fn require_change(
    core: &Core,
    actor: &Actor,
    row: &schedule::Model,
) -> Result<(), ScheduleError> {
    if actor.role != Role::Admin && row.owner_id != Some(actor.id) {
        return Err(ScheduleError::Forbidden(format!(
            "you may not change schedule {:?}: only its owner and admins may",
            row.name
        )));
    }
    let job = job::Entity::find_by_id(row.job_id)
        .one(core.db())
        .await?
        .ok_or(ScheduleError::NotFound)?;
    access::require(core.db(), actor, &job, Action::Run)
        .await
        .map_err(|e| match e {
            access::AccessError::Denied(why) => ScheduleError::Forbidden(why),
            access::AccessError::Db(e) => ScheduleError::Db(e),
        })
}

/// Refuses a name another schedule has.
async fn name_free(core: &Core, name: &str, except: Option<Uuid>) -> Result<(), ScheduleError> {
    let mut q = schedule::Entity::find().filter(schedule::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(schedule::Column::Id.ne(id));
    }
    match q.one(core.db()).await? {
        Some(_) => Err(ScheduleError::Taken(name.to_owned())),
        None => Ok(()),
    }
}

/// A write's database error: a unique violation is a name taken meanwhile.
fn write_error(name: &str) -> impl FnOnce(DbErr) -> ScheduleError + '_ {
    move |e| match e {
        DbErr::RecordNotUpdated => ScheduleError::Changed,
        e => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ScheduleError::Taken(name.to_owned()),
            _ => ScheduleError::Db(e),
        },
    }
}

/// The row's columns for a valid schedule.
fn columns(core: &Core, id: Uuid, v: &Valid) -> Result<schedule::ActiveModel, ScheduleError> {
    let sealed = secrets::seal(core, id, &v.secret)?;
    let names: Vec<&String> = v.secret.keys().collect();
    Ok(schedule::ActiveModel {
        id: Set(id),
        name: Set(v.name.clone()),
        description: Set(v.description.clone()),
        job_id: Set(v.job.id),
        cron: Set(v.cron.clone()),
        time_zone: Set(v.time_zone.clone()),
        start_at: Set(v.start_at.map(|t| t.fixed_offset())),
        end_at: Set(v.end_at.map(|t| t.fixed_offset())),
        enabled: Set(v.enabled),
        dst: Set(json!(v.dst)),
        misfire: Set(json!(v.misfire)),
        parameters: Set(crate::store::jsonb::storable(json!(v.public))),
        secret_names: Set(json!(names)),
        secret_parameters: Set(sealed.parameters),
        secret_dek: Set(sealed.dek),
        secret_kek_id: Set(sealed.kek_id),
        targets: Set(v.targets.as_ref().map(|t| json!(t))),
        retry: Set(v.retry.as_ref().map(|r| json!(r))),
        updated_at: Set(Utc::now().fixed_offset()),
        ..Default::default()
    })
}

/// `row` with its timing marked as changed now when `v` names other
/// instants than `current` (the scheduler then fires nothing the new
/// timing would have named before).
fn retimed(
    current: &schedule::Model,
    v: &Valid,
    mut row: schedule::ActiveModel,
) -> schedule::ActiveModel {
    let (dst, _) = policies(current);
    let same = current.cron == v.cron
        && current.time_zone == v.time_zone
        && dst == v.dst
        && current.start_at.map(|t| t.to_utc()) == v.start_at
        && current.end_at.map(|t| t.to_utc()) == v.end_at;
    if !same {
        row.timing_changed_at = Set(Some(Utc::now().fixed_offset()));
    }
    row
}

/// Creates a schedule owned by `actor`.
pub async fn create(
    core: &Core,
    actor: &Actor,
    body: ScheduleBody,
) -> Result<ScheduleView, ScheduleError> {
    let valid = validate::check(core, actor, body).await?;
    name_free(core, &valid.name, None).await?;
    let id = Uuid::now_v7();
    let mut row = columns(core, id, &valid)?;
    row.owner_id = Set(Some(actor.id));
    row.paused = Set(false);
    row.revision = Set(1);
    row.created_at = Set(Utc::now().fixed_offset());
    row.timing_changed_at = Set(None);
    let row = row
        .insert(core.db())
        .await
        .map_err(write_error(&valid.name))?;
    mirror::after_write(core, id).await;
    one_view(core, row).await
}

/// Writes `row` over `current` unless it changed meanwhile; one revision up.
async fn update(
    core: &Core,
    current: &schedule::Model,
    mut row: schedule::ActiveModel,
) -> Result<ScheduleView, ScheduleError> {
    row.id = Set(current.id);
    row.revision = Set(current.revision + 1);
    row.updated_at = Set(Utc::now().fixed_offset());
    let saved = schedule::Entity::update(row)
        .filter(schedule::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await
        .map_err(write_error(&current.name))?;
    mirror::after_write(core, current.id).await;
    one_view(core, saved).await
}

/// Replaces a schedule with `body` (`PUT`): what it omits is reset, its
/// secret parameters included. The owner stays.
pub async fn replace(
    core: &Core,
    actor: &Actor,
    id: Uuid,
    body: ScheduleBody,
) -> Result<ScheduleView, ScheduleError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    let valid = validate::check(core, actor, body).await?;
    name_free(core, &valid.name, Some(id)).await?;
    let row = retimed(&current, &valid, columns(core, id, &valid)?);
    update(core, &current, row).await
}

/// Merges the given top-level `fields` into a schedule (`PATCH`): each
/// replaces the stored one (`null` resets it); `parameters`, when given,
/// replaces every parameter.
pub async fn patch(
    core: &Core,
    actor: &Actor,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<ScheduleView, ScheduleError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    let keep_parameters = !fields.contains_key("parameters");
    let base = serde_json::to_value(body_of(core, &current, keep_parameters)?)
        .map_err(|e| ScheduleError::Broken(e.to_string()))?;
    let Value::Object(mut merged) = base else {
        return Err(ScheduleError::Broken("a schedule is an object".to_owned()));
    };
    // A job named by name only replaces the job, not just its name.
    if fields.contains_key("job_name") && !fields.contains_key("job_id") {
        merged.remove("job_id");
    }
    for (k, v) in fields {
        let v = if k == "parameters" && v.is_null() {
            json!({})
        } else {
            v
        };
        merged.insert(k, v);
    }
    let bytes = serde_json::to_vec(&merged).map_err(|e| ScheduleError::Broken(e.to_string()))?;
    let body: ScheduleBody = crate::strict::json(&bytes).map_err(|e| match e {
        crate::strict::BodyError::Shape(at) => ScheduleError::Invalid(vec![at]),
        crate::strict::BodyError::Syntax(why) => ScheduleError::invalid("", why),
    })?;
    let valid = validate::check(core, actor, body).await?;
    if keep_parameters {
        secrets_stay_secret(&current, &valid)?;
    }
    name_free(core, &valid.name, Some(id)).await?;
    let row = retimed(&current, &valid, columns(core, id, &valid)?);
    update(core, &current, row).await
}

/// Stored secret values are carried over by a PATCH only to the same job,
/// where each is still a secret parameter: never into a visible parameter
/// of another job, or of a version that made it plain.
fn secrets_stay_secret(
    current: &schedule::Model,
    valid: &validate::Valid,
) -> Result<(), ScheduleError> {
    let stored: Vec<String> =
        serde_json::from_value(current.secret_names.clone()).unwrap_or_default();
    let lost: Vec<&String> = stored
        .iter()
        .filter(|n| valid.job.id != current.job_id || !valid.secret.contains_key(n.as_str()))
        .collect();
    if lost.is_empty() {
        return Ok(());
    }
    Err(ScheduleError::invalid(
        "/parameters",
        format!(
            "the stored secret values of {} are not carried over to another job or to a parameter that is no longer secret: give parameters again",
            lost.iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    ))
}

/// Pauses or resumes one schedule.
pub async fn set_paused(
    core: &Core,
    actor: &Actor,
    id: Uuid,
    paused: bool,
) -> Result<ScheduleView, ScheduleError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    if current.paused == paused {
        return one_view(core, current).await;
    }
    let row = schedule::ActiveModel {
        paused: Set(paused),
        ..Default::default()
    };
    update(core, &current, row).await
}

/// Deletes a schedule and its fires; the row as it was.
pub async fn delete(
    core: &Core,
    actor: &Actor,
    id: Uuid,
) -> Result<schedule::Model, ScheduleError> {
    let current = find(core.db(), id).await?;
    require_change(core, actor, &current).await?;
    let done = schedule::Entity::delete_many()
        .filter(schedule::Column::Id.eq(id))
        .filter(schedule::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await?;
    if done.rows_affected == 0 {
        return Err(ScheduleError::Changed);
    }
    mirror::after_write(core, id).await;
    Ok(current)
}
