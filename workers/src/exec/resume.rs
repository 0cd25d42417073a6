//! Picking up a redelivered dispatch where the lost worker stopped.
//!
//! A dispatch comes back when the worker that held it died (kill -9, OOM,
//! node loss) before acknowledging it. The run's own event stream tells what
//! had happened by then: which steps finished on which targets (with their
//! status and exit code) and which had started and not finished. The output
//! stream gives what those steps printed, so later steps' templates see the
//! same `steps.<id>.stdout` as in an uninterrupted run.
//!
//! [`Recorded`] is what the shard executor consults per step and target:
//! finished steps are not repeated, a step that was interrupted is repeated
//! only when it is idempotent, and otherwise its target ends `worker_lost`.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::OrderedConfig;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::events::{OutputLine, OutputStream, RunEvent, StepFinished};
use opsc_runtime::bus::Bus;
use uuid::Uuid;

/// How long reading back one message may take before the history counts as
/// unreadable.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// The last known state of one step on one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// Attempt `n` started and never reported its end.
    Started(u32),
    /// It reported its end.
    Finished(StepFinished),
}

/// What a shard had done before its worker was lost.
#[derive(Debug, Clone, Default)]
pub struct History {
    /// The highest event counter of this shard (the emitter continues after it).
    pub last_counter: u64,
    /// Per step and target.
    pub steps: HashMap<(String, Option<Uuid>), Recorded>,
    /// What the last attempt printed, per step and target: (stdout, stderr).
    pub output: HashMap<(String, Option<Uuid>), (String, String)>,
}

impl History {
    /// The recorded state of `step` on `target`.
    pub fn of(&self, step: &str, target: Option<Uuid>) -> Option<&Recorded> {
        self.steps.get(&(step.to_owned(), target))
    }

    /// The captured output of `step` on `target` (empty when none was kept).
    pub fn output_of(&self, step: &str, target: Option<Uuid>) -> (String, String) {
        self.output
            .get(&(step.to_owned(), target))
            .cloned()
            .unwrap_or_default()
    }

    /// Folds one run event of shard `index` in, in stream order.
    fn apply(&mut self, envelope: CloudEvent<RunEvent>, index: u32) {
        let Some(sequence) = envelope.sequence else {
            return;
        };
        if sequence >> 32 != u64::from(index) {
            return;
        }
        self.last_counter = self.last_counter.max(sequence & 0xffff_ffff);
        match envelope.data {
            RunEvent::StepStarted(s) => {
                self.steps
                    .insert((s.step_id, s.target_id), Recorded::Started(s.attempt));
            }
            RunEvent::StepFinished(f) => {
                self.steps
                    .insert((f.step_id.clone(), f.target_id), Recorded::Finished(f));
            }
            _ => {}
        }
    }

    /// Folds one output line in; line 1 starts a new attempt.
    fn apply_output(&mut self, line: OutputLine) {
        let slot = self
            .output
            .entry((line.step_id, line.target_id))
            .or_default();
        if line.line_no == 1 {
            *slot = Default::default();
        }
        let text = match line.stream {
            OutputStream::Stdout => &mut slot.0,
            OutputStream::Stderr => &mut slot.1,
        };
        text.push_str(&line.text);
        text.push('\n');
    }
}

/// Reads every message on `filter` in `stream` as it is now.
async fn read_all(
    bus: &Bus,
    stream: &str,
    filter: String,
) -> Result<Vec<async_nats::jetstream::Message>, String> {
    let stream = bus
        .js
        .get_stream(stream)
        .await
        .map_err(|e| format!("stream {stream}: {e}"))?;
    let mut consumer = stream
        .create_consumer(OrderedConfig {
            filter_subject: filter,
            ..Default::default()
        })
        .await
        .map_err(|e| format!("reading the run's history: {e}"))?;
    let total = consumer
        .info()
        .await
        .map_err(|e| format!("reading the run's history: {e}"))?
        .num_pending;
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| format!("reading the run's history: {e}"))?;
    let mut out = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
    while (out.len() as u64) < total {
        match tokio::time::timeout(READ_TIMEOUT, messages.next()).await {
            Ok(Some(Ok(m))) => out.push(m),
            Ok(Some(Err(e))) => return Err(format!("reading the run's history: {e}")),
            Ok(None) | Err(_) => return Err("the run's history ended early".to_owned()),
        }
    }
    Ok(out)
}

