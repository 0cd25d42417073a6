//! Prometheus metrics: one registry per process, families registered by roles.

use std::sync::{Arc, Mutex};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry};

/// The process's metric registry. Cheap to clone; labels stay low-cardinality.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Mutex<Registry>>,
    /// 1 while the NATS connection is up.
    pub nats_connected: Gauge,
    /// Readiness per dependency check: 1 ready, 0 not.
    pub ready: Family<Vec<(String, String)>, Gauge>,
    /// The bus's consumer and dead-letter families.
    pub bus: BusMetrics,
    process: ProcessMetrics,
}

/// This process's own CPU time and memory, read from `/proc/self` when the
/// metrics are rendered (Linux; zero elsewhere).
#[derive(Clone, Debug, Default)]
struct ProcessMetrics {
    cpu_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
    resident_bytes: Gauge,
    resident_max_bytes: Gauge,
}

impl ProcessMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self::default();
        registry.register(
            "process_cpu_seconds",
            "User and system CPU time this process spent, in seconds",
            m.cpu_seconds.clone(),
        );
        registry.register(
            "process_resident_memory_bytes",
            "Resident memory of this process",
            m.resident_bytes.clone(),
        );
        registry.register(
            "process_resident_memory_max_bytes",
            "Largest resident memory this process had since it started",
            m.resident_max_bytes.clone(),
        );
        m
    }

    fn refresh(&self) {
        if let Ok(stat) = std::fs::read_to_string("/proc/self/stat") {
            // utime and stime, fields 14 and 15, in 1/100 s; after the ')'
            // that ends the command name they are the 12th and 13th.
            let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
            let f: Vec<u64> = rest
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
            self.cpu_seconds.set(ticks as f64 / 100.0);
        }
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            let kb = |key: &str| -> i64 {
                status
                    .lines()
                    .find(|l| l.starts_with(key))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0)
            };
            self.resident_bytes.set(kb("VmRSS:") * 1024);
            self.resident_max_bytes.set(kb("VmHWM:") * 1024);
        }
    }
}

/// Labels of a metric family: a few low-cardinality name/value pairs.
pub type Labels = Vec<(String, String)>;

/// A histogram family with fixed buckets.
pub type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

/// Metrics of every durable consumer and of dead letters.
#[derive(Clone, Debug)]
pub struct BusMetrics {
    /// Messages a consumer settled, by `durable` and `outcome` (`ack`,
    /// `retry`, `dead_letter`, `skipped`).
    pub consumer_messages: Family<Labels, Counter>,
    /// Messages waiting for a consumer, by `durable`, as the server reported
    /// with the last delivery.
    pub consumer_pending: Family<Labels, Gauge>,
    /// Seconds from a message's publication to its delivery, by `durable`.
    pub consumer_lag: HistogramFamily,
    /// Dead letters stored, by `origin` (the consumer that gave up).
    pub dead_letters: Family<Labels, Counter>,
}

/// Buckets for latencies from a millisecond to a minute.
pub fn latency_buckets() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
    ])
}

impl BusMetrics {
    fn register(registry: &mut Registry) -> Self {
        let m = Self {
            consumer_messages: Family::default(),
            consumer_pending: Family::default(),
            consumer_lag: Family::new_with_constructor(latency_buckets),
            dead_letters: Family::default(),
        };
        registry.register(
            "consumer_messages",
            "Messages settled by a durable consumer, by outcome",
            m.consumer_messages.clone(),
        );
        registry.register(
            "consumer_pending",
            "Messages waiting for a durable consumer (reported with its last delivery)",
            m.consumer_pending.clone(),
        );
        registry.register(
            "consumer_lag_seconds",
            "Seconds from a message's publication to its delivery to a durable consumer",
            m.consumer_lag.clone(),
        );
        registry.register(
            "dead_letters",
            "Dead letters stored, by the consumer that gave up",
            m.dead_letters.clone(),
        );
        m
    }
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
        let bus = BusMetrics::register(&mut registry);
        let process = ProcessMetrics::register(&mut registry);
        Self {
            registry: Arc::new(Mutex::new(registry)),
            nats_connected,
            ready,
            bus,
            process,
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
        self.process.refresh();
        let mut out = String::new();
        if let Ok(r) = self.registry.lock() {
            // Writing into a String cannot fail.
            let _ = encode(&mut out, &r);
        }
        out
    }
}
