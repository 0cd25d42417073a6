//! The walk: matching wall times in instant order, each mapped to its
//! occurrence by the daylight-saving rules.
//!
//! Wall times are searched in ascending order, which is instant order except
//! inside a fall-back overlap, where the wall clock runs twice over the same
//! range. There the walk makes two passes over the range: the first with the
//! earlier offset, the second with the later one, so occurrences come out in
//! ascending instant order without buffering.

use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};
use opsc_proto::schedule::{GapPolicy, OverlapPolicy};

use crate::Calendar;
use crate::occurrence::{Occurrence, OccurrenceKind};
use crate::zone::{self, Position, Span, Wall};

/// Which instants a calendar keeps of a daylight-saving change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rules {
    /// The first instant of a repeated wall time fires.
    first: bool,
    /// The second instant of a repeated wall time fires.
    second: bool,
    /// What a wall time in a gap becomes.
    gap: OccurrenceKind,
}

impl Rules {
    /// Interval expressions keep real-time spacing whatever the policy.
    pub(crate) fn new(interval: bool, gap: GapPolicy, overlap: OverlapPolicy) -> Self {
        if interval {
            return Self {
                first: true,
                second: true,
                gap: OccurrenceKind::ShiftedFromGap,
            };
        }
        Self {
            first: overlap != OverlapPolicy::Second,
            second: overlap != OverlapPolicy::First,
            gap: match gap {
                GapPolicy::Shift => OccurrenceKind::ShiftedFromGap,
                GapPolicy::Skip => OccurrenceKind::SkippedGap,
            },
        }
    }
}

/// Where the walk is relative to overlaps.
#[derive(Debug, Clone, Copy)]
enum Pass {
    /// No overlap under way.
    Plain,
    /// Inside an overlap with the earlier offset; the second pass follows.
    First(Span),
    /// Inside an overlap with the later offset.
    Second(Span),
}

/// The occurrences of a [`Calendar`] after an instant, in strictly ascending
/// `at` order, including [`OccurrenceKind::SkippedGap`] records. Built by
/// [`Calendar::occurrences_after`].
#[derive(Debug, Clone)]
pub struct Occurrences<'a> {
    calendar: &'a Calendar,
    /// Only occurrences strictly after this instant are yielded.
    after: DateTime<Utc>,
    /// The last wall time considered.
    cursor: NaiveDateTime,
    /// Whether `cursor` itself is still to be considered.
    inclusive: bool,
    pass: Pass,
    /// An occurrence read ahead past a gap.
    peeked: Option<Occurrence>,
    /// The expression has no match left (croner gave up).
    exhausted: bool,
    /// Nothing more will be yielded.
    done: bool,
}

impl<'a> Occurrences<'a> {
    pub(crate) fn new(calendar: &'a Calendar, t: DateTime<Utc>) -> Self {
        // No occurrence before `start`: walk from just before it.
        let after = match calendar.start {
            Some(start) if start > t => start
                .checked_sub_signed(TimeDelta::nanoseconds(1))
                .unwrap_or(start),
            _ => t,
        };
        let (cursor, pass) = match zone::position(calendar.tz, after) {
            Position::Plain(wall) => (wall, Pass::Plain),
            Position::FirstPass(wall, span) => (wall, Pass::First(span)),
            Position::SecondPass(wall, span) => (wall, Pass::Second(span)),
        };
        Self {
            calendar,
            after,
            cursor,
            inclusive: false,
            pass,
            peeked: None,
            exhausted: false,
            done: false,
        }
    }

    /// The next occurrence, merged with one that shares its instant.
    ///
    /// Wall times in a gap all land on the first instant after it; when the
    /// expression also names that instant's own wall time, that regular fire
    /// wins and the gap occurrence is dropped.
    fn merged(&mut self) -> Option<Occurrence> {
        let occurrence = self.peeked.take().or_else(|| self.raw())?;
        if !matches!(
            occurrence.kind,
            OccurrenceKind::ShiftedFromGap | OccurrenceKind::SkippedGap
        ) {
            return Some(occurrence);
        }
        match self.raw() {
            Some(next) if next.at == occurrence.at => Some(next),
            next => {
                self.peeked = next;
                Some(occurrence)
            }
        }
    }

    /// The next occurrence the rules keep, in instant order.
    fn raw(&mut self) -> Option<Occurrence> {
        let calendar = self.calendar;
        let rules = calendar.rules;
        while !self.exhausted {
            let found = calendar.expr.next_wall(&self.cursor, self.inclusive);
            // Leaving an overlap's range: after the first pass comes the second.
            match (self.pass, found) {
                (Pass::First(span), found) if found.is_none_or(|w| w >= span.end) => {
                    if rules.second {
                        self.pass = Pass::Second(span);
                        self.cursor = span.start;
                    } else {
                        self.pass = Pass::Plain;
                        self.cursor = span.end;
                    }
                    self.inclusive = true;
                    continue;
                }
                (Pass::Second(span), Some(w)) if w >= span.end => self.pass = Pass::Plain,
                _ => {}
            }
            let Some(wall) = found else {
                self.exhausted = true;
                break;
            };
            self.cursor = wall;
            self.inclusive = false;
            match zone::resolve(calendar.tz, &wall) {
                Wall::Single(at) => {
                    return Some(Occurrence::new(&at, wall, OccurrenceKind::Regular));
                }
                Wall::Overlap { first, second } => match self.pass {
                    Pass::Plain => {
                        let span = zone::overlap_span(calendar.tz, wall, &first, &second);
                        self.pass = Pass::First(span);
                        if rules.first {
                            return Some(Occurrence::new(
                                &first,
                                wall,
                                OccurrenceKind::OverlapFirst,
                            ));
                        }
                    }
                    Pass::First(_) if rules.first => {
                        return Some(Occurrence::new(&first, wall, OccurrenceKind::OverlapFirst));
                    }
                    Pass::Second(_) if rules.second => {
                        return Some(Occurrence::new(
                            &second,
                            wall,
                            OccurrenceKind::OverlapSecond,
                        ));
                    }
                    Pass::First(_) | Pass::Second(_) => {}
                },
                Wall::Gap { after: Some(after) } => {
                    // Every later wall time of the gap lands on the same
                    // instant: resume at the gap's end.
                    self.cursor = after.naive_local();
                    self.inclusive = true;
                    return Some(Occurrence::new(&after, wall, rules.gap));
                }
                // A gap past the end of the zone tables: no instant to use.
                Wall::Gap { after: None } => {}
            }
        }
        None
    }
}

impl Iterator for Occurrences<'_> {
    type Item = Occurrence;

    fn next(&mut self) -> Option<Occurrence> {
        while !self.done {
            let Some(occurrence) = self.merged() else {
                self.done = true;
                break;
            };
            if occurrence.at <= self.after {
                continue;
            }
            if self.calendar.end.is_some_and(|end| occurrence.at > end) {
                self.done = true;
                break;
            }
            return Some(occurrence);
        }
        None
    }
}

impl std::iter::FusedIterator for Occurrences<'_> {}
