//! Sessions, lockout, MFA, registration and input handling against the real api.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::harness::{ApiServer, TEST_ADMIN_PASSWORD};

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_session() {
    let api = ApiServer::start(&[]).await;
    let (access1, refresh1) = api.login("admin", TEST_ADMIN_PASSWORD).await;
    let (s, pair2) = api
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh1})),
        )
        .await;
    assert_eq!(s, 200, "{pair2}");
    let (access2, refresh2) = (
        pair2["access_token"].as_str().unwrap(),
        pair2["refresh_token"].as_str().unwrap(),
    );
    assert_ne!(refresh2, refresh1);
    assert_eq!(
        api.call(Method::GET, "/api/v1/auth/verify", Some(access2), None)
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(Method::GET, "/api/v1/auth/verify", Some(&access1), None)
            .await
            .0,
        200
    );

    // The old refresh token again: theft. The family dies.
    let (s, body) = api
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh1})),
        )
        .await;
    assert_eq!(s, 401, "{body}");
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/auth/refresh",
            None,
            Some(json!({"refresh_token": refresh2})),
        )
        .await;
    assert_eq!(s, 401, "the rotated token died with its family");
    assert_eq!(
        api.call(Method::GET, "/api/v1/auth/verify", Some(access2), None)
            .await
            .0,
        401
    );
    assert_eq!(
        api.call(Method::GET, "/api/v1/auth/verify", Some(&access1), None)
            .await
            .0,
        401
    );

    // Another session of the same user is untouched; revoke-all ends it.
    let (other, _) = api.login("admin", TEST_ADMIN_PASSWORD).await;
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", Some(&other), None)
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(
            Method::POST,
            "/api/v1/auth/revoke-all",
            Some(&other),
            Some(json!({}))
        )
        .await
        .0,
        204
    );
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", Some(&other), None)
            .await
            .0,
        401
    );
    api.stop().await;
}

#[tokio::test]
async fn lockout_engages_answers_alike_for_unknown_users_and_releases() {
    let api = ApiServer::start(&[
        ("OPSC_AUTH_LOCKOUT_THRESHOLD", "3"),
        ("OPSC_AUTH_LOCKOUT_SECS", "2"),
    ])
    .await;
    let admin = api.admin().await;
    api.user(&admin, "locky", "viewer", "locky-right-password-1")
        .await;
    let login = |u: &'static str, p: &'static str| {
        let api = &api;
        async move {
            let res = api
                .req(Method::POST, "/api/v1/auth/login", None)
                .json(&json!({"username": u, "password": p}))
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let retry = res
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_owned());
            (
                status,
                retry,
                res.json::<serde_json::Value>().await.unwrap_or_default(),
            )
        }
    };
    let (s_known, _, b_known) = login("locky", "wrong-password-xyz").await;
    let (s_unknown, _, b_unknown) = login("nobody-here", "wrong-password-xyz").await;
    assert_eq!((s_known, s_unknown), (401, 401));
    assert_eq!(b_known["type"], b_unknown["type"]);
    assert_eq!(b_known["detail"], b_unknown["detail"]);

    for _ in 0..2 {
        login("locky", "wrong-password-xyz").await;
        login("nobody-here", "wrong-password-xyz").await;
    }
    let (s, retry, _) = login("locky", "locky-right-password-1").await;
    assert_eq!(s, 429, "locked even with the right password");
    assert!(retry.is_some(), "Retry-After is set");
    assert_eq!(
        login("nobody-here", "anything-at-all-1").await.0,
        429,
        "unknown names lock too"
    );

    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        login("locky", "locky-right-password-1").await.0,
        200,
        "the lock releases"
    );
    api.stop().await;
}

