//! Notices from real runs: a job that succeeds five times then fails
//! twice, and a job whose failure is retried.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, wait_end};
use crate::harness::{ApiServer, shared_nats_url, wait_until};

/// Every notice seen on `<p>.evt.notice.>`, by notice id.
type Seen = Arc<Mutex<HashMap<String, Value>>>;

async fn listen(api: &ApiServer) -> Seen {
    let client = async_nats::connect(shared_nats_url()).await.unwrap();
    let mut sub = client
        .subscribe(format!("{}.evt.notice.>", api.prefix))
        .await
        .unwrap();
    client.flush().await.unwrap();
    let seen: Seen = Arc::default();
    let out = seen.clone();
    tokio::spawn(async move {
        let _client = client;
        while let Some(m) = sub.next().await {
            let Ok(ev) = serde_json::from_slice::<Value>(&m.payload) else {
                continue;
            };
            let id = ev["data"]["notice_id"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            out.lock().unwrap().insert(id, ev["data"].clone());
        }
    });
    seen
}

async fn notice(seen: &Seen, id: &str) -> Value {
    wait_until(&format!("notice {id}"), Duration::from_secs(30), || async {
        seen.lock().unwrap().contains_key(id)
    })
    .await;
    seen.lock().unwrap()[id].clone()
}

#[tokio::test]
async fn a_failed_run_notice_carries_its_streak_previous_status_baseline_and_last_lines() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let seen = listen(&api).await;
    let job = create_job(
        &api,
        &admin,
        json!({
            "name": "digest-job", "tags": ["nightly"], "critical": true,
            "parameters": {"mode": {"type": "string", "default": "ok"}},
            "steps": [{"id": "work", "type": "local.exec", "with": {"command":
                "for i in $(seq 1 30); do echo line-$i; done; test {{ params.mode }} = ok || exit 7"}}]
        }),
    )
    .await;
    let mut last = String::new();
    for _ in 0..5 {
        last = run_job(&api, &admin, &job, json!({})).await;
        assert_eq!(wait_end(&api, &admin, &last).await["status"], "succeeded");
    }
    let ok = notice(&seen, &format!("run:{last}:finished")).await;
    assert_eq!(ok["kind"], "run_finished", "{ok}");
    assert_eq!(ok["run"]["status"], "succeeded", "{ok}");
    assert_eq!(ok["run"]["failure_streak"], 0, "{ok}");
    assert!(
        ok["run"].get("baseline").is_none(),
        "four earlier successes make no baseline: {ok}"
    );
    assert_eq!(ok["run"]["job"]["tags"], json!(["nightly"]), "{ok}");
    assert_eq!(ok["run"]["job"]["critical"], true, "{ok}");
    assert_eq!(ok["run"]["trigger"]["kind"], "manual", "{ok}");
    assert!(ok["run"]["started_by"].is_string(), "{ok}");

    let failed = run_job(&api, &admin, &job, json!({"parameters": {"mode": "bad"}})).await;
    assert_eq!(wait_end(&api, &admin, &failed).await["status"], "failed");
    let n = notice(&seen, &format!("run:{failed}:finished")).await;
    let run = &n["run"];
    assert_eq!(run["status"], "failed", "{n}");
    assert_eq!(run["previous_status"], "succeeded", "{n}");
    assert_eq!(run["failure_streak"], 1, "{n}");
    assert_eq!(run["will_retry"], false, "{n}");
    assert_eq!(run["baseline"]["samples"], 5, "{n}");
    assert!(
        run["baseline"]["p95_ms"].as_u64().unwrap() >= run["baseline"]["p50_ms"].as_u64().unwrap(),
        "{n}"
    );
    let steps = run["failed_steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{n}");
    assert_eq!(steps[0]["step_id"], "work", "{n}");
    assert_eq!(steps[0]["exit_code"], 7, "{n}");
    let lines: Vec<&str> = steps[0]["last_lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(lines.len(), 20, "{n}");
    assert_eq!(lines.first().copied(), Some("line-11"), "{n}");
    assert_eq!(lines.last().copied(), Some("line-30"), "{n}");

    let again = run_job(&api, &admin, &job, json!({"parameters": {"mode": "bad"}})).await;
    assert_eq!(wait_end(&api, &admin, &again).await["status"], "failed");
    let n = notice(&seen, &format!("run:{again}:finished")).await;
    assert_eq!(n["run"]["previous_status"], "failed", "{n}");
    assert_eq!(n["run"]["failure_streak"], 2, "{n}");
    // The baseline counts successes only.
    assert_eq!(n["run"]["baseline"]["samples"], 5, "{n}");
}

#[tokio::test]
async fn a_failure_that_will_be_retried_says_so_and_its_last_attempt_does_not() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let _scheduler = api.start_scheduler(&[]).await;
    let seen = listen(&api).await;
    let retry = json!({"max_retries": 1, "delay_secs": 1, "backoff": 1.0, "jitter_pct": 0, "on": ["exit_code"], "exit_codes": [3]});
    let job = create_job(
        &api,
        &admin,
        json!({
            "name": "retried", "retry": retry,
            "steps": [{"id": "fail", "type": "local.exec", "with": {"command": "exit 3"}}]
        }),
    )
    .await;
    let first = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &first).await["status"], "failed");
    let n = notice(&seen, &format!("run:{first}:finished")).await;
    assert_eq!(n["run"]["will_retry"], true, "{n}");
    assert_eq!(n["run"]["attempt"], 1, "{n}");
    // The retry's notice: its last attempt, so no retry follows.
    wait_until("the retry's notice", Duration::from_secs(30), || async {
        seen.lock()
            .unwrap()
            .values()
            .any(|v| v["run"]["attempt"] == 2)
    })
    .await;
    let retry = seen
        .lock()
        .unwrap()
        .values()
        .find(|v| v["run"]["attempt"] == 2)
        .cloned()
        .unwrap();
    assert_eq!(retry["run"]["will_retry"], false, "{retry}");
    assert_eq!(retry["run"]["retry_root"], first.as_str(), "{retry}");
    assert_eq!(retry["run"]["trigger"]["kind"], "retry", "{retry}");
    // Its own chain does not count as its previous run.
    assert!(retry["run"].get("previous_status").is_none(), "{retry}");
    assert_eq!(retry["run"]["failure_streak"], 1, "{retry}");
}

