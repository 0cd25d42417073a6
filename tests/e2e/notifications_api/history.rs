//! The history recorded from `NotificationRecorded` events published here
//! (no notifier runs): forward-only states, idempotent recording, filters,
//! paging, visibility, acknowledgement, dead letters and their resend, and
//! the status endpoint.

use std::time::Duration;

use chrono::Utc;
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::notify::{ChannelKind, DeliveryStatus, NotificationRecorded, NotifyTrigger};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

fn event(id: Uuid, status: DeliveryStatus, attempt: u32, at_ms: i64) -> NotificationRecorded {
    NotificationRecorded {
        notification_id: id,
        status,
        attempt,
        max_attempts: 3,
        notice_id: None,
        origin: "rule".to_owned(),
        rule_id: None,
        trigger: Some(NotifyTrigger::RunFailed),
        channel_id: Uuid::nil(),
        channel_kind: ChannelKind::Webhook,
        recipient: "endpoint".to_owned(),
        user_id: None,
        job_id: None,
        run_id: None,
        subject: "Job failed".to_owned(),
        text: "It failed.".to_owned(),
        html: None,
        error: None,
        started_at: Utc::now() - chrono::Duration::seconds(60)
            + chrono::Duration::milliseconds(at_ms),
        duration_ms: 5,
        provider_id: None,
        replica: "test".to_owned(),
    }
}

async fn get(api: &ApiServer, token: &str, path: &str) -> (u16, Value) {
    api.call(Method::GET, path, Some(token), None).await
}

