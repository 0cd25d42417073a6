//! What an operator or a bus publisher cannot do through schedules and
//! dependencies: move a schedule's stored secrets into a visible
//! parameter, crash previews with dates at the edges of time, or pass a
//! run off as a dependency's reaction.

use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunIntent, Trigger, TriggerKind};
use reqwest::Method;
use serde_json::json;

use crate::harness::letters::{dead_letters, letter};
use crate::harness::runs::{create_job, run_job, wait_end};
use crate::harness::{ApiServer, shared_nats_url, test_bus};

#[tokio::test]
async fn stored_secrets_and_dates_at_the_edges_are_refused_without_a_change() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let secretive = create_job(
        &api,
        &admin,
        json!({
            "name": "secretive", "parameters": {"token": {"type": "secret"}},
            "steps": [{"id": "s", "type": "local.exec", "with": {"command": "true"}}]
        }),
    )
    .await;
    let plain = create_job(&api, &admin, json!({
        "name": "plain", "parameters": {"token": {"type": "string"}},
        "steps": [{"id": "s", "type": "local.exec", "with": {"command": "echo {{ params.token }}"}}]
    }))
    .await;
    let canary = "stored-secret-canary-41c9";
    let (s, created) = api
        .call(Method::POST, "/api/v1/schedules", Some(&admin), Some(json!({
            "name": "holder", "job_id": secretive, "cron": "@daily", "parameters": {"token": canary}
        })))
        .await;
    assert_eq!(s, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    // Moving the schedule to a job where `token` is visible would show it.
    let (s, b) = api
        .call(
            Method::PATCH,
            &format!("/api/v1/schedules/{id}"),
            Some(&admin),
            Some(json!({"job_id": plain})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["path"], "/parameters", "{b}");
    assert!(!b.to_string().contains(canary));
    let (_, now) = api
        .call(
            Method::GET,
            &format!("/api/v1/schedules/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        (now["job_id"].as_str(), now["revision"].as_u64()),
        (Some(secretive.as_str()), Some(1)),
        "{now}"
    );
    assert!(!now.to_string().contains(canary));

    // Dates at the edges of time: refused, never a 500.
    for (field, value) in [
        ("start_at", "+262142-12-31T23:30:00Z"),
        ("end_at", "1900-01-01T00:00:00Z"),
    ] {
        let (s, b) = api
            .call(
                Method::POST,
                "/api/v1/schedules",
                Some(&admin),
                Some(json!({
                    "name": format!("edge-{field}"), "job_id": plain, "cron": "@daily",
                    "time_zone": "Europe/Berlin", field: value
                })),
            )
            .await;
        assert_eq!(s, 422, "{field}: {b}");
        assert_eq!(b["errors"][0]["path"], format!("/{field}"), "{b}");
    }
    let (s, b) = api
        .call(
            Method::GET,
            "/api/v1/schedules/calendar?from=-262143-01-01T00:00:00Z&to=-262143-01-02T00:00:00Z",
            Some(&admin),
            None,
        )
        .await;
    assert!((400..500).contains(&s), "{s} {b}");
    let (s, page) = api
        .call(Method::GET, "/api/v1/schedules", Some(&admin), None)
        .await;
    assert_eq!((s, page["total"].as_u64()), (200, Some(1)), "{page}");
}

#[tokio::test]
async fn a_run_cannot_be_passed_off_as_a_dependencys_reaction() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let _worker = api.start_worker("default").await;
    let job = |name: &str| json!({"name": name, "steps": [{"id": "s", "type": "local.exec", "with": {"command": "true"}}]});
    let a = create_job(&api, &admin, job("a")).await;
    let b = create_job(&api, &admin, job("b")).await;
    let unrelated = create_job(&api, &admin, job("unrelated")).await;
    let (s, dep) = api
        .call(
            Method::POST,
            "/api/v1/dependencies",
            Some(&admin),
            Some(json!({"upstream_job_id": a, "downstream_job_id": b, "on": "failure"})),
        )
        .await;
    assert_eq!(s, 201, "{dep}");
    let dep = dep["id"].as_str().unwrap().to_owned();
    let run_a = run_job(&api, &admin, &a, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run_a).await["status"], "succeeded");
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let bus = &rt.bus;
    let forged = |job: &str, actor: &str, key: &str| {
        let mut trigger = Trigger::new(TriggerKind::Dependency, actor);
        trigger.cause_run_id = Some(run_a.parse().unwrap());
        CloudEvent::new(
            "/e2e",
            RunIntent {
                job_id: Some(job.parse().unwrap()),
                job_name: None,
                job_version: None,
                parameters: Default::default(),
                sealed_parameters: None,
                targets: None,
                trigger,
                idempotency_key: Some(key.to_owned()),
                fence: None,
                retry_of: None,
                parameters_from: None,
            },
        )
    };
    let key = format!("dependency:{dep}:{run_a}");
    for intent in [
        // No such dependency.
        forged(&b, &uuid::Uuid::now_v7().to_string(), "dependency:none"),
        // The dependency, onto a job it does not start.
        forged(&unrelated, &dep, &key),
        // The dependency reacts on failure; A succeeded.
        forged(&b, &dep, &key),
        // A key of the scheduler's, on an integration intent.
        {
            let mut i = forged(&b, "ci", &key);
            i.data.trigger.kind = TriggerKind::Integration;
            i
        },
    ] {
        bus.publish(&intent).await.unwrap();
    }
    let letters = dead_letters(bus, 4).await;
    let reasons: Vec<&str> = letters.iter().map(|l| l.reason.as_str()).collect();
    assert!(
        reasons
            .iter()
            .filter(|r| r.contains("no enabled dependency"))
            .count()
            >= 2,
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("reacts on failure")),
        "{reasons:?}"
    );
    assert!(
        letter(&letters, "the integration", |l| l
            .reason
            .contains("belong to dependency intents"))
        .deliveries
            >= 1,
        "{reasons:?}"
    );
    let (_, runs) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs?job_id={b}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(runs["total"], 0, "{runs}");
}
