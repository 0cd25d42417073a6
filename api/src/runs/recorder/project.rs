//! The statements that project a folded batch into PostgreSQL, one per
//! kind of change, each taking the whole batch as one JSON parameter
//! (`jsonb_to_recordset`). All of a batch runs in one transaction.
//!
//! Every statement moves state forward only, so applying a batch whose
//! events were partly applied before changes nothing twice. Events of a run
//! that does not exist (any more) are kept in `run_events` but change no
//! row.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use opsc_proto::events::RunStatus;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde_json::{Value, json};
use uuid::Uuid;

use super::fold::{EventRow, Folded, derive};
use crate::runs::wire_name;
use crate::store::jsonb::storable;

fn stmt(sql: &str, rows: Value) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, vec![storable(rows).into()])
}

/// A statement over a batch (`$1`, JSON rows) whose rows name runs (`$2`,
/// their ids). The ids let the planner look the runs up by key: it cannot
/// see how few rows the JSON holds and would otherwise scan the table.
fn stmt_for_runs(sql: &str, rows: Value, runs: &str) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        vec![storable(rows).into(), runs.to_owned().into()],
    )
}

/// Ids as a PostgreSQL array literal, for a `$n::uuid[]` parameter.
pub(super) fn uuid_array<'a>(ids: impl IntoIterator<Item = &'a Uuid>) -> String {
    let inner: Vec<String> = ids.into_iter().map(Uuid::to_string).collect();
    format!("{{{}}}", inner.join(","))
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
    let (running, ended): (Vec<_>, Vec<_>) =
        f.steps.values().partition(|s| s.finished_at.is_none());
    let step_runs = uuid_array(f.steps.keys().map(|(run, _, _)| run));
    if !running.is_empty() {
        db.execute(stmt_for_runs(
            "INSERT INTO run_steps (run_id, step_id, target_key, target_id, position, attempt, status, worker_id, started_at)
             SELECT x.run_id, x.step_id, x.target_key, x.target_id, 0, x.attempt, 'running', x.worker_id, x.started_at
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, step_id text, target_key uuid, target_id uuid,
                  attempt int, worker_id text, started_at timestamptz)
             JOIN runs r ON r.id = x.run_id AND r.id = ANY($2::uuid[])
             ON CONFLICT (run_id, step_id, target_key) DO UPDATE SET attempt = excluded.attempt, status = 'running',
               worker_id = excluded.worker_id, started_at = excluded.started_at, finished_at = NULL, exit_code = NULL,
               error = NULL, duration_ms = NULL
             WHERE run_steps.attempt < excluded.attempt",
            json!(running),
            &step_runs,
        ))
        .await?;
    }
    if !ended.is_empty() {
        db.execute(stmt_for_runs(
            "INSERT INTO run_steps (run_id, step_id, target_key, target_id, position, attempt, status, worker_id,
               exit_code, error, output_truncated, started_at, finished_at, duration_ms)
             SELECT x.run_id, x.step_id, x.target_key, x.target_id, 0, x.attempt, x.status, x.worker_id,
               x.exit_code, x.error, x.output_truncated, x.started_at, x.finished_at, x.duration_ms
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id uuid, step_id text, target_key uuid, target_id uuid,
                  attempt int, status text, worker_id text, exit_code int, error text, output_truncated boolean,
                  started_at timestamptz, finished_at timestamptz, duration_ms bigint)
             JOIN runs r ON r.id = x.run_id AND r.id = ANY($2::uuid[])
             ON CONFLICT (run_id, step_id, target_key) DO UPDATE SET attempt = excluded.attempt, status = excluded.status,
               exit_code = excluded.exit_code, error = excluded.error, output_truncated = excluded.output_truncated,
               finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
               worker_id = COALESCE(excluded.worker_id, run_steps.worker_id),
               started_at = CASE WHEN run_steps.attempt = excluded.attempt
                 THEN COALESCE(run_steps.started_at, excluded.started_at) ELSE excluded.started_at END
             WHERE run_steps.attempt <= excluded.attempt",
            json!(ended),
            &step_runs,
        ))
        .await?;
    }
    runs(db, f).await
}

