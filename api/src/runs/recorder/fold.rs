//! Folding a batch of run events into the rows they change, so one
//! statement per table applies the whole batch.
//!
//! Within a batch the same row may change several times (a step starts and
//! finishes; two shards start): only its latest state is written, by the
//! same forward-only rules the statements apply against what is stored, so
//! the result is what applying the events one at a time gives.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::events::{RunEvent, RunStatus, StepStatus};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::runs::wire_name;

/// A run event as `run_events` keeps it.
#[derive(Debug, Serialize)]
pub struct EventRow {
    /// The envelope id (idempotency key).
    pub event_id: String,
    /// The run.
    pub run_id: Uuid,
    /// The subject token (`step_started` …).
    pub event_type: &'static str,
    /// The per-run sequence.
    pub sequence: Option<i64>,
    /// When it happened.
    pub at: DateTime<Utc>,
    /// The payload.
    pub data: Value,
}

impl EventRow {
    /// The row of `event`.
    pub fn of(event: &CloudEvent<RunEvent>) -> Self {
        let data = match &event.data {
            RunEvent::Accepted(d) => json!(d),
            RunEvent::Started(d) => json!(d),
            RunEvent::StepStarted(d) => json!(d),
            RunEvent::StepFinished(d) => json!(d),
            RunEvent::ShardFinished(d) => json!(d),
            RunEvent::CancelRequested(d) => json!(d),
            RunEvent::Finished(d) => json!(d),
        };
        Self {
            event_id: event.id.clone(),
            run_id: event.data.run_id(),
            event_type: event.data.token(),
            sequence: event.sequence.and_then(|s| i64::try_from(s).ok()),
            at: event.time,
            data,
        }
    }
}

/// The state of one step on one target, as `run_steps` keeps it.
#[derive(Debug, Clone, Serialize)]
pub struct StepRow {
    /// The run.
    pub run_id: Uuid,
    /// The step.
    pub step_id: String,
    /// The target, or nil for steps on the worker.
    pub target_key: Uuid,
    /// The target.
    pub target_id: Option<Uuid>,
    /// The attempt.
    pub attempt: i64,
    /// `running` or the outcome.
    pub status: String,
    /// The worker that ran it.
    pub worker_id: Option<String>,
    /// The exit code.
    pub exit_code: Option<i32>,
    /// The error.
    pub error: Option<String>,
    /// Whether the output hit the cap.
    pub output_truncated: bool,
    /// When the attempt started.
    pub started_at: DateTime<Utc>,
    /// When it finished (finished rows only).
    pub finished_at: Option<DateTime<Utc>>,
    /// Its duration (finished rows only).
    pub duration_ms: Option<i64>,
}

impl StepRow {
    /// Later state wins: a higher attempt, or the end of the same attempt.
    fn rank(&self) -> (i64, bool) {
        (self.attempt, self.finished_at.is_some())
    }
}

/// A shard's end, for the run's `shards_finished` map.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShardEnd {
    /// Its status.
    pub status: String,
    /// Its reason.
    pub reason: Option<String>,
}

/// A step attempt that ended, for metrics.
#[derive(Debug, Clone)]
pub struct Timing {
    /// The step type, when the worker said.
    pub step_type: String,
    /// Its outcome.
    pub status: StepStatus,
    /// Its duration.
    pub seconds: f64,
}

/// An attempt number as `run_steps` keeps it (an `integer`).
fn attempt(n: u32) -> i64 {
    i64::from(n.min(i32::MAX.unsigned_abs()))
}

/// The `step_type` label of a step's metrics: a known step type, or
/// `other`, so a worker cannot grow the metric's label set at will.
fn step_type_label(said: Option<&str>) -> String {
    match said {
        Some(t) if opsc_proto::job::STEP_TYPES.contains(&t) => t.to_owned(),
        Some(_) => "other".to_owned(),
        None => "unknown".to_owned(),
    }
}

/// What a batch changes.
#[derive(Debug, Default)]
pub struct Folded {
    /// Runs that started, with their earliest start.
    pub started: BTreeMap<Uuid, DateTime<Utc>>,
    /// The latest state of every step touched.
    pub steps: BTreeMap<(Uuid, String, Uuid), StepRow>,
    /// Shard ends per run, by shard index.
    pub shards: BTreeMap<Uuid, BTreeMap<String, ShardEnd>>,
    /// Runs whose end the api announced.
    pub finished: BTreeMap<Uuid, (RunStatus, Option<String>, DateTime<Utc>)>,
    /// Step attempts that ended.
    pub timings: Vec<Timing>,
}

