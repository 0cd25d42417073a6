//! Channels, rules and jobs for the notification flow tests.

use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::ApiServer;
use crate::harness::runs::create_job;

/// Creates a channel; its id.
pub async fn channel(api: &ApiServer, admin: &str, body: Value) -> String {
    let (code, created) = api
        .call(
            Method::POST,
            "/api/v1/notifications/channels",
            Some(admin),
            Some(body),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

/// A signed webhook channel with `attempts` attempts; its id.
pub async fn webhook_channel(
    api: &ApiServer,
    admin: &str,
    name: &str,
    url: &str,
    secret: &str,
    attempts: u32,
) -> String {
    channel(
        api,
        admin,
        json!({
            "name": name, "settings": {"kind": "webhook", "url": url},
            "secrets": {"signing_secret": secret}, "max_attempts": attempts
        }),
    )
    .await
}

/// A rule for `triggers` sending to `send_to`.
pub async fn rule_to(api: &ApiServer, admin: &str, name: &str, triggers: &[&str], send_to: Value) {
    let (code, created) = api
        .call(
            Method::POST,
            "/api/v1/notifications/rules",
            Some(admin),
            Some(json!({
                "name": name, "triggers": triggers, "send_to": send_to
            })),
        )
        .await;
    assert_eq!(code, 201, "{created}");
    // The notifier reads rules from the api's mirror.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
}

/// A job whose one step prints a few lines and exits 3; its id.
pub async fn failing_job(api: &ApiServer, admin: &str, name: &str) -> String {
    create_job(
        api,
        admin,
        json!({
            "name": name,
            "tags": ["backups"],
            "steps": [{"id": "dump", "type": "local.exec",
                       "with": {"command": "echo starting; echo 'pg_dump: disk full' >&2; exit 3"}}]
        }),
    )
    .await
}
