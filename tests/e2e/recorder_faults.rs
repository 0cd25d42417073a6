//! Messages the database refuses do not stop the recorders: a line or an
//! event PostgreSQL cannot store (a number out of range, a time before its
//! calendar) goes to the dead-letter stream with the database's reason,
//! the rest of its batch is recorded, and runs after it are recorded as
//! usual. A NUL character, which PostgreSQL text cannot hold, is kept as
//! U+FFFD instead of failing the batch.

use std::time::Duration;

use chrono::TimeZone as _;
use opsc_proto::CloudEvent;
use opsc_proto::commands::RunCancel;
use opsc_proto::events::{OutputLine, OutputStream};
use serde_json::json;

use crate::harness::letters::{dead_letters, letter, more_dead_letters_than};
use crate::harness::runs::{create_job, run_job, steps, wait_end};
use crate::harness::{ApiServer, test_bus, wait_until};

#[tokio::test]
async fn refused_lines_and_events_are_dead_lettered_and_the_rest_is_recorded() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "recorded", "steps": [{"id": "hi", "type": "local.exec", "with": {"command": "echo one"}}]}),
    )
    .await;
    let first = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &first).await["status"], "succeeded");
    let run_id: uuid::Uuid = first.parse().unwrap();

    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let line = |line_no: u64, text: &str| OutputLine {
        run_id,
        step_id: "hi".to_owned(),
        target_id: None,
        line_no,
        stream: OutputStream::Stdout,
        text: text.to_owned(),
    };
    for l in [
        line(100, "with a NUL \u{0} inside"),
        line(u64::MAX, "past bigint"),
        line(101, "after the bad one"),
    ] {
        bus.publish(&CloudEvent::new("/e2e", l)).await.unwrap();
    }
    let cancel = |reason: &str| RunCancel {
        run_id,
        requested_by: "e2e".to_owned(),
        reason: Some(reason.to_owned()),
    };
    let mut ancient = CloudEvent::new("/e2e", cancel("before the calendar"));
    ancient.time = chrono::Utc.with_ymd_and_hms(-5000, 1, 1, 0, 0, 0).unwrap();
    bus.publish(&ancient).await.unwrap();
    bus.publish(&CloudEvent::new("/e2e", cancel("a NUL \u{0} here")))
        .await
        .unwrap();

    let letters = dead_letters(bus, 2).await;
    let of = |origin: &str| letter(&letters, &format!("of {origin}"), |l| l.origin == origin);
    let out = of("recorder-output");
    assert!(out.payload.contains("past bigint"), "{}", out.payload);
    assert!(out.reason.contains("out of range"), "{}", out.reason);
    let evt = of("recorder");
    assert!(
        evt.payload.contains("before the calendar"),
        "{}",
        evt.payload
    );
    assert!(evt.reason.contains("out of range"), "{}", evt.reason);

    // The good lines of the batch were recorded, the NUL as U+FFFD.
    wait_until("the good lines", Duration::from_secs(30), || async {
        let items = steps(&api, &admin, &first).await;
        items[0]["stdout"].as_array().is_some_and(|l| l.len() == 3)
    })
    .await;
    let items = steps(&api, &admin, &first).await;
    assert_eq!(
        items[0]["stdout"],
        json!(["one", "with a NUL \u{FFFD} inside", "after the bad one"])
    );

    // The recorders go on: a run after the refused messages is recorded.
    let second = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &second).await["status"], "succeeded");
    assert!(
        !more_dead_letters_than(bus, 2).await,
        "only the two refused messages were dead-lettered"
    );
}
