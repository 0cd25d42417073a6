//! HTTP steps end to end: an HTTP target with a bearer credential, an
//! `http.post` against a real listener, and a later step reading its JSON
//! answer through `steps.<id>.json`. The token never reaches the API.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, step, steps, wait_end};

const TOKEN: &str = "e2e-bearer-7c1d9a2f";

/// What the listener received: the Authorization header and the body.
type Received = Arc<Mutex<Vec<(String, Value)>>>;

/// `POST /api/deploy`: needs the bearer token; echoes what it got, the
/// Authorization header included (the worker must mask it).
async fn deploy(
    State(received): State<Received>,
    headers: HeaderMap,
    axum::Json(body): axum::Json<Value>,
) -> Response {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    received.lock().unwrap().push((auth.clone(), body.clone()));
    if auth != format!("Bearer {TOKEN}") {
        return (StatusCode::UNAUTHORIZED, "no").into_response();
    }
    (
        StatusCode::CREATED,
        axum::Json(
            json!({"deployment": {"id": "dep-42", "service": body["service"]},
                          "seen_auth": auth}),
        ),
    )
        .into_response()
}

#[tokio::test]
async fn an_http_step_on_a_target_feeds_its_json_to_the_next_step() {
    let received = Received::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new()
        .route("/api/deploy", post(deploy))
        .with_state(received.clone());
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let (s, cred) = api
        .call(
            Method::POST,
            "/api/v1/credentials",
            Some(&admin),
            Some(json!({"name": "deploy-api", "spec": {"type": "http_auth", "scheme": "bearer", "token": TOKEN}})),
        )
        .await;
    assert_eq!(s, 201, "{cred}");
    let (s, target) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(&admin),
            Some(
                json!({"name": "deploy-api", "hostname": "127.0.0.1", "os_type": "other",
                        "http": {"base_url": format!("http://127.0.0.1:{port}/api"),
                                 "credential_id": cred["id"]}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{target}");
    let target_id = target["id"].as_str().unwrap().to_owned();

    let job = create_job(&api, &admin, json!({
        "name": "deploy-over-http",
        "parameters": {"svc": {"type": "string", "required": true}},
        "targets": {"targets": [target_id]},
        "steps": [
            {"id": "deploy", "type": "http.post",
             "with": {"url": "/deploy", "json": {"service": "{{ svc }}"}, "expect_status": 201}},
            {"id": "report", "type": "local.exec",
             "with": {"command": "echo deployed {{ steps.deploy.json.deployment.id }} of {{ steps.deploy.json.deployment.service }} with {{ steps.deploy.exit_code }}"}}
        ]
    })).await;
    let run = run_job(&api, &admin, &job, json!({"parameters": {"svc": "web"}})).await;
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}");

    let got = received.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, format!("Bearer {TOKEN}"));
    assert_eq!(got[0].1, json!({"service": "web"}));

    let items = steps(&api, &admin, &run).await;
    let deploy = step(&items, "deploy", Some(&target_id));
    assert_eq!(deploy["status"], "succeeded", "{deploy}");
    assert_eq!(deploy["exit_code"], 201, "{deploy}");
    let body: Value = serde_json::from_str(deploy["stdout"][0].as_str().unwrap()).unwrap();
    assert_eq!(body["deployment"]["id"], "dep-42");
    assert_eq!(
        body["seen_auth"], "Bearer ***",
        "the echoed token is masked"
    );
    let stderr = deploy["stderr"].to_string();
    assert!(stderr.contains("201 Created"), "{stderr}");
    assert_eq!(
        step(&items, "report", Some(&target_id))["stdout"][0],
        "deployed dep-42 of web with 201"
    );

    // The token appears in no API answer: steps, run, live stream.
    let (_, all_steps) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}/steps"),
            Some(&admin),
            None,
        )
        .await;
    let stream = api
        .req(
            Method::GET,
            &format!("/api/v1/runs/{run}/stream"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(stream.contains("dep-42"), "{stream}");
    for (what, text) in [
        ("steps", all_steps.to_string()),
        ("run", end.to_string()),
        ("stream", stream),
    ] {
        assert!(
            !text.contains(TOKEN),
            "the token is in the {what} answer: {text}"
        );
    }
    server.abort();
    api.stop().await;
}
