//! Rule previews against notices published on the bus.

use chrono::Utc;
use opsc_proto::CloudEvent;
use opsc_proto::commands::{Trigger, TriggerKind};
use opsc_proto::events::RunStatus;
use opsc_proto::notify::{JobRef, Notice, NoticeKind, RunDigest};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::{CHANNELS, RULES, create, email};
use crate::harness::{ApiServer, shared_nats_url, test_bus};

fn notice(job: &str, status: RunStatus) -> Notice {
    let run_id = Uuid::now_v7();
    Notice {
        notice_id: format!("run:{run_id}:finished"),
        kind: NoticeKind::RunFinished,
        at: Utc::now(),
        console_url: None,
        run: Some(RunDigest {
            run_id,
            job: JobRef {
                id: Uuid::now_v7(),
                name: job.into(),
                tags: vec!["db".into()],
                owner_id: None,
                critical: false,
            },
            job_version: 1,
            status,
            reason: None,
            trigger: Trigger::new(TriggerKind::Manual, Uuid::nil().to_string()),
            started_by: None,
            attempt: 1,
            retry_root: run_id,
            will_retry: false,
            duration_ms: Some(1000),
            baseline: None,
            previous_status: None,
            failure_streak: 0,
            targets: vec![],
            group_ids: vec![],
            failed_steps: vec![],
            schedule: None,
        }),
        schedule: None,
        target: None,
        dead_letter: None,
    }
}

#[tokio::test]
async fn a_rule_preview_lists_the_recent_notices_it_matches() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let ch = create(&api, &admin, CHANNELS, email("mail", "pw")).await;
    let body = json!({"name": "db failures", "triggers": ["run_failed"], "send_to": [{"channel_id": ch}],
        "conditions": {"job_tags": ["db"]}});

    let (s, p) = api
        .call(
            Method::POST,
            &format!("{RULES}/preview"),
            Some(&admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (p["scanned"].clone(), p["matches"].clone()),
        (json!(0), json!([])),
        "{p}"
    );

    for (job, status) in [
        ("a", RunStatus::Failed),
        ("b", RunStatus::Succeeded),
        ("c", RunStatus::Failed),
    ] {
        let n = notice(job, status);
        let id = n.notice_id.clone();
        rt.bus
            .publish(&CloudEvent::new("/test", n).with_id(id))
            .await
            .unwrap();
    }
    let (s, p) = api
        .call(
            Method::POST,
            &format!("{RULES}/preview"),
            Some(&admin),
            Some(body.clone()),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["scanned"], json!(3), "{p}");
    let names: Vec<&str> = p["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["notice"]["run"]["job"]["name"].as_str())
        .collect();
    assert_eq!(names, ["c", "a"], "newest first: {p}");
    assert_eq!(p["matches"][0]["triggers"], json!(["run_failed"]), "{p}");

    let rule = create(&api, &admin, RULES, body).await;
    let (s, p) = api
        .call(
            Method::GET,
            &format!("{RULES}/{rule}/preview?limit=1"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["matches"].as_array().unwrap().len(), 1, "{p}");
    api.stop().await;
}
