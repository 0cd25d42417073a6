//! A run's frames for live followers: a finished run replayed from
//! PostgreSQL, a live one read from the event and output streams
//! ([`source`]). Encoded as SSE or WebSocket frames by the handlers. Every
//! run's lifecycle, for views of all runs, is [`activity`].

pub mod activity;
mod source;

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
    /// Only on the activity stream: `{missed}` frames were dropped for a
    /// follower that did not keep up.
    Lagged,
}

impl FrameKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Output => "output",
            Self::Run => "run",
            Self::End => "end",
            Self::Lagged => "lagged",
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
    pub(crate) fn new(event: FrameKind, data: Value) -> Self {
        Self { event, data }
    }
}

/// The frames of one run, in order; ends after the `end` frame (or when the
/// bus goes away, without one).
pub type Frames = Pin<Box<dyn Stream<Item = Frame> + Send>>;

pub use source::{LiveError, load, open};
