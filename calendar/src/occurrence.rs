//! One point of a calendar: when, at which wall time, and how the
//! daylight-saving policy treated it.

use chrono::{DateTime, FixedOffset, NaiveDateTime, SecondsFormat, Utc};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::zone;

/// How a wall time named by the expression became this occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OccurrenceKind {
    /// The wall time happens once that day; it fires then.
    Regular,
    /// The wall time falls in a spring-forward gap; it fires at the first
    /// instant after the gap.
    ShiftedFromGap,
    /// The wall time falls in a spring-forward gap and the policy is `skip`:
    /// it does not fire. `at` is the first instant after the gap, where the
    /// skip is recorded.
    SkippedGap,
    /// The wall time happens twice; this is its first (daylight-time) instant.
    OverlapFirst,
    /// The wall time happens twice; this is its second (standard-time) instant.
    OverlapSecond,
}

impl OccurrenceKind {
    /// Whether an occurrence of this kind starts a run.
    #[must_use]
    pub fn fires(self) -> bool {
        self != Self::SkippedGap
    }
}

/// One occurrence of a calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    /// The instant it fires (or, for [`OccurrenceKind::SkippedGap`], the
    /// instant the skip is recorded at).
    pub at: DateTime<Utc>,
    /// The wall time the expression named; for a gap, a time that did not exist.
    pub local: NaiveDateTime,
    /// The zone's offset from UTC at `at`, in seconds.
    pub offset_secs: i32,
    /// How the daylight-saving policy treated the wall time.
    pub kind: OccurrenceKind,
}

impl Occurrence {
    /// An occurrence at a resolved zoned instant.
    pub(crate) fn new(at: &DateTime<Tz>, local: NaiveDateTime, kind: OccurrenceKind) -> Self {
        Self {
            at: at.with_timezone(&Utc),
            local,
            offset_secs: zone::offset_secs(at),
            kind,
        }
    }

    /// Whether it starts a run (every kind but [`OccurrenceKind::SkippedGap`]).
    #[must_use]
    pub fn fires(&self) -> bool {
        self.kind.fires()
    }

    /// `at` shown on the zone's clock with its offset, e.g.
    /// `2026-03-08T03:00:00-04:00`.
    #[must_use]
    pub fn local_rfc3339(&self) -> String {
        match FixedOffset::east_opt(self.offset_secs) {
            Some(offset) => self
                .at
                .with_timezone(&offset)
                .to_rfc3339_opts(SecondsFormat::AutoSi, false),
            None => self.at.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        }
    }
}
