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
    /// Where a follower that lost the stream after this frame resumes
    /// ([`Cursor`]); only frames read live from the bus have one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<Cursor>,
}

impl Frame {
    pub(crate) fn new(event: FrameKind, data: Value) -> Self {
        Self {
            event,
            data,
            id: None,
        }
    }
}

/// A place in a live run's frames: the bus sequence of the last run event
/// and of the last output line sent, as `<events>.<lines>` (the SSE `id`
/// and `Last-Event-ID`). Resuming there gives every later frame of both
/// streams, and nothing already sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cursor {
    /// Sequence in the events stream of the last event sent.
    pub events: u64,
    /// Sequence in the logs stream of the last line sent.
    pub lines: u64,
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.events, self.lines)
    }
}

impl std::str::FromStr for Cursor {
    type Err = &'static str;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const WHAT: &str = "a stream position is two whole numbers joined by a dot, as the `id` of a frame (e.g. 12.340)";
        let (e, l) = s.split_once('.').ok_or(WHAT)?;
        let number = |t: &str| {
            (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()))
                .then(|| t.parse::<u64>().ok())
                .flatten()
                .ok_or(WHAT)
        };
        Ok(Self {
            events: number(e)?,
            lines: number(l)?,
        })
    }
}

impl Serialize for Cursor {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Cursor {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The frames of one run, in order; ends after the `end` frame (or when the
/// bus goes away, without one).
pub type Frames = Pin<Box<dyn Stream<Item = Frame> + Send>>;

pub use source::{LiveError, load, open};
