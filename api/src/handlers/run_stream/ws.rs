//! `GET /api/v1/runs/{id}/ws`: the frames as WebSocket text frames
//! `{"event": "output" | "run" | "end", "data": {…}, "id": "…"}` (`id`
//! on frames read live: reconnect with `?after=<id>` to resume), then a close frame
//! with code 1000 after `end`. A stream cut short (the bus went away) closes
//! with 1011 instead.
//!
//! Authentication is the route guard's: `Authorization: Bearer <token>`, or,
//! for browsers (which cannot set headers on a WebSocket), the token offered
//! as the subprotocol `opsconductor.bearer.<token>` together with
//! [`PROTOCOL`]. The server selects [`PROTOCOL`]; the token is never echoed,
//! and never travels in the URL, where logs and histories would keep it.

use std::time::Duration;

use axum::Extension;
use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::StatusCode;
use axum::response::Response;
use futures::{SinkExt as _, StreamExt as _};
use uuid::Uuid;

use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiPath, ApiQuery};
use crate::http::problem::Problem;
use crate::runs::live::{self as source, FrameKind, Frames};

/// The subprotocol the server speaks (and selects when offered).
pub const PROTOCOL: &str = "opsconductor.v1";

/// Idle time after which the server pings.
const PING_EVERY: Duration = super::sse::KEEP_ALIVE;

/// How long the server waits for the client's answer to its close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(5);

/// `GET /api/v1/runs/{id}/ws`.
pub async fn handler(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<super::ResumeQuery>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, Problem> {
    let run = source::load(&state, id).await?;
    let upgrade = upgrade.map_err(|r| {
        Problem::new(
            StatusCode::UPGRADE_REQUIRED,
            "websocket-required",
            "WebSocket Required",
        )
        .detail(format!(
            "{} (or use GET /api/v1/runs/{{id}}/stream for Server-Sent Events)",
            r.body_text()
        ))
    })?;
    let slot = super::stream_slot(&state, &me)?;
    let frames = super::bounded(source::open(&state, &run, q.after).await?, &me, None);
    Ok(upgrade
        .protocols([PROTOCOL])
        .on_upgrade(move |socket| async move {
            pump(socket, frames).await;
            drop(slot);
        }))
}

/// Sends every frame, answers the client's close, pings when idle.
async fn pump(socket: WebSocket, mut frames: Frames) {
    let (mut tx, mut rx) = socket.split();
    let start = tokio::time::Instant::now() + PING_EVERY;
    let mut ping = tokio::time::interval_at(start, PING_EVERY);
    let close = loop {
        tokio::select! {
            frame = frames.next() => {
                let Some(frame) = frame else {
                    break CloseFrame {
                        code: close_code::ERROR,
                        reason: "the live stream was interrupted; reconnect to resume".into(),
                    };
                };
                let text = match serde_json::to_string(&frame) {
                    Ok(t) => t,
                    Err(e) => {
                        tracing::warn!(error = %e, "Run frame not encoded.");
                        continue;
                    }
                };
                if tx.send(Message::Text(text.into())).await.is_err() {
                    return;
                }
                if frame.event == FrameKind::End {
                    break CloseFrame { code: close_code::NORMAL, reason: "run ended".into() };
                }
                ping.reset();
            }
            incoming = rx.next() => match incoming {
                // The client left; dropping the frames stops the consumers.
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                // Nothing else is expected from the client.
                Some(Ok(_)) => {}
            },
            _ = ping.tick() => {
                if tx.send(Message::Ping(Default::default())).await.is_err() {
                    return;
                }
            }
        }
    };
    if tx.send(Message::Close(Some(close))).await.is_err() {
        return;
    }
    let answered = async {
        while let Some(Ok(m)) = rx.next().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_GRACE, answered).await;
}
