//! What to do with the occurrences of one schedule that fell due: the
//! misfire policy, as a pure function of the calendar, the cursor and the
//! clock, so it is tested without a bus.
//!
//! An occurrence noticed within the grace period after its instant fires on
//! time. Older ones were missed (no scheduler ran, the schedule or the
//! scheduler was paused or disabled, the bus was away, the clock jumped
//! forward) and follow the schedule's [`MisfirePolicy`]; every one that
//! does not fire is accounted for by a [`Drop`].

use chrono::{DateTime, Duration, Utc};
use opsc_calendar::{Calendar, Occurrence, OccurrenceKind};
use opsc_proto::events::SkipReason;
use opsc_proto::schedule::{MisfireMode, MisfirePolicy};

/// Missed occurrences counted one by one at most, per scan.
pub(crate) const COUNT_LIMIT: u64 = 10_000;

/// One decision, in instant order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Publish a run intent for this occurrence, not before `release`.
    Fire {
        /// The occurrence.
        occurrence: Occurrence,
        /// When it may be published (staggered catch-ups).
        release: DateTime<Utc>,
        /// Whether it is a catch-up of a missed fire.
        catch_up: bool,
        /// The maintenance window that deferred it to its end, if one did.
        deferred_by: Option<uuid::Uuid>,
    },
    /// The schedule's DST policy skips this occurrence (a gap).
    Skip(Occurrence),
    /// A maintenance window skips this occurrence.
    WindowSkip {
        /// The occurrence.
        occurrence: Occurrence,
        /// The window.
        window: uuid::Uuid,
    },
    /// Consecutive missed occurrences dropped for one reason.
    Drop(Drop),
}

impl Action {
    /// The instant the action accounts for (the last one, for a drop).
    pub(crate) fn until(&self) -> DateTime<Utc> {
        match self {
            Self::Fire { occurrence, .. }
            | Self::Skip(occurrence)
            | Self::WindowSkip { occurrence, .. } => occurrence.at,
            Self::Drop(d) => d.last,
        }
    }
}

/// Missed occurrences dropped for one reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Drop {
    /// The first of them.
    pub first: DateTime<Utc>,
    /// The last of them.
    pub last: DateTime<Utc>,
    /// How many.
    pub count: u64,
    /// Whether counting stopped at [`COUNT_LIMIT`].
    pub capped: bool,
    /// Why.
    pub reason: SkipReason,
}

/// What a scan needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scan<'a> {
    /// The schedule's calendar.
    pub calendar: &'a Calendar,
    /// Occurrences at or before this instant are handled already.
    pub after: DateTime<Utc>,
    /// The clock.
    pub now: DateTime<Utc>,
    /// Lateness up to which an occurrence fires on time.
    pub grace: Duration,
    /// The misfire policy.
    pub policy: MisfirePolicy,
}

