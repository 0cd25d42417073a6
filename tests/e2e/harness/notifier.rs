//! `opsconductor server notifier` on a prefix of its own, with no api: the
//! test puts the configuration into `<p>_notify_config` itself (as the
//! api's mirror would) and publishes the notices.

use std::time::Duration;

use opsc_proto::Prefix;
use opsc_runtime::bus::BusRuntime;
use opsc_runtime::keys::{MasterKey, SealKey};

use super::{Opsc, TEST_MASTER_KEY, env_of, free_port, shared_nats_url, test_bus, unique_prefix};

/// A provisioned prefix for a notifier.
pub struct NotifyBus {
    /// The prefix.
    pub prefix: Prefix,
    /// The bus (publish notices, open buckets).
    pub rt: BusRuntime,
}

impl NotifyBus {
    /// A fresh, provisioned prefix.
    pub async fn start() -> Self {
        let prefix = unique_prefix();
        let rt = test_bus(&shared_nats_url(), &prefix).await;
        Self { prefix, rt }
    }

    /// The notifier's seal key for the test master key.
    pub fn seal_key() -> SealKey {
        SealKey::for_notifier(&MasterKey::from_base64(TEST_MASTER_KEY).expect("master key"))
    }

    /// Puts a JSON document into `<p>_notify_config`.
    pub async fn put_config(&self, key: &str, doc: &impl serde::Serialize) {
        let kv = self
            .rt
            .bus
            .bucket("notify_config")
            .await
            .expect("config bucket");
        kv.put(key, serde_json::to_vec(doc).expect("json").into())
            .await
            .expect("put config");
    }

    /// Starts a notifier on this prefix and waits until it is ready.
    pub async fn start_notifier(&self, extra: &[(&str, &str)]) -> Opsc {
        let health = format!("127.0.0.1:{}", free_port());
        let mut env = env_of(&[
            ("OPSC_NATS_PREFIX", self.prefix.to_string()),
            ("OPSC_NATS_URL", shared_nats_url()),
            ("OPSC_MASTER_KEY", TEST_MASTER_KEY.to_owned()),
            ("OPSC_NOTIFIER_HEALTH_ADDR", health.clone()),
            ("OPSC_NOTIFIER_TICK_SECS", "1".to_owned()),
            ("OPSC_NOTIFIER_RETRY_BASE_MS", "100".to_owned()),
            ("OPSC_LOG_LEVEL", "info,opsc_notifier=debug".to_owned()),
        ]);
        for (k, v) in extra {
            env.insert((*k).to_owned(), (*v).to_owned());
        }
        let p = Opsc::spawn(&["server", "notifier"], &env);
        let ready = format!("http://{health}/readyz");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while super::status_of(&ready).await != 200 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "notifier not ready: {}",
                p.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        p
    }
}
