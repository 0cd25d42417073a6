//! The smaller trust boundaries, each replayed as the attacker would: a
//! lower-case auth scheme, oversized and NUL-laden requests, offsets past
//! any table, API tokens that outlive a password or skip the second
//! factor, guessing a current password from a stolen session, a flood of
//! logins, too many live streams, and a client naming its own address.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::{create_job, run_job};

const PASSWORD: &str = "operator-password-1";

async fn send(r: reqwest::RequestBuilder) -> (u16, Option<String>, Option<String>, Value) {
    let res = r.send().await.expect("request");
    let status = res.status().as_u16();
    let header = |n: &str| {
        res.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let (ct, retry) = (header("content-type"), header("retry-after"));
    let text = res.text().await.unwrap_or_default();
    (
        status,
        ct,
        retry,
        serde_json::from_str(&text).unwrap_or(Value::Null),
    )
}

fn login_body(user: &str, password: &str) -> Value {
    json!({"username": user, "password": password})
}

#[tokio::test]
async fn requests_an_attacker_shapes_get_clear_4xx_problems() {
    let api = ApiServer::start(&[("OPSC_HTTP_MAX_BODY_BYTES", "4096")]).await;
    let admin = api.admin().await;

    // The scheme is case-insensitive.
    let (s, _, _, me) = send(
        api.req(Method::GET, "/api/v1/me", None)
            .header("authorization", format!("bearer {admin}")),
    )
    .await;
    assert_eq!(s, 200, "{me}");

    // An oversized body is a problem+json 413, and nothing is stored.
    let huge = json!({"name": "big", "description": "x".repeat(10_000), "steps": []});
    let (s, ct, _, b) = send(
        api.req(Method::POST, "/api/v1/jobs", Some(&admin))
            .json(&huge),
    )
    .await;
    assert_eq!(s, 413, "{b}");
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "{b}");
    assert_eq!(b["status"], 413);

    // A method the path lacks is a problem too.
    let (s, ct, _, _) = send(api.req(Method::PATCH, "/api/v1/me/mfa/enroll", Some(&admin))).await;
    assert_eq!(s, 405);
    assert_eq!(ct.as_deref(), Some("application/problem+json"));

    // NUL characters and offsets past 64 bits are the request's fault.
    for path in [
        "/api/v1/jobs?name=a%00b",
        "/api/v1/targets?name=a%00b",
        "/api/v1/audit?action=a%00b",
    ] {
        let (s, ct, _, b) = send(api.req(Method::GET, path, Some(&admin))).await;
        assert!((400..500).contains(&s), "{path}: {s} {b}");
        assert_eq!(ct.as_deref(), Some("application/problem+json"), "{path}");
    }
    let (s, _, _, b) = send(
        api.req(Method::POST, "/api/v1/groups", Some(&admin))
            .json(&json!({"name": "g\u{0}x"})),
    )
    .await;
    assert!((400..500).contains(&s), "NUL in a body: {s} {b}");
    let (s, _, _, b) = send(api.req(
        Method::GET,
        "/api/v1/jobs?offset=18446744073709551615",
        Some(&admin),
    ))
    .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(b["items"], json!([]));
}

#[tokio::test]
async fn api_tokens_expire_die_with_the_password_and_respect_the_second_factor() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    api.user(&admin, "oper", "operator", PASSWORD).await;
    let (op, _) = api.login("oper", PASSWORD).await;

    let (s, t) = api
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            Some(&op),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let expires: chrono::DateTime<chrono::Utc> =
        t["token"]["expires_at"].as_str().unwrap().parse().unwrap();
    let days = (expires - chrono::Utc::now()).num_days();
    assert!(
        (89..=90).contains(&days),
        "a default lifetime of 90 days: {t}"
    );
    let secret = t["secret"].as_str().unwrap().to_owned();
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            Some(&op),
            Some(json!({"name": "forever", "never_expires": true})),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            Some(&admin),
            Some(json!({"name": "forever", "never_expires": true})),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert!(b["token"]["expires_at"].is_null(), "{b}");

    // The token works, until its owner changes the password.
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", Some(&secret), None)
            .await
            .0,
        200
    );
    let (s, b) = api
        .call(
            Method::PUT,
            "/api/v1/me",
            Some(&op),
            Some(
                json!({"current_password": PASSWORD, "new_password": "a-new-operator-password-2"}),
            ),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(
        api.call(Method::GET, "/api/v1/me", Some(&secret), None)
            .await
            .0,
        401
    );

    // With a second factor required of admins, no admin token from a session without one.
    let (_, mut settings) = api
        .call(Method::GET, "/api/v1/settings/security", Some(&admin), None)
        .await;
    settings["require_mfa_for_admins"] = json!(true);
    let (s, b) = api
        .call(
            Method::PUT,
            "/api/v1/settings/security",
            Some(&admin),
            Some(settings),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            Some(&admin),
            Some(json!({"name": "root", "role": "admin"})),
        )
        .await;
    assert_eq!(s, 403, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("second factor"),
        "{b}"
    );
}

