//! The checks a window passes before it is stored: its name, its timing
//! (by the calendar crate the scheduler uses: zone, weekdays, duration,
//! bounds), and its scope — something covered, and every job, group and
//! target id existing. Every problem is located (`/timing/days`,
//! `/scope/groups/1` …).

use std::collections::HashSet;

use chrono::NaiveTime;
use opsc_proto::job_check::PathError;
use opsc_proto::schedule::{WindowFirePolicy, WindowScope, WindowTiming};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{TargetPolicy, TimingBody, WindowBody, WindowError};
use crate::core::Core;
use crate::store::{job, target, target_group};

/// Longest name, in characters.
const MAX_NAME: usize = 100;

/// Longest description, in characters.
const MAX_DESCRIPTION: usize = 4000;

/// Most ids in one list of a scope.
const MAX_IDS: usize = 1000;

/// The zone of a weekly window that names none.
pub(crate) const DEFAULT_ZONE: &str = "UTC";

/// A window that passed every check, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct Valid {
    pub name: String,
    pub description: String,
    pub enabled: bool,
    pub timing: WindowTiming,
    pub scope: WindowScope,
    pub fire_policy: WindowFirePolicy,
    pub target_policy: TargetPolicy,
}

/// The timing the API body names, or where it is wrong.
pub(crate) fn timing_of(body: &TimingBody) -> Result<WindowTiming, PathError> {
    Ok(match body {
        TimingBody::Once { start, end } => WindowTiming::Once {
            start: *start,
            end: *end,
        },
        TimingBody::Weekly {
            days,
            start_time,
            duration_mins,
            time_zone,
        } => {
            let parsed = NaiveTime::parse_from_str(start_time, "%H:%M")
                .ok()
                .filter(|_| start_time.len() == 5)
                .ok_or_else(|| {
                    PathError::new(
                        "/timing/start_time",
                        "must be a wall time HH:MM, 00:00 to 23:59",
                    )
                })?;
            WindowTiming::Weekly {
                days: days.clone(),
                start_time: parsed,
                duration_mins: *duration_mins,
                time_zone: time_zone.clone().unwrap_or_else(|| DEFAULT_ZONE.to_owned()),
            }
        }
    })
}

/// The problems of the window's own fields; its timing when it reads.
fn own_fields(body: &WindowBody) -> (Vec<PathError>, Option<WindowTiming>) {
    let mut errors = Vec::new();
    if body.name.trim().is_empty() || body.name.chars().count() > MAX_NAME {
        errors.push(PathError::new(
            "/name",
            format!("must be 1-{MAX_NAME} characters, not only white space"),
        ));
    }
    if body
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        errors.push(PathError::new(
            "/description",
            format!("must be at most {MAX_DESCRIPTION} characters"),
        ));
    }
    let timing = match timing_of(&body.timing) {
        Ok(t) => match opsc_calendar::check_timing(&t) {
            Ok(()) => Some(t),
            Err(e) => {
                errors.push(PathError::new(
                    format!("/timing/{}", e.field()),
                    e.to_string(),
                ));
                None
            }
        },
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let s = &body.scope;
    if !s.global && s.jobs.is_empty() && s.groups.is_empty() && s.targets.is_empty() {
        errors.push(PathError::new(
            "/scope",
            "covers nothing: set global, or name jobs, groups or targets",
        ));
    }
    for (name, ids) in [
        ("jobs", &s.jobs),
        ("groups", &s.groups),
        ("targets", &s.targets),
    ] {
        if ids.len() > MAX_IDS {
            errors.push(PathError::new(
                format!("/scope/{name}"),
                format!("at most {MAX_IDS} ids"),
            ));
        }
        let mut seen = HashSet::new();
        if let Some(i) = ids.iter().position(|id| !seen.insert(*id)) {
            errors.push(PathError::new(format!("/scope/{name}/{i}"), "named twice"));
        }
    }
    (errors, timing)
}

/// `/scope/<list>/<i>` for each id of `ids` not in `found`.
fn missing(list: &str, what: &str, ids: &[Uuid], found: &[Uuid]) -> Vec<PathError> {
    ids.iter()
        .enumerate()
        .filter(|(_, id)| !found.contains(id))
        .map(|(i, id)| PathError::new(format!("/scope/{list}/{i}"), format!("no {what} {id}")))
        .collect()
}

/// The ids of the scope that name nothing.
async fn unknown_ids(core: &Core, s: &WindowScope) -> Result<Vec<PathError>, WindowError> {
    let db = core.db();
    let mut errors = Vec::new();
    if !s.jobs.is_empty() {
        let found: Vec<Uuid> = job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .filter(job::Column::Id.is_in(s.jobs.clone()))
            .into_tuple()
            .all(db)
            .await?;
        errors.extend(missing("jobs", "job", &s.jobs, &found));
    }
    if !s.groups.is_empty() {
        let found: Vec<Uuid> = target_group::Entity::find()
            .select_only()
            .column(target_group::Column::Id)
            .filter(target_group::Column::Id.is_in(s.groups.clone()))
            .into_tuple()
            .all(db)
            .await?;
        errors.extend(missing("groups", "target group", &s.groups, &found));
    }
    if !s.targets.is_empty() {
        let found: Vec<Uuid> = target::Entity::find()
            .select_only()
            .column(target::Column::Id)
            .filter(target::Column::Id.is_in(s.targets.clone()))
            .into_tuple()
            .all(db)
            .await?;
        errors.extend(missing("targets", "target", &s.targets, &found));
    }
    Ok(errors)
}

/// Checks `body`; see the module docs.
pub(crate) async fn check(core: &Core, body: WindowBody) -> Result<Valid, WindowError> {
    let (mut errors, timing) = own_fields(&body);
    errors.extend(unknown_ids(core, &body.scope).await?);
    let Some(timing) = timing.filter(|_| errors.is_empty()) else {
        return Err(WindowError::Invalid(errors));
    };
    Ok(Valid {
        name: body.name,
        description: body.description.unwrap_or_default(),
        enabled: body.enabled.unwrap_or(true),
        timing,
        scope: body.scope,
        fire_policy: body.fire_policy.unwrap_or_default(),
        target_policy: body.target_policy.unwrap_or_default(),
    })
}