#[tokio::test]
async fn totp_enrolment_login_and_replay_refusal() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let (s, enrol) = api
        .call(Method::POST, "/api/v1/me/mfa/enroll", Some(&admin), None)
        .await;
    assert_eq!(s, 200, "{enrol}");
    assert!(
        enrol["otpauth_uri"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/OpsConductor:admin?secret=")
    );
    let secret = data_encoding::BASE32_NOPAD
        .decode(enrol["secret"].as_str().unwrap().as_bytes())
        .unwrap();
    let step = chrono::Utc::now().timestamp() / 30;
    let code = |s: i64| opsc_api::auth::totp::code_at(&secret, s);

    let (s, body) = api
        .call(
            Method::POST,
            "/api/v1/me/mfa/confirm",
            Some(&admin),
            Some(json!({"code": code(step - 1)})),
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let recovery: Vec<String> = serde_json::from_value(body["recovery_codes"].clone()).unwrap();
    assert_eq!(recovery.len(), 10);

    let creds = json!({"username": "admin", "password": TEST_ADMIN_PASSWORD});
    let (s, body) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(creds.clone()),
        )
        .await;
    assert_eq!(
        (s, body["type"].as_str().unwrap()),
        (401, "https://opsconductor.dev/problems/mfa-required")
    );
    let mut with_code = creds.clone();
    with_code["totp_code"] = json!(code(step));
    assert_eq!(
        api.call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(with_code.clone())
        )
        .await
        .0,
        200
    );
    assert_eq!(
        api.call(Method::POST, "/api/v1/auth/login", None, Some(with_code))
            .await
            .0,
        401,
        "a used code cannot be replayed"
    );
    let mut old = creds.clone();
    old["totp_code"] = json!(code(step - 1));
    assert_eq!(
        api.call(Method::POST, "/api/v1/auth/login", None, Some(old))
            .await
            .0,
        401,
        "older steps are refused too"
    );

    let mut rc = creds.clone();
    rc["recovery_code"] = json!(recovery[0]);
    assert_eq!(
        api.call(Method::POST, "/api/v1/auth/login", None, Some(rc.clone()))
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(Method::POST, "/api/v1/auth/login", None, Some(rc))
            .await
            .0,
        401,
        "recovery codes are single-use"
    );
    api.stop().await;
}

#[tokio::test]
async fn admins_can_be_required_to_use_mfa() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let (s, _) = api
        .call(
            Method::PUT,
            "/api/v1/settings/security",
            Some(&admin),
            Some(json!({"require_mfa_for_admins": true, "self_registration": false})),
        )
        .await;
    assert_eq!(s, 200);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (s, body) = api
        .call(Method::GET, "/api/v1/users", Some(&admin), None)
        .await;
    assert_eq!(
        (s, body["type"].as_str().unwrap()),
        (
            403,
            "https://opsconductor.dev/problems/mfa-enrollment-required"
        )
    );
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", Some(&admin), None)
            .await
            .0,
        200,
        "self-service stays open"
    );
    assert_eq!(
        api.call(Method::POST, "/api/v1/me/mfa/enroll", Some(&admin), None)
            .await
            .0,
        200
    );
    api.stop().await;
}

#[tokio::test]
async fn bad_input_is_refused_with_problem_json_and_changes_nothing() {
    let api = ApiServer::start(&[("OPSC_HTTP_MAX_BODY_BYTES", "4096")]).await;
    let admin = api.admin().await;
    let res = api
        .req(Method::POST, "/api/v1/users", Some(&admin))
        .json(&json!({"username": "eve", "password": "long-enough-password-1", "role": "viewer", "is_admin": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422);
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let rid = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = res.json().await.unwrap();
    assert!(
        body["detail"].as_str().unwrap().contains("is_admin"),
        "{body}"
    );
    assert_eq!(body["request_id"], rid);
    for bad in [
        json!({"username": "eve", "password": "short", "role": "viewer"}),
        json!({"username": "e", "password": "long-enough-password-1", "role": "viewer"}),
        json!({"username": "eve", "password": "long-enough-password-1", "role": "root"}),
    ] {
        let (s, b) = api
            .call(Method::POST, "/api/v1/users", Some(&admin), Some(bad))
            .await;
        assert_eq!(s, 422, "{b}");
    }
    let big = "x".repeat(10_000);
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            Some(json!({"username": big, "password": "p", "role": "viewer"})),
        )
        .await;
    assert_eq!(s, 413);
    let (_, list) = api
        .call(Method::GET, "/api/v1/users", Some(&admin), None)
        .await;
    assert_eq!(
        list["total"], 1,
        "no rejected request created anything: {list}"
    );

    // Closed CORS: no allow-origin header for any origin, `null` included.
    for origin in ["https://evil.example", "null"] {
        let res = api
            .req(Method::OPTIONS, "/api/v1/users", None)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        assert!(res.headers().get("access-control-allow-origin").is_none());
    }
    // Self-registration is off by default.
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(json!({"username": "selfy", "password": "long-enough-password-1"})),
        )
        .await;
    assert_eq!(s, 403);
    api.stop().await;
}

