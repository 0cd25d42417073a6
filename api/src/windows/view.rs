//! How a stored window is shown — its timing as the API takes it, whether
//! it is open now and until when, its next openings — and the calendar of
//! every enabled window over a range.

use chrono::{DateTime, TimeDelta, Utc};
use opsc_proto::schedule::{WindowDoc, WindowFirePolicy, WindowScope, WindowTiming};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};

use super::{
    OpeningView, TargetPolicy, TimingBody, WindowBody, WindowCalendarItem, WindowCalendarQuery,
    WindowCalendarView, WindowError, WindowView,
};
use crate::core::Core;
use crate::store::maintenance_window;

/// Longest calendar range.
pub const MAX_RANGE: TimeDelta = TimeDelta::days(31);

/// Calendar items at most.
pub const MAX_ITEMS: usize = 10_000;

/// Openings shown as `next_openings`.
const NEXT: usize = 3;

/// How far ahead `next_openings` looks: three weekly openings fit.
const NEXT_HORIZON: TimeDelta = TimeDelta::days(22);

/// The timing a row holds.
pub(crate) fn timing(row: &maintenance_window::Model) -> Result<WindowTiming, WindowError> {
    serde_json::from_value(row.timing.clone()).map_err(|e| {
        WindowError::Broken(format!(
            "the stored timing of window {} does not read: {e}",
            row.id
        ))
    })
}

/// The scope a row holds.
pub(crate) fn scope(row: &maintenance_window::Model) -> WindowScope {
    serde_json::from_value(row.scope.clone()).unwrap_or_default()
}

/// The fire policy a row holds.
pub(crate) fn fire_policy(row: &maintenance_window::Model) -> WindowFirePolicy {
    serde_json::from_value(json!(row.fire_policy)).unwrap_or_default()
}

/// The target policy a row holds.
pub(crate) fn target_policy(row: &maintenance_window::Model) -> TargetPolicy {
    serde_json::from_value(json!(row.target_policy)).unwrap_or_default()
}

/// The timing as the API shows it.
fn timing_body(t: &WindowTiming) -> TimingBody {
    match t {
        WindowTiming::Once { start, end } => TimingBody::Once {
            start: *start,
            end: *end,
        },
        WindowTiming::Weekly {
            days,
            start_time,
            duration_mins,
            time_zone,
        } => TimingBody::Weekly {
            days: days.clone(),
            start_time: start_time.format("%H:%M").to_string(),
            duration_mins: *duration_mins,
            time_zone: Some(time_zone.clone()),
        },
    }
}

/// The view of `row` at `now`.
pub(crate) fn view(
    row: &maintenance_window::Model,
    now: DateTime<Utc>,
) -> Result<WindowView, WindowError> {
    let t = timing(row)?;
    let closes_at = if row.enabled {
        opsc_calendar::open_at(&t, now).map_err(|e| WindowError::Broken(e.to_string()))?
    } else {
        None
    };
    let next_openings = if row.enabled {
        opsc_calendar::openings(&t, now, now + NEXT_HORIZON)
            .into_iter()
            .filter(|(opens, _)| *opens > now)
            .take(NEXT)
            .map(|(opens_at, closes_at)| OpeningView {
                opens_at,
                closes_at,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(WindowView {
        id: row.id,
        name: row.name.clone(),
        description: row.description.clone(),
        enabled: row.enabled,
        timing: timing_body(&t),
        scope: scope(row),
        fire_policy: fire_policy(row),
        target_policy: target_policy(row),
        revision: u64::try_from(row.revision).unwrap_or(0),
        owner_id: row.owner_id,
        created_at: row.created_at.to_utc(),
        updated_at: row.updated_at.to_utc(),
        open_now: closes_at.is_some(),
        closes_at,
        next_openings,
    })
}

/// The body a stored window was saved with (for merging a `PATCH` into).
pub(crate) fn body_of(row: &maintenance_window::Model) -> Result<WindowBody, WindowError> {
    Ok(WindowBody {
        name: row.name.clone(),
        description: Some(row.description.clone()),
        enabled: Some(row.enabled),
        timing: timing_body(&timing(row)?),
        scope: scope(row),
        fire_policy: Some(fire_policy(row)),
        target_policy: Some(target_policy(row)),
    })
}

/// The KV document of a row.
pub(crate) fn doc_of(row: &maintenance_window::Model) -> Result<WindowDoc, WindowError> {
    Ok(WindowDoc {
        id: row.id,
        name: row.name.clone(),
        revision: u64::try_from(row.revision).unwrap_or(0),
        enabled: row.enabled,
        timing: timing(row)?,
        scope: scope(row),
        fire_policy: fire_policy(row),
    })
}

/// What an audit record says about a window.
pub fn summary(v: &WindowView) -> Value {
    json!({
        "name": v.name, "revision": v.revision, "enabled": v.enabled,
        "timing": v.timing, "scope": v.scope,
        "fire_policy": v.fire_policy, "target_policy": v.target_policy,
    })
}

/// Every opening of every enabled window overlapping `[from, to)`.
pub async fn calendar(
    core: &Core,
    q: &WindowCalendarQuery,
) -> Result<WindowCalendarView, WindowError> {
    if q.to <= q.from {
        return Err(WindowError::invalid("/to", "must be after from"));
    }
    if q.to - q.from > MAX_RANGE {
        return Err(WindowError::invalid("/to", "the range is at most 31 days"));
    }
    let rows = maintenance_window::Entity::find()
        .filter(maintenance_window::Column::Enabled.eq(true))
        .order_by_asc(maintenance_window::Column::Name)
        .all(core.db())
        .await?;
    let mut items = Vec::new();
    for row in &rows {
        let Ok(t) = timing(row) else { continue };
        items.extend(opsc_calendar::openings(&t, q.from, q.to).into_iter().map(
            |(opens_at, closes_at)| WindowCalendarItem {
                window_id: row.id,
                window_name: row.name.clone(),
                opens_at,
                closes_at,
            },
        ));
    }
    items.sort_by(|a, b| {
        a.opens_at
            .cmp(&b.opens_at)
            .then(a.window_name.cmp(&b.window_name))
    });
    let truncated = items.len() > MAX_ITEMS;
    items.truncate(MAX_ITEMS);
    Ok(WindowCalendarView { items, truncated })
}
