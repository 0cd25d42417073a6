//! Who may create, change and delete dependencies: the right to run job
//! B, where a manual run of B would be allowed, being the owner, and, to
//! map a secret parameter of A, the right to edit A.

use reqwest::Method;
use serde_json::{Value, json};

use super::{PASSWORD, call, create, downstream_def, link, post, total, upstream_def};
use crate::harness::ApiServer;
use crate::harness::runs::create_job;

async fn grant_operators_run(api: &ApiServer, admin: &str, job: &str) {
    let (s, b) = call(
        api,
        Method::PUT,
        &format!("/api/v1/jobs/{job}/grants"),
        admin,
        Some(json!({"grants": [{"kind": "role", "role": "operator", "access": "run"}]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
}

#[tokio::test]
async fn dependency_changes_need_the_right_to_run_job_b_and_to_the_dependency() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let op1_id = api.user(&admin, "op1", "operator", PASSWORD).await;
    api.user(&admin, "op2", "operator", PASSWORD).await;
    api.user(&admin, "view1", "viewer", PASSWORD).await;
    let (op1, op2, viewer) = (
        api.login("op1", PASSWORD).await.0,
        api.login("op2", PASSWORD).await.0,
        api.login("view1", PASSWORD).await.0,
    );
    // The admin's jobs: A (visible to all, run by nobody else), B granted
    // to operators, C not.
    let a = create_job(&api, &admin, upstream_def("a")).await;
    let b = create_job(&api, &admin, downstream_def("b")).await;
    let c = create_job(&api, &admin, downstream_def("c")).await;
    grant_operators_run(&api, &admin, &b).await;

    // Viewers read and change nothing.
    let admins = create(&api, &admin, link(&a, &c)).await;
    let at = format!("/api/v1/dependencies/{admins}");
    assert_eq!(post(&api, &viewer, link(&a, &b)).await.0, 403);
    for (m, b) in [
        (Method::PATCH, Some(json!({"enabled": false}))),
        (Method::PUT, Some(link(&a, &c))),
        (Method::DELETE, None),
    ] {
        assert_eq!(
            call(&api, m.clone(), &at, &viewer, b).await.0,
            403,
            "{m} as viewer"
        );
    }
    for path in [
        at.clone(),
        "/api/v1/dependencies".into(),
        format!("/api/v1/jobs/{a}/dependencies"),
    ] {
        assert_eq!(
            call(&api, Method::GET, &path, &viewer, None).await.0,
            200,
            "{path}"
        );
    }

    // An operator makes only a job they may run depend on another...
    let (s, manual) = call(
        &api,
        Method::POST,
        &format!("/api/v1/jobs/{c}/run"),
        &op1,
        Some(json!({"parameters": {"svc": "x"}})),
    )
    .await;
    assert_eq!(s, 403, "{manual}");
    let (s, p) = post(&api, &op1, link(&a, &c)).await;
    assert_eq!(
        (s, p["detail"].clone()),
        (403, manual["detail"].clone()),
        "the same refusal: {p}"
    );
    let mine = create(&api, &op1, link(&a, &b)).await;
    let mine_at = format!("/api/v1/dependencies/{mine}");
    let (_, v) = call(&api, Method::GET, &mine_at, &op1, None).await;
    assert_eq!(v["owner_id"], json!(op1_id));
    // ... cannot retarget it to one they may not run ...
    let (s, p) = call(
        &api,
        Method::PATCH,
        &mine_at,
        &op1,
        Some(json!({"downstream_job_id": c})),
    )
    .await;
    assert_eq!(s, 403, "{p}");
    // ... nor pass A's secret on, since they may not edit A.
    let secret = json!({"svc": "params.svc", "tok": "params.token"});
    let (s, p) = call(
        &api,
        Method::PATCH,
        &mine_at,
        &op1,
        Some(json!({"parameters": secret})),
    )
    .await;
    assert!(
        s == 403 && p["detail"].as_str().unwrap().contains("is secret"),
        "{s} {p}"
    );
    // Other operators, even ones who may run B, change neither theirs nor
    // the admin's.
    for (m, path, b) in [
        (
            Method::PATCH,
            mine_at.clone(),
            Some(json!({"enabled": false})),
        ),
        (Method::PUT, mine_at.clone(), Some(link(&a, &b))),
        (Method::DELETE, mine_at.clone(), None),
        (Method::PATCH, at.clone(), Some(json!({"enabled": false}))),
        (Method::DELETE, at.clone(), None),
    ] {
        let (s, p) = call(&api, m.clone(), &path, &op2, b).await;
        assert_eq!(s, 403, "{m} {path} as op2: {p}");
    }
    let (_, v) = call(&api, Method::GET, &mine_at, &admin, None).await;
    assert_eq!(
        (v["revision"].clone(), v["enabled"].clone()),
        (json!(1), json!(true)),
        "nothing changed: {v}"
    );
    assert_eq!(total(&api, &admin).await, 2);

    // Its owner changes it; an admin too (the owner stays), secrets included.
    let (s, v) = call(
        &api,
        Method::PATCH,
        &mine_at,
        &op1,
        Some(json!({"on": "any"})),
    )
    .await;
    assert_eq!((s, v["revision"].clone()), (200, json!(2)), "{v}");
    let (s, v) = call(
        &api,
        Method::PATCH,
        &mine_at,
        &admin,
        Some(json!({"parameters": secret})),
    )
    .await;
    assert_eq!(
        (s, v["owner_id"].clone(), v["revision"].clone()),
        (200, json!(op1_id), json!(3)),
        "{v}"
    );
    // Losing the right to run B ends the right to change its dependencies.
    call(
        &api,
        Method::PUT,
        &format!("/api/v1/jobs/{b}/grants"),
        &admin,
        Some(json!({"grants": []})),
    )
    .await;
    assert_eq!(
        call(&api, Method::DELETE, &mine_at, &op1, None).await.0,
        403
    );
    assert_eq!(
        call(&api, Method::DELETE, &mine_at, &admin, None).await.0,
        204
    );
    api.stop().await;
}

#[tokio::test]
async fn a_dependency_cannot_start_b_where_a_manual_run_would_be_refused() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "op1", "operator", PASSWORD).await;
    let op1 = api.login("op1", PASSWORD).await.0;
    let (s, edge) = call(&api, Method::POST, "/api/v1/targets", &admin,
        Some(json!({"name": "edge-1", "hostname": "edge1.example.com", "os_type": "other", "pool": "edge"}))).await;
    assert_eq!(s, 201, "{edge}");
    let a = create_job(&api, &admin, upstream_def("a")).await;
    // B reaches into the worker host, and its targets are in a pool that
    // does not allow that.
    let b = create_job(
        &api,
        &admin,
        json!({"name": "host-b", "targets": {"targets": [edge["id"]]},
        "steps": [{"id": "cmd", "type": "local.exec", "with": {"command": "true"}}]}),
    )
    .await;
    grant_operators_run(&api, &admin, &b).await;
    let (s, manual) = call(
        &api,
        Method::POST,
        &format!("/api/v1/jobs/{b}/run"),
        &op1,
        Some(json!({})),
    )
    .await;
    assert_eq!(s, 403, "a manual run is refused: {manual}");
    let body: Value = json!({"upstream_job_id": a, "downstream_job_id": b});
    let (s, p) = post(&api, &op1, body).await;
    assert_eq!(
        (s, p["detail"].clone()),
        (403, manual["detail"].clone()),
        "the same refusal: {p}"
    );
    assert_eq!(total(&api, &admin).await, 0);
    api.stop().await;
}
