//! The credential vault: secrets never appear in clear anywhere, roles are
//! enforced, rotation under load loses nothing, and a ciphertext moved to
//! another record does not decrypt.

use std::time::Duration;

use futures::StreamExt as _;
use reqwest::Method;
use sea_orm::{ConnectionTrait as _, Statement};
use serde_json::{Value, json};

use crate::harness::{ApiServer, Opsc, TEST_MASTER_KEY, shared_nats_url};

const CANARY_PASSWORD: &str = "canary-cred-pw-5c1e77b2";
const PASSWORD: &str = "cred-test-pass-for-users-1";

fn keygen(passphrase: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("k");
    let ok = std::process::Command::new("ssh-keygen")
        .args([
            "-q", "-t", "ed25519", "-N", passphrase, "-C", "canary", "-f",
        ])
        .arg(&file)
        .status()
        .unwrap();
    assert!(ok.success());
    std::fs::read_to_string(file).unwrap()
}

async fn dump_database(api: &ApiServer) -> String {
    api.db.as_ref().unwrap().dump_text().await
}

#[tokio::test]
async fn canary_secrets_appear_nowhere_in_clear_and_roles_hold() {
    let api = ApiServer::start(&[]).await;
    let nats = async_nats::connect(shared_nats_url()).await.unwrap();
    let mut bus = nats.subscribe(format!("{}.>", api.prefix)).await.unwrap();
    nats.flush().await.unwrap();
    let admin = api.admin().await;
    let key = keygen("canary passphrase 9");
    let key_body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();

    let mut responses = Vec::new();
    let (s, pw) = api
        .call(Method::POST, "/api/v1/credentials", Some(&admin), Some(json!({
            "name": "linux-pw", "spec": {"type": "ssh_password", "username": "ops", "password": CANARY_PASSWORD}})))
        .await;
    assert_eq!(s, 201, "{pw}");
    responses.push(pw.clone());
    let (s, k) = api
        .call(Method::POST, "/api/v1/credentials", Some(&admin), Some(json!({
            "name": "linux-key", "spec": {"type": "ssh_key", "username": "ops", "private_key": key, "passphrase": "canary passphrase 9"}})))
        .await;
    assert_eq!(s, 201, "{k}");
    assert!(
        k["public"]["fingerprint"]
            .as_str()
            .unwrap()
            .starts_with("SHA256:")
    );
    assert_eq!(k["public"]["encrypted"], true);
    responses.push(k.clone());
    let (s, b) = api
        .call(Method::POST, "/api/v1/credentials", Some(&admin), Some(json!({
            "name": "bad-key", "spec": {"type": "ssh_key", "username": "ops", "private_key": key, "passphrase": "wrong"}})))
        .await;
    assert_eq!(s, 422, "a wrong passphrase is refused: {b}");
    let (s, b) = api
        .call(Method::POST, "/api/v1/credentials", Some(&admin), Some(json!({
            "name": "linux-pw", "spec": {"type": "ssh_password", "username": "x", "password": "y"}})))
        .await;
    assert_eq!(s, 409, "{b}");
    let id = pw["id"].as_str().unwrap();
    let (s, b) = api
        .call(Method::PUT, &format!("/api/v1/credentials/{id}"), Some(&admin), Some(json!({
            "description": "rotated", "spec": {"type": "ssh_password", "username": "ops", "password": CANARY_PASSWORD}})))
        .await;
    assert_eq!(s, 200, "{b}");
    responses.push(b);
    for path in [
        "/api/v1/credentials".to_owned(),
        format!("/api/v1/credentials/{id}"),
    ] {
        let (s, b) = api.call(Method::GET, &path, Some(&admin), None).await;
        assert_eq!(s, 200);
        responses.push(b);
    }

    // Operators may list (to reference credentials in jobs), not change; viewers neither.
    api.user(&admin, "oper", "operator", PASSWORD).await;
    api.user(&admin, "view", "viewer", PASSWORD).await;
    let (op, _) = api.login("oper", PASSWORD).await;
    let (vw, _) = api.login("view", PASSWORD).await;
    assert_eq!(
        api.call(Method::GET, "/api/v1/credentials", Some(&op), None)
            .await
            .0,
        200
    );
    assert_eq!(
        api.call(
            Method::DELETE,
            &format!("/api/v1/credentials/{id}"),
            Some(&op),
            None
        )
        .await
        .0,
        403
    );
    assert_eq!(
        api.call(Method::GET, "/api/v1/credentials", Some(&vw), None)
            .await
            .0,
        403
    );

    let (_, audit) = api
        .call(Method::GET, "/api/v1/audit?limit=1000", Some(&admin), None)
        .await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["action"] == "credential.create")
    );
    let mut messages = Vec::new();
    while let Ok(Some(m)) = tokio::time::timeout(Duration::from_millis(500), bus.next()).await {
        messages.push(String::from_utf8_lossy(&m.payload).into_owned());
    }
    assert!(!messages.is_empty(), "audit events were published");

    let db = dump_database(&api).await;
    assert!(db.contains("linux-pw"), "the dump has the rows");
    let hex = |s: &str| s.bytes().map(|b| format!("{b:02x}")).collect::<String>();
    let places = [
        ("database", db.clone()),
        ("responses", Value::Array(responses).to_string()),
        ("audit", audit.to_string()),
        ("bus", messages.join("\n")),
        ("logs", api.process.output()),
    ];
    for (place, text) in &places {
        for secret in [CANARY_PASSWORD, &key_body[..40], "canary passphrase 9"] {
            assert!(!text.contains(secret), "{place} holds a secret in clear");
            assert!(
                !text.contains(&hex(secret)),
                "{place} holds a secret hex-encoded"
            );
        }
    }
    api.stop().await;
}

