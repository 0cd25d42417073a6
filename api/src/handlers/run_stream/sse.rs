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

use crate::auth::{Credential, Principal};
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
    let frames = source::open(&state, &run, after).await?;
    Ok(respond(frames, slot))
}

/// `GET /api/v1/runs/activity`: every run's `accepted`, `started` and
/// `finished` events from now on, and `lagged` when some were dropped.
pub async fn activity(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    let slot = super::stream_slot(&state, &me)?;
    let frames = source::activity::open(&state).await?;
    // It would never end: it ends when the session's access token does, and
    // after ACTIVITY_LIFETIME at most, so a user whose access went meanwhile
    // (deactivated, demoted, sessions revoked) is checked again when the
    // client reconnects.
    let mut lifetime = ACTIVITY_LIFETIME;
    if let Credential::Session { expires_at, .. } = me.credential {
        let left = (expires_at - chrono::Utc::now())
            .to_std()
            .unwrap_or_default();
        lifetime = lifetime.min(left);
    }
    let frames = Box::pin(frames.take_until(tokio::time::sleep(lifetime)));
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
