//! Schedule calendars: cron expressions read in an IANA time zone, with our
//! daylight-saving semantics, producing fire instants.
//!
//! This crate owns the meaning of a schedule's `cron`, `time_zone` and `dst`
//! settings: which expressions are valid, which wall times they name, and
//! which instants those become across daylight-saving changes. The api uses
//! it to validate and preview schedules, the scheduler to fire them; both get
//! the same answer from the same code.
//!
//! It is pure computation: no I/O, no clock reading, no async, no global
//! state. It must not depend on any role crate; its only in-house floor is
//! `opsc-proto`, for the policy types.
//!
//! # Expressions
//!
//! croner's parser, set to the POSIX/Vixie dialect: five fields (`minute
//! hour day-of-month month day-of-week`), or six with seconds first; the
//! nicknames `@yearly @annually @monthly @weekly @daily @midnight @hourly`;
//! `L` and `W` in the day of month, `L` and `#` in the day of week, names
//! `JAN-DEC` and `SUN-SAT`, day of week `7` for Sunday. When both the day of
//! month and the day of week are restricted a day matches if **either**
//! does, as in Vixie cron: `0 0 13 * 5` runs on every 13th and every Friday.
//!
//! # Daylight saving
//!
//! The expression is matched against wall-clock times only; each matching
//! wall time is then mapped to instants with the zone's rules and the
//! schedule's [`DstPolicy`] (croner's own zone handling is not used):
//!
//! - a wall time that happens once is one [`OccurrenceKind::Regular`] fire;
//! - a wall time in a spring-forward gap fires once at the first instant
//!   after the gap ([`OccurrenceKind::ShiftedFromGap`], policy `gap: shift`),
//!   or is recorded there without firing ([`OccurrenceKind::SkippedGap`],
//!   `gap: skip`);
//! - a wall time repeated by a fall-back change fires at its first instant
//!   (`overlap: first`), its second (`second`) or both (`both`).
//!
//! An **interval** expression, one whose hour field starts with `*` (`*`,
//! `*/N`), keeps real-time spacing whatever the policy: both instants of a
//! repeated wall time fire, and the wall times of a gap collapse onto the
//! first instant after it, which fires once.
//!
//! Occurrences come in strictly ascending `at` order, at most one per
//! instant: when gap wall times land on an instant whose own wall time the
//! expression also names, the regular fire stands for them.

mod error;
mod expr;
mod occurrence;
mod walk;
mod window;
mod zone;

use chrono::{DateTime, Months, Utc};
use chrono_tz::Tz;
use opsc_proto::schedule::DstPolicy;

pub use error::CalendarError;
pub use occurrence::{Occurrence, OccurrenceKind};
pub use walk::Occurrences;
pub use window::{LOOKAHEAD_DAYS, Opening, check_timing, open_at, openings};

/// Whether an instant lies in the years 1970 to 9999, the range schedules,
/// windows and previews accept: far enough from the limits of the date
/// types that no arithmetic on it (a zone's offset, a day's lookahead)
/// can overflow.
pub fn in_supported_range(t: chrono::DateTime<chrono::Utc>) -> bool {
    use chrono::Datelike as _;
    (1970..=9999).contains(&t.year())
}

use expr::Expr;
use walk::Rules;

/// How far ahead [`Calendar::check_fires`] looks for a fire, in months.
const NEVER_FIRES_HORIZON_MONTHS: u32 = 120;

/// A cron expression read in a time zone under a daylight-saving policy,
/// optionally bounded in time.
#[derive(Debug, Clone)]
pub struct Calendar {
    expr: Expr,
    source: String,
    tz: Tz,
    dst: DstPolicy,
    rules: Rules,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
}

impl Calendar {
    /// Parses `cron` and `time_zone` (an IANA name such as `Europe/Berlin`).
    ///
    /// # Errors
    ///
    /// [`CalendarError::Cron`] for an expression that does not parse (checked
    /// first), [`CalendarError::TimeZone`] for an unknown zone.
    pub fn new(cron: &str, time_zone: &str, dst: DstPolicy) -> Result<Self, CalendarError> {
        let expr = Expr::parse(cron)?;
        let tz = zone::parse(time_zone)?;
        let rules = Rules::new(expr.is_interval(), dst.gap, dst.overlap);
        Ok(Self {
            expr,
            source: cron.to_owned(),
            tz,
            dst,
            rules,
            start: None,
            end: None,
        })
    }

    /// Bounds the calendar: no occurrence before `start`, none after `end`
    /// (both inclusive).
    #[must_use]
    pub fn with_bounds(self, start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> Self {
        Self { start, end, ..self }
    }

    /// Every occurrence strictly after `t`, in ascending `at` order,
    /// including the non-firing [`OccurrenceKind::SkippedGap`] records.
    #[must_use]
    pub fn occurrences_after(&self, t: DateTime<Utc>) -> Occurrences<'_> {
        Occurrences::new(self, t)
    }

    /// The first occurrence strictly after `t` that fires.
    #[must_use]
    pub fn next_fire_after(&self, t: DateTime<Utc>) -> Option<Occurrence> {
        self.occurrences_after(t).find(Occurrence::fires)
    }

    /// Refuses a calendar that would never fire: no firing occurrence within
    /// ten years after `from` (or after `start`, if later), nor before `end`.
    ///
    /// # Errors
    ///
    /// [`CalendarError::NeverFires`], saying over which period, and whether
    /// the times named all fell in skipped daylight-saving gaps.
    pub fn check_fires(&self, from: DateTime<Utc>) -> Result<(), CalendarError> {
        let origin = self.start.map_or(from, |start| start.max(from));
        let horizon = origin
            .checked_add_months(Months::new(NEVER_FIRES_HORIZON_MONTHS))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        let mut skipped = false;
        for occurrence in self.occurrences_after(from) {
            if occurrence.at > horizon {
                break;
            }
            if occurrence.fires() {
                return Ok(());
            }
            skipped = true;
        }
        let period = match self.end {
            Some(end) if end < horizon => format!("before its end {}", end.to_rfc3339()),
            _ => format!("within 10 years after {}", origin.to_rfc3339()),
        };
        let reason = if skipped {
            format!(
                "every time `{}` names {period} falls in a daylight-saving gap, \
                 which `gap: skip` drops",
                self.source
            )
        } else {
            format!("`{}` names no time {period}", self.source)
        };
        Err(CalendarError::NeverFires { reason })
    }

    /// Whether the expression is an interval one (hour field `*` or `*/N`),
    /// which keeps real-time spacing across daylight-saving changes.
    #[must_use]
    pub fn is_interval(&self) -> bool {
        self.expr.is_interval()
    }

    /// The time zone the expression is read in.
    #[must_use]
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The cron expression as given.
    #[must_use]
    pub fn expression(&self) -> &str {
        &self.source
    }

    /// The daylight-saving policy as given (interval expressions ignore it).
    #[must_use]
    pub fn dst_policy(&self) -> DstPolicy {
        self.dst
    }

    /// The bounds set by [`Calendar::with_bounds`].
    #[must_use]
    pub fn bounds(&self) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        (self.start, self.end)
    }
}
