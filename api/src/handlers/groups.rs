//! `/api/v1/target-groups`: static members and/or a dynamic selector.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::handlers::targets::TargetView;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::store::paging::{Page, Paging, paged};
use crate::store::{target, target_group};
use crate::targets::OsType;
use crate::targets::group_member_ids;
use axum::http::Method;
use axum::routing;

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
    /// Unique name.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Static member target ids.
    #[serde(default)]
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

async fn validate(
    state: &AppState,
    spec: &mut GroupSpec,
    except: Option<Uuid>,
) -> Result<(), Problem> {
    spec.name = spec.name.trim().to_owned();
    if spec.name.is_empty() || spec.name.len() > 200 {
        return Err(Problem::invalid("name must be 1-200 characters"));
    }
    spec.members.sort();
    spec.members.dedup();
    if spec.members.is_empty()
        && spec
            .selector
            .as_ref()
            .is_none_or(|s| s.tags.is_empty() && s.os_type.is_none())
    {
        return Err(Problem::invalid("a group needs members or a selector"));
    }
    let db = state.store.db();
    let found = target::Entity::find()
        .filter(target::Column::Id.is_in(spec.members.clone()))
        .count(db)
        .await?;
    if found != u64::try_from(spec.members.len()).unwrap_or(0) {
        return Err(Problem::invalid("members must be ids of existing targets"));
    }
    let mut q = target_group::Entity::find().filter(target_group::Column::Name.eq(&spec.name));
    if let Some(id) = except {
        q = q.filter(target_group::Column::Id.ne(id));
    }
    if q.one(db).await?.is_some() {
        return Err(Problem::conflict(format!(
            "a group named {:?} exists",
            spec.name
        )));
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

async fn load(state: &AppState, id: Uuid) -> Result<target_group::Model, Problem> {
    target_group::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("target group"))
}

/// `GET /api/v1/target-groups`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    let query = target_group::Entity::find().order_by_asc(target_group::Column::Name);
    let page: Page<GroupView> = paged(state.store.db(), query, p).await?;
    Ok(reply(StatusCode::OK, &page))
}

/// `POST /api/v1/target-groups`.
pub async fn create(
    State(state): State<AppState>,
    ApiJson(mut spec): ApiJson<GroupSpec>,
) -> Result<Response, Problem> {
    validate(&state, &mut spec, None).await?;
    let id = Uuid::now_v7();
    let row = active(&spec, id).insert(state.store.db()).await?;
    let mut res = reply(StatusCode::CREATED, &GroupView::from(row));
    res.extensions_mut()
        .insert(AuditDetail::new("target_group.create", "target_group", id).summary(json!(spec)));
    Ok(res)
}

/// `GET /api/v1/target-groups/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &GroupView::from(load(&state, id).await?),
    ))
}

/// `PUT /api/v1/target-groups/{id}`.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(mut spec): ApiJson<GroupSpec>,
) -> Result<Response, Problem> {
    let current = load(&state, id).await?;
    validate(&state, &mut spec, Some(id)).await?;
    let mut row = active(&spec, id);
    row.created_at = Set(current.created_at);
    let saved = row.update(state.store.db()).await?;
    let mut res = reply(StatusCode::OK, &GroupView::from(saved));
    res.extensions_mut()
        .insert(AuditDetail::new("target_group.update", "target_group", id).summary(json!(spec)));
    Ok(res)
}

/// `DELETE /api/v1/target-groups/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = target_group::Entity::delete_by_id(id)
        .exec(state.store.db())
        .await?;
    if gone.rows_affected == 0 {
        return Err(Problem::not_found_entity("target group"));
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("target_group.delete", "target_group", id));
    Ok(res)
}

/// `GET /api/v1/target-groups/{id}/targets`: the current members.
pub async fn members(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let g = load(&state, id).await?;
    let ids = group_member_ids(state.store.db(), &g).await?;
    let items: Vec<TargetView> = target::Entity::find()
        .filter(target::Column::Id.is_in(ids))
        .order_by_asc(target::Column::Name)
        .all(state.store.db())
        .await?
        .into_iter()
        .map(TargetView::from)
        .collect();
    Ok(reply(StatusCode::OK, &json!({ "items": items })))
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/target-groups",
            VIEWER,
            "List target groups",
            routing::get(list),
        )
        .query::<Paging>()
        .ok::<Page<GroupView>>(200),
        Route::new(
            Method::POST,
            "/api/v1/target-groups",
            OPERATOR,
            "Create a target group",
            routing::post(create),
        )
        .body::<GroupSpec>()
        .ok::<GroupView>(201),
        Route::new(
            Method::GET,
            "/api/v1/target-groups/{id}",
            VIEWER,
            "Get a target group",
            routing::get(get),
        )
        .ok::<GroupView>(200),
        Route::new(
            Method::PUT,
            "/api/v1/target-groups/{id}",
            OPERATOR,
            "Replace a target group",
            routing::put(update),
        )
        .body::<GroupSpec>()
        .ok::<GroupView>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/target-groups/{id}",
            OPERATOR,
            "Delete a target group",
            routing::delete(delete),
        )
        .no_content(),
        Route::new(
            Method::GET,
            "/api/v1/target-groups/{id}/targets",
            VIEWER,
            "The group's current members",
            routing::get(members),
        ),
    ]
}
