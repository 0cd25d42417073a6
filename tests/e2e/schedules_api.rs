//! The api side of the scheduler, against real NATS and PostgreSQL:
//! schedules over HTTP (validation, permissions, secrets), their KV mirror
//! and its reconcile, previews across a daylight-saving change, the
//! scheduler-wide pause and status, the recorder of schedule events, and
//! the admission fence of schedule intents.

mod fence;
mod permissions;
mod previews;
mod scheduler;
mod validation;

use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::schedule::{GapPolicy, ScheduleDoc, SchedulerControl};
use opsc_runtime::keys::{IntakeKey, MasterKey};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::runs::create_job;
use crate::harness::{ApiServer, TEST_MASTER_KEY, shared_nats_url, test_bus, wait_until};

const PASSWORD: &str = "schedules-pass-for-tests-1";

fn job_def(name: &str) -> Value {
    json!({"name": name,
           "parameters": {"who": {"type": "string", "required": true}, "token": {"type": "secret"}},
           "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]})
}

fn body(job: &str, name: &str) -> Value {
    json!({"name": name, "job_id": job, "cron": "0 3 * * *", "time_zone": "Europe/Berlin",
           "parameters": {"who": "nightly"}})
}

async fn call(
    api: &ApiServer,
    m: Method,
    path: &str,
    token: &str,
    b: Option<Value>,
) -> (u16, Value) {
    api.call(m, path, Some(token), b).await
}

async fn post(api: &ApiServer, token: &str, b: Value) -> (u16, Value) {
    call(api, Method::POST, "/api/v1/schedules", token, Some(b)).await
}

async fn create(api: &ApiServer, token: &str, b: Value) -> String {
    let (s, v) = post(api, token, b).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

fn paths(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn doc(store: &kv::Store, id: &str) -> Option<ScheduleDoc> {
    let raw = store.get(format!("schedule.{id}")).await.unwrap()?;
    Some(serde_json::from_slice(&raw).unwrap())
}

fn intake() -> IntakeKey {
    IntakeKey::derive(&MasterKey::from_base64(TEST_MASTER_KEY).unwrap())
}

#[tokio::test]
async fn schedules_round_trip_keep_secrets_sealed_and_are_mirrored() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, job_def("nightly-report")).await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("schedules").await.unwrap();
    let canary = "schedule-secret-canary-7f3a";
    let mut b = body(&job, "nightly");
    b["parameters"]["token"] = json!(canary);
    b["misfire"] = json!({"mode": "run_all", "max_count": 3});
    b["dst"] = json!({"gap": "skip"});
    let (s, created) = post(&api, &admin, b).await;
    assert_eq!(s, 201, "{created}");
    assert!(!created.to_string().contains(canary), "{created}");
    assert_eq!(created["secret_parameters"], json!(["token"]));
    assert_eq!(created["parameters"], json!({"who": "nightly"}));
    assert_eq!(
        (created["revision"].clone(), created["enabled"].clone()),
        (json!(1), json!(true))
    );
    assert_eq!(
        created["misfire"],
        json!({"mode": "run_all", "max_age_secs": 3600, "max_count": 3, "stagger_ms": 1000})
    );
    let local = created["next_fire_local"].as_str().unwrap();
    assert!(local.contains("T03:00:00+01:00"), "{created}");
    assert!(
        created["next_fire_at"]
            .as_str()
            .unwrap()
            .contains("T02:00:00"),
        "{created}"
    );
    let id = created["id"].as_str().unwrap().to_owned();

    // Mirrored at once, the secret sealed for the api's intake and bound to
    // the schedule's job.
    let raw = store
        .get(format!("schedule.{id}"))
        .await
        .unwrap()
        .expect("mirrored");
    assert!(!String::from_utf8_lossy(&raw).contains(canary));
    let d: ScheduleDoc = serde_json::from_slice(&raw).unwrap();
    assert_eq!(
        (d.revision, d.job_id.to_string(), d.dst.gap),
        (1, job.clone(), GapPolicy::Skip)
    );
    assert_eq!(d.parameters.get("who"), Some(&json!("nightly")));
    let sealed = d.sealed_parameters.clone().unwrap();
    let opened = intake()
        .open(&sealed, &format!("run-intent/schedule:{id}/job:{job}"))
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&opened).unwrap(),
        json!({"token": canary})
    );
    assert!(
        intake()
            .open(
                &sealed,
                &format!("run-intent/schedule:{id}/job:{}", Uuid::now_v7())
            )
            .is_err()
    );
    // Bound to the schedule: it opens neither for another intent of the job
    // (an integration) nor for another schedule of it.
    assert!(
        intake()
            .open(&sealed, &format!("run-intent/job:{job}"))
            .is_err()
    );
    assert!(
        intake()
            .open(
                &sealed,
                &format!("run-intent/schedule:{}/job:{job}", Uuid::now_v7())
            )
            .is_err()
    );

    let at = format!("/api/v1/schedules/{id}");
    let (s, got) = call(&api, Method::GET, &at, &admin, None).await;
    assert_eq!((s, got["name"].clone()), (200, json!("nightly")), "{got}");
    for (query, total) in [
        (format!("job_id={job}"), 1),
        ("enabled=false".into(), 0),
        (format!("job_id={}", Uuid::now_v7()), 0),
    ] {
        let (_, page) = call(
            &api,
            Method::GET,
            &format!("/api/v1/schedules?{query}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(page["total"], total, "{query}: {page}");
    }

    // PATCH merges: one revision up, the secret kept, the document follows.
    let (s, v) = call(
        &api,
        Method::PATCH,
        &at,
        &admin,
        Some(json!({"description": "changed", "enabled": false})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["revision"].clone(),
            v["description"].clone(),
            v["cron"].clone()
        ),
        (json!(2), json!("changed"), json!("0 3 * * *"))
    );
    assert_eq!(
        (v["secret_parameters"].clone(), v["next_fire_at"].clone()),
        (json!(["token"]), Value::Null)
    );
    let d = doc(&store, &id).await.unwrap();
    assert_eq!((d.revision, d.enabled), (2, false));
    assert!(
        intake()
            .open(
                d.sealed_parameters.as_deref().unwrap(),
                &format!("run-intent/schedule:{id}/job:{job}")
            )
            .is_ok()
    );
    // Given parameters replace every parameter, secret ones too.
    let (_, v) = call(
        &api,
        Method::PATCH,
        &at,
        &admin,
        Some(json!({"parameters": {"who": "x"}})),
    )
    .await;
    assert_eq!(
        (v["revision"].clone(), v["secret_parameters"].clone()),
        (json!(3), json!([])),
        "{v}"
    );
    assert_eq!(doc(&store, &id).await.unwrap().sealed_parameters, None);
    // PUT replaces the whole schedule (the job by name this time).
    let (s, v) = call(&api, Method::PUT, &at, &admin, Some(json!({"name": "nightly", "job_name": "nightly-report", "cron": "@hourly", "parameters": {"who": "y"}}))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["revision"].clone(),
            v["description"].clone(),
            v["time_zone"].clone(),
            v["enabled"].clone()
        ),
        (json!(4), json!(""), json!("UTC"), json!(true))
    );
    assert_eq!(doc(&store, &id).await.unwrap().cron, "@hourly");

    // The secret is in no response, audit record, log line or column.
    let (_, audit) = call(
        &api,
        Method::GET,
        "/api/v1/audit?entity_type=schedule",
        &admin,
        None,
    )
    .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "schedule.update").count(),
        3,
        "{audit}"
    );
    assert!(actions.contains(&"schedule.create"), "{audit}");
    assert!(!audit.to_string().contains(canary));
    assert!(!api.process.output().contains(canary));
    assert!(!api.db.as_ref().unwrap().dump_text().await.contains(canary));

    // DELETE: the row, the key.
    let (s, _) = call(&api, Method::DELETE, &at, &admin, None).await;
    assert_eq!(s, 204);
    assert!(doc(&store, &id).await.is_none());
    assert_eq!(call(&api, Method::GET, &at, &admin, None).await.0, 404);
    api.stop().await;
}

