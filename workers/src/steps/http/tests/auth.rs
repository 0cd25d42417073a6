//! The target's `http_auth` credential: each scheme, its extra headers, and
//! its confinement to the target's origin.

use std::collections::BTreeMap;

use base64::Engine as _;
use opsc_proto::material::CredentialMaterial;
use serde_json::json;

use super::Call;
use super::server::Server;

fn material(scheme: &str) -> CredentialMaterial {
    CredentialMaterial::HttpAuth {
        scheme: scheme.to_owned(),
        username: Some("deployer".to_owned()),
        password: Some("pa55-word-x".to_owned()),
        token: Some("tok-9f8e7d".to_owned()),
        header: Some("X-Api-Key".to_owned()),
        headers: BTreeMap::from([("X-Tenant-Secret".to_owned(), "tenant-42-secret".to_owned())]),
    }
}

#[tokio::test]
async fn basic_bearer_and_api_key_credentials_are_applied() {
    let s = Server::start().await;
    let basic = base64::engine::general_purpose::STANDARD.encode("deployer:pa55-word-x");
    for (scheme, header, value) in [
        ("basic", "authorization", format!("Basic {basic}")),
        ("bearer", "authorization", "Bearer tok-9f8e7d".to_owned()),
        ("api_key", "x-api-key", "tok-9f8e7d".to_owned()),
    ] {
        let call = Call::on_target(&s.base(), Some(material(scheme)));
        let ran = call
            .run("http.post", json!({"url": "/echo", "json": {}}))
            .await;
        assert!(ran.succeeded(), "{scheme}: {ran:?}");
        let seen = s.shared.seen().pop().unwrap();
        assert_eq!(seen.headers[header], value.as_str(), "{scheme}");
        assert_eq!(seen.headers["x-tenant-secret"], "tenant-42-secret");
        // The echo repeats the secrets; the sink masks them.
        for secret in ["pa55-word-x", "tok-9f8e7d", "tenant-42-secret"] {
            assert!(
                !ran.out.stdout.contains(secret),
                "{scheme}: {}",
                ran.out.stdout
            );
        }
        if scheme != "basic" {
            assert!(ran.out.stdout.contains("***"), "{}", ran.out.stdout);
        }
    }
}

#[tokio::test]
async fn auth_none_and_a_step_header_override_the_credential() {
    let s = Server::start().await;
    let call = Call::on_target(&s.base(), Some(material("bearer")));
    let ran = call
        .run("http.get", json!({"url": "/echo", "auth": "none"}))
        .await;
    assert!(ran.succeeded(), "{ran:?}");
    let seen = s.shared.seen().pop().unwrap();
    assert!(!seen.headers.contains_key("authorization"));
    assert!(!seen.headers.contains_key("x-tenant-secret"));

    let ran = call
        .run(
            "http.get",
            json!({"url": "/echo", "headers": {"Authorization": "Bearer mine"}}),
        )
        .await;
    assert!(ran.succeeded(), "{ran:?}");
    let seen = s.shared.seen().pop().unwrap();
    assert_eq!(seen.headers["authorization"], "Bearer mine");
    assert_eq!(seen.headers["x-tenant-secret"], "tenant-42-secret");
}

#[tokio::test]
async fn the_credential_never_leaves_the_targets_origin() {
    let home = Server::start().await;
    let other = Server::start().await;
    let call = Call::on_target(&home.base(), Some(material("api_key")));

    let direct = call
        .run("http.get", json!({"url": other.url("/echo")}))
        .await;
    assert!(direct.succeeded(), "{direct:?}");
    assert!(
        direct
            .out
            .stderr
            .contains("sent only to its http.base_url origin")
    );

    let redirected = call
        .run(
            "http.get",
            json!({"url": "/away", "query": {"to": other.url("/echo")},
                   "headers": {"Cookie": "session=step-cookie", "X-Plain": "1"}}),
        )
        .await;
    assert!(redirected.succeeded(), "{redirected:?}");
    assert_eq!(redirected.json()["headers"]["x-plain"], "1");
    let seen = other.shared.seen();
    assert_eq!(seen.len(), 2);
    for r in &seen {
        assert!(!r.headers.contains_key("x-api-key"), "{r:?}");
        assert!(!r.headers.contains_key("x-tenant-secret"), "{r:?}");
    }
    assert!(
        !seen[1].headers.contains_key("cookie"),
        "cookie crossed origins"
    );

    // Back home, a redirect keeps the credential.
    let same = call.run("http.get", json!({"url": "/redirect/1"})).await;
    assert!(same.succeeded(), "{same:?}");
    assert_eq!(
        home.shared.seen().pop().unwrap().headers["x-api-key"],
        "tok-9f8e7d"
    );
}

#[tokio::test]
async fn a_missing_or_foreign_credential_fails_without_secrets() {
    let s = Server::start().await;
    let mut call = Call::on_target(&s.base(), None);
    call.target
        .as_mut()
        .unwrap()
        .http
        .as_mut()
        .unwrap()
        .credential_id = Some(uuid::Uuid::new_v4());
    let ran = call.run("http.get", json!({"url": "/echo"})).await;
    assert!(ran.error().contains("was not sent"), "{}", ran.error());

    let ssh = CredentialMaterial::SshPassword {
        username: "root".to_owned(),
        password: "ssh-pass-123".to_owned(),
    };
    let call = Call::on_target(&s.base(), Some(ssh));
    let ran = call.run("http.get", json!({"url": "/echo"})).await;
    assert!(ran.error().contains("not http_auth"), "{}", ran.error());
    assert!(!ran.error().contains("ssh-pass-123"));
    assert!(s.shared.seen().is_empty());
}

#[tokio::test]
async fn a_step_cannot_turn_certificate_checks_off_for_the_targets_credential() {
    let s = Server::start_tls().await;
    // The target verifies (its default): the step's verify_tls: false with
    // the target's credential is refused before anything is sent.
    let call = Call::on_target(&s.base(), Some(material("bearer")));
    let ran = call
        .run("http.get", json!({"url": "/echo", "verify_tls": false}))
        .await;
    assert!(!ran.succeeded(), "{ran:?}");
    assert!(
        ran.error().contains("only the target's http.verify_tls"),
        "{ran:?}"
    );
    assert!(s.shared.seen().is_empty(), "nothing was sent");
    // Without the credential the step may decide for itself.
    let ran = call
        .run(
            "http.get",
            json!({"url": "/echo", "verify_tls": false, "auth": "none"}),
        )
        .await;
    assert!(ran.succeeded(), "{ran:?}");
}
