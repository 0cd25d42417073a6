//! `GET /api/v1/runs/{id}/stream`: the frames as Server-Sent Events
//! (`event: <kind>`, `data: <json>`), with a comment every 15 s to keep
//! proxies from closing an idle stream.

use std::convert::Infallible;
use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::StreamExt as _;
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiPath, ApiQuery};
use crate::http::problem::Problem;
use crate::runs::live::{self as source, Frame, Frames};
use crate::slots::Slot;

/// Idle time after which a keep-alive comment is sent.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn event(frame: &Frame) -> Result<Event, Infallible> {
    let e = Event::default()
        .event(frame.event.as_str())
        .data(frame.data.to_string());
    Ok(match frame.id {
        Some(id) => e.id(id.to_string()),
        None => e,
    })
}

/// `GET /api/v1/runs/{id}/stream`.
pub async fn handler(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<super::ResumeQuery>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    let after = super::resume_point(&q, &headers)?;
    let run = source::load(&state, id).await?;
    let slot = super::stream_slot(&state, &me)?;
    let frames = super::bounded(source::open(&state, &run, after).await?, &me, None);
    Ok(respond(frames, slot))
}

/// `GET /api/v1/runs/activity`: every run's `accepted`, `started` and
/// `finished` events from now on, and `lagged` when some were dropped.
pub async fn activity(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    let slot = super::stream_slot(&state, &me)?;
    // It would never end: it ends with the session, and after
    // ACTIVITY_LIFETIME at most (an API token's holder too is checked again).
    let frames = super::bounded(
        source::activity::open(&state).await?,
        &me,
        Some(ACTIVITY_LIFETIME),
    );
    Ok(respond(frames, slot))
}

/// The longest an activity stream stays open before the client must
/// reconnect (and be authenticated again).
pub const ACTIVITY_LIFETIME: Duration = Duration::from_secs(300);

/// The frames as an event stream, holding `slot` until the client leaves.
fn respond(frames: Frames, slot: Slot<Uuid>) -> Response {
    Sse::new(frames.map(move |f| {
        let _held = &slot;
        event(&f)
    }))
    .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
    .into_response()
}
