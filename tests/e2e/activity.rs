//! Every run's lifecycle as Server-Sent Events (`GET /api/v1/runs/activity`)
//! against a real api and worker: a viewer sees other users' runs accepted,
//! started and finished as they happen, and nothing of their steps; the
//! stream needs a token and takes one of the user's live-stream slots.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, wait_end};

/// The `(event, data)` of each SSE event of `res` until `done` says so,
/// failing after 30 s.
async fn events_until(
    mut res: reqwest::Response,
    mut done: impl FnMut(&[(String, Value)]) -> bool,
) -> Vec<(String, Value)> {
    let mut buffer = String::new();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !done(&seen) {
        let chunk = tokio::time::timeout_at(deadline, res.chunk())
            .await
            .unwrap_or_else(|_| panic!("the stream stalled; so far: {seen:?}"))
            .expect("a chunk")
            .expect("the stream ended");
        buffer.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buffer.find("\n\n") {
            let block: String = buffer.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim_start().to_owned())
            };
            // Keep-alive comments carry neither.
            if let (Some(event), Some(data)) = (field("event:"), field("data:")) {
                seen.push((event, serde_json::from_str(&data).expect("JSON data")));
            }
        }
    }
    seen
}

fn of_run<'a>(seen: &'a [(String, Value)], run: &str) -> Vec<&'a Value> {
    seen.iter()
        .filter(|(event, data)| event == "run" && data["data"]["run_id"] == run)
        .map(|(_, data)| data)
        .collect()
}

#[tokio::test]
async fn a_viewer_sees_every_runs_lifecycle_live_and_none_of_its_steps() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    api.user(&admin, "act-viewer", "viewer", "activity-viewer-pass-3k")
        .await;
    let (viewer, _) = api.login("act-viewer", "activity-viewer-pass-3k").await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "two-steps", "steps": [
            {"id": "one", "type": "wait", "with": {"seconds": 0.2}},
            {"id": "two", "type": "wait", "with": {"seconds": 0.2}}
        ]}),
    )
    .await;

    let res = api
        .req(Method::GET, "/api/v1/runs/activity", Some(&viewer))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/event-stream")
    );
    // Opened before the run: what the admin starts now is seen live.
    let run = run_job(&api, &admin, &job, json!({})).await;
    let seen = events_until(res, |seen| {
        of_run(seen, &run).iter().any(|d| d["type"] == "finished")
    })
    .await;
    let frames = of_run(&seen, &run);
    let types: Vec<&str> = frames.iter().filter_map(|d| d["type"].as_str()).collect();
    assert_eq!(types.first(), Some(&"accepted"), "{seen:?}");
    assert!(types.contains(&"started"), "{seen:?}");
    assert_eq!(types.last(), Some(&"finished"), "{seen:?}");
    assert!(
        types
            .iter()
            .all(|t| ["accepted", "started", "finished"].contains(t)),
        "step events are not part of the activity stream: {types:?}"
    );
    let accepted = frames[0];
    assert_eq!(accepted["data"]["job_id"], job.as_str(), "{accepted}");
    assert!(accepted["time"].is_string(), "{accepted}");
    let finished = frames.last().unwrap();
    assert_eq!(finished["data"]["status"], "succeeded", "{finished}");
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    api.stop().await;
}

#[tokio::test]
async fn the_activity_stream_needs_a_token_and_a_free_stream_slot() {
    let api = ApiServer::start(&[("OPSC_HTTP_STREAMS_PER_USER", "1")]).await;
    let admin = api.admin().await;
    let (status, problem) = api
        .call(Method::GET, "/api/v1/runs/activity", None, None)
        .await;
    assert_eq!(status, 401, "{problem}");
    assert_eq!(problem["status"], 401, "{problem}");

    let open = || {
        api.req(Method::GET, "/api/v1/runs/activity", Some(&admin))
            .send()
    };
    let first = open().await.unwrap();
    assert_eq!(first.status(), 200);
    let second = open().await.unwrap();
    assert_eq!(second.status(), 429);
    assert_eq!(
        second
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    drop(first);
    api.stop().await;
}
