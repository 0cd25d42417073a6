//! Cancel requests, for every shard this worker runs, through one
//! subscription (`<p>.ctl.run.*.cancel`, core NATS).
//!
//! A cancel sent while no worker held the run is kept as the run's
//! `cancel_requested` event. A worker that subscribed before the run was
//! accepted has seen every cancel of it, so only a dispatch older than the
//! subscription (or a redelivery) needs to look the event up in the stream.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use opsc_runtime::bus::Bus;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How long a cancel is remembered for a dispatch that may still arrive.
const REMEMBER: Duration = Duration::from_secs(600);

/// Cancels remembered at most: past it the oldest are forgotten (their
/// runs still find the request in the event stream), so a flood of cancels
/// for runs that do not exist cannot grow the worker's memory.
const REMEMBER_AT_MOST: usize = 10_000;

#[derive(Debug, Default)]
struct State {
    /// Shards running now, per run, by watch number.
    running: HashMap<Uuid, Vec<(u64, CancellationToken)>>,
    /// The number of the next watch.
    next: u64,
    /// Runs cancelled lately, and when.
    cancelled: HashMap<Uuid, Instant>,
    /// The same, oldest first, to forget them in order.
    cancel_order: VecDeque<(Uuid, Instant)>,
    /// Cancels are seen for runs accepted after this (none: not subscribed).
    since: Option<(DateTime<Utc>, u64)>,
}

impl State {
    /// Remembers that `run` was cancelled `now`, forgetting what is too old
    /// or too many.
    fn remember(&mut self, run: Uuid, now: Instant) {
        self.cancelled.insert(run, now);
        self.cancel_order.push_back((run, now));
        while let Some(&(old, at)) = self.cancel_order.front() {
            let expired = now.duration_since(at) >= REMEMBER;
            if !expired && self.cancel_order.len() <= REMEMBER_AT_MOST {
                break;
            }
            self.cancel_order.pop_front();
            // A later cancel of the same run stays remembered.
            if self.cancelled.get(&old) == Some(&at) {
                self.cancelled.remove(&old);
            }
        }
    }
}

/// The worker's cancel requests; cheap to clone.
#[derive(Debug, Clone)]
pub struct Cancels {
    bus: Bus,
    state: Arc<Mutex<State>>,
}

impl Cancels {
    /// Subscribes and serves until `shutdown`.
    pub fn start(bus: Bus, shutdown: CancellationToken) -> Self {
        let me = Self {
            bus,
            state: Arc::default(),
        };
        let runner = me.clone();
        tokio::spawn(async move { runner.listen(shutdown).await });
        me
    }

    async fn listen(&self, shutdown: CancellationToken) {
        let subject = self.bus.subjects.run_cancels_all();
        let mut sub = loop {
            match self.bus.client.subscribe(subject.clone()).await {
                Ok(s) => break s,
                Err(e) => {
                    tracing::warn!(error = %e, "Cancel subscription failed; retrying.");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        () = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        };
        let connects = self.connects();
        if let Ok(mut s) = self.state.lock() {
            s.since = Some((Utc::now(), connects));
        }
        loop {
            let m = tokio::select! {
                () = shutdown.cancelled() => return,
                m = sub.next() => m,
            };
            let Some(m) = m else { return };
            // <p>.ctl.run.<run_id>.cancel
            let run = m
                .subject
                .split('.')
                .rev()
                .nth(1)
                .and_then(|id| id.parse::<Uuid>().ok());
            if let Some(run) = run {
                self.cancel(run);
            }
        }
    }

    fn connects(&self) -> u64 {
        self.bus
            .client
            .statistics()
            .connects
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    fn cancel(&self, run: Uuid) {
        let Ok(mut s) = self.state.lock() else { return };
        let now = Instant::now();
        s.remember(run, now);
        if let Some(tokens) = s.running.get(&run) {
            tracing::info!(run_id = %run, "Cancel requested.");
            for (_, t) in tokens {
                t.cancel();
            }
        }
    }

    /// A token cancelled when `run` is; `accepted_at` and `redelivered`
    /// decide whether the stream must be asked about an earlier cancel.
    pub async fn watch(&self, run: Uuid, accepted_at: DateTime<Utc>, redelivered: bool) -> Watch {
        let token = CancellationToken::new();
        let connects = self.connects();
        let (number, seen_all) = {
            let Ok(mut s) = self.state.lock() else {
                return Watch::new(self, run, u64::MAX, token);
            };
            let number = s.next;
            s.next += 1;
            s.running
                .entry(run)
                .or_default()
                .push((number, token.clone()));
            if s.cancelled.contains_key(&run) {
                token.cancel();
            }
            // A reconnect may have lost cancels: count from now on.
            if let Some((_, at_connects)) = s.since
                && at_connects != connects
            {
                s.since = Some((Utc::now(), connects));
            }
            (
                number,
                !redelivered && s.since.is_some_and(|(since, _)| accepted_at > since),
            )
        };
        if !seen_all && !token.is_cancelled() && self.requested_before(run).await {
            token.cancel();
        }
        Watch::new(self, run, number, token)
    }

    /// Whether the run's event stream holds a cancel request.
    async fn requested_before(&self, run: Uuid) -> bool {
        let Ok(events) = self
            .bus
            .js
            .get_stream_no_info(&self.bus.streams.events)
            .await
        else {
            return false;
        };
        let subject = self
            .bus
            .subjects
            .run_event(&run.to_string(), "cancel_requested");
        events
            .get_last_raw_message_by_subject(&subject)
            .await
            .is_ok()
    }

    fn release(&self, run: Uuid, number: u64) {
        if let Ok(mut s) = self.state.lock()
            && let Some(tokens) = s.running.get_mut(&run)
        {
            tokens.retain(|(n, _)| *n != number);
            if tokens.is_empty() {
                s.running.remove(&run);
            }
        }
    }
}

/// A shard's cancel token, deregistered when dropped.
#[derive(Debug)]
pub struct Watch {
    cancels: Cancels,
    run: Uuid,
    number: u64,
    /// Cancelled when the run is.
    pub token: CancellationToken,
}

impl Watch {
    fn new(cancels: &Cancels, run: Uuid, number: u64, token: CancellationToken) -> Self {
        Self {
            cancels: cancels.clone(),
            run,
            number,
            token,
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        self.cancels.release(self.run, self.number);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_at_most_the_newest_cancels() {
        let mut s = State::default();
        let now = Instant::now();
        let first = Uuid::new_v4();
        s.remember(first, now);
        for _ in 0..REMEMBER_AT_MOST {
            s.remember(Uuid::new_v4(), now);
        }
        assert_eq!(s.cancelled.len(), REMEMBER_AT_MOST);
        assert_eq!(s.cancel_order.len(), REMEMBER_AT_MOST);
        assert!(!s.cancelled.contains_key(&first));
    }

    #[test]
    fn forgets_old_cancels_but_not_a_repeated_one() {
        let mut s = State::default();
        let start = Instant::now();
        let (old, again) = (Uuid::new_v4(), Uuid::new_v4());
        s.remember(old, start);
        s.remember(again, start);
        s.remember(again, start + Duration::from_secs(300));
        s.remember(Uuid::new_v4(), start + REMEMBER);
        assert!(!s.cancelled.contains_key(&old));
        assert!(s.cancelled.contains_key(&again));
        assert_eq!(s.cancelled.len(), 2);
    }
}
