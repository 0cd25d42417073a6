//! The api the console needs: search, job list filters with each job's
//! last run, bulk activation, where a credential is used, and the dry-run
//! preview — with what a viewer or an operator may not see or do.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job};

const PASSWORD: &str = "console-pass-for-tests-1";

/// Who the tests act as.
struct People {
    admin: String,
    op: String,
    viewer: String,
}

async fn people(api: &ApiServer) -> People {
    let admin = api.admin().await;
    api.user(&admin, "op1", "operator", PASSWORD).await;
    api.user(&admin, "viewer1", "viewer", PASSWORD).await;
    People {
        op: api.login("op1", PASSWORD).await.0,
        viewer: api.login("viewer1", PASSWORD).await.0,
        admin,
    }
}

/// A credential and a target `web-1` using it; their ids.
async fn inventory(api: &ApiServer, admin: &str) -> (String, String) {
    let (s, c) = api
        .call(
            Method::POST,
            "/api/v1/credentials",
            Some(admin),
            Some(json!({"name": "lin-pass", "spec": {"type": "ssh_password", "username": "u", "password": "p"}})),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let (s, t) = api
        .call(
            Method::POST,
            "/api/v1/targets",
            Some(admin),
            Some(
                json!({"name": "web-1", "hostname": "web1.example.com", "os_type": "linux",
                        "ssh": {"credential_id": "lin-pass"}}),
            ),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    (
        c["id"].as_str().unwrap().to_owned(),
        t["id"].as_str().unwrap().to_owned(),
    )
}

fn job(name: &str, tags: &[&str]) -> Value {
    json!({
        "name": name,
        "tags": tags,
        "parameters": {"svc": {"type": "string", "required": true},
                       "token": {"type": "secret"}},
        "targets": {"targets": ["web-1"]},
        "steps": [{"id": "restart", "type": "ssh.exec", "when": "params.svc != ''",
                   "with": {"command": "systemctl restart {{ params.svc }}"}}]
    })
}

async fn get(api: &ApiServer, token: &str, path: &str) -> (u16, Value) {
    api.call(Method::GET, path, Some(token), None).await
}

fn problem(s: u16, b: &Value, want: u16) {
    assert_eq!(s, want, "{b}");
    assert_eq!(b["status"], want, "problem+json: {b}");
}

#[tokio::test]
async fn search_finds_jobs_targets_and_runs_but_never_the_hidden_job() {
    let api = ApiServer::start(&[]).await;
    let p = people(&api).await;
    inventory(&api, &p.admin).await;
    let id = create_job(&api, &p.admin, job("deploy-web", &[])).await;
    let run = run_job(&api, &p.admin, &id, json!({"parameters": {"svc": "nginx"}})).await;
    // The hidden ad-hoc job exists once an ad-hoc command ran.
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/adhoc-runs",
            Some(&p.admin),
            Some(json!({"command": "id", "targets": ["web-1"]})),
        )
        .await;
    assert_eq!(s, 202, "{b}");

    let (s, b) = get(&api, &p.viewer, "/api/v1/search?q=DEPLOY").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["jobs"], json!([{"id": id, "name": "deploy-web"}]));
    let (_, b) = get(&api, &p.viewer, "/api/v1/search?q=web1.example").await;
    assert_eq!(b["targets"][0]["name"], "web-1", "{b}");
    assert_eq!(b["targets"][0]["address"], "web1.example.com", "{b}");
    // By the id's first digits, and by the short id the console shows (its last 8).
    for q in [&run[..8], &run[run.len() - 8..]] {
        let (_, b) = get(&api, &p.viewer, &format!("/api/v1/search?q={q}")).await;
        let runs = b["runs"].as_array().unwrap();
        assert!(
            runs.iter()
                .any(|r| r["id"] == run.as_str() && r["job_name"] == "deploy-web"),
            "{q}: {b}"
        );
    }
    for q in ["ad-hoc", "hoc", "00000000-adc0"] {
        let (s, b) = get(&api, &p.viewer, &format!("/api/v1/search?q={q}")).await;
        assert_eq!(s, 200, "{b}");
        assert!(b["jobs"].as_array().unwrap().is_empty(), "{q}: {b}");
    }
    let (s, b) = get(&api, &p.viewer, "/api/v1/search?q=").await;
    problem(s, &b, 422);
    assert_eq!(b["errors"][0]["path"], "?q");
    let (s, _) = api
        .call(Method::GET, "/api/v1/search?q=web", None, None)
        .await;
    assert_eq!(s, 401);
    api.stop().await;
}

