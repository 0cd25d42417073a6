//! The notifier next to a test's api, and the canary search.

use std::time::Duration;

use futures::StreamExt;
use reqwest::Method;

use crate::harness::{ApiServer, Opsc, TEST_MASTER_KEY, env_of, free_port, shared_nats_url};

/// Starts `server notifier` on the api's prefix; waits until it is ready.
pub async fn start_notifier(api: &ApiServer, extra: &[(&str, &str)]) -> Opsc {
    let health = format!("127.0.0.1:{}", free_port());
    let nats = api
        .env
        .get("OPSC_NATS_URL")
        .cloned()
        .unwrap_or_else(shared_nats_url);
    let mut env = env_of(&[
        ("OPSC_NATS_PREFIX", api.prefix.to_string()),
        ("OPSC_NATS_URL", nats),
        ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
        ("OPSC_NOTIFIER_HEALTH_ADDR", health.clone()),
        ("OPSC_NOTIFIER_TICK_SECS", "1".to_owned()),
        ("OPSC_NOTIFIER_RETRY_BASE_MS", "100".to_owned()),
        ("OPSC_LOG_LEVEL", "debug".to_owned()),
    ]);
    for (k, v) in extra {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let p = Opsc::spawn(&["server", "notifier"], &env);
    let ready = format!("http://{health}/readyz");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while crate::harness::status_of(&ready).await != 200 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "notifier not ready: {}",
            p.output()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    p
}

/// Fails when any of `secrets` shows in the notification history, the
/// channel reads, the notifier's log, the api's log or any event of the
/// installation.
pub async fn assert_nowhere(api: &ApiServer, admin: &str, notifier: &Opsc, secrets: &[&str]) {
    let mut seen = String::new();
    for path in [
        "/api/v1/notifications?limit=200",
        "/api/v1/notifications/channels",
        "/api/v1/notifications/dead-letters",
        "/api/v1/audit?limit=200",
    ] {
        let (_, body) = api.call(Method::GET, path, Some(admin), None).await;
        seen.push_str(&body.to_string());
    }
    seen.push_str(&notifier.output());
    seen.push_str(&api.process.output());
    let client = async_nats::connect(
        api.env
            .get("OPSC_NATS_URL")
            .cloned()
            .unwrap_or_else(shared_nats_url),
    )
    .await
    .expect("nats");
    let js = async_nats::jetstream::new(client);
    let stream = format!("{}_EVT", api.prefix.upper());
    let consumer: async_nats::jetstream::consumer::PullConsumer = js
        .get_stream(&stream)
        .await
        .expect("events stream")
        .create_consumer(async_nats::jetstream::consumer::pull::Config::default())
        .await
        .expect("consumer");
    let mut batch = consumer
        .fetch()
        .max_messages(10_000)
        .expires(Duration::from_secs(2))
        .messages()
        .await
        .expect("fetch");
    let mut events = 0;
    while let Some(Ok(m)) = batch.next().await {
        seen.push_str(&String::from_utf8_lossy(&m.payload));
        events += 1;
    }
    assert!(events > 10, "the events were read ({events})");
    for s in secrets {
        assert!(!seen.contains(s), "a secret leaked: {s}");
    }
}