impl Folded {
    /// Folds `events` (those not recorded before).
    pub fn of<'a>(events: impl IntoIterator<Item = &'a CloudEvent<RunEvent>>) -> Self {
        let mut f = Self::default();
        for e in events {
            f.add(e);
        }
        f
    }

    fn add(&mut self, e: &CloudEvent<RunEvent>) {
        let at = e.time;
        match &e.data {
            RunEvent::Started(d) => {
                let first = self.started.entry(d.run_id).or_insert(at);
                *first = (*first).min(at);
            }
            RunEvent::StepStarted(d) => self.step(StepRow {
                run_id: d.run_id,
                step_id: d.step_id.clone(),
                target_key: d.target_id.unwrap_or(Uuid::nil()),
                target_id: d.target_id,
                attempt: attempt(d.attempt),
                status: "running".to_owned(),
                worker_id: Some(d.worker_id.clone()),
                exit_code: None,
                error: None,
                output_truncated: false,
                started_at: at,
                finished_at: None,
                duration_ms: None,
            }),
            RunEvent::StepFinished(d) => {
                // A worker's figures are not trusted to fit: a duration
                // past any real one is clamped, and a start it would put
                // before the calendar begins is taken as the end.
                let ms = i64::try_from(d.duration_ms).unwrap_or(i64::MAX);
                let started_at = chrono::Duration::try_milliseconds(ms)
                    .and_then(|took| at.checked_sub_signed(took))
                    .unwrap_or(at);
                self.timings.push(Timing {
                    step_type: step_type_label(d.step_type.as_deref()),
                    status: d.status,
                    seconds: d.duration_ms as f64 / 1000.0,
                });
                self.step(StepRow {
                    run_id: d.run_id,
                    step_id: d.step_id.clone(),
                    target_key: d.target_id.unwrap_or(Uuid::nil()),
                    target_id: d.target_id,
                    attempt: attempt(d.attempt),
                    status: wire_name(d.status),
                    worker_id: None,
                    exit_code: d.exit_code,
                    error: d.error.clone(),
                    output_truncated: d.output_truncated,
                    started_at,
                    finished_at: Some(at),
                    duration_ms: Some(ms),
                });
            }
            RunEvent::ShardFinished(d) => {
                self.shards.entry(d.run_id).or_default().insert(
                    d.shard.index.to_string(),
                    ShardEnd {
                        status: wire_name(d.status),
                        reason: d.reason.clone(),
                    },
                );
            }
            RunEvent::Finished(d) => {
                self.finished
                    .insert(d.run_id, (d.status, d.reason.clone(), at));
            }
            RunEvent::Accepted(_) | RunEvent::CancelRequested(_) => {}
        }
    }

    fn step(&mut self, row: StepRow) {
        let key = (row.run_id, row.step_id.clone(), row.target_key);
        match self.steps.get_mut(&key) {
            Some(kept) if kept.rank() >= row.rank() => {
                if kept.worker_id.is_none() && kept.attempt == row.attempt {
                    kept.worker_id = row.worker_id;
                }
            }
            Some(kept) => {
                let worker = kept.worker_id.take();
                let same_attempt = kept.attempt == row.attempt;
                *kept = row;
                if same_attempt && kept.worker_id.is_none() {
                    kept.worker_id = worker;
                }
            }
            None => {
                self.steps.insert(key, row);
            }
        }
    }
}

/// A run's status from its shards': one stopped shard stops the run.
pub fn derive(shards: &serde_json::Map<String, Value>) -> (RunStatus, Option<String>) {
    let field = |k: &str| -> Vec<String> {
        shards
            .values()
            .filter_map(|v| v.get(k).and_then(Value::as_str).map(str::to_owned))
            .collect()
    };
    let statuses = field("status");
    let reasons = field("reason");
    let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
    for (name, status) in [
        ("cancelled", RunStatus::Cancelled),
        ("worker_lost", RunStatus::WorkerLost),
        ("timed_out", RunStatus::TimedOut),
        ("failed", RunStatus::Failed),
    ] {
        if statuses.iter().any(|s| s == name) {
            return (status, reason);
        }
    }
    (RunStatus::Succeeded, None)
}