/// What shard `index` of `run_id` recorded before its worker was lost.
pub async fn load(bus: &Bus, run_id: Uuid, index: u32) -> Result<History, String> {
    let run = run_id.to_string();
    let mut history = History::default();
    for m in read_all(bus, &bus.streams.events, bus.subjects.run_events(&run)).await? {
        if let Ok(envelope) = RunEvent::decode(&m.payload) {
            history.apply(envelope, index);
        }
    }
    for m in read_all(bus, &bus.streams.logs, bus.subjects.run_logs(&run)).await? {
        if let Ok(e) = CloudEvent::<OutputLine>::decode(&m.payload) {
            let target = e.data.target_id;
            let step = e.data.step_id.clone();
            // Only lines of steps this shard ran.
            if history.steps.contains_key(&(step, target)) {
                history.apply_output(e.data);
            }
        }
    }
    Ok(history)
}

#[cfg(test)]
mod tests {
    use opsc_proto::events::{StepStarted, StepStatus};

    use super::*;

    fn envelope<T: opsc_proto::EventType + Into<RunEvent>>(
        seq: u64,
        data: T,
    ) -> CloudEvent<RunEvent> {
        let bytes = CloudEvent::new("test", data).with_sequence(seq).encode();
        RunEvent::decode(&bytes).unwrap()
    }

    #[test]
    fn the_last_event_of_each_step_wins_and_other_shards_are_ignored() {
        let run = Uuid::now_v7();
        let t = Uuid::now_v7();
        let mut h = History::default();
        let started = |n| StepStarted {
            run_id: run,
            step_id: "a".into(),
            target_id: Some(t),
            attempt: n,
            worker_id: "w".into(),
        };
        h.apply(envelope(1 << 32 | 1, started(1)), 1);
        assert_eq!(h.of("a", Some(t)), Some(&Recorded::Started(1)));
        let finished = StepFinished {
            run_id: run,
            step_id: "a".into(),
            target_id: Some(t),
            attempt: 1,
            status: StepStatus::Failed,
            exit_code: Some(3),
            duration_ms: 5,
            error: None,
            output_truncated: false,
            output_lines: 0,
            step_type: None,
        };
        h.apply(envelope(1 << 32 | 2, finished), 1);
        assert!(
            matches!(h.of("a", Some(t)), Some(Recorded::Finished(f)) if f.status == StepStatus::Failed)
        );
        h.apply(envelope(1 << 32 | 3, started(2)), 1);
        assert_eq!(h.of("a", Some(t)), Some(&Recorded::Started(2)));
        // Shard 0's events are not this shard's.
        h.apply(envelope(9, started(7)), 1);
        assert_eq!(h.of("a", Some(t)), Some(&Recorded::Started(2)));
        assert_eq!(h.last_counter, 3);
    }

    #[test]
    fn output_keeps_the_last_attempt_only() {
        let run = Uuid::now_v7();
        let mut h = History::default();
        let line = |n, text: &str, stream| OutputLine {
            run_id: run,
            step_id: "a".into(),
            target_id: None,
            line_no: n,
            stream,
            text: text.into(),
        };
        h.apply_output(line(1, "first try", OutputStream::Stdout));
        h.apply_output(line(1, "second", OutputStream::Stdout));
        h.apply_output(line(2, "oops", OutputStream::Stderr));
        h.apply_output(line(3, "try", OutputStream::Stdout));
        assert_eq!(
            h.output_of("a", None),
            ("second\ntry\n".to_owned(), "oops\n".to_owned())
        );
    }
}
