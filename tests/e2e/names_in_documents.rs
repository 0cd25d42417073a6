//! Names in documents, end to end: a job definition names its targets and
//! groups, a target document its credential and a group its members by
//! name (JSON and YAML); the stored versions hold ids and the job runs on
//! the test sshd. Unknown and ambiguous names are refused at their place
//! and change nothing; a credential named by name is held to its scope
//! exactly as by id. Approving the pinned host key again is harmless.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{run_job, steps, wait_end};
use crate::harness::{ApiServer, Sshd};

const PASSWORD: &str = "Corr3ct-Horse-Battery!";

async fn as_user(api: &ApiServer, admin: &str, name: &str, role: &str) -> String {
    api.user(admin, name, role, PASSWORD).await;
    api.login(name, PASSWORD).await.0
}

async fn send(
    api: &ApiServer,
    method: Method,
    path: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    api.call(method, path, Some(token), Some(body)).await
}

async fn get(api: &ApiServer, path: &str, token: &str) -> Value {
    let (s, b) = api.call(Method::GET, path, Some(token), None).await;
    assert_eq!(s, 200, "{path}: {b}");
    b
}

/// Sends a YAML job document.
async fn post_yaml(api: &ApiServer, path: &str, token: &str, yaml: &str) -> (u16, Value) {
    let res = api
        .req(Method::POST, path, Some(token))
        .header("content-type", "application/yaml")
        .body(yaml.to_owned())
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

fn id(b: &Value) -> String {
    b["id"].as_str().unwrap().to_owned()
}

/// `(path or field, message)` of every listed error.
fn errors(b: &Value) -> Vec<(String, String)> {
    b["errors"]
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|e| {
            let at = e["path"]
                .as_str()
                .or(e["field"].as_str())
                .unwrap_or_default();
            (
                at.to_owned(),
                e["message"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// [`errors`] with every place as a dotted field (`ssh.credential_id`),
/// however the API spells it.
fn field_errors(b: &Value) -> Vec<(String, String)> {
    errors(b)
        .into_iter()
        .map(|(at, m)| (at.trim_start_matches('/').replace('/', "."), m))
        .collect()
}

async fn total(api: &ApiServer, path: &str, token: &str) -> u64 {
    get(api, path, token).await["total"].as_u64().unwrap()
}

#[tokio::test]
async fn names_resolve_to_ids_and_the_job_runs() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;

    let (s, cred) = send(
        &api,
        Method::POST,
        "/api/v1/credentials",
        &admin,
        json!({"name": "lin-pass",
               "spec": {"type": "ssh_password", "username": sshd.user, "password": sshd.password}}),
    )
    .await;
    assert_eq!(s, 201, "{cred}");
    let cred_id = id(&cred);

    // A target names its credential; the stored document holds the id.
    let mut targets = Vec::new();
    for name in ["web-1", "web-2"] {
        let (s, t) = send(&api, Method::POST, "/api/v1/targets", &admin,
            json!({"name": name, "hostname": "127.0.0.1", "os_type": "linux",
                   "ssh": {"port": sshd.port, "credential_id": "lin-pass", "host_key_policy": "accept-new"}})).await;
        assert_eq!(s, 201, "{t}");
        assert_eq!(t["ssh"]["credential_id"], cred_id, "{t}");
        targets.push(id(&t));
    }
    let shown = get(&api, &format!("/api/v1/targets/{}", targets[0]), &operator).await;
    assert_eq!(shown["ssh"]["credential_id"], cred_id, "{shown}");

    // A group names its members (case aside when that is unambiguous).
    let (s, g) = send(
        &api,
        Method::POST,
        "/api/v1/target-groups",
        &operator,
        json!({"name": "webs", "members": ["web-1", "WEB-2"]}),
    )
    .await;
    assert_eq!(s, 201, "{g}");
    let mut want = targets.clone();
    want.sort();
    assert_eq!(g["members"], json!(want), "{g}");
    let group = id(&g);

    // A JSON job names a target and a group; the version holds ids.
    let (s, job) = send(
        &api,
        Method::POST,
        "/api/v1/jobs",
        &operator,
        json!({
        "name": "by-name",
        "targets": {"targets": ["web-1"]},
        "steps": [
            {"id": "one", "type": "ssh.exec", "with": {"command": "echo one on {{ target.name }}"}},
            {"id": "all", "type": "ssh.exec", "targets": {"groups": ["webs"]},
             "with": {"command": "echo all on {{ target.name }}"}}
        ]}),
    )
    .await;
    assert_eq!(s, 201, "{job}");
    assert_eq!(
        job["definition"]["targets"]["targets"],
        json!([targets[0]]),
        "{job}"
    );
    assert_eq!(
        job["definition"]["steps"][1]["targets"]["groups"],
        json!([group]),
        "{job}"
    );
    let job_id = id(&job);
    let export = get(&api, &format!("/api/v1/jobs/{job_id}/export"), &operator).await;
    assert_eq!(
        export["targets"]["targets"],
        json!([targets[0]]),
        "{export}"
    );

    // It runs on the test sshd (each key pinned by a first connection
    // test): one step on web-1, one on both.
    for t in &targets {
        let (s, tested) = api
            .call(
                Method::POST,
                &format!("/api/v1/targets/{t}/test"),
                Some(&admin),
                None,
            )
            .await;
        assert_eq!((s, &tested["ok"]), (200, &json!(true)), "{tested}");
    }
    let run = run_job(&api, &operator, &job_id, json!({})).await;
    let end = wait_end(&api, &operator, &run).await;
    let done = steps(&api, &operator, &run).await;
    assert_eq!(end["status"], "succeeded", "{end}\n{done:?}");
    assert_eq!(done.len(), 3, "{done:?}");
    assert!(done.iter().all(|s| s["status"] == "succeeded"), "{done:?}");

    // A YAML document, as a new job and as the next version of it.
    let yaml = "name: by-name-yaml\ntargets:\n  targets: [web-2]\n  groups: [webs]\n\
                steps:\n  - id: hello\n    type: ssh.exec\n    with:\n      command: echo hi\n";
    let (s, y) = post_yaml(&api, "/api/v1/jobs", &operator, yaml).await;
    assert_eq!(s, 201, "{y}");
    assert_eq!(
        y["definition"]["targets"]["targets"],
        json!([targets[1]]),
        "{y}"
    );
    assert_eq!(y["definition"]["targets"]["groups"], json!([group]), "{y}");
    let yaml2 = yaml.replace("[web-2]", "[web-1, web-2]");
    let (s, y2) = post_yaml(&api, "/api/v1/jobs/import?replace=true", &operator, &yaml2).await;
    assert_eq!(s, 200, "{y2}");
    assert_eq!(y2["current_version"], 2, "{y2}");
    assert_eq!(
        y2["definition"]["targets"]["targets"],
        json!(targets),
        "{y2}"
    );

    // Approving the pinned key again changes nothing and says so by 200.
    let fp = sshd.host_fingerprint();
    let approve = format!("/api/v1/targets/{}/host-key/approve", targets[0]);
    let before = get(&api, &format!("/api/v1/targets/{}", targets[0]), &admin).await;
    assert_eq!(before["host_key"]["pinned"]["fingerprint"], fp, "{before}");
    let (s, again) = send(
        &api,
        Method::POST,
        &approve,
        &admin,
        json!({"fingerprint": fp}),
    )
    .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        again["pinned"], before["host_key"]["pinned"],
        "unchanged: {again}"
    );
    let (s, again) = send(
        &api,
        Method::POST,
        &approve,
        &admin,
        json!({"public_key": sshd.host_public_key()}),
    )
    .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        again["pinned"], before["host_key"]["pinned"],
        "unchanged: {again}"
    );
    // Another key, with none pending, is still refused.
    let (s, b) = send(
        &api,
        Method::POST,
        &approve,
        &admin,
        json!({"fingerprint": "SHA256:somethingelse"}),
    )
    .await;
    assert_eq!(s, 409, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("no key is pending"),
        "{b}"
    );
    api.stop().await;
}

#[tokio::test]
async fn unknown_and_ambiguous_names_are_refused_and_change_nothing() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;
    let (s, cred) = send(
        &api,
        Method::POST,
        "/api/v1/credentials",
        &admin,
        json!({"name": "k", "spec": {"type": "ssh_password", "username": "u", "password": "p"}}),
    )
    .await;
    assert_eq!(s, 201, "{cred}");
    for name in ["app-a", "APP-A"] {
        let (s, t) = send(
            &api,
            Method::POST,
            "/api/v1/targets",
            &admin,
            json!({"name": name, "hostname": "127.0.0.1", "os_type": "linux",
                   "ssh": {"credential_id": id(&cred)}}),
        )
        .await;
        assert_eq!(s, 201, "{t}");
    }
    let def = |targets: Value, groups: Value| {
        json!({
        "name": "refused", "targets": {"targets": targets},
        "steps": [{"id": "s", "type": "ssh.exec", "targets": {"groups": groups},
                   "with": {"command": "true"}}]})
    };

    // Unknown: each name at its place, with the document's other problems.
    let mut bad = def(json!(["app-a", "web-9"]), json!(["nobody"]));
    bad["steps"][0]["type"] = json!("no.such");
    let (s, b) = send(&api, Method::POST, "/api/v1/jobs", &operator, bad).await;
    assert_eq!(s, 422, "{b}");
    let found = errors(&b);
    assert!(
        found.contains(&(
            "/targets/targets/1".into(),
            "no target named `web-9`".into()
        )),
        "{b}"
    );
    assert!(
        found.contains(&(
            "/steps/0/targets/groups/0".into(),
            "no group named `nobody`".into()
        )),
        "{b}"
    );
    assert!(
        found.iter().any(|(p, _)| p == "/steps/0/type"),
        "other problems too: {b}"
    );
    // Ambiguous: the candidates are counted.
    let (s, b) = send(
        &api,
        Method::POST,
        "/api/v1/jobs",
        &operator,
        def(json!(["App-A"]), json!([])),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let (at, message) = &errors(&b)[0];
    assert_eq!(at, "/targets/targets/0", "{b}");
    assert!(
        message.contains("ambiguous") && message.contains("2 targets"),
        "{b}"
    );
    // Exact names win over case-folded ones.
    let (s, b) = send(
        &api,
        Method::POST,
        "/api/v1/jobs",
        &operator,
        def(json!(["APP-A"]), json!([])),
    )
    .await;
    assert_eq!(s, 201, "{b}");
    let job = id(&b);
    let (s, b) = post_yaml(&api, "/api/v1/jobs", &operator,
        "name: yaml-refused\ntargets:\n  targets: [web-9]\nsteps:\n  - id: s\n    type: ssh.exec\n    with: {command: 'true'}\n").await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(errors(&b)[0].0, "/targets/targets/0", "{b}");
    // An update with an unknown name stores no version.
    let (s, b) = send(
        &api,
        Method::PUT,
        &format!("/api/v1/jobs/{job}"),
        &operator,
        def(json!(["web-9"]), json!([])),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        get(&api, &format!("/api/v1/jobs/{job}"), &operator).await["current_version"],
        1
    );
    assert_eq!(total(&api, "/api/v1/jobs", &operator).await, 1);

    // Target and group documents likewise; nothing is created.
    let (s, b) = send(
        &api,
        Method::POST,
        "/api/v1/targets",
        &operator,
        json!({"name": "t", "hostname": "h", "os_type": "linux", "ssh": {"credential_id": "nope"}}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        field_errors(&b),
        [(
            "ssh.credential_id".into(),
            "no credential named `nope`".into()
        )],
        "{b}"
    );
    let (s, b) = send(&api, Method::POST, "/api/v1/targets/import", &operator,
        json!([{"name": "t", "hostname": "h", "os_type": "linux", "ssh": {"credential_id": "nope"}}])).await;
    assert_eq!(s, 422, "{b}");
    assert!(b.to_string().contains("no credential named `nope`"), "{b}");
    assert_eq!(total(&api, "/api/v1/targets", &operator).await, 2);
    let (s, b) = send(
        &api,
        Method::POST,
        "/api/v1/target-groups",
        &operator,
        json!({"name": "g", "members": ["app-a", "web-9"]}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(
        field_errors(&b),
        [("members.1".into(), "no target named `web-9`".into())],
        "{b}"
    );
    assert_eq!(total(&api, "/api/v1/target-groups", &operator).await, 0);
    api.stop().await;
}

#[tokio::test]
async fn a_credential_named_by_name_keeps_its_scope() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let operator = as_user(&api, &admin, "oper", "operator").await;
    let (s, cred) = send(&api, Method::POST, "/api/v1/credentials", &admin,
        json!({"name": "prod-key", "spec": {"type": "ssh_password", "username": "u", "password": "p"}})).await;
    assert_eq!(s, 201, "{cred}");
    let cred_id = id(&cred);
    // The admin's target widens the scope to its host.
    let (s, t) = send(
        &api,
        Method::POST,
        "/api/v1/targets",
        &admin,
        json!({"name": "prod-1", "hostname": "10.0.0.5", "os_type": "linux",
               "ssh": {"credential_id": "prod-key"}}),
    )
    .await;
    assert_eq!(s, 201, "{t}");
    let scope = get(&api, &format!("/api/v1/credentials/{cred_id}"), &admin).await;
    assert_eq!(scope["scope"]["hosts"], json!(["10.0.0.5"]), "{scope}");

    // An operator's target elsewhere is refused alike by name and by id.
    let mine = |cred: &str| {
        json!({"name": "mine", "hostname": "10.9.9.9", "os_type": "linux",
                                   "ssh": {"credential_id": cred}})
    };
    let (s, by_name) = send(
        &api,
        Method::POST,
        "/api/v1/targets",
        &operator,
        mine("prod-key"),
    )
    .await;
    assert_eq!(s, 403, "{by_name}");
    let (s, by_id) = send(
        &api,
        Method::POST,
        "/api/v1/targets",
        &operator,
        mine(&cred_id),
    )
    .await;
    assert_eq!(s, 403, "{by_id}");
    assert_eq!(
        by_name["detail"], by_id["detail"],
        "the same words either way"
    );
    assert!(
        by_name["detail"].as_str().unwrap().contains("10.9.9.9"),
        "{by_name}"
    );
    // Nor by moving the admin's target there with the credential named.
    let prod = id(&t);
    let (s, b) = send(
        &api,
        Method::PUT,
        &format!("/api/v1/targets/{prod}"),
        &operator,
        json!({"name": "prod-1", "hostname": "10.9.9.9", "os_type": "linux",
               "ssh": {"credential_id": "PROD-KEY"}}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(
        get(&api, &format!("/api/v1/targets/{prod}"), &admin).await["hostname"],
        "10.0.0.5"
    );
    // Nor in an import.
    let (s, b) = send(
        &api,
        Method::POST,
        "/api/v1/targets/import",
        &operator,
        json!([mine("prod-key")]),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert_eq!(total(&api, "/api/v1/targets", &admin).await, 1);
    let scope = get(&api, &format!("/api/v1/credentials/{cred_id}"), &admin).await;
    assert_eq!(
        scope["scope"]["hosts"],
        json!(["10.0.0.5"]),
        "unchanged: {scope}"
    );

    // A viewer saves no documents at all, names or not.
    let viewer = as_user(&api, &admin, "view", "viewer").await;
    let (s, _) = send(
        &api,
        Method::POST,
        "/api/v1/targets",
        &viewer,
        mine("prod-key"),
    )
    .await;
    assert_eq!(s, 403);
    api.stop().await;
}
