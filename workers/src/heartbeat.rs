//! Heartbeats: a worker says it is alive, what it runs and how loaded it is.

use std::time::Duration;

use opsc_proto::CloudEvent;
use opsc_proto::events::WorkerHeartbeat;
use opsc_runtime::Metrics;
use opsc_runtime::bus::Bus;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use tokio_util::sync::CancellationToken;

use crate::StartedAt;

/// Who this worker is.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub worker_id: String,
    pub pool: String,
    pub concurrency: u32,
    pub started_at: StartedAt,
}

/// What the heartbeat loop needs.
pub(crate) struct Heartbeat<'a> {
    pub bus: &'a Bus,
    pub identity: &'a Identity,
    /// Dispatches running now.
    pub in_flight: &'a std::sync::atomic::AtomicU32,
    pub every: Duration,
    pub metrics: &'a Metrics,
    pub shutdown: &'a CancellationToken,
}

/// Sends a heartbeat every period until shutdown, then a last one saying "draining".
pub(crate) async fn run(hb: Heartbeat<'_>) {
    let sent = Counter::<u64>::default();
    hb.metrics.register(
        "worker_heartbeats_sent",
        "Heartbeats published",
        sent.clone(),
    );
    let load = Load::register(hb.metrics, &hb.identity.pool, hb.identity.concurrency);
    let mut tick = tokio::time::interval(hb.every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = hb.shutdown.cancelled() => break,
            _ = tick.tick() => {
                load.in_flight.set(i64::from(hb.in_flight.load(std::sync::atomic::Ordering::Relaxed)));
                if send(&hb, false).await {
                    sent.inc();
                }
            }
        }
    }
    // Shutdown never hangs on NATS: the last heartbeat gets two seconds.
    let last = async {
        send(&hb, true).await;
        let _ = hb.bus.client.flush().await;
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), last).await;
}

/// This worker's load on `/metrics`, by `pool` (updated with each heartbeat):
/// dashboards sum them per pool.
struct Load {
    in_flight: Gauge,
}

impl Load {
    fn register(metrics: &Metrics, pool: &str, concurrency: u32) -> Self {
        let labels = vec![("pool".to_owned(), pool.to_owned())];
        let in_flight: Family<Vec<(String, String)>, Gauge> = Family::default();
        metrics.register(
            "worker_in_flight",
            "Dispatches this worker runs now, by pool",
            in_flight.clone(),
        );
        let slots: Family<Vec<(String, String)>, Gauge> = Family::default();
        metrics.register(
            "worker_slots",
            "Dispatches this worker may run at once (its concurrency), by pool",
            slots.clone(),
        );
        slots.get_or_create(&labels).set(i64::from(concurrency));
        Self {
            in_flight: in_flight.get_or_create(&labels).clone(),
        }
    }
}

async fn send(hb: &Heartbeat<'_>, draining: bool) -> bool {
    let id = hb.identity;
    let beat = WorkerHeartbeat {
        worker_id: id.worker_id.clone(),
        pool: id.pool.clone(),
        version: opsc_runtime::VERSION.to_owned(),
        concurrency: id.concurrency,
        in_flight: hb.in_flight.load(std::sync::atomic::Ordering::Relaxed),
        started_at: id.started_at,
        draining,
        heartbeat_secs: hb.every.as_secs(),
    };
    let event = CloudEvent::new(hb.bus.source.clone(), beat).with_subject(id.worker_id.clone());
    match hb
        .bus
        .publish_core(hb.bus.subjects.worker_heartbeat(&id.pool), &event)
        .await
    {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!(error = %e, "Heartbeat not sent.");
            false
        }
    }
}
