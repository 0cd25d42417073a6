//! `ScheduleDoc.addresses`: the targets and groups a schedule's runs
//! address, for windows scoped to groups or targets; recomputed by the
//! reconcile when the inventory changes.

use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::schedule::{Addresses, ScheduleDoc};
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::runs::target;
use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

async fn addresses(store: &kv::Store, id: &str) -> Option<Addresses> {
    let raw = store.get(format!("schedule.{id}")).await.unwrap()?;
    Some(
        serde_json::from_slice::<ScheduleDoc>(&raw)
            .unwrap()
            .addresses,
    )
}

fn ids(v: &[&str]) -> Vec<Uuid> {
    let mut out: Vec<Uuid> = v.iter().map(|s| s.parse().unwrap()).collect();
    out.sort();
    out
}

#[tokio::test]
async fn schedule_documents_list_the_targets_and_groups_their_runs_address() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let a = target(&api, &admin, "db-a").await;
    let b = target(&api, &admin, "db-b").await;
    let c = target(&api, &admin, "db-c").await;
    let (s, g) = api
        .call(
            Method::POST,
            "/api/v1/target-groups",
            Some(&admin),
            Some(json!({"name": "db", "members": [b]})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let group = g["id"].as_str().unwrap().to_owned();
    // The job's default targets, and a step of its own on another target.
    let job = create_job(&api, &admin, json!({"name": "backup",
        "targets": {"targets": [a, b]},
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 0}},
                  {"id": "x", "type": "wait", "with": {"seconds": 0}, "targets": {"targets": [c]}}]}))
    .await;
    let (s, sched) = api
        .call(
            Method::POST,
            "/api/v1/schedules",
            Some(&admin),
            Some(json!({"name": "nightly", "job_id": job, "cron": "0 3 * * *"})),
        )
        .await;
    assert_eq!(s, 201, "{sched}");
    let sid = sched["id"].as_str().unwrap().to_owned();
    let (s, over) = api
        .call(
            Method::POST,
            "/api/v1/schedules",
            Some(&admin),
            Some(
                json!({"name": "only-group", "job_id": job, "cron": "0 4 * * *",
                          "targets": {"groups": [group]}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{over}");
    let oid = over["id"].as_str().unwrap().to_owned();

    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("schedules").await.unwrap();
    let got = addresses(&store, &sid).await.expect("mirrored");
    assert_eq!(got.targets, ids(&[&a, &b, &c]));
    assert_eq!(got.groups, ids(&[&group]), "db-b's group");
    let got = addresses(&store, &oid).await.expect("mirrored");
    assert_eq!(
        (got.targets, got.groups),
        (ids(&[&b]), ids(&[&group])),
        "the override only"
    );

    // Membership changes reach the documents through the reconcile.
    let (s, g) = api
        .call(
            Method::PUT,
            &format!("/api/v1/target-groups/{group}"),
            Some(&admin),
            Some(json!({"name": "db", "members": [c]})),
        )
        .await;
    assert_eq!(s, 200, "{g}");
    wait_until("the reconcile", Duration::from_secs(45), || {
        let (store, oid) = (store.clone(), oid.clone());
        let want = ids(&[&c]);
        async move {
            addresses(&store, &oid)
                .await
                .is_some_and(|got| got.targets == want)
        }
    })
    .await;
    let got = addresses(&store, &sid).await.unwrap();
    assert_eq!(
        (got.targets, got.groups),
        (ids(&[&a, &b, &c]), ids(&[&group]))
    );
}
