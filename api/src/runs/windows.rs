//! Maintenance windows at admission: what an open window does to a run.
//!
//! A window applies to a run when it is enabled and open now and covers
//! everything (`global`), the run's job, or one of the run's targets (named,
//! or a member of a named group, as the run would resolve them).
//!
//! - A run a person starts (trigger `manual`, `api`, `rerun`) under an
//!   applying window is refused (409, naming the windows) unless the request
//!   says `override_window: true` and comes from an admin or operator; then
//!   it runs in full, on every target, and `run.window_override` is audited
//!   with the window ids.
//! - Any other run (the bus: `schedule`, `dependency`, `retry`,
//!   `integration`) is not refused for a window — the scheduler applied the
//!   fire policy — but its targets inside a window whose `target_policy` is
//!   `exclude` are left out of the plan. Each target left out is recorded on
//!   the run as a step entry `@window` with status `skipped` and the window
//!   in `error` (`GET /api/v1/runs/{id}/steps`). When every target would be
//!   left out the run is refused, with the reason.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use chrono::{DateTime, Utc};
use opsc_proto::commands::{TargetSelection, TriggerKind};
use opsc_proto::schedule::WindowScope;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;
use uuid::Uuid;

use super::admit::{Admission, AdmitError, Resolved};
use crate::core::Core;
use crate::store::user::Role;
use crate::store::{maintenance_window, run_step, target_group};
use crate::windows::TargetPolicy;

/// The step id of the entries that record a target left out (no step id
/// can start with `@`).
pub const STEP_ID: &str = "@window";

/// A window open now.
struct Open {
    id: Uuid,
    name: String,
    scope: WindowScope,
    policy: TargetPolicy,
    closes_at: DateTime<Utc>,
    /// The targets it covers: named, and members of its groups.
    targets: HashSet<Uuid>,
}

impl Open {
    fn label(&self) -> String {
        format!(
            "{:?} ({}, open until {})",
            self.name,
            self.id,
            self.closes_at.to_rfc3339()
        )
    }
}

/// What the windows open now do to one run.
#[derive(Debug, Clone, Default)]
pub struct Verdict {
    /// Targets left out, each with the window and why.
    pub excluded: BTreeMap<Uuid, (Uuid, String)>,
    /// Windows a person overrode to start it.
    pub overridden: Vec<Uuid>,
}

impl Verdict {
    /// The targets the plan leaves out.
    pub fn skip(&self) -> BTreeSet<Uuid> {
        self.excluded.keys().copied().collect()
    }
}

/// The enabled windows open at `now`, with the targets each covers.
async fn open_now(core: &Core, now: DateTime<Utc>) -> Result<Vec<Open>, AdmitError> {
    let rows = maintenance_window::Entity::find()
        .filter(maintenance_window::Column::Enabled.eq(true))
        .all(core.db())
        .await?;
    let mut open = Vec::new();
    for row in rows {
        let Ok(timing) = crate::windows::view::timing(&row) else {
            continue;
        };
        let Ok(Some(closes_at)) = opsc_calendar::open_at(&timing, now) else {
            continue;
        };
        let scope = crate::windows::view::scope(&row);
        let mut targets: HashSet<Uuid> = scope.targets.iter().copied().collect();
        if !scope.groups.is_empty() {
            for g in target_group::Entity::find()
                .filter(target_group::Column::Id.is_in(scope.groups.clone()))
                .all(core.db())
                .await?
            {
                targets.extend(crate::targets::group_member_ids(core.db(), &g).await?);
            }
        }
        open.push(Open {
            id: row.id,
            name: row.name.clone(),
            policy: crate::windows::view::target_policy(&row),
            scope,
            closes_at,
            targets,
        });
    }
    Ok(open)
}

/// The enabled targets the run addresses: the override, else the job's
/// selection and each step's.
async fn run_targets(
    core: &Core,
    a: &Admission,
    r: &Resolved,
) -> Result<BTreeSet<Uuid>, AdmitError> {
    let selections: Vec<&TargetSelection> = match &a.targets {
        Some(sel) => vec![sel],
        None => r
            .definition
            .targets
            .iter()
            .chain(r.definition.steps.iter().filter_map(|s| s.targets.as_ref()))
            .collect(),
    };
    let mut out = BTreeSet::new();
    for sel in selections {
        out.extend(crate::targets::resolve(core.db(), sel).await?.into_keys());
    }
    Ok(out)
}

