//! `/api/v1/scheduler`: the scheduler-wide pause (admins) and the
//! scheduler's status (every signed-in user), the HTTP side of
//! [`crate::schedules::control`].

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;
use opsc_proto::schedule::SchedulerControl;
use serde_json::json;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::reply;
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route, VIEWER};
use crate::jobs::access::Actor;
use crate::schedules::control::{self, SchedulerStatus};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::POST,
            "/api/v1/scheduler/pause",
            ADMIN,
            "Pause every schedule; missed fires follow each schedule's misfire policy on resume",
            routing::post(pause),
        )
        .ok::<SchedulerControl>(200),
        Route::new(
            M::POST,
            "/api/v1/scheduler/resume",
            ADMIN,
            "Resume the scheduler after a pause",
            routing::post(resume),
        )
        .ok::<SchedulerControl>(200),
        Route::new(
            M::GET,
            "/api/v1/scheduler/status",
            VIEWER,
            "The scheduler: pause, leader, live replicas, the leader's summary and the last fires",
            routing::get(status),
        )
        .ok::<SchedulerStatus>(200),
    ]
}

async fn set(state: &AppState, me: &Principal, paused: bool) -> Result<Response, Problem> {
    let control = control::set_global(state, &Actor::from(me), paused).await?;
    let action = if paused {
        "scheduler.pause"
    } else {
        "scheduler.resume"
    };
    let mut res = reply(StatusCode::OK, &control);
    res.extensions_mut()
        .insert(AuditDetail::new(action, "scheduler", "global").summary(json!({"paused": paused})));
    Ok(res)
}

/// `POST /api/v1/scheduler/pause`.
pub async fn pause(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    set(&state, &me, true).await
}

/// `POST /api/v1/scheduler/resume`.
pub async fn resume(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    set(&state, &me, false).await
}

/// `GET /api/v1/scheduler/status`.
pub async fn status(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &control::status(&state).await?))
}