#[tokio::test]
async fn a_dead_letter_becomes_a_notice_except_the_notice_consumers_own() {
    let api = ApiServer::start(&[]).await;
    let seen = listen(&api).await;
    let rt = crate::harness::test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    bus.dead_letter_core("notices-dead-letters", "x.own", b"{}", "own letter")
        .await
        .unwrap();
    bus.dead_letter_core("recorder", "x.subject", b"{}", "cannot decode")
        .await
        .unwrap();
    wait_until(
        "the dead-letter notice",
        Duration::from_secs(30),
        || async {
            seen.lock()
                .unwrap()
                .values()
                .any(|v| v["dead_letter"]["origin"] == "recorder")
        },
    )
    .await;
    let all: Vec<Value> = seen.lock().unwrap().values().cloned().collect();
    let n = all
        .iter()
        .find(|v| v["dead_letter"]["origin"] == "recorder")
        .unwrap();
    assert_eq!(n["kind"], "dead_letter", "{n}");
    assert_eq!(n["dead_letter"]["reason"], "cannot decode", "{n}");
    assert_eq!(n["dead_letter"]["subject"], "x.subject", "{n}");
    assert!(n["notice_id"].as_str().unwrap().starts_with("dlq:"), "{n}");
    assert!(
        !all.iter()
            .any(|v| v["dead_letter"]["origin"] == "notices-dead-letters"),
        "no loop: {all:?}"
    );
}
