//! The pure decisions both the api (rule previews, validation) and the
//! notifier make the same way: whether a rule matches a notice, whether a
//! user is in quiet hours, what a subscription covers. And the checks a
//! rule, preference or quiet-hours setting must pass before it is saved.

use chrono::{DateTime, Datelike, NaiveTime, Utc, Weekday};
use chrono_tz::Tz;

use super::{
    DEFAULT_SLOW_MARGIN_PCT, Notice, NotifyTrigger, QuietHours, RuleDoc, Subscriptions, TimeOfDay,
};
use crate::job_check::PathError;

/// `HH:MM` as a time of day.
pub fn parse_hhmm(text: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").ok()
}

/// `mon` … `sun` as a weekday.
pub fn parse_day(text: &str) -> Option<Weekday> {
    match text {
        "mon" => Some(Weekday::Mon),
        "tue" => Some(Weekday::Tue),
        "wed" => Some(Weekday::Wed),
        "thu" => Some(Weekday::Thu),
        "fri" => Some(Weekday::Fri),
        "sat" => Some(Weekday::Sat),
        "sun" => Some(Weekday::Sun),
        _ => None,
    }
}

/// Whether `at` (in `zone`) falls in the daily range `from`..`to` on one
/// of `days` (of the range's start; empty: every day). `from` > `to`
/// spans midnight; `from` == `to` is the whole day.
pub fn in_daily_range(
    at: DateTime<Utc>,
    zone: Tz,
    from: NaiveTime,
    to: NaiveTime,
    days: &[Weekday],
) -> bool {
    let local = at.with_timezone(&zone);
    let t = local.time();
    let day = local.weekday();
    let on = |d: Weekday| days.is_empty() || days.contains(&d);
    if from == to {
        return on(day);
    }
    if from < to {
        return t >= from && t < to && on(day);
    }
    // Spans midnight: the evening part belongs to today, the morning part to yesterday.
    (t >= from && on(day)) || (t < to && on(day.pred()))
}

fn range_check(
    path: &str,
    from: &str,
    to: &str,
    zone: Option<&str>,
    days: &[String],
    errors: &mut Vec<PathError>,
) {
    if parse_hhmm(from).is_none() {
        errors.push(PathError::new(
            format!("{path}/from"),
            format!("'{from}' is not a time of day (HH:MM)"),
        ));
    }
    if parse_hhmm(to).is_none() {
        errors.push(PathError::new(
            format!("{path}/to"),
            format!("'{to}' is not a time of day (HH:MM)"),
        ));
    }
    if let Some(z) = zone
        && z.parse::<Tz>().is_err()
    {
        errors.push(PathError::new(
            format!("{path}/zone"),
            format!("'{z}' is not an IANA time zone"),
        ));
    }
    for (i, d) in days.iter().enumerate() {
        if parse_day(d).is_none() {
            errors.push(PathError::new(
                format!("{path}/days/{i}"),
                format!("'{d}' is not a weekday (mon … sun)"),
            ));
        }
    }
}

impl TimeOfDay {
    /// Whether `at` is inside the range (an unreadable range never matches).
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let (Some(from), Some(to), Ok(zone)) = (
            parse_hhmm(&self.from),
            parse_hhmm(&self.to),
            self.zone.parse::<Tz>(),
        ) else {
            return false;
        };
        let days: Vec<Weekday> = self.days.iter().filter_map(|d| parse_day(d)).collect();
        in_daily_range(at, zone, from, to, &days)
    }
}

impl QuietHours {
    /// Problems with these quiet hours, at `path`.
    pub fn check(&self, path: &str) -> Vec<PathError> {
        let mut errors = Vec::new();
        range_check(path, &self.from, &self.to, None, &self.days, &mut errors);
        errors
    }

    /// Whether `at` is inside the quiet hours in `zone` (an unreadable
    /// setting or zone is never quiet).
    pub fn contains(&self, at: DateTime<Utc>, zone: &str) -> bool {
        let (Some(from), Some(to), Ok(zone)) = (
            parse_hhmm(&self.from),
            parse_hhmm(&self.to),
            zone.parse::<Tz>(),
        ) else {
            return false;
        };
        let days: Vec<Weekday> = self.days.iter().filter_map(|d| parse_day(d)).collect();
        in_daily_range(at, zone, from, to, &days)
    }
}

impl Subscriptions {
    /// Whether these subscriptions cover `notice` (its job by id or tag,
    /// its targets' groups).
    pub fn covers(&self, notice: &Notice) -> bool {
        let job = notice.job();
        if let Some(j) = job
            && (self.job_ids.contains(&j.id) || j.tags.iter().any(|t| self.tags.contains(t)))
        {
            return true;
        }
        let groups = notice
            .run
            .as_ref()
            .map(|r| r.group_ids.as_slice())
            .or_else(|| notice.target.as_ref().map(|t| t.group_ids.as_slice()))
            .unwrap_or_default();
        groups.iter().any(|g| self.group_ids.contains(g))
    }
}

/// Largest `after_failures`, throttle `max`, escalation `after_failures`.
pub const MAX_COUNT: u32 = 1000;
/// Longest throttle period, in minutes (a week).
pub const MAX_PERIOD_MINUTES: u32 = 10_080;

