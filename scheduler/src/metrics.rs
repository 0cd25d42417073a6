//! The scheduler's metrics on `/metrics`: fires, skips, misfires, fire lag,
//! lease changes. Labels stay low-cardinality (never a schedule id).

use opsc_runtime::Metrics;
use opsc_runtime::metrics::{HistogramFamily, Labels, latency_buckets};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;

/// The families, registered once.
#[derive(Debug, Clone)]
pub(crate) struct SchedulerMetrics {
    /// Run intents published, by `kind` (`on_time`, `catch_up`).
    pub fires: Family<Labels, Counter>,
    /// Occurrences skipped by a DST policy, by `reason`.
    pub skips: Family<Labels, Counter>,
    /// Missed fires dropped, by `reason`.
    pub misfires: Family<Labels, Counter>,
    /// Seconds from a fire instant to its intent's acknowledgement (on-time fires).
    pub lag: HistogramFamily,
    /// Lease changes of this replica, by `change` (`acquired`, `lost`).
    pub lease_changes: Family<Labels, Counter>,
    /// 1 while this replica leads.
    pub leader: Gauge,
    /// Schedules in the book.
    pub schedules_loaded: Gauge,
    /// Schedule documents that could not be used.
    pub refused_documents: Counter,
    /// Reactions to finished runs, by `kind` (`dependency`, `dependency_late`, `retry_planned`).
    pub reactions: Family<Labels, Counter>,
}

impl SchedulerMetrics {
    /// Registers the families.
    pub(crate) fn register(m: &Metrics) -> Self {
        let s = Self {
            fires: Family::default(),
            skips: Family::default(),
            misfires: Family::default(),
            lag: Family::new_with_constructor(latency_buckets),
            lease_changes: Family::default(),
            leader: Gauge::default(),
            schedules_loaded: Gauge::default(),
            refused_documents: Counter::default(),
            reactions: Family::default(),
        };
        m.register(
            "scheduler_fires",
            "Run intents published by schedules, by kind",
            s.fires.clone(),
        );
        m.register(
            "scheduler_skips",
            "Occurrences skipped by a daylight-saving policy, by reason",
            s.skips.clone(),
        );
        m.register(
            "scheduler_misfires",
            "Missed fires dropped by the misfire policy, by reason",
            s.misfires.clone(),
        );
        m.register(
            "scheduler_fire_lag_seconds",
            "Seconds from a fire instant to its intent's acknowledgement",
            s.lag.clone(),
        );
        m.register(
            "scheduler_lease_changes",
            "Leader lease acquired or lost by this replica",
            s.lease_changes.clone(),
        );
        m.register(
            "scheduler_leader",
            "1 while this replica leads",
            s.leader.clone(),
        );
        m.register(
            "scheduler_schedules_loaded",
            "Schedules in this replica's book",
            s.schedules_loaded.clone(),
        );
        m.register(
            "scheduler_refused_documents",
            "Schedule documents that could not be used",
            s.refused_documents.clone(),
        );
        m.register(
            "scheduler_reactions",
            "Reactions to finished runs: dependent runs started, late ones dropped, retries planned",
            s.reactions.clone(),
        );
        // Series that exist from the start, at 0, so that dashboards show
        // them and `increase()` sees their first event. Misfire reasons are
        // the missed-fire `SkipReason`s, as serialized.
        let label = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        for kind in ["on_time", "catch_up"] {
            s.fires.get_or_create(&label("kind", kind)).inc_by(0);
        }
        for reason in ["misfire_skip", "too_old", "superseded", "over_max_count"] {
            s.misfires.get_or_create(&label("reason", reason)).inc_by(0);
        }
        drop(s.lag.get_or_create(&Vec::new()));
        s
    }
}
