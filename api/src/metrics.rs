//! The api's pipeline metrics on `/metrics` (prefix `opsc_`). Labels stay
//! low-cardinality: trigger kinds, statuses and step types, never an id.
//! Consumer lag, pending counts and dead letters are the runtime's
//! (`opsc_consumer_*`, `opsc_dead_letters_total`).

use opsc_runtime::Metrics;
use opsc_runtime::metrics::{HistogramFamily, Labels, latency_buckets};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;

/// The families; cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiMetrics {
    /// Runs admitted, by `trigger`.
    pub runs_admitted: Family<Labels, Counter>,
    /// Intents refused (dead-lettered or answered 4xx), by `origin` (`http`, `bus`).
    pub intents_refused: Family<Labels, Counter>,
    /// Runs that reached a terminal status, by `trigger` and `status`.
    pub runs_finished: Family<Labels, Counter>,
    /// Step attempts by `step_type` and `status`: seconds they took.
    pub step_duration: HistogramFamily,
    /// Seconds from a run's acceptance to its end, by `status`.
    pub run_duration: HistogramFamily,
    /// Seconds from an event's time to its projection into PostgreSQL.
    pub recorder_lag: Histogram,
}

fn step_buckets() -> Histogram {
    Histogram::new([
        0.001, 0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0,
    ])
}

impl ApiMetrics {
    /// Creates and registers the families.
    pub fn register(metrics: &Metrics) -> Self {
        let m = Self {
            runs_admitted: Family::default(),
            intents_refused: Family::default(),
            runs_finished: Family::default(),
            step_duration: Family::new_with_constructor(step_buckets),
            run_duration: Family::new_with_constructor(step_buckets),
            recorder_lag: latency_buckets(),
        };
        metrics.register(
            "runs_admitted",
            "Runs admitted, by trigger",
            m.runs_admitted.clone(),
        );
        metrics.register(
            "run_intents_refused",
            "Run intents refused, by origin (http, bus)",
            m.intents_refused.clone(),
        );
        metrics.register(
            "runs_finished",
            "Runs that reached a terminal status, by trigger and status",
            m.runs_finished.clone(),
        );
        metrics.register(
            "step_duration_seconds",
            "Step attempts by step type and status: seconds they took",
            m.step_duration.clone(),
        );
        metrics.register(
            "run_duration_seconds",
            "Seconds from a run's acceptance to its end, by status",
            m.run_duration.clone(),
        );
        metrics.register(
            "recorder_lag_seconds",
            "Seconds from a run event's time to its projection into PostgreSQL",
            m.recorder_lag.clone(),
        );
        // Series that exist from the start, at 0, so that dashboards show
        // them and `increase()` sees their first event.
        for origin in ["http", "bus"] {
            m.intents_refused
                .get_or_create(&labels(&[("origin", origin)]))
                .inc_by(0);
        }
        m
    }
}

/// `[(name, value)…]` as labels.
pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
