//! How a stored dependency is shown and mirrored: its jobs' names, its
//! `on` and mapping read from their columns.

use std::collections::{BTreeMap, HashMap};

use opsc_proto::schedule::{DependencyDoc, DependencyOn};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde_json::Value;
use uuid::Uuid;

use super::{DependencyBody, DependencyView};
use crate::store::{job, job_dependency};

/// The `on` a row holds (`success` for what does not read; the column's
/// check allows only the three names).
pub(crate) fn on_of(row: &job_dependency::Model) -> DependencyOn {
    serde_json::from_value(Value::String(row.on.clone())).unwrap_or(DependencyOn::Success)
}

/// The mapping a row holds.
pub(crate) fn parameters_of(row: &job_dependency::Model) -> BTreeMap<String, String> {
    serde_json::from_value(row.parameters.clone()).unwrap_or_default()
}

/// The row's `within_secs`, as the API and the KV document hold it.
fn within_of(row: &job_dependency::Model) -> Option<u64> {
    row.within_secs.and_then(|s| u64::try_from(s).ok())
}

/// The row's revision, unsigned.
pub(crate) fn revision_of(row: &job_dependency::Model) -> u64 {
    u64::try_from(row.revision).unwrap_or(0)
}

/// The KV document of a row.
pub(crate) fn doc_of(row: &job_dependency::Model) -> DependencyDoc {
    DependencyDoc {
        id: row.id,
        revision: revision_of(row),
        enabled: row.enabled,
        upstream_job_id: row.upstream_job_id,
        downstream_job_id: row.downstream_job_id,
        on: on_of(row),
        within_secs: within_of(row),
        parameters: parameters_of(row),
    }
}

/// The body that would store `row` as it is (the base of a `PATCH`).
pub(crate) fn body_of(row: &job_dependency::Model) -> DependencyBody {
    DependencyBody {
        upstream_job_id: Some(row.upstream_job_id),
        upstream_job_name: None,
        downstream_job_id: Some(row.downstream_job_id),
        downstream_job_name: None,
        on: Some(on_of(row)),
        within_secs: within_of(row),
        parameters: parameters_of(row),
        enabled: Some(row.enabled),
        description: Some(row.description.clone()),
    }
}

/// The views of `rows`, their jobs' names read in one query.
pub(crate) async fn views(
    db: &impl ConnectionTrait,
    rows: Vec<job_dependency::Model>,
) -> Result<Vec<DependencyView>, DbErr> {
    let ids: Vec<Uuid> = rows
        .iter()
        .flat_map(|r| [r.upstream_job_id, r.downstream_job_id])
        .collect();
    let names: HashMap<Uuid, String> = if ids.is_empty() {
        HashMap::new()
    } else {
        job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .column(job::Column::Name)
            .filter(job::Column::Id.is_in(ids))
            .into_tuple()
            .all(db)
            .await?
            .into_iter()
            .collect()
    };
    Ok(rows
        .into_iter()
        .map(|row| DependencyView {
            id: row.id,
            upstream_job_name: names.get(&row.upstream_job_id).cloned(),
            downstream_job_name: names.get(&row.downstream_job_id).cloned(),
            upstream_job_id: row.upstream_job_id,
            downstream_job_id: row.downstream_job_id,
            on: on_of(&row),
            within_secs: within_of(&row),
            parameters: parameters_of(&row),
            enabled: row.enabled,
            revision: revision_of(&row),
            created_at: row.created_at.to_utc(),
            updated_at: row.updated_at.to_utc(),
            description: row.description,
            owner_id: row.owner_id,
        })
        .collect())
}

/// The audit summary of a dependency.
pub fn summary(v: &DependencyView) -> Value {
    serde_json::json!({
        "upstream_job_id": v.upstream_job_id,
        "upstream_job_name": v.upstream_job_name,
        "downstream_job_id": v.downstream_job_id,
        "downstream_job_name": v.downstream_job_name,
        "on": v.on,
        "revision": v.revision,
    })
}
