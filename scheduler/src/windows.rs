//! Maintenance windows, as the api mirrors them into `<p>_windows`: which
//! window (if any) keeps a schedule from firing at an instant.
//!
//! A window covers a schedule when it is global, names the schedule's job,
//! or names a target or group its runs address (`ScheduleDoc::addresses`,
//! computed by the api). It is checked when a fire would be published, so
//! catch-ups are subject to it as much as on-time fires.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use opsc_proto::schedule::{ScheduleDoc, WindowDoc, WindowFirePolicy, keys};
use uuid::Uuid;

use crate::book::{Change, id_after};
use crate::follow::Seen;

/// An open window covering a schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Covering {
    /// The window.
    pub window_id: Uuid,
    /// When it closes (the end of adjacent openings).
    pub closes: DateTime<Utc>,
    /// What a fire inside it does.
    pub policy: WindowFirePolicy,
}

/// The windows every replica holds.
#[derive(Debug, Clone)]
pub(crate) struct Windows {
    inner: Arc<RwLock<HashMap<Uuid, WindowDoc>>>,
    changes: tokio::sync::mpsc::UnboundedSender<Change>,
}

impl Windows {
    /// Windows that announce their changes on `changes`.
    pub(crate) fn new(changes: tokio::sync::mpsc::UnboundedSender<Change>) -> Self {
        Self {
            inner: Arc::default(),
            changes,
        }
    }

    /// Takes one thing the watch saw.
    pub(crate) fn apply(&self, seen: Seen) {
        let announce = !matches!(seen, Seen::Loaded);
        self.take(seen);
        if announce {
            // A deferred fire waits for a window's end: when a window
            // changes, the engine decides those again. Gone at shutdown.
            let _ = self.changes.send(Change::Windows);
        }
    }

    fn take(&self, seen: Seen) {
        let Ok(mut map) = self.inner.write() else {
            return;
        };
        match seen {
            Seen::Put { key, value, .. } => {
                let Some(id) = id_after(&key, keys::WINDOW_PREFIX) else {
                    return;
                };
                match serde_json::from_slice::<WindowDoc>(&value) {
                    Ok(w) if w.id == id => {
                        map.insert(id, w);
                    }
                    Ok(_) | Err(_) => {
                        tracing::error!(
                            key,
                            "A maintenance window document cannot be used; it is ignored."
                        );
                    }
                }
            }
            Seen::Gone { key } => {
                if let Some(id) = id_after(&key, keys::WINDOW_PREFIX) {
                    map.remove(&id);
                }
            }
            Seen::Reopened => map.clear(),
            Seen::Loaded => {}
        }
    }

    /// The open window covering `doc` at `at` that closes last, if any;
    /// a `defer` window wins over a `skip` one only when no `skip` covers.
    pub(crate) fn covering(&self, doc: &ScheduleDoc, at: DateTime<Utc>) -> Option<Covering> {
        let map = self.inner.read().ok()?;
        let mut found: Option<Covering> = None;
        for w in map.values().filter(|w| w.enabled && covers(w, doc)) {
            let closes = match opsc_calendar::open_at(&w.timing, at) {
                Ok(Some(closes)) => closes,
                Ok(None) => continue,
                Err(e) => {
                    tracing::warn!(window_id = %w.id, error = %e, "A maintenance window cannot be evaluated; it is ignored.");
                    continue;
                }
            };
            let c = Covering {
                window_id: w.id,
                closes,
                policy: w.fire_policy,
            };
            found = Some(match found {
                None => c,
                // Skipping is the stronger promise: nothing runs.
                Some(f)
                    if f.policy == WindowFirePolicy::Skip && c.policy != WindowFirePolicy::Skip =>
                {
                    f
                }
                Some(f)
                    if c.policy == WindowFirePolicy::Skip && f.policy != WindowFirePolicy::Skip =>
                {
                    c
                }
                Some(f) if c.closes > f.closes => c,
                Some(f) => f,
            });
        }
        found
    }
}

fn covers(w: &WindowDoc, doc: &ScheduleDoc) -> bool {
    let s = &w.scope;
    s.global
        || s.jobs.contains(&doc.job_id)
        || s.targets.iter().any(|t| doc.addresses.targets.contains(t))
        || s.groups.iter().any(|g| doc.addresses.groups.contains(g))
}
