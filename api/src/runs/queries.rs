//! What the API shows of runs: lists with filters, one run, and its steps
//! per target with their captured output.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use opsc_proto::commands::TriggerKind;
use opsc_proto::events::RunStatus;
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    QueryOrder, Statement,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use super::wire_name;
use crate::core::Core;
use crate::store::paging::{Page, Paging, paged};
use crate::store::{run, run_step};

/// Why a run cannot be shown or acted on.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No such run.
    #[error("no such run")]
    NotFound,
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbErr),
}

fn trigger_of(r: &run::Model) -> Value {
    let mut t = json!({"kind": r.trigger_kind, "actor": r.trigger_actor});
    if let Some(origin) = &r.trigger_origin {
        t["origin"] = json!(origin);
    }
    if let Some(cause) = r.cause_run_id.or(r.rerun_of) {
        t["cause_run_id"] = json!(cause);
    }
    t
}

/// A run as the API shows it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunView {
    /// Id.
    pub id: Uuid,
    /// Job.
    pub job_id: Uuid,
    /// Job name at start.
    pub job_name: String,
    /// Version run.
    pub job_version: i32,
    /// `waiting` (held by the job's concurrency limit), `queued`, `running`,
    /// `succeeded`, `failed`, `cancelled`, `timed_out`, `worker_lost`, `skipped`
    /// (not started because of the job's concurrency limit).
    pub status: String,
    /// Why it did not succeed.
    pub reason: Option<String>,
    /// Who or what started it: `kind`, `actor`, and for runs from the bus
    /// `origin`; `cause_run_id` for dependencies, retries and re-runs.
    pub trigger: Value,
    /// Parameters (secret ones as `***`).
    pub parameters: Value,
    /// Target override.
    pub targets: Option<Value>,
    /// The targets it ran on.
    pub target_ids: Value,
    /// The run it re-runs.
    pub rerun_of: Option<Uuid>,
    /// 1 for a first run, n + 1 for the n-th retry of it.
    pub attempt: i32,
    /// The failed run this one retries.
    pub retry_of: Option<Uuid>,
    /// The first run of its retry chain (`null` for a run that is no retry).
    pub retry_root: Option<Uuid>,
    /// The later attempts of its chain, oldest first (`GET /api/v1/runs/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retries: Option<Vec<Uuid>>,
    /// Accepted.
    pub created_at: DateTime<Utc>,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Accept-to-finish milliseconds.
    pub duration_ms: Option<i64>,
}

impl From<run::Model> for RunView {
    fn from(r: run::Model) -> Self {
        let trigger = trigger_of(&r);
        Self {
            duration_ms: r.finished_at.map(|f| (f - r.created_at).num_milliseconds()),
            id: r.id,
            job_id: r.job_id,
            job_name: r.job_name,
            job_version: r.job_version,
            status: r.status,
            reason: r.reason,
            trigger,
            parameters: r.parameters,
            targets: r.targets,
            target_ids: r.target_ids,
            rerun_of: r.rerun_of,
            attempt: r.attempt,
            retry_of: r.retry_of,
            retry_root: r.retry_root,
            retries: None,
            created_at: r.created_at.to_utc(),
            started_at: r.started_at.map(|t| t.to_utc()),
            finished_at: r.finished_at.map(|t| t.to_utc()),
        }
    }
}

/// Filters for `GET /api/v1/runs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunQuery {
    /// Runs of this job.
    #[serde(default)]
    pub job_id: Option<Uuid>,
    /// In this status.
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Started by this kind of trigger.
    #[serde(default)]
    pub trigger: Option<TriggerKind>,
    /// Ran on this target.
    #[serde(default)]
    pub target_id: Option<Uuid>,
    /// Accepted at or after.
    #[serde(default)]
    pub since: Option<DateTime<Utc>>,
    /// Accepted before.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
    /// Page size (1-500, default 50).
    #[serde(default = "crate::store::paging::default_limit")]
    pub limit: u64,
    /// Items skipped.
    #[serde(default)]
    pub offset: u64,
}

/// One step on one target.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepView {
    /// Step id.
    pub step_id: String,
    /// Target (absent for steps run on the worker).
    pub target_id: Option<Uuid>,
    /// Latest attempt.
    pub attempt: i32,
    /// Status.
    pub status: String,
    /// Exit code.
    pub exit_code: Option<i32>,
    /// Error.
    pub error: Option<String>,
    /// Started.
    pub started_at: Option<DateTime<Utc>>,
    /// Finished.
    pub finished_at: Option<DateTime<Utc>>,
    /// Milliseconds.
    pub duration_ms: Option<i64>,
    /// Output was cut at the cap.
    pub output_truncated: bool,
    /// Standard output lines (latest attempt; empty with `output=false`).
    pub stdout: Vec<String>,
    /// Standard error lines (empty with `output=false`).
    pub stderr: Vec<String>,
}

