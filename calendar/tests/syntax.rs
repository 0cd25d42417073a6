//! The expression dialect, the errors, the never-fires check and bounds.

use chrono::{DateTime, TimeZone, Utc};
use opsc_calendar::{Calendar, CalendarError, OccurrenceKind};
use opsc_proto::schedule::{DstPolicy, GapPolicy, OverlapPolicy};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, s)
        .single()
        .expect("valid instant")
}

fn calendar(cron: &str) -> Calendar {
    Calendar::new(cron, "UTC", DstPolicy::default()).expect("valid calendar")
}

/// The first `n` fire instants after `from`, in UTC.
fn fires(cron: &str, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
    let calendar = calendar(cron);
    calendar
        .occurrences_after(from)
        .take(n)
        .map(|o| o.at)
        .collect()
}

#[test]
fn nicknames_expand_to_their_five_fields() {
    let from = utc(2026, 1, 15, 0, 30, 0);
    for (nickname, next) in [
        ("@yearly", utc(2027, 1, 1, 0, 0, 0)),
        ("@annually", utc(2027, 1, 1, 0, 0, 0)),
        ("@monthly", utc(2026, 2, 1, 0, 0, 0)),
        ("@weekly", utc(2026, 1, 18, 0, 0, 0)),
        ("@daily", utc(2026, 1, 16, 0, 0, 0)),
        ("@midnight", utc(2026, 1, 16, 0, 0, 0)),
        ("@hourly", utc(2026, 1, 15, 1, 0, 0)),
        ("@DAILY", utc(2026, 1, 16, 0, 0, 0)),
    ] {
        assert_eq!(fires(nickname, from, 1), [next], "{nickname}");
    }
    assert!(calendar("@hourly").is_interval());
    assert!(!calendar("@daily").is_interval());
}

#[test]
fn six_fields_put_seconds_first() {
    let from = utc(2026, 1, 1, 0, 0, 5);
    assert_eq!(
        fires("*/10 * * * * *", from, 3),
        [
            utc(2026, 1, 1, 0, 0, 10),
            utc(2026, 1, 1, 0, 0, 20),
            utc(2026, 1, 1, 0, 0, 30)
        ]
    );
    assert_eq!(
        fires("30 0 12 * * *", from, 1),
        [utc(2026, 1, 1, 12, 0, 30)]
    );
    // Five fields fire at second 0.
    assert_eq!(fires("0 12 * * *", from, 1), [utc(2026, 1, 1, 12, 0, 0)]);
}

#[test]
fn last_weekday_and_nth_specifiers() {
    let from = utc(2026, 1, 1, 0, 0, 0);
    // L: the last day of the month, February of a leap year included.
    assert_eq!(
        fires("0 0 L * *", from, 3),
        [
            utc(2026, 1, 31, 0, 0, 0),
            utc(2026, 2, 28, 0, 0, 0),
            utc(2026, 3, 31, 0, 0, 0)
        ]
    );
    assert_eq!(
        fires("0 0 L 2 *", utc(2027, 3, 1, 0, 0, 0), 1),
        [utc(2028, 2, 29, 0, 0, 0)]
    );
    // W: the weekday nearest the day, within the month (2026-08-15 is a
    // Saturday, 2026-02-01 a Sunday).
    assert_eq!(fires("0 0 15W 8 *", from, 1), [utc(2026, 8, 14, 0, 0, 0)]);
    assert_eq!(fires("0 0 1W 2 *", from, 1), [utc(2026, 2, 2, 0, 0, 0)]);
    // #: the second Monday; L in the day of week: the last Friday.
    assert_eq!(
        fires("0 0 * * 1#2", from, 2),
        [utc(2026, 1, 12, 0, 0, 0), utc(2026, 2, 9, 0, 0, 0)]
    );
    assert_eq!(
        fires("0 0 * * 5L", from, 2),
        [utc(2026, 1, 30, 0, 0, 0), utc(2026, 2, 27, 0, 0, 0)]
    );
    assert_eq!(fires("0 0 * * MON#1", from, 1), [utc(2026, 1, 5, 0, 0, 0)]);
}

#[test]
fn day_of_month_or_day_of_week() {
    // Vixie cron: both restricted means either matches (2026-01-13 is a Tuesday).
    assert_eq!(
        fires("0 0 13 * 5", utc(2026, 1, 1, 0, 0, 0), 4),
        [
            utc(2026, 1, 2, 0, 0, 0),
            utc(2026, 1, 9, 0, 0, 0),
            utc(2026, 1, 13, 0, 0, 0),
            utc(2026, 1, 16, 0, 0, 0),
        ]
    );
    // Only one restricted: that one alone decides.
    assert_eq!(
        fires("0 0 13 * *", utc(2026, 1, 1, 0, 0, 0), 1),
        [utc(2026, 1, 13, 0, 0, 0)]
    );
    assert_eq!(
        fires("0 0 * * 5", utc(2026, 1, 1, 0, 0, 0), 1),
        [utc(2026, 1, 2, 0, 0, 0)]
    );
}

#[test]
fn names_and_sunday_as_seven() {
    let from = utc(2026, 1, 1, 0, 0, 0);
    assert_eq!(
        fires("0 9 * JAN MON-FRI", from, 1),
        [utc(2026, 1, 1, 9, 0, 0)]
    );
    assert_eq!(fires("0 0 * * 7", from, 1), fires("0 0 * * SUN", from, 1));
    assert_eq!(fires("0 0 * * 7", from, 1), [utc(2026, 1, 4, 0, 0, 0)]);
}