/// The actions for every occurrence in `(after, now]`, in instant order.
pub(crate) fn scan(s: Scan<'_>) -> Vec<Action> {
    if s.now <= s.after {
        // A clock that went back: nothing at or before the cursor replays.
        return Vec::new();
    }
    let oldest_kept =
        s.now - Duration::seconds(i64::try_from(s.policy.max_age_secs).unwrap_or(i64::MAX / 2));
    let mut actions = Vec::new();
    let mut from = s.after;
    // Too old: counted (up to the limit), never listed one by one.
    if from < oldest_kept {
        let mut old = s
            .calendar
            .occurrences_after(from)
            .take_while(|o| o.at < oldest_kept)
            .filter(Occurrence::fires);
        if let Some(first) = old.next() {
            let mut last = first.at;
            let mut count = 1;
            for o in old.by_ref() {
                last = o.at;
                count += 1;
                if count >= COUNT_LIMIT {
                    break;
                }
            }
            let capped = count >= COUNT_LIMIT && old.next().is_some();
            actions.push(Action::Drop(Drop {
                first: first.at,
                last: if capped { oldest_kept } else { last },
                count,
                capped,
                reason: SkipReason::TooOld,
            }));
        }
        from = oldest_kept - Duration::milliseconds(1);
    }
    let keep = match s.policy.mode {
        MisfireMode::Skip => 0,
        MisfireMode::RunOnce => 1,
        MisfireMode::RunAll => usize::try_from(s.policy.max_count).unwrap_or(usize::MAX),
    };
    let mut missed = Missed::new(keep, drop_reason(s.policy.mode));
    let mut on_time = Vec::new();
    'scan: loop {
        let mut seen: u64 = 0;
        let mut first_at = None;
        for o in s
            .calendar
            .occurrences_after(from)
            .take_while(|o| o.at <= s.now)
        {
            if o.kind == OccurrenceKind::SkippedGap {
                actions.push(Action::Skip(o));
                continue;
            }
            if s.now - o.at <= s.grace {
                on_time.push(o);
                continue;
            }
            seen += 1;
            let at = o.at;
            first_at.get_or_insert(at);
            missed.push(o);
            if seen >= COUNT_LIMIT && !missed.dropped_capped {
                // A frequent schedule missed for long: jump to just before
                // the fires that are kept, instead of walking every one.
                let span = at - first_at.unwrap_or(at);
                let step = span / i32::try_from(seen).unwrap_or(i32::MAX);
                let back = step * i32::try_from(keep + 2).unwrap_or(i32::MAX) + s.grace;
                let jump = s.now - back;
                if jump > at {
                    missed.cap(jump);
                    from = jump;
                    continue 'scan;
                }
            }
        }
        break;
    }
    actions.extend(missed.finish(s.now, s.policy));
    let release = actions
        .iter()
        .filter_map(|a| match a {
            Action::Fire { release, .. } => Some(*release),
            _ => None,
        })
        .max()
        .unwrap_or(s.now)
        .max(s.now);
    actions.extend(on_time.into_iter().map(|occurrence| Action::Fire {
        occurrence,
        release,
        catch_up: false,
        deferred_by: None,
    }));
    actions.sort_by_key(Action::until);
    actions
}

fn drop_reason(mode: MisfireMode) -> SkipReason {
    match mode {
        MisfireMode::Skip => SkipReason::MisfireSkip,
        MisfireMode::RunOnce => SkipReason::Superseded,
        MisfireMode::RunAll => SkipReason::OverMaxCount,
    }
}

/// Missed occurrences, oldest first: the newest `keep` are kept for
/// catch-up, the others are counted as dropped.
#[derive(Debug)]
struct Missed {
    keep: usize,
    kept: std::collections::VecDeque<Occurrence>,
    dropped: Option<Drop>,
    dropped_capped: bool,
}

impl Missed {
    fn new(keep: usize, reason: SkipReason) -> Self {
        Self {
            keep,
            kept: std::collections::VecDeque::new(),
            dropped: Some(Drop {
                first: DateTime::<Utc>::MIN_UTC,
                last: DateTime::<Utc>::MIN_UTC,
                count: 0,
                capped: false,
                reason,
            }),
            dropped_capped: false,
        }
    }

    fn push(&mut self, o: Occurrence) {
        self.kept.push_back(o);
        if self.kept.len() > self.keep
            && let Some(old) = self.kept.pop_front()
        {
            self.drop_one(old.at);
        }
    }

    fn drop_one(&mut self, at: DateTime<Utc>) {
        if let Some(d) = &mut self.dropped {
            if d.count == 0 {
                d.first = at;
            }
            d.last = at;
            d.count += 1;
        }
    }

    /// Everything kept so far and up to `until` is dropped, uncounted beyond.
    fn cap(&mut self, until: DateTime<Utc>) {
        while let Some(old) = self.kept.pop_front() {
            self.drop_one(old.at);
        }
        if let Some(d) = &mut self.dropped {
            d.last = until;
            d.capped = true;
        }
        self.dropped_capped = true;
    }

    fn finish(self, now: DateTime<Utc>, policy: MisfirePolicy) -> Vec<Action> {
        let mut actions = Vec::new();
        if let Some(d) = self.dropped.filter(|d| d.count > 0) {
            actions.push(Action::Drop(d));
        }
        let stagger = Duration::milliseconds(i64::try_from(policy.stagger_ms).unwrap_or(0));
        let mut release = now;
        for (i, occurrence) in self.kept.into_iter().enumerate() {
            if i > 0 {
                release += stagger;
            }
            actions.push(Action::Fire {
                occurrence,
                release,
                catch_up: true,
                deferred_by: None,
            });
        }
        actions
    }
}

#[cfg(test)]
mod tests;
