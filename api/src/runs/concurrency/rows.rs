//! The statements of concurrency limits: the job's lock, its open runs,
//! how full it is, and the run row written with the status the limit gave.

use opsc_proto::events::RunStatus;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;
use uuid::Uuid;

use super::Open;
use crate::runs::admit::AdmitError;
use crate::runs::wire_name;

/// Takes the job's lock for the rest of the transaction.
pub(super) async fn lock_job(
    db: &impl ConnectionTrait,
    job_id: Uuid,
) -> Result<(), sea_orm::DbErr> {
    db.execute(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT id FROM jobs WHERE id = $1 FOR UPDATE",
        vec![job_id.into()],
    ))
    .await?;
    Ok(())
}

/// The job's runs not ended yet, oldest first.
pub(super) async fn open_runs(
    db: &impl ConnectionTrait,
    job_id: Uuid,
) -> Result<Vec<Open>, sea_orm::DbErr> {
    let rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, status = 'waiting' AS waiting FROM runs
             WHERE job_id = $1 AND status IN ('waiting', 'queued', 'running') ORDER BY created_at, id",
            vec![job_id.into()],
        ))
        .await?;
    rows.into_iter()
        .map(|r| {
            Ok(Open {
                id: r.try_get("", "id")?,
                waiting: r.try_get("", "waiting")?,
            })
        })
        .collect()
}

/// Inserts the row (every column it names; the others take their
/// defaults); false when a run of the same intent exists.
pub(super) async fn write_row(
    db: &impl ConnectionTrait,
    mut row: Value,
    status: RunStatus,
    reason: Option<&str>,
) -> Result<bool, AdmitError> {
    let Some(map) = row.as_object_mut() else {
        return Err(AdmitError::Broken("a run row is not an object".to_owned()));
    };
    map.insert("status".to_owned(), Value::String(wire_name(status)));
    if let Some(reason) = reason {
        map.insert("reason".to_owned(), Value::String(reason.to_owned()));
        map.insert(
            "finished_at".to_owned(),
            map.get("created_at").cloned().unwrap_or_default(),
        );
    }
    let columns: Vec<&str> = map.keys().map(String::as_str).collect();
    if let Some(bad) = columns
        .iter()
        .find(|c| !c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
    {
        return Err(AdmitError::Broken(format!(
            "a run row names column {bad:?}"
        )));
    }
    let list = columns.join(", ");
    let values = columns
        .iter()
        .map(|c| format!("x.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "INSERT INTO runs ({list}, updated_at) SELECT {values}, now()
         FROM jsonb_populate_record(NULL::runs, $1::jsonb) AS x
         ON CONFLICT (intent_id) WHERE intent_id IS NOT NULL DO NOTHING RETURNING id"
    );
    let stored = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            &sql,
            vec![row.into()],
        ))
        .await?;
    Ok(stored.is_some())
}

/// Queued or running runs of a job (its slots taken) and waiting ones.
pub async fn occupancy(
    db: &impl ConnectionTrait,
    job_id: Uuid,
) -> Result<(u64, u64), sea_orm::DbErr> {
    let row = db
        .query_one(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FILTER (WHERE status IN ('queued', 'running')) AS going,
                    count(*) FILTER (WHERE status = 'waiting') AS waiting
             FROM runs WHERE job_id = $1 AND status IN ('waiting', 'queued', 'running')",
            vec![job_id.into()],
        ))
        .await?;
    let Some(row) = row else { return Ok((0, 0)) };
    let going: i64 = row.try_get("", "going")?;
    let waiting: i64 = row.try_get("", "waiting")?;
    Ok((
        u64::try_from(going).unwrap_or(0),
        u64::try_from(waiting).unwrap_or(0),
    ))
}
