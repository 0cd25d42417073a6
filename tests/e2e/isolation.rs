//! Two installations on one NATS do not see each other's messages; commands deduplicate.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use opsc_proto::topology::consumer;

use crate::harness::{cleanup_prefix, shared_nats_url, test_bus, unique_prefix};

fn request() -> CloudEvent<RunIntent> {
    CloudEvent::new(
        "/test",
        RunIntent {
            job_id: Some(uuid::Uuid::now_v7()),
            job_name: None,
            job_version: Some(1),
            parameters: Default::default(),
            sealed_parameters: None,
            targets: None,
            trigger: Trigger::new(TriggerKind::Integration, "tester"),
            idempotency_key: None,
            fence: None,
            retry_of: None,
            parameters_from: None,
        },
    )
}

async fn pending(bus: &opsc_runtime::bus::Bus, name: &str) -> Vec<async_nats::jetstream::Message> {
    let stream = bus.js.get_stream(&bus.streams.commands).await.unwrap();
    let c: PullConsumer = stream.get_consumer(name).await.unwrap();
    let mut batch = c
        .fetch()
        .max_messages(10)
        .expires(Duration::from_millis(500))
        .messages()
        .await
        .unwrap();
    let mut out = Vec::new();
    while let Some(m) = batch.next().await {
        out.push(m.unwrap());
    }
    out
}

#[tokio::test]
async fn two_prefixes_on_one_nats_are_isolated() {
    let url = shared_nats_url();
    let (pa, pb) = (unique_prefix(), unique_prefix());
    let a = test_bus(&url, &pa).await;
    let b = test_bus(&url, &pb).await;

    // Core subscriptions on each installation's whole namespace.
    let mut seen_by_b = b.bus.client.subscribe(format!("{pb}.>")).await.unwrap();
    let sent = request();
    a.bus.publish(&sent).await.unwrap();
    let hb = opsc_proto::CloudEvent::new(
        "/test",
        opsc_proto::events::WorkerHeartbeat {
            worker_id: "w".into(),
            pool: "default".into(),
            version: "0".into(),
            concurrency: 1,
            in_flight: 0,
            started_at: chrono_now(),
            draining: false,
            heartbeat_secs: 1,
        },
    );
    a.bus
        .client
        .publish(
            a.bus.subjects.worker_heartbeat("default"),
            hb.encode().into(),
        )
        .await
        .unwrap();
    a.bus.client.flush().await.unwrap();

    let got_a = pending(&a.bus, consumer::DISPATCHER).await;
    assert_eq!(got_a.len(), 1);
    let decoded = CloudEvent::<RunIntent>::decode(&got_a[0].payload).unwrap();
    assert_eq!(decoded.data.job_id, sent.data.job_id);
    assert_eq!(
        got_a[0]
            .headers
            .as_ref()
            .and_then(|h| h.get("Ce-Type"))
            .map(|v| v.as_str()),
        Some("io.opsconductor.cmd.run.request.v1"),
        "every message names its type in a header"
    );
    got_a[0].ack().await.unwrap();

    assert!(pending(&b.bus, consumer::DISPATCHER).await.is_empty());
    let leaked = tokio::time::timeout(Duration::from_millis(300), seen_by_b.next()).await;
    assert!(leaked.is_err(), "B saw a message of A: {leaked:?}");

    cleanup_prefix(&a.bus.js, &pa).await;
    cleanup_prefix(&b.bus.js, &pb).await;
}

#[tokio::test]
async fn a_republished_command_is_stored_once() {
    let p = unique_prefix();
    let rt = test_bus(&shared_nats_url(), &p).await;
    let cmd = request();
    let first = rt.bus.publish(&cmd).await.unwrap();
    let second = rt.bus.publish(&cmd).await.unwrap();
    assert!(!first.duplicate);
    assert!(
        second.duplicate,
        "the retry inside the dedup window is dropped"
    );
    assert_eq!(pending(&rt.bus, consumer::DISPATCHER).await.len(), 1);
    cleanup_prefix(&rt.bus.js, &p).await;
}

fn chrono_now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
