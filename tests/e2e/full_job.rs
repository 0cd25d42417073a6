//! One job that uses every family on several targets at once — local, SSH,
//! SFTP, WinRM and HTTP — run through the api and a worker against the real
//! sshd, the WinRM test peer and a real HTTP listener; its history and
//! output are checked, and canary secrets (a secret parameter, an SSH key, a
//! WinRM password, an HTTP token) are looked for everywhere they must not
//! be: every message on the bus, the database, both processes' logs, and the
//! API's answers.

use std::os::unix::fs::PermissionsExt as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use futures::StreamExt as _;
use opsc_winrm_peer::{PeerConfig, PeerUser, WinrmPeer};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job, steps, wait_end};
use crate::harness::{ApiServer, Sshd, shared_nats_url};

const PARAM_CANARY: &str = "canary-param-5d1e0b";
const HTTP_CANARY: &str = "canary-http-9a7c44";
const WIN_CANARY: &str = "Canary-Win-3f81aa";

/// A deployment API: checks the bearer token, answers 201 with an id.
async fn deploy_api() -> (u16, Arc<Mutex<Vec<Value>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/api/deploy",
            post(
                |State(seen): State<Arc<Mutex<Vec<Value>>>>,
                 headers: HeaderMap,
                 body: axum::Json<Value>| async move {
                    let auth = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default();
                    if auth != format!("Bearer {HTTP_CANARY}") {
                        return (StatusCode::UNAUTHORIZED, axum::Json(json!({})));
                    }
                    seen.lock().unwrap().push(body.0);
                    (
                        StatusCode::CREATED,
                        axum::Json(json!({"deployment": {"id": "d-7"}})),
                    )
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, seen)
}

async fn created(api: &ApiServer, token: &str, path: &str, body: Value) -> String {
    let (s, b) = api.call(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(s, 201, "{path}: {b}");
    b["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn one_job_runs_local_ssh_sftp_winrm_and_http_steps_on_several_targets() {
    let api = ApiServer::start(&[]).await;
    let worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let peer = WinrmPeer::start(PeerConfig::new(
        "WIN-FULL01",
        vec![PeerUser::local("opsuser", WIN_CANARY)],
    ))
    .await
    .expect("the WinRM test peer starts");
    let (http_port, seen) = deploy_api().await;

    // Everything on the bus under this installation's prefix, from now on.
    let nats = async_nats::connect(shared_nats_url()).await.unwrap();
    let mut sub = nats.subscribe(format!("{}.>", api.prefix)).await.unwrap();
    let bus_text = Arc::new(Mutex::new(String::new()));
    let sink = bus_text.clone();
    let capture = tokio::spawn(async move {
        while let Some(m) = sub.next().await {
            let mut t = sink.lock().unwrap();
            t.push_str(&m.subject);
            t.push(' ');
            t.push_str(&String::from_utf8_lossy(&m.payload));
            t.push('\n');
        }
    });

    let key = sshd.key_plain();
    let ssh_cred = created(&api, &admin, "/api/v1/credentials",
        json!({"name": "linux-key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": key}})).await;
    let win_cred = created(&api, &admin, "/api/v1/credentials",
        json!({"name": "win", "spec": {"type": "winrm", "username": "opsuser", "password": WIN_CANARY, "auth": "ntlm"}})).await;
    let http_cred = created(&api, &admin, "/api/v1/credentials",
        json!({"name": "deploy-api", "spec": {"type": "http_auth", "scheme": "bearer", "token": HTTP_CANARY}})).await;
    let mut linux = Vec::new();
    for name in ["web-1", "web-2"] {
        let id = created(&api, &admin, "/api/v1/targets",
            json!({"name": name, "hostname": "127.0.0.1", "os_type": "linux", "tags": ["linux"],
                   "ssh": {"port": sshd.port, "credential_id": ssh_cred, "host_key_policy": "accept-new"}})).await;
        let (_, tested) = api
            .call(
                Method::POST,
                &format!("/api/v1/targets/{id}/test"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!(tested["ok"], true, "{tested}");
        linux.push(id);
    }
    let win = created(
        &api,
        &admin,
        "/api/v1/targets",
        json!({"name": "win-1", "hostname": "127.0.0.1", "os_type": "windows",
               "winrm": {"scheme": "http", "port": peer.port(), "credential_id": win_cred}}),
    )
    .await;
    let web = created(&api, &admin, "/api/v1/targets",
        json!({"name": "deploy-api", "hostname": "127.0.0.1", "os_type": "other",
               "http": {"base_url": format!("http://127.0.0.1:{http_port}/api"), "credential_id": http_cred}})).await;

    // Where the SFTP uploads land (written as the SSH test account).
    let dir = tempfile::Builder::new()
        .prefix("opsc-full-")
        .tempdir_in("/tmp")
        .unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let d = dir.path().display().to_string();

    let job = create_job(&api, &admin, json!({
        "name": "release",
        "parameters": {
            "build_tag": {"type": "string", "required": true, "pattern": "^[a-z0-9-]+$"},
            "api_key": {"type": "secret", "required": true}
        },
        "steps": [
            {"id": "prep", "type": "local.exec",
             "with": {"command": "printf '{\"build\":\"%s\"}\\n' {{ build_tag }}"}},
            {"id": "remote", "type": "ssh.exec", "targets": {"tags": ["linux"]},
             "with": {"command": "echo built {{ steps.prep.json.build }} on $(hostname)"}},
            {"id": "upload", "type": "sftp.upload", "targets": {"tags": ["linux"]},
             "with": {"content": "release {{ steps.prep.json.build }}\n",
                      "dest": format!("{d}/{{{{ target.name }}}}.txt"), "mode": "0640"}},
            {"id": "check", "type": "ssh.exec", "targets": {"tags": ["linux"]},
             "with": {"command": format!("cat {d}/{{{{ target.name }}}}.txt; echo key={{{{ api_key }}}}")}},
            {"id": "optional", "type": "ssh.exec", "targets": {"tags": ["linux"]},
             "continue_on_error": true, "with": {"command": "exit 3"}},
            {"id": "win", "type": "winrm.exec", "targets": {"targets": [win]},
             "with": {"script": "Write-Output \"on $env:COMPUTERNAME\"\nWrite-Output {{ steps.prep.json.build }}"}},
            {"id": "notify", "type": "http.post", "targets": {"targets": [web]},
             "with": {"url": "/deploy", "json": {"build": "{{ steps.prep.json.build }}"}, "expect_status": 201}},
            {"id": "report", "type": "local.exec", "targets": {"targets": [web]},
             "with": {"command": "echo deployment {{ steps.notify.json.deployment.id }}"}},
            // Encoded, and in an error text: redacted all the same.
            {"id": "encoded", "type": "local.exec", "targets": {"targets": [web]},
             "with": {"command": "printf %s {{ api_key }} | base64; printf %s {{ api_key }} | od -An -tx1 | tr -d ' \\n'; echo"}},
            {"id": "badshell", "type": "local.exec", "targets": {"targets": [web]}, "continue_on_error": true,
             "with": {"command": "true", "shell": "/nonexistent/{{ api_key }}"}}
        ]
    })).await;
    let run = run_job(
        &api,
        &admin,
        &job,
        json!({"parameters": {"build_tag": "b-42", "api_key": PARAM_CANARY}}),
    )
    .await;
    let end = wait_end(&api, &admin, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}\n{}", worker.output());
    let items = steps(&api, &admin, &run).await;
    let at = |id: &str, target: &str| -> Value {
        items
            .iter()
            .find(|s| s["step_id"] == id && s["target_id"] == target)
            .unwrap_or_else(|| panic!("no step {id} on {target}: {items:?}"))
            .clone()
    };
    let host = std::process::Command::new("hostname").output().unwrap();
    let host = String::from_utf8_lossy(&host.stdout).trim().to_owned();
    for (t, name) in linux.iter().zip(["web-1", "web-2"]) {
        assert_eq!(at("prep", t)["stdout"], json!(["{\"build\":\"b-42\"}"]));
        assert_eq!(
            at("remote", t)["stdout"],
            json!([format!("built b-42 on {host}")])
        );
        assert_eq!(
            at("upload", t)["status"],
            "succeeded",
            "{}",
            at("upload", t)
        );
        let file = dir.path().join(format!("{name}.txt"));
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "release b-42\n");
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // The secret parameter reached the command, and its output is redacted.
        assert_eq!(at("check", t)["stdout"], json!(["release b-42", "key=***"]));
        let optional = at("optional", t);
        assert_eq!(optional["status"], "failed");
        assert_eq!(optional["exit_code"], 3);
    }
    let w = at("win", &win);
    assert_eq!(w["status"], "succeeded", "{w}");
    assert_eq!(w["stdout"], json!(["on WIN-FULL01", "b-42"]));
    assert_eq!(at("notify", &web)["exit_code"], 201);
    assert_eq!(at("report", &web)["stdout"], json!(["deployment d-7"]));
    assert_eq!(
        at("encoded", &web)["stdout"],
        json!(["***", "***"]),
        "{}",
        at("encoded", &web)
    );
    let bad = at("badshell", &web);
    assert_eq!(bad["status"], "failed", "{bad}");
    assert!(
        bad["error"].as_str().unwrap().contains("/nonexistent/***"),
        "{bad}"
    );
    assert_eq!(seen.lock().unwrap().clone(), vec![json!({"build": "b-42"})]);
    // Steps run only where they were addressed: 5 on each Linux target
    // (prep and the four addressed to it), prep and win on Windows, prep,
    // notify, report, encoded and badshell on the API target.
    assert_eq!(items.len(), 5 * 2 + 2 + 5, "{items:?}");

    // Canaries: nowhere in clear.
    let (_, run_view) = api
        .call(
            Method::GET,
            &format!("/api/v1/runs/{run}"),
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    capture.abort();
    let bus = bus_text.lock().unwrap().clone();
    assert!(bus.contains("step_finished"), "the capture saw the run");
    let dump = api.db.as_ref().unwrap().dump_text().await;
    let key_body = key.lines().find(|l| l.len() > 40).unwrap().to_owned();
    let places = [
        ("the bus", bus),
        ("the database", dump),
        ("the api log", api.process.output()),
        ("the worker log", worker.output()),
        ("the steps API", Value::Array(items.clone()).to_string()),
        ("the run API", run_view.to_string()),
        ("the stream", stream),
    ];
    let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, PARAM_CANARY);
    let hex: String = PARAM_CANARY.bytes().map(|b| format!("{b:02x}")).collect();
    for canary in [
        PARAM_CANARY,
        HTTP_CANARY,
        WIN_CANARY,
        key_body.as_str(),
        &b64,
        &hex,
    ] {
        for (place, text) in &places {
            assert!(!text.contains(canary), "{canary} is in {place} in clear");
        }
    }
    drop(peer);
    api.stop().await;
}