/// A run row as the batch finds it.
#[derive(Debug)]
struct Current {
    status: String,
    shards: Option<i32>,
    shards_finished: Value,
    started: bool,
    created_at: DateTime<Utc>,
    trigger: String,
}

/// Moves every run the batch touched forward: one locked read and one
/// write per run, whatever the batch holds of it (a start, shard ends, the
/// end), so a fast run changes its row once.
async fn runs(db: &impl ConnectionTrait, f: &Folded) -> Result<Vec<Ended>, DbErr> {
    let ids: BTreeSet<Uuid> = f
        .started
        .keys()
        .chain(f.shards.keys())
        .chain(f.finished.keys())
        .copied()
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let id_list = uuid_array(&ids);
    let rows = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id, status, shards, shards_finished, started_at IS NOT NULL AS started, created_at, trigger_kind
             FROM runs WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
            vec![id_list.clone().into()],
        ))
        .await?;
    let mut updates: Vec<Value> = Vec::new();
    let mut ends: Vec<Ended> = Vec::new();
    for row in rows {
        let id: Uuid = row.try_get("", "id")?;
        let cur = Current {
            status: row.try_get("", "status")?,
            shards: row.try_get("", "shards")?,
            shards_finished: row.try_get("", "shards_finished")?,
            started: row.try_get("", "started")?,
            created_at: row
                .try_get::<chrono::DateTime<chrono::FixedOffset>>("", "created_at")?
                .to_utc(),
            trigger: row.try_get("", "trigger_kind")?,
        };
        if let Some((update, ended)) = next_state(id, &cur, f) {
            updates.push(update);
            ends.extend(ended);
        }
    }
    if !updates.is_empty() {
        db.execute(stmt_for_runs(
            "UPDATE runs SET status = x.status, started_at = COALESCE(runs.started_at, x.started_at),
               shards_finished = x.shards_finished,
               reason = CASE WHEN x.status = 'cancelled' THEN COALESCE(runs.reason, x.reason)
                 ELSE COALESCE(x.reason, runs.reason) END,
               finished_at = COALESCE(runs.finished_at, x.finished_at), updated_at = now()
             FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, status text, started_at timestamptz,
                  shards_finished jsonb, reason text, finished_at timestamptz)
             WHERE runs.id = x.id AND runs.id = ANY($2::uuid[])",
            json!(updates),
            &id_list,
        ))
        .await?;
    }
    Ok(ends)
}

/// A run's row after the batch, when it changes; and its end, when the
/// batch completed it (its last shard reported).
fn next_state(id: Uuid, cur: &Current, f: &Folded) -> Option<(Value, Option<Ended>)> {
    // A waiting run whose release died before its commit may still start.
    let open = matches!(cur.status.as_str(), "waiting" | "queued" | "running");
    let mut map = cur.shards_finished.as_object().cloned().unwrap_or_default();
    let mut changed = false;
    if let Some(new) = f.shards.get(&id) {
        // A shard the run does not have (a worker's mistake or a forged
        // event) must not count towards its end.
        let exists = |index: &str| {
            cur.shards
                .is_none_or(|n| index.parse::<i32>().is_ok_and(|i| (0..n).contains(&i)))
        };
        for (index, end) in new {
            if exists(index) && !map.contains_key(index) {
                map.insert(index.clone(), json!(end));
                changed = true;
            }
        }
    }
    let started_at = f.started.get(&id).copied().filter(|_| !cur.started);
    let mut status = cur.status.clone();
    if started_at.is_some() && matches!(cur.status.as_str(), "waiting" | "queued") {
        status = "running".to_owned();
        changed = true;
    }
    let (mut reason, mut finished_at, mut ended) = (None, None, None);
    let complete = cur
        .shards
        .is_some_and(|n| map.len() >= usize::try_from(n).unwrap_or(usize::MAX));
    if open && complete {
        let (s, r) = derive(&map);
        status = wire_name(s);
        reason.clone_from(&r);
        finished_at = Some(Utc::now());
        changed = true;
        ended = Some(Ended {
            run_id: id,
            status: s,
            reason: r,
            created_at: cur.created_at,
            trigger: cur.trigger.clone(),
        });
    } else if open && let Some((s, r, at)) = f.finished.get(&id) {
        // The api ended it (reaped, cancelled before dispatch): keep that.
        status = wire_name(*s);
        reason.clone_from(r);
        finished_at = Some(*at);
        changed = true;
    }
    changed.then(|| {
        (
            json!({"id": id, "status": status, "started_at": started_at, "shards_finished": map,
                   "reason": reason, "finished_at": finished_at}),
            ended,
        )
    })
}

