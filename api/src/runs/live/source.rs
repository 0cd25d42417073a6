//! Where the frames come from: a finished run is replayed from PostgreSQL;
//! a live run is read from the event and output streams with two ordered
//! JetStream consumers from the first message of the run, so there is no
//! gap between replay and live.
//!
//! Events and output lines travel apart; both sources merge them by the
//! time they happened (the CloudEvent `time`, kept as `at`), so a step's
//! lines come between its `step_started` and `step_finished`. Live, a frame
//! that is ready is never held back waiting for the other stream.

use std::time::Duration;

use async_nats::jetstream::consumer::DeliverPolicy;
use async_nats::jetstream::consumer::pull::{Ordered, OrderedConfig};
use chrono::{DateTime, FixedOffset, Utc};
use futures::{FutureExt as _, StreamExt as _};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{Cursor, Frame, FrameKind, Frames};
use crate::core::Core;
use crate::store::run;

/// Why a run cannot be followed.
#[derive(Debug, thiserror::Error)]
pub enum LiveError {
    /// No such run.
    #[error("no such run")]
    NotFound,
    /// The bus did not open the run's streams.
    #[error("{0}")]
    Unavailable(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// How long output is still read after the run ended (lines and the end
/// travel on different streams).
const TAIL: Duration = Duration::from_millis(300);

/// Frames buffered between the bus and a slow subscriber.
const BUFFER: usize = 256;

fn terminal(status: &str) -> bool {
    !matches!(status, "waiting" | "queued" | "running")
}

/// The run to follow.
pub async fn load(state: &Core, id: Uuid) -> Result<run::Model, LiveError> {
    run::Entity::find_by_id(id)
        .one(state.db())
        .await?
        .ok_or(LiveError::NotFound)
}

/// Every frame of `run` from its start, or after `after` when the run is
/// still live; live until it ends when it has not. A run that ended is
/// replayed whole (its frames carry no cursor, which tells a resuming
/// follower it is a replay).
pub async fn open(
    state: &Core,
    run: &run::Model,
    after: Option<Cursor>,
) -> Result<Frames, LiveError> {
    if !terminal(&run.status) {
        return live(state, run.id, after).await;
    }
    let frames = replay(state, run.id, &run.status).await?;
    // The output recorder writes lines apart from the run's status: a run
    // that has just ended may not have all its lines in PostgreSQL yet.
    // Its messages are still on the bus, read from there instead.
    let recent = run
        .finished_at
        .is_some_and(|at| Utc::now().signed_duration_since(at) < RECORDING_LAG);
    if recent
        && lines_missing(&frames)
        && let Ok(from_bus) = live(state, run.id, None).await
    {
        // A replay all the same: without resume points, as from PostgreSQL.
        return Ok(Box::pin(from_bus.map(|mut f| {
            f.id = None;
            f
        })));
    }
    Ok(Box::pin(futures::stream::iter(frames)))
}

/// How long after a run's end its output may still be on its way into
/// PostgreSQL.
const RECORDING_LAG: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// Whether a step of a replay announced more output lines than the replay
/// has of it. Per step and target, the most any attempt announced: each
/// attempt numbers its lines from 1 again and PostgreSQL keeps one line
/// per number.
fn lines_missing(frames: &[Frame]) -> bool {
    let mut announced: std::collections::HashMap<LineKey, u64> = std::collections::HashMap::new();
    let mut recorded: std::collections::HashMap<LineKey, u64> = std::collections::HashMap::new();
    for f in frames {
        match f.event {
            FrameKind::Output => *recorded.entry(line_key(&f.data)).or_default() += 1,
            FrameKind::Run
                if f.data.get("type").and_then(Value::as_str) == Some("step_finished") =>
            {
                let data = &f.data["data"];
                let n = data
                    .get("output_lines")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let most = announced.entry(line_key(data)).or_default();
                *most = (*most).max(n);
            }
            _ => {}
        }
    }
    announced
        .iter()
        .any(|(key, n)| recorded.get(key).copied().unwrap_or(0) < *n)
}

/// How long a step's end waits, live, for the output lines it announced.
const LINES_WAIT: Duration = Duration::from_secs(2);

/// A frame and when it happened.
#[derive(Debug)]
struct Timed {
    at: Option<DateTime<FixedOffset>>,
    frame: Frame,
    /// The final status, when this is the run's `finished` event.
    finished: Option<Value>,
    /// For a `step_finished`: its step and target, and the lines it printed
    /// (every one is on the bus before the event); for a line: its step,
    /// target and number.
    lines: Option<(LineKey, u64)>,
    /// Its sequence in its bus stream (0 when replayed from PostgreSQL).
    seq: u64,
}

/// A step on a target, as live output and step events name it.
type LineKey = (String, Option<String>);

fn line_key(data: &Value) -> LineKey {
    (
        data.get("step_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        data.get("target_id")
            .and_then(Value::as_str)
            .map(str::to_owned),
    )
}

/// Merges two lists sorted by time; events first on a tie (a step's
/// `step_started` precedes its first line).
fn merge(events: Vec<Timed>, lines: Vec<Timed>) -> Vec<Frame> {
    let mut out = Vec::with_capacity(events.len() + lines.len());
    let mut lines = lines.into_iter().peekable();
    for e in events {
        while let Some(l) = lines.next_if(|l| l.at < e.at) {
            out.push(l.frame);
        }
        out.push(e.frame);
    }
    out.extend(lines.map(|l| l.frame));
    out
}

/// A bus message as a frame, with its stream sequence.
fn from_message(m: &async_nats::jetstream::Message, kind: FrameKind) -> Timed {
    let mut t = from_bus(&m.payload, kind);
    t.seq = m.info().map(|i| i.stream_sequence).unwrap_or_default();
    t
}

/// An envelope from the bus as a frame: its type's short name, its time.
fn from_bus(payload: &[u8], kind: FrameKind) -> Timed {
    let v: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let at = v
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok());
    let data = v.get("data").cloned().unwrap_or(Value::Null);
    if kind != FrameKind::Run {
        let line_no = data.get("line_no").and_then(Value::as_u64).unwrap_or(0);
        return Timed {
            at,
            lines: Some((line_key(&data), line_no)),
            frame: Frame::new(kind, data),
            finished: None,
            seq: 0,
        };
    }
    let short = v
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim_start_matches("io.opsconductor.run.")
        .trim_end_matches(".v1")
        .to_owned();
    let finished =
        (short == "finished").then(|| data.get("status").cloned().unwrap_or(Value::Null));
    let lines = (short == "step_finished").then(|| {
        (
            line_key(&data),
            data.get("output_lines")
                .and_then(Value::as_u64)
                .unwrap_or(0),
        )
    });
    Timed {
        at,
        frame: Frame::new(FrameKind::Run, json!({"type": short, "data": data})),
        finished,
        lines,
        seq: 0,
    }
}

fn end(id: Uuid, status: &Value) -> Frame {
    Frame::new(FrameKind::End, json!({"run_id": id, "status": status}))
}

async fn replay(state: &Core, id: Uuid, status: &str) -> Result<Vec<Frame>, LiveError> {
    let db = state.db();
    let events = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT event_type, data, at FROM run_events WHERE run_id = $1 ORDER BY at, sequence NULLS FIRST",
            vec![id.into()],
        ))
        .await?;
    let lines = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT step_id, target_key, line_no, stream, text, at FROM run_output WHERE run_id = $1 ORDER BY at, line_no",
            vec![id.into()],
        ))
        .await?;
    let at = |row: &sea_orm::QueryResult| row.try_get::<DateTime<FixedOffset>>("", "at").ok();
    let lines = lines
        .into_iter()
        .map(|l| {
            let target: Option<Uuid> = l
                .try_get::<Uuid>("", "target_key")
                .ok()
                .filter(|u| !u.is_nil());
            Timed {
                at: at(&l),
                frame: Frame::new(FrameKind::Output, json!({
                    "run_id": id, "step_id": l.try_get::<String>("", "step_id").unwrap_or_default(), "target_id": target,
                    "line_no": l.try_get::<i64>("", "line_no").unwrap_or_default(), "stream": l.try_get::<String>("", "stream").unwrap_or_default(),
                    "text": l.try_get::<String>("", "text").unwrap_or_default(),
                })),
                finished: None,
                lines: None,
                seq: 0,
            }
        })
        .collect();
    let events = events
        .into_iter()
        .map(|e| {
            let kind = e.try_get::<String>("", "event_type").unwrap_or_default();
            let data = e.try_get::<Value>("", "data").unwrap_or(Value::Null);
            Timed {
                at: at(&e),
                frame: Frame::new(FrameKind::Run, json!({"type": kind, "data": data})),
                finished: None,
                lines: None,
                seq: 0,
            }
        })
        .collect();
    let mut out = merge(events, lines);
    out.push(end(id, &Value::String(status.to_owned())));
    Ok(out)
}