#[cfg(test)]
mod tests {
    use opsc_proto::events::{ShardFinished, ShardRef, StepFinished, StepStarted};

    use super::*;

    fn ev(data: impl Into<RunEvent>, secs: i64) -> CloudEvent<RunEvent> {
        let data = data.into();
        CloudEvent {
            specversion: "1.0".into(),
            id: Uuid::now_v7().to_string(),
            source: "/t".into(),
            event_type: data.event_type().into(),
            subject: None,
            time: DateTime::from_timestamp(1_700_000_000 + secs, 0).unwrap(),
            datacontenttype: "application/json".into(),
            dataschema: None,
            sequence: None,
            traceparent: None,
            data,
        }
    }

    fn started(run: Uuid, attempt: u32) -> StepStarted {
        StepStarted {
            run_id: run,
            step_id: "a".into(),
            target_id: None,
            attempt,
            worker_id: format!("w{attempt}"),
        }
    }

    fn finished(run: Uuid, attempt: u32, status: StepStatus) -> StepFinished {
        StepFinished {
            run_id: run,
            step_id: "a".into(),
            target_id: None,
            attempt,
            status,
            exit_code: None,
            duration_ms: 1000,
            error: None,
            output_truncated: false,
            output_lines: 0,
            step_type: Some("wait".into()),
        }
    }

    #[test]
    fn the_latest_state_of_a_step_wins_and_keeps_its_worker() {
        let run = Uuid::now_v7();
        let events = [
            ev(started(run, 1), 0),
            ev(finished(run, 1, StepStatus::Failed), 1),
            ev(started(run, 2), 2),
            ev(finished(run, 2, StepStatus::Succeeded), 3),
        ];
        let f = Folded::of(&events);
        let row = f.steps.values().next().unwrap();
        assert_eq!((row.attempt, row.status.as_str()), (2, "succeeded"));
        assert_eq!(row.worker_id.as_deref(), Some("w2"));
        assert_eq!(f.timings.len(), 2);

        // Out of order: the finished attempt 2 still wins over a late start of 1.
        let late = [
            ev(finished(run, 2, StepStatus::Succeeded), 3),
            ev(started(run, 1), 0),
        ];
        let f = Folded::of(&late);
        assert_eq!(f.steps.values().next().unwrap().attempt, 2);
    }

    #[test]
    fn shard_ends_collect_per_run() {
        let run = Uuid::now_v7();
        let end = |index, status| ShardFinished {
            run_id: run,
            shard: ShardRef { index, count: 2 },
            status,
            reason: None,
            worker_id: "w".into(),
        };
        let f = Folded::of(&[
            ev(end(0, RunStatus::Succeeded), 0),
            ev(end(1, RunStatus::Failed), 1),
        ]);
        assert_eq!(f.shards[&run].len(), 2);
    }

    #[test]
    fn one_stopped_shard_decides_the_run() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            derive(&m(json!({"0": {"status": "succeeded"}}))).0,
            RunStatus::Succeeded
        );
        let (s, r) = derive(&m(
            json!({"0": {"status": "succeeded"}, "1": {"status": "failed", "reason": "x"}}),
        ));
        assert_eq!((s, r.as_deref()), (RunStatus::Failed, Some("x")));
        assert_eq!(
            derive(&m(
                json!({"0": {"status": "failed"}, "1": {"status": "worker_lost"}})
            ))
            .0,
            RunStatus::WorkerLost
        );
        assert_eq!(
            derive(&m(
                json!({"0": {"status": "cancelled"}, "1": {"status": "failed"}})
            ))
            .0,
            RunStatus::Cancelled
        );
    }

    #[test]
    fn figures_a_worker_sends_are_clamped_to_what_can_be_stored() {
        let run = Uuid::now_v7();
        let mut d = finished(run, u32::MAX, StepStatus::Succeeded);
        d.duration_ms = u64::MAX;
        d.step_type = Some("made-up-type".into());
        let e = ev(d, 0);
        let f = Folded::of([&e]);
        let row = f.steps.values().next().unwrap();
        assert_eq!(row.attempt, i64::from(i32::MAX));
        assert_eq!(
            row.started_at, e.time,
            "a start before the calendar is the end"
        );
        assert_eq!(f.timings[0].step_type, "other");
    }
}