/// `GET /api/v1/runs/{id}/steps?output=…`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepsQuery {
    /// Include each step's kept output (default `true`). `false` gives
    /// the steps' status and timing alone, which a page following a run
    /// reads after every step event while the output comes over the
    /// stream: reading every line again each time is what made long runs
    /// cost hundreds of MB in a browser.
    #[serde(default)]
    pub output: Option<bool>,
}

/// `GET /api/v1/runs/{id}/steps`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepsView {
    /// The run's status.
    pub status: String,
    /// Steps in job order, then by target.
    pub items: Vec<StepView>,
}

/// Runs matching `q`, newest first.
pub async fn list(core: &Core, q: &RunQuery) -> Result<Page<RunView>, DbErr> {
    let mut s = run::Entity::find();
    if let Some(j) = q.job_id {
        s = s.filter(run::Column::JobId.eq(j));
    }
    if let Some(st) = q.status {
        s = s.filter(run::Column::Status.eq(wire_name(st)));
    }
    if let Some(t) = q.trigger {
        s = s.filter(run::Column::TriggerKind.eq(wire_name(t)));
    }
    if let Some(t) = q.target_id {
        s = s.filter(Expr::cust_with_values(
            "target_ids @> $1::jsonb",
            [json!([t]).to_string()],
        ));
    }
    if let Some(since) = q.since {
        s = s.filter(run::Column::CreatedAt.gte(since.fixed_offset()));
    }
    if let Some(until) = q.until {
        s = s.filter(run::Column::CreatedAt.lt(until.fixed_offset()));
    }
    paged(
        core.db(),
        s.order_by_desc(run::Column::CreatedAt),
        Paging {
            limit: q.limit,
            offset: q.offset,
        },
    )
    .await
}

/// One run.
pub async fn get(core: &Core, id: Uuid) -> Result<run::Model, RunError> {
    run::Entity::find_by_id(id)
        .one(core.db())
        .await?
        .ok_or(RunError::NotFound)
}

/// One run as `GET /api/v1/runs/{id}` shows it, with its retry chain.
pub async fn view(core: &Core, id: Uuid) -> Result<RunView, RunError> {
    let r = get(core, id).await?;
    let retries = super::lineage::chain::retries(core.db(), &r).await?;
    let mut view = RunView::from(r);
    view.retries = Some(retries);
    Ok(view)
}

/// The steps of a run, in job order, then by target, with their output
/// when `with_output`.
pub async fn steps(core: &Core, id: Uuid, with_output: bool) -> Result<StepsView, RunError> {
    let r = get(core, id).await?;
    let db = core.db();
    let order: Vec<String> = match core.definitions.get(r.job_id, r.job_version) {
        Some(def) => def.steps.iter().map(|s| s.id.clone()).collect(),
        None => crate::store::job_version::Entity::find_by_id((r.job_id, r.job_version))
            .one(db)
            .await?
            .and_then(|v| v.definition.get("steps").cloned())
            .and_then(|s| s.as_array().cloned())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let mut rows = run_step::Entity::find()
        .filter(run_step::Column::RunId.eq(id))
        .all(db)
        .await?;
    let pos = |s: &str| order.iter().position(|o| o == s).unwrap_or(usize::MAX);
    rows.sort_by_key(|s| (pos(&s.step_id), s.target_id));
    let mut out = if with_output {
        output_of(db, id).await?
    } else {
        BTreeMap::new()
    };
    let items = rows
        .into_iter()
        .map(|s| {
            let (stdout, stderr) = out
                .remove(&(s.step_id.clone(), s.target_key))
                .unwrap_or_default();
            StepView {
                step_id: s.step_id,
                target_id: s.target_id,
                attempt: s.attempt,
                status: s.status,
                exit_code: s.exit_code,
                error: s.error,
                started_at: s.started_at.map(|t| t.to_utc()),
                finished_at: s.finished_at.map(|t| t.to_utc()),
                duration_ms: s.duration_ms,
                output_truncated: s.output_truncated,
                stdout,
                stderr,
            }
        })
        .collect();
    Ok(StepsView {
        status: r.status,
        items,
    })
}

/// Kept output lines per (step, target key): standard output, standard error.
type OutputByStep = BTreeMap<(String, Uuid), (Vec<String>, Vec<String>)>;

/// The kept output of run `id`, in line order.
async fn output_of(db: &DatabaseConnection, id: Uuid) -> Result<OutputByStep, DbErr> {
    let lines = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT step_id, target_key, stream, text FROM run_output WHERE run_id = $1 ORDER BY step_id, target_key, line_no",
            vec![id.into()],
        ))
        .await?;
    let mut out = OutputByStep::new();
    for l in lines {
        let (Ok(step), Ok(key), Ok(stream), Ok(text)) = (
            l.try_get::<String>("", "step_id"),
            l.try_get::<Uuid>("", "target_key"),
            l.try_get::<String>("", "stream"),
            l.try_get::<String>("", "text"),
        ) else {
            continue;
        };
        let e = out.entry((step, key)).or_default();
        if stream == "stderr" {
            e.1.push(text);
        } else {
            e.0.push(text);
        }
    }
    Ok(out)
}