#[tokio::test]
async fn history_is_recorded_forward_only_filtered_paged_acknowledged_and_resent() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let viewer_id: Uuid = api
        .user(&admin, "nviewer", "viewer", "viewer-pass-123456")
        .await
        .parse()
        .unwrap();
    let viewer = api.login("nviewer", "viewer-pass-123456").await.0;
    api.user(&admin, "noperator", "operator", "operator-pass-123456")
        .await;
    let operator = api.login("noperator", "operator-pass-123456").await.0;
    let job: Uuid = create_job(&api, &admin, json!({
        "name": "alerting", "steps": [{"id": "x", "type": "local.exec", "with": {"command": "true"}}]
    }))
    .await
    .parse()
    .unwrap();
    let run = Uuid::new_v4();
    let channel = Uuid::new_v4();

    // N1: about the job, three failed attempts then dead-lettered, recorded
    // out of order and twice.
    let n1 = Uuid::new_v4();
    let about = |mut e: NotificationRecorded| {
        e.job_id = Some(job);
        e.run_id = Some(run);
        e.channel_id = channel;
        e
    };
    let mut dead = about(event(n1, DeliveryStatus::DeadLettered, 3, 3000));
    dead.error = Some("HTTP 500".to_owned());
    let attempts = [
        ("a3", dead.clone()),
        ("a1", about(event(n1, DeliveryStatus::Failed, 1, 1000))),
        ("a2", about(event(n1, DeliveryStatus::Failed, 2, 2000))),
        ("a1", about(event(n1, DeliveryStatus::Failed, 1, 1000))),
    ];
    for (id, e) in attempts {
        let ev = CloudEvent::new(bus.source.clone(), e).with_id(format!("{n1}:{id}"));
        bus.publish(&ev).await.unwrap();
    }
    // N2: addressed to the viewer, no job.
    let n2 = Uuid::new_v4();
    let mut e2 = event(n2, DeliveryStatus::Delivered, 1, 4000);
    e2.user_id = Some(viewer_id);
    e2.channel_kind = ChannelKind::Email;
    e2.recipient = "viewer@example.test".to_owned();
    bus.publish(&CloudEvent::new(bus.source.clone(), e2))
        .await
        .unwrap();
    // N3: about nothing the viewer may see.
    let n3 = Uuid::new_v4();
    bus.publish(&CloudEvent::new(
        bus.source.clone(),
        event(n3, DeliveryStatus::Dropped, 0, 5000),
    ))
    .await
    .unwrap();

    wait_until("the history", Duration::from_secs(30), || async {
        let (_, b) = get(&api, &admin, "/api/v1/notifications").await;
        b["total"] == 3 && {
            let (_, one) = get(&api, &admin, &format!("/api/v1/notifications/{n1}")).await;
            one["attempts_made"]
                .as_array()
                .is_some_and(|a| a.len() == 3)
        }
    })
    .await;
    let (s, one) = get(&api, &admin, &format!("/api/v1/notifications/{n1}")).await;
    assert_eq!(s, 200, "{one}");
    assert_eq!(
        one["status"], "dead_lettered",
        "an older attempt never overwrites: {one}"
    );
    assert_eq!(one["attempts"], 3, "{one}");
    assert_eq!(one["error"], "HTTP 500", "{one}");
    assert_eq!(one["text"], "It failed.", "{one}");

    // Filters and paging.
    let (_, b) = get(&api, &admin, &format!("/api/v1/notifications?job_id={job}")).await;
    assert_eq!(b["total"], 1, "{b}");
    let (_, b) = get(
        &api,
        &admin,
        &format!("/api/v1/notifications?run_id={run}&status=dead_lettered"),
    )
    .await;
    assert_eq!(b["total"], 1, "{b}");
    let (_, b) = get(
        &api,
        &admin,
        &format!("/api/v1/notifications?channel_id={channel}"),
    )
    .await;
    assert_eq!(b["items"][0]["id"], n1.to_string(), "{b}");
    let (_, b) = get(&api, &admin, "/api/v1/notifications?status=delivered").await;
    assert_eq!(b["total"], 1, "{b}");
    let (_, b) = get(&api, &admin, "/api/v1/notifications?limit=2&offset=2").await;
    assert_eq!(
        (b["total"].as_u64(), b["items"].as_array().map(Vec::len)),
        (Some(3), Some(1)),
        "{b}"
    );
    let future = (Utc::now() + chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (_, b) = get(
        &api,
        &admin,
        &format!("/api/v1/notifications?since={future}"),
    )
    .await;
    assert_eq!(b["total"], 0, "{b}");
    let (s, b) = get(&api, &admin, "/api/v1/notifications?status=lost").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["path"], "/status", "{b}");

    // Visibility: the viewer sees the job's notification and their own, not N3.
    let (_, b) = get(&api, &viewer, "/api/v1/notifications").await;
    assert_eq!(b["total"], 2, "{b}");
    let (s, _) = get(&api, &viewer, &format!("/api/v1/notifications/{n3}")).await;
    assert_eq!(s, 404);

    // Acknowledgement: not by who may not run the job; by the recipient; twice is idempotent.
    let ack = |token: &str, id: Uuid| {
        let token = token.to_owned();
        let api = &api;
        async move {
            api.call(
                Method::POST,
                &format!("/api/v1/notifications/{id}/ack"),
                Some(&token),
                None,
            )
            .await
        }
    };
    assert_eq!(ack(&viewer, n1).await.0, 403);
    assert_eq!(ack(&operator, n1).await.0, 403);
    assert_eq!(ack(&operator, n3).await.0, 404);
    let nats = async_nats::connect(shared_nats_url()).await.unwrap();
    let mut commands = nats.subscribe(bus.subjects.notify()).await.unwrap();
    nats.flush().await.unwrap();
    let (s, b) = ack(&viewer, n2).await;
    assert_eq!((s, b["first"].clone()), (200, json!(true)), "{b}");
    let (s, b) = ack(&admin, n2).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["first"], false, "{b}");
    assert_eq!(
        b["acked_by"],
        viewer_id.to_string(),
        "who acknowledged first: {b}"
    );
    let cmd = tokio::time::timeout(Duration::from_secs(10), commands.next())
        .await
        .unwrap()
        .unwrap();
    let cmd: Value = serde_json::from_slice(&cmd.payload).unwrap();
    assert_eq!(cmd["data"]["action"], "ack", "{cmd}");
    assert_eq!(cmd["data"]["notification_id"], n2.to_string(), "{cmd}");
    // The second ack's duplicate publish (same message id) is not lost: drain it.
    let _ = tokio::time::timeout(Duration::from_secs(1), commands.next()).await;

    // Dead letters: admins only.
    assert_eq!(
        get(&api, &viewer, "/api/v1/notifications/dead-letters")
            .await
            .0,
        403
    );
    assert_eq!(
        get(&api, &operator, "/api/v1/notifications/dead-letters")
            .await
            .0,
        403
    );
    let (s, b) = get(&api, &admin, "/api/v1/notifications/dead-letters").await;
    assert_eq!((s, b["total"].clone()), (200, json!(1)), "{b}");
    assert_eq!(b["items"][0]["id"], n1.to_string(), "{b}");
    let (s, _) = api
        .call(
            Method::POST,
            &format!("/api/v1/notifications/dead-letters/{n1}/resend"),
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(s, 403);
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/notifications/dead-letters/{n1}/resend"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let resend_id = b["resends"][0]["resend_id"].as_str().unwrap().to_owned();
    let cmd = loop {
        let m = tokio::time::timeout(Duration::from_secs(10), commands.next())
            .await
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_slice(&m.payload).unwrap();
        if v["data"]["action"] == "resend" {
            break v;
        }
    };
    assert_eq!(cmd["data"]["notification_id"], n1.to_string(), "{cmd}");
    assert_eq!(cmd["data"]["resend_id"], resend_id, "{cmd}");
    assert_eq!(cmd["data"]["subject"], "Job failed", "{cmd}");
    assert_eq!(cmd["data"]["channel_id"], channel.to_string(), "{cmd}");
    let (s, _) = api
        .call(
            Method::POST,
            &format!("/api/v1/notifications/dead-letters/{n2}/resend"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 409, "a delivered notification is not re-sent");
    let stranger = Uuid::new_v4();
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/notifications/dead-letters/resend",
            Some(&admin),
            Some(json!({"ids": [n1, stranger]})),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["resends"].as_array().map(Vec::len), Some(1), "{b}");
    assert_eq!(b["skipped"], json!([stranger]), "{b}");
    let since = (Utc::now() - chrono::Duration::hours(1))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/notifications/dead-letters/resend",
            Some(&admin),
            Some(json!({"channel_id": channel, "since": since})),
        )
        .await;
    assert_eq!(
        (s, b["resends"].as_array().map(Vec::len)),
        (202, Some(1)),
        "{b}"
    );
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/notifications/dead-letters/resend",
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 422, "{b}");

    // Status: operators and admins.
    assert_eq!(
        get(&api, &viewer, "/api/v1/notifications/status").await.0,
        403
    );
    let (s, b) = get(&api, &operator, "/api/v1/notifications/status").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["paused"], false, "{b}");
    assert_eq!(b["queues"].as_array().map(Vec::len), Some(2), "{b}");
    let failing = b["recent_failures"].as_array().unwrap();
    let mine = failing
        .iter()
        .find(|f| f["channel_id"] == channel.to_string())
        .unwrap();
    assert_eq!(mine["failed_attempts"], 2, "{b}");
    assert_eq!(mine["dead_lettered"], 1, "{b}");
}
