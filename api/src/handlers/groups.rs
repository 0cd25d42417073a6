//! `/api/v1/target-groups`: static members and/or a dynamic selector; the
//! HTTP side of [`crate::targets::groups`].

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, read_document, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::store::paging::{Page, Paging};
use crate::targets::groups::{self, GroupError, GroupSpec, GroupView};
use crate::targets::names;

/// `GET /api/v1/target-groups`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &groups::list(&state, p).await?))
}

/// A group document with members named by name resolved to target ids,
/// then read strictly: 422 naming each name that resolves to none.
async fn document(
    state: &AppState,
    headers: &HeaderMap,
    mut doc: Value,
) -> Result<GroupSpec, Problem> {
    let errors = names::group_document(state.store.db(), &mut doc)
        .await
        .map_err(GroupError::from)?;
    if !errors.is_empty() {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Problem::invalid(detail)
            .errors(json!(errors))
            .for_request(headers));
    }
    let body = serde_json::to_vec(&doc).map_err(|e| Problem::internal(&e))?;
    read_document(&body).map_err(|p| p.for_request(headers))
}

/// `POST /api/v1/target-groups` (members by id or name).
pub async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(doc): ApiJson<Value>,
) -> Result<Response, Problem> {
    let spec = document(&state, &headers, doc).await?;
    let created = groups::create(&state, spec).await?;
    let mut res = reply(StatusCode::CREATED, &created);
    res.extensions_mut().insert(
        AuditDetail::new("target_group.create", "target_group", created.id)
            .summary(json!(created.spec)),
    );
    Ok(res)
}

/// `GET /api/v1/target-groups/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &GroupView::from(groups::get(&state, id).await?),
    ))
}

/// `PUT /api/v1/target-groups/{id}` (members by id or name).
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(doc): ApiJson<Value>,
) -> Result<Response, Problem> {
    let spec = document(&state, &headers, doc).await?;
    let saved = groups::update(&state, id, spec).await?;
    let mut res = reply(StatusCode::OK, &saved);
    res.extensions_mut().insert(
        AuditDetail::new("target_group.update", "target_group", id).summary(json!(saved.spec)),
    );
    Ok(res)
}

/// `DELETE /api/v1/target-groups/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    groups::delete(&state, id).await?;
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
    let items = groups::members(&state, id).await?;
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
