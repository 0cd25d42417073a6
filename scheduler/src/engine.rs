//! The engine: while this replica leads, it wakes at each schedule's next
//! occurrence, decides what to do ([`crate::plan`]), has it carried out
//! ([`crate::fire`]) and moves the cursor. A timer queue holds one wake-up
//! per schedule, so 10,000 schedules cost 10,000 entries, not 10,000 tasks.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::kv;
use chrono::{DateTime, Utc};
use futures::StreamExt as _;
use opsc_proto::schedule::Cursor;
use opsc_runtime::bus::Bus;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::book::{Change, Entry, SharedBook};
use crate::cursors::Cursors;
use crate::fire::{Done, Work, execute};
use crate::lease::Leadership;
use crate::metrics::SchedulerMetrics;
use crate::plan::{Action, Scan, scan};
use crate::retries::Retries;
use crate::status::Summary;
use crate::windows::Windows;
use opsc_proto::schedule::WindowFirePolicy;

/// Longest sleep between looks at the clock: a clock that jumps is noticed
/// within this.
const MAX_SLEEP: Duration = Duration::from_millis(250);

/// A schedule whose round failed is looked at again after this.
const RETRY: chrono::Duration = chrono::Duration::seconds(1);

/// Everything the engine needs.
#[derive(Debug)]
pub(crate) struct Engine {
    /// The bus.
    pub bus: Bus,
    /// `<p>_scheduler_state`.
    pub state: kv::Store,
    /// The schedules.
    pub book: SharedBook,
    /// The cursors.
    pub cursors: Cursors,
    /// Changes of the book.
    pub changes: mpsc::UnboundedReceiver<Change>,
    /// Whether this replica leads.
    pub leadership: watch::Receiver<Option<Leadership>>,
    /// Lateness up to which a fire is on time.
    pub grace: chrono::Duration,
    /// Metrics.
    pub metrics: SchedulerMetrics,
    /// What the status document says.
    pub summary: Summary,
    /// Maintenance windows.
    pub windows: Windows,
    /// Retries waiting for their time.
    pub retries: Retries,
    /// Stops it.
    pub shutdown: CancellationToken,
}

/// The leader's timers and staggered catch-ups.
#[derive(Debug, Default)]
struct Timers {
    queue: BTreeSet<(DateTime<Utc>, Uuid)>,
    wake: HashMap<Uuid, DateTime<Utc>>,
    pending: HashMap<Uuid, VecDeque<Action>>,
    /// Per schedule: the window whose deferred fire ran, and when it closed.
    deferred: HashMap<Uuid, (Uuid, DateTime<Utc>)>,
}

impl Timers {
    fn set(&mut self, id: Uuid, at: Option<DateTime<Utc>>) {
        if let Some(old) = self.wake.remove(&id) {
            self.queue.remove(&(old, id));
        }
        if let Some(at) = at {
            self.wake.insert(id, at);
            self.queue.insert((at, id));
        }
    }

    fn due(&mut self, now: DateTime<Utc>) -> Vec<Uuid> {
        let mut ids = Vec::new();
        while let Some(&(at, id)) = self.queue.first() {
            if at > now {
                break;
            }
            self.queue.pop_first();
            self.wake.remove(&id);
            ids.push(id);
        }
        ids
    }
}

impl Engine {
    /// Leads whenever this replica holds the lease, until shutdown.
    pub(crate) async fn run(mut self) {
        loop {
            let term = tokio::select! {
                () = self.shutdown.cancelled() => return,
                l = self.leadership.wait_for(|l| l.is_some_and(|x| x.valid())) => match l {
                    Ok(l) => l.map(|x| x.term),
                    Err(_) => return,
                },
            };
            let Some(term) = term else { continue };
            // Lead only with the whole book and every cursor in hand: a
            // schedule missing from either would be fired from scratch.
            while !(self.cursors.loaded() && self.book.read().is_ok_and(|b| b.loaded)) {
                tokio::select! {
                    () = self.shutdown.cancelled() => return,
                    () = tokio::time::sleep(Duration::from_millis(20)) => {}
                }
            }
            tracing::info!(term, "Leading: firing schedules.");
            self.lead(term).await;
            self.summary.set_leading(None);
        }
    }

    async fn lead(&mut self, term: u64) {
        self.summary.set_leading(Some(term));
        let mut timers = Timers::default();
        // Changes queued while following are covered by the full rebuild.
        while self.changes.try_recv().is_ok() {}
        self.rebuild(&mut timers);
        loop {
            let still = (*self.leadership.borrow()).is_some_and(|l| l.valid() && l.term == term);
            if !still {
                return;
            }
            let sleep = timers.queue.first().map_or(MAX_SLEEP, |(at, _)| {
                (*at - Utc::now())
                    .to_std()
                    .unwrap_or(Duration::ZERO)
                    .min(MAX_SLEEP)
            });
            tokio::select! {
                () = self.shutdown.cancelled() => return,
                r = self.leadership.changed() => if r.is_err() { return },
                c = self.changes.recv() => match c {
                    None => return,
                    Some(c) => {
                        self.changed(&mut timers, c);
                        while let Ok(c) = self.changes.try_recv() {
                            self.changed(&mut timers, c);
                        }
                    }
                },
                () = tokio::time::sleep(sleep) => self.round(&mut timers, term).await,
            }
        }
    }