#[cfg(test)]
mod tests {
    use opsc_proto::events::RunStatus;

    use super::*;
    use crate::runs::recorder::fold::ShardEnd;

    fn current(status: &str, shards: i32, finished: Value) -> Current {
        Current {
            status: status.to_owned(),
            shards: Some(shards),
            shards_finished: finished,
            started: false,
            created_at: Utc::now(),
            trigger: "manual".to_owned(),
        }
    }

    #[test]
    fn a_run_that_starts_and_ends_in_one_batch_is_written_once_as_ended() {
        let id = Uuid::now_v7();
        let mut f = Folded::default();
        f.started.insert(id, Utc::now());
        f.shards.entry(id).or_default().insert(
            "0".into(),
            ShardEnd {
                status: "succeeded".into(),
                reason: None,
            },
        );
        let (row, ended) = next_state(id, &current("queued", 1, json!({})), &f).unwrap();
        assert_eq!(row["status"], "succeeded");
        assert!(row["started_at"].is_string());
        assert_eq!(ended.unwrap().status, RunStatus::Succeeded);
    }

    #[test]
    fn a_run_waits_for_its_last_shard_and_ended_runs_stay_ended() {
        let id = Uuid::now_v7();
        let mut f = Folded::default();
        f.shards.entry(id).or_default().insert(
            "1".into(),
            ShardEnd {
                status: "failed".into(),
                reason: Some("x".into()),
            },
        );
        let (row, ended) = next_state(
            id,
            &current("running", 3, json!({"0": {"status": "succeeded"}})),
            &f,
        )
        .unwrap();
        assert_eq!(row["status"], "running");
        assert!(ended.is_none());
        let done = json!({"0": {"status": "succeeded"}, "1": {"status": "failed"}});
        assert!(next_state(id, &current("failed", 2, done), &f).is_none());
        let mut again = Folded::default();
        again
            .finished
            .insert(id, (RunStatus::TimedOut, None, Utc::now()));
        assert!(next_state(id, &current("succeeded", 1, json!({"0": {}})), &again).is_none());
    }

    #[test]
    fn a_waiting_run_that_a_worker_started_moves_on_and_ends() {
        // Its release published the dispatch and died before its commit.
        let id = Uuid::now_v7();
        let mut f = Folded::default();
        f.started.insert(id, Utc::now());
        let (row, _) = next_state(id, &current("waiting", 1, json!({})), &f).unwrap();
        assert_eq!(row["status"], "running");
        f.shards.entry(id).or_default().insert(
            "0".into(),
            ShardEnd {
                status: "succeeded".into(),
                reason: None,
            },
        );
        let (row, ended) = next_state(id, &current("waiting", 1, json!({})), &f).unwrap();
        assert_eq!(row["status"], "succeeded");
        assert!(ended.is_some());
        // A skipped run stays skipped, whatever arrives for it.
        let (row, ended) = next_state(id, &current("skipped", 1, json!({})), &f).unwrap();
        assert_eq!(row["status"], "skipped");
        assert!(ended.is_none());
    }

    #[test]
    fn shards_the_run_does_not_have_do_not_end_it() {
        let id = Uuid::now_v7();
        let mut f = Folded::default();
        for index in ["1", "7", "-1", "x"] {
            f.shards.entry(id).or_default().insert(
                index.into(),
                ShardEnd {
                    status: "succeeded".into(),
                    reason: None,
                },
            );
        }
        // Shard 1 of 2 counts; 7, -1 and x are not shards of this run.
        let (row, ended) = next_state(id, &current("running", 2, json!({})), &f).unwrap();
        assert_eq!(row["status"], "running");
        assert_eq!(
            row["shards_finished"],
            json!({"1": {"status": "succeeded", "reason": null}})
        );
        assert!(ended.is_none());
    }
}