#[tokio::test]
async fn a_stolen_session_cannot_guess_the_current_password() {
    let api = ApiServer::start(&[("OPSC_AUTH_LOCKOUT_THRESHOLD", "3")]).await;
    let admin = api.admin().await;
    api.user(&admin, "oper", "operator", PASSWORD).await;
    let (op, _) = api.login("oper", PASSWORD).await;
    let change = |current: &str| json!({"current_password": current, "new_password": "a-new-operator-password-2"});
    for guess in ["guess-number-one", "guess-number-two", "guess-number-three"] {
        let (s, b) = api
            .call(Method::PUT, "/api/v1/me", Some(&op), Some(change(guess)))
            .await;
        assert_eq!(s, 403, "{b}");
    }
    // Locked now, even for the right one: the guesses stop here.
    let (s, _, retry, b) = send(
        api.req(Method::PUT, "/api/v1/me", Some(&op))
            .json(&change(PASSWORD)),
    )
    .await;
    assert_eq!(s, 429, "{b}");
    assert!(retry.is_some_and(|r| r.parse::<u64>().unwrap() > 0));
}

/// `n` wrong logins at once (of names that do not exist, so no account
/// locks), each from its own forwarded client address when `per_client`;
/// their statuses. Every answer is problem+json; 429 and 503 carry
/// `Retry-After`.
async fn flood(api: &ApiServer, n: usize, per_client: bool) -> Vec<u16> {
    let reqs: Vec<_> = (0..n)
        .map(|i| {
            let mut r = api
                .req(Method::POST, "/api/v1/auth/login", None)
                .json(&login_body(&format!("ghost{i}"), "wrong-password-for-sure"));
            if per_client {
                r = r.header("x-forwarded-for", format!("198.51.100.{}", i % 250 + 1));
            }
            tokio::spawn(send(r))
        })
        .collect();
    let mut codes = Vec::new();
    for r in reqs {
        let (s, ct, retry, _) = r.await.unwrap();
        assert_eq!(ct.as_deref(), Some("application/problem+json"));
        if s == 503 || s == 429 {
            assert!(retry.is_some(), "{s} carries Retry-After");
        }
        codes.push(s);
    }
    codes
}

#[tokio::test]
async fn a_login_flood_is_turned_away_with_retry_after_and_one_address_cannot_hog_it() {
    let api = ApiServer::start(&[
        ("OPSC_AUTH_PASSWORD_CHECKS", "1"),
        ("OPSC_AUTH_LOGINS_PER_ADDRESS", "100"),
        ("OPSC_AUTH_ADDRESS_FAILURE_LIMIT", "1000"),
        ("OPSC_HTTP_TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    let codes = flood(&api, 40, true).await;
    assert!(codes.iter().all(|c| [401, 503].contains(c)), "{codes:?}");
    assert!(
        codes.contains(&503),
        "one check at a time turns a flood away: {codes:?}"
    );
    // The right password still works once the flood is over.
    tokio::time::sleep(Duration::from_millis(600)).await;
    api.admin().await;

    // One address with many logins at once gets 429 for the surplus.
    let api = ApiServer::start(&[
        ("OPSC_AUTH_LOGINS_PER_ADDRESS", "2"),
        ("OPSC_AUTH_ADDRESS_FAILURE_LIMIT", "1000"),
    ])
    .await;
    let codes = flood(&api, 12, false).await;
    assert!(codes.contains(&429), "{codes:?}");
}

#[tokio::test]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    let limited = [
        ("OPSC_AUTH_ADDRESS_FAILURE_LIMIT", "2"),
        ("OPSC_AUTH_LOCKOUT_THRESHOLD", "1000"),
    ];
    let fail = |api: &ApiServer, from: &str| {
        send(
            api.req(Method::POST, "/api/v1/auth/login", None)
                .header("x-forwarded-for", from.to_owned())
                .json(&login_body("admin", "wrong-password-for-sure")),
        )
    };
    // Behind a trusted proxy each client has its own bucket.
    let mut env = limited.to_vec();
    env.push(("OPSC_HTTP_TRUSTED_PROXIES", "127.0.0.0/8"));
    let api = ApiServer::start(&env).await;
    for _ in 0..2 {
        assert_eq!(fail(&api, "198.51.100.1").await.0, 401);
    }
    assert_eq!(
        fail(&api, "198.51.100.1").await.0,
        429,
        "that client is throttled"
    );
    assert_eq!(
        fail(&api, "198.51.100.2").await.0,
        401,
        "another client is not"
    );
    // From an untrusted peer the header is ignored: one bucket, the peer's.
    let api = ApiServer::start(&limited).await;
    assert_eq!(fail(&api, "198.51.100.1").await.0, 401);
    assert_eq!(fail(&api, "198.51.100.2").await.0, 401);
    assert_eq!(
        fail(&api, "198.51.100.3").await.0,
        429,
        "a forged header buys nothing"
    );
}

#[tokio::test]
async fn one_user_holds_a_bounded_number_of_live_streams() {
    let api = ApiServer::start(&[("OPSC_HTTP_STREAMS_PER_USER", "2")]).await;
    let _worker = api.start_worker("default").await;
    let admin = api.admin().await;
    let job = create_job(
        &api,
        &admin,
        json!({"name": "slow", "steps": [{"id": "w", "type": "wait", "with": {"seconds": 30}}]}),
    )
    .await;
    let run = run_job(&api, &admin, &job, json!({})).await;
    let path = format!("/api/v1/runs/{run}/stream");
    let open = || api.req(Method::GET, &path, Some(&admin)).send();
    let first = open().await.unwrap();
    let second = open().await.unwrap();
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = open().await.unwrap();
    assert_eq!(third.status().as_u16(), 429);
    assert_eq!(
        third
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/problem+json")
    );
    drop(first);
    // The slot comes back once the server notices the client left.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let again = open().await.unwrap();
        if again.status().as_u16() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot never came back"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(second);
}
