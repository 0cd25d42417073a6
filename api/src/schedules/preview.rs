//! Previews: a schedule's next occurrences and the calendar of every
//! enabled schedule over a range, computed by the same cron engine the
//! scheduler fires with (`opsc_calendar`), skipped occurrences included
//! and marked, so a daylight-saving transition shows what will happen.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, TimeDelta, Utc};
use opsc_calendar::{Calendar, CalendarError, Occurrence};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

use super::model::{
    CalendarItem, CalendarQuery, CalendarView, NextPreviewBody, NextView, OccurrenceView,
};
use super::{ScheduleError, crud};
use crate::core::Core;
use crate::store::schedule;

/// Occurrences in `next` at most, and by default.
pub const MAX_NEXT: u32 = 100;
const DEFAULT_NEXT: u32 = 10;

/// Longest calendar range.
pub const MAX_RANGE: TimeDelta = TimeDelta::days(31);

/// Calendar items at most.
pub const MAX_ITEMS: usize = 10_000;

/// The calendar of a stored schedule, within its bounds.
pub(crate) fn calendar_of(row: &schedule::Model) -> Result<Calendar, CalendarError> {
    let (dst, _) = super::view::policies(row);
    Ok(Calendar::new(&row.cron, &row.time_zone, dst)?.with_bounds(
        row.start_at.map(|t| t.to_utc()),
        row.end_at.map(|t| t.to_utc()),
    ))
}

/// The schedule's next fire after `now`; `None` when it is disabled,
/// paused, past its end, or unreadable.
pub(crate) fn next_fire(row: &schedule::Model, now: DateTime<Utc>) -> Option<Occurrence> {
    if !row.enabled || row.paused {
        return None;
    }
    calendar_of(row).ok()?.next_fire_after(now)
}

fn unreadable(row: &schedule::Model, e: &CalendarError) -> ScheduleError {
    ScheduleError::Broken(format!(
        "the stored expression of schedule {} does not read: {e}",
        row.id
    ))
}

/// The next `count` occurrences of a schedule (1 to 100, default 10),
/// skipped ones included.
pub async fn next(core: &Core, id: Uuid, count: Option<u32>) -> Result<NextView, ScheduleError> {
    let count = checked_count(count)?;
    let row = crud::find(core.db(), id).await?;
    let calendar = calendar_of(&row).map_err(|e| unreadable(&row, &e))?;
    Ok(occurrences(&calendar, count))
}

/// The next occurrences of an expression not saved yet, as a schedule
/// with it would have them; a wrong expression, zone or bound is a 422
/// naming its field, as when the schedule is saved.
pub fn next_of(body: &NextPreviewBody) -> Result<NextView, ScheduleError> {
    let count = checked_count(body.count)?;
    for (path, at) in [("/start_at", body.start_at), ("/end_at", body.end_at)] {
        if at.is_some_and(|t| !opsc_calendar::in_supported_range(t)) {
            return Err(ScheduleError::invalid(
                path,
                "must be between the years 1970 and 9999",
            ));
        }
    }
    let zone = body
        .time_zone
        .as_deref()
        .unwrap_or(super::validate::DEFAULT_ZONE);
    let refused =
        |e: CalendarError| ScheduleError::invalid(&format!("/{}", e.field()), e.to_string());
    let calendar = Calendar::new(&body.cron, zone, body.dst.unwrap_or_default())
        .map_err(refused)?
        .with_bounds(body.start_at, body.end_at);
    // What a save refuses as never firing is refused here too, saying why.
    calendar.check_fires(Utc::now()).map_err(refused)?;
    Ok(occurrences(&calendar, count))
}

fn checked_count(count: Option<u32>) -> Result<u32, ScheduleError> {
    let count = count.unwrap_or(DEFAULT_NEXT);
    if (1..=MAX_NEXT).contains(&count) {
        Ok(count)
    } else {
        Err(ScheduleError::invalid(
            "/count",
            format!("must be between 1 and {MAX_NEXT}"),
        ))
    }
}

fn occurrences(calendar: &Calendar, count: u32) -> NextView {
    let items = calendar
        .occurrences_after(Utc::now())
        .take(count as usize)
        .map(|o| OccurrenceView {
            at: o.at,
            local: o.local_rfc3339(),
            kind: o.kind,
        })
        .collect();
    NextView { items }
}

/// Every occurrence of every enabled schedule in `[from, to)` (31 days at
/// most), oldest first, at most [`MAX_ITEMS`].
pub async fn calendar(core: &Core, q: &CalendarQuery) -> Result<CalendarView, ScheduleError> {
    if !opsc_calendar::in_supported_range(q.from) {
        return Err(ScheduleError::invalid(
            "/from",
            "must be between the years 1970 and 9999",
        ));
    }
    if q.to <= q.from {
        return Err(ScheduleError::invalid("/to", "must be after from"));
    }
    if q.to - q.from > MAX_RANGE {
        return Err(ScheduleError::invalid(
            "/to",
            "the range may span 31 days at most",
        ));
    }
    let rows = schedule::Entity::find()
        .filter(schedule::Column::Enabled.eq(true))
        .order_by_asc(schedule::Column::Name)
        .all(core.db())
        .await?;
    let calendars: Vec<(&schedule::Model, Calendar)> = rows
        .iter()
        .filter_map(|row| match calendar_of(row) {
            Ok(c) => Some((row, c)),
            Err(e) => {
                tracing::warn!(schedule_id = %row.id, error = %e, "Stored schedule does not read; left out of the calendar.");
                None
            }
        })
        .collect();
    // Each schedule's occurrences come in order; merging them through a
    // heap keeps only one pending occurrence per schedule in memory.
    let after = q.from - TimeDelta::nanoseconds(1);
    let mut lanes: Vec<_> = calendars
        .iter()
        .map(|(_, c)| c.occurrences_after(after).skip_while(|o| o.at < q.from))
        .collect();
    let mut heap = BinaryHeap::new();
    for (i, lane) in lanes.iter_mut().enumerate() {
        if let Some(o) = lane.next().filter(|o| o.at < q.to) {
            heap.push(Reverse(Pending(o.at, i, o)));
        }
    }
    let mut items = Vec::new();
    let mut truncated = false;
    while let Some(Reverse(Pending(_, i, o))) = heap.pop() {
        if items.len() == MAX_ITEMS {
            truncated = true;
            break;
        }
        let row = calendars[i].0;
        items.push(CalendarItem {
            schedule_id: row.id,
            schedule_name: row.name.clone(),
            job_id: row.job_id,
            at: o.at,
            local: o.local_rfc3339(),
            kind: o.kind,
        });
        if let Some(next) = lanes[i].next().filter(|n| n.at < q.to) {
            heap.push(Reverse(Pending(next.at, i, next)));
        }
    }
    Ok(CalendarView { items, truncated })
}

/// An occurrence waiting in the merge, ordered by instant, then schedule.
struct Pending(DateTime<Utc>, usize, Occurrence);

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.0, self.1) == (other.0, other.1)
    }
}

impl Eq for Pending {}

impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Pending {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(other.0, other.1))
    }
}
