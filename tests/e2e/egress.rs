//! The egress policy of a pool, end to end: an operator's job cannot read
//! the api's metrics through the worker's loopback, reach a cloud metadata
//! address, or follow a redirect there, and a connection test cannot be
//! used to probe the worker's ports — each refused with the rule named —
//! while a pool whose admin allowed loopback still reaches it.

use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, step, steps, wait_end};

const LOOPBACK_RULE: &str = "refused by the built-in rule for the worker's own loopback";
const PASSWORD: &str = "Corr3ct-Horse-Battery!";

/// A new user of `role`, logged in.
async fn as_user(api: &ApiServer, admin: &str, name: &str, role: &str) -> String {
    api.user(admin, name, role, PASSWORD).await;
    api.login(name, PASSWORD).await.0
}

fn api_port(api: &ApiServer) -> u16 {
    api.base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("the api's port")
}

/// One `http.get` job in `pool`, run as `token`; the run's end and its step.
async fn fetch(api: &ApiServer, token: &str, pool: &str, url: &str) -> (Value, Value) {
    let job = create_job(
        api,
        token,
        json!({
            "name": format!("fetch-{}", uuid::Uuid::now_v7().simple()),
            "pool": pool,
            "steps": [{"id": "get", "type": "http.get", "with": {"url": url}}]
        }),
    )
    .await;
    let run = run_job(api, token, &job, json!({})).await;
    let end = wait_end(api, token, &run).await;
    let items = steps(api, token, &run).await;
    (end, step(&items, "get", None).clone())
}

#[tokio::test]
async fn the_default_policy_refuses_loopback_metadata_and_redirects_there() {
    // A first hop the "lab" pool may reach (loopback) that redirects to a
    // metadata address: the redirect's target is what is refused.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = axum::Router::new().route(
        "/hop",
        get(|| async {
            (
                StatusCode::FOUND,
                [(header::LOCATION, "http://169.254.169.254/latest/meta-data/")],
            )
                .into_response()
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let api = ApiServer::start(&[]).await;
    let _strict = api
        .start_worker_with("default", &[("OPSC_WORKER_EGRESS_ALLOW", "")])
        .await;
    let _lab = api.start_worker("lab").await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;
    let viewer = as_user(&api, &admin, "view", "viewer").await;
    let metrics = format!("http://127.0.0.1:{}/metrics", api_port(&api));

    // The api's metrics over the worker's loopback, by address and by name.
    for url in [
        metrics.clone(),
        format!("http://localhost:{}/metrics", api_port(&api)),
    ] {
        let (end, get) = fetch(&api, &operator, "default", &url).await;
        assert_eq!(end["status"], "failed", "{end}");
        let error = get["error"].as_str().unwrap_or_default();
        assert!(error.contains(LOOPBACK_RULE), "{url}: {get}");
        assert_eq!(get["stdout"], json!([]), "nothing was fetched: {get}");
    }
    // A cloud metadata address: refused before any packet is sent.
    let (end, get) = fetch(
        &api,
        &operator,
        "default",
        "http://169.254.169.254/latest/meta-data/iam/",
    )
    .await;
    assert_eq!(end["status"], "failed", "{end}");
    assert!(
        get["error"]
            .as_str()
            .unwrap_or_default()
            .contains("refused by the built-in rule for cloud metadata addresses"),
        "{get}"
    );
    // A redirect to the metadata address, from a pool that may reach the
    // first hop: the second hop is checked too.
    let (end, get) = fetch(
        &api,
        &operator,
        "lab",
        &format!("http://127.0.0.1:{port}/hop"),
    )
    .await;
    assert_eq!(end["status"], "failed", "{end}");
    let error = get["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("egress to 169.254.169.254 refused by the built-in rule for cloud metadata"),
        "{get}"
    );
    // What the viewer reads of the refused runs holds no metrics.
    let (s, runs) = api
        .call(Method::GET, "/api/v1/runs?limit=50", Some(&viewer), None)
        .await;
    assert_eq!(s, 200, "{runs}");
    for run in runs["items"].as_array().unwrap() {
        let id = run["id"].as_str().unwrap();
        let items = steps(&api, &viewer, id).await;
        let text = Value::Array(items).to_string();
        assert!(!text.contains("process_"), "{text}");
    }

    // The same fetch in the pool whose admin allowed loopback works.
    let (end, get) = fetch(&api, &admin, "lab", &metrics).await;
    assert_eq!(end["status"], "succeeded", "{end} {get}");
    server.abort();
}

#[tokio::test]
async fn a_connection_test_cannot_probe_the_workers_own_ports() {
    let api = ApiServer::start(&[]).await;
    let _strict = api
        .start_worker_with("default", &[("OPSC_WORKER_EGRESS_ALLOW", "")])
        .await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;
    let (s, cred) = api
        .call(
            Method::POST,
            "/api/v1/credentials",
            Some(&admin),
            Some(json!({"name": "pw", "spec": {"type": "ssh_password", "username": "u", "password": "Secret-Passw0rd-1"},
                "scope": {"hosts": ["127.0.0.1"]}})),
        )
        .await;
    assert_eq!(s, 201, "{cred}");
    // Every port of the worker's loopback answers alike, so the test tells
    // nothing about what listens there.
    for port in [api_port(&api), 1] {
        let (s, target) = api
            .call(
                Method::POST,
                "/api/v1/targets",
                Some(&operator),
                Some(json!({"name": format!("scan-{port}"), "hostname": "127.0.0.1", "os_type": "linux",
                    "ssh": {"port": port, "credential_id": cred["id"], "connect_timeout_secs": 3}})),
            )
            .await;
        assert_eq!(s, 201, "{target}");
        let (s, reply) = api
            .call(
                Method::POST,
                &format!("/api/v1/targets/{}/test", target["id"].as_str().unwrap()),
                Some(&operator),
                None,
            )
            .await;
        assert_eq!(s, 200, "{reply}");
        assert_eq!(reply["ok"], false, "{reply}");
        assert_eq!(reply["stage"], "egress", "{reply}");
        assert!(
            reply["error"]
                .as_str()
                .unwrap_or_default()
                .contains(LOOPBACK_RULE),
            "{reply}"
        );
    }
}
