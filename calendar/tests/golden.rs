//! The golden tables: every zone and daylight-saving change of 2025-2029,
//! under every policy, against the checked-in output of an independent
//! oracle (`tests/golden/generate.py`, Python's `zoneinfo`). This test only
//! reads the tables; regenerate them by running the script.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use opsc_calendar::{Calendar, Occurrence, OccurrenceKind};
use opsc_proto::schedule::{DstPolicy, GapPolicy, OverlapPolicy};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
struct Case {
    case: u32,
    zone: String,
    cron: String,
    gap: GapPolicy,
    overlap: OverlapPolicy,
    after: DateTime<Utc>,
    until: DateTime<Utc>,
    note: String,
}

#[derive(Debug, Deserialize)]
struct Row {
    case: u32,
    at: DateTime<Utc>,
    local: NaiveDateTime,
    offset_secs: i32,
    kind: OccurrenceKind,
}

fn read<T: for<'de> Deserialize<'de>>(name: &str) -> Vec<T> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let mut reader = csv::Reader::from_path(&path).expect("golden table is readable");
    reader
        .deserialize()
        .collect::<Result<_, _>>()
        .expect("golden table parses")
}

fn golden() -> Vec<(Case, Vec<Occurrence>)> {
    let mut rows: BTreeMap<u32, Vec<Occurrence>> = BTreeMap::new();
    for row in read::<Row>("occurrences.csv") {
        rows.entry(row.case).or_default().push(Occurrence {
            at: row.at,
            local: row.local,
            offset_secs: row.offset_secs,
            kind: row.kind,
        });
    }
    read::<Case>("cases.csv")
        .into_iter()
        .map(|case| {
            let expected = rows.remove(&case.case).unwrap_or_default();
            (case, expected)
        })
        .collect()
}

fn calendar(case: &Case) -> Calendar {
    let dst = DstPolicy {
        gap: case.gap,
        overlap: case.overlap,
    };
    Calendar::new(&case.cron, &case.zone, dst)
        .expect("golden expression and zone are valid")
        .with_bounds(None, Some(case.until))
}

fn describe(case: &Case) -> String {
    format!(
        "case {} {} `{}` gap={:?} overlap={:?} ({}) after {}",
        case.case, case.zone, case.cron, case.gap, case.overlap, case.note, case.after
    )
}

/// Every failure is collected, so one run shows the whole picture.
fn check(failures: &mut String, what: &str, actual: &[Occurrence], expected: &[Occurrence]) {
    if actual != expected {
        let _ = writeln!(
            failures,
            "{what}\n  expected {expected:#?}\n  actual   {actual:#?}"
        );
    }
}

#[test]
fn tables_cover_every_zone_and_policy() {
    let cases = golden();
    assert!(cases.len() > 3000, "{} cases", cases.len());
    for zone in [
        "America/Los_Angeles",
        "America/New_York",
        "Europe/Berlin",
        "Australia/Lord_Howe",
        "Australia/Sydney",
        "America/Santiago",
        "Asia/Kolkata",
        "Atlantic/Reykjavik",
    ] {
        assert!(cases.iter().any(|(c, _)| c.zone == zone), "{zone}");
    }
    let kinds: Vec<OccurrenceKind> = cases
        .iter()
        .flat_map(|(_, o)| o.iter().map(|o| o.kind))
        .collect();
    for kind in [
        OccurrenceKind::Regular,
        OccurrenceKind::ShiftedFromGap,
        OccurrenceKind::SkippedGap,
        OccurrenceKind::OverlapFirst,
        OccurrenceKind::OverlapSecond,
    ] {
        assert!(kinds.contains(&kind), "{kind:?}");
    }
}

#[test]
fn one_long_iteration_matches_the_oracle() {
    let mut failures = String::new();
    for (case, expected) in golden() {
        let actual: Vec<Occurrence> = calendar(&case).occurrences_after(case.after).collect();
        check(&mut failures, &describe(&case), &actual, &expected);
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn step_by_step_iteration_matches_the_oracle() {
    // The scheduler's way: ask again after each occurrence it handled.
    let mut failures = String::new();
    for (case, expected) in golden() {
        let calendar = calendar(&case);
        let mut actual = Vec::new();
        let mut cursor = case.after;
        while let Some(next) = calendar.occurrences_after(cursor).next() {
            assert!(next.at > cursor, "{}: not after {cursor}", describe(&case));
            cursor = next.at;
            actual.push(next);
        }
        check(&mut failures, &describe(&case), &actual, &expected);

        let fires: Vec<Occurrence> = expected.iter().filter(|o| o.fires()).cloned().collect();
        let mut actual = Vec::new();
        let mut cursor = case.after;
        while let Some(next) = calendar.next_fire_after(cursor) {
            cursor = next.at;
            actual.push(next);
        }
        check(
            &mut failures,
            &format!("fires of {}", describe(&case)),
            &actual,
            &fires,
        );
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn iteration_from_any_point_yields_the_rest() {
    // Starting a second before, or half a second after, each occurrence —
    // inside overlaps too — yields exactly the oracle's remainder.
    let mut failures = String::new();
    for (case, expected) in golden() {
        let calendar = calendar(&case);
        for (index, occurrence) in expected.iter().enumerate() {
            for (from, rest) in [
                (occurrence.at - TimeDelta::seconds(1), &expected[index..]),
                (
                    occurrence.at + TimeDelta::milliseconds(500),
                    &expected[index + 1..],
                ),
            ] {
                let actual: Vec<Occurrence> = calendar.occurrences_after(from).collect();
                let what = format!("{} from {from}", describe(&case));
                check(&mut failures, &what, &actual, rest);
            }
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn local_rfc3339_shows_the_instant_on_the_zone_clock() {
    for (_, expected) in golden() {
        for occurrence in expected {
            let shown = occurrence.local_rfc3339();
            let parsed = DateTime::parse_from_rfc3339(&shown).expect("rfc3339");
            assert_eq!(parsed, occurrence.at, "{shown}");
            assert_eq!(
                parsed.offset().local_minus_utc(),
                occurrence.offset_secs,
                "{shown}"
            );
        }
    }
}
