//! What `run.finished` carries for the scheduler, and where retry
//! policies are saved (jobs, schedules) and refused.

use opsc_proto::commands::TriggerKind;
use opsc_proto::run_policy::FailureClass;
use reqwest::Method;
use serde_json::json;

use super::{finished_of, intent, publish, run_view};
use crate::harness::runs::{create_job, run_job, wait_end};
use crate::harness::{ApiServer, shared_nats_url, test_bus};

#[tokio::test]
async fn run_finished_carries_job_trigger_chain_failure_and_policy() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;

    // A policy out of range is refused where it is, and nothing is saved.
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/jobs",
            Some(&admin),
            Some(json!({
            "name": "bad-policy", "retry": {"max_retries": 0},
            "steps": [{"id": "a", "type": "wait", "with": {"seconds": 1}}]})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["path"], "/retry", "{b}");
    let (_, jobs) = api
        .call(Method::GET, "/api/v1/jobs", Some(&admin), None)
        .await;
    assert_eq!(jobs["total"], 0, "{jobs}");

    let policy = json!({"max_retries": 2, "delay_secs": 5, "on": ["exit_code"], "exit_codes": [3]});
    let fails = create_job(
        &api,
        &admin,
        json!({
        "name": "fails", "retry": policy,
        "steps": [{"id": "ok", "type": "local.exec", "with": {"command": "true"}},
                  {"id": "boom", "type": "local.exec", "with": {"command": "exit 3"}}]}),
    )
    .await;
    let (_, job) = api
        .call(
            Method::GET,
            &format!("/api/v1/jobs/{fails}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        job["definition"]["retry"]["exit_codes"],
        json!([3]),
        "{job}"
    );

    let run = run_job(&api, &admin, &fails, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "failed");
    let f = finished_of(bus, &run).await;
    assert_eq!(f.job_id.map(|j| j.to_string()), Some(fails.clone()));
    assert_eq!(f.job_version, Some(1));
    let trigger = f.trigger.clone().expect("the trigger");
    assert_eq!(trigger.kind, TriggerKind::Manual);
    assert_eq!(f.attempt, 1);
    assert_eq!(f.retry_root.map(|r| r.to_string()), Some(run.clone()));
    assert_eq!(f.failure, Some(FailureClass::ExitCode));
    assert_eq!(f.exit_codes, vec![3]);
    let retry = f.retry.expect("the job's policy");
    assert_eq!((retry.max_retries, retry.delay_secs), (2, 5));
    assert_eq!(retry.on, vec![FailureClass::ExitCode]);
    let view = run_view(&api, &admin, &run).await;
    assert_eq!(view["attempt"], 1, "{view}");
    assert_eq!(view["retry_of"], json!(null));
    assert_eq!(view["retries"], json!([]));

    // The run's own timeout: timed out, whatever the steps did.
    let slow = create_job(
        &api,
        &admin,
        json!({
        "name": "slow", "timeout_secs": 2,
        "steps": [{"id": "nap", "type": "local.exec", "with": {"command": "sleep 30"}}]}),
    )
    .await;
    let run = run_job(&api, &admin, &slow, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "timed_out");
    let f = finished_of(bus, &run).await;
    assert_eq!(f.failure, Some(FailureClass::TimedOut));
    assert!(f.retry.is_none(), "no policy: {f:?}");
    assert!(f.exit_codes.is_empty());

    // Success: no failure, no exit codes; the policy is still said.
    let ok = create_job(
        &api,
        &admin,
        json!({
        "name": "ok", "retry": {"max_retries": 1},
        "steps": [{"id": "hi", "type": "local.exec", "with": {"command": "echo hi"}}]}),
    )
    .await;
    let run = run_job(&api, &admin, &ok, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    let f = finished_of(bus, &run).await;
    assert_eq!(f.failure, None);
    assert!(f.exit_codes.is_empty());
    assert_eq!(f.retry.map(|r| r.on.len()), Some(3), "the default classes");

    // A schedule's policy overrides its job's for the runs it starts.
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/schedules",
            Some(&admin),
            Some(json!({
            "name": "nightly", "job_id": fails, "cron": "@daily",
            "retry": {"max_retries": 30}})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["path"], "/retry", "{b}");
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/schedules",
            Some(&admin),
            Some(json!({
            "name": "nightly", "job_id": fails, "cron": "@daily",
            "retry": {"max_retries": 7, "on": ["exit_code", "timed_out"]}})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["retry"]["max_retries"], 7, "{b}");
    let schedule = b["id"].as_str().unwrap().to_owned();
    let mut fire = intent(
        &fails,
        TriggerKind::Schedule,
        &schedule,
        &format!("schedule:{schedule}:2026-11-30T00:00:00.000Z"),
    );
    fire.fence = Some(1);
    publish(bus, &fire).await;
    let run = wait_for_run(&api, &admin, &fails, 2).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "failed");
    let f = finished_of(bus, &run).await;
    let trigger = f.trigger.expect("the trigger");
    assert_eq!(
        (trigger.kind, trigger.actor.as_str()),
        (TriggerKind::Schedule, schedule.as_str())
    );
    assert_eq!(trigger.origin.as_deref(), Some("scheduler"));
    assert_eq!(
        f.retry.map(|r| r.max_retries),
        Some(7),
        "the schedule's policy"
    );

    // A bad policy in a PATCH is refused and changes nothing.
    let at = format!("/api/v1/schedules/{schedule}");
    for bad in [
        json!({"max_retries": 50}),
        json!({"max_retries": 2, "tries": 1}),
    ] {
        let (s, b) = api
            .call(
                Method::PATCH,
                &at,
                Some(&admin),
                Some(json!({"retry": bad})),
            )
            .await;
        assert_eq!(s, 422, "{b}");
        let path = b["errors"][0]["path"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(path.starts_with("/retry"), "{b}");
    }
    let (_, kept) = api.call(Method::GET, &at, Some(&admin), None).await;
    assert_eq!(kept["retry"]["max_retries"], 7, "{kept}");
    // PATCH with null resets the schedule's policy: the job's applies again.
    let (s, b) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{schedule}"),
            Some(&admin),
            Some(json!({"retry": null})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["retry"], json!(null), "{b}");
}

/// The newest run of `job` once it has `n` runs.
async fn wait_for_run(api: &ApiServer, token: &str, job: &str, n: usize) -> String {
    crate::harness::wait_until(
        "the run of the intent",
        std::time::Duration::from_secs(30),
        || async { super::runs_of(api, token, job).await.len() >= n },
    )
    .await;
    super::runs_of(api, token, job).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}
