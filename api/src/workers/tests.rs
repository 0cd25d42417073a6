use std::time::{Duration, Instant};

use chrono::Utc;
use opsc_proto::events::WorkerHeartbeat;

use super::Registry;

fn beat(id: &str, pool: &str, every: u64) -> WorkerHeartbeat {
    WorkerHeartbeat {
        worker_id: id.to_owned(),
        pool: pool.to_owned(),
        version: "0.1.0".to_owned(),
        concurrency: 4,
        in_flight: 1,
        started_at: Utc::now(),
        draining: false,
        heartbeat_secs: every,
    }
}

fn ids(r: &Registry, pool: Option<&str>, now: Instant) -> Vec<String> {
    r.live(pool, now).into_iter().map(|w| w.id).collect()
}

#[test]
fn workers_are_listed_by_pool_then_id_and_filtered_by_pool() {
    let r = Registry::new(Duration::from_secs(5));
    let now = Instant::now();
    for (id, pool) in [("w-b", "edge"), ("w-c", "default"), ("w-a", "edge")] {
        r.observe(beat(id, pool, 5), now, Utc::now());
    }
    assert_eq!(ids(&r, None, now), ["w-c", "w-a", "w-b"]);
    assert_eq!(ids(&r, Some("edge"), now), ["w-a", "w-b"]);
    assert!(ids(&r, Some("nowhere"), now).is_empty());
    let w = &r.live(Some("default"), now)[0];
    assert_eq!((w.concurrency, w.in_flight, w.heartbeat_secs), (4, 1, 5));
}

#[test]
fn a_worker_expires_after_three_missed_heartbeats_of_its_own_period() {
    let r = Registry::new(Duration::from_secs(60));
    let t0 = Instant::now();
    r.observe(beat("fast", "default", 1), t0, Utc::now());
    r.observe(beat("slow", "default", 10), t0, Utc::now());
    let at = |secs| t0 + Duration::from_secs(secs);
    assert_eq!(ids(&r, None, at(3)), ["fast", "slow"]);
    assert_eq!(ids(&r, None, at(4)), ["slow"]);
    assert_eq!(r.prune(at(4)), [("default".to_owned(), "fast".to_owned())]);
    assert_eq!(ids(&r, None, at(30)), ["slow"]);
    assert!(ids(&r, None, at(31)).is_empty());
}

#[test]
fn a_new_heartbeat_replaces_the_last_and_renews_the_lease() {
    let r = Registry::new(Duration::from_secs(5));
    let t0 = Instant::now();
    r.observe(beat("w", "default", 1), t0, Utc::now());
    let mut later = beat("w", "default", 1);
    later.in_flight = 3;
    later.draining = true;
    r.observe(later, t0 + Duration::from_secs(2), Utc::now());
    let live = r.live(None, t0 + Duration::from_secs(4));
    assert_eq!(live.len(), 1);
    assert_eq!((live[0].in_flight, live[0].draining), (3, true));
}

#[test]
fn heartbeats_without_a_period_use_the_configured_one() {
    let r = Registry::new(Duration::from_secs(2));
    let t0 = Instant::now();
    r.observe(beat("old", "default", 0), t0, Utc::now());
    assert_eq!(
        r.live(None, t0 + Duration::from_secs(6))[0].heartbeat_secs,
        2
    );
    assert!(r.live(None, t0 + Duration::from_secs(7)).is_empty());
}