fn key_b() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode([0x5au8; 32])
}

async fn rows(api: &ApiServer) -> Vec<(uuid::Uuid, String, opsc_api::vault::Sealed)> {
    let conn = api.db.as_ref().unwrap().connect().await;
    use sea_orm::EntityTrait as _;
    opsc_api::store::credential::Entity::find()
        .all(&conn)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.kind.clone(), r.envelope()))
        .collect()
}

#[tokio::test]
async fn rotation_under_load_loses_nothing_and_moved_ciphertext_fails() {
    let mut api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    for i in 0..40 {
        let (s, b) = api
            .call(Method::POST, "/api/v1/credentials", Some(&admin), Some(json!({
                "name": format!("c{i}"), "spec": {"type": "ssh_password", "username": "u", "password": format!("pw-{i}")}})))
            .await;
        assert_eq!(s, 201, "{b}");
    }
    // New current key B, old key A retired: the api reads with both, writes with B.
    let new_key = key_b();
    api.restart(&[
        ("OPSC_MASTER_KEY", new_key.as_str()),
        ("OPSC_RETIRED_MASTER_KEYS", TEST_MASTER_KEY),
    ])
    .await;
    let admin = api.admin().await;
    let writers = (40..70).map(|i| {
        let (api, admin) = (&api, admin.clone());
        async move {
            let (s, b) = api
                .call(Method::POST, "/api/v1/credentials", Some(&admin), Some(json!({
                    "name": format!("c{i}"), "spec": {"type": "ssh_password", "username": "u", "password": format!("pw-{i}")}})))
                .await;
            assert_eq!(s, 201, "{b}");
        }
    });
    let mut env = api.env.clone();
    env.insert("OPSC_MASTER_KEY".into(), key_b());
    env.insert("OPSC_RETIRED_MASTER_KEYS".into(), TEST_MASTER_KEY.into());
    let rotate = async {
        let mut p = Opsc::spawn(&["keys", "rotate"], &env);
        let code = p.wait().await;
        (code, p.output())
    };
    let ((code, out), ()) = tokio::join!(rotate, async {
        futures::future::join_all(writers).await;
    });
    assert_eq!(code, Some(0), "{out}");
    let report: Value =
        serde_json::Deserializer::from_str(&out[out.find("{\n").expect("a JSON report")..])
            .into_iter::<Value>()
            .next()
            .expect("a JSON report")
            .unwrap();
    assert_eq!(report["failed"].as_array().unwrap().len(), 0, "{report}");
    assert!(report["rewrapped"].as_u64().unwrap() >= 1, "{report}");

    // Every record opens with the new key alone, with the right content.
    use base64::Engine as _;
    let b: [u8; 32] = base64::engine::general_purpose::STANDARD
        .decode(key_b())
        .unwrap()
        .try_into()
        .unwrap();
    let only_b = opsc_api::vault::Keyring::new(&b, &[]);
    let all = rows(&api).await;
    assert_eq!(all.len(), 70, "nothing lost");
    let conn = api.db.as_ref().unwrap().connect().await;
    for (id, kind, env) in &all {
        let secret: Value =
            serde_json::from_slice(&opsc_api::vault::open(&only_b, *id, kind, env).unwrap())
                .unwrap();
        let name: String = conn
            .query_one(Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT name AS n FROM credentials WHERE id = $1",
                [(*id).into()],
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get("", "n")
            .unwrap();
        assert_eq!(secret["password"], format!("pw-{}", &name[1..]));
    }

    // A ciphertext moved to another record (in the database) fails to decrypt.
    let (a, b2) = (&all[0], &all[1]);
    conn.execute(Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "UPDATE credentials SET sealed = $1, wrapped_dek = $2, kek_id = $3 WHERE id = $4",
        [
            b2.2.sealed.clone().into(),
            b2.2.wrapped_dek.clone().into(),
            b2.2.kek_id.clone().into(),
            a.0.into(),
        ],
    ))
    .await
    .unwrap();
    let moved = rows(&api).await.into_iter().find(|r| r.0 == a.0).unwrap();
    assert_eq!(
        opsc_api::vault::open(&only_b, moved.0, &moved.1, &moved.2),
        Err(opsc_api::vault::VaultError::Tampered)
    );
    api.stop().await;
}
