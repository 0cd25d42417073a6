//! Mapping wall-clock times of an IANA zone to instants, with the edges of
//! daylight-saving gaps and overlaps found from chrono-tz's tables.

use chrono::{DateTime, LocalResult, NaiveDateTime, Offset, SubsecRound, TimeDelta, TimeZone, Utc};
use chrono_tz::{GapInfo, Tz};

use crate::CalendarError;

/// Reads an IANA zone name (case-sensitive, as in the tz database).
pub(crate) fn parse(name: &str) -> Result<Tz, CalendarError> {
    name.parse::<Tz>().map_err(|_| CalendarError::TimeZone {
        name: name.to_owned(),
    })
}

/// What one wall-clock time is in a zone.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wall {
    /// It happens once.
    Single(DateTime<Tz>),
    /// It is skipped by a spring-forward change; `after` is the first
    /// instant after the gap (`None` only past the end of the tables).
    Gap { after: Option<DateTime<Tz>> },
    /// It happens twice, at `first` and then at `second`.
    Overlap {
        first: DateTime<Tz>,
        second: DateTime<Tz>,
    },
}

/// Resolves `wall` in `tz`.
pub(crate) fn resolve(tz: Tz, wall: &NaiveDateTime) -> Wall {
    match tz.from_local_datetime(wall) {
        LocalResult::Single(at) => Wall::Single(at),
        LocalResult::Ambiguous(first, second) => Wall::Overlap { first, second },
        LocalResult::None => Wall::Gap {
            after: GapInfo::new(wall, &tz).and_then(|gap| gap.end),
        },
    }
}

/// The repeated wall-clock range of a fall-back change: `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: NaiveDateTime,
    pub(crate) end: NaiveDateTime,
}

/// The overlap that contains `wall`, whose two instants are `first` and
/// `second`.
pub(crate) fn overlap_span(
    tz: Tz,
    wall: NaiveDateTime,
    first: &DateTime<Tz>,
    second: &DateTime<Tz>,
) -> Span {
    // The clock goes back by `shift`, so the range is `shift` long; find
    // its end by bisection, in whole seconds, between `wall` (inside) and
    // `wall + shift` (past it).
    let shift = i64::from(offset_secs(first) - offset_secs(second));
    let at = |seconds: i64| wall + TimeDelta::seconds(seconds);
    let (mut inside, mut past) = (0, shift);
    while past - inside > 1 {
        let mid = inside + (past - inside) / 2;
        if matches!(tz.from_local_datetime(&at(mid)), LocalResult::Ambiguous(..)) {
            inside = mid;
        } else {
            past = mid;
        }
    }
    Span {
        start: at(past - shift),
        end: at(past),
    }
}

/// Where an instant sits on the wall clock.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Position {
    /// A wall time that happens once.
    Plain(NaiveDateTime),
    /// The first pass through an overlap.
    FirstPass(NaiveDateTime, Span),
    /// The second pass through an overlap.
    SecondPass(NaiveDateTime, Span),
}

/// The wall-clock position of `at`, truncated to the whole second.
pub(crate) fn position(tz: Tz, at: DateTime<Utc>) -> Position {
    let local = at.trunc_subsecs(0).with_timezone(&tz);
    let wall = local.naive_local();
    match resolve(tz, &wall) {
        Wall::Overlap { first, second } => {
            let span = overlap_span(tz, wall, &first, &second);
            if local == first {
                Position::FirstPass(wall, span)
            } else {
                Position::SecondPass(wall, span)
            }
        }
        Wall::Single(_) | Wall::Gap { .. } => Position::Plain(wall),
    }
}

/// The zone's offset from UTC at an instant, in seconds.
pub(crate) fn offset_secs(at: &DateTime<Tz>) -> i32 {
    at.offset().fix().local_minus_utc()
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn wall(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .and_then(|date| date.and_hms_opt(h, min, 0))
            .expect("valid date")
    }

    #[test]
    fn new_york_gap_and_overlap() {
        let tz = chrono_tz::America::New_York;
        let Wall::Gap { after: Some(after) } = resolve(tz, &wall(2026, 3, 8, 2, 30)) else {
            panic!("02:30 is in the gap");
        };
        assert_eq!(after.to_rfc3339(), "2026-03-08T03:00:00-04:00");

        let Wall::Overlap { first, second } = resolve(tz, &wall(2026, 11, 1, 1, 30)) else {
            panic!("01:30 is repeated");
        };
        let span = overlap_span(tz, wall(2026, 11, 1, 1, 30), &first, &second);
        assert_eq!(span.start, wall(2026, 11, 1, 1, 0));
        assert_eq!(span.end, wall(2026, 11, 1, 2, 0));
    }

    #[test]
    fn lord_howe_overlap_is_thirty_minutes() {
        let tz = chrono_tz::Australia::Lord_Howe;
        let Wall::Overlap { first, second } = resolve(tz, &wall(2026, 4, 5, 1, 45)) else {
            panic!("01:45 is repeated");
        };
        let span = overlap_span(tz, wall(2026, 4, 5, 1, 45), &first, &second);
        assert_eq!(span.start, wall(2026, 4, 5, 1, 30));
        assert_eq!(span.end, wall(2026, 4, 5, 2, 0));
    }

    #[test]
    fn unknown_zone_is_refused() {
        assert!(parse("Europe/Berlin").is_ok());
        assert!(parse("UTC").is_ok());
        let error = parse("Mars/Olympus").expect_err("unknown");
        assert_eq!(error.field(), "time_zone");
    }
}
