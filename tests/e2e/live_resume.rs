//! Resuming a run's live stream: frames read live carry an `id`; a client
//! that lost the stream of a run still going on sends it back
//! (`Last-Event-ID`, or `?after=`) and gets every later
//! frame and none it had. A run that ended meanwhile is replayed whole,
//! without ids. A malformed resume point is a 400 problem.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, wait_end};
use crate::live::sse_frames;

fn texts(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f["event"] == "output")
        .filter_map(|f| f["data"]["text"].as_str().map(str::to_owned))
        .collect()
}

/// Reads the run's SSE stream (after `resume` when given) until a frame
/// with output `until`, or to its end when `until` is `None`; then drops
/// the connection.
async fn read_stream(
    api: &ApiServer,
    token: &str,
    run: &str,
    resume: Option<&str>,
    until: Option<&str>,
) -> Vec<Value> {
    // A stream lasts as long as the run: not the harness's 5 s per request.
    let mut req = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream"),
            Some(token),
        )
        .timeout(Duration::from_secs(60));
    if let Some(id) = resume {
        req = req.header("last-event-id", id);
    }
    let mut res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut text = String::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(30), res.chunk())
            .await
            .expect("a frame within 30 s")
            .unwrap();
        let Some(chunk) = chunk else {
            return sse_frames(&text);
        };
        text.push_str(std::str::from_utf8(&chunk).unwrap());
        // Only whole events count: up to the last blank line.
        let whole = text.rfind("\n\n").map_or("", |i| &text[..i + 2]);
        let frames = sse_frames(whole);
        if let Some(line) = until
            && texts(&frames).iter().any(|t| t == line)
        {
            return frames;
        }
    }
}

#[tokio::test]
async fn a_live_stream_resumes_after_its_last_frame_and_an_ended_run_replays() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let password = "resume-viewer-pass-42x";
    api.user(&admin, "resumer", "viewer", password).await;
    let (viewer, _) = api.login("resumer", password).await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "resumable", "steps": [
            {"id": "a", "type": "local.exec", "with": {"command": "echo one; echo two; sleep 4"}},
            {"id": "b", "type": "local.exec", "with": {"command": "echo three; echo four"}}
        ]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;

    // A viewer follows live until "two", then loses the stream.
    let before = read_stream(&api, &viewer, &run, None, Some("two")).await;
    let last = before.last().unwrap();
    let cursor = last["id"].as_str().expect("live frames carry an id");
    assert!(
        before.iter().all(|f| f.get("id").is_some()),
        "every live frame has an id: {before:?}"
    );
    assert_eq!(texts(&before), ["one", "two"]);

    // Back while the step sleeps: every later frame, none it had.
    let after = read_stream(&api, &viewer, &run, Some(cursor), None).await;
    assert_eq!(texts(&after), ["three", "four"], "{after:?}");
    assert_eq!(after.last().unwrap()["event"], "end");
    assert_eq!(after.last().unwrap()["data"]["status"], "succeeded");
    let events = |frames: &[Value]| -> Vec<String> {
        frames
            .iter()
            .filter(|f| f["event"] == "run")
            .map(|f| format!("{}:{}", f["data"]["type"], f["data"]["data"]["step_id"]))
            .collect()
    };
    let mut both = events(&before);
    both.extend(events(&after));
    let unique: std::collections::BTreeSet<&String> = both.iter().collect();
    assert_eq!(unique.len(), both.len(), "no event twice: {both:?}");
    assert!(
        both.iter()
            .any(|e| e.starts_with("\"step_finished\":\"b\"")),
        "{both:?}"
    );
    // Resumed after step a's last line: its end comes in its place, before
    // step b's start and lines (it waits for no line it sent before).
    let at = |pred: &dyn Fn(&Value) -> bool| {
        after
            .iter()
            .position(pred)
            .unwrap_or_else(|| panic!("missing frame in {after:?}"))
    };
    let event = |kind: &'static str, step: &'static str| {
        move |f: &Value| f["data"]["type"] == kind && f["data"]["data"]["step_id"] == step
    };
    let order = [
        at(&event("step_finished", "a")),
        at(&event("step_started", "b")),
        at(&|f: &Value| f["data"]["text"] == "three"),
        at(&event("step_finished", "b")),
    ];
    assert!(order.is_sorted(), "{order:?} in {after:?}");
    assert!(
        after
            .iter()
            .all(|f| f["event"] == "end" || f.get("id").is_some()),
        "{after:?}"
    );

    // The run has ended: the same resume point replays it whole, no ids.
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let replay = read_stream(&api, &viewer, &run, Some(cursor), None).await;
    assert_eq!(texts(&replay), ["one", "two", "three", "four"]);
    assert!(replay.iter().all(|f| f.get("id").is_none()), "{replay:?}");

    // A resume point past the end of the bus's streams (no client is given
    // one; a forged one): frames from now on, and the `end` when the run
    // ends, whatever the cursor said.
    let short = run_job(&api, &admin, &job, json!({})).await;
    let past = read_stream(&api, &viewer, &short, Some("999999999.999999999"), None).await;
    let last = past.last().unwrap();
    assert_eq!(last["event"], "end", "{past:?}");
    assert_eq!(last["data"]["status"], "succeeded", "{past:?}");
    assert!(texts(&past).len() <= 4, "{past:?}");

    // Malformed resume points, in the query and in the header.
    let (s, bad) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream?after=12"),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!((s, bad["status"].as_u64()), (400, Some(400)), "{bad}");
    assert_eq!(bad["errors"][0]["path"], "?after", "{bad}");
    let res = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream"),
            Some(&viewer),
        )
        .header("last-event-id", "12.x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let problem: Value = res.json().await.unwrap();
    assert_eq!(problem["errors"][0]["path"], "Last-Event-ID", "{problem}");

    // Another run's resume point on a live run: that run's frames only.
    let other = run_job(&api, &admin, &job, json!({})).await;
    let mixed = read_stream(&api, &viewer, &other, Some(cursor), None).await;
    assert!(
        mixed.iter().all(|f| {
            let data = &f["data"];
            data["run_id"] == other.as_str() || data["data"]["run_id"] == other.as_str()
        }),
        "{mixed:?}"
    );
    assert_eq!(mixed.last().unwrap()["event"], "end", "{mixed:?}");

    // A resume point gives nothing of an unknown run, nor to a stranger.
    let (s, _) = api
        .call(
            Method::GET,
            &format!(
                "/api/v1/runs/{}/stream?after={cursor}",
                uuid::Uuid::now_v7()
            ),
            Some(&viewer),
            None,
        )
        .await;
    assert_eq!(s, 404);
    let s = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream?after={cursor}"),
            None,
        )
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(s, 401);
    api.stop().await;
}
