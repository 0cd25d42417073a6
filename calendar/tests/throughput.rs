//! The scheduler's load: 10,000 calendars, one `next_fire_after` per fire.
//! Nothing is timed here (CI machines vary); this only shows the calls
//! stay cheap enough to run in a debug test; the measured cost is in
//! docs/scheduler.md.

use chrono::{DateTime, TimeZone, Utc};
use opsc_calendar::Calendar;
use opsc_proto::schedule::DstPolicy;

const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
];

fn from() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0)
        .single()
        .expect("valid instant")
}

#[test]
fn ten_thousand_calendars_one_call_each() {
    let calendars: Vec<Calendar> = (0..10_000)
        .map(|i| {
            let cron = if i % 2 == 0 {
                "* * * * * *"
            } else {
                "0 2 * * *"
            };
            Calendar::new(cron, ZONES[i % ZONES.len()], DstPolicy::default()).expect("valid")
        })
        .collect();
    let now = from();
    let fired = calendars
        .iter()
        .filter_map(|c| c.next_fire_after(now))
        .filter(|o| o.at > now)
        .count();
    assert_eq!(fired, 10_000);
}

#[test]
fn ten_thousand_successive_fires() {
    for cron in ["* * * * * *", "0 2 * * *"] {
        let calendar =
            Calendar::new(cron, "America/New_York", DstPolicy::default()).expect("valid");
        let mut cursor = from();
        for _ in 0..10_000 {
            let next = calendar.next_fire_after(cursor).expect("fires");
            assert!(next.at > cursor);
            cursor = next.at;
        }
    }
}
