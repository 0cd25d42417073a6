use chrono::{DateTime, Duration, TimeZone as _, Utc};
use opsc_calendar::Calendar;
use opsc_proto::events::SkipReason;
use opsc_proto::schedule::{DstPolicy, MisfireMode, MisfirePolicy};

use super::{Action, COUNT_LIMIT, Scan, scan};

fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, h, m, s).unwrap()
}

fn every_minute() -> Calendar {
    Calendar::new("* * * * *", "UTC", DstPolicy::default()).unwrap()
}

fn policy(mode: MisfireMode) -> MisfirePolicy {
    MisfirePolicy {
        mode,
        ..MisfirePolicy::default()
    }
}

fn run(cal: &Calendar, after: DateTime<Utc>, now: DateTime<Utc>, p: MisfirePolicy) -> Vec<Action> {
    scan(Scan {
        calendar: cal,
        after,
        now,
        grace: Duration::seconds(1),
        policy: p,
    })
}

fn fires(actions: &[Action]) -> Vec<(DateTime<Utc>, DateTime<Utc>, bool)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Fire {
                occurrence,
                release,
                catch_up,
                ..
            } => Some((occurrence.at, *release, *catch_up)),
            _ => None,
        })
        .collect()
}

fn drops(actions: &[Action]) -> Vec<&super::Drop> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Drop(d) => Some(d),
            _ => None,
        })
        .collect()
}

#[test]
fn a_fire_noticed_within_the_grace_fires_on_time() {
    let now = t(10, 1, 0) + Duration::milliseconds(300);
    let a = run(&every_minute(), t(10, 0, 0), now, MisfirePolicy::default());
    assert_eq!(fires(&a), vec![(t(10, 1, 0), now, false)]);
    assert!(drops(&a).is_empty());
}

#[test]
fn nothing_at_or_before_the_cursor_fires_again_when_the_clock_goes_back() {
    assert!(
        run(
            &every_minute(),
            t(10, 5, 0),
            t(9, 0, 0),
            MisfirePolicy::default()
        )
        .is_empty()
    );
    assert!(
        run(
            &every_minute(),
            t(10, 5, 0),
            t(10, 5, 0),
            MisfirePolicy::default()
        )
        .is_empty()
    );
}

#[test]
fn run_once_catches_up_the_latest_missed_fire_and_drops_the_rest() {
    let now = t(10, 5, 30);
    let a = run(
        &every_minute(),
        t(10, 0, 0),
        now,
        policy(MisfireMode::RunOnce),
    );
    assert_eq!(fires(&a), vec![(t(10, 5, 0), now, true)]);
    let d = drops(&a);
    assert_eq!(d.len(), 1);
    assert_eq!(
        (d[0].first, d[0].last, d[0].count, d[0].reason),
        (t(10, 1, 0), t(10, 4, 0), 4, SkipReason::Superseded)
    );
}

#[test]
fn run_all_catches_up_at_most_max_count_staggered_oldest_first() {
    let now = t(10, 5, 30);
    let p = MisfirePolicy {
        mode: MisfireMode::RunAll,
        max_count: 3,
        stagger_ms: 1000,
        ..MisfirePolicy::default()
    };
    let a = run(&every_minute(), t(10, 0, 0), now, p);
    assert_eq!(
        fires(&a),
        vec![
            (t(10, 3, 0), now, true),
            (t(10, 4, 0), now + Duration::seconds(1), true),
            (t(10, 5, 0), now + Duration::seconds(2), true),
        ]
    );
    let d = drops(&a);
    assert_eq!(
        (d[0].first, d[0].last, d[0].count, d[0].reason),
        (t(10, 1, 0), t(10, 2, 0), 2, SkipReason::OverMaxCount)
    );
}

