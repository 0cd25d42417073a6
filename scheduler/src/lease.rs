//! The leader lease: one replica fires at a time.
//!
//! The lease is the `scheduler.leader` entry of `<p>_leases`, taken and
//! renewed only by compare-and-set on its revision. Its `term` is the
//! revision at which the holder took it and stays the same across
//! renewals; the holder's run intents carry it, and the api refuses an
//! intent whose term is older than the current lease's. The holder counts
//! its lease as valid from the moment it *sent* a renewal until a margin
//! before it would expire, on its monotonic clock, so it stops firing
//! before any other replica may take over; a standby takes over only once
//! the holder's `expires_at` plus a margin for clock skew has passed on its
//! own clock. On SIGTERM the holder hands the lease back at once.

use std::time::Duration;

use async_nats::jetstream::kv;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use opsc_proto::schedule::{Lease, keys};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::metrics::SchedulerMetrics;

/// This replica leads, with this term, until `valid_until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Leadership {
    /// The lease term its intents carry.
    pub term: u64,
    /// After this instant it must not fire unless it renewed.
    pub valid_until: Instant,
}

impl Leadership {
    /// Whether it may still fire now.
    pub(crate) fn valid(&self) -> bool {
        Instant::now() < self.valid_until
    }
}

/// What the lease loop needs.
#[derive(Debug)]
pub(crate) struct LeaseLoop {
    /// `<p>_leases`.
    pub store: kv::Store,
    /// This replica.
    pub replica_id: String,
    /// How long a lease lasts without renewal.
    pub lease: Duration,
    /// Where leadership is announced.
    pub leadership: watch::Sender<Option<Leadership>>,
    /// Lease metrics.
    pub metrics: SchedulerMetrics,
    /// Stops the loop (the lease is handed back).
    pub shutdown: CancellationToken,
}

/// Takes, renews and hands back the lease until shutdown.
pub(crate) async fn run(l: LeaseLoop) {
    let mut tick = tokio::time::interval(l.lease / 3);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = l.shutdown.cancelled() => break,
            _ = tick.tick() => step(&l).await,
        }
    }
    hand_back(&l).await;
}

/// Largest disagreement between this replica's clock and the NATS
/// server's that still lets it lead.
const MAX_SKEW: chrono::Duration = chrono::Duration::seconds(2);

/// How far this replica's clock is from the NATS server's: a write to
/// `scheduler.clock.<replica>`, whose server timestamp is compared with the
/// local time halfway through the round trip.
async fn skew(l: &LeaseLoop) -> Result<chrono::Duration, String> {
    let key = format!("scheduler.clock.{}", l.replica_id);
    let before = Utc::now();
    l.store
        .put(&key, Bytes::new())
        .await
        .map_err(|e| e.to_string())?;
    let entry = l.store.entry(&key).await.map_err(|e| e.to_string())?;
    let after = Utc::now();
    let created = entry.ok_or("the clock entry vanished")?.created;
    let server = DateTime::<Utc>::from_timestamp_nanos(
        i64::try_from(created.unix_timestamp_nanos()).unwrap_or(i64::MAX),
    );
    Ok(server - (before + (after - before) / 2))
}

/// One round: renew what we hold, or take what expired.
async fn step(l: &LeaseLoop) {
    // A replica whose clock disagrees with the server's must not fire: a
    // clock jumped forward would move every cursor into the future.
    match skew(l).await {
        Ok(d) if d.abs() > MAX_SKEW => {
            tracing::error!(replica = %l.replica_id, skew_ms = d.num_milliseconds(), "This replica's clock disagrees with the NATS server's; it does not lead until they agree.");
            if l.leadership.borrow().is_some() {
                announce(l, None, Instant::now());
            }
            return;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(error = %e, "Cannot compare this replica's clock with the NATS server's.");
            expire_if_due(l);
            return;
        }
    }
    let sent = Instant::now();
    let now = Utc::now();
    let current = match l.store.entry(keys::LEADER).await {
        Ok(e) => e,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot read the scheduler lease.");
            expire_if_due(l);
            return;
        }
    };
    let held = current
        .as_ref()
        .filter(|e| e.operation == kv::Operation::Put)
        .and_then(|e| {
            serde_json::from_slice::<Lease>(&e.value)
                .ok()
                .map(|lease| (lease, e.revision))
        });
    let mine = l.leadership.borrow().is_some_and(|x| x.valid());
    match held {
        Some((lease, revision)) if lease.holder == l.replica_id && mine => {
            let renewed = Lease {
                expires_at: now + chrono_of(l.lease),
                ..lease
            };
            match l
                .store
                .update(keys::LEADER, encode(&renewed), revision)
                .await
            {
                Ok(_) => announce(l, Some(renewed.term), sent),
                Err(e) => {
                    tracing::warn!(error = %e, "The scheduler lease could not be renewed.");
                    expire_if_due(l);
                }
            }
        }
        Some((lease, _)) if now < lease.expires_at + chrono_of(l.lease / 2) => {
            // Someone else holds it (or we did, and let it lapse).
            if mine || l.leadership.borrow().is_some() {
                announce(l, None, sent);
            }
        }
        _ => take(l, current.map(|e| e.revision), sent, now).await,
    }
}

