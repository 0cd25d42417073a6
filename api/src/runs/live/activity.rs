//! Every run's lifecycle as it happens, for live views of all runs (the
//! console's dashboard): the `accepted`, `started` and `finished` events of
//! every run, read from core NATS subscriptions on the event subjects (the
//! events stream's publishes reach them too), nothing replayed — a client
//! loads the latest runs first (`GET /api/v1/runs`), then applies these.
//!
//! A follower that cannot keep up loses frames rather than holding the bus
//! back: what did not fit the buffer is counted and reported in one
//! `lagged` frame (`{"missed": n}`) as soon as there is room, so the client
//! knows to load the list again.

use futures::StreamExt as _;
use serde_json::{Value, json};
use tokio::sync::mpsc::error::TrySendError;

use super::{Frame, FrameKind, Frames, LiveError};
use crate::core::Core;

/// The run events a lifecycle view needs (per-step events stay on the
/// run's own stream).
pub const LIFECYCLE: [&str; 3] = ["accepted", "started", "finished"];

/// Frames buffered for a slow follower before frames are dropped.
const BUFFER: usize = 512;

/// An event envelope from the bus as an activity frame: its type's short
/// name, its time and its data; `None` for what is not a run event.
pub fn frame_of(payload: &[u8]) -> Option<Frame> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    let short = v
        .get("type")?
        .as_str()?
        .strip_prefix("io.opsconductor.run.")?
        .trim_end_matches(".v1");
    if !LIFECYCLE.contains(&short) {
        return None;
    }
    let data = v.get("data").filter(|d| d.is_object())?.clone();
    data.get("run_id")?.as_str()?;
    Some(Frame::new(
        FrameKind::Run,
        json!({"type": short, "time": v.get("time").cloned().unwrap_or(Value::Null), "data": data}),
    ))
}

/// The lifecycle frames of every run from now on, until the follower
/// leaves or the bus goes away.
pub async fn open(state: &Core) -> Result<Frames, LiveError> {
    let bus = &state.bus;
    let mut subs = Vec::with_capacity(LIFECYCLE.len());
    for event in LIFECYCLE {
        let sub = bus
            .client
            .subscribe(bus.subjects.run_events_of_type(event))
            .await
            .map_err(|e| LiveError::Unavailable(e.to_string()))?;
        subs.push(sub);
    }
    let messages = futures::stream::select_all(subs).map(|m| m.payload);
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Frame>(BUFFER);
    tokio::spawn(forward(messages, tx));
    Ok(Box::pin(futures::stream::poll_fn(move |cx| {
        rx.poll_recv(cx)
    })))
}

/// Hands the lifecycle frames among `messages` to `tx` without waiting for
/// room: what does not fit is counted and reported in a `lagged` frame
/// before the next frame that fits. Ends when the follower or the bus goes.
async fn forward<P: AsRef<[u8]>>(
    mut messages: impl futures::Stream<Item = P> + Unpin,
    tx: tokio::sync::mpsc::Sender<Frame>,
) {
    let mut missed: u64 = 0;
    loop {
        let message = tokio::select! {
            () = tx.closed() => return,
            m = messages.next() => m,
        };
        let Some(message) = message else { return };
        let Some(frame) = frame_of(message.as_ref()) else {
            continue;
        };
        if missed > 0 {
            match tx.try_send(Frame::new(FrameKind::Lagged, json!({"missed": missed}))) {
                Ok(()) => missed = 0,
                Err(TrySendError::Full(_)) => {
                    missed += 1;
                    continue;
                }
                Err(TrySendError::Closed(_)) => return,
            }
        }
        match tx.try_send(frame) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => missed += 1,
            Err(TrySendError::Closed(_)) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(kind: &str, data: &Value) -> Vec<u8> {
        json!({"type": format!("io.opsconductor.run.{kind}.v1"), "time": "2026-12-03T07:00:00Z", "data": data})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn lifecycle_events_become_frames_with_their_time() {
        let run = "0b5c6f9e-6a3f-4c1e-9f55-1f1a2b3c4d5e";
        let f = frame_of(&envelope(
            "finished",
            &json!({"run_id": run, "status": "succeeded"}),
        ))
        .expect("a frame");
        assert_eq!(f.event, FrameKind::Run);
        assert_eq!(f.data["type"], "finished");
        assert_eq!(f.data["time"], "2026-12-03T07:00:00Z");
        assert_eq!(f.data["data"]["status"], "succeeded");
    }

    #[tokio::test]
    async fn a_slow_follower_is_told_how_many_frames_it_missed() {
        let started = |n: u32| {
            envelope(
                "started",
                &json!({"run_id": format!("0b5c6f9e-6a3f-4c1e-9f55-{n:012}")}),
            )
        };
        let (bus, messages) = futures::channel::mpsc::unbounded::<Vec<u8>>();
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Frame>(2);
        let task = tokio::spawn(forward(messages, tx));
        // Five frames into room for two: three are dropped, then reported
        // before the next frame once there is room.
        for n in 0..5 {
            bus.unbounded_send(started(n)).unwrap();
        }
        tokio::task::yield_now().await;
        while rx.len() < 2 {
            tokio::task::yield_now().await;
        }
        let first = rx.recv().await.unwrap();
        let second = rx.recv().await.unwrap();
        assert_eq!(
            first.data["data"]["run_id"],
            "0b5c6f9e-6a3f-4c1e-9f55-000000000000"
        );
        assert_eq!(
            second.data["data"]["run_id"],
            "0b5c6f9e-6a3f-4c1e-9f55-000000000001"
        );
        bus.unbounded_send(started(5)).unwrap();
        let lagged = rx.recv().await.unwrap();
        assert_eq!(lagged.event, FrameKind::Lagged);
        assert_eq!(lagged.data["missed"], 3);
        let next = rx.recv().await.unwrap();
        assert_eq!(
            next.data["data"]["run_id"],
            "0b5c6f9e-6a3f-4c1e-9f55-000000000005"
        );
        // The follower leaving ends the task.
        drop(rx);
        bus.unbounded_send(started(6)).unwrap();
        task.await.unwrap();
    }

    #[test]
    fn step_events_and_what_is_not_a_run_event_are_left_out() {
        let run = json!({"run_id": "0b5c6f9e-6a3f-4c1e-9f55-1f1a2b3c4d5e"});
        assert!(frame_of(&envelope("step_started", &run)).is_none());
        assert!(frame_of(b"not json").is_none());
        assert!(frame_of(&envelope("started", &json!("a string"))).is_none());
        assert!(frame_of(&envelope("started", &json!({"worker_id": "w"}))).is_none());
        let other = json!({"type": "io.opsconductor.schedule.fired.v1", "data": run}).to_string();
        assert!(frame_of(other.as_bytes()).is_none());
    }
}
