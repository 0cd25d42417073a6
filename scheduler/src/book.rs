//! The book: every schedule and the global switch, as the api mirrors them
//! into `<p>_schedules`, each schedule with its calendar ready. Kept on
//! every replica; the engine hears of each change by schedule id.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use opsc_calendar::Calendar;
use opsc_proto::schedule::{ScheduleDoc, SchedulerControl, keys};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::follow::Seen;
use crate::metrics::SchedulerMetrics;

/// One schedule, with its calendar.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The document.
    pub doc: ScheduleDoc,
    /// Its expression read in its zone, bounded by its start and end.
    pub calendar: Calendar,
}

/// What the book holds.
#[derive(Debug, Default)]
pub(crate) struct Book {
    /// Schedules by id.
    pub schedules: HashMap<Uuid, Arc<Entry>>,
    /// The global switch.
    pub control: SchedulerControl,
    /// Whether the bucket's current content has been read once.
    pub loaded: bool,
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// This schedule was put or removed.
    Schedule(Uuid),
    /// The global switch changed.
    Control,
    /// Everything may have changed (the bucket was read anew).
    All,
}

/// The shared book and the channel its changes go to.
pub(crate) type SharedBook = Arc<RwLock<Book>>;

/// Applies what the watch saw to the book.
#[derive(Debug)]
pub(crate) struct Keeper {
    /// The book.
    pub book: SharedBook,
    /// Where changes are announced.
    pub changes: mpsc::UnboundedSender<Change>,
    /// Gauges and counters.
    pub metrics: SchedulerMetrics,
    /// Where unusable documents are dead-lettered.
    pub bus: opsc_runtime::bus::Bus,
}

impl Keeper {
    /// Takes one thing the watch saw.
    pub(crate) fn apply(&self, seen: Seen) {
        let change = match seen {
            Seen::Put { key, value, .. } if key == keys::CONTROL => {
                match serde_json::from_slice::<SchedulerControl>(&value) {
                    Ok(c) => {
                        self.with(|b| b.control = c);
                        Some(Change::Control)
                    }
                    Err(e) => {
                        self.refuse(&key, &value, &e.to_string());
                        None
                    }
                }
            }
            Seen::Gone { key, .. } if key == keys::CONTROL => {
                self.with(|b| b.control = SchedulerControl::default());
                Some(Change::Control)
            }
            Seen::Put { key, value, .. } => self.put(&key, &value),
            Seen::Gone { key, .. } => schedule_id(&key).map(|id| {
                self.with(|b| {
                    b.schedules.remove(&id);
                });
                Change::Schedule(id)
            }),
            Seen::Loaded => {
                self.with(|b| b.loaded = true);
                Some(Change::All)
            }
            Seen::Reopened => {
                self.with(|b| {
                    b.schedules.clear();
                    b.loaded = false;
                });
                Some(Change::All)
            }
        };
        let count = self.book.read().map(|b| b.schedules.len()).unwrap_or(0);
        self.metrics
            .schedules_loaded
            .set(i64::try_from(count).unwrap_or(i64::MAX));
        if let Some(c) = change {
            // The engine may be gone at shutdown.
            let _ = self.changes.send(c);
        }
    }

    fn put(&self, key: &str, value: &[u8]) -> Option<Change> {
        let id = schedule_id(key)?;
        let doc = match serde_json::from_slice::<ScheduleDoc>(value) {
            Ok(d) if d.id == id => d,
            Ok(d) => {
                self.refuse(key, value, &format!("the document names schedule {}", d.id));
                return None;
            }
            Err(e) => {
                self.refuse(key, value, &e.to_string());
                return None;
            }
        };
        let calendar = match Calendar::new(&doc.cron, &doc.time_zone, doc.dst) {
            Ok(c) => c.with_bounds(doc.start_at, doc.end_at),
            Err(e) => {
                self.refuse(key, value, &e.to_string());
                return None;
            }
        };
        self.with(|b| {
            b.schedules.insert(id, Arc::new(Entry { doc, calendar }));
        });
        Some(Change::Schedule(id))
    }

    /// A document the scheduler cannot use: it keeps the previous one (if
    /// any), says why, and stores it on `<p>.dlq.scheduler` with the reason.
    fn refuse(&self, key: &str, value: &[u8], reason: &str) {
        self.metrics.refused_documents.inc();
        tracing::error!(
            key,
            reason,
            "A schedule document in the bucket cannot be used; it is ignored."
        );
        let bus = self.bus.clone();
        let subject = format!(
            "$KV.{}.{key}",
            bus.bucket_name(opsc_proto::topology::bucket::SCHEDULES)
        );
        let payload = value.to_vec();
        let reason = format!("schedule document refused: {reason}");
        tokio::spawn(async move {
            if let Err(e) = bus
                .dead_letter_core("scheduler", &subject, &payload, &reason)
                .await
            {
                tracing::warn!(error = %e, "Cannot store the refused schedule document as a dead letter.");
            }
        });
    }

    fn with(&self, f: impl FnOnce(&mut Book)) {
        if let Ok(mut b) = self.book.write() {
            f(&mut b);
        }
    }
}

/// The schedule id in a `schedule.<id>` key.
fn schedule_id(key: &str) -> Option<Uuid> {
    key.strip_prefix(keys::SCHEDULE_PREFIX)
        .and_then(|s| Uuid::parse_str(s).ok())
}
