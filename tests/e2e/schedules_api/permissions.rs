//! Who may create, change, pause and delete schedules: the right to run
//! the job, where a manual run would be allowed, and being the owner.

use reqwest::Method;
use serde_json::json;

use super::{PASSWORD, body, call, create, post};
use crate::harness::ApiServer;
use crate::harness::runs::create_job;

#[tokio::test]
async fn schedule_changes_need_the_right_to_run_the_job_and_to_the_schedule() {
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
    // The admin's job reaches into the worker host: only in the default pool.
    let local = |name: &str| {
        json!({"name": name, "parameters": {"who": {"type": "string"}},
        "steps": [{"id": "cmd", "type": "local.exec", "with": {"command": "true"}}]})
    };
    let granted = create_job(&api, &admin, local("granted")).await;
    let closed = create_job(&api, &admin, local("closed")).await;
    let (s, b) = call(
        &api,
        Method::PUT,
        &format!("/api/v1/jobs/{granted}/grants"),
        &admin,
        Some(json!({"grants": [{"kind": "role", "role": "operator", "access": "run"}]})),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let (s, edge) = call(&api, Method::POST, "/api/v1/targets", &admin,
        Some(json!({"name": "edge-1", "hostname": "edge1.example.com", "os_type": "other", "pool": "edge"}))).await;
    assert_eq!(s, 201, "{edge}");
    let into_edge = json!({"targets": [edge["id"]]});

    // Viewers read, and change nothing.
    let admins = create(&api, &admin, body(&granted, "admins")).await;
    assert_eq!(
        post(&api, &viewer, body(&granted, "by-viewer")).await.0,
        403
    );
    let (s, page) = call(&api, Method::GET, "/api/v1/schedules", &viewer, None).await;
    assert_eq!((s, page["total"].clone()), (200, json!(1)), "{page}");
    let at = format!("/api/v1/schedules/{admins}");
    for (m, path, b) in [
        (Method::PATCH, at.clone(), Some(json!({"description": "x"}))),
        (Method::PUT, at.clone(), Some(body(&granted, "admins"))),
        (Method::DELETE, at.clone(), None),
        (Method::POST, format!("{at}/pause"), None),
        (Method::POST, "/api/v1/scheduler/pause".into(), None),
    ] {
        assert_eq!(
            call(&api, m.clone(), &path, &viewer, b).await.0,
            403,
            "{m} {path} as viewer"
        );
    }
    for path in [
        at.clone(),
        format!("{at}/next"),
        format!("{at}/fires"),
        "/api/v1/scheduler/status".into(),
    ] {
        assert_eq!(
            call(&api, Method::GET, &path, &viewer, None).await.0,
            200,
            "{path} as viewer"
        );
    }

    // An operator schedules only what they may run, where they may run it.
    let (s, p) = post(&api, &op1, body(&closed, "not-mine")).await;
    assert_eq!(s, 403, "{p}");
    let (s, manual) = call(
        &api,
        Method::POST,
        &format!("/api/v1/jobs/{granted}/run"),
        &op1,
        Some(json!({"targets": into_edge})),
    )
    .await;
    assert_eq!(
        s, 403,
        "a manual run into the edge pool is refused: {manual}"
    );
    let mut b = body(&granted, "into-edge");
    b["targets"] = into_edge.clone();
    let (s, p) = post(&api, &op1, b).await;
    assert_eq!(
        (s, p["detail"].clone()),
        (403, manual["detail"].clone()),
        "the same refusal: {p}"
    );
    let mine = create(&api, &op1, body(&granted, "mine")).await;
    let mine_at = format!("/api/v1/schedules/{mine}");
    // ... and cannot widen it later, into another job or another pool.
    for patch in [json!({"job_id": closed}), json!({"targets": into_edge})] {
        let (s, p) = call(&api, Method::PATCH, &mine_at, &op1, Some(patch.clone())).await;
        assert_eq!(s, 403, "{patch}: {p}");
    }
    // Other operators, even ones who may run the job, do not change it.
    for (m, path, b) in [
        (
            Method::PATCH,
            mine_at.clone(),
            Some(json!({"description": "x"})),
        ),
        (Method::DELETE, mine_at.clone(), None),
        (Method::POST, format!("{mine_at}/pause"), None),
        (Method::PATCH, at.clone(), Some(json!({"description": "x"}))),
    ] {
        let (s, p) = call(&api, m.clone(), &path, &op2, b).await;
        assert_eq!(s, 403, "{m} {path} as op2: {p}");
    }
    let (_, v) = call(&api, Method::GET, &mine_at, &admin, None).await;
    assert_eq!(v["revision"], 1, "nothing changed: {v}");
    // Its owner and admins do.
    let (s, v) = call(&api, Method::POST, &format!("{mine_at}/pause"), &op1, None).await;
    assert_eq!(
        (s, v["paused"].clone(), v["revision"].clone()),
        (200, json!(true), json!(2)),
        "{v}"
    );
    let (s, v) = call(
        &api,
        Method::PATCH,
        &mine_at,
        &admin,
        Some(json!({"description": "by admin"})),
    )
    .await;
    assert_eq!(
        (s, v["owner_id"].clone()),
        (200, json!(op1_id)),
        "an admin's edit keeps the owner: {v}"
    );
    let (s, v) = call(&api, Method::POST, &format!("{mine_at}/resume"), &op1, None).await;
    assert_eq!((s, v["paused"].clone()), (200, json!(false)), "{v}");
    // Losing the right to run the job ends the right to change its schedules.
    call(
        &api,
        Method::PUT,
        &format!("/api/v1/jobs/{granted}/grants"),
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
    // The scheduler-wide switch is an admin's.
    for path in ["/api/v1/scheduler/pause", "/api/v1/scheduler/resume"] {
        assert_eq!(
            call(&api, Method::POST, path, &op1, None).await.0,
            403,
            "{path}"
        );
    }
    api.stop().await;
}