/// Takes a lease that is free or expired.
async fn take(l: &LeaseLoop, revision: Option<u64>, sent: Instant, now: DateTime<Utc>) {
    let mut lease = Lease {
        holder: l.replica_id.clone(),
        term: 0,
        expires_at: now + chrono_of(l.lease),
        acquired_at: now,
    };
    let taken = match revision {
        Some(r) => l
            .store
            .update(keys::LEADER, encode(&lease), r)
            .await
            .map_err(|e| e.to_string()),
        None => l
            .store
            .create(keys::LEADER, encode(&lease))
            .await
            .map_err(|e| e.to_string()),
    };
    let Ok(at) = taken else {
        // Another replica was faster.
        return;
    };
    // The term is the revision at which we took it; written into the lease
    // so the api and the other replicas read it.
    lease.term = at;
    match l.store.update(keys::LEADER, encode(&lease), at).await {
        Ok(_) => {
            tracing::info!(replica = %l.replica_id, term = at, "This replica leads the scheduler now.");
            announce(l, Some(at), sent);
        }
        Err(e) => {
            tracing::warn!(error = %e, "The scheduler lease was taken but its term not written.");
        }
    }
}

/// Says who leads, counting changes.
fn announce(l: &LeaseLoop, term: Option<u64>, sent: Instant) {
    let before = *l.leadership.borrow();
    let now = term.map(|term| Leadership {
        term,
        // Stop a sixth of the lease before it could expire, so clock rates
        // and the standby's margin never overlap two leaders.
        valid_until: sent + l.lease - l.lease / 6,
    });
    match (before.map(|b| b.term), term) {
        (None, Some(_)) => {
            l.metrics
                .lease_changes
                .get_or_create(&labels("acquired"))
                .inc();
            l.metrics.leader.set(1);
        }
        (Some(_), None) => {
            tracing::warn!(replica = %l.replica_id, "This replica no longer leads the scheduler.");
            l.metrics.lease_changes.get_or_create(&labels("lost")).inc();
            l.metrics.leader.set(0);
        }
        _ => {}
    }
    l.leadership.send_replace(now);
}

/// A renewal that failed: leadership ends once its validity ran out.
fn expire_if_due(l: &LeaseLoop) {
    let expired = l.leadership.borrow().is_some_and(|x| !x.valid());
    if expired {
        announce(l, None, Instant::now());
    }
}

/// On shutdown: a leader marks its lease expired so a standby takes over
/// at once.
async fn hand_back(l: &LeaseLoop) {
    let Some(held) = *l.leadership.borrow() else {
        return;
    };
    l.leadership.send_replace(None);
    l.metrics.leader.set(0);
    let give_back = async {
        if let Ok(Some(e)) = l.store.entry(keys::LEADER).await
            && let Ok(lease) = serde_json::from_slice::<Lease>(&e.value)
            && lease.holder == l.replica_id
            && lease.term == held.term
        {
            let released = Lease {
                expires_at: DateTime::<Utc>::UNIX_EPOCH,
                ..lease
            };
            let _ = l
                .store
                .update(keys::LEADER, encode(&released), e.revision)
                .await;
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), give_back).await;
    let clock = format!("scheduler.clock.{}", l.replica_id);
    let _ = tokio::time::timeout(Duration::from_secs(1), l.store.delete(&clock)).await;
    tracing::info!(replica = %l.replica_id, "The scheduler lease was handed back.");
}

fn encode(lease: &Lease) -> Bytes {
    serde_json::to_vec(lease).unwrap_or_default().into()
}

fn chrono_of(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn labels(change: &str) -> opsc_runtime::metrics::Labels {
    vec![("change".to_owned(), change.to_owned())]
}
