//! The admission fence of schedule intents, through the real bus.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use opsc_proto::schedule::Lease;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::{call, create};
use crate::harness::letters::{dead_letters, letter, more_dead_letters_than};
use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

/// A past fire instant of its own for each label, so each intent has its
/// own `schedule:<id>:<instant>` key and its letter can be found.
fn at(label: &str) -> String {
    let secs = label
        .bytes()
        .fold(17_i64, |h, b| (h * 131 + i64::from(b)) % 86_400);
    let base = chrono::DateTime::parse_from_rfc3339("2026-11-28T00:00:00Z").unwrap();
    (base.to_utc() + TimeDelta::seconds(secs))
        .format("%Y-%m-%dT%H:%M:%S.000Z")
        .to_string()
}

fn scheduled(schedule: &str, job: &str, fence: Option<u64>, label: &str) -> CloudEvent<RunIntent> {
    let mut trigger = Trigger::new(TriggerKind::Schedule, schedule);
    trigger.origin = Some("scheduler".into());
    CloudEvent::new(
        "/e2e",
        RunIntent {
            job_id: Some(job.parse().unwrap()),
            job_name: None,
            job_version: None,
            parameters: Default::default(),
            sealed_parameters: None,
            targets: None,
            trigger,
            idempotency_key: Some(format!("schedule:{schedule}:{}", at(label))),
            fence,
            retry_of: None,
            parameters_from: None,
        },
    )
}

#[tokio::test]
async fn the_fence_refuses_deposed_leaders_and_unknown_schedules() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "fenced", "parameters": {"who": {"type": "string"}},
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]}),
    )
    .await;
    let other_job = create_job(
        &api,
        &admin,
        json!({"name": "elsewhere", "parameters": {"who": {"type": "string"}},
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]}),
    )
    .await;
    let s = create(
        &api,
        &admin,
        json!({"name": "s", "job_id": job, "cron": "@daily"}),
    )
    .await;
    let t = create(
        &api,
        &admin,
        json!({"name": "t", "job_id": other_job, "cron": "@daily"}),
    )
    .await;
    let gone = create(
        &api,
        &admin,
        json!({"name": "gone", "job_id": job, "cron": "@daily"}),
    )
    .await;
    assert_eq!(
        call(
            &api,
            Method::DELETE,
            &format!("/api/v1/schedules/{gone}"),
            &admin,
            None
        )
        .await
        .0,
        204
    );
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let runs = || async {
        let (_, page) = call(
            &api,
            Method::GET,
            &format!("/api/v1/runs?job_id={job}"),
            &admin,
            None,
        )
        .await;
        page["total"].as_u64().unwrap_or(0)
    };

    // No lease: any term is admitted.
    bus.publish(&scheduled(&s, &job, Some(3), "k-nolease"))
        .await
        .unwrap();
    wait_until("the first run", Duration::from_secs(30), || async {
        runs().await == 1
    })
    .await;
    let lease = Lease {
        holder: "r2".into(),
        term: 10,
        expires_at: Utc::now() + TimeDelta::seconds(30),
        acquired_at: Utc::now(),
    };
    let leases = bus.bucket("leases").await.unwrap();
    leases
        .put(
            "scheduler.leader",
            serde_json::to_vec(&lease).unwrap().into(),
        )
        .await
        .unwrap();
    // A copy of a schedule's intent cannot take a future fire's key, nor
    // point the schedule's run (and its secrets) elsewhere.
    let mut future = scheduled(&s, &job, Some(10), "k-future");
    future.data.idempotency_key = Some(format!(
        "schedule:{s}:{}",
        (Utc::now() + TimeDelta::hours(1)).format("%Y-%m-%dT%H:%M:%S.000Z")
    ));
    let mut retargeted = scheduled(&s, &job, Some(10), "k-targets");
    retargeted.data.targets = Some(opsc_proto::commands::TargetSelection {
        tags: vec!["elsewhere".into()],
        ..Default::default()
    });
    let mut reparametered = scheduled(&s, &job, Some(10), "k-params");
    reparametered
        .data
        .parameters
        .insert("who".into(), json!("mallory"));
    for intent in [
        scheduled(&s, &job, None, "k-nofence"),
        scheduled(&s, &job, Some(5), "k-deposed"),
        scheduled(&s, &job, Some(10), "k-current"),
        scheduled(&s, &job, Some(12), "k-newer"),
        // Admitted before under a term that has passed: its run, no letter.
        scheduled(&s, &job, Some(3), "k-nolease"),
        scheduled(&Uuid::now_v7().to_string(), &job, Some(10), "k-ghost"),
        scheduled(&t, &job, Some(10), "k-wrong-job"),
        scheduled(&gone, &job, Some(10), "k-deleted"),
        future,
        retargeted,
        reparametered,
    ] {
        bus.publish(&intent).await.unwrap();
    }
    let letters = dead_letters(bus, 9).await;
    wait_until("the admitted runs", Duration::from_secs(30), || async {
        runs().await == 2
    })
    .await;
    let reason = |key: &str| {
        letter(&letters, key, |l| l.payload.contains(&at(key)))
            .reason
            .clone()
    };
    assert!(
        reason("k-newer").contains("fence 12 is newer than the current term 10"),
        "{letters:?}"
    );
    assert!(
        letters
            .iter()
            .any(|l| l.reason.contains("has not come yet")),
        "a future fire's key is refused: {letters:?}"
    );
    assert!(
        reason("k-targets").contains("the targets are not those"),
        "{letters:?}"
    );
    assert!(
        reason("k-params").contains("the parameters are not those"),
        "{letters:?}"
    );
    assert!(
        reason("k-nofence").contains("must carry fence"),
        "{letters:?}"
    );
    assert!(
        reason("k-deposed")
            .contains("deposed scheduler leader: fence 5 is older than the current term 10"),
        "{letters:?}"
    );
    assert!(
        reason("k-ghost").contains("unknown schedule"),
        "{letters:?}"
    );
    assert!(
        reason("k-wrong-job").contains(&format!("runs job {other_job}")),
        "{letters:?}"
    );
    assert!(
        reason("k-deleted").contains(&format!("unknown schedule {gone}")),
        "{letters:?}"
    );
    assert!(!more_dead_letters_than(bus, 9).await, "{letters:?}");
    assert_eq!(runs().await, 2, "k-nolease, k-current");
    api.stop().await;
}