fn unavailable(e: &dyn std::fmt::Display) -> LiveError {
    LiveError::Unavailable(e.to_string())
}

/// A source reading `filter` in `stream` with an ordered consumer, from
/// the start or after sequence `after`. A point past the stream's last message (never one
/// the server gave) is read as its last: "from now on", as every server
/// version agrees (2.9 delivers new messages then, 2.10+ waits for the
/// sequence itself to come).
async fn ordered(
    state: &Core,
    stream: &str,
    filter: String,
    after: Option<u64>,
    kind: FrameKind,
) -> Result<Source, LiveError> {
    let stream = state
        .bus
        .js
        .get_stream(stream)
        .await
        .map_err(|e| unavailable(&e))?;
    let floor = after.map(|seq| seq.min(stream.cached_info().state.last_sequence));
    let deliver_policy = match floor {
        Some(seq) => DeliverPolicy::ByStartSequence {
            start_sequence: seq.saturating_add(1),
        },
        None => DeliverPolicy::All,
    };
    let config = OrderedConfig {
        filter_subject: filter,
        deliver_policy,
        ..Default::default()
    };
    let messages = stream
        .create_consumer(config)
        .await
        .map_err(|e| unavailable(&e))?
        .messages()
        .await
        .map_err(|e| unavailable(&e))?;
    Ok(Source {
        messages,
        kind,
        ready: None,
        floor: floor.unwrap_or(0),
    })
}