#[test]
fn an_on_time_fire_waits_for_the_staggered_catch_ups_before_it() {
    let cal = Calendar::new("* * * * * *", "UTC", DstPolicy::default()).unwrap();
    let now = t(10, 0, 5) + Duration::milliseconds(200);
    let p = MisfirePolicy {
        mode: MisfireMode::RunAll,
        max_count: 10,
        stagger_ms: 100,
        ..MisfirePolicy::default()
    };
    let f = fires(&run(&cal, t(10, 0, 0), now, p));
    // 10:00:01..10:00:04 missed (more than a second late), 10:00:05 on time.
    assert_eq!(f.len(), 5);
    assert!(f[..4].iter().all(|x| x.2));
    assert_eq!(
        f[4],
        (t(10, 0, 5), now + Duration::milliseconds(300), false)
    );
}

#[test]
fn skip_drops_every_missed_fire_with_its_reason() {
    let a = run(
        &every_minute(),
        t(10, 0, 0),
        t(10, 5, 30),
        policy(MisfireMode::Skip),
    );
    assert!(fires(&a).is_empty());
    let d = drops(&a);
    assert_eq!((d[0].count, d[0].reason), (5, SkipReason::MisfireSkip));
}

#[test]
fn missed_fires_older_than_the_max_age_are_dropped_as_too_old() {
    let p = MisfirePolicy {
        max_age_secs: 120,
        ..MisfirePolicy::default()
    };
    let now = t(10, 5, 30);
    let a = run(&every_minute(), t(9, 0, 0), now, p);
    let d = drops(&a);
    assert_eq!(d[0].reason, SkipReason::TooOld);
    assert_eq!(
        (d[0].first, d[0].last, d[0].count),
        (t(9, 1, 0), t(10, 3, 0), 63)
    );
    assert_eq!(
        (d[1].reason, d[1].first, d[1].count),
        (SkipReason::Superseded, t(10, 4, 0), 1)
    );
    assert_eq!(fires(&a), vec![(t(10, 5, 0), now, true)]);
}

#[test]
fn an_overnight_outage_does_not_run_the_night_job_the_next_morning() {
    // AWX: catch-up without an age limit ran patching at 09:00.
    let cal = Calendar::new("0 2 * * *", "UTC", DstPolicy::default()).unwrap();
    let p = MisfirePolicy {
        max_age_secs: 3600,
        ..MisfirePolicy::default()
    };
    let a = run(&cal, t(1, 0, 0), t(9, 0, 0), p);
    assert!(fires(&a).is_empty());
    assert_eq!(drops(&a)[0].reason, SkipReason::TooOld);
}

#[test]
fn a_frequent_schedule_missed_for_days_is_counted_with_a_cap_and_still_catches_up() {
    let cal = Calendar::new("* * * * * *", "UTC", DstPolicy::default()).unwrap();
    let now = t(10, 0, 0);
    let p = MisfirePolicy {
        max_age_secs: 604_800,
        ..MisfirePolicy::default()
    };
    let a = run(&cal, now - Duration::days(3), now, p);
    let caught_up: Vec<_> = fires(&a).into_iter().filter(|f| f.2).collect();
    assert_eq!(caught_up.len(), 1);
    let at = caught_up[0].0;
    assert!(
        at >= now - Duration::seconds(5) && at < now - Duration::seconds(1),
        "{caught_up:?}"
    );
    let d = drops(&a);
    assert_eq!(d.len(), 1);
    assert!(d[0].capped && d[0].count >= COUNT_LIMIT);
}

#[test]
fn every_missed_fire_is_accounted_for_exactly_once() {
    let cal = every_minute();
    let after = t(10, 0, 0);
    let now = t(10, 30, 30);
    for mode in [MisfireMode::Skip, MisfireMode::RunOnce, MisfireMode::RunAll] {
        let a = run(&cal, after, now, policy(mode));
        let fired = fires(&a).len() as u64;
        let dropped: u64 = drops(&a).iter().map(|d| d.count).sum();
        assert_eq!(fired + dropped, 30, "{mode:?}");
        let mut last = after;
        for action in &a {
            assert!(action.until() > last, "{mode:?}: out of order");
            last = action.until();
        }
    }
}
