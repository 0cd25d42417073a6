//! `run.finished` → a `run_finished` notice (durable `notices-finished`).
//! The run is read back from PostgreSQL, so the notice carries its final,
//! recorded state; a run that is not recorded yet is retried.

use std::sync::Arc;
use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::events::RunFinished;
use opsc_proto::notify::{Notice, NoticeKind};
use opsc_proto::topology::{Topology, consumer};
use opsc_runtime::bus::consume::{self, Delivery, Handler, Options, Outcome};
use tokio_util::sync::CancellationToken;

use crate::core::Core;

/// Runs digested at once.
const CONCURRENCY: usize = 16;
/// Deliveries spent waiting for a failed step's output to be recorded.
const OUTPUT_WAITS: u64 = 6;

/// Turns finished runs into notices until shutdown.
pub async fn run(core: Core, shutdown: CancellationToken) {
    let Some(spec) = Topology::shared_consumer(core.bus.prefix(), consumer::NOTICES_FINISHED)
    else {
        tracing::error!("The topology declares no notices-finished consumer.");
        return;
    };
    let bus = core.bus.clone();
    consume::run(
        bus,
        Options::new(spec).concurrency(CONCURRENCY).batch(128),
        Arc::new(Finished { core }),
        shutdown,
    )
    .await;
}

/// The handler of finished runs.
#[derive(Debug)]
struct Finished {
    core: Core,
}

impl Handler<CloudEvent<RunFinished>> for Finished {
    async fn handle(&self, d: &Delivery<CloudEvent<RunFinished>>) -> Outcome {
        let f = &d.message.data;
        let run = match super::digest::digest_checked(self.core.db(), f.run_id, Some(f)).await {
            // A failed step's last lines are still being recorded: wait a
            // little for them (bounded), then send what there is.
            Ok(Some((_, true))) if d.deliveries < OUTPUT_WAITS => {
                return Outcome::retry(Duration::from_millis(300), "output not recorded yet");
            }
            Ok(Some((run, _))) => run,
            // Not recorded (yet): the recorder writes before it publishes,
            // so this is a run of another installation's database or a
            // deleted one; a few retries, then dropped.
            Ok(None) if d.deliveries < 3 => {
                return Outcome::retry(consume::backoff(d.deliveries), "run not recorded yet");
            }
            Ok(None) => return Outcome::Ack,
            Err(e) => return Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        };
        let notice = Notice {
            notice_id: format!("run:{}:finished", f.run_id),
            kind: NoticeKind::RunFinished,
            at: d.message.time,
            console_url: super::console_url(&self.core),
            run: Some(run),
            schedule: None,
            target: None,
            dead_letter: None,
        };
        match super::send(&self.core, notice).await {
            Ok(()) => Outcome::Ack,
            Err(e) => Outcome::retry(consume::backoff(d.deliveries), e.to_string()),
        }
    }
}
