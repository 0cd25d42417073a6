//! The statements that project a folded batch into PostgreSQL, one per
//! kind of change, each taking the whole batch as one JSON parameter
//! (`jsonb_to_recordset`). All of a batch runs in one transaction.
//!
//! Every statement moves state forward only, so applying a batch whose
//! events were partly applied before changes nothing twice. Events of a run
//! that does not exist (any more) are kept in `run_events` but change no
//! row.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use opsc_proto::events::RunStatus;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use super::fold::{EventRow, Folded, derive};
use crate::runs::wire_name;

fn stmt(sql: &str, rows: Value) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, vec![rows.into()])
}

/// Stores the events; the ids of those not stored before.
pub async fn insert_events(
    db: &impl ConnectionTrait,
    rows: &[EventRow],
) -> Result<BTreeSet<String>, DbErr> {
    let found = db
        .query_all(stmt(
            "INSERT INTO run_events (event_id, run_id, event_type, sequence, at, data)
             SELECT x.event_id, x.run_id, x.event_type, x.sequence, x.at, x.data
             FROM jsonb_to_recordset($1::jsonb) AS x(event_id text, run_id uuid, event_type text,
                  sequence bigint, at timestamptz, data jsonb)
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            json!(rows),
        ))
        .await?;
    found
        .into_iter()
        .map(|r| r.try_get::<String>("", "event_id"))
        .collect()
}

/// A run that reached its end in this batch.
#[derive(Debug, Clone)]
pub struct Ended {
    /// The run.
    pub run_id: Uuid,
    /// Its status.
    pub status: RunStatus,
    /// Why.
    pub reason: Option<String>,
    /// When it was accepted.
    pub created_at: DateTime<Utc>,
    /// Its trigger kind.
    pub trigger: String,
}

/// Applies the folded batch; the runs it ended.
pub async fn apply(db: &impl ConnectionTrait, f: &Folded) -> Result<Vec<Ended>, DbErr> {
    if !f.started.is_empty() {
        let rows: Vec<Value> = f
            .started
            .iter()
            .map(|(id, at)| json!({"run_id": id, "at": at}))
            .collect();
        db.execute(stmt(
            "UPDATE runs SET status = 'running', started_at = COALESCE(runs.started_at, x.at), updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, at timestamptz)
             WHERE runs.id = x.run_id AND runs.status = 'queued'",
            json!(rows),
        ))
        .await?;
    }
    let (running, ended): (Vec<_>, Vec<_>) =
        f.steps.values().partition(|s| s.finished_at.is_none());
    if !running.is_empty() {
        db.execute(stmt(
            "INSERT INTO run_steps (run_id, step_id, target_key, target_id, position, attempt, status, worker_id, started_at)
             SELECT x.run_id, x.step_id, x.target_key, x.target_id, 0, x.attempt, 'running', x.worker_id, x.started_at
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, step_id text, target_key uuid, target_id uuid,
                  attempt int, worker_id text, started_at timestamptz)
             JOIN runs r ON r.id = x.run_id
             ON CONFLICT (run_id, step_id, target_key) DO UPDATE SET attempt = excluded.attempt, status = 'running',
               worker_id = excluded.worker_id, started_at = excluded.started_at, finished_at = NULL, exit_code = NULL,
               error = NULL, duration_ms = NULL
             WHERE run_steps.attempt < excluded.attempt",
            json!(running),
        ))
        .await?;
    }
    if !ended.is_empty() {
        db.execute(stmt(
            "INSERT INTO run_steps (run_id, step_id, target_key, target_id, position, attempt, status, worker_id,
               exit_code, error, output_truncated, started_at, finished_at, duration_ms)
             SELECT x.run_id, x.step_id, x.target_key, x.target_id, 0, x.attempt, x.status, x.worker_id,
               x.exit_code, x.error, x.output_truncated, x.started_at, x.finished_at, x.duration_ms
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, step_id text, target_key uuid, target_id uuid,
                  attempt int, status text, worker_id text, exit_code int, error text, output_truncated boolean,
                  started_at timestamptz, finished_at timestamptz, duration_ms bigint)
             JOIN runs r ON r.id = x.run_id
             ON CONFLICT (run_id, step_id, target_key) DO UPDATE SET attempt = excluded.attempt, status = excluded.status,
               exit_code = excluded.exit_code, error = excluded.error, output_truncated = excluded.output_truncated,
               finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
               worker_id = COALESCE(excluded.worker_id, run_steps.worker_id),
               started_at = CASE WHEN run_steps.attempt = excluded.attempt
                 THEN COALESCE(run_steps.started_at, excluded.started_at) ELSE excluded.started_at END
             WHERE run_steps.attempt <= excluded.attempt",
            json!(ended),
        ))
        .await?;
    }
    let mut ends = Vec::new();
    if !f.shards.is_empty() {
        ends = shards(db, &f.shards).await?;
    }
    if !f.finished.is_empty() {
        let rows: Vec<Value> = f
            .finished
            .iter()
            .map(|(id, (status, reason, at))| {
                json!({"run_id": id, "status": wire_name(*status), "reason": reason, "at": at})
            })
            .collect();
        db.execute(stmt(
            "UPDATE runs SET status = x.status, reason = x.reason, finished_at = x.at, updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, status text, reason text, at timestamptz)
             WHERE runs.id = x.run_id AND runs.status IN ('queued', 'running')",
            json!(rows),
        ))
        .await?;
    }
    Ok(ends)
}

