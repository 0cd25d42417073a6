//! `/api/v1/api-tokens`: the HTTP side of [`crate::tokens`] — tokens for
//! automation, shown once, stored hashed.

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::{Access, Principal};
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::Route;
use crate::store::user::Role;
use crate::tokens::{self, CreatedToken, NewToken};
use axum::http::Method;
use axum::routing;

/// `GET /api/v1/api-tokens`: your tokens.
pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    let items = tokens::list(&state, me.user_id).await?;
    Ok(reply(StatusCode::OK, &json!({ "items": items })))
}

/// `POST /api/v1/api-tokens`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(new): ApiJson<NewToken>,
) -> Result<Response, Problem> {
    let minted = tokens::create(&state, &me, new).await?;
    let id = minted.created.token.id;
    let mut res = reply(StatusCode::CREATED, &minted.created);
    res.extensions_mut()
        .insert(AuditDetail::new("api_token.create", "api_token", id).summary(minted.summary));
    Ok(res)
}

/// `DELETE /api/v1/api-tokens/{id}`: revoke one of yours (admins: anyone's).
pub async fn revoke(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    tokens::revoke(&state, &me, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut()
        .insert(AuditDetail::new("api_token.revoke", "api_token", id));
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/api-tokens",
            Access::Role(Role::Viewer),
            "Your API tokens",
            routing::get(list),
        ),
        Route::new(
            Method::POST,
            "/api/v1/api-tokens",
            Access::Role(Role::Viewer),
            "Create an API token (secret shown once)",
            routing::post(create),
        )
        .body::<NewToken>()
        .session_only()
        .ok::<CreatedToken>(201),
        Route::new(
            Method::DELETE,
            "/api/v1/api-tokens/{id}",
            Access::Role(Role::Viewer),
            "Revoke an API token",
            routing::delete(revoke),
        )
        .no_content(),
    ]
}
