//! What an open maintenance window does to runs.

use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, TargetSelection, Trigger, TriggerKind};
use reqwest::Method;
use serde_json::{Value, json};

use super::{BASE, always};
use crate::harness::runs::{create_job, steps};
use crate::harness::{ApiServer, shared_nats_url, test_bus, wait_until};

/// An HTTP target nothing listens behind (runs here are only admitted).
pub(super) async fn target(api: &ApiServer, token: &str, name: &str) -> String {
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(token),
            Some(json!({
            "name": name, "hostname": "127.0.0.1", "os_type": "other",
            "http": {"base_url": "http://127.0.0.1:9/"}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

async fn run(api: &ApiServer, token: &str, job: &str, body: Value) -> (u16, Value) {
    api.call(
        Method::POST,
        &format!("/api/v1/jobs/{job}/run"),
        Some(token),
        Some(body),
    )
    .await
}

#[tokio::test]
async fn a_manual_run_inside_a_window_needs_an_audited_override() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "otto", "operator", "operator-password-1")
        .await;
    let operator = api.login("otto", "operator-password-1").await.0;
    api.user(&admin, "vic", "viewer", "viewer-password-1").await;
    let viewer = api.login("vic", "viewer-password-1").await.0;
    let job = create_job(
        &api,
        &operator,
        json!({"name": "tidy",
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 0}}]}),
    )
    .await;
    let (s, _) = run(&api, &operator, &job, json!({})).await;
    assert_eq!(s, 202, "no window yet");

    let (s, w) = api
        .call(
            Method::POST,
            BASE,
            Some(&admin),
            Some(always("freeze", &json!({"global": true}))),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let window = w["id"].as_str().unwrap().to_owned();

    let (_, before) = api
        .call(Method::GET, "/api/v1/runs", Some(&admin), None)
        .await;
    let (s, b) = run(&api, &operator, &job, json!({})).await;
    assert_eq!(s, 409, "{b}");
    let detail = b["detail"].as_str().unwrap();
    assert!(detail.contains("freeze") && detail.contains(&window), "{b}");
    let (_, after) = api
        .call(Method::GET, "/api/v1/runs", Some(&admin), None)
        .await;
    assert_eq!(
        before["total"], after["total"],
        "a refused run leaves nothing"
    );

    let (s, _) = run(&api, &viewer, &job, json!({"override_window": true})).await;
    assert_eq!(s, 403, "viewers may not run, nor override");

    let (s, b) = run(&api, &operator, &job, json!({"override_window": true})).await;
    assert_eq!(s, 202, "{b}");
    let run_id = b["run_id"].as_str().unwrap().to_owned();
    let q = "/api/v1/audit?action=run.window_override";
    wait_until(
        "the override's audit record",
        Duration::from_secs(10),
        || async {
            let (_, a) = api.call(Method::GET, q, Some(&admin), None).await;
            a["items"].as_array().is_some_and(|items| {
                items.iter().any(|i| {
                    i["entity_id"] == json!(run_id)
                        && i["summary"]["window_ids"] == json!([window])
                        && i["actor_id"].is_string()
                })
            })
        },
    )
    .await;

    // A re-run is a person's run too.
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run_id}/rerun"),
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/runs/{run_id}/rerun"),
            Some(&operator),
            Some(json!({"override_window": true})),
        )
        .await;
    assert_eq!(s, 202, "{b}");

    // Disabled, the window applies to nothing.
    let (s, _) = api
        .call(
            Method::PATCH,
            &format!("{BASE}/{window}"),
            Some(&admin),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, b) = run(&api, &operator, &job, json!({})).await;
    assert_eq!(s, 202, "{b}");
}

fn intent(job: &str) -> RunIntent {
    let mut trigger = Trigger::new(TriggerKind::Integration, "ci");
    trigger.origin = Some("integration:e2e".to_owned());
    RunIntent {
        job_id: Some(job.parse().unwrap()),
        job_name: None,
        job_version: None,
        parameters: Default::default(),
        sealed_parameters: None,
        targets: None,
        trigger,
        idempotency_key: Some(format!("windows-{}", uuid::Uuid::now_v7())),
        fence: None,
        retry_of: None,
        parameters_from: None,
    }
}

#[tokio::test]
async fn targets_inside_a_group_window_are_left_out_of_bus_runs() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let a = target(&api, &admin, "web-a").await;
    let b = target(&api, &admin, "web-b").await;
    let (s, g) = api
        .call(
            Method::POST,
            "/api/v1/target-groups",
            Some(&admin),
            Some(json!({"name": "dmz", "members": [b]})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let group = g["id"].as_str().unwrap().to_owned();
    let job = create_job(
        &api,
        &admin,
        json!({"name": "probe",
        "targets": {"targets": [a, b]},
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 0}}]}),
    )
    .await;
    let (s, w) = api
        .call(
            Method::POST,
            BASE,
            Some(&admin),
            Some(always("dmz-freeze", &json!({"groups": [group]}))),
        )
        .await;
    assert_eq!(s, 201, "{w}");
    let window = w["id"].as_str().unwrap().to_owned();

    // A person is refused: one of the run's targets is covered.
    let (s, body) = run(&api, &admin, &job, json!({})).await;
    assert_eq!(s, 409, "{body}");

    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    rt.bus
        .publish(&CloudEvent::new("/e2e", intent(&job)))
        .await
        .unwrap();
    let list = format!("/api/v1/runs?job_id={job}&trigger=integration");
    wait_until("the intent's run", Duration::from_secs(15), || async {
        let (_, r) = api.call(Method::GET, &list, Some(&admin), None).await;
        r["total"].as_u64() == Some(1)
    })
    .await;
    let (_, r) = api.call(Method::GET, &list, Some(&admin), None).await;
    let found = r["items"][0].clone();
    assert_eq!(found["target_ids"], json!([a]), "web-b left out: {found}");
    let run_id = found["id"].as_str().unwrap();
    let items = steps(&api, &admin, run_id).await;
    let left_out = items
        .iter()
        .find(|s| s["step_id"] == json!("@window"))
        .unwrap_or_else(|| panic!("a @window entry: {items:?}"));
    assert_eq!(
        (left_out["target_id"].clone(), left_out["status"].clone()),
        (json!(b), json!("skipped"))
    );
    assert!(
        left_out["error"].as_str().unwrap().contains(&window),
        "{left_out}"
    );

    // With `include`, the target stays.
    let (s, _) = api
        .call(
            Method::PATCH,
            &format!("{BASE}/{window}"),
            Some(&admin),
            Some(json!({"target_policy": "include"})),
        )
        .await;
    assert_eq!(s, 200);
    let mut with_target = intent(&job);
    with_target.targets = Some(TargetSelection {
        targets: vec![b.parse().unwrap()],
        ..Default::default()
    });
    rt.bus
        .publish(&CloudEvent::new("/e2e", with_target))
        .await
        .unwrap();
    wait_until("a run on web-b", Duration::from_secs(15), || async {
        let (_, r) = api
            .call(
                Method::GET,
                &format!("/api/v1/runs?job_id={job}&target_id={b}"),
                Some(&admin),
                None,
            )
            .await;
        r["total"].as_u64() == Some(1)
    })
    .await;
}
