//! The recorder: projects run events and output lines into PostgreSQL.
//!
//! Idempotent: every event is inserted by its id first, in the same
//! transaction as its projection, so a redelivered event changes nothing.
//! Step and run states only move forward. When the last shard of a run
//! reports, the run's status is derived and `run.finished` published.

use async_nats::jetstream::Message;
use chrono::{DateTime, Utc};
use opsc_proto::events::RunStatus;
use opsc_proto::topology::consumer;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait, Value as Sql};
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::http::AppState;

/// Events recorded at once.
const CONCURRENCY: usize = 64;

/// Records run events until shutdown.
pub async fn events(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let stream = state.bus.streams.events.clone();
    super::consume(
        &state,
        consumer::RECORDER,
        &stream,
        shutdown,
        CONCURRENCY,
        |state, msg| async move {
            record_event(&state, msg).await;
        },
    )
    .await
}

/// Records output lines until shutdown.
pub async fn output(state: AppState, shutdown: CancellationToken) -> anyhow::Result<()> {
    let stream = state.bus.streams.logs.clone();
    super::consume(
        &state,
        consumer::RECORDER_OUTPUT,
        &stream,
        shutdown,
        CONCURRENCY * 4,
        |state, msg| async move {
            record_line(&state, msg).await;
        },
    )
    .await
}

