//! Prometheus metrics: one registry per process, families registered by roles.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Metric, Registry};

/// The process's metric registry. Cheap to clone; labels stay low-cardinality.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    /// 1 while the NATS connection is up.
    pub nats_connected: Gauge,
    /// Readiness per dependency check: 1 ready, 0 not.
    pub ready: Family<Vec<(String, String)>, Gauge>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Metrics {
    /// A registry with the process-wide families, prefixed `opsc_`.
    pub fn new(roles: &str) -> Self {
        let mut registry = Registry::with_prefix("opsc");
        let info: Family<Vec<(String, String)>, Gauge> = Family::default();
        info.get_or_create(&vec![
            ("version".to_owned(), crate::VERSION.to_owned()),
            ("roles".to_owned(), roles.to_owned()),
        ])
        .set(1);
        registry.register("build_info", "Build and roles of this process", info);
        let nats_connected = Gauge::default();
        registry.register(
            "nats_connected",
            "1 while the NATS connection is up",
            nats_connected.clone(),
        );
        let ready = Family::default();
        registry.register("ready", "Readiness per dependency check", ready.clone());
        Self {
            registry: Arc::new(Mutex::new(registry)),
            nats_connected,
            ready,
        }
    }

    /// Registers a role's metric family.
    pub fn register(&self, name: &str, help: &str, metric: impl Metric) {
        if let Ok(mut r) = self.registry.lock() {
            r.register(name, help, metric);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(r) = self.registry.lock() {
            // Writing into a String cannot fail.
            let _ = encode(&mut out, &r);
        }
        out
    }
}