#[test]
fn errors_name_their_field() {
    let cron = Calendar::new("61 * * * *", "UTC", DstPolicy::default()).expect_err("bad minute");
    assert_eq!(cron.field(), "cron");
    assert_eq!(
        cron,
        CalendarError::Cron {
            reason: "minute field: 61 is out of range 0-59".to_owned()
        }
    );
    assert_eq!(
        cron.to_string(),
        "invalid cron expression: minute field: 61 is out of range 0-59"
    );

    let zone =
        Calendar::new("0 0 * * *", "Europe/Berlln", DstPolicy::default()).expect_err("bad zone");
    assert_eq!(zone.field(), "time_zone");
    assert_eq!(
        zone,
        CalendarError::TimeZone {
            name: "Europe/Berlln".to_owned()
        }
    );
    assert!(zone.to_string().contains("`Europe/Berlln`"));
    // Names are case-sensitive, as in the tz database.
    assert!(Calendar::new("0 0 * * *", "europe/berlin", DstPolicy::default()).is_err());

    let never = calendar("0 0 30 2 *")
        .check_fires(utc(2026, 1, 1, 0, 0, 0))
        .expect_err("30 Feb");
    assert_eq!(never.field(), "cron");
}

#[test]
fn never_firing_expressions_are_refused() {
    let from = utc(2026, 1, 1, 0, 0, 0);
    for cron in ["0 0 30 2 *", "0 0 31 4 *", "0 0 31 2,4,6,9,11 *"] {
        let error = calendar(cron).check_fires(from).expect_err(cron);
        assert!(
            matches!(error, CalendarError::NeverFires { .. }),
            "{cron}: {error:?}"
        );
        assert!(error.to_string().contains("within 10 years"), "{error}");
    }
    // Leap days exist; so does a month whose 31st falls on some day.
    for cron in ["0 0 29 2 *", "0 0 31 * *", "* * * * * *", "@yearly"] {
        assert_eq!(calendar(cron).check_fires(from), Ok(()), "{cron}");
    }
    assert_eq!(
        calendar("0 0 29 2 *").next_fire_after(from).map(|o| o.at),
        Some(utc(2028, 2, 29, 0, 0, 0))
    );

    // An end before the first fire.
    let bounded = calendar("@yearly").with_bounds(None, Some(utc(2026, 6, 1, 0, 0, 0)));
    let error = bounded
        .check_fires(utc(2026, 2, 1, 0, 0, 0))
        .expect_err("ends first");
    assert!(error.to_string().contains("before its end"), "{error}");

    // A start far ahead counts from the start.
    let later = calendar("@yearly").with_bounds(Some(utc(2040, 1, 1, 0, 0, 0)), None);
    assert_eq!(later.check_fires(from), Ok(()));

    // The second Sunday of March at 02:30 is always in New York's gap.
    let gap = |policy| {
        Calendar::new(
            "30 2 * 3 0#2",
            "America/New_York",
            DstPolicy {
                gap: policy,
                overlap: OverlapPolicy::First,
            },
        )
        .expect("valid")
    };
    assert_eq!(gap(GapPolicy::Shift).check_fires(from), Ok(()));
    let error = gap(GapPolicy::Skip)
        .check_fires(from)
        .expect_err("always skipped");
    assert!(error.to_string().contains("daylight-saving gap"), "{error}");
}

#[test]
fn bounds_are_inclusive_and_end_the_iteration() {
    let start = utc(2026, 1, 2, 0, 0, 0);
    let end = utc(2026, 1, 4, 0, 0, 0);
    let bounded = calendar("@daily").with_bounds(Some(start), Some(end));
    assert_eq!(bounded.bounds(), (Some(start), Some(end)));
    let all: Vec<DateTime<Utc>> = bounded
        .occurrences_after(utc(2025, 12, 1, 0, 0, 0))
        .map(|o| o.at)
        .collect();
    assert_eq!(all, [start, utc(2026, 1, 3, 0, 0, 0), end]);
    assert_eq!(bounded.next_fire_after(end), None);
    assert_eq!(
        bounded.occurrences_after(utc(2030, 1, 1, 0, 0, 0)).next(),
        None
    );
    // Strictly after `t`, even when `t` is a fire time.
    assert_eq!(
        bounded.next_fire_after(start).map(|o| o.at),
        Some(utc(2026, 1, 3, 0, 0, 0))
    );
}

#[test]
fn calendars_expose_their_settings() {
    let dst = DstPolicy {
        gap: GapPolicy::Skip,
        overlap: OverlapPolicy::Both,
    };
    let calendar = Calendar::new("*/5 * * * *", "Asia/Kolkata", dst).expect("valid");
    assert_eq!(calendar.time_zone(), chrono_tz::Asia::Kolkata);
    assert_eq!(calendar.expression(), "*/5 * * * *");
    assert_eq!(calendar.dst_policy(), dst);
    assert!(calendar.is_interval());
    let next = calendar
        .next_fire_after(utc(2026, 1, 1, 0, 1, 0))
        .expect("fires");
    assert_eq!(next.kind, OccurrenceKind::Regular);
    assert_eq!(next.offset_secs, 19_800);
    assert_eq!(next.local_rfc3339(), "2026-01-01T05:35:00+05:30");
}

#[test]
fn rarer_than_ten_years_is_refused() {
    // February has five Fridays only in a leap year starting on a Friday:
    // 2008, then 2036.
    let rare = calendar("0 0 * 2 5#5");
    assert_eq!(
        rare.next_fire_after(utc(2009, 1, 1, 0, 0, 0)).map(|o| o.at),
        Some(utc(2036, 2, 29, 0, 0, 0))
    );
    assert!(rare.check_fires(utc(2009, 1, 1, 0, 0, 0)).is_err());
    assert_eq!(rare.check_fires(utc(2030, 1, 1, 0, 0, 0)), Ok(()));
}
