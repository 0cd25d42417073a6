//! The operator-as-attacker and viewer checks of concurrency limits.

use reqwest::Method;
use serde_json::json;

use super::{PASSWORD, intent, job, runs_of, wait_runs};
use crate::harness::runs::{create_job, run_job, wait_end};
use crate::harness::{ApiServer, test_bus};

#[tokio::test]
async fn neither_an_operator_nor_a_viewer_gets_around_the_limit() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    api.user(&admin, "otto", "operator", PASSWORD).await;
    api.user(&admin, "vera", "viewer", PASSWORD).await;
    let operator = api.login("otto", PASSWORD).await.0;
    let viewer = api.login("vera", PASSWORD).await.0;
    // Version 1 has no limit; the operator may run the job.
    let v1 = json!({"name": "guarded",
        "steps": [{"id": "work", "type": "local.exec", "with": {"command": "sleep 3"}}]});
    let id = create_job(&api, &admin, v1).await;
    let path = format!("/api/v1/jobs/{id}");
    let grants = json!({"grants": [{"kind": "user", "username": "otto", "access": "run"}]});
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("{path}/grants"),
            Some(&admin),
            Some(grants),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let old = run_job(&api, &operator, &id, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &old).await["status"], "succeeded");
    let v2 = job("guarded", 1, "skip", "sleep 3");
    let (s, b) = api.call(Method::PUT, &path, Some(&admin), Some(v2)).await;
    assert_eq!(s, 200, "{b}");
    let going = run_job(&api, &operator, &id, json!({})).await;

    // The API, a re-run of the version without a limit, and an intent
    // naming that version: all held to the current version's limit.
    let (s, b) = api
        .call(
            Method::POST,
            &format!("{path}/run"),
            Some(&operator),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let rerun = format!("/api/v1/runs/{old}/rerun");
    let (s, b) = api.call(Method::POST, &rerun, Some(&operator), None).await;
    assert_eq!(s, 409, "{b}");
    let rt = test_bus(&crate::harness::shared_nats_url(), &api.prefix).await;
    rt.bus
        .publish(&intent(&id, "old-version", Some(1)))
        .await
        .unwrap();
    let all = wait_runs(&api, &admin, &id, 3).await;
    assert_eq!(all[2]["status"], "skipped", "{:?}", all[2]);
    // Nor can they lift the limit; nor can anyone set it out of range.
    let lifted = job("guarded", 1000, "queue", "sleep 3");
    let (s, b) = api
        .call(Method::PUT, &path, Some(&operator), Some(lifted))
        .await;
    assert_eq!(s, 403, "{b}");
    let zero = job("guarded", 0, "queue", "sleep 3");
    let (s, b) = api.call(Method::PUT, &path, Some(&admin), Some(zero)).await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["path"], "/concurrency/max", "{b}");

    // A viewer learns nothing from trying: refused before the limit is
    // looked at.
    for p in [
        format!("{path}/run"),
        format!("/api/v1/runs/{going}/rerun"),
        format!("/api/v1/runs/{going}/cancel"),
    ] {
        let (s, b) = api
            .call(Method::POST, &p, Some(&viewer), Some(json!({})))
            .await;
        assert_eq!(s, 403, "{p}: {b}");
        assert!(!b.to_string().contains("concurrency"), "{p}: {b}");
    }
    assert_eq!(
        runs_of(&api, &admin, &id).await.len(),
        3,
        "nothing more was recorded"
    );
    assert_eq!(wait_end(&api, &admin, &going).await["status"], "succeeded");
}
