//! Retry intents: the failed run again, secrets included, as the next
//! attempt of its chain; and every retry that must not be, refused.

use opsc_proto::commands::TriggerKind;
use serde_json::json;

use super::{drained, finished_of, intent, publish, run_view, runs_of};
use crate::harness::letters::{dead_letters, letter, more_dead_letters_than};
use crate::harness::runs::{create_job, run_job, steps, wait_end};
use crate::harness::{ApiServer, shared_nats_url, test_bus};

/// The scheduler's retry intent of `of` (first run of the chain: `root`).
fn retry(job: &str, of: &str, root: &str, attempt: u32) -> opsc_proto::commands::RunIntent {
    let mut i = intent(
        job,
        TriggerKind::Retry,
        root,
        &format!("retry:{root}:{attempt}"),
    );
    i.trigger.cause_run_id = Some(of.parse().unwrap());
    i.retry_of = Some(of.parse().unwrap());
    i
}

#[tokio::test]
async fn a_retry_runs_the_failed_run_again_as_its_next_attempt_and_nothing_else() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let flaky = create_job(
        &api,
        &admin,
        json!({
        "name": "flaky", "retry": {"max_retries": 1, "on": ["exit_code"]},
        "parameters": {"who": {"type": "string"}, "token": {"type": "secret"}},
        "steps": [{"id": "say", "type": "local.exec",
                   "with": {"command": "echo who={{ who }} token={{ params.token }}; exit 3"}}]}),
    )
    .await;
    let fine = create_job(
        &api,
        &admin,
        json!({
        "name": "fine", "retry": {"max_retries": 3},
        "steps": [{"id": "hi", "type": "local.exec", "with": {"command": "echo hi"}}]}),
    )
    .await;
    let canary = "retry-canary-7f31";
    let first = run_job(
        &api,
        &admin,
        &flaky,
        json!({"parameters": {"who": "ops", "token": canary}}),
    )
    .await;
    assert_eq!(wait_end(&api, &admin, &first).await["status"], "failed");
    let good = run_job(&api, &admin, &fine, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &good).await["status"], "succeeded");

    // The retry, published twice (a redelivery, a second replica): one run.
    let again = retry(&flaky, &first, &first, 2);
    publish(bus, &again).await;
    publish(bus, &again).await;
    drained(bus).await;
    let runs = runs_of(&api, &admin, &flaky).await;
    assert_eq!(runs.len(), 2, "{runs:?}");
    let second = runs[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    let end = wait_end(&api, &admin, &second).await;
    assert_eq!(end["status"], "failed", "{end}");
    assert_eq!(end["attempt"], 2, "{end}");
    assert_eq!(end["retry_of"], json!(first));
    assert_eq!(end["retry_root"], json!(first));
    assert_eq!(end["trigger"]["kind"], "retry");
    assert_eq!(end["trigger"]["cause_run_id"], json!(first));
    assert_eq!(end["job_version"], 1);
    assert_eq!(end["parameters"], json!({"who": "ops", "token": "***"}));
    let out = steps(&api, &admin, &second).await;
    assert_eq!(
        out[0]["stdout"],
        json!(["who=ops token=***"]),
        "the secret reached the retry (redacted in its output): {out:?}"
    );
    let f = finished_of(bus, &second).await;
    assert_eq!(
        (f.attempt, f.retry_root.map(|r| r.to_string())),
        (2, Some(first.clone()))
    );
    // The chain shows on both runs.
    assert_eq!(
        run_view(&api, &admin, &first).await["retries"],
        json!([second])
    );
    assert_eq!(run_view(&api, &admin, &second).await["retries"], json!([]));

    // What must not be retried.
    let succeeded = retry(&fine, &good, &good, 2);
    let other_job = {
        let mut i = retry(&fine, &first, &first, 2);
        i.idempotency_key = Some("other-job".into());
        i
    };
    let with_parameters = {
        let mut i = retry(&flaky, &first, &first, 2);
        i.idempotency_key = Some("with-parameters".into());
        i.parameters.insert("who".into(), json!("mallory"));
        i
    };
    let beyond = retry(&flaky, &second, &first, 3);
    let twice = {
        let mut i = retry(&flaky, &first, &first, 2);
        i.idempotency_key = Some("twice".into());
        i
    };
    let wrong_kind = {
        let mut i = retry(&flaky, &first, &first, 2);
        i.idempotency_key = Some("wrong-kind".into());
        i.trigger.kind = TriggerKind::Integration;
        i
    };
    for bad in [
        &succeeded,
        &other_job,
        &with_parameters,
        &beyond,
        &twice,
        &wrong_kind,
    ] {
        publish(bus, bad).await;
    }
    let letters = dead_letters(bus, 6).await;
    drained(bus).await;
    assert!(
        !more_dead_letters_than(bus, 6).await,
        "exactly six dead letters"
    );
    let reason = |key: &str| {
        letter(&letters, key, |l| l.payload.contains(&format!("\"{key}\"")))
            .reason
            .clone()
    };
    assert!(reason(&format!("retry:{good}:2")).contains("is succeeded"));
    assert!(reason("other-job").contains("is not a run of job \"fine\""));
    assert!(reason("with-parameters").contains("give none"));
    assert!(reason(&format!("retry:{first}:3")).contains("beyond the policy's 1 retries"));
    assert!(reason("twice").contains("retried already"));
    assert!(reason("wrong-kind").contains("needs trigger kind retry"));
    for l in &letters {
        assert!(!l.payload.contains(canary), "no secret in a letter: {l:?}");
    }
    assert_eq!(runs_of(&api, &admin, &flaky).await.len(), 2, "no other run");
    assert_eq!(runs_of(&api, &admin, &fine).await.len(), 1, "no other run");
}
