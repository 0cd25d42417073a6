//! What a dependency is refused for: each problem located, with a reason,
//! and nothing stored or mirrored; cycles named, also between requests
//! sent at once.

use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{call, create, downstream_def, link, post, total, upstream_def};
use crate::harness::runs::create_job;
use crate::harness::{ApiServer, shared_nats_url, test_bus};

/// The `(path, message)` pairs of a problem.
fn located(problem: &Value) -> Vec<(String, String)> {
    problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| {
                    (
                        e["path"].as_str().unwrap_or_default().to_owned(),
                        e["message"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn refused_dependencies_are_located_and_store_nothing() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let a = create_job(&api, &admin, upstream_def("job-a")).await;
    let b = create_job(&api, &admin, downstream_def("job-b")).await;
    let strict = create_job(
        &api,
        &admin,
        json!({"name": "strict",
        "parameters": {"must": {"type": "string", "required": true}},
        "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]}),
    )
    .await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("schedules").await.unwrap();
    let with = |field: &str, value: Value| {
        let mut body = link(&a, &b);
        body[field] = value;
        body
    };
    let mapping = |m: Value| with("parameters", m);
    let nobody = Uuid::now_v7().to_string();
    let cases: Vec<(Value, &str, &str)> = vec![
        (link(&nobody, &b), "/upstream_job_id", "no job"),
        (link(&a, &nobody), "/downstream_job_id", "no job"),
        (
            json!({"upstream_job_name": "nope", "downstream_job_id": b}),
            "/upstream_job_name",
            "no job named \"nope\"",
        ),
        (
            json!({"upstream_job_id": a, "upstream_job_name": "job-b", "downstream_job_id": b}),
            "/upstream_job_name",
            "is named",
        ),
        (
            json!({"downstream_job_id": b}),
            "/upstream_job_id",
            "required",
        ),
        (
            link(&a, &a),
            "/downstream_job_id",
            "cannot depend on itself",
        ),
        (with("within_secs", json!(0)), "/within_secs", "1 to 604800"),
        (
            with("within_secs", json!(604_801)),
            "/within_secs",
            "1 to 604800",
        ),
        (
            mapping(json!({"svc": "svc"})),
            "/parameters/svc",
            "is not a source",
        ),
        (
            mapping(json!({"svc": "params."})),
            "/parameters/svc",
            "names no parameter",
        ),
        (
            mapping(json!({"svc": "steps.check"})),
            "/parameters/svc",
            "says nothing of the step",
        ),
        (
            mapping(json!({"svc": "steps.check.stderr"})),
            "/parameters/svc",
            "is not a source",
        ),
        (
            mapping(json!({"svc": "steps.check.json"})),
            "/parameters/svc",
            "is not a source",
        ),
        (
            mapping(json!({"svc": "steps.check.json.a..b"})),
            "/parameters/svc",
            "single dots",
        ),
        (
            mapping(json!({"svc": "params.nope"})),
            "/parameters/svc",
            "job \"job-a\" has no parameter \"nope\"",
        ),
        (
            mapping(json!({"svc": "steps.nope.stdout"})),
            "/parameters/svc",
            "job \"job-a\" has no step \"nope\"",
        ),
        (
            mapping(json!({"svc": "params.svc", "ghost": "params.svc"})),
            "/parameters/ghost",
            "job \"job-b\" has no parameter \"ghost\"",
        ),
        (
            mapping(json!({"svc": "params.svc", "note": "params.token"})),
            "/parameters/note",
            "is secret",
        ),
        // B's required parameter is neither mapped nor defaulted: its runs
        // would all be refused.
        (
            json!({"upstream_job_id": a, "downstream_job_id": strict}),
            "/parameters/must",
            "required",
        ),
        (
            link(&a, &b)
                .as_object()
                .map(|o| {
                    let mut o = o.clone();
                    o.remove("parameters");
                    Value::Object(o)
                })
                .unwrap(),
            "/parameters/svc",
            "required",
        ),
    ];
    for (body, path, message) in cases {
        let (s, p) = post(&api, &admin, body.clone()).await;
        assert_eq!(s, 422, "{body}: {p}");
        assert_eq!(
            p["type"].as_str().map(|t| t.ends_with("invalid-body")),
            Some(true),
            "{p}"
        );
        let found = located(&p);
        assert!(
            found.iter().any(|(p, m)| p == path && m.contains(message)),
            "{body}: expected {path} {message:?}, got {found:?}"
        );
    }
    // Unknown fields and bad enum values are refused by the body's shape.
    for body in [with("on", json!("sometimes")), with("after", json!(1))] {
        let (s, p) = post(&api, &admin, body.clone()).await;
        assert_eq!(s, 422, "{body}: {p}");
    }
    assert_eq!(total(&api, &admin).await, 0, "nothing stored");
    let keys: Vec<String> = futures::TryStreamExt::try_collect(store.keys().await.unwrap())
        .await
        .unwrap();
    assert!(
        !keys.iter().any(|k| k.starts_with("dependency.")),
        "{keys:?}"
    );

    // One dependency per pair of jobs; the refused PATCH changes nothing.
    let id = create(&api, &admin, link(&a, &b)).await;
    let (s, p) = post(&api, &admin, link(&a, &b)).await;
    assert_eq!(s, 409, "{p}");
    let at = format!("/api/v1/dependencies/{id}");
    let (s, p) = call(
        &api,
        Method::PATCH,
        &at,
        &admin,
        Some(json!({"parameters": {"svc": "params.nope"}})),
    )
    .await;
    assert_eq!(
        (s, located(&p)[0].0.as_str()),
        (422, "/parameters/svc"),
        "{p}"
    );
    let (_, v) = call(&api, Method::GET, &at, &admin, None).await;
    assert_eq!(
        (v["revision"].clone(), v["parameters"].clone()),
        (json!(1), json!({"svc": "params.svc"}))
    );
    assert_eq!(total(&api, &admin).await, 1);
    api.stop().await;
}

#[tokio::test]
async fn cycles_are_refused_naming_them_even_between_concurrent_requests() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let mut ids = Vec::new();
    for name in ["a", "b", "c", "d"] {
        let mut def = upstream_def(name);
        def["parameters"]["svc"]["required"] = json!(false);
        ids.push(create_job(&api, &admin, def).await);
    }
    let (a, b, c, d) = (&ids[0], &ids[1], &ids[2], &ids[3]);
    let plain = |up: &str, down: &str| json!({"upstream_job_id": up, "downstream_job_id": down});
    create(&api, &admin, plain(a, b)).await;
    // A cycle of two.
    let (s, p) = post(&api, &admin, plain(b, a)).await;
    assert_eq!(s, 422, "{p}");
    assert!(
        located(&p).iter().any(|(_, m)| m.contains("b → a → b")),
        "{p}"
    );
    // A cycle of three, named from the new dependency on.
    create(&api, &admin, plain(b, c)).await;
    let (s, p) = post(&api, &admin, plain(c, a)).await;
    assert_eq!(s, 422, "{p}");
    let found = located(&p);
    assert!(
        found
            .iter()
            .any(|(path, m)| path == "/downstream_job_id" && m.contains("c → a → b → c")),
        "{found:?}"
    );
    // A PATCH that would close one is refused too, and changes nothing.
    let cd = create(&api, &admin, plain(c, d)).await;
    let at = format!("/api/v1/dependencies/{cd}");
    let (s, p) = call(
        &api,
        Method::PATCH,
        &at,
        &admin,
        Some(json!({"downstream_job_id": a})),
    )
    .await;
    assert!(
        s == 422 && p.to_string().contains("c → a → b → c"),
        "{s} {p}"
    );
    assert_eq!(
        call(&api, Method::GET, &at, &admin, None).await.1["downstream_job_id"],
        json!(d)
    );
    // Chains without a cycle are fine (a → b → c → d, and a → d).
    create(&api, &admin, plain(a, d)).await;
    assert_eq!(total(&api, &admin).await, 4);

    // Two requests at once, each half of a cycle: exactly one is stored.
    let mut pairs = Vec::new();
    for i in 0..6 {
        let x = create_job(&api, &admin, json!({"name": format!("x{i}"), "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]})).await;
        let y = create_job(&api, &admin, json!({"name": format!("y{i}"), "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]})).await;
        pairs.push((x, y));
    }
    let races = pairs.iter().map(|(x, y)| {
        let (api, admin) = (&api, &admin);
        async move { tokio::join!(post(api, admin, plain(x, y)), post(api, admin, plain(y, x))) }
    });
    for ((s1, p1), (s2, p2)) in futures::future::join_all(races).await {
        let mut got = [s1, s2];
        got.sort_unstable();
        assert_eq!(got, [201, 422], "{p1} {p2}");
    }
    assert_eq!(total(&api, &admin).await, 4 + 6);
    api.stop().await;
}