#[tokio::test]
async fn configured_cors_origins_are_the_only_ones_allowed() {
    let api = ApiServer::start(&[("OPSC_HTTP_CORS_ORIGINS", "https://ops.example.com")]).await;
    for (origin, allowed) in [
        ("https://ops.example.com", true),
        ("https://evil.example", false),
        ("null", false),
    ] {
        let res = api
            .req(Method::OPTIONS, "/api/v1/users", None)
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .send()
            .await
            .unwrap();
        let got = res
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.to_str().unwrap().to_owned());
        assert_eq!(got.as_deref() == Some(origin), allowed, "{origin}: {got:?}");
    }
    api.stop().await;
}

#[tokio::test]
async fn api_tokens_cannot_mint_credentials_or_touch_the_second_factor() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let (s, created) = api
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            Some(&admin),
            Some(json!({"name": "bot", "expires_in_days": 1})),
        )
        .await;
    assert_eq!(s, 201);
    let token = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(
        api.call(Method::GET, "/api/v1/users", Some(&token), None)
            .await
            .0,
        200,
        "the token works for its role"
    );
    for (method, path, body) in [
        (Method::POST, "/api/v1/api-tokens", json!({"name": "child"})),
        (Method::POST, "/api/v1/me/mfa/enroll", json!({})),
        (
            Method::PUT,
            "/api/v1/me",
            json!({"current_password": TEST_ADMIN_PASSWORD, "new_password": "another-long-password-9"}),
        ),
        (Method::POST, "/api/v1/auth/revoke-all", json!({})),
    ] {
        let (s, b) = api
            .call(method.clone(), path, Some(&token), Some(body))
            .await;
        assert_eq!(
            (s, b["type"].as_str().unwrap_or_default()),
            (403, "https://opsconductor.dev/problems/session-required"),
            "{method} {path}"
        );
    }
    let (_, list) = api
        .call(Method::GET, "/api/v1/api-tokens", Some(&admin), None)
        .await;
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        1,
        "no token was minted by a token"
    );
    api.stop().await;
}

#[tokio::test]
async fn wrong_codes_and_parallel_guesses_count_toward_lockout_and_admins_can_unlock() {
    let api = ApiServer::start(&[
        ("OPSC_AUTH_LOCKOUT_THRESHOLD", "3"),
        ("OPSC_AUTH_LOCKOUT_SECS", "600"),
    ])
    .await;
    let admin = api.admin().await;
    let uid = api
        .user(&admin, "racer", "operator", "racer-right-password-1")
        .await;

    // Six guesses at once: every one counts, so the account ends up locked.
    let guesses = (0..6).map(|_| {
        api.req(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": "racer", "password": "wrong-guess-password"}))
            .send()
    });
    futures::future::join_all(guesses).await;
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "racer", "password": "racer-right-password-1"})),
        )
        .await;
    assert_eq!(s, 429, "parallel guesses locked the account");

    let (s, _) = api
        .call(
            Method::PUT,
            &format!("/api/v1/users/{uid}"),
            Some(&admin),
            Some(json!({"unlock": true})),
        )
        .await;
    assert_eq!(s, 200);
    let (racer, _) = api.login("racer", "racer-right-password-1").await;

    // With MFA on, wrong codes after the right password count as failures too.
    let (_, enrol) = api
        .call(Method::POST, "/api/v1/me/mfa/enroll", Some(&racer), None)
        .await;
    let secret = data_encoding::BASE32_NOPAD
        .decode(enrol["secret"].as_str().unwrap().as_bytes())
        .unwrap();
    let step = chrono::Utc::now().timestamp() / 30;
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/me/mfa/confirm",
            Some(&racer),
            Some(json!({"code": opsc_api::auth::totp::code_at(&secret, step - 1)})),
        )
        .await;
    assert_eq!(s, 200);
    for _ in 0..3 {
        let (s, _) = api
            .call(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "racer", "password": "racer-right-password-1", "totp_code": "000000"})),
            )
            .await;
        assert!(s == 401 || s == 429);
    }
    let good = opsc_api::auth::totp::code_at(&secret, step);
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "racer", "password": "racer-right-password-1", "totp_code": good})),
        )
        .await;
    assert_eq!(s, 429, "three wrong codes locked the account");
    api.stop().await;
}

#[tokio::test]
async fn malformed_path_and_query_parameters_answer_problem_json() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    for path in [
        "/api/v1/users/not-a-uuid",
        "/api/v1/users?limit=many",
        "/api/v1/audit?since=yesterday",
        "/api/v1/targets?colour=blue",
    ] {
        let res = api
            .req(Method::GET, path, Some(&admin))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 400, "{path}");
        assert_eq!(
            res.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
        let body: serde_json::Value = res.json().await.unwrap();
        assert!(body["request_id"].is_string(), "{path}: {body}");
    }
    api.stop().await;
}
