//! A malformed message goes to the dead-letter stream with a reason, and leaves the queue.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::commands::RunIntent;
use opsc_proto::events::DeadLetter;
use opsc_proto::topology::consumer;

use crate::harness::{cleanup_prefix, shared_nats_url, test_bus, unique_prefix};

#[tokio::test]
async fn malformed_command_is_dead_lettered_with_reason() {
    let p = unique_prefix();
    let rt = test_bus(&shared_nats_url(), &p).await;
    let bus = &rt.bus;
    bus.js
        .publish(bus.subjects.run_request(), "{not json".into())
        .await
        .unwrap()
        .await
        .unwrap();
    bus.js
        .publish(bus.subjects.run_request(), vec![0xff, 0xfe, 0x00].into())
        .await
        .unwrap()
        .await
        .unwrap();

    let stream = bus.js.get_stream(&bus.streams.commands).await.unwrap();
    let c: PullConsumer = stream.get_consumer(consumer::DISPATCHER).await.unwrap();
    let mut batch = c
        .fetch()
        .max_messages(2)
        .expires(Duration::from_secs(1))
        .messages()
        .await
        .unwrap();
    while let Some(msg) = batch.next().await {
        let msg = msg.unwrap();
        let reason = CloudEvent::<RunIntent>::decode(&msg.payload)
            .unwrap_err()
            .to_string();
        bus.dead_letter(consumer::DISPATCHER, &msg, &reason)
            .await
            .unwrap();
    }

    // The queue is empty (terminated messages leave a work queue) …
    let mut cmd = bus.js.get_stream(&bus.streams.commands).await.unwrap();
    crate::harness::wait_until("the command queue to empty", Duration::from_secs(5), || {
        let mut cmd = cmd.clone();
        async move {
            cmd.info()
                .await
                .map(|i| i.state.messages == 0)
                .unwrap_or(false)
        }
    })
    .await;
    assert_eq!(cmd.info().await.unwrap().state.messages, 0);

    // … and both letters are kept with their reason and original payload.
    let dlq = bus.js.get_stream(&bus.streams.dead_letters).await.unwrap();
    let first = dlq.get_raw_message(1).await.unwrap();
    let letter = CloudEvent::<DeadLetter>::decode(&first.payload)
        .unwrap()
        .data;
    assert_eq!(letter.origin, consumer::DISPATCHER);
    assert_eq!(letter.subject, bus.subjects.run_request());
    assert!(
        letter.reason.starts_with("malformed event"),
        "{}",
        letter.reason
    );
    assert_eq!(
        (letter.payload.as_str(), letter.payload_encoding.as_str()),
        ("{not json", "utf8")
    );
    let second = CloudEvent::<DeadLetter>::decode(&dlq.get_raw_message(2).await.unwrap().payload)
        .unwrap()
        .data;
    assert_eq!(
        (second.payload.as_str(), second.payload_encoding.as_str()),
        ("//4A", "base64")
    );
    cleanup_prefix(&bus.js, &p).await;
}
