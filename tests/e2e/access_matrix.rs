//! Every route × every role × every token state gets the expected answer.
//! The routes come from the served OpenAPI document, which is generated from
//! the same table the router is built from: a new route is covered at once.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::runs::{create_job, run_job};
use crate::harness::{ApiServer, TEST_ADMIN_PASSWORD, TEST_MASTER_KEY};

const PASSWORD: &str = "matrix-pass-for-tests-1";

fn rank(role: &str) -> u8 {
    match role {
        "admin" => 3,
        "operator" => 2,
        "viewer" => 1,
        _ => 0,
    }
}

fn min_rank(access: &str) -> u8 {
    match access {
        "public" => 0,
        "authenticated" => 1,
        other => rank(other),
    }
}

fn forge_expired(sub: &str) -> String {
    use base64::Engine as _;
    let master: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(TEST_MASTER_KEY)
        .unwrap()
        .try_into()
        .unwrap();
    let keys = opsc_api::auth::keys::DerivedKeys::from_master(&master);
    let now = chrono::Utc::now().timestamp();
    opsc_api::auth::jwt::sign(
        &keys,
        &opsc_api::auth::jwt::Claims {
            iss: opsc_api::auth::jwt::ISSUER.into(),
            aud: opsc_api::auth::jwt::AUDIENCE.into(),
            sub: sub.parse().unwrap(),
            iat: now - 1000,
            exp: now - 100,
            jti: uuid::Uuid::now_v7(),
            sid: uuid::Uuid::now_v7(),
            mfa: false,
        },
    )
}

fn tamper(token: &str) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut claims: Value = serde_json::from_slice(&b64.decode(&parts[1]).unwrap()).unwrap();
    claims["exp"] = json!(claims["exp"].as_i64().unwrap() + 3600);
    parts[1] = b64.encode(claims.to_string());
    parts.join(".")
}

#[tokio::test]
async fn every_route_answers_every_role_and_token_state_as_declared() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let admin_id = api
        .call(Method::GET, "/api/v1/me", Some(&admin), None)
        .await
        .1["id"]
        .as_str()
        .unwrap()
        .to_owned();
    api.user(&admin, "op1", "operator", PASSWORD).await;
    api.user(&admin, "view1", "viewer", PASSWORD).await;

    let (_, doc) = api.call(Method::GET, "/api/openapi.json", None, None).await;
    let mut routes = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            routes.push((
                method.to_uppercase(),
                path.clone(),
                op["x-opsc-access"].as_str().unwrap().to_owned(),
            ));
        }
    }
    assert!(
        routes.len() >= 20,
        "the document lists every route: {routes:?}"
    );

    // Bad tokens: none, expired, tampered, revoked (logged out), garbage API token.
    let (revoked_access, revoked_refresh) = api.login("view1", PASSWORD).await;
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(json!({"refresh_token": revoked_refresh})),
        )
        .await;
    assert_eq!(s, 204);
    let (fresh, _) = api.login("view1", PASSWORD).await;
    let bad_tokens = [
        ("expired", Some(forge_expired(&admin_id))),
        ("tampered", Some(tamper(&fresh))),
        ("revoked", Some(revoked_access)),
        (
            "unknown api token",
            Some("opst_not-a-real-token-at-all-000000000000".to_owned()),
        ),
        ("none", None),
    ];

    let mut checked = 0;
    for (method, path, access) in &routes {
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        let url = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        let body = (method != Method::GET).then(|| json!({}));
        let need = min_rank(access);
        for (state, token) in &bad_tokens {
            let (status, b) = api
                .call(method.clone(), &url, token.as_deref(), body.clone())
                .await;
            if need == 0 {
                assert!(
                    status != 403,
                    "{method} {path} public, {state}: {status} {b}"
                );
            } else {
                assert_eq!(status, 401, "{method} {path} with {state} token: {b}");
                assert_eq!(b["status"], 401, "problem+json body: {b}");
            }
            checked += 1;
        }
        for (role, user, password) in [
            ("admin", "admin", TEST_ADMIN_PASSWORD),
            ("operator", "op1", PASSWORD),
            ("viewer", "view1", PASSWORD),
        ] {
            // A fresh session each time: some routes end sessions (revoke-all).
            let (token, _) = api.login(user, password).await;
            let (status, b) = api
                .call(method.clone(), &url, Some(&token), body.clone())
                .await;
            if rank(role) >= need {
                assert!(
                    status != 401 && status != 403,
                    "{method} {path} as {role}: {status} {b}"
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{method} {path} as {role} must be refused: {b}"
                );
            }
            checked += 1;
        }
    }
    println!(
        "access matrix: {} routes, {checked} requests checked",
        routes.len()
    );
    api.stop().await;
}

