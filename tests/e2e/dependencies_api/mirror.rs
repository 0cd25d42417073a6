//! The KV mirror's reconcile: `dependency.*` keys repaired, and left
//! alone by the schedules' reconcile, which shares the bucket.

use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::schedule::DependencyOn;
use reqwest::Method;
use serde_json::json;
use uuid::Uuid;

use super::{call, create, doc, downstream_def, link, upstream_def};
use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

#[tokio::test]
async fn the_reconcile_restores_dependency_keys_and_the_schedules_reconcile_keeps_them() {
    let mut api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let a = create_job(&api, &admin, upstream_def("nightly-a")).await;
    let b = create_job(&api, &admin, downstream_def("nightly-b")).await;
    let c = create_job(&api, &admin, downstream_def("nightly-c")).await;
    let (s, v) = call(
        &api,
        Method::POST,
        "/api/v1/schedules",
        &admin,
        Some(json!({"name": "nightly", "job_id": a, "cron": "0 3 * * *"})),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let schedule = v["id"].as_str().unwrap().to_owned();
    let kept = create(&api, &admin, link(&a, &b)).await;
    let lost = create(&api, &admin, link(&a, &c)).await;
    let stale = create(&api, &admin, link(&b, &c)).await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("schedules").await.unwrap();
    store.delete(format!("dependency.{lost}")).await.unwrap();
    let mut old = doc(&store, &stale).await.unwrap();
    old.revision = 99;
    old.on = DependencyOn::Any;
    store
        .put(
            format!("dependency.{stale}"),
            serde_json::to_vec(&old).unwrap().into(),
        )
        .await
        .unwrap();
    let stray = format!("dependency.{}", Uuid::now_v7());
    store.put(stray.as_str(), "{}".into()).await.unwrap();

    // A restart reconciles both mirrors at once.
    api.restart(&[]).await;
    wait_until("the reconcile", Duration::from_secs(40), || {
        let (store, lost, stale, stray) =
            (store.clone(), lost.clone(), stale.clone(), stray.clone());
        async move {
            doc(&store, &lost).await.is_some_and(|d| d.revision == 1)
                && doc(&store, &stale)
                    .await
                    .is_some_and(|d| d.revision == 1 && d.on == DependencyOn::Success)
                && store.get(stray.as_str()).await.unwrap().is_none()
        }
    })
    .await;
    // The schedules' reconcile leaves every dependency key alone: not even
    // deleted and put back (the stream sequence of each key stays).
    let mut seqs = Vec::new();
    for id in [&kept, &lost, &stale] {
        seqs.push(
            store
                .entry(format!("dependency.{id}"))
                .await
                .unwrap()
                .unwrap()
                .revision,
        );
    }
    store.delete(format!("schedule.{schedule}")).await.unwrap();
    api.restart(&[]).await;
    let probe = store.clone();
    wait_until(
        "the schedule restored",
        Duration::from_secs(40),
        move || {
            let (store, schedule) = (probe.clone(), schedule.clone());
            async move {
                store
                    .get(format!("schedule.{schedule}"))
                    .await
                    .unwrap()
                    .is_some()
            }
        },
    )
    .await;
    for (id, seq) in [&kept, &lost, &stale].into_iter().zip(seqs) {
        let entry = store
            .entry(format!("dependency.{id}"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (entry.revision, entry.operation),
            (seq, kv::Operation::Put),
            "dependency.{id}"
        );
    }
    api.stop().await;
}
