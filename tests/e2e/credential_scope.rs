//! Credential scope, end to end: an operator cannot point a credential at
//! a host of theirs — not by a new target, not by moving an admin's target,
//! not by an import — nor lower a connection's guard (`accept-new`,
//! `verify_tls: false`, WinRM Basic over HTTP); a run or a connection test
//! outside a credential's scope is refused naming both, before anything is
//! sealed; an admin's own target, inside the scope it widened, still works.

use std::sync::{Arc, Mutex};

use axum::http::HeaderMap;
use axum::routing::get;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job, wait_end};

const TOKEN: &str = "scope-bearer-5e1f0c9a";
const PASSWORD: &str = "Corr3ct-Horse-Battery!";

/// A listener on loopback recording the Authorization headers it gets.
async fn listener() -> (u16, Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let record = seen.clone();
    let app = axum::Router::new().route(
        "/{*path}",
        get(move |h: HeaderMap| {
            let record = record.clone();
            async move {
                let auth = h
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                record.lock().unwrap().push(auth);
                "ok"
            }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (port, seen, server)
}

async fn as_user(api: &ApiServer, admin: &str, name: &str, role: &str) -> String {
    api.user(admin, name, role, PASSWORD).await;
    api.login(name, PASSWORD).await.0
}

async fn post(api: &ApiServer, path: &str, token: &str, body: Value) -> (u16, Value) {
    let (s, b) = api.call(Method::POST, path, Some(token), Some(body)).await;
    (s, b)
}

fn detail(b: &Value) -> String {
    b["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn operators_cannot_send_a_credential_outside_its_scope() {
    let (port, seen, server) = listener().await;
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;

    // A new credential is usable nowhere until an admin says where.
    let (s, cred) = post(
        &api,
        "/api/v1/credentials",
        &admin,
        json!({"name": "deploy-api",
        "spec": {"type": "http_auth", "scheme": "bearer", "token": TOKEN}}),
    )
    .await;
    assert_eq!(s, 201, "{cred}");
    assert_eq!(cred["scope"]["hosts"], json!([]), "{cred}");
    let cred_id = cred["id"].as_str().unwrap().to_owned();

    // The admin's target widens the scope to its exact host.
    let http = |url: String| json!({"base_url": url, "credential_id": cred_id});
    let (s, target) = post(
        &api,
        "/api/v1/targets",
        &admin,
        json!({"name": "deploy",
        "hostname": "127.0.0.1", "os_type": "other",
        "http": http(format!("http://127.0.0.1:{port}/api"))}),
    )
    .await;
    assert_eq!(s, 201, "{target}");
    let target_id = target["id"].as_str().unwrap().to_owned();
    let (_, now) = api
        .call(
            Method::GET,
            &format!("/api/v1/credentials/{cred_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(now["scope"]["hosts"], json!(["127.0.0.1"]), "{now}");

    // The operator's own target pointing the credential at another host.
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &operator,
        json!({"name": "evil",
        "hostname": "localhost", "os_type": "other",
        "http": http(format!("https://localhost:{port}/steal"))}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    let d = detail(&b);
    assert!(
        d.contains("credential \"deploy-api\" may not be used with target \"evil\"")
            && d.contains("localhost is not in its hosts (127.0.0.1)"),
        "{d}"
    );
    // Moving the admin's target elsewhere.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/targets/{target_id}"),
            Some(&operator),
            Some(
                json!({"name": "deploy", "hostname": "127.0.0.1", "os_type": "other",
                "http": http(format!("https://localhost:{port}/steal"))}),
            ),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    // Importing one.
    let (s, b) = post(
        &api,
        "/api/v1/targets/import",
        &operator,
        json!([{"name": "evil2",
        "hostname": "localhost", "os_type": "other",
        "http": http(format!("https://localhost:{port}/x"))}]),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(detail(&b).contains("row 1"), "{b}");
    // Lowering the guard.
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &operator,
        json!({"name": "trusting",
        "hostname": "127.0.0.1", "os_type": "other",
        "http": {"base_url": format!("https://127.0.0.1:{port}/"), "credential_id": cred_id,
                 "verify_tls": false}}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(detail(&b).contains("http.verify_tls"), "{b}");
    // Sending the credential over plain http:// is an admin decision too.
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &operator,
        json!({"name": "plain", "hostname": "127.0.0.1", "os_type": "other",
            "http": http(format!("http://127.0.0.1:{port}/other"))}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(detail(&b).contains("http.base_url"), "{b}");
    // Nothing of that was stored.
    let (_, list) = api
        .call(Method::GET, "/api/v1/targets", Some(&admin), None)
        .await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    let (_, t) = api
        .call(
            Method::GET,
            &format!("/api/v1/targets/{target_id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(
        t["http"]["base_url"],
        format!("http://127.0.0.1:{port}/api")
    );

    // Inside the scope the operator may edit (a tag), and the run works.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/targets/{target_id}"),
            Some(&operator),
            Some(
                json!({"name": "deploy", "hostname": "127.0.0.1", "os_type": "other",
                "tags": ["web"], "http": http(format!("http://127.0.0.1:{port}/api"))}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let job = create_job(
        &api,
        &admin,
        json!({"name": "ping", "targets": {"targets": [target_id]},
        "steps": [{"id": "ping", "type": "http.get", "with": {"url": "/health"}}]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    assert_eq!(wait_end(&api, &admin, &run).await["status"], "succeeded");
    assert_eq!(
        seen.lock().unwrap().clone(),
        vec![format!("Bearer {TOKEN}")]
    );

    // An admin narrows the scope to targets tagged prod: the run is refused
    // before anything is sealed, naming both.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/credentials/{cred_id}"),
            Some(&admin),
            Some(json!({"scope": {"hosts": ["127.0.0.1"], "tags": ["prod"]}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(&api, &format!("/api/v1/jobs/{job}/run"), &admin, json!({})).await;
    assert_eq!(s, 403, "{b}");
    assert!(
        detail(&b).contains("credential \"deploy-api\" may not be used with target \"deploy\""),
        "{b}"
    );
    assert_eq!(seen.lock().unwrap().len(), 1, "nothing more was sent");
    server.abort();
}

#[tokio::test]
async fn connection_tests_and_guards_follow_the_scope() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;
    let (s, cred) = post(
        &api,
        "/api/v1/credentials",
        &admin,
        json!({"name": "ssh-pw",
        "spec": {"type": "ssh_password", "username": "u", "password": "Secret-Passw0rd-1"},
        "scope": {"hosts": ["*.lab.example", "10.20.0.0/16"]}}),
    )
    .await;
    assert_eq!(s, 201, "{cred}");
    let cred_id = cred["id"].as_str().unwrap().to_owned();
    let ssh =
        |policy: &str| json!({"port": 22, "credential_id": cred_id, "host_key_policy": policy});

    // Inside the scope an operator may add targets — but not accept-new.
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &operator,
        json!({"name": "db",
        "hostname": "db.lab.example", "os_type": "linux", "ssh": ssh("strict")}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let db_id = b["id"].as_str().unwrap().to_owned();
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &operator,
        json!({"name": "db2",
        "hostname": "10.20.1.2", "os_type": "linux", "ssh": ssh("accept-new")}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(detail(&b).contains("accept-new"), "{b}");
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &admin,
        json!({"name": "db2",
        "hostname": "10.20.1.2", "os_type": "linux", "ssh": ssh("accept-new")}),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    // An operator's edit that keeps the admin's accept-new is fine.
    let db2 = b["id"].as_str().unwrap().to_owned();
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/targets/{db2}"),
            Some(&operator),
            Some(
                json!({"name": "db2", "hostname": "10.20.1.2", "os_type": "linux",
                "tags": ["x"], "ssh": ssh("accept-new")}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    // Moving it would re-arm accept-new for whatever answers there.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/targets/{db2}"),
            Some(&operator),
            Some(
                json!({"name": "db2", "hostname": "10.20.1.3", "os_type": "linux",
                "ssh": ssh("accept-new")}),
            ),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    assert!(detail(&b).contains("moving a target"), "{b}");

    // WinRM Basic over plain HTTP is an admin decision.
    let (s, w) = post(&api, "/api/v1/credentials", &admin, json!({"name": "win",
        "spec": {"type": "winrm", "username": "u", "password": "Secret-Passw0rd-1", "auth": "basic"},
        "scope": {"hosts": ["*"]}})).await;
    assert_eq!(s, 201, "{w}");
    let (s, b) = post(
        &api,
        "/api/v1/targets",
        &operator,
        json!({"name": "win1",
        "hostname": "win1.lab.example", "os_type": "windows",
        "winrm": {"scheme": "http", "credential_id": w["id"]}}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(detail(&b).contains("Basic over plain HTTP"), "{b}");

    // The admin narrows the scope: the connection test is refused by the
    // api, naming both, and no worker is asked.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/credentials/{cred_id}"),
            Some(&admin),
            Some(json!({"scope": {"hosts": ["10.20.0.0/16"]}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(
        &api,
        &format!("/api/v1/targets/{db_id}/test"),
        &operator,
        json!({}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    let d = detail(&b);
    assert!(
        d.contains("credential \"ssh-pw\" may not be used with target \"db\"")
            && d.contains("db.lab.example is not in its hosts"),
        "{d}"
    );
    // A scope entry that is not a host is refused with its list named.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/credentials/{cred_id}"),
            Some(&admin),
            Some(json!({"scope": {"hosts": ["private"]}})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(detail(&b).contains("scope.hosts"), "{b}");
    // Operators cannot change a scope at all.
    let (s, _) = api
        .call(
            Method::PUT,
            &format!("/api/v1/credentials/{cred_id}"),
            Some(&operator),
            Some(json!({"scope": {"hosts": ["*"]}})),
        )
        .await;
    assert_eq!(s, 403);
}
