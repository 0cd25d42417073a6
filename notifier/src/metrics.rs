//! The notifier's metrics on `/metrics`: sends and failures by channel
//! kind, send latency. Labels stay low-cardinality (never a channel id).

use opsc_runtime::Metrics;
use opsc_runtime::metrics::{HistogramFamily, Labels, latency_buckets};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;

/// The families, registered once.
#[derive(Debug, Clone)]
pub struct NotifierMetrics {
    /// Deliveries the channels took, by `kind`.
    pub sent: Family<Labels, Counter>,
    /// Failed attempts, by `kind`.
    pub failed: Family<Labels, Counter>,
    /// Deliveries given up, by `kind`.
    pub dead_lettered: Family<Labels, Counter>,
    /// Seconds per send attempt, by `kind`.
    pub latency: HistogramFamily,
    /// Configuration documents that could not be used.
    pub refused_documents: Counter,
}

impl NotifierMetrics {
    /// Registers the families.
    pub fn register(m: &Metrics) -> Self {
        let s = Self {
            sent: Family::default(),
            failed: Family::default(),
            dead_lettered: Family::default(),
            latency: Family::new_with_constructor(latency_buckets),
            refused_documents: Counter::default(),
        };
        m.register(
            "notifier_sent",
            "Notifications the channels took, by channel kind",
            s.sent.clone(),
        );
        m.register(
            "notifier_failed",
            "Failed notification attempts, by channel kind",
            s.failed.clone(),
        );
        m.register(
            "notifier_dead_lettered",
            "Notifications given up after their last attempt, by channel kind",
            s.dead_lettered.clone(),
        );
        m.register(
            "notifier_send_seconds",
            "Seconds per notification attempt, by channel kind",
            s.latency.clone(),
        );
        m.register(
            "notifier_refused_documents",
            "Notification config documents that could not be used",
            s.refused_documents.clone(),
        );
        // Every channel kind's series exist from the start, at 0, so that
        // dashboards show them and `increase()` sees their first event.
        for kind in opsc_proto::notify::ChannelKind::ALL {
            let labels = Self::kind(kind.as_str());
            s.sent.get_or_create(&labels).inc_by(0);
            s.failed.get_or_create(&labels).inc_by(0);
            s.dead_lettered.get_or_create(&labels).inc_by(0);
            drop(s.latency.get_or_create(&labels));
        }
        s
    }

    /// The labels of a channel kind.
    pub fn kind(kind: &str) -> Labels {
        vec![("kind".to_owned(), kind.to_owned())]
    }
}
