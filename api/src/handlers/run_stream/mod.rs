//! Live run output, one source and two encodings:
//!
//! - `GET /api/v1/runs/{id}/stream`: Server-Sent Events ([`sse`]);
//! - `GET /api/v1/runs/{id}/ws`: a WebSocket of JSON text frames ([`ws`]).
//!
//! Both deliver the same frames in the same order
//! ([`crate::runs::live`]): every output line (`output`) and run event
//! (`run`) from the start of the run, then live, ending with `end` (the
//! final status) when the run ends. A late subscriber misses nothing.
//!
//! `GET /api/v1/runs/activity` is every run's lifecycle (`accepted`,
//! `started`, `finished`) as Server-Sent Events from the moment it is
//! opened ([`crate::runs::live::activity`]), for live views of all runs.

pub mod sse;
pub mod ws;

use axum::http::{Method, StatusCode};
use axum::routing::get;

use crate::auth::Principal;
use crate::http::AppState;
use crate::http::problem::Problem;
use crate::http::routes::{Route, VIEWER};
use crate::slots::Slot;

/// One of `me`'s live-stream slots (`http.streams_per_user`), or 429.
pub fn stream_slot(state: &AppState, me: &Principal) -> Result<Slot<uuid::Uuid>, Problem> {
    state.streams.enter(me.user_id).ok_or_else(|| {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too-many-streams",
            "Too Many Requests",
        )
        .detail(format!(
            "you have {} live streams open, the most one user may (http.streams_per_user); close one first",
            state.config.http.streams_per_user
        ))
        .retry_after(5)
    })
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::GET,
            "/api/v1/runs/{id}/stream",
            VIEWER,
            "Live run output and status as Server-Sent Events (replays from the start)",
            get(sse::handler),
        ),
        Route::new(
            Method::GET,
            "/api/v1/runs/activity",
            VIEWER,
            "Every run's accepted, started and finished events as Server-Sent Events, from now on (`lagged` when a slow client missed some)",
            get(sse::activity),
        ),
        Route::new(
            Method::GET,
            "/api/v1/runs/{id}/ws",
            VIEWER,
            "Live run output and status over a WebSocket (the stream's frames as JSON text)",
            get(ws::handler),
        )
        .websocket(),
    ]
}
