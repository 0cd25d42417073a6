//! `notify.*` steps end to end with a real worker. The test plays the
//! notifier: it reads the step's command from the notifier's consumer on
//! the command stream and records the delivery, as the notifier would.
//!
//! - a failing step, then `notify.webhook` with `send: on_failure` (runs,
//!   succeeds on the recorded delivery, names it in its output) and
//!   `notify.email` with `send: on_success` (skipped); the run stays failed;
//! - a notify step nobody answers fails after its `timeout_secs`.

use std::time::Duration;

use async_nats::jetstream::consumer::PullConsumer;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::notify::{
    ChannelKind, DeliveryStatus, NotificationRecorded, NotifyCommand, StepSend, delivery_id,
};
use opsc_proto::topology::consumer;
use serde_json::json;

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, shared_nats_url, test_bus};

/// The next notify command, read as the notifier would (acknowledged).
async fn next_command(bus: &opsc_runtime::bus::Bus, within: Duration) -> Option<NotifyCommand> {
    let stream = bus.js.get_stream(&bus.streams.commands).await.unwrap();
    let c: PullConsumer = stream
        .get_consumer(consumer::NOTIFIER_COMMANDS)
        .await
        .unwrap();
    let mut batch = c
        .fetch()
        .max_messages(1)
        .expires(within)
        .messages()
        .await
        .unwrap();
    let msg = batch.next().await?.unwrap();
    msg.ack().await.unwrap();
    Some(
        CloudEvent::<NotifyCommand>::decode(&msg.payload)
            .unwrap()
            .data,
    )
}

/// What the notifier records for a delivered step notification.
fn delivered(cmd: &StepSend) -> NotificationRecorded {
    NotificationRecorded {
        notification_id: cmd.notification_id,
        status: DeliveryStatus::Delivered,
        attempt: 1,
        max_attempts: 3,
        notice_id: None,
        origin: "step".to_owned(),
        rule_id: None,
        trigger: None,
        channel_id: uuid::Uuid::now_v7(),
        channel_kind: cmd.kind,
        recipient: "endpoint".to_owned(),
        user_id: None,
        job_id: Some(cmd.job_id),
        run_id: Some(cmd.run_id),
        subject: cmd.subject.clone(),
        text: cmd.text.clone(),
        html: None,
        error: None,
        started_at: chrono::Utc::now(),
        duration_ms: 3,
        provider_id: None,
        replica: "e2e".to_owned(),
    }
}

#[tokio::test]
async fn a_notify_step_on_failure_runs_after_a_failure_and_keeps_the_run_failed() {
    let api = ApiServer::start(&[]).await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, json!({
        "name": "check-and-tell",
        "steps": [
            {"id": "check", "type": "local.exec", "with": {"command": "echo disk-full; exit 3"}},
            {"id": "alert", "type": "notify.webhook",
             "with": {"channel": "ops-hook", "send": "on_failure", "subject": "{{ job.name }} failed",
                      "text": "check said {{ steps.check.stdout | trim }}",
                      "data": {"run": "{{ run.id }}"}}},
            {"id": "fine", "type": "notify.email",
             "with": {"channel": "ops-mail", "send": "on_success", "to": ["ops@example.com"],
                      "text": "all good"}}
        ]
    }))
    .await;
    // A notify setting that is not allowed is refused when saved, by path.
    let (s, b) = api
        .call(
            reqwest::Method::POST,
            "/api/v1/jobs",
            Some(&admin),
            Some(json!({"name": "bad-notify", "steps": [
                {"id": "n", "type": "notify.teams", "with": {"channel": "t", "text": "x", "to": ["a@b.c"], "send": "never"}}
            ]})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let text = b.to_string();
    assert!(
        text.contains("/steps/0/with/to") && text.contains("/steps/0/with/send"),
        "{b}"
    );

    let run = run_job(&api, &admin, &job, json!({})).await;
    let cmd = match next_command(bus, Duration::from_secs(30)).await {
        Some(NotifyCommand::Step(s)) => s,
        other => panic!("expected a step notification, got {other:?}"),
    };
    assert_eq!(cmd.run_id.to_string(), run);
    assert_eq!(cmd.job_id.to_string(), job);
    assert_eq!(cmd.step_id, "alert");
    assert_eq!(cmd.channel, "ops-hook");
    assert_eq!(cmd.kind, ChannelKind::Webhook);
    assert_eq!(cmd.subject, "check-and-tell failed");
    assert_eq!(cmd.text, "check said disk-full");
    assert_eq!(cmd.data, Some(json!({"run": run})));
    assert_eq!(
        cmd.notification_id,
        delivery_id(&[&run, "alert", "-", "step"]),
        "the id is derived from run, step and target, not the attempt"
    );
    let recorded = CloudEvent::new(bus.source.clone(), delivered(&cmd));
    bus.publish(&recorded).await.unwrap();

    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(
        end["status"], "failed",
        "a notify step does not turn a failed run green: {end}"
    );
    let items = steps(&api, &admin, &run).await;
    assert_eq!(step(&items, "check", None)["status"], "failed");
    let alert = step(&items, "alert", None);
    assert_eq!(alert["status"], "succeeded", "{alert}");
    let out = alert["stdout"].to_string();
    assert!(
        out.contains(&cmd.notification_id.to_string())
            && out.contains("delivered via webhook to endpoint"),
        "{alert}"
    );
    let fine = step(&items, "fine", None);
    assert_eq!(fine["status"], "skipped", "{fine}");
    // The on_success step asked for nothing.
    assert!(next_command(bus, Duration::from_secs(1)).await.is_none());
}

#[tokio::test]
async fn a_notify_step_nobody_answers_fails_after_its_timeout() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, json!({
        "name": "tell-nobody",
        "steps": [
            {"id": "tell", "type": "notify.slack",
             "with": {"channel": "ops-slack", "to": ["#ops"], "text": "hello", "timeout_secs": 2}}
        ]
    }))
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "failed", "{end}");
    let items = steps(&api, &admin, &run).await;
    let tell = step(&items, "tell", None);
    assert_eq!(tell["status"], "failed", "{tell}");
    let said = tell.to_string();
    assert!(
        said.contains("did not confirm the delivery within 2 s"),
        "{tell}"
    );
    tokio::time::sleep(Duration::from_millis(10)).await;
}
