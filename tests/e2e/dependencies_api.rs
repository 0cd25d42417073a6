//! Dependencies between jobs over HTTP, against real NATS and PostgreSQL:
//! the round trip, the KV mirror (`dependency.<id>` in `<p>_schedules`)
//! and its reconcile next to the schedules', validation (located, nothing
//! stored), cycles (also between concurrent requests), and who may.

mod mirror;
mod permissions;
mod validation;

use async_nats::jetstream::kv;
use opsc_proto::schedule::{DependencyDoc, DependencyOn};
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus};

const PASSWORD: &str = "dependencies-pass-for-tests-1";

/// Job A: a parameter, a secret one, a step.
fn upstream_def(name: &str) -> Value {
    json!({"name": name,
           "parameters": {"svc": {"type": "string"}, "token": {"type": "secret"}},
           "steps": [{"id": "check", "type": "wait", "with": {"seconds": 1}}]})
}

/// Job B: parameters of each kind a mapping fills.
fn downstream_def(name: &str) -> Value {
    json!({"name": name,
           "parameters": {"svc": {"type": "string", "required": true},
                          "code": {"type": "int"}, "note": {"type": "string"},
                          "tok": {"type": "secret"}},
           "steps": [{"id": "go", "type": "wait", "with": {"seconds": 1}}]})
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
    call(api, Method::POST, "/api/v1/dependencies", token, Some(b)).await
}

async fn create(api: &ApiServer, token: &str, b: Value) -> String {
    let (s, v) = post(api, token, b).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_owned()
}

fn link(up: &str, down: &str) -> Value {
    json!({"upstream_job_id": up, "downstream_job_id": down, "parameters": {"svc": "params.svc"}})
}

async fn total(api: &ApiServer, token: &str) -> u64 {
    let (s, v) = call(api, Method::GET, "/api/v1/dependencies", token, None).await;
    assert_eq!(s, 200, "{v}");
    v["total"].as_u64().unwrap()
}

async fn doc(store: &kv::Store, id: &str) -> Option<DependencyDoc> {
    let raw = store.get(format!("dependency.{id}")).await.unwrap()?;
    Some(serde_json::from_slice(&raw).unwrap())
}

#[tokio::test]
async fn dependencies_round_trip_and_are_mirrored() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let a = create_job(&api, &admin, upstream_def("build")).await;
    let b = create_job(&api, &admin, downstream_def("deploy")).await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("schedules").await.unwrap();

    // By name, with the four source forms.
    let map = json!({"svc": "params.svc", "code": "steps.check.exit_code",
                     "note": "steps.check.json.result.name", "tok": "params.token"});
    let (s, v) = post(
        &api,
        &admin,
        json!({"upstream_job_name": "build", "downstream_job_name": "deploy",
        "on": "failure", "within_secs": 600, "parameters": map, "description": "after builds"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    assert_eq!(
        (
            v["upstream_job_id"].clone(),
            v["downstream_job_id"].clone(),
            v["downstream_job_name"].clone()
        ),
        (json!(a), json!(b), json!("deploy"))
    );
    assert_eq!(
        (
            v["on"].clone(),
            v["within_secs"].clone(),
            v["revision"].clone()
        ),
        (json!("failure"), json!(600), json!(1))
    );
    assert_eq!(
        (v["parameters"].clone(), v["enabled"].clone()),
        (map.clone(), json!(true))
    );
    let d = doc(&store, &id).await.expect("mirrored at once");
    assert_eq!(
        (d.revision, d.on, d.within_secs, d.enabled),
        (1, DependencyOn::Failure, Some(600), true)
    );
    assert_eq!(
        (
            d.upstream_job_id.to_string(),
            d.downstream_job_id.to_string()
        ),
        (a.clone(), b.clone())
    );
    assert_eq!(serde_json::to_value(&d.parameters).unwrap(), map);

    // Reading: one, the lists and their filters, a job's two sides.
    let at = format!("/api/v1/dependencies/{id}");
    assert_eq!(
        call(&api, Method::GET, &at, &admin, None).await.1["description"],
        "after builds"
    );
    for (query, n) in [
        (format!("upstream_job_id={a}"), 1),
        (format!("downstream_job_id={b}"), 1),
        (format!("upstream_job_id={b}"), 0),
        (format!("downstream_job_id={}", Uuid::now_v7()), 0),
    ] {
        let (_, page) = call(
            &api,
            Method::GET,
            &format!("/api/v1/dependencies?{query}"),
            &admin,
            None,
        )
        .await;
        assert_eq!(page["total"], n, "{query}: {page}");
    }
    let (_, sides) = call(
        &api,
        Method::GET,
        &format!("/api/v1/jobs/{b}/dependencies"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (
            sides["upstream"][0]["id"].clone(),
            sides["downstream"].clone()
        ),
        (json!(id), json!([])),
        "{sides}"
    );
    let (_, sides) = call(
        &api,
        Method::GET,
        &format!("/api/v1/jobs/{a}/dependencies"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        (
            sides["upstream"].clone(),
            sides["downstream"][0]["id"].clone()
        ),
        (json!([]), json!(id)),
        "{sides}"
    );
    let unknown = format!("/api/v1/jobs/{}/dependencies", Uuid::now_v7());
    assert_eq!(call(&api, Method::GET, &unknown, &admin, None).await.0, 404);

    // PATCH merges, one revision up, and the document follows.
    let (s, v) = call(
        &api,
        Method::PATCH,
        &at,
        &admin,
        Some(json!({"enabled": false, "within_secs": null})),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["revision"].clone(),
            v["within_secs"].clone(),
            v["on"].clone(),
            v["parameters"].clone()
        ),
        (json!(2), Value::Null, json!("failure"), map.clone())
    );
    let d = doc(&store, &id).await.unwrap();
    assert_eq!((d.revision, d.enabled, d.within_secs), (2, false, None));
    // PUT replaces: what it omits is reset.
    let (s, v) = call(&api, Method::PUT, &at, &admin, Some(link(&a, &b))).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (
            v["revision"].clone(),
            v["on"].clone(),
            v["enabled"].clone(),
            v["description"].clone()
        ),
        (json!(3), json!("success"), json!(true), json!(""))
    );
    assert_eq!(doc(&store, &id).await.unwrap().parameters.len(), 1);

    // Audited.
    let (_, audit) = call(
        &api,
        Method::GET,
        "/api/v1/audit?entity_type=dependency",
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
        actions
            .iter()
            .filter(|x| **x == "dependency.update")
            .count(),
        2,
        "{audit}"
    );
    assert!(actions.contains(&"dependency.create"), "{audit}");

    // DELETE: the row, the key.
    assert_eq!(call(&api, Method::DELETE, &at, &admin, None).await.0, 204);
    assert!(doc(&store, &id).await.is_none());
    assert_eq!(call(&api, Method::GET, &at, &admin, None).await.0, 404);
    assert_eq!(call(&api, Method::DELETE, &at, &admin, None).await.0, 404);
    let (_, audit) = call(
        &api,
        Method::GET,
        "/api/v1/audit?entity_type=dependency&action=dependency.delete",
        &admin,
        None,
    )
    .await;
    assert!(audit.to_string().contains("dependency.delete"), "{audit}");
    api.stop().await;
}