/// Decides what the open windows do to the run; see the module docs.
pub(super) async fn apply(
    core: &Core,
    a: &Admission,
    r: &Resolved,
    override_window: bool,
) -> Result<Verdict, AdmitError> {
    let open = open_now(core, Utc::now()).await?;
    if open.is_empty() {
        return Ok(Verdict::default());
    }
    let targets = run_targets(core, a, r).await?;
    let by_person = matches!(
        a.trigger.kind,
        TriggerKind::Manual | TriggerKind::Api | TriggerKind::Rerun | TriggerKind::Adhoc
    );
    if by_person {
        let hits: Vec<&Open> = open
            .iter()
            .filter(|w| {
                w.scope.global
                    || w.scope.jobs.contains(&r.job.id)
                    || targets.iter().any(|t| w.targets.contains(t))
            })
            .collect();
        if hits.is_empty() {
            return Ok(Verdict::default());
        }
        let names: Vec<String> = hits.iter().map(|w| w.label()).collect();
        if !override_window {
            return Err(AdmitError::InWindow(format!(
                "the run is inside maintenance window {}: an admin or operator may start it anyway with \"override_window\": true",
                names.join(", ")
            )));
        }
        if a.caller.is_none_or(|c| c.role == Role::Viewer) {
            return Err(AdmitError::Forbidden(
                "only admins and operators may override a maintenance window".to_owned(),
            ));
        }
        return Ok(Verdict {
            excluded: BTreeMap::new(),
            overridden: hits.iter().map(|w| w.id).collect(),
        });
    }
    let mut excluded = BTreeMap::new();
    for t in &targets {
        if let Some(w) = open
            .iter()
            .find(|w| w.policy == TargetPolicy::Exclude && w.targets.contains(t))
        {
            let why = format!(
                "left out: the target is inside maintenance window {}",
                w.label()
            );
            excluded.insert(*t, (w.id, why));
        }
    }
    if !targets.is_empty() && excluded.len() == targets.len() {
        let mut names: Vec<String> = Vec::new();
        for (_, why) in excluded.values() {
            if !names.contains(why) {
                names.push(why.clone());
            }
        }
        return Err(AdmitError::InWindow(format!(
            "every target of the run is inside a maintenance window that excludes it ({})",
            names.join("; ")
        )));
    }
    Ok(Verdict {
        excluded,
        overridden: Vec::new(),
    })
}

/// Records the targets left out of a run just written, as `@window` step
/// entries.
pub(super) async fn record(core: &Core, run_id: Uuid, v: &Verdict) -> Result<(), AdmitError> {
    if v.excluded.is_empty() {
        return Ok(());
    }
    let now = Utc::now().fixed_offset();
    let rows = v
        .excluded
        .iter()
        .map(|(target, (_, why))| run_step::ActiveModel {
            run_id: Set(run_id),
            step_id: Set(STEP_ID.to_owned()),
            target_key: Set(*target),
            target_id: Set(Some(*target)),
            position: Set(-1),
            attempt: Set(0),
            status: Set("skipped".to_owned()),
            exit_code: Set(None),
            error: Set(Some(why.clone())),
            output_truncated: Set(false),
            worker_id: Set(None),
            started_at: Set(None),
            finished_at: Set(Some(now)),
            duration_ms: Set(None),
        });
    run_step::Entity::insert_many(rows).exec(core.db()).await?;
    Ok(())
}

/// The targets a run admitted before left out (for publishing it again
/// with the same plan).
pub(super) async fn recorded(core: &Core, run_id: Uuid) -> Result<BTreeSet<Uuid>, AdmitError> {
    Ok(run_step::Entity::find()
        .filter(run_step::Column::RunId.eq(run_id))
        .filter(run_step::Column::StepId.eq(STEP_ID))
        .all(core.db())
        .await?
        .into_iter()
        .map(|s| s.target_key)
        .collect())
}

/// Audits an override of windows by the person who started `run_id`.
pub(super) async fn audit_override(core: &Core, a: &Admission, run_id: Uuid, v: &Verdict) {
    if v.overridden.is_empty() {
        return;
    }
    let mut entry = crate::audit::Entry::system(
        "run.window_override",
        Some(("run", run_id.to_string())),
        json!({"window_ids": v.overridden, "trigger": a.trigger}),
    );
    entry.actor_id = a.created_by;
    entry.actor_kind = "user".to_owned();
    crate::audit::write(core, entry).await;
}