#[tokio::test]
async fn the_reconcile_restores_what_was_changed_by_hand() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, job_def("reconciled")).await;
    let a = create(&api, &admin, body(&job, "a")).await;
    let b = create(&api, &admin, body(&job, "b")).await;
    let (s, v) = call(&api, Method::POST, "/api/v1/scheduler/pause", &admin, None).await;
    assert_eq!(s, 200, "{v}");
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("schedules").await.unwrap();
    store.delete(format!("schedule.{a}")).await.unwrap();
    let mut stale = doc(&store, &b).await.unwrap();
    stale.revision = 99;
    stale.cron = "* * * * *".into();
    store
        .put(
            format!("schedule.{b}"),
            serde_json::to_vec(&stale).unwrap().into(),
        )
        .await
        .unwrap();
    let stray = format!("schedule.{}", Uuid::now_v7());
    store.put(stray.as_str(), "{}".into()).await.unwrap();
    store.delete("control.global").await.unwrap();

    wait_until("the reconcile", Duration::from_secs(45), || {
        let (store, a, b, stray) = (store.clone(), a.clone(), b.clone(), stray.clone());
        async move {
            let control = store.get("control.global").await.unwrap();
            let control: Option<SchedulerControl> =
                control.and_then(|c| serde_json::from_slice(&c).ok());
            doc(&store, &a).await.is_some_and(|d| d.revision == 1)
                && doc(&store, &b)
                    .await
                    .is_some_and(|d| d.revision == 1 && d.cron == "0 3 * * *")
                && store.get(stray.as_str()).await.unwrap().is_none()
                && control.is_some_and(|c| c.paused)
        }
    })
    .await;
    api.stop().await;
}