/// One of the two live sources, with the frame it has ready, if any.
struct Source {
    messages: Ordered,
    kind: FrameKind,
    ready: Option<Timed>,
    /// The stream sequence up to which everything was sent (the resume
    /// point, then each message taken). An ordered consumer that resets
    /// before its first message (a missed heartbeat while the run is
    /// quiet) starts again from the stream's start, not from the resume
    /// point: what it delivers again is dropped here.
    floor: u64,
}

impl Source {
    /// Keeps `m` as the ready frame unless it was sent already.
    fn take(&mut self, m: &async_nats::jetstream::Message) {
        let t = from_message(m, self.kind);
        if t.seq == 0 || t.seq > self.floor {
            self.floor = self.floor.max(t.seq);
            self.ready = Some(t);
        }
    }

    /// Takes the next frame if it is there already; false when the source ended.
    fn top_up(&mut self) -> bool {
        while self.ready.is_none() {
            match self.messages.next().now_or_never() {
                None => return true,
                Some(Some(Ok(m))) => self.take(&m),
                Some(_) => return false,
            }
        }
        true
    }

    /// Waits for the next frame; false when the source ended.
    async fn wait(&mut self) -> bool {
        while self.ready.is_none() {
            match self.messages.next().await {
                Some(Ok(m)) => self.take(&m),
                _ => return false,
            }
        }
        true
    }
}

/// Where the frames sent so far leave off, and the cursor of the next one.
/// Each source delivers in stream order, so the frame's own sequence is
/// where its stream leaves off (a forged resume point past the stream's
/// end, which the server reads as "from now on", is replaced by the real
/// one with the first frame).
fn advance(cursor: &mut Cursor, t: &Timed) -> Cursor {
    if t.seq > 0 {
        match t.frame.event {
            FrameKind::Output => cursor.lines = t.seq,
            _ => cursor.events = t.seq,
        }
    }
    *cursor
}