fn stmt(sql: &str, values: Vec<Sql>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

fn nil_or(id: Option<Uuid>) -> Uuid {
    id.unwrap_or(Uuid::nil())
}

struct Envelope {
    id: String,
    kind: String,
    at: DateTime<Utc>,
    sequence: Option<i64>,
    data: Value,
}

fn envelope(payload: &[u8]) -> Result<Envelope, String> {
    let v: Value = serde_json::from_slice(payload).map_err(|e| format!("not JSON: {e}"))?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(Envelope {
        id: s("id").ok_or("no id")?,
        kind: s("type").ok_or("no type")?,
        at: s("time")
            .and_then(|t| t.parse().ok())
            .unwrap_or_else(Utc::now),
        sequence: v.get("sequence").and_then(Value::as_i64),
        data: v.get("data").cloned().ok_or("no data")?,
    })
}

async fn record_event(state: &AppState, msg: Message) {
    let env = match envelope(&msg.payload) {
        Ok(e) => e,
        Err(e) => {
            let _ = state
                .bus
                .dead_letter(consumer::RECORDER, &msg, &format!("undecodable event: {e}"))
                .await;
            return;
        }
    };
    if !env.kind.starts_with("io.opsconductor.run.") {
        let _ = msg.ack().await;
        return;
    }
    let Some(run_id) = env
        .data
        .get("run_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<Uuid>().ok())
    else {
        let _ = state
            .bus
            .dead_letter(consumer::RECORDER, &msg, "run event without a run_id")
            .await;
        return;
    };
    match project(state, run_id, &env).await {
        Ok(done) => {
            let _ = msg.ack().await;
            if let Some((status, reason)) = done {
                super::announce_finished(state, run_id, status, reason).await;
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, %run_id, "Event not recorded; will retry.");
            let _ = msg
                .ack_with(async_nats::jetstream::AckKind::Nak(Some(
                    std::time::Duration::from_secs(1),
                )))
                .await;
        }
    }
}

/// Inserts the event and applies it; returns the run's derived end when
/// this event completed it.
async fn project(
    state: &AppState,
    run_id: Uuid,
    env: &Envelope,
) -> Result<Option<(RunStatus, Option<String>)>, sea_orm::DbErr> {
    let txn = state.store.db().begin().await?;
    let kind = env
        .kind
        .trim_start_matches("io.opsconductor.run.")
        .trim_end_matches(".v1")
        .to_owned();
    let inserted = txn
        .query_one(stmt(
            "INSERT INTO run_events (event_id, run_id, event_type, sequence, at, data) VALUES ($1,$2,$3,$4,$5,$6)
             ON CONFLICT (event_id) DO NOTHING RETURNING event_id",
            vec![env.id.clone().into(), run_id.into(), kind.clone().into(), env.sequence.into(), env.at.fixed_offset().into(), env.data.clone().into()],
        ))
        .await?;
    if inserted.is_none() {
        txn.commit().await?;
        return Ok(None);
    }
    let d = &env.data;
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let int = |k: &str| d.get(k).and_then(Value::as_i64);
    let target_id = text("target_id").and_then(|t| t.parse::<Uuid>().ok());
    let at = env.at.fixed_offset();
    let mut done = None;
    match kind.as_str() {
        "started" => {
            txn.execute(stmt(
                "UPDATE runs SET status = 'running', started_at = COALESCE(started_at, $2), updated_at = now()
                 WHERE id = $1 AND status = 'queued'",
                vec![run_id.into(), at.into()],
            ))
            .await?;
        }
        "step_started" => {
            txn.execute(stmt(
                "INSERT INTO run_steps (run_id, step_id, target_key, target_id, position, attempt, status, worker_id, started_at)
                 VALUES ($1,$2,$3,$4,0,$5,'running',$6,$7)
                 ON CONFLICT (run_id, step_id, target_key) DO UPDATE SET attempt = excluded.attempt, status = 'running',
                   worker_id = excluded.worker_id, started_at = excluded.started_at, finished_at = NULL, exit_code = NULL, error = NULL
                 WHERE run_steps.attempt < excluded.attempt",
                vec![run_id.into(), text("step_id").into(), nil_or(target_id).into(), target_id.into(),
                     int("attempt").unwrap_or(1).into(), text("worker_id").into(), at.into()],
            ))
            .await?;
        }
        "step_finished" => {
            let ms = int("duration_ms").unwrap_or(0);
            txn.execute(stmt(
                "INSERT INTO run_steps (run_id, step_id, target_key, target_id, position, attempt, status, exit_code, error,
                   output_truncated, started_at, finished_at, duration_ms)
                 VALUES ($1,$2,$3,$4,0,$5,$6,$7,$8,$9, $10 - make_interval(secs => $11::double precision / 1000), $10, $11)
                 ON CONFLICT (run_id, step_id, target_key) DO UPDATE SET attempt = excluded.attempt, status = excluded.status,
                   exit_code = excluded.exit_code, error = excluded.error, output_truncated = excluded.output_truncated,
                   finished_at = excluded.finished_at, duration_ms = excluded.duration_ms,
                   started_at = COALESCE(run_steps.started_at, excluded.started_at)
                 WHERE run_steps.attempt <= excluded.attempt",
                vec![run_id.into(), text("step_id").into(), nil_or(target_id).into(), target_id.into(),
                     int("attempt").unwrap_or(0).into(), text("status").into(), int("exit_code").map(|c| c as i32).into(),
                     text("error").into(), d.get("output_truncated").and_then(Value::as_bool).unwrap_or(false).into(),
                     at.into(), ms.into()],
            ))
            .await?;
        }
        "shard_finished" => {
            let index = d
                .get("shard")
                .and_then(|s| s.get("index"))
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let entry = serde_json::json!({ index.to_string(): {"status": text("status"), "reason": text("reason")} });
            let row = txn
                .query_one(stmt(
                    "UPDATE runs SET shards_finished = shards_finished || $2::jsonb, updated_at = now()
                     WHERE id = $1 RETURNING shards, shards_finished, status",
                    vec![run_id.into(), entry.into()],
                ))
                .await?;
            if let Some(row) = row {
                let shards: Option<i32> = row.try_get("", "shards")?;
                let finished: Value = row.try_get("", "shards_finished")?;
                let status: String = row.try_get("", "status")?;
                let map = finished.as_object().cloned().unwrap_or_default();
                if shards.is_some_and(|n| map.len() >= n as usize)
                    && matches!(status.as_str(), "queued" | "running")
                {
                    let (status, reason) = derive(&map);
                    let updated = super::set_terminal(&txn, run_id, status, reason.clone()).await?;
                    if updated {
                        done = Some((status, reason));
                    }
                }
            }
        }
        "finished" => {
            let status = text("status")
                .and_then(|s| serde_json::from_value(Value::String(s)).ok())
                .unwrap_or(RunStatus::Failed);
            super::set_terminal(&txn, run_id, status, text("reason")).await?;
        }
        _ => {}
    }
    txn.commit().await?;
    Ok(done)
}

/// A run's status from its shards': one stopped shard stops the run.
fn derive(shards: &serde_json::Map<String, Value>) -> (RunStatus, Option<String>) {
    let statuses: Vec<String> = shards
        .values()
        .filter_map(|v| v.get("status").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let reasons: Vec<String> = shards
        .values()
        .filter_map(|v| v.get("reason").and_then(Value::as_str).map(str::to_owned))
        .collect();
    let reason = (!reasons.is_empty()).then(|| reasons.join("; "));
    for (name, status) in [
        ("cancelled", RunStatus::Cancelled),
        ("worker_lost", RunStatus::WorkerLost),
        ("timed_out", RunStatus::TimedOut),
        ("failed", RunStatus::Failed),
    ] {
        if statuses.iter().any(|s| s == name) {
            return (status, reason);
        }
    }
    (RunStatus::Succeeded, None)
}

async fn record_line(state: &AppState, msg: Message) {
    let env = match envelope(&msg.payload) {
        Ok(e) => e,
        Err(e) => {
            let _ = state
                .bus
                .dead_letter(
                    consumer::RECORDER_OUTPUT,
                    &msg,
                    &format!("undecodable output line: {e}"),
                )
                .await;
            return;
        }
    };
    let d = &env.data;
    let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
    let (Some(run_id), Some(step), Some(line_no)) = (
        text("run_id").and_then(|s| s.parse::<Uuid>().ok()),
        text("step_id"),
        d.get("line_no").and_then(Value::as_i64),
    ) else {
        let _ = state
            .bus
            .dead_letter(
                consumer::RECORDER_OUTPUT,
                &msg,
                "output line without run_id, step_id or line_no",
            )
            .await;
        return;
    };
    let target_id = text("target_id").and_then(|t| t.parse::<Uuid>().ok());
    let result = state
        .store
        .db()
        .execute(stmt(
            "INSERT INTO run_output (run_id, step_id, target_key, line_no, stream, text, at) VALUES ($1,$2,$3,$4,$5,$6,$7)
             ON CONFLICT DO NOTHING",
            vec![run_id.into(), step.into(), nil_or(target_id).into(), line_no.into(),
                 text("stream").unwrap_or_default().into(), text("text").unwrap_or_default().into(), env.at.fixed_offset().into()],
        ))
        .await;
    match result {
        Ok(_) => {
            let _ = msg.ack().await;
        }
        // The run row may be gone (deleted): a foreign-key failure is final.
        Err(e) if e.to_string().contains("foreign key") => {
            let _ = msg.ack().await;
        }
        Err(e) => {
            tracing::warn!(error = %e, "Output line not recorded; will retry.");
            let _ = msg
                .ack_with(async_nats::jetstream::AckKind::Nak(Some(
                    std::time::Duration::from_secs(1),
                )))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_stopped_shard_decides_the_run() {
        let m = |v: Value| v.as_object().cloned().unwrap();
        assert_eq!(
            derive(&m(serde_json::json!({"0": {"status": "succeeded"}}))).0,
            RunStatus::Succeeded
        );
        let (s, r) = derive(&m(
            serde_json::json!({"0": {"status": "succeeded"}, "1": {"status": "failed", "reason": "x"}}),
        ));
        assert_eq!((s, r.as_deref()), (RunStatus::Failed, Some("x")));
        assert_eq!(
            derive(&m(
                serde_json::json!({"0": {"status": "failed"}, "1": {"status": "worker_lost"}})
            ))
            .0,
            RunStatus::WorkerLost
        );
        assert_eq!(
            derive(&m(
                serde_json::json!({"0": {"status": "cancelled"}, "1": {"status": "failed"}})
            ))
            .0,
            RunStatus::Cancelled
        );
    }
}
