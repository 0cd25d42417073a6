//! A worker killed with SIGKILL in the middle of runs: every run still ends,
//! either resumed by another worker at the first unfinished step or failed
//! as `worker_lost` where repeating a step would not be safe.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, step, steps, wait_end_within};

#[tokio::test]
async fn a_worker_killed_mid_run_leaves_every_run_resumed_or_worker_lost() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    // Four dispatches at once: with eight runs, four wait in the stream
    // while the first worker holds the others.
    let mut first = api
        .start_worker_with("default", &[("OPSC_WORKER_CONCURRENCY", "4")])
        .await;
    let marker = format!("/tmp/opsc-loss-{}", uuid::Uuid::new_v4().simple());
    // `fetch` is idempotent (declared so); `mark` is not, and runs only
    // once per run: the marker file proves it was never repeated.
    let resumable = create_job(&api, &admin, json!({
        "name": "resumable",
        "parameters": {"n": {"type": "string", "required": true}},
        "steps": [
            {"id": "mark", "type": "local.exec", "with": {"command": format!("echo {{{{ n }}}} >> {marker}; echo first-{{{{ n }}}}")}},
            {"id": "fetch", "type": "local.exec", "idempotent": true, "with": {"command": "sleep 3; echo fetched"}},
            {"id": "use", "type": "local.exec", "with": {"command": "echo got {{ steps.mark.stdout | trim }}"}}
        ]
    })).await;
    let fragile = create_job(
        &api,
        &admin,
        json!({
            "name": "fragile",
            "steps": [
                {"id": "migrate", "type": "local.exec", "with": {"command": "sleep 3; echo migrated"}},
                {"id": "after", "type": "local.exec", "with": {"command": "echo after"}}
            ]
        }),
    )
    .await;
    let mut resumable_runs = Vec::new();
    let mut fragile_runs = Vec::new();
    for i in 0..4 {
        resumable_runs.push(
            run_job(
                &api,
                &admin,
                &resumable,
                json!({"parameters": {"n": format!("r{i}")}}),
            )
            .await,
        );
        fragile_runs.push(run_job(&api, &admin, &fragile, json!({})).await);
    }
    // Kill the worker once its four runs are inside their long step.
    let mut held = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while held.len() < 4 {
        held.clear();
        for run in resumable_runs.iter().chain(&fragile_runs) {
            let (_, b) = api
                .call(
                    Method::GET,
                    &format!("/api/v1/runs/{run}/steps"),
                    Some(&admin),
                    None,
                )
                .await;
            let in_long_step = b["items"].as_array().is_some_and(|items| {
                items.iter().any(|s| {
                    ["fetch", "migrate"].contains(&s["step_id"].as_str().unwrap_or_default())
                        && s["status"] == "running"
                })
            });
            if in_long_step {
                held.push(run.clone());
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the first worker never held four runs in a long step"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Half a second into the long step.
    tokio::time::sleep(Duration::from_millis(500)).await;
    first.kill().await;
    let _second = api.start_worker("default").await;

    // The dispatches come back after the consumer's ack wait (30 s).
    let mut outcomes = Vec::new();
    for run in resumable_runs.iter().chain(&fragile_runs) {
        let end = wait_end_within(&api, &admin, run, Duration::from_secs(120)).await;
        outcomes.push((run.clone(), end));
    }
    let mut lost = 0;
    let mut resumed = 0;
    for (run, end) in &outcomes {
        let items = steps(&api, &admin, run).await;
        let was_held = held.contains(run);
        if resumable_runs.contains(run) {
            assert_eq!(end["status"], "succeeded", "{run}: {end} {items:?}");
            let fetch = step(&items, "fetch", None);
            let mark = step(&items, "mark", None);
            assert_eq!(mark["attempt"], 1, "mark ran once: {mark}");
            if was_held {
                // Interrupted and repeated on the second worker.
                assert_eq!(fetch["attempt"], 2, "{fetch}");
                resumed += 1;
            }
            let used = step(&items, "use", None);
            assert_eq!(used["status"], "succeeded", "{used}");
            let n = used["stdout"][0].as_str().unwrap_or_default();
            assert!(
                n.starts_with("got first-r"),
                "the resumed run sees the first step's output: {used}"
            );
        } else if was_held {
            assert_eq!(end["status"], "worker_lost", "{run}: {end}");
            assert!(
                end["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("worker_lost"),
                "{end}"
            );
            let migrate = step(&items, "migrate", None);
            assert_eq!(migrate["status"], "failed", "{migrate}");
            assert!(
                migrate["error"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("worker_lost"),
                "{migrate}"
            );
            assert_eq!(step(&items, "after", None)["status"], "skipped");
            lost += 1;
        } else {
            // Never reached the killed worker: ran normally on the second.
            assert_eq!(end["status"], "succeeded", "{run}: {end}");
        }
    }
    assert_eq!(resumed + lost, 4, "every held run was resumed or lost");
    // The non-idempotent first step ran exactly once per run.
    let marks = std::fs::read_to_string(&marker).unwrap();
    let _ = std::fs::remove_file(&marker);
    let mut lines: Vec<&str> = marks.lines().collect();
    lines.sort_unstable();
    assert_eq!(lines, vec!["r0", "r1", "r2", "r3"], "{marks}");
    let (_, listed) = api
        .call(Method::GET, "/api/v1/runs?limit=100", Some(&admin), None)
        .await;
    let stuck: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| ["queued", "running"].contains(&r["status"].as_str().unwrap_or_default()))
        .collect();
    assert!(stuck.is_empty(), "runs left running: {stuck:?}");
    api.stop().await;
}