#[tokio::test]
async fn job_list_filters_on_tags_owner_and_last_status() {
    let api = ApiServer::start(&[]).await;
    let p = people(&api).await;
    inventory(&api, &p.admin).await;
    let prod = create_job(&api, &p.admin, job("prod-web", &["prod", "web"])).await;
    let mine = create_job(&api, &p.op, job("op-job", &["web"])).await;
    let run = run_job(&api, &p.admin, &prod, json!({"parameters": {"svc": "a"}})).await;

    let names = |b: &Value| -> Vec<String> {
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let (s, b) = get(&api, &p.viewer, "/api/v1/jobs").await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(names(&b), ["op-job", "prod-web"]);
    let item = &b["items"][1];
    assert_eq!(item["tags"], json!(["prod", "web"]));
    assert_eq!(item["last_run"]["id"], run.as_str(), "{item}");
    assert!(item["last_run"]["accepted_at"].is_string());
    assert_eq!(b["items"][0]["last_run"], Value::Null);
    assert_eq!(b["items"][0]["owner"]["username"], "op1");

    let (_, b) = get(&api, &p.viewer, "/api/v1/jobs?tag=web").await;
    assert_eq!(names(&b), ["op-job", "prod-web"]);
    let (_, b) = get(&api, &p.viewer, "/api/v1/jobs?tag=web,prod").await;
    assert_eq!(names(&b), ["prod-web"]);
    assert_eq!(b["total"], 1);
    let (_, b) = get(&api, &p.viewer, "/api/v1/jobs?owner=op1").await;
    assert_eq!(names(&b), ["op-job"]);
    let (_, b) = get(
        &api,
        &p.viewer,
        &format!(
            "/api/v1/jobs?owner={}",
            b["items"][0]["owner"]["id"].as_str().unwrap()
        ),
    )
    .await;
    assert_eq!(names(&b), ["op-job"]);
    let (_, b) = get(&api, &p.viewer, "/api/v1/jobs?last_status=queued").await;
    assert_eq!(names(&b), ["prod-web"]);
    let (_, b) = get(&api, &p.viewer, "/api/v1/jobs?last_status=failed&name=prod").await;
    assert!(names(&b).is_empty());
    let (s, b) = get(&api, &p.viewer, "/api/v1/jobs?last_status=bogus").await;
    problem(s, &b, 400);
    let _ = mine;
    api.stop().await;
}

async fn bulk(api: &ApiServer, token: &str, body: Value) -> (u16, Value) {
    api.call(Method::POST, "/api/v1/jobs/bulk", Some(token), Some(body))
        .await
}

#[tokio::test]
async fn bulk_activation_is_all_or_nothing_and_needs_edit_on_each_job() {
    let api = ApiServer::start(&[]).await;
    let p = people(&api).await;
    inventory(&api, &p.admin).await;
    let admins = create_job(&api, &p.admin, job("admins-job", &[])).await;
    let mine = create_job(&api, &p.op, job("op-job", &[])).await;
    let active = |b: &Value, id: &str| {
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["id"] == id)
            .unwrap()["active"]
            .as_bool()
            .unwrap()
    };

    let (s, b) = bulk(&api, &p.viewer, json!({"ids": [mine], "active": false})).await;
    problem(s, &b, 403);
    let (s, b) = bulk(&api, &p.op, json!({"ids": [mine, admins], "active": false})).await;
    problem(s, &b, 403);
    assert_eq!(b["errors"].as_array().unwrap().len(), 1, "{b}");
    assert_eq!(b["errors"][0]["id"], admins.as_str());
    assert_eq!(b["errors"][0]["path"], "/ids/1");
    let unknown = uuid::Uuid::now_v7().to_string();
    let (s, b) = bulk(
        &api,
        &p.admin,
        json!({"ids": [mine, unknown], "active": false}),
    )
    .await;
    problem(s, &b, 422);
    assert_eq!(b["errors"][0]["id"], unknown.as_str(), "{b}");
    let (s, b) = bulk(&api, &p.admin, json!({"ids": [], "active": false})).await;
    problem(s, &b, 422);
    let (_, list) = get(&api, &p.admin, "/api/v1/jobs").await;
    assert!(
        active(&list, &mine) && active(&list, &admins),
        "nothing changed: {list}"
    );

    let (s, b) = bulk(&api, &p.op, json!({"ids": [mine], "active": false})).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["items"][0]["was_active"], true);
    let (s, b) = bulk(
        &api,
        &p.admin,
        json!({"ids": [mine, admins, mine], "active": false}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (_, list) = get(&api, &p.admin, "/api/v1/jobs?active=false").await;
    assert_eq!(list["total"], 2, "{list}");

    let (_, audit) = get(&api, &p.admin, "/api/v1/audit?action=job.deactivate").await;
    let items = audit["items"].as_array().unwrap();
    assert!(items.len() >= 3, "one record per job changed: {audit}");
    api.stop().await;
}

#[tokio::test]
async fn credential_usage_lists_targets_and_jobs() {
    let api = ApiServer::start(&[]).await;
    let p = people(&api).await;
    let (cred, target) = inventory(&api, &p.admin).await;
    let (s, g) = api
        .call(
            Method::POST,
            "/api/v1/target-groups",
            Some(&p.admin),
            Some(json!({"name": "webs", "members": ["web-1"]})),
        )
        .await;
    assert_eq!(s, 201, "{g}");
    let direct = create_job(&api, &p.admin, job("direct", &[])).await;
    let via_group = create_job(
        &api,
        &p.admin,
        json!({"name": "via-group", "targets": {"groups": ["webs"]},
               "steps": [{"id": "a", "type": "ssh.exec", "with": {"command": "true"}}]}),
    )
    .await;
    create_job(
        &api,
        &p.admin,
        json!({"name": "elsewhere", "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]}),
    )
    .await;
    let path = format!("/api/v1/credentials/{cred}/usage");
    let (s, b) = get(&api, &p.op, &path).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["targets"], json!([{"id": target, "name": "web-1"}]));
    assert_eq!(
        b["jobs"],
        json!([{"id": direct, "name": "direct"}, {"id": via_group, "name": "via-group"}])
    );
    let (s, b) = get(&api, &p.viewer, &path).await;
    problem(s, &b, 403);
    let (s, b) = get(
        &api,
        &p.op,
        &format!("/api/v1/credentials/{}/usage", uuid::Uuid::now_v7()),
    )
    .await;
    problem(s, &b, 404);
    api.stop().await;
}

#[tokio::test]
async fn preview_shows_what_would_run_where_and_starts_nothing() {
    let api = ApiServer::start(&[]).await;
    let p = people(&api).await;
    let (_, target) = inventory(&api, &p.admin).await;
    let id = create_job(&api, &p.admin, job("deploy-web", &[])).await;
    let path = format!("/api/v1/jobs/{id}/preview");

    let (s, b) = api
        .call(
            Method::POST,
            &path,
            Some(&p.admin),
            Some(json!({"parameters": {"svc": "nginx", "token": "hunter2"}})),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["job_name"], "deploy-web");
    assert_eq!(b["parameters"]["svc"], "nginx");
    assert_eq!(b["parameters"]["token"], "••••");
    assert!(!b.to_string().contains("hunter2"), "{b}");
    let t = &b["targets"][0];
    assert_eq!(t["id"], target.as_str());
    assert_eq!(t["address"], "web1.example.com");
    assert_eq!(t["pool"], "default");
    assert_eq!(t["steps"][0]["id"], "restart");
    assert_eq!(t["steps"][0]["type"], "ssh.exec");
    assert!(t["steps"][0]["when"].is_string());
    assert!(!b["checks"].as_array().unwrap().is_empty());

    // Parameter errors as a real run answers them.
    let (s, b) = api
        .call(Method::POST, &path, Some(&p.admin), Some(json!({})))
        .await;
    problem(s, &b, 422);
    let (s2, b2) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{id}/run"),
            Some(&p.admin),
            Some(json!({})),
        )
        .await;
    assert_eq!((s2, &b2["errors"]), (s, &b["errors"]));

    // An operator without a grant may not run it, so may not preview it;
    // a viewer neither.
    let (s, b) = api
        .call(
            Method::POST,
            &path,
            Some(&p.op),
            Some(json!({"parameters": {"svc": "x"}})),
        )
        .await;
    problem(s, &b, 403);
    let (s, b) = api
        .call(
            Method::POST,
            &path,
            Some(&p.viewer),
            Some(json!({"parameters": {"svc": "x"}})),
        )
        .await;
    problem(s, &b, 403);
    let (s, b) = api
        .call(
            Method::POST,
            &format!("/api/v1/jobs/{}/preview", uuid::Uuid::now_v7()),
            Some(&p.admin),
            Some(json!({})),
        )
        .await;
    assert_eq!(s, 404, "{b}");

    let (_, runs) = get(&api, &p.admin, "/api/v1/runs").await;
    assert_eq!(runs["total"], 0, "a preview starts no run: {runs}");
    api.stop().await;
}
