//! Jobs and runs through the api: create, run, wait for the end, read steps.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::ApiServer;

/// Creates a job; its id.
pub async fn create_job(api: &ApiServer, token: &str, def: Value) -> String {
    let (s, b) = api
        .call(Method::POST, "/api/v1/jobs", Some(token), Some(def))
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

/// Runs a job (expects 202); the run id.
pub async fn run_job(api: &ApiServer, token: &str, job: &str, body: Value) -> String {
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{job}/run"),
            Some(token),
            Some(body),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    b["run_id"].as_str().unwrap().to_owned()
}

/// Waits up to 60 s for the run to end; the run.
pub async fn wait_end(api: &ApiServer, token: &str, run: &str) -> Value {
    wait_end_within(api, token, run, Duration::from_secs(60)).await
}

/// Waits up to `within` for the run to end; the run.
pub async fn wait_end_within(api: &ApiServer, token: &str, run: &str, within: Duration) -> Value {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let (_, r) = api
            .call(
                Method::GET,
                &format!("/api/v1/runs/{run}"),
                Some(token),
                None,
            )
            .await;
        let status = r["status"].as_str().unwrap_or_default().to_owned();
        if !["waiting", "queued", "running", ""].contains(&status.as_str()) {
            return r;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "run {run} did not end: {r}\n{}",
            api.process.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The run's steps (after a moment for the recorder).
pub async fn steps(api: &ApiServer, token: &str, run: &str) -> Vec<Value> {
    // The recorder may trail the end by a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (s, b) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/steps"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(s, 200, "{b}");
    b["items"].as_array().unwrap().clone()
}

/// One step of `items` by id and target.
pub fn step<'a>(items: &'a [Value], id: &str, target: Option<&str>) -> &'a Value {
    items
        .iter()
        .find(|s| s["step_id"] == id && target.is_none_or(|t| s["target_id"] == t))
        .unwrap_or_else(|| panic!("no step {id} on {target:?} in {items:?}"))
}
