//! Maintenance windows in time: when one is open, when it closes, and its
//! openings in a range.
//!
//! A `once` window is the range `[start, end)`. A `weekly` window opens on
//! each of its ISO weekdays at `start_time`, a wall-clock time in its zone,
//! and stays open `duration_mins` of real time (a window that runs past
//! midnight belongs to the day it opens). A `start_time` in a
//! spring-forward gap opens at the first instant after the gap; one in a
//! repeated fall-back hour opens at its first occurrence. Openings that
//! touch or overlap (every day at 00:00 for 1440 minutes) make one stretch:
//! [`open_at`] answers the end of the stretch, looking at most
//! [`LOOKAHEAD_DAYS`] ahead.

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};
use opsc_proto::schedule::WindowTiming;

use crate::CalendarError;
use crate::zone::{self, Wall};

/// How far [`open_at`] follows openings that continue each other.
pub const LOOKAHEAD_DAYS: u64 = 8;

/// Longest weekly opening, in minutes (one week).
const MAX_DURATION_MINS: u32 = 10_080;

/// Longest one-off window, in days.
const MAX_ONCE_DAYS: i64 = 366;

/// Most local dates [`openings`] walks (about ten years).
const MAX_DATES: u64 = 3_700;

/// One opening: `(opens, closes)`.
pub type Opening = (DateTime<Utc>, DateTime<Utc>);

/// Refuses a timing that cannot be used: an unknown zone, weekdays outside
/// 1..=7, none or one twice, a duration outside 1..=10080 minutes, a
/// one-off window whose end is not after its start or that lasts more
/// than 366 days.
///
/// # Errors
///
/// [`CalendarError::Window`] naming the field (or
/// [`CalendarError::TimeZone`] for the zone).
pub fn check_timing(timing: &WindowTiming) -> Result<(), CalendarError> {
    let bad = |field: &'static str, reason: String| Err(CalendarError::Window { field, reason });
    match timing {
        WindowTiming::Once { start, end } => {
            if end <= start {
                return bad("end", "must be after start".to_owned());
            }
            if *end - *start > TimeDelta::days(MAX_ONCE_DAYS) {
                return bad(
                    "end",
                    format!("a window lasts at most {MAX_ONCE_DAYS} days"),
                );
            }
            Ok(())
        }
        WindowTiming::Weekly {
            days,
            duration_mins,
            time_zone,
            ..
        } => {
            zone::parse(time_zone)?;
            if days.is_empty() {
                return bad(
                    "days",
                    "name at least one weekday (1 = Monday … 7 = Sunday)".to_owned(),
                );
            }
            if let Some(d) = days.iter().find(|d| !(1..=7).contains(*d)) {
                return bad(
                    "days",
                    format!("{d} is not a weekday: use 1 (Monday) to 7 (Sunday)"),
                );
            }
            let mut seen = [false; 8];
            for d in days {
                let slot = &mut seen[usize::from(*d)];
                if *slot {
                    return bad("days", format!("weekday {d} is named twice"));
                }
                *slot = true;
            }
            if !(1..=MAX_DURATION_MINS).contains(duration_mins) {
                return bad(
                    "duration_mins",
                    format!("must be 1 to {MAX_DURATION_MINS} minutes (one week)"),
                );
            }
            Ok(())
        }
    }
}

/// If the window is open at `t`, the instant it closes (of openings that
/// continue each other, the end of the stretch, followed for at most
/// [`LOOKAHEAD_DAYS`]); `None` when it is closed at `t`.
///
/// # Errors
///
/// What [`check_timing`] refuses.
pub fn open_at(
    timing: &WindowTiming,
    t: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, CalendarError> {
    check_timing(timing)?;
    let WindowTiming::Weekly { duration_mins, .. } = timing else {
        let WindowTiming::Once { start, end } = timing else {
            return Ok(None);
        };
        return Ok((*start <= t && t < *end).then_some(*end));
    };
    let lookahead = TimeDelta::days(i64::try_from(LOOKAHEAD_DAYS).unwrap_or(8));
    let back = TimeDelta::minutes(i64::from(*duration_mins));
    let horizon = t + lookahead;
    let mut close: Option<DateTime<Utc>> = None;
    for (open, end) in weekly(timing, t - back, horizon)? {
        match close {
            None if open > t => break,
            None if t < end => close = Some(end),
            Some(c) if open <= c && end > c => close = Some(end),
            Some(c) if open > c => break,
            _ => {}
        }
        if close.is_some_and(|c| c >= horizon) {
            break;
        }
    }
    Ok(close)
}

/// The openings of the window that overlap `[from, to)`, oldest first, as
/// `(opens, closes)`; each weekly opening on its own (not merged).
#[must_use]
pub fn openings(timing: &WindowTiming, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<Opening> {
    if check_timing(timing).is_err() || to <= from {
        return Vec::new();
    }
    match timing {
        WindowTiming::Once { start, end } => {
            if *start < to && *end > from {
                vec![(*start, *end)]
            } else {
                Vec::new()
            }
        }
        WindowTiming::Weekly { .. } => weekly(timing, from, to).unwrap_or_default(),
    }
}

/// Weekly openings that overlap `[from, to)`, by opening instant.
fn weekly(
    timing: &WindowTiming,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Opening>, CalendarError> {
    let WindowTiming::Weekly {
        days,
        start_time,
        duration_mins,
        time_zone,
    } = timing
    else {
        return Ok(Vec::new());
    };
    let tz = zone::parse(time_zone)?;
    let length = TimeDelta::minutes(i64::from(*duration_mins));
    // An opening that overlaps `from` began at most `length` before it;
    // a day either side covers any offset from UTC.
    let first = (from - length).with_timezone(&tz).date_naive() - Days::new(1);
    let last = to.with_timezone(&tz).date_naive() + Days::new(1);
    let mut out = Vec::new();
    let mut date: NaiveDate = first;
    for _ in 0..MAX_DATES {
        if date > last {
            break;
        }
        let weekday = u8::try_from(date.weekday().number_from_monday()).unwrap_or(0);
        if days.contains(&weekday) {
            let open = match zone::resolve(tz, &date.and_time(*start_time)) {
                Wall::Single(at) | Wall::Overlap { first: at, .. } => Some(at.to_utc()),
                Wall::Gap { after } => after.map(|at| at.to_utc()),
            };
            if let Some(open) = open {
                let close = open + length;
                if open < to && close > from {
                    out.push((open, close));
                }
            }
        }
        let Some(next) = date.succ_opt() else { break };
        date = next;
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
#[path = "window_tests.rs"]
mod tests;
