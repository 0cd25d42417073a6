//! `GET /api/v1/workers`: the live workers, from their heartbeats
//! (see [`crate::workers`]).

use std::time::Instant;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::http::AppState;
use crate::http::json::{ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, VIEWER};
use crate::workers::WorkerView;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/workers",
            VIEWER,
            "Live workers (from heartbeats): pool, version, concurrency, load (filter: pool)",
            get(list),
        )
        .query::<WorkerQuery>()
        .ok::<WorkerList>(200),
    ]
}

/// Filters for `GET /api/v1/workers`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkerQuery {
    /// Only workers of this pool.
    #[serde(default)]
    pub pool: Option<String>,
}

/// `GET /api/v1/workers`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct WorkerList {
    /// Live workers, sorted by pool, then id.
    pub items: Vec<WorkerView>,
}

/// `GET /api/v1/workers`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<WorkerQuery>,
) -> Result<Response, Problem> {
    let items = state.workers.live(q.pool.as_deref(), Instant::now());
    Ok(reply(StatusCode::OK, &WorkerList { items }))
}
