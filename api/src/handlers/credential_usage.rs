//! `GET /api/v1/credentials/{id}/usage`: the targets and jobs that use a
//! credential ([`crate::credentials::usage`]), for who may read its
//! metadata (operators and admins).

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;
use uuid::Uuid;

use crate::credentials::usage::{self, CredentialUsage};
use crate::http::AppState;
use crate::http::json::{ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/credentials/{id}/usage",
            OPERATOR,
            "Where a credential is used: the targets naming it and the jobs addressing those targets",
            routing::get(get),
        )
        .ok::<CredentialUsage>(200),
    ]
}

/// `GET /api/v1/credentials/{id}/usage`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    crate::credentials::crud::get(&state, id).await?;
    Ok(reply(StatusCode::OK, &usage::usage(state.db(), id).await?))
}
