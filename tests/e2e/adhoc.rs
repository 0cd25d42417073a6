//! `opsconductor run … -- CMD` and `POST /api/v1/adhoc-runs` against a real
//! api, worker and sshd: one command on several targets (by name, group and
//! tag) with each target's output prefixed by its name, the exit status of
//! the whole (0, or 1 when it failed anywhere), the run listed with trigger
//! `adhoc` and no job in the jobs list; and the refusals — a viewer, an
//! operator on the worker host, an unknown target, a target outside its
//! credential's scope, a reused idempotency key — each changing nothing.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::cli::{self, run as cli};
use crate::harness::runs::wait_end;
use crate::harness::{ApiServer, Sshd};

const PASSWORD: &str = "Corr3ct-Horse-Battery!";

/// The client's environment with an API token of `token`'s user.
async fn env_for(api: &ApiServer, token: &str, role: &str) -> BTreeMap<String, String> {
    cli::env(&api.base, &api.api_token(token, role).await)
}

/// Targets `names` (with their tags) on the test sshd, host keys pinned by
/// an admin's test; the credential's id.
async fn targets(api: &ApiServer, admin: &str, sshd: &Sshd, names: &[(&str, &[&str])]) -> String {
    let (s, c) = api
        .call(Method::POST, "/api/v1/credentials", Some(admin),
            Some(json!({"name": "key", "spec": {"type": "ssh_key", "username": sshd.user, "private_key": sshd.key_plain()}})))
        .await;
    assert_eq!(s, 201, "{c}");
    for (name, tags) in names {
        let (s, t) = api
            .call(Method::POST, "/api/v1/targets", Some(admin),
                Some(json!({"name": name, "hostname": "127.0.0.1", "os_type": "linux", "tags": tags,
                    "ssh": {"port": sshd.port, "credential_id": c["id"], "host_key_policy": "accept-new"}})))
            .await;
        assert_eq!(s, 201, "{t}");
        let id = t["id"].as_str().unwrap();
        let (_, tested) = api
            .call(
                Method::POST,
                &format!("/api/v1/targets/{id}/test"),
                Some(admin),
                None,
            )
            .await;
        assert_eq!(tested["ok"], true, "{tested}");
    }
    c["id"].as_str().unwrap().to_owned()
}

async fn id_of(api: &ApiServer, token: &str, name: &str) -> String {
    let (_, page) = api
        .call(
            Method::GET,
            &format!("/api/v1/targets?name={name}"),
            Some(token),
            None,
        )
        .await;
    page["items"]
        .as_array()
        .and_then(|items| items.iter().find(|t| t["name"] == name))
        .and_then(|t| t["id"].as_str())
        .unwrap_or_else(|| panic!("no target {name}: {page}"))
        .to_owned()
}

async fn run_count(api: &ApiServer, admin: &str) -> u64 {
    let (_, page) = api
        .call(Method::GET, "/api/v1/runs", Some(admin), None)
        .await;
    page["total"].as_u64().unwrap()
}

