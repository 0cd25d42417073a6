//! Crashes: a slot held by a run whose worker died frees once that run
//! ended, and waiting runs survive a killed api.

use std::time::Duration;

use serde_json::json;

use super::{get, job, time, wait_status};
use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, wait_end_within};

#[tokio::test]
async fn a_slot_held_by_a_lost_worker_frees_once_when_the_lost_run_ends() {
    let api = ApiServer::start(&[]).await;
    let mut worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let marker = format!("/tmp/opsc-conc-{}", uuid::Uuid::new_v4().simple());
    let command = format!("echo {{{{ run.id }}}} >> {marker}; sleep 4");
    let id = create_job(&api, &admin, job("lost", 1, "queue", &command)).await;
    let holder = run_job(&api, &admin, &id, json!({})).await;
    wait_status(&api, &admin, &holder, "running").await;
    let next = run_job(&api, &admin, &id, json!({})).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    worker.kill().await;
    let _second = api.start_worker("default").await;
    // The lost run holds its slot until it ends (the dispatch comes back
    // after the consumer's ack wait, and the step is not idempotent).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let held = get(&api, &admin, &format!("/api/v1/runs/{next}")).await;
    assert_eq!(held["status"], "waiting", "{held}");
    let lost = wait_end_within(&api, &admin, &holder, Duration::from_secs(120)).await;
    assert_eq!(lost["status"], "worker_lost", "{lost}");
    let after = wait_end_within(&api, &admin, &next, Duration::from_secs(60)).await;
    assert_eq!(after["status"], "succeeded", "{after}");
    assert!(
        time(&after, "started_at") >= time(&lost, "finished_at"),
        "{lost} {after}"
    );
    // Started exactly once, even with sweeps and the recorder both releasing.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let lines = std::fs::read_to_string(&marker).unwrap();
    assert_eq!(lines.matches(next.as_str()).count(), 1, "{lines}");
    assert_eq!(lines.matches(holder.as_str()).count(), 1, "{lines}");
    let _ = std::fs::remove_file(&marker);
}

#[tokio::test]
async fn waiting_runs_start_in_order_after_the_api_was_killed() {
    let mut api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let marker = format!("/tmp/opsc-conc-{}", uuid::Uuid::new_v4().simple());
    let command = format!("echo {{{{ run.id }}}} >> {marker}; sleep 3");
    let id = create_job(&api, &admin, job("survivor", 1, "queue", &command)).await;
    let holder = run_job(&api, &admin, &id, json!({})).await;
    wait_status(&api, &admin, &holder, "running").await;
    let second = run_job(&api, &admin, &id, json!({})).await;
    let third = run_job(&api, &admin, &id, json!({})).await;
    // The api dies while the holder runs: its end reaches the event stream
    // with no api to record it or release the next run.
    api.process.kill().await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    api.restart(&[]).await;
    let admin = api.admin().await;
    let mut ended = Vec::new();
    for run in [&holder, &second, &third] {
        let end = wait_end_within(&api, &admin, run, Duration::from_secs(60)).await;
        assert_eq!(end["status"], "succeeded", "{end}");
        ended.push(end);
    }
    super::one_after_another(&ended);
    let lines = std::fs::read_to_string(&marker).unwrap();
    for run in [&holder, &second, &third] {
        assert_eq!(lines.matches(run.as_str()).count(), 1, "{lines}");
    }
    let _ = std::fs::remove_file(&marker);
}
