//! Daylight-saving semantics on the dates people know, spelled out.

use OccurrenceKind::{OverlapFirst, OverlapSecond, Regular, ShiftedFromGap, SkippedGap};
use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use opsc_calendar::{Calendar, Occurrence, OccurrenceKind};
use opsc_proto::schedule::{DstPolicy, GapPolicy, OverlapPolicy};

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid instant")
}

fn policy(gap: GapPolicy, overlap: OverlapPolicy) -> DstPolicy {
    DstPolicy { gap, overlap }
}

fn calendar(cron: &str, zone: &str, dst: DstPolicy) -> Calendar {
    Calendar::new(cron, zone, dst).expect("valid calendar")
}

/// `(local_rfc3339, kind)` of the occurrences in `(from, until]`.
fn shown(
    calendar: &Calendar,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<(String, OccurrenceKind)> {
    calendar
        .occurrences_after(from)
        .take_while(|o| o.at <= until)
        .map(|o| (o.local_rfc3339(), o.kind))
        .collect()
}

fn owned(rows: &[(&str, OccurrenceKind)]) -> Vec<(String, OccurrenceKind)> {
    rows.iter()
        .map(|(at, kind)| ((*at).to_owned(), *kind))
        .collect()
}

const NY: &str = "America/New_York";

#[test]
fn new_york_spring_forward_gap() {
    let (from, until) = (utc(2026, 3, 7, 12, 0), utc(2026, 3, 9, 12, 0));
    let shift = calendar("30 2 * * *", NY, DstPolicy::default());
    assert_eq!(
        shown(&shift, from, until),
        owned(&[
            ("2026-03-08T03:00:00-04:00", ShiftedFromGap),
            ("2026-03-09T02:30:00-04:00", Regular)
        ])
    );
    let first = shift.next_fire_after(from).expect("fires");
    assert_eq!(first.local.to_string(), "2026-03-08 02:30:00");

    let skip = calendar(
        "30 2 * * *",
        NY,
        policy(GapPolicy::Skip, OverlapPolicy::First),
    );
    assert_eq!(
        shown(&skip, from, until),
        owned(&[
            ("2026-03-08T03:00:00-04:00", SkippedGap),
            ("2026-03-09T02:30:00-04:00", Regular)
        ])
    );
    assert_eq!(
        skip.next_fire_after(from).map(|o| o.at),
        Some(utc(2026, 3, 9, 6, 30))
    );
}

#[test]
fn new_york_fall_back_overlap() {
    let (from, until) = (utc(2026, 10, 31, 12, 0), utc(2026, 11, 1, 12, 0));
    for (overlap, expected) in [
        (
            OverlapPolicy::First,
            vec![("2026-11-01T01:30:00-04:00", OverlapFirst)],
        ),
        (
            OverlapPolicy::Second,
            vec![("2026-11-01T01:30:00-05:00", OverlapSecond)],
        ),
        (
            OverlapPolicy::Both,
            vec![
                ("2026-11-01T01:30:00-04:00", OverlapFirst),
                ("2026-11-01T01:30:00-05:00", OverlapSecond),
            ],
        ),
    ] {
        let calendar = calendar("30 1 * * *", NY, policy(GapPolicy::Shift, overlap));
        assert_eq!(
            shown(&calendar, from, until),
            owned(&expected),
            "{overlap:?}"
        );
    }
}

#[test]
fn interval_keeps_real_time_spacing() {
    // Spring: 01:45 EST, then 03:00 EDT, once, 15 real minutes later.
    let every15 = calendar(
        "*/15 * * * *",
        NY,
        policy(GapPolicy::Skip, OverlapPolicy::First),
    );
    let spring: Vec<Occurrence> = every15
        .occurrences_after(utc(2026, 3, 8, 6, 30))
        .take(3)
        .collect();
    assert_eq!(spring[0].local_rfc3339(), "2026-03-08T01:45:00-05:00");
    assert_eq!(spring[1].local_rfc3339(), "2026-03-08T03:00:00-04:00");
    assert_eq!(spring[1].kind, Regular);
    assert_eq!(spring[1].at - spring[0].at, TimeDelta::minutes(15));
    assert_eq!(spring[2].at - spring[1].at, TimeDelta::minutes(15));

    // Autumn: both passes of 01:xx, whatever the overlap policy.
    let every30 = calendar(
        "*/30 * * * *",
        NY,
        policy(GapPolicy::Shift, OverlapPolicy::First),
    );
    assert_eq!(
        shown(&every30, utc(2026, 11, 1, 4, 45), utc(2026, 11, 1, 7, 0)),
        owned(&[
            ("2026-11-01T01:00:00-04:00", OverlapFirst),
            ("2026-11-01T01:30:00-04:00", OverlapFirst),
            ("2026-11-01T01:00:00-05:00", OverlapSecond),
            ("2026-11-01T01:30:00-05:00", OverlapSecond),
            ("2026-11-01T02:00:00-05:00", Regular),
        ])
    );
}

#[test]
fn lord_howe_half_hour_shift() {
    let hourly = calendar("0 * * * *", "Australia/Lord_Howe", DstPolicy::default());
    // First Sunday of October 2026: 02:00 +10:30 becomes 02:30 +11:00.
    assert_eq!(
        shown(&hourly, utc(2026, 10, 3, 14, 0), utc(2026, 10, 3, 16, 0)),
        owned(&[
            ("2026-10-04T01:00:00+10:30", Regular),
            ("2026-10-04T02:30:00+11:00", ShiftedFromGap),
            ("2026-10-04T03:00:00+11:00", Regular),
        ])
    );
    // First Sunday of April 2026: 02:00 +11:00 becomes 01:30 +10:30.
    assert_eq!(
        shown(&hourly, utc(2026, 4, 4, 13, 30), utc(2026, 4, 4, 16, 30)),
        owned(&[
            ("2026-04-05T01:00:00+11:00", Regular),
            ("2026-04-05T02:00:00+10:30", Regular),
            ("2026-04-05T03:00:00+10:30", Regular),
        ])
    );
}

#[test]
fn gap_wall_times_collapse_onto_a_regular_fire() {
    // 02:00 and 02:30 do not exist; 03:00 does and stands for them.
    for gap in [GapPolicy::Shift, GapPolicy::Skip] {
        let calendar = calendar("0,30 2,3 * * *", NY, policy(gap, OverlapPolicy::First));
        assert_eq!(
            shown(&calendar, utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 8, 0)),
            owned(&[
                ("2026-03-08T03:00:00-04:00", Regular),
                ("2026-03-08T03:30:00-04:00", Regular)
            ]),
            "{gap:?}"
        );
    }
}