async fn post(api: &ApiServer, token: &str, body: Value) -> (u16, Value) {
    api.call(Method::POST, "/api/v1/adhoc-runs", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn run_prints_each_targets_output_and_exits_with_the_outcome() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    targets(
        &api,
        &admin,
        &sshd,
        &[
            ("web-1", &["web", "prod"]),
            ("web-2", &["web"]),
            ("db-1", &["db"]),
        ],
    )
    .await;
    let web1 = id_of(&api, &admin, "web-1").await;
    let web2 = id_of(&api, &admin, "web-2").await;
    let (s, g) = api
        .call(
            Method::POST,
            "/api/v1/target-groups",
            Some(&admin),
            Some(json!({"name": "webs", "members": [web1, web2]})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    api.user(&admin, "oper", "operator", PASSWORD).await;
    let (operator, _) = api.login("oper", PASSWORD).await;
    let env = env_for(&api, &operator, "operator").await;

    // By name: every target's output, prefixed with its name.
    let out = cli(
        &["run", "--targets", "web-1,web-2", "--", "echo", "adhoc-out"],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    for name in ["web-1", "web-2"] {
        assert!(
            out.stdout.contains(&format!("[command@{name}] adhoc-out")),
            "{out:?}"
        );
    }
    assert!(out.stdout.contains("succeeded"), "{out:?}");

    // By group, and by tag (only web-1 carries prod).
    let out = cli(&["run", "--group", "webs", "--", "echo grouped"], &env).await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("[command@web-1] grouped"), "{out:?}");
    assert!(out.stdout.contains("[command@web-2] grouped"), "{out:?}");
    let out = cli(&["run", "--tag", "prod", "--", "echo", "tagged"], &env).await;
    assert_eq!(out.code, Some(0), "{out:?}");
    assert!(out.stdout.contains("tagged"), "{out:?}");
    assert!(
        !out.stdout.contains("db-1") && !out.stdout.contains("web-2"),
        "{out:?}"
    );

    // A command failing on one target fails the whole: exit 1.
    let out = cli(
        &[
            "run",
            "--targets",
            "web-1,db-1",
            "--",
            "test",
            "{{ target.name }}",
            "=",
            "web-1",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(1), "{out:?}");

    // --detach prints the run's id only; the run is listed with trigger adhoc.
    let out = cli(
        &[
            "run",
            "--detach",
            "-t",
            "db-1",
            "--parallel",
            "2",
            "--timeout",
            "30",
            "--",
            "uname",
        ],
        &env,
    )
    .await;
    assert_eq!(out.code, Some(0), "{out:?}");
    let run_id = out.stdout.trim().to_owned();
    assert_eq!(run_id.len(), 36, "{out:?}");
    let done = wait_end(&api, &operator, &run_id).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["trigger"]["kind"], "adhoc", "{done}");
    let (_, page) = api
        .call(
            Method::GET,
            "/api/v1/runs?trigger=adhoc",
            Some(&operator),
            None,
        )
        .await;
    assert_eq!(page["total"], 5, "{page}");
    let listed = cli(&["runs", "list", "-o", "json"], &env).await;
    assert_eq!(listed.code, Some(0), "{listed:?}");
    assert!(listed.stdout.contains(&run_id), "{listed:?}");
    // No saved job appears for it.
    let (_, jobs) = api
        .call(Method::GET, "/api/v1/jobs", Some(&admin), None)
        .await;
    assert_eq!(jobs["total"], 0, "{jobs}");
    // The audit trail says who ran what.
    let (_, audit) = api
        .call(
            Method::GET,
            "/api/v1/audit?action=run.adhoc",
            Some(&admin),
            None,
        )
        .await;
    assert!(audit.to_string().contains("adhoc-out"), "{audit}");
}

#[tokio::test]
async fn refused_commands_start_nothing() {
    let api = ApiServer::start(&[]).await;
    let _worker = api.start_worker("default").await;
    let sshd = Sshd::start().await;
    let admin = api.admin().await;
    let cred = targets(&api, &admin, &sshd, &[("web-1", &["prod"]), ("web-2", &[])]).await;
    api.user(&admin, "oper", "operator", PASSWORD).await;
    api.user(&admin, "view", "viewer", PASSWORD).await;
    let (operator, _) = api.login("oper", PASSWORD).await;
    let (viewer, _) = api.login("view", PASSWORD).await;
    let viewer_env = env_for(&api, &viewer, "viewer").await;
    let operator_env = env_for(&api, &operator, "operator").await;
    let before = run_count(&api, &admin).await;

    // A viewer may not run commands.
    let (s, b) = post(
        &api,
        &viewer,
        json!({"command": "id", "targets": ["web-1"]}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    let out = cli(&["run", "-t", "web-1", "--", "id"], &viewer_env).await;
    assert_eq!(out.code, Some(1), "{out:?}");

    // An operator may not run on the worker host; an admin only in a pool
    // that allows it.
    let (s, b) = post(
        &api,
        &operator,
        json!({"command": "id", "executor": "local"}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("only admins"), "{b}");
    let out = cli(&["run", "--local", "--", "id"], &operator_env).await;
    assert_eq!(out.code, Some(1), "{out:?}");
    assert!(out.stderr.contains("only admins"), "{out:?}");
    let (s, b) = post(
        &api,
        &admin,
        json!({"command": "id", "executor": "local", "pool": "nowhere"}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("local_exec"), "{b}");

    // Unknown names are each named; nothing addressed is a usage mistake.
    let (s, b) = post(
        &api,
        &operator,
        json!({"command": "id", "targets": ["web-1", "nope"], "groups": ["none"]}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    let paths: Vec<&str> = b["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert_eq!(paths, ["/targets/1", "/groups/0"], "{b}");
    let (s, b) = post(&api, &operator, json!({"command": "id"})).await;
    assert_eq!(s, 422, "{b}");
    let (s, b) = post(
        &api,
        &operator,
        json!({"command": "echo {{ nope.x }}", "targets": ["web-1"]}),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert_eq!(b["errors"][0]["path"], "/command", "{b}");
    let (s, b) = post(
        &api,
        &operator,
        json!({"command": "id", "targets": ["web-1"], "comand": 1}),
    )
    .await;
    assert!((400..500).contains(&s), "{s} {b}");

    // A target outside its credential's scope is refused before anything
    // is sealed, as for a job run.
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/credentials/{cred}"),
            Some(&admin),
            Some(json!({"scope": {"hosts": ["127.0.0.1"], "tags": ["prod"]}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = post(
        &api,
        &operator,
        json!({"command": "id", "targets": ["web-2"]}),
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("web-2"), "{b}");
    assert_eq!(run_count(&api, &admin).await, before, "nothing was started");
    let (_, jobs) = api
        .call(Method::GET, "/api/v1/jobs", Some(&admin), None)
        .await;
    assert_eq!(jobs["total"], 0, "{jobs}");

    // One Idempotency-Key is one run; reused for another command, refused.
    let send = |command: &'static str| {
        api.req(Method::POST, "/api/v1/adhoc-runs", Some(&operator))
            .header("Idempotency-Key", "adhoc-once")
            .json(&json!({"command": command, "targets": ["web-1"]}))
            .send()
    };
    let first: Value = send("echo once").await.unwrap().json().await.unwrap();
    let again = send("echo once").await.unwrap();
    assert_eq!(again.status().as_u16(), 202);
    let again: Value = again.json().await.unwrap();
    assert_eq!(first["run_id"], again["run_id"], "{first} {again}");
    let other = send("echo other").await.unwrap();
    assert_eq!(other.status().as_u16(), 409);
    assert_eq!(run_count(&api, &admin).await, before + 1);
    let done = wait_end(&api, &operator, first["run_id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "succeeded", "{done}");

    // The hidden job holds other people's commands: through the job routes
    // nobody, not even an admin, runs, re-runs, edits, shares or deletes it.
    let hidden = "00000000-adc0-7000-8000-000000000001";
    let run_id = first["run_id"].as_str().unwrap();
    for (method, path, body) in [
        (
            Method::POST,
            format!("/api/v1/jobs/{hidden}/run"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/api/v1/runs/{run_id}/rerun"),
            Some(json!({})),
        ),
        (Method::DELETE, format!("/api/v1/jobs/{hidden}"), None),
        (
            Method::POST,
            format!("/api/v1/jobs/{hidden}/grants"),
            Some(json!({"user": "oper", "permission": "run"})),
        ),
    ] {
        let (s, b) = api.call(method.clone(), &path, Some(&admin), body).await;
        assert!(
            (400..500).contains(&s) && s != 429,
            "{method} {path}: {s} {b}"
        );
    }
    assert_eq!(
        run_count(&api, &admin).await,
        before + 1,
        "nothing was started"
    );
    let (s, b) = post(
        &api,
        &operator,
        json!({"command": "echo still", "targets": ["web-1"]}),
    )
    .await;
    assert_eq!(s, 202, "ad-hoc commands still run: {b}");
}
