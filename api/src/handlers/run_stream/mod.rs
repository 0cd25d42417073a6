//! Live run output, one source and two encodings:
//!
//! - `GET /api/v1/runs/{id}/stream`: Server-Sent Events ([`sse`]);
//! - `GET /api/v1/runs/{id}/ws`: a WebSocket of JSON text frames ([`ws`]).
//!
//! Both deliver the same frames in the same order
//! ([`crate::runs::live`]): every output line (`output`) and run event
//! (`run`) from the start of the run, then live, ending with `end` (the
//! final status) when the run ends. A late subscriber misses nothing.
//! Frames read live carry an `id` ([`Cursor`]); a follower that lost the
//! stream of a run still going on resumes after it (`?after=`, or SSE's
//! `Last-Event-ID`) instead of reading the run again from the start.
//!
//! `GET /api/v1/runs/activity` is every run's lifecycle (`accepted`,
//! `started`, `finished`) as Server-Sent Events from the moment it is
//! opened ([`crate::runs::live::activity`]), for live views of all runs.

pub mod sse;
pub mod ws;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::routing::get;
use schemars::JsonSchema;
use serde::Deserialize;

use std::time::Duration;

use futures::StreamExt as _;

use crate::auth::{Credential, Principal};
use crate::http::AppState;
use crate::http::problem::Problem;
use crate::http::routes::{Route, VIEWER};
use crate::runs::live::{Cursor, Frames};
use crate::slots::Slot;

/// Where to pick a live run's stream up again.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResumeQuery {
    /// The `id` of the last frame received (`<events>.<lines>`): a run
    /// still going on resumes right after it; a run that has ended is
    /// replayed whole (its frames carry no `id`). For Server-Sent Events
    /// the `Last-Event-ID` header does the same.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub after: Option<Cursor>,
}

/// The resume point: `?after=`, else the `Last-Event-ID` header; a
/// malformed header is a 400 problem like a malformed query.
pub fn resume_point(q: &ResumeQuery, headers: &HeaderMap) -> Result<Option<Cursor>, Problem> {
    if q.after.is_some() {
        return Ok(q.after);
    }
    let Some(value) = headers.get("last-event-id") else {
        return Ok(None);
    };
    let text = value.to_str().map(str::trim).unwrap_or("\u{fffd}");
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|why: &str| {
        Problem::new(StatusCode::BAD_REQUEST, "invalid-header", "Invalid Header")
            .detail(format!("Last-Event-ID: {why}"))
            .errors(serde_json::json!([{"path": "Last-Event-ID", "message": why}]))
            .for_request(headers)
    })
}

/// The frames, ended when `me`'s session does (an access token's expiry)
/// and after `most` at the latest: a user whose access went meanwhile
/// (deactivated, demoted, sessions revoked) is checked again when the
/// client reconnects — a run's stream resumes where it stopped. API
/// tokens are checked at each request as well, and carry no such bound.
pub fn bounded(frames: Frames, me: &Principal, most: Option<Duration>) -> Frames {
    let mut left = most;
    if let Credential::Session { expires_at, .. } = me.credential {
        let until = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        left = Some(left.map_or(until, |m| m.min(until)));
    }
    match left {
        Some(d) => Box::pin(frames.take_until(tokio::time::sleep(d))),
        None => frames,
    }
}

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
            "Live run output and status as Server-Sent Events (replays from the start; a live run resumes after `Last-Event-ID` or `after`)",
            get(sse::handler),
        )
        .query::<ResumeQuery>(),
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
            "Live run output and status over a WebSocket (the stream's frames as JSON text; a live run resumes after `after`)",
            get(ws::handler),
        )
        .query::<ResumeQuery>()
        .websocket(),
    ]
}