/// Adds shard ends; ends the runs whose every shard reported.
async fn shards(
    db: &impl ConnectionTrait,
    shards: &BTreeMap<Uuid, BTreeMap<String, super::fold::ShardEnd>>,
) -> Result<Vec<Ended>, DbErr> {
    let rows: Vec<Value> = shards
        .iter()
        .map(|(id, ends)| json!({"run_id": id, "ends": ends}))
        .collect();
    let updated = db
        .query_all(stmt(
            "UPDATE runs SET shards_finished = runs.shards_finished || x.ends, updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, ends jsonb)
             WHERE runs.id = x.run_id
             RETURNING runs.id, runs.shards, runs.shards_finished, runs.status, runs.created_at, runs.trigger_kind",
            json!(rows),
        ))
        .await?;
    let mut complete: Vec<Ended> = Vec::new();
    for row in updated {
        let shards: Option<i32> = row.try_get("", "shards")?;
        let finished: Value = row.try_get("", "shards_finished")?;
        let status: String = row.try_get("", "status")?;
        let map = finished.as_object().cloned().unwrap_or_default();
        let all = shards.is_some_and(|n| map.len() >= usize::try_from(n).unwrap_or(usize::MAX));
        if all && matches!(status.as_str(), "queued" | "running") {
            let (status, reason) = derive(&map);
            complete.push(Ended {
                run_id: row.try_get("", "id")?,
                status,
                reason,
                created_at: row
                    .try_get::<chrono::DateTime<chrono::FixedOffset>>("", "created_at")?
                    .to_utc(),
                trigger: row.try_get("", "trigger_kind")?,
            });
        }
    }
    if complete.is_empty() {
        return Ok(complete);
    }
    let rows: Vec<Value> = complete
        .iter()
        .map(|e| json!({"run_id": e.run_id, "status": wire_name(e.status), "reason": e.reason}))
        .collect();
    let moved = db
        .query_all(stmt(
            "UPDATE runs SET status = x.status, reason = x.reason, finished_at = now(), updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, status text, reason text)
             WHERE runs.id = x.run_id AND runs.status IN ('queued', 'running')
             RETURNING runs.id",
            json!(rows),
        ))
        .await?;
    let moved: BTreeSet<Uuid> = moved
        .into_iter()
        .filter_map(|r| r.try_get::<Uuid>("", "id").ok())
        .collect();
    complete.retain(|e| moved.contains(&e.run_id));
    Ok(complete)
}
