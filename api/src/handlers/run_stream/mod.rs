//! Live run output, one source and two encodings:
//!
//! - `GET /api/v1/runs/{id}/stream`: Server-Sent Events ([`sse`]);
//! - `GET /api/v1/runs/{id}/ws`: a WebSocket of JSON text frames ([`ws`]).
//!
//! Both deliver the same [`Frame`]s in the same order ([`source`]): every
//! output line (`output`) and run event (`run`) from the start of the run,
//! then live, ending with `end` (the final status) when the run ends. A late
//! subscriber misses nothing.

pub mod source;
pub mod sse;
pub mod ws;

use axum::http::Method;
use axum::routing::get;

use crate::http::routes::{Route, VIEWER};

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
            "/api/v1/runs/{id}/ws",
            VIEWER,
            "Live run output and status over a WebSocket (the stream's frames as JSON text)",
            get(ws::handler),
        )
        .websocket(),
    ]
}

use std::pin::Pin;

use futures::Stream;
use serde::Serialize;
use serde_json::Value;

/// What a frame carries; its name is the SSE `event:` field and the
/// WebSocket frame's `event` member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameKind {
    /// One output line: `run_id`, `step_id`, `target_id`, `line_no`, `stream`, `text`.
    Output,
    /// One run event: `{type, data}` (`accepted`, `started`, `step_started` …).
    Run,
    /// The last frame: `{run_id, status}`.
    End,
}

impl FrameKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Output => "output",
            Self::Run => "run",
            Self::End => "end",
        }
    }
}

/// One thing a follower of a run learns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Frame {
    /// What it is.
    pub event: FrameKind,
    /// Its JSON payload.
    pub data: Value,
}

impl Frame {
    fn new(event: FrameKind, data: Value) -> Self {
        Self { event, data }
    }
}

/// The frames of one run, in order; ends after the `end` frame (or when the
/// bus goes away, without one).
pub type Frames = Pin<Box<dyn Stream<Item = Frame> + Send>>;