    fn changed(&self, timers: &mut Timers, change: Change) {
        match change {
            Change::Schedule(id) => {
                // A new revision decides afresh from the cursor: what the old
                // revision had staggered is not fired under the new one.
                timers.pending.remove(&id);
                timers.deferred.remove(&id);
                self.replan(timers, id);
            }
            Change::Control | Change::All => self.rebuild(timers),
            Change::Windows => {
                // Fires deferred to a window's end are decided again: the
                // window may have closed early, moved or gone.
                let deferred: Vec<Uuid> = timers
                    .pending
                    .iter()
                    .filter(|(_, q)| {
                        q.iter().any(|a| {
                            matches!(
                                a,
                                Action::Fire {
                                    deferred_by: Some(_),
                                    ..
                                }
                            )
                        })
                    })
                    .map(|(id, _)| *id)
                    .collect();
                for id in deferred {
                    timers.pending.remove(&id);
                    self.replan(timers, id);
                }
            }
        }
    }

    fn rebuild(&self, timers: &mut Timers) {
        let ids: Vec<Uuid> = self
            .book
            .read()
            .map(|b| b.schedules.keys().copied().collect())
            .unwrap_or_default();
        timers.queue.clear();
        timers.wake.clear();
        timers.pending.retain(|id, _| ids.contains(id));
        for id in ids {
            self.replan(timers, id);
        }
        self.summarize(timers);
    }

    /// When this schedule needs the engine next.
    fn replan(&self, timers: &mut Timers, id: Uuid) {
        let at = self.entry(id).and_then(|entry| {
            if let Some(front) = timers.pending.get(&id).and_then(VecDeque::front) {
                return Some(match front {
                    Action::Fire { release, .. } => *release,
                    _ => Utc::now(),
                });
            }
            let after = self.after(&entry);
            entry.calendar.occurrences_after(after).next().map(|o| o.at)
        });
        timers.set(id, at);
    }

    /// The schedule, if it may fire now.
    fn entry(&self, id: Uuid) -> Option<Arc<Entry>> {
        let book = self.book.read().ok()?;
        if book.control.paused {
            return None;
        }
        book.schedules.get(&id).filter(|e| e.doc.active()).cloned()
    }

    /// Occurrences at or before this are handled (or not counted).
    fn after(&self, entry: &Entry) -> DateTime<Utc> {
        let from = entry.doc.effective_from();
        self.cursors
            .get(entry.doc.id)
            .map_or(from, |k| k.cursor.handled_until.max(from))
    }

    /// One round: everything due now.
    async fn round(&self, timers: &mut Timers, term: u64) {
        self.due_retries(term).await;
        let now = Utc::now();
        let due = timers.due(now);
        if due.is_empty() {
            return;
        }
        let mut work = Vec::new();
        for id in &due {
            let Some(entry) = self.entry(*id) else {
                timers.pending.remove(id);
                continue;
            };
            let mut queue = match timers.pending.remove(id) {
                Some(q) if !q.is_empty() => q,
                _ => VecDeque::from(scan(Scan {
                    calendar: &entry.calendar,
                    after: self.after(&entry),
                    now,
                    grace: self.grace,
                    policy: entry.doc.misfire,
                })),
            };
            let mut ready = Vec::new();
            while let Some(a) = queue.front() {
                if matches!(a, Action::Fire { release, .. } if *release > now) {
                    break;
                }
                ready.extend(queue.pop_front());
            }
            let ready = self.gate(timers, &entry, ready, &mut queue, now);
            self.count(&ready);
            if !queue.is_empty() {
                timers.pending.insert(*id, queue);
            }
            if !ready.is_empty() {
                work.push(Work {
                    entry,
                    actions: ready,
                });
            }
        }
        let valid = (*self.leadership.borrow()).is_some_and(|l| l.valid() && l.term == term);
        if !work.is_empty() && valid {
            let done = execute(&self.bus, term, work).await;
            self.settle(timers, term, done).await;
        }
        for id in due {
            if !timers.wake.contains_key(&id) {
                self.replan(timers, id);
            }
        }
        self.summarize(timers);
    }

