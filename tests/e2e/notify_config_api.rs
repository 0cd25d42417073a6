//! Notification configuration through the API: channels (secrets
//! write-only, sealed for the notifier in `<p>_notify_config`), rules,
//! preferences, defaults, templates and the pause; every refusal located
//! and changing nothing; the permission matrix; rule previews against
//! notices published on the bus.

mod access;
mod preview;

use std::time::Duration;

use async_nats::jetstream::kv;
use opsc_proto::notify::{ChannelDoc, ChannelSecrets, NotifyControl, PreferencesDoc, RuleDoc};
use opsc_runtime::keys::{MasterKey, SealKey};
use reqwest::Method;
use serde_json::{Value, json};

use crate::harness::{ApiServer, TEST_MASTER_KEY, shared_nats_url, test_bus, wait_until};

const CHANNELS: &str = "/api/v1/notifications/channels";
const RULES: &str = "/api/v1/notifications/rules";

/// The `errors[].path` of a problem.
fn paths(b: &Value) -> Vec<String> {
    b["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| e["path"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// A KV document.
async fn doc<T: serde::de::DeserializeOwned>(store: &kv::Store, key: &str) -> Option<T> {
    let raw = store.get(key.to_owned()).await.unwrap()?;
    Some(serde_json::from_slice(&raw).unwrap())
}

fn notifier_key() -> SealKey {
    SealKey::for_notifier(&MasterKey::from_base64(TEST_MASTER_KEY).unwrap())
}

/// An SMTP channel body with `password`.
fn email(name: &str, password: &str) -> Value {
    json!({"name": name, "settings": {"kind": "email", "host": "smtp.example.com", "port": 587,
        "tls": "starttls", "username": "ops", "from": "OpsConductor <ops@example.com>"},
        "secrets": {"password": password}, "max_attempts": 3})
}

/// A Slack bot channel body.
fn slack(name: &str, token: &str) -> Value {
    json!({"name": name, "settings": {"kind": "slack", "mode": "bot", "default_channel": "#ops"},
        "secrets": {"token": token}})
}

async fn create(api: &ApiServer, token: &str, path: &str, body: Value) -> String {
    let (s, b) = api.call(Method::POST, path, Some(token), Some(body)).await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn channels_keep_secrets_write_only_and_sealed_for_the_notifier() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("notify_config").await.unwrap();
    let canary = "canary-7f3a-smtp-password";

    let (s, c) = api
        .call(
            Method::POST,
            CHANNELS,
            Some(&admin),
            Some(email("ops-mail", canary)),
        )
        .await;
    assert_eq!(s, 201, "{c}");
    let id = c["id"].as_str().unwrap().to_owned();
    assert_eq!(c["secrets_set"], json!(["password"]), "{c}");
    assert_eq!(
        (
            c["kind"].clone(),
            c["revision"].clone(),
            c["max_attempts"].clone()
        ),
        (json!("email"), json!(1), json!(3))
    );
    assert!(!c.to_string().contains(canary));

    // The KV document: public settings in the clear, the secrets sealed.
    let key = format!("channel.{id}");
    let d: ChannelDoc = doc(&store, &key).await.expect("mirrored on create");
    assert_eq!(
        (d.revision, d.max_attempts, d.enabled, d.allow_steps),
        (1, 3, true, false)
    );
    let sealed = d.sealed_secrets.clone().expect("sealed secrets");
    assert!(!sealed.contains(canary));
    let raw = store.get(key.clone()).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&raw).contains(canary));
    let open = notifier_key()
        .open(&sealed, &ChannelDoc::seal_context(d.id))
        .unwrap();
    let secrets: ChannelSecrets = serde_json::from_slice(&open).unwrap();
    assert_eq!(secrets.password.as_deref(), Some(canary));
    assert!(notifier_key().open(&sealed, "channel:other").is_err());

    // PUT without secrets keeps them; PATCH changes a field.
    let at = format!("{CHANNELS}/{id}");
    let mut body = email("ops-mail", canary);
    body.as_object_mut().unwrap().remove("secrets");
    body["enabled"] = json!(false);
    let (s, c) = api.call(Method::PUT, &at, Some(&admin), Some(body)).await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (
            c["secrets_set"].clone(),
            c["enabled"].clone(),
            c["revision"].clone()
        ),
        (json!(["password"]), json!(false), json!(2))
    );
    let (s, c) = api
        .call(
            Method::PATCH,
            &at,
            Some(&admin),
            Some(json!({"allow_steps": true})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(
        (
            c["allow_steps"].clone(),
            c["revision"].clone(),
            c["secrets_set"].clone()
        ),
        (json!(true), json!(3), json!(["password"]))
    );
    let d: ChannelDoc = doc(&store, &key).await.unwrap();
    assert_eq!((d.revision, d.allow_steps, d.enabled), (3, true, false));
    assert!(d.sealed_secrets.is_some());

    // `null` clears a secret.
    let (s, c) = api
        .call(
            Method::PATCH,
            &at,
            Some(&admin),
            Some(json!({"secrets": {"password": null}})),
        )
        .await;
    assert_eq!(s, 200, "{c}");
    assert_eq!(c["secrets_set"], json!([]), "{c}");
    let d: ChannelDoc = doc(&store, &key).await.unwrap();
    assert!(d.sealed_secrets.is_none());
    let (s, _) = api
        .call(
            Method::PATCH,
            &at,
            Some(&admin),
            Some(json!({"secrets": {"password": canary}})),
        )
        .await;
    assert_eq!(s, 200);

    // Refusals name the field and change nothing.
    let cases = [
        (
            json!({"name": "x", "settings": {"kind": "email", "host": "", "port": 25, "tls": "none", "from": "ops@example.com"}}),
            "/settings/host",
        ),
        (
            json!({"name": "x", "settings": {"kind": "email", "host": "h", "port": 25, "tls": "none", "from": "not an address"}}),
            "/settings/from",
        ),
        (
            json!({"name": "x", "settings": {"kind": "slack", "mode": "bot"}}),
            "/secrets/token",
        ),
        (
            json!({"name": "x", "settings": {"kind": "slack", "mode": "webhook"}}),
            "/secrets/webhook_url",
        ),
        (
            json!({"name": "x", "settings": {"kind": "teams"}, "secrets": {"webhook_url": "ftp://x"}}),
            "/secrets/webhook_url",
        ),
        (
            json!({"name": "x", "settings": {"kind": "webhook", "url": "file:///etc/passwd"}}),
            "/settings/url",
        ),
        (
            json!({"name": "x", "settings": {"kind": "webhook", "url": "https://h.example", "headers": {"bad header": "v"}}}),
            "/settings/headers/bad header",
        ),
        (
            json!({"name": "x", "settings": {"kind": "webhook", "url": "https://h.example"}, "max_attempts": 11}),
            "/max_attempts",
        ),
        (
            json!({"name": "x", "settings": {"kind": "webhook", "url": "https://h.example"}, "rate_limit": {"per_minute": 0}}),
            "/rate_limit/per_minute",
        ),
        (
            json!({"name": "x", "settings": {"kind": "webhook", "url": "https://h.example"}, "secrets": {"password": "p"}}),
            "/secrets/password",
        ),
    ];
    for (body, path) in cases {
        let (s, b) = api
            .call(Method::POST, CHANNELS, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(s, 422, "{body} → {b}");
        assert!(paths(&b).contains(&path.to_owned()), "{path} in {b}");
    }
    let (s, b) = api
        .call(
            Method::POST,
            CHANNELS,
            Some(&admin),
            Some(email("ops-mail", "x")),
        )
        .await;
    assert_eq!(s, 409, "{b}");
    let (_, all) = api.call(Method::GET, CHANNELS, Some(&admin), None).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    assert!(!all.to_string().contains(canary));

    // Audit: every change, no secret.
    let (_, audit) = api
        .call(
            Method::GET,
            "/api/v1/audit?entity_type=notification_channel",
            Some(&admin),
            None,
        )
        .await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(actions.contains(&"notification_channel.create"), "{audit}");
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == "notification_channel.update")
            .count(),
        4,
        "{audit}"
    );
    assert!(!audit.to_string().contains(canary));
    assert!(!api.db.as_ref().unwrap().dump_text().await.contains(canary));
    assert!(!api.process.output().contains(canary));

    // DELETE: refused while a rule uses it, then the row and the key go.
    let rule = create(
        &api,
        &admin,
        RULES,
        json!({"name": "r", "triggers": ["run_failed"],
        "send_to": [{"channel_id": id, "to": [{"type": "email", "address": "a@example.com"}]}]}),
    )
    .await;
    let (s, b) = api.call(Method::DELETE, &at, Some(&admin), None).await;
    assert_eq!(s, 409, "{b}");
    let (s, _) = api
        .call(
            Method::DELETE,
            &format!("{RULES}/{rule}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 204);
    assert!(
        doc::<RuleDoc>(&store, &format!("rule.{rule}"))
            .await
            .is_none()
    );
    let (s, _) = api.call(Method::DELETE, &at, Some(&admin), None).await;
    assert_eq!(s, 204);
    assert!(doc::<ChannelDoc>(&store, &key).await.is_none());
    api.stop().await;
}

#[tokio::test]
async fn rules_are_checked_against_channels_and_users_and_mirrored() {
    let api = ApiServer::start(&[]).await;
    let admin = api.admin().await;
    let rt = test_bus(&shared_nats_url(), &api.prefix).await;
    let store = rt.bus.bucket("notify_config").await.unwrap();
    let mail = create(&api, &admin, CHANNELS, email("mail", "pw")).await;
    let chat = create(&api, &admin, CHANNELS, slack("chat", "xoxb-1")).await;
    let unknown = uuid::Uuid::now_v7();

    let good = json!({"name": "failures", "triggers": ["run_failed", "recovered"],
        "send_to": [{"channel_id": mail, "to": [{"type": "email", "address": "oncall@example.com"}, {"type": "started_by"}]},
                    {"channel_id": chat, "to": [{"type": "slack_channel", "channel": "#ops"}]}]});
    let (s, r) = api
        .call(Method::POST, RULES, Some(&admin), Some(good.clone()))
        .await;
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_owned();
    let d: RuleDoc = doc(&store, &format!("rule.{id}")).await.expect("mirrored");
    assert_eq!(
        (d.revision, d.name.as_str(), d.send_to.len()),
        (1, "failures", 2)
    );

    let bad = [
        (
            json!({"name": "b", "triggers": ["run_failed"], "send_to": [{"channel_id": unknown}]}),
            "/send_to/0/channel_id",
        ),
        (
            json!({"name": "b", "triggers": ["run_failed"], "send_to": [{"channel_id": chat, "to": [{"type": "email", "address": "a@example.com"}]}]}),
            "/send_to/0/to/0",
        ),
        (
            json!({"name": "b", "triggers": ["run_failed"], "send_to": [{"channel_id": mail, "to": [{"type": "slack_user", "user": "U1"}]}]}),
            "/send_to/0/to/0",
        ),
        (
            json!({"name": "b", "triggers": ["run_failed"], "send_to": [{"channel_id": mail, "to": [{"type": "user", "user_id": unknown}]}]}),
            "/send_to/0/to/0/user_id",
        ),
        (
            json!({"name": "", "triggers": ["run_failed"], "send_to": [{"channel_id": mail}]}),
            "/name",
        ),
    ];
    for (body, path) in bad {
        let (s, b) = api
            .call(Method::POST, RULES, Some(&admin), Some(body.clone()))
            .await;
        assert_eq!(s, 422, "{body} → {b}");
        assert!(paths(&b).contains(&path.to_owned()), "{path} in {b}");
    }
    let (_, all) = api.call(Method::GET, RULES, Some(&admin), None).await;
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");

    let at = format!("{RULES}/{id}");
    let (s, r) = api
        .call(
            Method::PATCH,
            &at,
            Some(&admin),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (r["enabled"].clone(), r["revision"].clone()),
        (json!(false), json!(2))
    );
    let d: RuleDoc = doc(&store, &format!("rule.{id}")).await.unwrap();
    assert_eq!((d.revision, d.enabled), (2, false));

    // Defaults, templates and the pause.
    let (s, b) = api.call(Method::PUT, "/api/v1/notifications/defaults", Some(&admin),
        Some(json!({"channels_for_users": [mail], "quiet_hours": {"from": "22:00", "to": "07:00"}}))).await;
    assert_eq!(s, 200, "{b}");
    let (s, b) = api
        .call(
            Method::PUT,
            "/api/v1/notifications/defaults",
            Some(&admin),
            Some(json!({"quiet_hours": {"from": "25:00", "to": "07:00"}})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    let d: Value = doc(&store, "defaults.global")
        .await
        .expect("defaults mirrored");
    assert_eq!(d["quiet_hours"]["from"], json!("22:00"), "{d}");
    let (s, b) = api
        .call(
            Method::POST,
            "/api/v1/notifications/templates",
            Some(&admin),
            Some(json!({"kind": "email", "subject": "{{ title }}", "text": "{% for %}"})),
        )
        .await;
    assert_eq!(s, 422, "{b}");
    assert!(paths(&b).contains(&"/text".to_owned()), "{b}");
    let t = create(&api, &admin, "/api/v1/notifications/templates",
        json!({"kind": "slack", "trigger": "run_failed", "subject": "Failed: {{ job.name }}", "text": "{{ headline }}"})).await;
    assert!(
        doc::<Value>(&store, &format!("template.{t}"))
            .await
            .is_some()
    );
    let (s, p) = api
        .call(
            Method::POST,
            "/api/v1/notifications/templates/preview",
            Some(&admin),
            Some(json!({"kind": "slack", "trigger": "run_failed", "template_id": t})),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["subject"], json!("Failed: nightly-backup"), "{p}");
    let (s, c) = api
        .call(
            Method::POST,
            "/api/v1/notifications/control/pause",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 200, "{c}");
    let c: NotifyControl = doc(&store, "control.global")
        .await
        .expect("control mirrored");
    assert!(c.paused);
    assert_eq!(c.paused_by.as_deref(), Some("admin"));
    let (s, _) = api
        .call(
            Method::POST,
            "/api/v1/notifications/control/resume",
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(s, 200);
    let c: NotifyControl = doc(&store, "control.global").await.unwrap();
    assert!(!c.paused);

    // Every user has a preferences document.
    let (_, me) = api
        .call(
            Method::GET,
            "/api/v1/notifications/preferences/me",
            Some(&admin),
            None,
        )
        .await;
    let uid = me["user_id"].as_str().unwrap().to_owned();
    let key = format!("prefs.{uid}");
    wait_until(
        "the admin's preferences mirrored",
        Duration::from_secs(10),
        || async { doc::<PreferencesDoc>(&store, &key).await.is_some() },
    )
    .await;
    let p: PreferencesDoc = doc(&store, &key).await.unwrap();
    assert_eq!(
        (p.username.as_str(), p.time_zone.as_str(), p.active),
        ("admin", "UTC", true)
    );
    api.stop().await;
}
