//! Run lineage, the api side of retries and dependencies, against real
//! NATS, PostgreSQL and a worker (no scheduler runs: the tests publish its
//! intents themselves): what `run.finished` tells the scheduler, retry
//! intents admitted as the next attempt of a chain, dependency intents
//! whose parameters come from the upstream run, and every refusal in the
//! dead-letter stream with its reason and nothing else changed.

mod finished;
mod inputs;
mod retry;

use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use opsc_proto::events::{RunEvent, RunFinished};
use opsc_runtime::bus::Bus;
use reqwest::Method;
use serde_json::Value;

use crate::harness::{ApiServer, wait_until};

/// The `run.finished` event of `run`, once it is on the bus.
async fn finished_of(bus: &Bus, run: &str) -> RunFinished {
    let events = bus.js.get_stream(&bus.streams.events).await.unwrap();
    let subject = bus.subjects.run_event(run, "finished");
    wait_until("run.finished", Duration::from_secs(30), || {
        let (events, subject) = (events.clone(), subject.clone());
        async move {
            events
                .get_last_raw_message_by_subject(&subject)
                .await
                .is_ok()
        }
    })
    .await;
    let m = events
        .get_last_raw_message_by_subject(&subject)
        .await
        .unwrap();
    match RunEvent::decode(&m.payload).unwrap().data {
        RunEvent::Finished(f) => f,
        other => panic!("not a run.finished: {other:?}"),
    }
}

/// An intent of `kind` for `job`, keyed `key`, as the scheduler would send it.
fn intent(job: &str, kind: TriggerKind, actor: &str, key: &str) -> RunIntent {
    RunIntent {
        job_id: Some(job.parse().unwrap()),
        job_name: None,
        job_version: None,
        parameters: Default::default(),
        sealed_parameters: None,
        targets: None,
        trigger: Trigger {
            origin: Some("scheduler".to_owned()),
            ..Trigger::new(kind, actor)
        },
        idempotency_key: Some(key.to_owned()),
        fence: None,
        retry_of: None,
        parameters_from: None,
    }
}

/// Publishes `intent` in a fresh envelope.
async fn publish(bus: &Bus, intent: &RunIntent) {
    bus.publish(&CloudEvent::new("/e2e", intent.clone()))
        .await
        .unwrap();
}

/// Waits until the intake took everything published so far.
async fn drained(bus: &Bus) {
    let cmd = bus.js.get_stream(&bus.streams.commands).await.unwrap();
    wait_until("the intake to drain", Duration::from_secs(30), || {
        let cmd = cmd.clone();
        async move {
            let mut c: async_nats::jetstream::consumer::PullConsumer =
                cmd.get_consumer("dispatcher").await.unwrap();
            let info = c.info().await.unwrap();
            info.num_pending == 0 && info.num_ack_pending == 0
        }
    })
    .await;
}

/// The runs of `job`, newest first.
async fn runs_of(api: &ApiServer, token: &str, job: &str) -> Vec<Value> {
    let (s, list) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs?job_id={job}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{list}");
    list["items"].as_array().unwrap().clone()
}

/// `GET /api/v1/runs/{id}`.
async fn run_view(api: &ApiServer, token: &str, run: &str) -> Value {
    let (s, r) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{r}");
    r
}
