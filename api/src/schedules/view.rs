//! How a stored schedule is shown: secret values never, its job's name,
//! its next fire.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use opsc_proto::schedule::{DstPolicy, MisfirePolicy};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use super::preview::next_fire;
use super::{ScheduleBody, ScheduleError, ScheduleView, secrets};
use crate::core::Core;
use crate::store::{job, schedule};

/// The policies a row holds (defaults for what does not read).
pub(crate) fn policies(row: &schedule::Model) -> (DstPolicy, MisfirePolicy) {
    (
        serde_json::from_value(row.dst.clone()).unwrap_or_default(),
        serde_json::from_value(row.misfire.clone()).unwrap_or_default(),
    )
}

/// The names of the secret parameters a row holds values for.
pub(crate) fn secret_names(row: &schedule::Model) -> Vec<String> {
    serde_json::from_value(row.secret_names.clone()).unwrap_or_default()
}

/// The non-secret parameter values a row holds.
pub(crate) fn public_parameters(row: &schedule::Model) -> BTreeMap<String, serde_json::Value> {
    serde_json::from_value(row.parameters.clone()).unwrap_or_default()
}

/// The view of `row`, its job named `job_name`.
pub(crate) fn view(row: schedule::Model, job_name: Option<String>) -> ScheduleView {
    let (dst, misfire) = policies(&row);
    let next = next_fire(&row, Utc::now());
    ScheduleView {
        secret_parameters: secret_names(&row),
        parameters: public_parameters(&row),
        targets: row
            .targets
            .clone()
            .and_then(|t| serde_json::from_value(t).ok()),
        retry: row
            .retry
            .clone()
            .and_then(|r| serde_json::from_value(r).ok()),
        next_fire_at: next.as_ref().map(|o| o.at),
        next_fire_local: next.as_ref().map(opsc_calendar::Occurrence::local_rfc3339),
        id: row.id,
        name: row.name,
        description: row.description,
        job_id: row.job_id,
        job_name,
        owner_id: row.owner_id,
        cron: row.cron,
        time_zone: row.time_zone,
        start_at: row.start_at.map(|t| t.to_utc()),
        end_at: row.end_at.map(|t| t.to_utc()),
        enabled: row.enabled,
        paused: row.paused,
        dst,
        misfire,
        revision: u64::try_from(row.revision).unwrap_or(0),
        created_at: row.created_at.to_utc(),
        updated_at: row.updated_at.to_utc(),
    }
}

/// The views of `rows`, their jobs' names read in one query.
pub(crate) async fn views(
    db: &impl sea_orm::ConnectionTrait,
    rows: Vec<schedule::Model>,
) -> Result<Vec<ScheduleView>, sea_orm::DbErr> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.job_id).collect();
    let names: HashMap<Uuid, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .column(job::Column::Name)
            .filter(job::Column::Id.is_in(ids))
            .into_tuple::<(Uuid, String)>()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|r| {
            let name = names.get(&r.job_id).cloned();
            view(r, name)
        })
        .collect())
}

/// The body a stored schedule was saved with, secret values included
/// when `with_secrets` (for merging a `PATCH` into; never shown).
pub(crate) fn body_of(
    core: &Core,
    row: &schedule::Model,
    with_secrets: bool,
) -> Result<ScheduleBody, ScheduleError> {
    let (dst, misfire) = policies(row);
    let mut parameters = public_parameters(row);
    if with_secrets {
        parameters.extend(secrets::open(core, row)?);
    }
    Ok(ScheduleBody {
        name: row.name.clone(),
        description: Some(row.description.clone()),
        job_id: Some(row.job_id),
        job_name: None,
        cron: row.cron.clone(),
        time_zone: Some(row.time_zone.clone()),
        start_at: row.start_at.map(|t| t.to_utc()),
        end_at: row.end_at.map(|t| t.to_utc()),
        enabled: Some(row.enabled),
        dst: Some(dst),
        misfire: Some(misfire),
        parameters,
        targets: row
            .targets
            .clone()
            .and_then(|t| serde_json::from_value(t).ok()),
        retry: row
            .retry
            .clone()
            .and_then(|r| serde_json::from_value(r).ok()),
    })
}

/// What an audit record says about a schedule (never a parameter value).
pub fn summary(v: &ScheduleView) -> Value {
    json!({
        "name": v.name, "job_id": v.job_id, "revision": v.revision, "cron": v.cron,
        "time_zone": v.time_zone, "enabled": v.enabled, "paused": v.paused,
        "parameters": v.parameters.keys().chain(v.secret_parameters.iter()).collect::<Vec<_>>(),
    })
}
