//! The scheduler's reactions through the real bus: dependent runs with
//! outputs passed on, chains, retries by failure class, and maintenance
//! windows that skip or defer fires, per job and per target group.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, wait_end};
use crate::harness::{ApiServer, wait_until};

async fn post(api: &ApiServer, token: &str, path: &str, body: Value) -> Value {
    let (status, created) = api.call(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(status, 201, "{path}: {created}");
    created
}

async fn runs_of(api: &ApiServer, token: &str, job: &str) -> Vec<Value> {
    let (status, body) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs?job_id={job}&limit=100"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

async fn fires(api: &ApiServer, token: &str, id: &str) -> Vec<Value> {
    let (code, body) = api
        .call(
            Method::GET,
            &format!("/api/v1/schedules/{id}/fires?limit=500"),
            Some(token),
            None,
        )
        .await;
    assert_eq!(code, 200, "{body}");
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_chain_of_dependencies_passes_outputs_on_and_records_its_cause() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let _scheduler = api.start_scheduler(&[]).await;
    let a = create_job(&api, &admin, json!({
        "name": "upstream",
        "parameters": {"who": {"type": "string", "default": "nobody"}},
        "steps": [{"id": "emit", "type": "local.exec", "with": {"command": "printf '{\"greeting\": {\"to\": \"%s\"}}\\n' {{ params.who }}"}}]
    }))
    .await;
    let b = create_job(&api, &admin, json!({
        "name": "downstream",
        "parameters": {"to": {"type": "string", "required": true}, "from": {"type": "string", "required": true}},
        "steps": [{"id": "say", "type": "local.exec", "with": {"command": "echo hello {{ params.to }} from {{ params.from }}"}}]
    }))
    .await;
    let c = create_job(
        &api,
        &admin,
        json!({
            "name": "tail",
            "steps": [{"id": "done", "type": "local.exec", "with": {"command": "echo done"}}]
        }),
    )
    .await;
    let on_failure = create_job(
        &api,
        &admin,
        json!({
            "name": "only-on-failure",
            "steps": [{"id": "x", "type": "local.exec", "with": {"command": "echo x"}}]
        }),
    )
    .await;
    post(
        &api,
        &admin,
        "/api/v1/dependencies",
        json!({
            "upstream_job_id": a, "downstream_job_id": b, "on": "success",
            "parameters": {"to": "steps.emit.json.greeting.to", "from": "params.who"}
        }),
    )
    .await;
    post(
        &api,
        &admin,
        "/api/v1/dependencies",
        json!({"upstream_job_id": b, "downstream_job_id": c, "on": "any"}),
    )
    .await;
    post(
        &api,
        &admin,
        "/api/v1/dependencies",
        json!({"upstream_job_id": a, "downstream_job_id": on_failure, "on": "failure"}),
    )
    .await;
    // The scheduler reads dependencies from the bucket: give the mirror a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let run_a = run_job(&api, &admin, &a, json!({"parameters": {"who": "world"}})).await;
    assert_eq!(wait_end(&api, &admin, &run_a).await["status"], "succeeded");
    wait_until("the dependent run", Duration::from_secs(30), || async {
        !runs_of(&api, &admin, &b).await.is_empty()
    })
    .await;
    let run_b = runs_of(&api, &admin, &b).await.remove(0);
    assert_eq!(run_b["trigger"]["kind"], "dependency", "{run_b}");
    assert_eq!(run_b["trigger"]["cause_run_id"], run_a.as_str(), "{run_b}");
    assert_eq!(run_b["parameters"]["to"], "world", "{run_b}");
    assert_eq!(run_b["parameters"]["from"], "world", "{run_b}");
    let id_b = run_b["id"].as_str().unwrap().to_owned();
    assert_eq!(wait_end(&api, &admin, &id_b).await["status"], "succeeded");
    wait_until("the end of the chain", Duration::from_secs(30), || async {
        !runs_of(&api, &admin, &c).await.is_empty()
    })
    .await;
    let run_c = runs_of(&api, &admin, &c).await.remove(0);
    assert_eq!(run_c["trigger"]["cause_run_id"], id_b.as_str(), "{run_c}");
    // One run per upstream end, and none for the failure branch.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(runs_of(&api, &admin, &b).await.len(), 1);
    assert_eq!(runs_of(&api, &admin, &c).await.len(), 1);
    assert!(runs_of(&api, &admin, &on_failure).await.is_empty());
}

#[tokio::test]
async fn failed_runs_are_retried_for_the_chosen_classes_only() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let _scheduler = api.start_scheduler(&[]).await;
    let retry = json!({"max_retries": 2, "delay_secs": 1, "backoff": 1.0, "jitter_pct": 0, "on": ["exit_code"], "exit_codes": [3]});
    let flaky = create_job(
        &api,
        &admin,
        json!({
            "name": "exit-3", "retry": retry,
            "steps": [{"id": "fail", "type": "local.exec", "with": {"command": "exit 3"}}]
        }),
    )
    .await;
    let other = create_job(
        &api,
        &admin,
        json!({
            "name": "exit-4", "retry": retry,
            "steps": [{"id": "fail", "type": "local.exec", "with": {"command": "exit 4"}}]
        }),
    )
    .await;
    let first = run_job(&api, &admin, &flaky, json!({})).await;
    let not_retried = run_job(&api, &admin, &other, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &first).await["status"], "failed");
    assert_eq!(
        wait_end(&api, &admin, &not_retried).await["status"],
        "failed"
    );
    wait_until("two retries", Duration::from_secs(40), || async {
        let runs = runs_of(&api, &admin, &flaky).await;
        runs.len() == 3 && runs.iter().all(|r| r["finished_at"].is_string())
    })
    .await;
    let runs = runs_of(&api, &admin, &flaky).await;
    let mut attempts: Vec<u64> = runs
        .iter()
        .map(|r| r["attempt"].as_u64().unwrap_or(0))
        .collect();
    attempts.sort_unstable();
    assert_eq!(attempts, vec![1, 2, 3], "{runs:?}");
    for r in runs.iter().filter(|r| r["attempt"] != 1) {
        assert_eq!(r["trigger"]["kind"], "retry", "{r}");
        assert_eq!(r["retry_root"], first.as_str(), "{r}");
    }
    // No fourth attempt, and the exit code 4 run was never retried.
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(runs_of(&api, &admin, &flaky).await.len(), 3);
    assert_eq!(runs_of(&api, &admin, &other).await.len(), 1);
}