#[test]
fn lists_and_ranges_of_hours_are_fixed_times() {
    // Not interval expressions: they follow the policy (croner alone would
    // drop the gap day and fire 01:00 twice).
    let lists = calendar("0,30 2 * * *", NY, DstPolicy::default());
    assert!(!lists.is_interval());
    assert_eq!(
        shown(&lists, utc(2026, 3, 8, 6, 0), utc(2026, 3, 8, 8, 0)),
        owned(&[("2026-03-08T03:00:00-04:00", ShiftedFromGap)])
    );
    let range = calendar("0 1-3 * * *", NY, DstPolicy::default());
    assert_eq!(
        shown(&range, utc(2026, 11, 1, 4, 0), utc(2026, 11, 1, 9, 0)),
        owned(&[
            ("2026-11-01T01:00:00-04:00", OverlapFirst),
            ("2026-11-01T02:00:00-05:00", Regular),
            ("2026-11-01T03:00:00-05:00", Regular),
        ])
    );
}

#[test]
fn start_in_summer_while_now_is_winter() {
    let calendar = calendar("0 9 * * *", "Europe/Berlin", DstPolicy::default())
        .with_bounds(Some(utc(2027, 7, 1, 0, 0)), None);
    let first = calendar
        .next_fire_after(utc(2026, 12, 1, 0, 0))
        .expect("fires");
    assert_eq!(first.at, utc(2027, 7, 1, 7, 0));
    assert_eq!(first.local_rfc3339(), "2027-07-01T09:00:00+02:00");
    assert_eq!(first.offset_secs, 7200);
}

#[test]
fn kinds_have_snake_case_names_on_the_wire() {
    let names: Vec<String> = [
        Regular,
        ShiftedFromGap,
        SkippedGap,
        OverlapFirst,
        OverlapSecond,
    ]
    .iter()
    .map(|kind| serde_json::to_string(kind).expect("serializes"))
    .collect();
    assert_eq!(
        names,
        [
            r#""regular""#,
            r#""shifted_from_gap""#,
            r#""skipped_gap""#,
            r#""overlap_first""#,
            r#""overlap_second""#
        ]
    );
    let back: OccurrenceKind = serde_json::from_str(r#""skipped_gap""#).expect("deserializes");
    assert!(!back.fires());
    let schema = serde_json::to_string(&schemars::schema_for!(OccurrenceKind)).expect("schema");
    assert!(schema.contains("shifted_from_gap"));
}
