//! The recorder: projects run events and output lines into PostgreSQL.
//!
//! It takes what has arrived in batches (up to [`BATCH`] messages) and
//! writes each batch in one transaction: the events into `run_events`
//! (idempotent by event id), then what the new ones change, folded into one
//! statement per table ([`fold`], [`project`]). Step and run states only
//! move forward. When the last shard of a run reports, the run's status is
//! derived and `run.finished` published.

mod fold;
mod isolate;
mod output;
mod project;

use std::sync::Arc;

use opsc_proto::CloudEvent;
use opsc_proto::events::{RunEvent, RunFinished};
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, BatchHandler, Delivery, Options, Outcome};
use sea_orm::TransactionTrait;
use tokio_util::sync::CancellationToken;

use self::fold::{EventRow, Folded};
use self::project::Ended;
use crate::core::Core;
use crate::metrics::labels;

pub use output::run as output;

/// Events written in one transaction at most.
const BATCH: usize = 512;

/// Records run events until shutdown.
pub async fn events(core: Core, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::RECORDER) else {
        tracing::error!("The topology declares no recorder consumer.");
        return;
    };
    let announcer = super::lifecycle::Announcer::start(core.clone(), shutdown.clone());
    consume::run_batches(
        core.bus.clone(),
        // One batch at a time: two would wait on each other's row locks.
        Options::new(spec).concurrency(1).batch(BATCH),
        Arc::new(Recorder { core, announcer }),
        shutdown,
    )
    .await;
}

/// The event recorder.
#[derive(Debug)]
struct Recorder {
    core: Core,
    announcer: super::lifecycle::Announcer,
}

impl BatchHandler<CloudEvent<RunEvent>> for Recorder {
    async fn handle(&self, batch: &[Delivery<CloudEvent<RunEvent>>]) -> Vec<Outcome> {
        let (outcomes, ended) = match self.record(batch).await {
            Ok(ended) => (vec![Outcome::Ack; batch.len()], ended),
            Err(e) => {
                let (outcomes, ended) =
                    isolate::one_by_one(batch, &e, "not recorded", |one| self.record(one)).await;
                (outcomes, ended.into_iter().flatten().collect())
            }
        };
        for e in ended {
            self.ended(e).await;
        }
        outcomes
    }
}

/// When tracing: one `recorder.fold` span per run with traced events in the
/// batch, open while the batch is recorded, each the child of the span
/// that sent the run's first traced event in it.
fn fold_spans(batch: &[Delivery<CloudEvent<RunEvent>>]) -> Vec<tracing::Span> {
    if !opsc_runtime::telemetry::enabled() {
        return Vec::new();
    }
    let mut seen = std::collections::HashSet::new();
    batch
        .iter()
        .filter(|d| d.message.traceparent.is_some() && seen.insert(d.message.data.run_id()))
        .map(|d| {
            let run_id = d.message.data.run_id();
            let events = batch
                .iter()
                .filter(|o| o.message.data.run_id() == run_id)
                .count();
            let span = tracing::info_span!("recorder.fold", %run_id, events);
            opsc_runtime::telemetry::set_parent(&span, d.message.traceparent.as_deref());
            span
        })
        .collect()
}

impl Recorder {
    async fn record(
        &self,
        batch: &[Delivery<CloudEvent<RunEvent>>],
    ) -> Result<Vec<Ended>, sea_orm::DbErr> {
        let _spans = fold_spans(batch);
        let rows: Vec<EventRow> = batch.iter().map(|d| EventRow::of(&d.message)).collect();
        let txn = self.core.db().begin().await?;
        let new = project::insert_events(&txn, &rows).await?;
        let fresh = batch
            .iter()
            .map(|d| &d.message)
            .filter(|e| new.contains(&e.id));
        let folded = Folded::of(fresh);
        let ended = project::apply(&txn, &folded).await?;
        txn.commit().await?;
        let now = chrono::Utc::now();
        for d in batch.iter().filter(|d| new.contains(&d.message.id)) {
            let lag = (now - d.message.time).num_milliseconds().max(0) as f64 / 1000.0;
            self.core.metrics.recorder_lag.observe(lag);
        }
        for t in &folded.timings {
            self.core
                .metrics
                .step_duration
                .get_or_create(&labels(&[
                    ("step_type", &t.step_type),
                    ("status", &super::wire_name(t.status)),
                ]))
                .observe(t.seconds);
        }
        Ok(ended)
    }

    /// Counts a run's end and announces it.
    async fn ended(&self, e: Ended) {
        super::concurrency::release::run_ended(&self.core, e.run_id);
        let status = super::wire_name(e.status);
        let m = &self.core.metrics;
        m.runs_finished
            .get_or_create(&labels(&[("trigger", &e.trigger), ("status", &status)]))
            .inc();
        let duration_ms =
            u64::try_from((chrono::Utc::now() - e.created_at).num_milliseconds()).unwrap_or(0);
        m.run_duration
            .get_or_create(&labels(&[("status", &status)]))
            .observe(duration_ms as f64 / 1000.0);
        self.announcer
            .announce(RunFinished::new(e.run_id, e.status, e.reason, duration_ms));
    }
}
