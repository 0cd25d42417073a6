//! Job ownership end to end: operators edit and run only the jobs they own
//! or hold a grant on, and a re-run replays secret parameters only to who
//! started the run. The attack refused: an operator who may edit an admin's
//! job changes it to print a secret parameter, then re-runs the admin's run
//! to have the admin's secret printed by their version.

use reqwest::Method;
use serde_json::{Value, json};
use sha2::Digest as _;

use crate::harness::runs::{create_job, run_job, step, steps, wait_end};
use crate::harness::{ApiServer, Sshd};

const PASSWORD: &str = "ownership-pass-for-tests-1";

/// Sends a request; status, `Content-Type` and JSON body (Null when none).
async fn send(
    api: &ApiServer,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, String, Value) {
    let mut r = api.req(method, path, Some(token));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let res = r.send().await.unwrap();
    let status = res.status().as_u16();
    let kind = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = res.text().await.unwrap_or_default();
    (
        status,
        kind,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

/// Asserts a refusal: `status`, as problem+json.
async fn refused(
    api: &ApiServer,
    status: u16,
    (method, path): (Method, &str),
    token: &str,
    body: Option<Value>,
) -> Value {
    let (s, kind, b) = send(api, method.clone(), path, token, body).await;
    assert_eq!(s, status, "{method} {path}: {b}");
    assert_eq!(kind, "application/problem+json", "{method} {path}: {b}");
    assert_eq!(b["status"], status, "{b}");
    b
}

fn hash(value: &str) -> String {
    data_encoding::HEXLOWER.encode(&sha2::Sha256::digest(value.as_bytes()))
}

/// The job the admin makes: it proves which secret a run got by printing
/// its SHA-256 (a value redaction does not hide, and that tells nothing).
fn job(target: &str, command: &str) -> Value {
    json!({
        "name": "deploy-with-token",
        "parameters": {
            "svc": {"type": "string", "default": "web"},
            "token": {"type": "secret", "required": true}
        },
        "targets": {"targets": [target]},
        "steps": [{"id": "use", "type": "ssh.exec", "with": {"command": command}}]
    })
}

const HASHING: &str = "printf %s {{ params.token }} | sha256sum";
const LEAKING: &str = "printf %s {{ params.token }} | base64";

async fn first_line(api: &ApiServer, token: &str, run: &str) -> String {
    let items = steps(api, token, run).await;
    step(&items, "use", None)["stdout"][0]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn get(api: &ApiServer, token: &str, path: &str) -> Value {
    let (s, _, b) = send(api, Method::GET, path, token, None).await;
    assert_eq!(s, 200, "{path}: {b}");
    b
}

async fn run_count(api: &ApiServer, admin: &str) -> u64 {
    get(api, admin, "/api/v1/runs").await["total"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn an_editor_cannot_replay_someone_elses_secret_through_their_version() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    for (name, role) in [
        ("mallory", "operator"),
        ("eddie", "operator"),
        ("runa", "operator"),
        ("vic", "viewer"),
    ] {
        api.user(&admin, name, role, PASSWORD).await;
    }
    let mallory = api.login("mallory", PASSWORD).await.0;
    let ed = api.login("eddie", PASSWORD).await.0;
    let runa = api.login("runa", PASSWORD).await.0;
    let vic = api.login("vic", PASSWORD).await.0;

    let (_, _, c) = send(&api, Method::POST, "/api/v1/credentials", &admin,
        Some(json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}}))).await;
    let (s, _, t) = send(
        &api,
        Method::POST,
        "/api/v1/targets",
        &admin,
        Some(
            json!({"name": "box", "hostname": "127.0.0.1", "os_type": "linux",
            "ssh": {"port": sshd.port, "credential_id": c["id"], "host_key_policy": "accept-new"}}),
        ),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let target = t["id"].as_str().unwrap().to_owned();
    // A connection test pins the host key (accept-new).
    let (_, _, tested) = send(
        &api,
        Method::POST,
        &format!("/api/v1/targets/{target}/test"),
        &admin,
        None,
    )
    .await;
    assert_eq!(tested["ok"], true, "{tested}");

    // The admin's job and run, with the admin's secret.
    let canary = "canary-owned-by-admin-5d2e7b";
    let id = create_job(&api, &admin, job(&target, HASHING)).await;
    let path = format!("/api/v1/jobs/{id}");
    let j = get(&api, &admin, &path).await;
    assert_eq!(j["owner"]["username"], "admin", "the creator owns it: {j}");
    assert_eq!(j["grants"], json!([]), "{j}");
    let original = run_job(&api, &admin, &id, json!({"parameters": {"token": canary}})).await;
    let r = wait_end(&api, &admin, &original).await;
    assert_eq!(
        r["status"],
        "succeeded",
        "{r} {:?}",
        steps(&api, &admin, &original).await
    );
    assert_eq!(
        first_line(&api, &admin, &original).await,
        format!("{}  -", hash(canary))
    );

    // An operator without a grant changes nothing, runs nothing.
    let seen = get(&api, &mallory, &path).await;
    assert_eq!(
        seen["allowed"],
        json!({"run": false, "edit": false, "delete": false, "manage_grants": false, "transfer": false}),
        "{seen}"
    );
    let before = run_count(&api, &admin).await;
    let b = refused(
        &api,
        403,
        (Method::PUT, &path),
        &mallory,
        Some(job(&target, LEAKING)),
    )
    .await;
    assert!(
        b["detail"].as_str().unwrap().contains("may not edit job"),
        "{b}"
    );
    let rerun_path = format!("/api/v1/runs/{original}/rerun");
    for (method, p, body) in [
        (Method::PATCH, path.clone(), Some(json!({"active": false}))),
        (Method::DELETE, path.clone(), None),
        (
            Method::PUT,
            format!("{path}/grants"),
            Some(json!({"grants": [{"kind": "user", "username": "mallory", "access": "edit"}]})),
        ),
        (
            Method::POST,
            format!("{path}/run"),
            Some(json!({"parameters": {"token": "x"}})),
        ),
        (Method::POST, rerun_path.clone(), None),
        (
            Method::POST,
            rerun_path.clone(),
            Some(json!({"parameters": {"token": "x"}})),
        ),
        (
            Method::POST,
            format!("/api/v1/runs/{original}/cancel"),
            None,
        ),
        (
            Method::PUT,
            format!("{path}/owner"),
            Some(json!({"username": "mallory"})),
        ),
    ] {
        refused(&api, 403, (method, &p), &mallory, body).await;
    }
    let j = get(&api, &admin, &path).await;
    assert_eq!(j["current_version"], 1, "nothing was stored: {j}");
    assert_eq!(j["active"], true, "{j}");
    assert_eq!(j["grants"], json!([]), "{j}");
    assert_eq!(run_count(&api, &admin).await, before, "nothing was started");

    // The admin grants ed edit and runa run.
    let (s, _, j) = send(
        &api,
        Method::PUT,
        &format!("{path}/grants"),
        &admin,
        Some(
            json!({"grants": [{"kind": "user", "username": "eddie", "access": "edit"},
                              {"kind": "user", "username": "runa", "access": "run"}]}),
        ),
    )
    .await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["grants"].as_array().unwrap().len(), 2, "{j}");
    assert_eq!(j["grants"][0]["kind"], "user", "{j}");
    let seen = get(&api, &ed, &path).await;
    assert_eq!(
        seen["allowed"],
        json!({"run": true, "edit": true, "delete": false, "manage_grants": false, "transfer": false}),
        "{seen}"
    );
    let audit = get(
        &api,
        &admin,
        &format!("/api/v1/audit?action=job.grants&entity_id={id}"),
    )
    .await;
    assert_eq!(audit["total"], 1, "the grant change is audited: {audit}");

    // ed may edit: the version that would print the secret is stored.
    let (s, _, j) = send(&api, Method::PUT, &path, &ed, Some(job(&target, LEAKING))).await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["current_version"], 2, "{j}");
    // ed's re-run of the admin's run does not replay the admin's secret.
    let before = run_count(&api, &admin).await;
    let b = refused(&api, 422, (Method::POST, &rerun_path), &ed, None).await;
    assert_eq!(
        b["type"], "https://opsconductor.dev/problems/secret-parameters-required",
        "{b}"
    );
    assert_eq!(b["errors"][0]["path"], "/parameters/token", "{b}");
    assert!(b["detail"].as_str().unwrap().contains("token"), "{b}");
    // Only secret parameters may be given to a re-run.
    refused(
        &api,
        422,
        (Method::POST, &rerun_path),
        &ed,
        Some(json!({"parameters": {"svc": "db", "token": "x"}})),
    )
    .await;
    assert_eq!(run_count(&api, &admin).await, before, "nothing was started");
    // Given again, it runs: the version the run ran (not ed's), with ed's value.
    let (s, _, again) = send(
        &api,
        Method::POST,
        &rerun_path,
        &ed,
        Some(json!({"parameters": {"token": "eds-own-value"}})),
    )
    .await;
    assert_eq!(s, 202, "{again}");
    let by_ed = again["run_id"].as_str().unwrap().to_owned();
    let r = wait_end(&api, &ed, &by_ed).await;
    assert_eq!(r["status"], "succeeded", "{r}");
    assert_eq!(r["job_version"], 1, "the original version: {r}");
    assert_eq!(r["rerun_of"], original.as_str(), "{r}");
    assert_eq!(r["parameters"]["svc"], "web", "{r}");
    assert_eq!(
        first_line(&api, &ed, &by_ed).await,
        format!("{}  -", hash("eds-own-value"))
    );
    let audit = get(
        &api,
        &admin,
        &format!("/api/v1/audit?action=run.rerun&entity_id={by_ed}"),
    )
    .await;
    assert_eq!(
        audit["items"][0]["summary"]["replayed_sealed_parameters"], false,
        "{audit}"
    );

    // A viewer re-runs nothing, and reads no secret.
    refused(&api, 403, (Method::POST, &rerun_path), &vic, None).await;
    for run in [&original, &by_ed] {
        let shown = get(&api, &vic, &format!("/api/v1/runs/{run}")).await;
        assert_eq!(shown["parameters"]["token"], "***", "{shown}");
        let out = get(&api, &vic, &format!("/api/v1/runs/{run}/steps")).await;
        let stream = api
            .req(
                Method::GET,
                &format!("/api/v1/runs/{run}/stream"),
                Some(&vic),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for text in [shown.to_string(), out.to_string(), stream] {
            assert!(!text.contains(canary), "the viewer saw the secret: {text}");
        }
    }

    // The admin's own re-run replays the admin's secret, on the same version.
    let (s, _, again) = send(&api, Method::POST, &rerun_path, &admin, None).await;
    assert_eq!(s, 202, "{again}");
    let by_admin = again["run_id"].as_str().unwrap().to_owned();
    let r = wait_end(&api, &admin, &by_admin).await;
    assert_eq!(r["status"], "succeeded", "{r}");
    assert_eq!(r["job_version"], 1, "{r}");
    assert_eq!(
        first_line(&api, &admin, &by_admin).await,
        format!("{}  -", hash(canary)),
        "the secret was replayed"
    );
    // Not even an admin gets someone else's secret replayed.
    refused(
        &api,
        422,
        (Method::POST, &format!("/api/v1/runs/{by_ed}/rerun")),
        &admin,
        None,
    )
    .await;

    // runa may run (her own value, the current version) but not edit; she
    // may cancel her own run.
    let seen = get(&api, &runa, &path).await;
    assert_eq!(seen["allowed"]["run"], true, "{seen}");
    assert_eq!(seen["allowed"]["edit"], false, "{seen}");
    refused(
        &api,
        403,
        (Method::PUT, &path),
        &runa,
        Some(job(&target, HASHING)),
    )
    .await;
    let hers = run_job(
        &api,
        &runa,
        &id,
        json!({"parameters": {"token": "runas-value"}}),
    )
    .await;
    let r = wait_end(&api, &runa, &hers).await;
    assert_eq!(r["status"], "succeeded", "{r}");
    assert_eq!(r["job_version"], 2, "a run runs the current version: {r}");
    api.stop().await;
}

#[tokio::test]
async fn owners_grant_admins_transfer_and_cancels_follow_the_right_to_run() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    for (name, role) in [
        ("olive", "operator"),
        ("mallory", "operator"),
        ("vic", "viewer"),
    ] {
        api.user(&admin, name, role, PASSWORD).await;
    }
    let olive = api.login("olive", PASSWORD).await.0;
    let mallory = api.login("mallory", PASSWORD).await.0;
    let vic = api.login("vic", PASSWORD).await.0;
    let slow = |name: &str| json!({"name": name, "steps": [{"id": "w", "type": "wait", "with": {"seconds": 30}}]});

    // The owner operator edits her job; another operator does not.
    let id = create_job(&api, &olive, slow("olives")).await;
    let path = format!("/api/v1/jobs/{id}");
    let mut changed = slow("olives");
    changed["description"] = json!("changed by its owner");
    let (s, _, j) = send(&api, Method::PUT, &path, &olive, Some(changed.clone())).await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["current_version"], 2, "{j}");
    assert_eq!(j["owner"]["username"], "olive", "{j}");
    assert_eq!(j["allowed"]["manage_grants"], true, "{j}");
    assert_eq!(j["allowed"]["transfer"], false, "only admins transfer: {j}");
    refused(
        &api,
        403,
        (Method::PUT, &path),
        &mallory,
        Some(slow("olives")),
    )
    .await;
    refused(
        &api,
        403,
        (Method::POST, &format!("{path}/run")),
        &mallory,
        Some(json!({})),
    )
    .await;
    // Nor through an import that would add a version.
    refused(
        &api,
        403,
        (Method::POST, "/api/v1/jobs/import?replace=true"),
        &mallory,
        Some(slow("olives")),
    )
    .await;
    assert_eq!(get(&api, &olive, &path).await["current_version"], 2);
    // The list shows owners and what the caller may do.
    let list = get(&api, &mallory, "/api/v1/jobs").await;
    assert_eq!(list["items"][0]["owner"]["username"], "olive", "{list}");
    assert_eq!(list["items"][0]["allowed"]["run"], false, "{list}");

    // Bad grants are refused, each located, and change nothing.
    let b = refused(
        &api,
        422,
        (Method::PUT, &format!("{path}/grants")),
        &olive,
        Some(json!({"grants": [
            {"kind": "role", "role": "viewer", "access": "run"},
            {"kind": "user", "username": "nobody-at-all", "access": "run"},
            {"kind": "user", "username": "olive", "access": "edit"},
            {"kind": "user", "access": "run"}
        ]})),
    )
    .await;
    let at: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        at,
        [
            "/grants/0/role",
            "/grants/1/username",
            "/grants/2",
            "/grants/3"
        ],
        "{b}"
    );
    // The owner grants every operator run: mallory runs, and cancels the
    // run, but still does not edit.
    let (s, _, j) = send(
        &api,
        Method::PUT,
        &format!("{path}/grants"),
        &olive,
        Some(json!({"grants": [{"kind": "role", "role": "operator", "access": "run"}]})),
    )
    .await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["grants"][0]["role"], "operator", "{j}");
    refused(
        &api,
        403,
        (Method::PUT, &path),
        &mallory,
        Some(slow("olives")),
    )
    .await;
    refused(
        &api,
        403,
        (Method::PUT, &format!("{path}/grants")),
        &mallory,
        Some(json!({"grants": []})),
    )
    .await;
    let theirs = run_job(&api, &mallory, &id, json!({})).await;
    let olives_run = run_job(&api, &olive, &id, json!({})).await;
    let (s, _, b) = send(
        &api,
        Method::POST,
        &format!("/api/v1/runs/{olives_run}/cancel"),
        &mallory,
        None,
    )
    .await;
    assert_eq!(s, 202, "a run of a job one may run: {b}");

    // Grants gone: mallory cancels her own run still, and no other.
    let (s, _, _) = send(
        &api,
        Method::PUT,
        &format!("{path}/grants"),
        &olive,
        Some(json!({"grants": []})),
    )
    .await;
    assert_eq!(s, 200);
    let another = run_job(&api, &olive, &id, json!({})).await;
    refused(
        &api,
        403,
        (Method::POST, &format!("/api/v1/runs/{another}/cancel")),
        &mallory,
        None,
    )
    .await;
    let (s, _, b) = send(
        &api,
        Method::POST,
        &format!("/api/v1/runs/{theirs}/cancel"),
        &mallory,
        None,
    )
    .await;
    assert_eq!(s, 202, "one's own run: {b}");
    refused(
        &api,
        403,
        (Method::POST, &format!("/api/v1/runs/{another}/cancel")),
        &vic,
        None,
    )
    .await;

    // Only admins transfer; the old owner keeps nothing.
    refused(
        &api,
        403,
        (Method::PUT, &format!("{path}/owner")),
        &olive,
        Some(json!({"username": "mallory"})),
    )
    .await;
    let (s, _, j) = send(
        &api,
        Method::PUT,
        &format!("{path}/owner"),
        &admin,
        Some(json!({"username": "mallory"})),
    )
    .await;
    assert_eq!(s, 200, "{j}");
    assert_eq!(j["owner"]["username"], "mallory", "{j}");
    refused(&api, 403, (Method::PUT, &path), &olive, Some(changed)).await;
    refused(&api, 403, (Method::DELETE, &path), &olive, None).await;
    let audit = get(
        &api,
        &admin,
        &format!("/api/v1/audit?action=job.transfer&entity_id={id}"),
    )
    .await;
    assert_eq!(audit["total"], 1, "{audit}");
    // The new owner deletes it.
    let (s, _, _) = send(&api, Method::DELETE, &path, &mallory, None).await;
    assert_eq!(s, 204);
    api.stop().await;
}
