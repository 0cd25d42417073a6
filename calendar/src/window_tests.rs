use chrono::NaiveTime;

use super::*;

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("an RFC 3339 instant")
        .to_utc()
}

fn weekly(days: &[u8], start: &str, mins: u32, zone: &str) -> WindowTiming {
    WindowTiming::Weekly {
        days: days.to_vec(),
        start_time: NaiveTime::parse_from_str(start, "%H:%M").expect("HH:MM"),
        duration_mins: mins,
        time_zone: zone.to_owned(),
    }
}

#[test]
fn once_is_start_inclusive_end_exclusive() {
    let w = WindowTiming::Once {
        start: utc("2026-12-01T10:00:00Z"),
        end: utc("2026-12-01T12:00:00Z"),
    };
    assert_eq!(open_at(&w, utc("2026-12-01T09:59:59Z")), Ok(None));
    assert_eq!(
        open_at(&w, utc("2026-12-01T10:00:00Z")),
        Ok(Some(utc("2026-12-01T12:00:00Z")))
    );
    assert_eq!(open_at(&w, utc("2026-12-01T12:00:00Z")), Ok(None));
}

#[test]
fn across_midnight_belongs_to_the_opening_day() {
    // Fridays 22:00 for 4 hours, in Berlin (winter: UTC+1).
    let w = weekly(&[5], "22:00", 240, "Europe/Berlin");
    // Saturday 2026-12-05 01:30 local = 00:30 UTC: still open.
    assert_eq!(
        open_at(&w, utc("2026-12-05T00:30:00Z")),
        Ok(Some(utc("2026-12-05T01:00:00Z")))
    );
    // Saturday 22:30 local: Saturday is not a day of the window.
    assert_eq!(open_at(&w, utc("2026-12-05T21:30:00Z")), Ok(None));
}

#[test]
fn across_sunday_into_monday() {
    let w = weekly(&[7], "23:00", 120, "UTC");
    // Sunday 2026-12-06 23:00 → Monday 01:00.
    assert_eq!(
        open_at(&w, utc("2026-12-07T00:59:59Z")),
        Ok(Some(utc("2026-12-07T01:00:00Z")))
    );
    assert_eq!(open_at(&w, utc("2026-12-07T01:00:00Z")), Ok(None));
    assert_eq!(open_at(&w, utc("2026-12-06T22:59:59Z")), Ok(None));
}

#[test]
fn berlin_spring_forward_gap_opens_after_the_gap() {
    // 2026-03-29: 02:00 CET becomes 03:00 CEST; 02:30 does not exist.
    let w = weekly(&[7], "02:30", 60, "Europe/Berlin");
    let got = openings(&w, utc("2026-03-28T00:00:00Z"), utc("2026-03-30T00:00:00Z"));
    // Opens 03:00 CEST = 01:00 UTC, one real hour.
    assert_eq!(
        got,
        [(utc("2026-03-29T01:00:00Z"), utc("2026-03-29T02:00:00Z"))]
    );
    assert_eq!(open_at(&w, utc("2026-03-29T00:59:59Z")), Ok(None));
    assert!(matches!(
        open_at(&w, utc("2026-03-29T01:00:00Z")),
        Ok(Some(_))
    ));
}

#[test]
fn berlin_fall_back_overlap_opens_at_first_occurrence_real_duration() {
    // 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice.
    let w = weekly(&[7], "02:30", 60, "Europe/Berlin");
    let got = openings(&w, utc("2026-10-24T00:00:00Z"), utc("2026-10-26T00:00:00Z"));
    // First 02:30 is CEST (UTC+2) = 00:30 UTC; 60 real minutes.
    assert_eq!(
        got,
        [(utc("2026-10-25T00:30:00Z"), utc("2026-10-25T01:30:00Z"))]
    );
    // A day-long window on the transition day lasts 1440 real minutes.
    let day = weekly(&[7], "00:00", 1440, "Europe/Berlin");
    assert_eq!(
        open_at(&day, utc("2026-10-25T12:00:00Z")),
        Ok(Some(utc("2026-10-25T22:00:00Z")))
    );
}

#[test]
fn back_to_back_openings_merge() {
    let every_day: Vec<u8> = (1..=7).collect();
    let w = weekly(&every_day, "00:00", 1440, "UTC");
    let t = utc("2026-12-01T12:00:00Z");
    let close = open_at(&w, t).expect("valid").expect("open");
    assert!(close >= t + TimeDelta::days(8), "{close}");
    assert!(close <= t + TimeDelta::days(10), "{close}");
    // Monday and Tuesday 00:00-24:00 merge into one stretch.
    let two = weekly(&[1, 2], "00:00", 1440, "UTC");
    assert_eq!(
        open_at(&two, utc("2026-11-30T08:00:00Z")),
        Ok(Some(utc("2026-12-02T00:00:00Z")))
    );
}

#[test]
fn openings_in_a_range() {
    // Monday, Wednesday, Friday 09:00 New York (UTC-5 in December) for 30 min;
    // 2026-11-30 is a Monday.
    let w = weekly(&[1, 3, 5], "09:00", 30, "America/New_York");
    let got = openings(&w, utc("2026-11-30T00:00:00Z"), utc("2026-12-07T00:00:00Z"));
    let want: Vec<_> = [
        "2026-11-30T14:00:00Z",
        "2026-12-02T14:00:00Z",
        "2026-12-04T14:00:00Z",
    ]
    .iter()
    .map(|o| (utc(o), utc(o) + TimeDelta::minutes(30)))
    .collect();
    assert_eq!(got, want);
    // An opening that began before the range and is still open counts.
    let got = openings(&w, utc("2026-11-30T14:10:00Z"), utc("2026-11-30T15:00:00Z"));
    assert_eq!(got, want[..1]);
    assert!(openings(&w, utc("2026-12-07T00:00:00Z"), utc("2026-12-06T00:00:00Z")).is_empty());
}

#[test]
fn bad_timings_are_refused_naming_the_field() {
    let field = |w: &WindowTiming| check_timing(w).expect_err("refused").field();
    assert_eq!(
        field(&weekly(&[1], "01:00", 60, "Mars/Olympus")),
        "time_zone"
    );
    assert_eq!(field(&weekly(&[], "01:00", 60, "UTC")), "days");
    assert_eq!(field(&weekly(&[0], "01:00", 60, "UTC")), "days");
    assert_eq!(field(&weekly(&[8], "01:00", 60, "UTC")), "days");
    assert_eq!(field(&weekly(&[2, 2], "01:00", 60, "UTC")), "days");
    assert_eq!(field(&weekly(&[1], "01:00", 0, "UTC")), "duration_mins");
    assert_eq!(
        field(&weekly(&[1], "01:00", 10_081, "UTC")),
        "duration_mins"
    );
    assert!(check_timing(&weekly(&[1, 7], "01:00", 10_080, "UTC")).is_ok());
    let once = |a: &str, b: &str| WindowTiming::Once {
        start: utc(a),
        end: utc(b),
    };
    assert_eq!(
        field(&once("2026-12-01T10:00:00Z", "2026-12-01T10:00:00Z")),
        "end"
    );
    assert_eq!(
        field(&once("2026-12-01T10:00:00Z", "2027-12-03T10:00:00Z")),
        "end"
    );
    assert!(
        open_at(
            &weekly(&[], "01:00", 60, "UTC"),
            utc("2026-12-01T10:00:00Z")
        )
        .is_err()
    );
}
