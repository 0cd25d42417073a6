//! Target groups: static members and/or a dynamic selector, and the
//! targets a group holds now.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use super::crud::TargetView;
use super::{OsType, group_member_ids};
use crate::core::Core;
use crate::store::paging::{Page, Paging, paged};
use crate::store::{target, target_group};

/// Why a group change was refused.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    /// No such group.
    #[error("no such target group")]
    NotFound,
    /// The document is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// Another group has the name.
    #[error("a group named {0:?} exists")]
    Taken(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// A dynamic selector: targets carrying all these tags (and of this OS type).
#[derive(Debug, Clone, Default, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Selector {
    /// Every one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// This operating system family.
    #[serde(default)]
    pub os_type: Option<OsType>,
}

/// A group document.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupSpec {
    /// Unique name, 1–200 characters.
    #[schemars(length(min = 1, max = 200))]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Static member targets, by id or name (stored and shown as ids).
    #[serde(default)]
    #[schemars(with = "Vec<opsc_proto::job::Ref>")]
    pub members: Vec<Uuid>,
    /// Dynamic selector.
    #[serde(default)]
    pub selector: Option<Selector>,
}

/// A group as shown.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GroupView {
    /// Id.
    pub id: Uuid,
    /// The document.
    #[serde(flatten)]
    pub spec: GroupSpec,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<target_group::Model> for GroupView {
    fn from(g: target_group::Model) -> Self {
        Self {
            id: g.id,
            spec: GroupSpec {
                name: g.name,
                description: g.description,
                members: serde_json::from_value(g.members).unwrap_or_default(),
                selector: g.selector.and_then(|s| serde_json::from_value(s).ok()),
            },
            created_at: g.created_at.to_utc(),
            updated_at: g.updated_at.to_utc(),
        }
    }
}

/// Normalizes `spec` (trimmed name, sorted members) and checks it: members
/// exist, and no other group (not `except`) has the name.
async fn validate(
    core: &Core,
    spec: &mut GroupSpec,
    except: Option<Uuid>,
) -> Result<(), GroupError> {
    spec.name = spec.name.trim().to_owned();
    if spec.name.is_empty() || spec.name.len() > 200 {
        return Err(GroupError::Invalid(
            "name must be 1-200 characters".to_owned(),
        ));
    }
    spec.members.sort();
    spec.members.dedup();
    if spec.members.is_empty()
        && spec
            .selector
            .as_ref()
            .is_none_or(|s| s.tags.is_empty() && s.os_type.is_none())
    {
        return Err(GroupError::Invalid(
            "a group needs members or a selector".to_owned(),
        ));
    }
    let db = core.db();
    let found = target::Entity::find()
        .filter(target::Column::Id.is_in(spec.members.clone()))
        .count(db)
        .await?;
    if found != u64::try_from(spec.members.len()).unwrap_or(0) {
        return Err(GroupError::Invalid(
            "members must be ids of existing targets".to_owned(),
        ));
    }
    let mut q = target_group::Entity::find().filter(target_group::Column::Name.eq(&spec.name));
    if let Some(id) = except {
        q = q.filter(target_group::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(GroupError::Taken(spec.name.clone()));
    }
    Ok(())
}

fn active(spec: &GroupSpec, id: Uuid) -> target_group::ActiveModel {
    let now = Utc::now().fixed_offset();
    target_group::ActiveModel {
        id: Set(id),
        name: Set(spec.name.clone()),
        description: Set(spec.description.clone()),
        members: Set(json!(spec.members)),
        selector: Set(spec.selector.as_ref().map(|s| json!(s))),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// One group's row.
pub async fn get(core: &Core, id: Uuid) -> Result<target_group::Model, GroupError> {
    target_group::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(GroupError::NotFound)
}

/// Groups by name.
pub async fn list(core: &Core, paging: Paging) -> Result<Page<GroupView>, GroupError> {
    let query = target_group::Entity::find().order_by_asc(target_group::Column::Name);
    Ok(paged(core.db(), query, paging).await?)
}

/// Validates and stores a new group.
pub async fn create(core: &Core, mut spec: GroupSpec) -> Result<GroupView, GroupError> {
    validate(core, &mut spec, None).await?;
    let row = active(&spec, Uuid::now_v7()).insert(core.db()).await?;
    Ok(row.into())
}

/// Replaces a group's document.
pub async fn update(core: &Core, id: Uuid, mut spec: GroupSpec) -> Result<GroupView, GroupError> {
    let current = get(core, id).await?;
    validate(core, &mut spec, Some(id)).await?;
    let mut row = active(&spec, id);
    row.created_at = Set(current.created_at);
    Ok(row.update(core.db()).await?.into())
}

/// Deletes a group (its targets stay).
pub async fn delete(core: &Core, id: Uuid) -> Result<(), GroupError> {
    let gone = target_group::Entity::delete_by_id(id)
        .exec(core.db())
        .await?;
    if gone.rows_affected == 0 {
        return Err(GroupError::NotFound);
    }
    Ok(())
}

/// The group's current members (static and selected), by name.
pub async fn members(core: &Core, id: Uuid) -> Result<Vec<TargetView>, GroupError> {
    let g = get(core, id).await?;
    let ids = group_member_ids(core.db(), &g).await?;
    Ok(target::Entity::find()
        .filter(target::Column::Id.is_in(ids))
        .order_by_asc(target::Column::Name)
        .all(core.db())
        .await?
        .into_iter()
        .map(TargetView::from)
        .collect())
}