impl RuleDoc {
    /// Problems with this rule that its schema cannot express.
    pub fn check(&self) -> Vec<PathError> {
        let mut e = Vec::new();
        if self.name.trim().is_empty() || self.name.chars().count() > 128 {
            e.push(PathError::new("/name", "must be 1 to 128 characters"));
        }
        if self.triggers.is_empty() {
            e.push(PathError::new(
                "/triggers",
                "a rule needs at least one trigger",
            ));
        }
        if self.send_to.is_empty() {
            e.push(PathError::new(
                "/send_to",
                "a rule needs at least one channel to send to",
            ));
        }
        if let Some(t) = &self.conditions.time_of_day {
            range_check(
                "/conditions/time_of_day",
                &t.from,
                &t.to,
                Some(&t.zone),
                &t.days,
                &mut e,
            );
        }
        if let (Some(a), Some(b)) = (
            self.conditions.min_duration_ms,
            self.conditions.max_duration_ms,
        ) && a > b
        {
            e.push(PathError::new(
                "/conditions/max_duration_ms",
                "must not be below min_duration_ms",
            ));
        }
        if self.conditions.slow_margin_pct.is_some_and(|m| m > 10_000) {
            e.push(PathError::new(
                "/conditions/slow_margin_pct",
                "must be between 0 and 10000",
            ));
        }
        if self
            .after_failures
            .is_some_and(|n| !(1..=MAX_COUNT).contains(&n))
        {
            e.push(PathError::new(
                "/after_failures",
                format!("must be between 1 and {MAX_COUNT}"),
            ));
        }
        if let Some(t) = &self.throttle {
            if !(1..=MAX_COUNT).contains(&t.max) {
                e.push(PathError::new(
                    "/throttle/max",
                    format!("must be between 1 and {MAX_COUNT}"),
                ));
            }
            if !(1..=MAX_PERIOD_MINUTES).contains(&t.per_minutes) {
                e.push(PathError::new(
                    "/throttle/per_minutes",
                    format!("must be between 1 and {MAX_PERIOD_MINUTES}"),
                ));
            }
        }
        if let Some(x) = &self.escalation {
            if x.after_failures.is_none() && x.unacked_minutes.is_none() {
                e.push(PathError::new(
                    "/escalation",
                    "needs after_failures, unacked_minutes or both",
                ));
            }
            if x.after_failures
                .is_some_and(|n| !(1..=MAX_COUNT).contains(&n))
            {
                e.push(PathError::new(
                    "/escalation/after_failures",
                    format!("must be between 1 and {MAX_COUNT}"),
                ));
            }
            if x.unacked_minutes
                .is_some_and(|n| !(1..=MAX_PERIOD_MINUTES).contains(&n))
            {
                e.push(PathError::new(
                    "/escalation/unacked_minutes",
                    format!("must be between 1 and {MAX_PERIOD_MINUTES}"),
                ));
            }
            if x.send_to.is_empty() {
                e.push(PathError::new(
                    "/escalation/send_to",
                    "an escalation needs at least one channel to send to",
                ));
            }
        }
        e
    }

    /// The triggers of `notice` this rule listens for, when its conditions
    /// hold at `at`; empty when it does not match. `after_failures`,
    /// throttles and escalation are the notifier's (they need the job's
    /// state over time); `recovered` is always let through to rules that
    /// listen for it.
    pub fn matches(&self, notice: &Notice, at: DateTime<Utc>) -> Vec<NotifyTrigger> {
        if !self.enabled {
            return Vec::new();
        }
        let c = &self.conditions;
        let margin = c.slow_margin_pct.unwrap_or(DEFAULT_SLOW_MARGIN_PCT);
        let wanted: Vec<NotifyTrigger> = notice
            .triggers(margin)
            .into_iter()
            .filter(|t| self.triggers.contains(t))
            .collect();
        if wanted.is_empty() {
            return wanted;
        }
        let job = notice.job();
        let any = |list_empty: bool, hit: bool| list_empty || hit;
        let job_ok = any(
            c.job_ids.is_empty(),
            job.is_some_and(|j| c.job_ids.contains(&j.id)),
        ) && any(
            c.job_tags.is_empty(),
            job.is_some_and(|j| j.tags.iter().any(|t| c.job_tags.contains(t))),
        ) && any(
            c.job_owner_ids.is_empty(),
            job.is_some_and(|j| j.owner_id.is_some_and(|o| c.job_owner_ids.contains(&o))),
        );
        let run = notice.run.as_ref();
        let status_ok = any(
            c.statuses.is_empty(),
            run.is_some_and(|r| c.statuses.contains(&r.status)),
        );
        let duration = run.and_then(|r| r.duration_ms);
        let duration_ok = c
            .min_duration_ms
            .is_none_or(|m| duration.is_some_and(|d| d >= m))
            && c.max_duration_ms
                .is_none_or(|m| duration.is_some_and(|d| d <= m));
        let groups = run
            .map(|r| r.group_ids.as_slice())
            .or_else(|| notice.target.as_ref().map(|t| t.group_ids.as_slice()))
            .unwrap_or_default();
        let group_ok = any(
            c.target_group_ids.is_empty(),
            groups.iter().any(|g| c.target_group_ids.contains(g)),
        );
        let schedule = run
            .and_then(|r| r.schedule.as_ref().map(|s| s.id))
            .or_else(|| notice.schedule.as_ref().map(|s| s.schedule_id));
        let schedule_ok = any(
            c.schedule_ids.is_empty(),
            schedule.is_some_and(|s| c.schedule_ids.contains(&s)),
        );
        let time_ok = c.time_of_day.as_ref().is_none_or(|t| t.contains(at));
        if job_ok && status_ok && duration_ok && group_ok && schedule_ok && time_ok {
            wanted
        } else {
            Vec::new()
        }
    }
}
