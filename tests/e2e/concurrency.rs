//! Concurrency limits per job through the real bus and a worker: `queue`
//! runs one after another in order, `skip` refuses (API) or skips (bus),
//! `cancel_previous` replaces the run going, a cancelled waiting run never
//! starts, a slot held by a run whose worker died frees once that run
//! ended, and nobody gets around the limit.

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use opsc_proto::CloudEvent;
use opsc_proto::commands::RunIntent;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, steps, wait_end};
use crate::harness::{ApiServer, test_bus, wait_until};

mod access;
mod crashes;
mod races;

pub(super) const PASSWORD: &str = "a-long-test-password-9";

pub(super) fn job(name: &str, max: u32, policy: &str, command: &str) -> Value {
    json!({
        "name": name,
        "concurrency": {"max": max, "policy": policy},
        "steps": [{"id": "work", "type": "local.exec", "with": {"command": command}}]
    })
}

/// A run intent of an integrator for `job`.
pub(super) fn intent(job: &str, key: &str, version: Option<u32>) -> CloudEvent<RunIntent> {
    let data: RunIntent = serde_json::from_value(json!({
        "job_id": job,
        "job_version": version,
        "trigger": {"kind": "integration", "actor": "ci", "origin": "integration:e2e"},
        "idempotency_key": key,
    }))
    .unwrap();
    CloudEvent::new("/e2e", data)
}

pub(super) async fn get(api: &ApiServer, token: &str, path: &str) -> Value {
    let (s, b) = api.call(Method::GET, path, Some(token), None).await;
    assert_eq!(s, 200, "{path}: {b}");
    b
}

/// The job's runs, oldest first.
pub(super) async fn runs_of(api: &ApiServer, token: &str, job: &str) -> Vec<Value> {
    let page = get(api, token, &format!("/api/v1/runs?job_id={job}&limit=100")).await;
    let mut items = page["items"].as_array().cloned().unwrap_or_default();
    items.sort_by_key(|r| r["created_at"].as_str().unwrap_or_default().to_owned());
    items
}

pub(super) async fn wait_runs(api: &ApiServer, token: &str, job: &str, n: usize) -> Vec<Value> {
    wait_until("the runs exist", Duration::from_secs(20), || async {
        runs_of(api, token, job).await.len() >= n
    })
    .await;
    runs_of(api, token, job).await
}

pub(super) async fn wait_status(api: &ApiServer, token: &str, run: &str, status: &str) -> Value {
    let path = format!("/api/v1/runs/{run}");
    wait_until(
        &format!("run {run} is {status}"),
        Duration::from_secs(60),
        || async { get(api, token, &path).await["status"] == status },
    )
    .await;
    get(api, token, &path).await
}

pub(super) fn time(run: &Value, field: &str) -> DateTime<Utc> {
    run[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} missing: {run}"))
        .parse()
        .unwrap()
}

/// Each run started after the one before it finished.
pub(super) fn one_after_another(ended: &[Value]) {
    for pair in ended.windows(2) {
        assert!(
            time(&pair[1], "started_at") >= time(&pair[0], "finished_at"),
            "two runs at once: {} and {}",
            pair[0],
            pair[1]
        );
    }
}

#[tokio::test]
async fn queue_runs_every_trigger_one_after_another_in_order() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let id = create_job(
        &api,
        &admin,
        job("queued", 1, "queue", "sleep 3; echo done"),
    )
    .await;
    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    let first = run_job(&api, &admin, &id, json!({})).await;
    rt.bus.publish(&intent(&id, "q-1", None)).await.unwrap();
    wait_runs(&api, &admin, &id, 2).await;
    rt.bus.publish(&intent(&id, "q-2", None)).await.unwrap();
    let all = wait_runs(&api, &admin, &id, 3).await;
    assert_eq!(all[0]["id"], first.as_str());
    let waiting: Vec<&Value> = all.iter().filter(|r| r["status"] == "waiting").collect();
    assert_eq!(waiting.len(), 2, "{all:?}");
    // Shown on the job and in the run list.
    let j = get(&api, &admin, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(
        j["concurrency"],
        json!({"max": 1, "policy": "queue", "running": 1, "waiting": 2}),
        "{j}"
    );
    let listed = get(
        &api,
        &admin,
        &format!("/api/v1/runs?job_id={id}&status=waiting"),
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "{listed}");

    let mut ended = Vec::new();
    for r in &all {
        let end = wait_end(&api, &admin, r["id"].as_str().unwrap()).await;
        assert_eq!(end["status"], "succeeded", "{end}");
        ended.push(end);
    }
    // In the order they were admitted, never two at once.
    one_after_another(&ended);
    let j = get(&api, &admin, &format!("/api/v1/jobs/{id}")).await;
    assert_eq!(j["concurrency"]["running"], 0, "{j}");
    assert_eq!(j["concurrency"]["waiting"], 0, "{j}");
}

