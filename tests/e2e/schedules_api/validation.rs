//! Every refusal of a schedule names its field, and changes nothing.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{body, call, create, job_def, paths, post};
use crate::harness::ApiServer;
use crate::harness::runs::create_job;

#[tokio::test]
async fn invalid_schedules_are_refused_naming_the_field_and_change_nothing() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let job = create_job(&api, &admin, job_def("validated")).await;
    let with = |patch: Value| {
        let mut b = body(&job, "v");
        for (k, v) in patch.as_object().unwrap() {
            b[k] = v.clone();
        }
        b
    };
    let cases = [
        (
            with(json!({"cron": "61 * * * *"})),
            "/cron",
            "invalid cron expression",
        ),
        (
            with(json!({"cron": "every day"})),
            "/cron",
            "invalid cron expression",
        ),
        (
            with(json!({"time_zone": "Mars/Olympus_Mons"})),
            "/time_zone",
            "unknown time zone",
        ),
        (with(json!({"cron": "0 0 30 2 *"})), "/cron", "never fires"),
        (
            with(json!({"misfire": {"mode": "run_all", "max_age_secs": 0}})),
            "/misfire",
            "max_age_secs",
        ),
        (
            with(json!({"misfire": {"max_count": 5000}})),
            "/misfire",
            "max_count",
        ),
        (
            with(json!({"misfire": {"stagger_ms": -1}})),
            "/misfire/stagger_ms",
            "",
        ),
        (
            with(json!({"misfire": {"mode": "sometimes"}})),
            "/misfire/mode",
            "",
        ),
        (with(json!({"job_id": Uuid::now_v7()})), "/job_id", "no job"),
        (
            with(json!({"job_id": null, "job_name": "no-such-job"})),
            "/job_name",
            "no job",
        ),
        (
            with(json!({"job_id": null})),
            "/job_id",
            "one of job_id and job_name",
        ),
        (
            with(json!({"parameters": {}})),
            "/parameters/who",
            "required",
        ),
        (
            with(json!({"parameters": {"who": "x", "nope": 1}})),
            "/parameters/nope",
            "unknown parameter",
        ),
        (
            with(json!({"start_at": "2027-01-02T00:00:00Z", "end_at": "2027-01-01T00:00:00Z"})),
            "/end_at",
            "after start_at",
        ),
        (with(json!({"name": ""})), "/name", ""),
        (with(json!({"name": "n".repeat(101)})), "/name", ""),
        (
            with(json!({"targets": {"targets": [Uuid::now_v7()]}})),
            "/targets",
            "no target",
        ),
        (with(json!({"paused": true})), "/paused", "unknown field"),
    ];
    for (b, path, says) in cases {
        let (s, p) = post(&api, &admin, b.clone()).await;
        assert_eq!(s, 422, "{b}: {p}");
        assert_eq!(p["status"], 422, "problem+json: {p}");
        assert!(paths(&p).contains(&path.to_owned()), "{path} in {p}");
        assert!(p.to_string().contains(says), "{says} in {p}");
    }
    let (_, page) = call(&api, Method::GET, "/api/v1/schedules", &admin, None).await;
    assert_eq!(page["total"], 0, "nothing was created: {page}");

    // Refused changes change nothing either; a taken name is a conflict.
    let id = create(&api, &admin, body(&job, "kept")).await;
    create(&api, &admin, body(&job, "other")).await;
    let at = format!("/api/v1/schedules/{id}");
    for (patch, status) in [
        (json!({"cron": "0 0 31 2 *"}), 422),
        (json!({"time_zone": "Nowhere"}), 422),
        (json!({"name": "other"}), 409),
        (json!({"cron": null}), 422),
    ] {
        let (s, p) = call(&api, Method::PATCH, &at, &admin, Some(patch.clone())).await;
        assert_eq!(s, status, "{patch}: {p}");
    }
    let (_, v) = call(&api, Method::GET, &at, &admin, None).await;
    assert_eq!(
        (v["revision"].clone(), v["cron"].clone(), v["name"].clone()),
        (json!(1), json!("0 3 * * *"), json!("kept"))
    );
    assert_eq!(post(&api, &admin, body(&job, "kept")).await.0, 409);
    api.stop().await;
}
