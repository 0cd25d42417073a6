//! `/api/v1/insights`: the dashboard's aggregates ([`crate::insights`]).
//! Viewers may read them, as they may list every run.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;
use serde_json::json;

use crate::http::AppState;
use crate::http::json::{ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{Route, VIEWER};
use crate::insights::{Insights, InsightsQuery, Period, queries};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/insights",
            VIEWER,
            "Run insights over a period of at most 90 days (default: the last 24 hours by hour): runs per bucket by status, per-job success rate and duration p50/p95, slowest and most-failing jobs, runs slower than their baseline, totals",
            routing::get(get),
        )
        .query::<InsightsQuery>()
        .ok::<Insights>(200),
    ]
}

/// `GET /api/v1/insights`.
pub async fn get(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<InsightsQuery>,
) -> Result<Response, Problem> {
    let period = Period::of(&q, chrono::Utc::now()).map_err(|e| {
        let errors: Vec<_> =
            e.0.iter()
                .map(|(path, message)| json!({"path": path, "message": message}))
                .collect();
        Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-query",
            "Invalid Query Parameter",
        )
        .detail(e.to_string())
        .errors(json!(errors))
    })?;
    let insights = queries::insights(state.db(), &period).await?;
    Ok(reply(StatusCode::OK, &insights))
}
