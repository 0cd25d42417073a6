//! `/api/v1/targets`: the inventory, the HTTP side of [`crate::targets`].
//! Operators manage targets; viewers read.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, read_document, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::store::paging::Page;
use crate::store::user::Role;
use crate::targets::import::{self, Format};
use crate::targets::names::{self, Resolver};
use crate::targets::{TargetError, TargetQuery, TargetSpec, TargetView, crud};

/// The answer of an import.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct Imported {
    /// How many targets were imported.
    pub imported: usize,
}

/// `GET /api/v1/targets`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TargetQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::list(&state, &q).await?))
}

/// Whether `me` saves as an admin (see `targets::scope`).
fn admin(me: &Principal) -> bool {
    me.role == Role::Admin
}

/// A target document with its credentials named by name resolved to ids,
/// then read strictly: 422 naming each name that resolves to none.
async fn document(
    state: &AppState,
    headers: &HeaderMap,
    mut doc: Value,
) -> Result<TargetSpec, Problem> {
    let mut resolver = Resolver::new(state.store.db());
    let errors = names::target_document(&mut resolver, &mut doc)
        .await
        .map_err(TargetError::from)?;
    if !errors.is_empty() {
        return Err(Problem::from(TargetError::Fields(errors)).for_request(headers));
    }
    let body = serde_json::to_vec(&doc).map_err(TargetError::from)?;
    read_document(&body).map_err(|p| p.for_request(headers))
}

/// `POST /api/v1/targets` (credentials by id or name).
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(doc): ApiJson<Value>,
) -> Result<Response, Problem> {
    let spec = document(&state, &headers, doc).await?;
    let crud::Created {
        target: created,
        widened,
    } = crud::create(&state, admin(&me), spec).await?;
    let s = &created.spec;
    let summary = json!({"name": s.name, "hostname": s.hostname, "os_type": s.os_type,
        "pool": s.pool, "widened_scopes": widened});
    let mut res = reply(StatusCode::CREATED, &created);
    res.extensions_mut()
        .insert(AuditDetail::new("target.create", "target", created.id).summary(summary));
    Ok(res)
}

/// `GET /api/v1/targets/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let t = crud::get(&state, id).await?;
    Ok(reply(StatusCode::OK, &TargetView::from(t)))
}

/// `PUT /api/v1/targets/{id}`: the whole document (credentials by id or
/// name). A changed host or port forgets the pinned host key.
pub async fn update(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    headers: HeaderMap,
    ApiJson(doc): ApiJson<Value>,
) -> Result<Response, Problem> {
    let spec = document(&state, &headers, doc).await?;
    let changed = crud::update(&state, admin(&me), id, spec).await?;
    let mut res = reply(StatusCode::OK, &changed.target);
    res.extensions_mut()
        .insert(AuditDetail::new("target.update", "target", id).summary(changed.summary));
    Ok(res)
}

/// `DELETE /api/v1/targets/{id}` (also leaves every group's static members).
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    crud::delete(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("target.delete", "target", id));
    Ok(res)
}

/// `POST /api/v1/targets/import`: a JSON array of target documents, or CSV
/// (`Content-Type: text/csv`). Everything is validated first; one bad row
/// imports nothing, and the answer names every bad row.
pub async fn import(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    body: String,
) -> Result<Response, Problem> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let format = if is_csv { Format::Csv } else { Format::Json };
    let done = import::import(&state, admin(&me), &body, format).await?;
    let mut res = reply(
        StatusCode::CREATED,
        &Imported {
            imported: done.count,
        },
    );
    res.extensions_mut().insert(AuditDetail {
        action: Some("target.import".into()),
        entity_type: Some("target"),
        summary: json!({"imported": done.count, "format": format.as_str(),
            "widened_scopes": done.widened}),
        ..Default::default()
    });
    Ok(res)
}

/// `GET /api/v1/targets/export?format=json|csv` (same filters as the list).
pub async fn export(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<TargetQuery>,
) -> Result<Response, Problem> {
    let file = import::export(&state, &q).await?;
    let (content_type, disposition) = match file.format {
        Format::Csv => (
            "text/csv; charset=utf-8",
            "attachment; filename=\"targets.csv\"",
        ),
        Format::Json => ("application/json", "attachment; filename=\"targets.json\""),
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        file.body,
    )
        .into_response())
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/targets",
            VIEWER,
            "List targets (filters: name, tag, os_type, group, pool)",
            routing::get(list),
        )
        .query::<TargetQuery>()
        .ok::<Page<TargetView>>(200),
        Route::new(
            Method::POST,
            "/api/v1/targets",
            OPERATOR,
            "Create a target",
            routing::post(create),
        )
        .body::<TargetSpec>()
        .ok::<TargetView>(201),
        Route::new(
            Method::POST,
            "/api/v1/targets/import",
            OPERATOR,
            "Import targets (JSON array or text/csv); all or nothing",
            routing::post(import),
        )
        .body::<Vec<TargetSpec>>()
        .ok::<Imported>(201),
        Route::new(
            Method::GET,
            "/api/v1/targets/export",
            VIEWER,
            "Export targets as JSON or CSV",
            routing::get(export),
        )
        .query::<TargetQuery>(),
        Route::new(
            Method::GET,
            "/api/v1/targets/{id}",
            VIEWER,
            "Get a target",
            routing::get(get),
        )
        .ok::<TargetView>(200),
        Route::new(
            Method::PUT,
            "/api/v1/targets/{id}",
            OPERATOR,
            "Replace a target",
            routing::put(update),
        )
        .body::<TargetSpec>()
        .ok::<TargetView>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/targets/{id}",
            OPERATOR,
            "Delete a target",
            routing::delete(delete),
        )
        .no_content(),
    ]
}
