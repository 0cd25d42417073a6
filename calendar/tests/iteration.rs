//! Iterating as the scheduler does: from any instant, one step at a time.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use opsc_calendar::{Calendar, Occurrence, OccurrenceKind::OverlapSecond};
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

const NY: &str = "America/New_York";

#[test]
fn second_pass_is_neither_lost_nor_repeated_from_inside_the_overlap() {
    let both = calendar(
        "30 1 * * *",
        NY,
        policy(GapPolicy::Shift, OverlapPolicy::Both),
    );
    // 01:45 EDT: the first 01:30 is behind, the second ahead.
    let next = both
        .next_fire_after(utc(2026, 11, 1, 5, 45))
        .expect("fires");
    assert_eq!(
        (next.local_rfc3339(), next.kind),
        ("2026-11-01T01:30:00-05:00".to_owned(), OverlapSecond)
    );
    // 01:15 EST, in the second pass: the second 01:30 is still ahead.
    let next = both
        .next_fire_after(utc(2026, 11, 1, 6, 15))
        .expect("fires");
    assert_eq!(
        (next.local_rfc3339(), next.kind),
        ("2026-11-01T01:30:00-05:00".to_owned(), OverlapSecond)
    );
    // 01:45 EST: both are behind.
    let next = both
        .next_fire_after(utc(2026, 11, 1, 6, 45))
        .expect("fires");
    assert_eq!(next.local_rfc3339(), "2026-11-02T01:30:00-05:00");
    // From the second instant itself: the next day.
    let next = both
        .next_fire_after(utc(2026, 11, 1, 6, 30))
        .expect("fires");
    assert_eq!(next.local_rfc3339(), "2026-11-02T01:30:00-05:00");

    let first = calendar("30 1 * * *", NY, DstPolicy::default());
    let next = first
        .next_fire_after(utc(2026, 11, 1, 5, 45))
        .expect("fires");
    assert_eq!(next.local_rfc3339(), "2026-11-02T01:30:00-05:00");

    let seconds = calendar("*/20 * * * * *", NY, DstPolicy::default());
    let around: Vec<String> = seconds
        .occurrences_after(utc(2026, 11, 1, 5, 59) + TimeDelta::seconds(30))
        .take(4)
        .map(|o| o.local_rfc3339())
        .collect();
    assert_eq!(
        around,
        [
            "2026-11-01T01:59:40-04:00",
            "2026-11-01T01:00:00-05:00",
            "2026-11-01T01:00:20-05:00",
            "2026-11-01T01:00:40-05:00"
        ]
    );
}

#[test]
fn stepping_matches_one_long_iteration_over_two_years() {
    let from = utc(2025, 12, 31, 0, 0);
    let until = utc(2027, 12, 31, 0, 0);
    for (cron, zone, dst) in [
        ("*/30 * * * *", NY, DstPolicy::default()),
        (
            "30 1,2 * * *",
            NY,
            policy(GapPolicy::Skip, OverlapPolicy::Both),
        ),
        (
            "0 2 * * *",
            "Europe/Berlin",
            policy(GapPolicy::Skip, OverlapPolicy::Second),
        ),
        ("0 * * * *", "Australia/Lord_Howe", DstPolicy::default()),
        ("0 0 * * *", "America/Santiago", DstPolicy::default()),
        (
            "30 23 * * *",
            "America/Santiago",
            policy(GapPolicy::Shift, OverlapPolicy::Both),
        ),
    ] {
        let calendar = calendar(cron, zone, dst).with_bounds(None, Some(until));
        let long: Vec<Occurrence> = calendar.occurrences_after(from).collect();
        assert!(
            long.windows(2).all(|w| w[0].at < w[1].at),
            "{cron} {zone}: not ascending"
        );
        let mut stepped = Vec::new();
        let mut cursor = from;
        while let Some(next) = calendar.occurrences_after(cursor).next() {
            cursor = next.at;
            stepped.push(next);
        }
        assert_eq!(stepped, long, "{cron} {zone}");
        let fires: Vec<Occurrence> = long.iter().filter(|o| o.fires()).cloned().collect();
        let mut stepped = Vec::new();
        let mut cursor = from;
        while let Some(next) = calendar.next_fire_after(cursor) {
            cursor = next.at;
            stepped.push(next);
        }
        assert_eq!(stepped, fires, "{cron} {zone}: fires");
    }
}
