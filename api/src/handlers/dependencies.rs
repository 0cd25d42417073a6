//! `/api/v1/dependencies`: "run job B when job A ends", the HTTP side of
//! [`crate::dependencies`]. Every signed-in user reads them; creating,
//! changing and deleting one needs the right to run job B (and, but for
//! creating, being its owner or an admin), checked by the domain calls.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::dependencies::{
    DependencyBody, DependencyPatch, DependencyQuery, DependencyView, JobDependenciesView, crud,
};
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::jobs::access::Actor;
use crate::store::paging::Page;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET, "/api/v1/dependencies", VIEWER, "List dependencies between jobs (filters: upstream_job_id, downstream_job_id)", routing::get(list))
            .query::<DependencyQuery>()
            .ok::<Page<DependencyView>>(200),
        Route::new(M::POST, "/api/v1/dependencies", OPERATOR, "Make job B run when job A ends (B one may run; unknown jobs, a cycle, a bad mapping: 422 naming the field)", routing::post(create))
            .body::<DependencyBody>()
            .ok::<DependencyView>(201),
        Route::new(M::GET, "/api/v1/dependencies/{id}", VIEWER, "Get a dependency", routing::get(get))
            .ok::<DependencyView>(200),
        Route::new(M::PUT, "/api/v1/dependencies/{id}", OPERATOR, "Replace a dependency (its owner or an admin, who may run job B)", routing::put(replace))
            .body::<DependencyBody>()
            .ok::<DependencyView>(200),
        Route::new(M::PATCH, "/api/v1/dependencies/{id}", OPERATOR, "Change the given fields of a dependency (its owner or an admin, who may run job B)", routing::patch(patch))
            .body::<DependencyPatch>()
            .ok::<DependencyView>(200),
        Route::new(M::DELETE, "/api/v1/dependencies/{id}", OPERATOR, "Delete a dependency (its owner or an admin, who may run job B)", routing::delete(remove))
            .no_content(),
        Route::new(M::GET, "/api/v1/jobs/{id}/dependencies", VIEWER, "The dependencies of a job: those that start it (upstream) and those it starts (downstream)", routing::get(of_job))
            .ok::<JobDependenciesView>(200),
    ]
}

/// A reply carrying the audit detail of `action` on the dependency.
fn audited(
    status: StatusCode,
    view: &DependencyView,
    action: &str,
    extra: Option<Value>,
) -> Response {
    let mut summary = crud::summary(view);
    if let (Some(extra), Some(map)) = (extra, summary.as_object_mut()) {
        map.insert("fields".to_owned(), extra);
    }
    let mut res = reply(status, view);
    res.extensions_mut()
        .insert(AuditDetail::new(action, "dependency", view.id).summary(summary));
    res
}

/// `GET /api/v1/dependencies`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DependencyQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::list(&state, &q).await?))
}

/// `POST /api/v1/dependencies`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<DependencyBody>,
) -> Result<Response, Problem> {
    let view = crud::create(&state, &Actor::from(&me), body).await?;
    Ok(audited(
        StatusCode::CREATED,
        &view,
        "dependency.create",
        None,
    ))
}

/// `GET /api/v1/dependencies/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::get(&state, id).await?))
}

/// `PUT /api/v1/dependencies/{id}`.
pub async fn replace(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<DependencyBody>,
) -> Result<Response, Problem> {
    let view = crud::replace(&state, &Actor::from(&me), id, body).await?;
    Ok(audited(StatusCode::OK, &view, "dependency.update", None))
}

/// `PATCH /api/v1/dependencies/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let names: Vec<String> = fields.keys().cloned().collect();
    let view = crud::patch(&state, &Actor::from(&me), id, fields).await?;
    Ok(audited(
        StatusCode::OK,
        &view,
        "dependency.update",
        Some(json!(names)),
    ))
}

/// `DELETE /api/v1/dependencies/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = crud::delete(&state, &Actor::from(&me), id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("dependency.delete", "dependency", id).summary(json!({
            "upstream_job_id": gone.upstream_job_id,
            "downstream_job_id": gone.downstream_job_id,
            "revision": gone.revision,
        })),
    );
    Ok(res)
}

/// `GET /api/v1/jobs/{id}/dependencies`.
pub async fn of_job(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::of_job(&state, id).await?))
}
