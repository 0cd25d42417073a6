//! Shared test harness: isolated prefixes, databases, processes and servers.

mod api;
pub mod cli;
mod db;
pub mod letters;
mod nats;
mod notifier;
mod process;
pub mod runs;
mod scheduler;
mod sshd;

use std::future::Future;
use std::time::Duration;

pub use api::ApiServer;
pub use db::TestDb;
pub use nats::{PrivateNats, shared_nats_url};
pub use notifier::NotifyBus;
pub use process::{Opsc, env_of};
pub use sshd::{KEY_PASSPHRASE, Sshd};

use opsc_proto::Prefix;

/// A prefix no other test uses.
pub fn unique_prefix() -> Prefix {
    let id = uuid::Uuid::new_v4().simple().to_string();
    Prefix::parse(&format!("t{}", &id[..12])).expect("valid prefix")
}

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Polls `probe` every 50 ms until it returns true, or fails after `within`.
pub async fn wait_until<F, Fut>(what: &str, within: Duration, mut probe: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if probe().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {within:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// GET `url`; the status code, or 0 when nothing answered.
pub async fn status_of(url: &str) -> u16 {
    http()
        .get(url)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// A client with short timeouts.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client")
}

/// Stream size for tests: JetStream reserves it per stream on the shared server.
pub const TEST_STREAM_BYTES: i64 = 8 * 1024 * 1024;

/// A 32-byte master key, base64, for processes under test.
pub const TEST_MASTER_KEY: &str = "dGVzdC1tYXN0ZXIta2V5LTMyLWJ5dGVzLWxvbmchISE=";
/// A bootstrap password that passes the policy.
pub const TEST_ADMIN_PASSWORD: &str = "e2e-bootstrap-pass-9f3k";

/// A bus for in-process tests, provisioned, with a shutdown token for its keeper.
pub async fn test_bus(url: &str, prefix: &Prefix) -> opsc_runtime::bus::BusRuntime {
    let nats = opsc_runtime::config::NatsConfig {
        url: url.to_owned(),
        prefix: prefix.clone(),
        stream_max_bytes: TEST_STREAM_BYTES,
        ..Default::default()
    };
    let metrics = opsc_runtime::Metrics::new("test");
    let mut rt = opsc_runtime::bus::start(opsc_runtime::bus::StartOptions {
        nats: &nats,
        roles: "test",
        extra_consumers: Vec::new(),
        metrics: &metrics,
        shutdown: tokio_util::sync::CancellationToken::new(),
    })
    .await
    .expect("bus starts");
    reap_stale_test_streams(&rt.bus.js).await;
    assert!(
        rt.wait_provisioned(&tokio_util::sync::CancellationToken::new())
            .await,
        "topology provisioned"
    );
    rt
}

/// Deletes every stream of `prefix` (its own and its KV buckets').
pub async fn cleanup_prefix(js: &async_nats::jetstream::Context, prefix: &Prefix) {
    use futures::TryStreamExt as _;
    let own = format!("{}_", prefix.upper());
    let kv = format!("KV_{prefix}_");
    let names: Vec<String> = js.stream_names().try_collect().await.unwrap_or_default();
    for name in names
        .into_iter()
        .filter(|n| n.starts_with(&own) || n.starts_with(&kv))
    {
        let _ = js.delete_stream(&name).await;
    }
}

/// Deletes streams that earlier, interrupted test runs left on the shared
/// NATS (test prefixes are `t` + 12 hex digits; smoke runs `smoke…`), so
/// leftovers never exhaust its storage. A prefix is stale when none of its
/// streams was created or written to in the last 20 minutes: a long-lived
/// installation (e.g. `OPSC_CONSOLE_HOLD`, whose worker heartbeats) stays.
pub async fn reap_stale_test_streams(js: &async_nats::jetstream::Context) {
    use futures::StreamExt as _;
    use std::collections::HashMap;
    let prefix_of = |name: &str| -> Option<String> {
        let lower = name.to_ascii_lowercase();
        let p = lower.strip_prefix("kv_").unwrap_or(&lower);
        let hex = p
            .strip_prefix('t')
            .and_then(|r| r.get(..12))
            .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
        if hex && p.get(13..14) == Some("_") {
            return p.get(..13).map(str::to_owned);
        }
        p.starts_with("smoke")
            .then(|| p.split('_').next().unwrap_or(p).to_owned())
    };
    let mut streams = js.streams();
    let mut by_prefix: HashMap<String, (time::OffsetDateTime, Vec<String>)> = HashMap::new();
    while let Some(Ok(info)) = streams.next().await {
        let Some(prefix) = prefix_of(&info.config.name) else {
            continue;
        };
        let active = info.created.max(info.state.last_timestamp);
        let entry = by_prefix.entry(prefix).or_insert((active, Vec::new()));
        entry.0 = entry.0.max(active);
        entry.1.push(info.config.name.clone());
    }
    let now = time::OffsetDateTime::now_utc();
    for (last, names) in by_prefix.into_values() {
        if now - last > time::Duration::minutes(20) {
            for name in names {
                let _ = js.delete_stream(&name).await;
            }
        }
    }
}
