//! Dependency intents whose parameters come from the upstream run
//! (`parameters_from`): resolved at admission, and refused when a value is
//! missing, when no dependency links the runs, or when a secret would
//! become a visible parameter.

use opsc_proto::commands::{ParametersFrom, RunIntent, TriggerKind};
use reqwest::Method;
use serde_json::{Value, json};

use super::{drained, intent, publish, runs_of};
use crate::harness::letters::{dead_letters, letter, more_dead_letters_than};
use crate::harness::runs::{create_job, run_job, steps, wait_end};
use crate::harness::{ApiServer, shared_nats_url, test_bus};

/// The scheduler's intent for dependency `dep` after `upstream`.
fn dependent(job: &str, dep: &str, upstream: &str, key: &str, map: Value) -> RunIntent {
    let mut i = intent(job, TriggerKind::Dependency, dep, key);
    i.trigger.cause_run_id = Some(upstream.parse().unwrap());
    i.parameters_from = Some(ParametersFrom {
        run_id: upstream.parse().unwrap(),
        map: serde_json::from_value(map).unwrap(),
    });
    i
}

async fn depend(api: &ApiServer, token: &str, up: &str, down: &str, map: &Value) -> String {
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/dependencies",
            Some(token),
            Some(json!({
            "upstream_job_id": up, "downstream_job_id": down, "on": "success", "parameters": map})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn parameters_from_resolve_against_the_upstream_run_of_a_dependency() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let up = create_job(&api, &admin, json!({
        "name": "up", "parameters": {"x": {"type": "string"}, "tok": {"type": "secret"}},
        "steps": [{"id": "s", "type": "local.exec", "with": {"command": "echo '{\"a\": {\"b\": \"deep\"} }'"}}]}))
    .await;
    let down = create_job(&api, &admin, json!({
        "name": "down",
        "parameters": {"x2": {"type": "string"}, "out": {"type": "string"}, "b": {"type": "string"},
                       "code": {"type": "int"}, "sec": {"type": "secret"}, "extra": {"type": "string"}},
        "steps": [{"id": "say", "type": "local.exec", "with": {"command": "echo b={{ b }} sec={{ params.sec }}"}}]}))
    .await;
    let map = json!({"x2": "params.x", "out": "steps.s.stdout", "b": "steps.s.json.a.b",
                     "code": "steps.s.exit_code", "sec": "params.tok"});
    let dep = depend(&api, &admin, &up, &down, &map).await;
    let canary = "upstream-canary-0b7d";
    let upstream = run_job(
        &api,
        &admin,
        &up,
        json!({"parameters": {"x": "hello", "tok": canary}}),
    )
    .await;
    assert_eq!(
        wait_end(&api, &admin, &upstream).await["status"],
        "succeeded"
    );

    publish(
        bus,
        &dependent(
            &down,
            &dep,
            &upstream,
            &format!("dependency:{dep}:{upstream}"),
            map.clone(),
        ),
    )
    .await;
    drained(bus).await;
    let runs = runs_of(&api, &admin, &down).await;
    assert_eq!(runs.len(), 1, "{runs:?}");
    let run = runs[0]["id"].as_str().unwrap().to_owned();
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}");
    assert_eq!(end["trigger"]["kind"], "dependency");
    assert_eq!(end["trigger"]["cause_run_id"], json!(upstream));
    assert_eq!(
        end["parameters"],
        json!({"x2": "hello", "out": "{\"a\": {\"b\": \"deep\"} }", "b": "deep", "code": 0, "sec": "***",
               "extra": null}),
        "{end}"
    );
    let out = steps(&api, &admin, &run).await;
    assert_eq!(
        out[0]["stdout"],
        json!(["b=deep sec=***"]),
        "the secret reached the step: {out:?}"
    );

    // Refused: a missing key, a value given twice, an entry that is not
    // the dependency's (reading A's secret into a visible parameter), a
    // cause that is not the upstream run, an actor that is no dependency.
    let (s, b) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/dependencies/{dep}"),
            Some(&admin),
            Some(json!({"parameters": {"b": "steps.s.json.a.zzz", "x2": "params.x"}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let missing = dependent(
        &down,
        &dep,
        &upstream,
        "missing",
        json!({"b": "steps.s.json.a.zzz"}),
    );
    let mut twice = dependent(&down, &dep, &upstream, "twice", json!({"x2": "params.x"}));
    twice.parameters.insert("x2".into(), json!("mine"));
    let not_mapped = dependent(
        &down,
        &dep,
        &upstream,
        "not-mapped",
        json!({"extra": "params.tok"}),
    );
    let mut wrong_cause = dependent(
        &down,
        &dep,
        &upstream,
        "wrong-cause",
        json!({"x2": "params.x"}),
    );
    wrong_cause.trigger.cause_run_id = Some(uuid::Uuid::now_v7());
    let no_dependency = dependent(
        &down,
        &uuid::Uuid::now_v7().to_string(),
        &upstream,
        "no-dependency",
        json!({"x2": "params.x"}),
    );

    // A secret that was not one when the dependency was saved: A's new
    // version makes `tok` secret; it must not reach B's visible `vis`.
    let up2 = create_job(
        &api,
        &admin,
        json!({
        "name": "up2", "parameters": {"tok": {"type": "string"}},
        "steps": [{"id": "s", "type": "local.exec", "with": {"command": "true"}}]}),
    )
    .await;
    let down2 = create_job(
        &api,
        &admin,
        json!({
        "name": "down2", "parameters": {"vis": {"type": "string"}},
        "steps": [{"id": "s", "type": "local.exec", "with": {"command": "echo {{ vis }}"}}]}),
    )
    .await;
    let map2 = json!({"vis": "params.tok"});
    let dep2 = depend(&api, &admin, &up2, &down2, &map2).await;
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/jobs/{up2}"),
            Some(&admin),
            Some(json!({
            "name": "up2", "parameters": {"tok": {"type": "secret"}},
            "steps": [{"id": "s", "type": "local.exec", "with": {"command": "true"}}]})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let secret_run = run_job(&api, &admin, &up2, json!({"parameters": {"tok": canary}})).await;
    assert_eq!(
        wait_end(&api, &admin, &secret_run).await["status"],
        "succeeded"
    );
    let leak = dependent(&down2, &dep2, &secret_run, "leak", map2);
    // The dependency's own reaction only: one run per upstream end, on
    // B's own targets.
    let fan_out = dependent(&down, &dep, &upstream, "fan-out", json!({"x2": "params.x"}));
    let mut targeted = dependent(
        &down,
        &dep,
        &upstream,
        &format!("dependency:{dep}:{upstream}"),
        json!({"x2": "params.x"}),
    );
    targeted.targets = Some(opsc_proto::commands::TargetSelection {
        tags: vec!["elsewhere".into()],
        ..Default::default()
    });
    targeted.job_version = Some(1);

    for bad in [
        &missing,
        &twice,
        &not_mapped,
        &wrong_cause,
        &no_dependency,
        &leak,
        &fan_out,
        &targeted,
    ] {
        publish(bus, bad).await;
    }
    let letters = dead_letters(bus, 8).await;
    drained(bus).await;
    assert!(
        !more_dead_letters_than(bus, 8).await,
        "exactly eight dead letters"
    );
    let reason = |key: &str| {
        letter(&letters, key, |l| l.payload.contains(&format!("\"{key}\"")))
            .reason
            .clone()
    };
    let r = reason("missing");
    assert!(
        r.contains("\"b\" ← \"steps.s.json.a.zzz\"") && r.contains("has no"),
        "{r}"
    );
    assert!(reason("twice").contains("both in parameters and in parameters_from"));
    assert!(reason("not-mapped").contains("not in the dependency's mapping"));
    assert!(reason("wrong-cause").contains("cause_run_id"));
    assert!(reason("no-dependency").contains("no enabled dependency"));
    assert!(reason("leak").contains("a secret value may only feed a secret parameter"));
    assert!(reason("fan-out").contains("idempotency key must be"));
    let targeted_reason = letters
        .iter()
        .find(|l| l.payload.contains("elsewhere"))
        .map(|l| l.reason.clone())
        .unwrap_or_default();
    assert!(
        targeted_reason.contains("no targets or job_version"),
        "{targeted_reason}"
    );
    for l in &letters {
        assert!(!l.payload.contains(canary), "no secret in a letter: {l:?}");
    }
    assert_eq!(runs_of(&api, &admin, &down).await.len(), 1, "no other run");
    assert!(
        runs_of(&api, &admin, &down2).await.is_empty(),
        "no run of down2"
    );
}
