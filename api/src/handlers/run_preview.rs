//! `POST /api/v1/jobs/{id}/preview`: what a run would do where, checked as
//! a run is ([`crate::runs::preview`]), with nothing started. A route of
//! its own rather than a `dry_run` flag on `/run`: a different answer
//! (200 with a plan, not 202 with a run), no `Idempotency-Key`, no audit
//! of a start, and no way for a client's typo to start a real run.

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing;
use opsc_proto::commands::TargetSelection;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route};
use crate::jobs::access::Action;
use crate::runs::preview::Preview;

/// `POST /api/v1/jobs/{id}/preview` (the body of a run request, optional).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewBody {
    /// Parameter values by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Targets instead of the job's.
    #[serde(default)]
    pub targets: Option<TargetSelection>,
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/jobs/{id}/preview",
            OPERATOR,
            "Dry run: the targets, pools and steps a run would have, checked as a run is; starts nothing",
            routing::post(preview),
        )
        .body::<PreviewBody>()
        .job_access(Action::Run)
        .ok::<Preview>(200),
    ]
}

/// `POST /api/v1/jobs/{id}/preview`.
pub async fn preview(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    ApiPath(job_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let body: PreviewBody = super::runs::optional_body(&headers, &body)?;
    let shown = crate::runs::preview::preview(
        &state,
        &super::runs::admission_of(&me, job_id, body.parameters, body.targets),
    )
    .await
    .map_err(|e| crate::http::errors::admission(&state, e))?;
    Ok(reply(StatusCode::OK, &shown))
}
