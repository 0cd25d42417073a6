//! Audit records and events for every mutation, login and denial; no secret
//! anywhere; the OpenAPI document is valid 3.1 and matches its snapshot.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ApiServer, TEST_ADMIN_PASSWORD, shared_nats_url};

const CANARY_PASSWORD: &str = "canary-Passw0rd-7f3a9c";

#[tokio::test]
async fn every_mutation_login_and_denial_is_audited_and_published_without_secrets() {
    let api = ApiServer::start(&[]).await;
    let nats = async_nats::connect(shared_nats_url()).await.unwrap();
    let mut events = nats
        .subscribe(format!("{}.evt.audit.*.recorded", api.prefix))
        .await
        .unwrap();
    nats.flush().await.unwrap();

    let mut bodies = Vec::new();
    let (admin, admin_refresh) = api.login("admin", TEST_ADMIN_PASSWORD).await;
    let uid = api.user(&admin, "carol", "viewer", CANARY_PASSWORD).await;
    let (s, b) = api
        .call(
            Method::PUT,
            &format!("/api/v1/users/{uid}"),
            Some(&admin),
            Some(json!({"display_name": "Carol"})),
        )
        .await;
    assert_eq!(s, 200);
    bodies.push(b);
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "carol", "password": "not-her-password-1"})),
        )
        .await;
    assert_eq!(s, 401);
    bodies.push(b);
    let (carol, _) = api.login("carol", CANARY_PASSWORD).await;
    let (s, b) = api
        .call(Method::GET, "/api/v1/users", Some(&carol), None)
        .await;
    assert_eq!(s, 403);
    bodies.push(b);
    let (s, created) = api
        .call(
            Method::POST,
            "/api/v1/api-tokens",
            Some(&admin),
            Some(json!({"name": "ci"})),
        )
        .await;
    assert_eq!(s, 201);
    let token_secret = created["secret"].as_str().unwrap().to_owned();
    let (s, b) = api
        .call(Method::GET, "/api/v1/users", Some(&token_secret), None)
        .await;
    assert_eq!(s, 200, "the API token works: {b}");
    bodies.push(b);
    let (s, _) = api
        .call(
            Method::DELETE,
            &format!("/api/v1/users/{uid}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 204);

    let (s, page) = api
        .call(Method::GET, "/api/v1/audit?limit=1000", Some(&admin), None)
        .await;
    assert_eq!(s, 200, "{page}");
    let items = page["items"].as_array().unwrap();
    let has = |action: &str, outcome: &str| {
        items
            .iter()
            .any(|r| r["action"] == action && r["outcome"] == outcome)
    };
    for (action, outcome) in [
        ("auth.login", "success"),
        ("auth.login", "denied"),
        ("user.create", "success"),
        ("user.update", "success"),
        ("user.delete", "success"),
        ("api_token.create", "success"),
        ("GET /api/v1/users", "denied"),
        ("GET /api/v1/users", "success"),
    ] {
        assert!(
            has(action, outcome),
            "missing audit {action}/{outcome} in {page}"
        );
    }
    let by_token = items
        .iter()
        .find(|r| r["actor_kind"] == "api_token")
        .expect("token use audited");
    assert_eq!(by_token["actor_name"], "admin");
    assert!(
        items
            .iter()
            .all(|r| r["request_id"].is_string() || r["action"] == "auth.login")
    );

    // Filters and exports.
    let (_, only) = api
        .call(
            Method::GET,
            "/api/v1/audit?action=user.create",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(only["total"], 1);
    let csv = api
        .req(Method::GET, "/api/v1/audit/export?format=csv", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("id,at,actor_id,actor_name"));
    assert!(csv.lines().count() > items.len() / 2);
    let json_export = api
        .req(
            Method::GET,
            "/api/v1/audit/export?format=json",
            Some(&admin),
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();

    // Events on the bus, one per record.
    let mut published = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(700), events.next()).await {
        published.push(String::from_utf8(m.payload.to_vec()).unwrap());
    }
    let (_, now) = api
        .call(Method::GET, "/api/v1/audit?limit=1000", Some(&admin), None)
        .await;
    assert!(
        published.len() >= items.len(),
        "{} events for {} records",
        published.len(),
        items.len()
    );
    let ev: Value = serde_json::from_str(&published[0]).unwrap();
    assert_eq!(ev["type"], "io.opsconductor.audit.recorded.v1");

    // No password, hash or token secret in records, exports, events or logs.
    let hashes = api_hashes(&api).await;
    let logs = api.process.output();
    let haystacks = [
        ("audit page", now.to_string()),
        ("csv export", csv),
        ("json export", json_export),
        ("events", published.join("\n")),
        ("logs", logs),
        ("responses", Value::Array(bodies).to_string()),
    ];
    for (name, hay) in &haystacks {
        for secret in [
            CANARY_PASSWORD,
            TEST_ADMIN_PASSWORD,
            &token_secret,
            &admin_refresh,
        ] {
            assert!(!hay.contains(secret), "{name} contains a secret");
        }
        for h in &hashes {
            assert!(!hay.contains(h.as_str()), "{name} contains a password hash");
        }
    }
    api.stop().await;
}

async fn api_hashes(api: &ApiServer) -> Vec<String> {
    use sea_orm::{ConnectionTrait as _, Statement};
    let conn = api.db.as_ref().unwrap().connect().await;
    let rows = conn
        .query_all(Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT password_hash AS h FROM users UNION ALL SELECT token_hash FROM api_tokens UNION ALL SELECT token_hash FROM refresh_tokens",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| r.try_get::<String>("", "h").unwrap())
        .collect()
}

#[tokio::test]
async fn openapi_document_is_valid_3_1_and_matches_the_snapshot() {
    let api = ApiServer::start(&[]).await;
    let served = api
        .req(Method::GET, "/api/openapi.json", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let snapshot =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/openapi.json"))
            .unwrap();
    assert!(
        served == snapshot,
        "the API changed: run `cargo run -- schemas write` and review the diff of schemas/openapi.json"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");

    let python = std::env::var("OPSC_TEST_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, &served).unwrap();
    let out = std::process::Command::new(&python)
        .args(["-m", "openapi_spec_validator", file.to_str().unwrap()])
        .output()
        .expect("run the OpenAPI validator (deploy/test.sh installs openapi-spec-validator)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && text.contains("OK"),
        "OpenAPI 3.1 validation failed: {text}"
    );

    let page = api
        .req(Method::GET, "/api/docs", None)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("/api/docs/reference.js") && !html.contains("https://"),
        "self-hosted, no CDN"
    );
    api.stop().await;
}