async fn live(state: &Core, id: Uuid, after: Option<Cursor>) -> Result<Frames, LiveError> {
    let bus = &state.bus;
    let mut events = ordered(
        state,
        &bus.streams.events,
        bus.subjects.run_events(&id.to_string()),
        after.map(|c| c.events),
        FrameKind::Run,
    )
    .await?;
    let mut logs = ordered(
        state,
        &bus.streams.logs,
        format!("{}.log.{id}.>", bus.prefix()),
        after.map(|c| c.lines),
        FrameKind::Output,
    )
    .await?;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Frame>(BUFFER);
    tokio::spawn(async move {
        // The last line number shown per step and target, and since when
        // the event at the head has waited for lines it announced.
        let mut shown: std::collections::HashMap<LineKey, u64> = std::collections::HashMap::new();
        // Resumed: the steps this connection has sent a line or a start
        // of. Lines of any other step went before the resume point, so
        // their step's end waits for none.
        let mut touched: std::collections::HashSet<LineKey> = std::collections::HashSet::new();
        let mut holding: Option<tokio::time::Instant> = None;
        let mut cursor = after.unwrap_or_default();
        let status = loop {
            if !(events.top_up() && logs.top_up()) {
                return;
            }
            let waits_for_lines = events
                .ready
                .as_ref()
                .and_then(|e| e.lines.as_ref())
                .is_some_and(|(key, n)| {
                    (after.is_none() || touched.contains(key))
                        && shown.get(key).copied().unwrap_or(0) < *n
                });
            if waits_for_lines && logs.ready.is_none() {
                let since = *holding.get_or_insert_with(tokio::time::Instant::now);
                if since.elapsed() < LINES_WAIT {
                    let alive = tokio::select! {
                        () = tx.closed() => return,
                        alive = logs.wait() => alive,
                        () = tokio::time::sleep_until(since + LINES_WAIT) => true,
                    };
                    if !alive {
                        return;
                    }
                    continue;
                }
            }
            let next = match (&events.ready, &logs.ready) {
                _ if waits_for_lines && logs.ready.is_some() => logs.ready.take(),
                (Some(e), Some(l)) if l.at < e.at => logs.ready.take(),
                (Some(_), _) => events.ready.take(),
                (None, Some(_)) => logs.ready.take(),
                (None, None) => {
                    let alive = tokio::select! {
                        () = tx.closed() => return,
                        alive = events.wait() => alive,
                        alive = logs.wait() => alive,
                    };
                    if !alive {
                        return;
                    }
                    continue;
                }
            };
            let Some(mut next) = next else { continue };
            next.frame.id = Some(advance(&mut cursor, &next));
            if next.frame.event == FrameKind::Output
                && let Some((key, n)) = &next.lines
            {
                let seen = shown.entry(key.clone()).or_insert(0);
                *seen = (*seen).max(*n);
                if after.is_some() {
                    touched.insert(key.clone());
                }
            } else {
                holding = None;
                // A new attempt numbers its lines from 1 again.
                if next.frame.data.get("type").and_then(Value::as_str) == Some("step_started")
                    && let Some(data) = next.frame.data.get("data")
                {
                    shown.remove(&line_key(data));
                    if after.is_some() {
                        touched.insert(line_key(data));
                    }
                }
            }
            let finished = next.finished;
            if tx.send(next.frame).await.is_err() {
                return;
            }
            if let Some(status) = finished {
                break status;
            }
        };
        // Output still arriving after the end (another stream): drain it.
        let mut pending = logs.ready.take();
        loop {
            if pending.is_none() {
                match tokio::time::timeout(TAIL, logs.wait()).await {
                    Ok(true) => pending = logs.ready.take(),
                    _ => break,
                }
            }
            let Some(mut line) = pending.take() else {
                break;
            };
            line.frame.id = Some(advance(&mut cursor, &line));
            if tx.send(line.frame).await.is_err() {
                return;
            }
        }
        let _ = tx.send(end(id, &status)).await;
    });
    Ok(Box::pin(futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_short_of_the_lines_its_steps_announced_is_incomplete() {
        let step_end = |n: u64| {
            Frame::new(
                FrameKind::Run,
                json!({"type": "step_finished", "data": {"step_id": "s", "output_lines": n}}),
            )
        };
        let line = || Frame::new(FrameKind::Output, json!({"step_id": "s", "text": "x"}));
        assert!(lines_missing(&[line(), step_end(2)]));
        assert!(!lines_missing(&[line(), line(), step_end(2)]));
        assert!(!lines_missing(&[step_end(0)]));
        assert!(!lines_missing(&[]));
        // Two attempts of 2 and 1 lines: PostgreSQL keeps lines 1 and 2.
        assert!(!lines_missing(&[line(), line(), step_end(2), step_end(1)]));
        // Another step's lines do not make up for this one's.
        let other = Frame::new(FrameKind::Output, json!({"step_id": "t", "text": "x"}));
        assert!(lines_missing(&[line(), other, step_end(2)]));
    }

    fn at(secs: i64, kind: FrameKind, label: &str) -> Timed {
        Timed {
            at: DateTime::from_timestamp(secs, 0).map(|t| t.fixed_offset()),
            frame: Frame::new(kind, json!(label)),
            finished: None,
            lines: None,
            seq: 0,
        }
    }

    #[test]
    fn replays_interleave_by_time_with_events_first_on_ties() {
        let events = vec![
            at(1, FrameKind::Run, "step_started"),
            at(3, FrameKind::Run, "step_finished"),
        ];
        let lines = vec![
            at(1, FrameKind::Output, "a"),
            at(2, FrameKind::Output, "b"),
            at(4, FrameKind::Output, "late"),
        ];
        let order: Vec<Value> = merge(events, lines).into_iter().map(|f| f.data).collect();
        assert_eq!(
            order,
            [
                json!("step_started"),
                json!("a"),
                json!("b"),
                json!("step_finished"),
                json!("late")
            ]
        );
    }

    #[test]
    fn bus_envelopes_become_frames_with_their_time() {
        let finished = br#"{"type":"io.opsconductor.run.finished.v1","time":"2025-01-02T03:04:05Z","data":{"status":"failed"}}"#;
        let t = from_bus(finished, FrameKind::Run);
        assert_eq!(
            t.frame.data,
            json!({"type": "finished", "data": {"status": "failed"}})
        );
        assert_eq!(t.finished, Some(json!("failed")));
        assert!(t.at.is_some());
        let line = br#"{"type":"io.opsconductor.run.output.v1","data":{"text":"hi"}}"#;
        let t = from_bus(line, FrameKind::Output);
        assert_eq!(
            (t.frame.event, t.frame.data),
            (FrameKind::Output, json!({"text": "hi"}))
        );
        assert!(t.finished.is_none() && t.at.is_none());
    }
}
