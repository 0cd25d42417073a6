//! Stored windows: listing and reading them, and every write — create,
//! replace, merge, delete — checked ([`super::validate`]) before one
//! statement changes the row, bumping its revision, and mirrored into the
//! KV bucket after the commit ([`super::mirror`]). A refused request
//! changes nothing. Who may write is the route's business (admins).

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::validate::{self, Valid};
use super::view::{body_of, view};
use super::{WindowBody, WindowError, WindowQuery, WindowView, mirror};
use crate::core::Core;
use crate::store::maintenance_window as window;
use crate::store::paging::{Page, Paging, paged};

/// The window with this id.
pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> Result<window::Model, WindowError> {
    window::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(WindowError::NotFound)
}

/// A page of windows, by name.
pub async fn list(core: &Core, q: &WindowQuery) -> Result<Page<WindowView>, WindowError> {
    let mut query = window::Entity::find().order_by_asc(window::Column::Name);
    if let Some(enabled) = q.enabled {
        query = query.filter(window::Column::Enabled.eq(enabled));
    }
    let page: Page<window::Model> = paged(core.db(), query, Paging::of(q.limit, q.offset)).await?;
    let now = Utc::now();
    Ok(Page {
        items: page
            .items
            .iter()
            .map(|r| view(r, now))
            .collect::<Result<_, _>>()?,
        total: page.total,
        limit: page.limit,
        offset: page.offset,
    })
}

/// One window.
pub async fn get(core: &Core, id: Uuid) -> Result<WindowView, WindowError> {
    view(&find(core.db(), id).await?, Utc::now())
}

/// Refuses a name another window has.
async fn name_free(core: &Core, name: &str, except: Option<Uuid>) -> Result<(), WindowError> {
    let mut q = window::Entity::find().filter(window::Column::Name.eq(name));
    if let Some(id) = except {
        q = q.filter(window::Column::Id.ne(id));
    }
    match q.one(core.db()).await? {
        Some(_) => Err(WindowError::Taken(name.to_owned())),
        None => Ok(()),
    }
}

/// A write's database error: a unique violation is a name taken meanwhile.
fn write_error(name: &str) -> impl FnOnce(DbErr) -> WindowError + '_ {
    move |e| match e {
        DbErr::RecordNotUpdated => WindowError::Changed,
        e => match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => WindowError::Taken(name.to_owned()),
            _ => WindowError::Db(e),
        },
    }
}

/// The row's columns for a valid window.
fn columns(v: &Valid) -> window::ActiveModel {
    window::ActiveModel {
        name: Set(v.name.clone()),
        description: Set(v.description.clone()),
        enabled: Set(v.enabled),
        timing: Set(json!(v.timing)),
        scope: Set(json!(v.scope)),
        fire_policy: Set(crate::runs::wire_name(v.fire_policy)),
        target_policy: Set(v.target_policy.as_str().to_owned()),
        updated_at: Set(Utc::now().fixed_offset()),
        ..Default::default()
    }
}

/// Creates a window owned by `owner`.
pub async fn create(core: &Core, owner: Uuid, body: WindowBody) -> Result<WindowView, WindowError> {
    let valid = validate::check(core, body).await?;
    name_free(core, &valid.name, None).await?;
    let id = Uuid::now_v7();
    let mut row = columns(&valid);
    row.id = Set(id);
    row.owner_id = Set(Some(owner));
    row.revision = Set(1);
    row.created_at = Set(Utc::now().fixed_offset());
    let row = row
        .insert(core.db())
        .await
        .map_err(write_error(&valid.name))?;
    mirror::after_write(core, id).await;
    view(&row, Utc::now())
}

/// Writes `valid` over `current` unless it changed meanwhile; one revision up.
async fn update(
    core: &Core,
    current: &window::Model,
    valid: &Valid,
) -> Result<WindowView, WindowError> {
    name_free(core, &valid.name, Some(current.id)).await?;
    let mut row = columns(valid);
    row.id = Set(current.id);
    row.revision = Set(current.revision + 1);
    let saved = window::Entity::update(row)
        .filter(window::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await
        .map_err(write_error(&current.name))?;
    mirror::after_write(core, current.id).await;
    view(&saved, Utc::now())
}

/// Replaces a window with `body` (`PUT`): what it omits is reset.
pub async fn replace(core: &Core, id: Uuid, body: WindowBody) -> Result<WindowView, WindowError> {
    let current = find(core.db(), id).await?;
    let valid = validate::check(core, body).await?;
    update(core, &current, &valid).await
}

/// Merges the given top-level `fields` into a window (`PATCH`): each
/// replaces the stored one (`null` resets it to its default).
pub async fn patch(
    core: &Core,
    id: Uuid,
    fields: Map<String, Value>,
) -> Result<WindowView, WindowError> {
    let current = find(core.db(), id).await?;
    let base =
        serde_json::to_value(body_of(&current)?).map_err(|e| WindowError::Broken(e.to_string()))?;
    let Value::Object(mut merged) = base else {
        return Err(WindowError::Broken("a window is an object".to_owned()));
    };
    merged.extend(fields);
    let bytes = serde_json::to_vec(&merged).map_err(|e| WindowError::Broken(e.to_string()))?;
    let body: WindowBody = crate::strict::json(&bytes).map_err(|e| match e {
        crate::strict::BodyError::Shape(at) => WindowError::Invalid(vec![at]),
        crate::strict::BodyError::Syntax(why) => WindowError::invalid("", why),
    })?;
    let valid = validate::check(core, body).await?;
    update(core, &current, &valid).await
}

/// Deletes a window; the row as it was.
pub async fn delete(core: &Core, id: Uuid) -> Result<window::Model, WindowError> {
    let current = find(core.db(), id).await?;
    let done = window::Entity::delete_many()
        .filter(window::Column::Id.eq(id))
        .filter(window::Column::Revision.eq(current.revision))
        .exec(core.db())
        .await?;
    if done.rows_affected == 0 {
        return Err(WindowError::Changed);
    }
    mirror::after_write(core, id).await;
    Ok(current)
}
