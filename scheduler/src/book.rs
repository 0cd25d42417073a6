//! The book: every schedule and the global switch, as the api mirrors them
//! into `<p>_schedules`, each schedule with its calendar ready. Kept on
//! every replica; the engine hears of each change by schedule id.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use opsc_calendar::Calendar;
use opsc_proto::schedule::{DependencyDoc, ScheduleDoc, SchedulerControl, keys};
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
    /// Dependencies between jobs, by id.
    pub dependencies: HashMap<Uuid, DependencyDoc>,
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
    /// A maintenance window was put or removed.
    Windows,
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
    /// Calendars by expression, zone and policy: schedules that share an
    /// expression share its parsed pattern.
    pub parsed:
        std::sync::Mutex<HashMap<(String, String, opsc_proto::schedule::DstPolicy), Calendar>>,
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
            Seen::Put { key, value, .. } if key.starts_with(keys::DEPENDENCY_PREFIX) => {
                self.put_dependency(&key, &value);
                None
            }
            Seen::Gone { key, .. } if key.starts_with(keys::DEPENDENCY_PREFIX) => {
                if let Some(id) = id_after(&key, keys::DEPENDENCY_PREFIX) {
                    self.with(|b| {
                        b.dependencies.remove(&id);
                    });
                }
                None
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
                    b.dependencies.clear();
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

    fn put_dependency(&self, key: &str, value: &[u8]) {
        let Some(id) = id_after(key, keys::DEPENDENCY_PREFIX) else {
            return;
        };
        match serde_json::from_slice::<DependencyDoc>(value) {
            Ok(d) if d.id == id => self.with(|b| {
                b.dependencies.insert(id, d);
            }),
            Ok(d) => self.refuse(
                key,
                value,
                &format!("the document names dependency {}", d.id),
            ),
            Err(e) => self.refuse(key, value, &e.to_string()),
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
        // The api validated it; a document written otherwise must not make
        // the arithmetic of every leader overflow.
        if let Err(why) = doc.misfire.check() {
            self.refuse(key, value, &format!("misfire: {why}"));
            return None;
        }
        let dates = [
            Some(doc.created_at),
            doc.timing_changed_at,
            doc.start_at,
            doc.end_at,
        ];
        if !dates
            .into_iter()
            .flatten()
            .all(opsc_calendar::in_supported_range)
        {
            self.refuse(key, value, "dates must be between the years 1970 and 9999");
            return None;
        }
        let known = (doc.cron.clone(), doc.time_zone.clone(), doc.dst);
        let cached = self.parsed.lock().ok().and_then(|m| m.get(&known).cloned());
        let parsed = match cached {
            Some(c) => Ok(c),
            None => Calendar::new(&doc.cron, &doc.time_zone, doc.dst).inspect(|c| {
                if let Ok(mut m) = self.parsed.lock() {
                    m.insert(known, c.clone());
                }
            }),
        };
        let calendar = match parsed {
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
    id_after(key, keys::SCHEDULE_PREFIX)
}

/// The id after a key prefix.
pub(crate) fn id_after(key: &str, prefix: &str) -> Option<Uuid> {
    key.strip_prefix(prefix)
        .and_then(|s| Uuid::parse_str(s).ok())
}
