//! `/api/v1/maintenance-windows`: when runs and schedule fires keep off
//! jobs and targets, the HTTP side of [`crate::windows`]. Every signed-in
//! user reads them; only admins create, change and delete them, since a
//! window constrains everyone's runs.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route, VIEWER};
use crate::store::paging::Page;
use crate::windows::{
    WindowBody, WindowCalendarQuery, WindowCalendarView, WindowPatch, WindowQuery, WindowView,
    crud, view,
};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET, "/api/v1/maintenance-windows", VIEWER, "List maintenance windows (filter: enabled), each with open_now, closes_at and its next openings", routing::get(list))
            .query::<WindowQuery>()
            .ok::<Page<WindowView>>(200),
        Route::new(M::POST, "/api/v1/maintenance-windows", ADMIN, "Create a maintenance window (invalid timing, zone or unknown ids in the scope: 422 naming the field)", routing::post(create))
            .body::<WindowBody>()
            .ok::<WindowView>(201),
        Route::new(M::GET, "/api/v1/maintenance-windows/calendar", VIEWER, "Every opening of every enabled maintenance window overlapping [from, to), 31 days at most", routing::get(calendar))
            .query::<WindowCalendarQuery>()
            .ok::<WindowCalendarView>(200),
        Route::new(M::GET, "/api/v1/maintenance-windows/{id}", VIEWER, "Get a maintenance window", routing::get(get))
            .ok::<WindowView>(200),
        Route::new(M::PUT, "/api/v1/maintenance-windows/{id}", ADMIN, "Replace a maintenance window", routing::put(replace))
            .body::<WindowBody>()
            .ok::<WindowView>(200),
        Route::new(M::PATCH, "/api/v1/maintenance-windows/{id}", ADMIN, "Change the given fields of a maintenance window", routing::patch(patch))
            .body::<WindowPatch>()
            .ok::<WindowView>(200),
        Route::new(M::DELETE, "/api/v1/maintenance-windows/{id}", ADMIN, "Delete a maintenance window", routing::delete(remove))
            .no_content(),
    ]
}

/// A reply carrying the audit detail of `action` on the window.
fn audited(status: StatusCode, v: &WindowView, action: &str, fields: Option<Value>) -> Response {
    let mut summary = view::summary(v);
    if let (Some(fields), Some(map)) = (fields, summary.as_object_mut()) {
        map.insert("fields".to_owned(), fields);
    }
    let mut res = reply(status, v);
    res.extensions_mut()
        .insert(AuditDetail::new(action, "maintenance_window", v.id).summary(summary));
    res
}

/// `GET /api/v1/maintenance-windows`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WindowQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::list(&state, &q).await?))
}

/// `POST /api/v1/maintenance-windows`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<WindowBody>,
) -> Result<Response, Problem> {
    let v = crud::create(&state, me.user_id, body).await?;
    Ok(audited(
        StatusCode::CREATED,
        &v,
        "maintenance_window.create",
        None,
    ))
}

/// `GET /api/v1/maintenance-windows/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::get(&state, id).await?))
}

/// `PUT /api/v1/maintenance-windows/{id}`.
pub async fn replace(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<WindowBody>,
) -> Result<Response, Problem> {
    let v = crud::replace(&state, id, body).await?;
    Ok(audited(
        StatusCode::OK,
        &v,
        "maintenance_window.update",
        None,
    ))
}

/// `PATCH /api/v1/maintenance-windows/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let names: Vec<String> = fields.keys().cloned().collect();
    let v = crud::patch(&state, id, fields).await?;
    Ok(audited(
        StatusCode::OK,
        &v,
        "maintenance_window.update",
        Some(json!(names)),
    ))
}

/// `DELETE /api/v1/maintenance-windows/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = crud::delete(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("maintenance_window.delete", "maintenance_window", id)
            .summary(json!({"name": gone.name, "revision": gone.revision})),
    );
    Ok(res)
}

/// `GET /api/v1/maintenance-windows/calendar`.
pub async fn calendar(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WindowCalendarQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &view::calendar(&state, &q).await?))
}