/// Routes that act on one job but need no right to it beyond reading it:
/// a clone is a new job, owned by who makes it.
const READS_ONLY: [(&str, &str); 1] = [("post", "/api/v1/jobs/{id}/clone")];

/// Who the caller is to the job in one pass of the job matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Nobody,
    RunGrant,
    EditGrant,
    Admin,
    Owner,
}

/// Whether `standing` may do what a route's `x-opsc-job-access` names.
fn may(standing: Standing, access: &str) -> bool {
    use Standing as S;
    match access {
        "run" => standing != S::Nobody,
        "edit" => matches!(standing, S::EditGrant | S::Admin | S::Owner),
        "delete" | "manage_grants" => matches!(standing, S::Admin | S::Owner),
        "transfer" => standing == S::Admin,
        other => panic!("unknown x-opsc-job-access {other:?}"),
    }
}

/// A body each route accepts when the caller may call it.
fn body_for(method: &str, path: &str, def: &Value) -> Option<Value> {
    match (method, path) {
        ("put", "/api/v1/jobs/{id}") => Some(def.clone()),
        ("patch", "/api/v1/jobs/{id}") => Some(json!({"active": true})),
        ("put", "/api/v1/jobs/{id}/grants") => Some(json!({"grants": []})),
        ("put", "/api/v1/jobs/{id}/owner") => Some(json!({"username": "op1"})),
        ("post", _) => Some(json!({})),
        _ => None,
    }
}

#[tokio::test]
async fn every_job_route_answers_owner_grants_and_admins_as_declared() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "op1", "operator", PASSWORD).await;
    let (op, _) = api.login("op1", PASSWORD).await;
    let def = json!({"name": "matrix-job", "steps": [{"id": "w", "type": "wait", "with": {"seconds": 1}}]});
    let job = create_job(&api, &admin, def.clone()).await;
    // No worker: the run stays queued, so it can be cancelled and re-run.
    let run = run_job(&api, &admin, &job, json!({})).await;

    let (_, doc) = api.call(Method::GET, "/api/openapi.json", None, None).await;
    let mut declared = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            let on_one =
                path.starts_with("/api/v1/jobs/{id}") || path.starts_with("/api/v1/runs/{id}/");
            match op["x-opsc-job-access"].as_str() {
                Some(access) => declared.push((method.clone(), path.clone(), access.to_owned())),
                None => assert!(
                    !on_one
                        || method == "get"
                        || READS_ONLY.contains(&(method.as_str(), path.as_str())),
                    "{method} {path} acts on one job and declares no x-opsc-job-access"
                ),
            }
        }
    }
    assert!(declared.len() >= 8, "{declared:?}");
    // Deleting goes last: it ends the job for the rest of the pass.
    declared.sort_by_key(|(method, _, _)| method == "delete");

    let grants_path = format!("/api/v1/jobs/{job}/grants");
    let mut checked = 0;
    for standing in [
        Standing::Nobody,
        Standing::RunGrant,
        Standing::EditGrant,
        Standing::Admin,
        Standing::Owner,
    ] {
        let (token, access) = match standing {
            Standing::Nobody | Standing::Owner => (&op, None),
            Standing::RunGrant => (&op, Some("run")),
            Standing::EditGrant => (&op, Some("edit")),
            Standing::Admin => (&admin, None),
        };
        let grants = access.map_or(
            json!([]),
            |a| json!([{"kind": "user", "username": "op1", "access": a}]),
        );
        let (s, b) = api
            .call(
                Method::PUT,
                &grants_path,
                Some(&admin),
                Some(json!({"grants": grants})),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        if standing == Standing::Owner {
            let (s, b) = api
                .call(
                    Method::PUT,
                    &format!("/api/v1/jobs/{job}/owner"),
                    Some(&admin),
                    Some(json!({"username": "op1"})),
                )
                .await;
            assert_eq!(s, 200, "{b}");
        }
        for (method, path, need) in &declared {
            let url = path.replace(
                "{id}",
                if path.starts_with("/api/v1/runs/") {
                    &run
                } else {
                    &job
                },
            );
            let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let allowed = may(standing, need);
            if allowed && method == "delete" && standing != Standing::Owner {
                // Only the last pass deletes the job.
                continue;
            }
            let (status, b) = api
                .call(m, &url, Some(token), body_for(method, path, &def))
                .await;
            if allowed {
                assert!(
                    ![401, 403].contains(&status) && status < 500,
                    "{method} {path} ({need}) as {standing:?}: {status} {b}"
                );
            } else {
                assert_eq!(
                    status, 403,
                    "{method} {path} ({need}) as {standing:?} must be refused: {b}"
                );
                assert_eq!(b["status"], 403, "problem+json: {b}");
            }
            checked += 1;
        }
    }
    println!(
        "job matrix: {} routes, {checked} requests checked",
        declared.len()
    );
    api.stop().await;
}