#[tokio::test]
async fn skip_refuses_a_manual_run_and_records_a_bus_intent_as_skipped() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let id = create_job(&api, &admin, job("skipping", 1, "skip", "sleep 3")).await;
    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    let nats = async_nats::connect(crate::harness::shared_nats_url())
        .await
        .unwrap();
    let mut finished = nats
        .subscribe(rt.bus.subjects.run_events_of_type("finished"))
        .await
        .unwrap();
    let first = run_job(&api, &admin, &id, json!({})).await;
    wait_status(&api, &admin, &first, "running").await;

    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{id}/run"),
            Some(&admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    assert_eq!(b["errors"][0]["path"], "/concurrency/max", "{b}");
    assert_eq!(
        b["type"], "https://opsconductor.dev/problems/concurrency-limit",
        "{b}"
    );
    assert!(
        b["detail"].as_str().unwrap().contains("1 run(s) at once"),
        "{b}"
    );
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{first}/rerun"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 409, "a re-run is held to the limit too: {b}");
    assert_eq!(
        runs_of(&api, &admin, &id).await.len(),
        1,
        "a refusal records nothing"
    );

    rt.bus.publish(&intent(&id, "s-1", None)).await.unwrap();
    let all = wait_runs(&api, &admin, &id, 2).await;
    let skipped = &all[1];
    assert_eq!(skipped["status"], "skipped", "{skipped}");
    assert_eq!(skipped["reason"], "concurrency limit: 1 of 1 runs going");
    assert!(skipped["started_at"].is_null(), "{skipped}");
    // Its end was announced, for the scheduler and the notifier.
    let skipped_id = skipped["id"].as_str().unwrap().to_owned();
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(m) = finished.next().await {
            let e: Value = serde_json::from_slice(&m.payload).unwrap();
            if e["data"]["run_id"] == skipped_id.as_str() {
                return e;
            }
        }
        Value::Null
    })
    .await
    .unwrap();
    assert_eq!(announced["data"]["status"], "skipped", "{announced}");
    assert_eq!(announced["data"]["job_id"], id.as_str(), "{announced}");

    assert_eq!(wait_end(&api, &admin, &first).await["status"], "succeeded");
    // The slot is free again.
    let again = run_job(&api, &admin, &id, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &again).await["status"], "succeeded");
}

#[tokio::test]
async fn cancel_previous_cancels_the_run_going_and_the_new_one_succeeds() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let id = create_job(
        &api,
        &admin,
        job("latest", 1, "cancel_previous", "sleep 30"),
    )
    .await;
    let old = run_job(&api, &admin, &id, json!({})).await;
    wait_status(&api, &admin, &old, "running").await;
    // The new run replaces it: a short command this time.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/jobs/{id}"),
            Some(&admin),
            Some(job("latest", 1, "cancel_previous", "echo newest")),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let new = run_job(&api, &admin, &id, json!({})).await;
    let old_end = wait_end(&api, &admin, &old).await;
    assert_eq!(old_end["status"], "cancelled", "{old_end}");
    assert_eq!(
        old_end["reason"],
        "cancelled by a newer run (concurrency limit, cancel_previous)"
    );
    let new_end = wait_end(&api, &admin, &new).await;
    assert_eq!(new_end["status"], "succeeded", "{new_end}");
    one_after_another(&[old_end, new_end]);
}

#[tokio::test]
async fn a_waiting_run_cancelled_never_starts() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    api.user(&admin, "vera", "viewer", PASSWORD).await;
    let viewer = api.login("vera", PASSWORD).await.0;
    let id = create_job(&api, &admin, job("held", 1, "queue", "sleep 2")).await;
    let first = run_job(&api, &admin, &id, json!({})).await;
    let second = run_job(&api, &admin, &id, json!({})).await;
    let third = run_job(&api, &admin, &id, json!({})).await;
    assert_eq!(
        get(&api, &admin, &format!("/api/v1/runs/{second}")).await["status"],
        "waiting"
    );

    let cancel = format!("/api/v1/runs/{second}/cancel");
    let (s, b) = api.call(Method::POST, &cancel, Some(&viewer), None).await;
    assert_eq!(s, 403, "a viewer cannot cancel: {b}");
    let (s, b) = api.call(Method::POST, &cancel, Some(&admin), None).await;
    assert_eq!(s, 202, "{b}");
    assert_eq!(b["status"], "cancelled", "{b}");
    let (s, b) = api.call(Method::POST, &cancel, Some(&admin), None).await;
    assert_eq!(s, 409, "it has ended: {b}");

    assert_eq!(wait_end(&api, &admin, &first).await["status"], "succeeded");
    // The next waiting run takes the slot; the cancelled one is passed over.
    assert_eq!(wait_end(&api, &admin, &third).await["status"], "succeeded");
    // Longer than a sweep of waiting runs (5 s).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let r = get(&api, &admin, &format!("/api/v1/runs/{second}")).await;
    assert_eq!(r["status"], "cancelled", "{r}");
    assert!(r["started_at"].is_null(), "{r}");
    assert!(steps(&api, &admin, &second).await.is_empty());
}
