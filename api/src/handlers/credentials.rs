//! `/api/v1/credentials`: the vault's API, the HTTP side of
//! [`crate::credentials`]. Admins manage; operators may list (to reference
//! credentials in jobs); nobody reads a secret back.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::{Access, Principal};
use crate::credentials::{self, CredentialUpdate, CredentialView, NewCredential};
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route};
use crate::store::paging::{Page, Paging};
use crate::store::user::Role;

/// `GET /api/v1/credentials`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &credentials::crud::list(&state, p).await?,
    ))
}

/// `GET /api/v1/credentials/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let c = credentials::crud::get(&state, id).await?;
    Ok(reply(StatusCode::OK, &CredentialView::from(c)))
}

/// `POST /api/v1/credentials`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(new): ApiJson<NewCredential>,
) -> Result<Response, Problem> {
    let created = credentials::crud::create(&state, me.user_id, new).await?;
    let mut res = reply(StatusCode::CREATED, &created);
    res.extensions_mut().insert(
        AuditDetail::new("credential.create", "credential", created.id)
            .summary(json!({"name": created.name, "type": created.kind})),
    );
    Ok(res)
}

/// `PUT /api/v1/credentials/{id}`.
pub async fn update(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(up): ApiJson<CredentialUpdate>,
) -> Result<Response, Problem> {
    let changed = credentials::crud::update(&state, id, up).await?;
    let mut res = reply(StatusCode::OK, &changed.credential);
    res.extensions_mut()
        .insert(AuditDetail::new("credential.update", "credential", id).summary(changed.summary));
    Ok(res)
}

/// `DELETE /api/v1/credentials/{id}`.
pub async fn delete(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    credentials::crud::delete(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("credential.delete", "credential", id));
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/credentials",
            Access::Role(Role::Operator),
            "List credentials (metadata only)",
            routing::get(list),
        )
        .query::<Paging>()
        .ok::<Page<CredentialView>>(200),
        Route::new(
            Method::POST,
            "/api/v1/credentials",
            ADMIN,
            "Store a credential (secrets sealed, never shown again)",
            routing::post(create),
        )
        .body::<NewCredential>()
        .ok::<CredentialView>(201),
        Route::new(
            Method::GET,
            "/api/v1/credentials/{id}",
            Access::Role(Role::Operator),
            "Get a credential's metadata",
            routing::get(get),
        )
        .ok::<CredentialView>(200),
        Route::new(
            Method::PUT,
            "/api/v1/credentials/{id}",
            ADMIN,
            "Change a credential",
            routing::put(update),
        )
        .body::<CredentialUpdate>()
        .ok::<CredentialView>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/credentials/{id}",
            ADMIN,
            "Delete a credential",
            routing::delete(delete),
        )
        .no_content(),
    ]
}