    /// Maintenance windows open now: a fire inside one is skipped, or
    /// deferred to its end (it and what follows go back to the queue);
    /// after a deferred fire ran, the other occurrences inside that window
    /// are skipped, so a window defers one run, not a burst.
    fn gate(
        &self,
        timers: &mut Timers,
        entry: &Entry,
        ready: Vec<Action>,
        queue: &mut VecDeque<Action>,
        now: DateTime<Utc>,
    ) -> Vec<Action> {
        let id = entry.doc.id;
        let mut out = Vec::new();
        let mut rest = ready.into_iter();
        while let Some(action) = rest.next() {
            let Action::Fire {
                occurrence,
                release,
                catch_up,
                deferred_by,
            } = action
            else {
                out.push(action);
                continue;
            };
            if deferred_by.is_none()
                && let Some((window, closes)) = timers.deferred.get(&id).copied()
                && occurrence.at < closes
            {
                out.push(Action::WindowSkip { occurrence, window });
                continue;
            }
            match self.windows.covering(&entry.doc, now) {
                None => {
                    if let Some(window) = deferred_by {
                        timers.deferred.insert(id, (window, release));
                    }
                    out.push(Action::Fire {
                        occurrence,
                        release,
                        catch_up,
                        deferred_by,
                    });
                }
                Some(c) if c.policy == WindowFirePolicy::Skip => out.push(Action::WindowSkip {
                    occurrence,
                    window: c.window_id,
                }),
                Some(c) => {
                    let mut back: Vec<Action> = vec![Action::Fire {
                        occurrence,
                        release: c.closes,
                        catch_up,
                        deferred_by: Some(c.window_id),
                    }];
                    back.extend(rest.by_ref());
                    for a in back.into_iter().rev() {
                        queue.push_front(a);
                    }
                    break;
                }
            }
        }
        out
    }

    /// Counts skips and misfires as they are handed over.
    fn count(&self, actions: &[Action]) {
        for a in actions {
            match a {
                Action::Skip(_) => {
                    self.metrics
                        .skips
                        .get_or_create(&label("reason", "dst_gap"))
                        .inc();
                }
                Action::WindowSkip { .. } => {
                    self.metrics
                        .skips
                        .get_or_create(&label("reason", "window"))
                        .inc();
                }
                Action::Drop(d) => {
                    let reason = serde_json::to_value(d.reason)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_owned))
                        .unwrap_or_default();
                    self.metrics
                        .misfires
                        .get_or_create(&label("reason", &reason))
                        .inc_by(d.count);
                }
                Action::Fire { .. } => {}
            }
        }
    }

    /// Publishes the retries that fell due, then deletes their entries.
    async fn due_retries(&self, term: u64) {
        let now = Utc::now();
        let due: Vec<_> = self
            .retries
            .all()
            .into_iter()
            .filter(|w| w.retry.due_at <= now)
            .collect();
        if due.is_empty() {
            return;
        }
        let valid = (*self.leadership.borrow()).is_some_and(|l| l.valid() && l.term == term);
        if !valid {
            return;
        }
        for w in due {
            let intent = crate::reactions::retry_intent(&w.retry, &self.bus.source);
            if let Err(e) = self.bus.publish(&intent).await {
                tracing::warn!(run_id = %w.retry.run_id, error = %e, "A retry was not published; it is tried again.");
                continue;
            }
            self.metrics
                .fires
                .get_or_create(&label("kind", "retry"))
                .inc();
            let key = opsc_proto::schedule::keys::retry(w.retry.run_id);
            match self
                .state
                .delete_expect_revision(&key, Some(w.revision))
                .await
            {
                Ok(()) => self.retries.forget(w.retry.run_id),
                Err(e) => {
                    tracing::debug!(key, error = %e, "A published retry's entry was not deleted; its intent is idempotent.");
                }
            }
        }
    }

    /// Moves the cursors past what was carried out; counts it.
    async fn settle(&self, timers: &mut Timers, term: u64, done: Vec<Done>) {
        let writes = futures::stream::iter(done.into_iter().map(|d| async move {
            let Some(until) = d.handled_until else {
                return (d, Ok(()));
            };
            let cursor = Cursor {
                handled_until: until,
                revision: d.entry.doc.revision,
                term,
            };
            let written = self
                .cursors
                .write(&self.state, d.entry.doc.id, cursor)
                .await;
            (d, written)
        }))
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await;
        for (d, written) in writes {
            let id = d.entry.doc.id;
            for lag in &d.lags {
                self.metrics
                    .fires
                    .get_or_create(&label("kind", "on_time"))
                    .inc();
                self.metrics.lag.get_or_create(&Vec::new()).observe(*lag);
                self.summary.record_lag(id, *lag);
            }
            for _ in 0..d.catch_ups {
                self.metrics
                    .fires
                    .get_or_create(&label("kind", "catch_up"))
                    .inc();
            }
            if let Err(e) = &written {
                tracing::warn!(schedule_id = %id, error = %e, "The cursor did not move; the schedule is looked at again.");
            }
            if !d.complete || !matches!(written, Ok(())) {
                timers.pending.remove(&id);
                timers.set(id, Some(Utc::now() + RETRY));
            }
        }
    }

    fn summarize(&self, timers: &Timers) {
        let (loaded, active, paused) = self
            .book
            .read()
            .map(|b| {
                (
                    b.schedules.len(),
                    b.schedules.values().filter(|e| e.doc.active()).count(),
                    b.control.paused,
                )
            })
            .unwrap_or_default();
        self.summary
            .set_book(loaded, active, paused, timers.queue.first().copied());
    }
}

fn label(k: &str, v: &str) -> opsc_runtime::metrics::Labels {
    vec![(k.to_owned(), v.to_owned())]
}