/// A window open from now for `secs` seconds, covering `scope`.
fn window_body(name: &str, secs: i64, scope: &Value, fire_policy: &str) -> Value {
    let start = chrono::Utc::now() - chrono::Duration::seconds(1);
    json!({
        "name": name,
        "timing": {"kind": "once", "start": start, "end": start + chrono::Duration::seconds(secs + 1)},
        "scope": scope.clone(),
        "fire_policy": fire_policy,
    })
}

#[tokio::test]
async fn windows_skip_or_defer_fires_per_job_and_per_group() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _scheduler = api.start_scheduler(&[]).await;
    let job = |name: &str| json!({"name": name, "steps": [{"id": "noop", "type": "local.exec", "with": {"command": "true"}}]});
    let skipped_job = create_job(&api, &admin, job("skipped-by-job-window")).await;
    let deferred_job = create_job(&api, &admin, job("deferred-by-job-window")).await;
    let grouped_job = create_job(&api, &admin, job("skipped-by-group-window")).await;
    // A group with one target, addressed by the third schedule.
    let (code, target) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(&admin),
            Some(json!({
                "name": "in-window", "hostname": "127.0.0.1", "os_type": "linux"
            })),
        )
        .await;
    assert_eq!(code, 201, "{target}");
    let (code, group) = api
        .call(
            Method::POST,
            "/api/v1/target-groups",
            Some(&admin),
            Some(json!({"name": "maint", "members": [target["id"]]})),
        )
        .await;
    assert_eq!(code, 201, "{group}");

    post(
        &api,
        &admin,
        "/api/v1/maintenance-windows",
        window_body("job-skip", 4, &json!({"jobs": [skipped_job]}), "skip"),
    )
    .await;
    let deferring = post(
        &api,
        &admin,
        "/api/v1/maintenance-windows",
        window_body("job-defer", 4, &json!({"jobs": [deferred_job]}), "defer"),
    )
    .await;
    post(
        &api,
        &admin,
        "/api/v1/maintenance-windows",
        window_body("group-skip", 4, &json!({"groups": [group["id"]]}), "skip"),
    )
    .await;
    let every_second = |name: &str, job: &str, extra: Value| {
        let mut body = json!({"name": name, "job_id": job, "cron": "* * * * * *"});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        body
    };
    let s_skip = post(
        &api,
        &admin,
        "/api/v1/schedules",
        every_second("s-skip", &skipped_job, json!({})),
    )
    .await;
    let s_defer = post(
        &api,
        &admin,
        "/api/v1/schedules",
        every_second("s-defer", &deferred_job, json!({})),
    )
    .await;
    let s_group = post(
        &api,
        &admin,
        "/api/v1/schedules",
        every_second(
            "s-group",
            &grouped_job,
            json!({"targets": {"groups": [group["id"]]}}),
        ),
    )
    .await;
    let id = |v: &Value| v["id"].as_str().unwrap().to_owned();
    // The windows close after about 5 s; then everything fires again.
    tokio::time::sleep(Duration::from_secs(8)).await;

    for (what, s) in [("job window", &s_skip), ("group window", &s_group)] {
        let f = fires(&api, &admin, &id(s)).await;
        let skipped = f
            .iter()
            .filter(|x| x["kind"] == "skipped" && x["reason"] == "window")
            .count();
        assert!(
            skipped >= 2,
            "{what}: fires inside the window are skipped: {f:?}"
        );
        let after: Vec<&Value> = f.iter().filter(|x| x["kind"] == "fired").collect();
        assert!(
            !after.is_empty(),
            "{what}: fires resume after the window: {f:?}"
        );
    }
    let f = fires(&api, &admin, &id(&s_defer)).await;
    let deferred: Vec<&Value> = f
        .iter()
        .filter(|x| x["kind"] == "fired" && x["deferred_by"] == deferring["id"])
        .collect();
    assert_eq!(
        deferred.len(),
        1,
        "one deferred fire at the window's end: {f:?}"
    );
    assert!(
        f.iter()
            .any(|x| x["kind"] == "skipped" && x["reason"] == "window"),
        "the other fires inside it are skipped: {f:?}"
    );
    // Every schedule's runs: one per instant.
    for s in [&s_skip, &s_defer, &s_group] {
        assert!(api.schedule_runs(&id(s)).await.values().all(|n| *n == 1));
    }
}
