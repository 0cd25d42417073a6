//! `/api/v1/jobs/{id}/run` and `/api/v1/runs`: start, list, inspect,
//! re-run and cancel runs. Live output (SSE and WebSocket) is in [`super::run_stream`].

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use opsc_proto::CloudEvent;
use opsc_proto::commands::{RunCancel, TargetSelection, Trigger, TriggerKind};
use opsc_proto::events::RunStatus;
use schemars::JsonSchema;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, Statement,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::{Credential, Principal};
use crate::handlers::users::{Page, paged};
use crate::http::AppState;
use crate::http::json::{ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::runs::start::{SECRET_KIND, StartRun, start};
use crate::store::{run, run_step};
use crate::vault;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::POST,
            "/api/v1/jobs/{id}/run",
            OPERATOR,
            "Run a job (202 once the bus has the request; Idempotency-Key supported)",
            post(run_job),
        )
        .body::<RunBody>()
        .ok::<Accepted>(202),
        Route::new(
            M::GET,
            "/api/v1/runs",
            VIEWER,
            "List runs (filters: job_id, status, trigger, target_id, since, until)",
            get(list),
        )
        .query::<RunQuery>()
        .ok::<Page<RunView>>(200),
        Route::new(
            M::GET,
            "/api/v1/runs/{id}",
            VIEWER,
            "Get a run",
            get(get_run),
        )
        .ok::<RunView>(200),
        Route::new(
            M::GET,
            "/api/v1/runs/{id}/steps",
            VIEWER,
            "Steps of a run per target, with captured output",
            get(steps),
        )
        .ok::<StepsView>(200),
        Route::new(
            M::POST,
            "/api/v1/runs/{id}/cancel",
            OPERATOR,
            "Cancel a run",
            post(cancel),
        )
        .ok::<RunView>(202),
        Route::new(
            M::POST,
            "/api/v1/runs/{id}/rerun",
            OPERATOR,
            "Run again with the same parameters and targets",
            post(rerun),
        )
        .ok::<Accepted>(202),
        Route::new(
            M::GET,
            "/api/v1/runs/{id}/stream",
            VIEWER,
            "Live run output and status as Server-Sent Events (replays from the start)",
            get(super::run_stream::sse::handler),
        ),
        Route::new(
            M::GET,
            "/api/v1/runs/{id}/ws",
            VIEWER,
            "Live run output and status over a WebSocket (the stream's frames as JSON text)",
            get(super::run_stream::ws::handler),
        )
        .websocket(),
    ]
}

/// `POST /api/v1/jobs/{id}/run`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// Parameter values by name.
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Targets instead of the job's.
    #[serde(default)]
    pub targets: Option<TargetSelection>,
}

/// The answer to a run request.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Accepted {
    /// The run.
    pub run_id: Uuid,
    /// Where to follow it.
    pub stream_url: String,
}

fn trigger_of(me: &Principal) -> Trigger {
    let kind = match me.credential {
        Credential::ApiToken { .. } => TriggerKind::Api,
        Credential::Session { .. } => TriggerKind::Manual,
    };
    Trigger {
        kind,
        actor: me.user_id.to_string(),
    }
}

fn accepted(run_id: Uuid, again: bool) -> Response {
    let mut res = reply(
        StatusCode::ACCEPTED,
        &Accepted {
            run_id,
            stream_url: format!("/api/v1/runs/{run_id}/stream"),
        },
    );
    if again {
        res.headers_mut().insert(
            "idempotent-replayed",
            axum::http::HeaderValue::from_static("true"),
        );
    }
    res
}

/// `POST /api/v1/jobs/{id}/run`.
pub async fn run_job(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    ApiPath(job_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let body: RunBody = if body.iter().all(u8::is_ascii_whitespace) {
        RunBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| Problem::invalid(format!("body: {e}")))?
    };
    let key = headers
        .get("idempotency-key")
        .map(|v| v.to_str().map(str::to_owned))
        .transpose()
        .map_err(|_| Problem::invalid("Idempotency-Key must be visible ASCII"))?;
    let (run_id, again) = start(
        &state,
        StartRun {
            job_id,
            parameters: body.parameters,
            targets: body.targets,
            trigger: trigger_of(&me),
            idempotency_key: key,
            created_by: Some(me.user_id),
            rerun_of: None,
        },
    )
    .await?;
    let mut res = accepted(run_id, again);
    if !again {
        res.extensions_mut().insert(
            AuditDetail::new("run.start", "run", run_id).summary(json!({"job_id": job_id})),
        );
    }
    Ok(res)
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
    /// `queued`, `running`, `succeeded`, `failed`, `cancelled`, `timed_out`, `worker_lost`.
    pub status: String,
    /// Why it did not succeed.
    pub reason: Option<String>,
    /// Who or what started it.
    pub trigger: Value,
    /// Parameters (secret ones as `***`).
    pub parameters: Value,
    /// Target override.
    pub targets: Option<Value>,
    /// The targets it ran on.
    pub target_ids: Value,
    /// The run it re-runs.
    pub rerun_of: Option<Uuid>,
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
        Self {
            duration_ms: r.finished_at.map(|f| (f - r.created_at).num_milliseconds()),
            id: r.id,
            job_id: r.job_id,
            job_name: r.job_name,
            job_version: r.job_version,
            status: r.status,
            reason: r.reason,
            trigger: json!({"kind": r.trigger_kind, "actor": r.trigger_actor}),
            parameters: r.parameters,
            targets: r.targets,
            target_ids: r.target_ids,
            rerun_of: r.rerun_of,
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
    #[serde(default = "fifty")]
    pub limit: u64,
    /// Items skipped.
    #[serde(default)]
    pub offset: u64,
}

fn fifty() -> u64 {
    50
}

/// `GET /api/v1/runs`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Response, Problem> {
    let mut s = run::Entity::find();
    if let Some(j) = q.job_id {
        s = s.filter(run::Column::JobId.eq(j));
    }
    if let Some(st) = q.status {
        s = s.filter(run::Column::Status.eq(crate::runs::wire_name(st)));
    }
    if let Some(t) = q.trigger {
        s = s.filter(run::Column::TriggerKind.eq(crate::runs::wire_name(t)));
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
    let page: Page<RunView> = paged(
        state.store.db(),
        s.order_by_desc(run::Column::CreatedAt),
        q.limit,
        q.offset,
        500,
    )
    .await?;
    Ok(reply(StatusCode::OK, &page))
}

async fn load(state: &AppState, id: Uuid) -> Result<run::Model, Problem> {
    run::Entity::find_by_id(id)
        .one(state.store.db())
        .await?
        .ok_or_else(|| Problem::not_found_entity("run"))
}

/// `GET /api/v1/runs/{id}`.
pub async fn get_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &RunView::from(load(&state, id).await?),
    ))
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
    /// Standard output lines (latest attempt).
    pub stdout: Vec<String>,
    /// Standard error lines.
    pub stderr: Vec<String>,
}

/// `GET /api/v1/runs/{id}/steps`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct StepsView {
    /// The run's status.
    pub status: String,
    /// Steps in job order, then by target.
    pub items: Vec<StepView>,
}

/// `GET /api/v1/runs/{id}/steps`.
pub async fn steps(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let r = load(&state, id).await?;
    let db = state.store.db();
    let order: Vec<String> =
        crate::store::job_version::Entity::find_by_id((r.job_id, r.job_version))
            .one(db)
            .await?
            .and_then(|v| v.definition.get("steps").cloned())
            .and_then(|s| s.as_array().cloned())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.get("id").and_then(Value::as_str).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
    let mut rows = run_step::Entity::find()
        .filter(run_step::Column::RunId.eq(id))
        .all(db)
        .await?;
    let pos = |s: &str| order.iter().position(|o| o == s).unwrap_or(usize::MAX);
    rows.sort_by_key(|s| (pos(&s.step_id), s.target_id));
    let lines = db
        .query_all(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT step_id, target_key, stream, text FROM run_output WHERE run_id = $1 ORDER BY step_id, target_key, line_no",
            vec![id.into()],
        ))
        .await?;
    let mut out: BTreeMap<(String, Uuid), (Vec<String>, Vec<String>)> = BTreeMap::new();
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
    Ok(reply(
        StatusCode::OK,
        &StepsView {
            status: r.status,
            items,
        },
    ))
}

/// `POST /api/v1/runs/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let r = load(&state, id).await?;
    if !matches!(r.status.as_str(), "queued" | "running") {
        return Err(Problem::conflict(format!(
            "the run is {} already",
            r.status
        )));
    }
    let request = RunCancel {
        run_id: id,
        requested_by: me.user_id.to_string(),
        reason: None,
    };
    // Kept in the event stream (a worker starting later sees it) …
    let mut event =
        CloudEvent::new(state.bus.source.clone(), request.clone()).with_subject(id.to_string());
    event.id = format!("{id}.cancel_requested");
    state
        .bus
        .publish(
            state
                .bus
                .subjects
                .run_event(&id.to_string(), "cancel_requested"),
            &event,
        )
        .await
        .map_err(|e| {
            Problem::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "bus-unavailable",
                "The bus is unavailable",
            )
            .detail(e.to_string())
        })?;
    // … and sent now to the workers running it.
    let now = CloudEvent::new(state.bus.source.clone(), request);
    let _ = state
        .bus
        .client
        .publish(
            state.bus.subjects.run_cancel(&id.to_string()),
            now.encode().into(),
        )
        .await;
    if r.shards.is_none() {
        // Not dispatched yet: nothing runs, the run ends here.
        crate::runs::finish_run(
            &state,
            id,
            RunStatus::Cancelled,
            Some(format!("cancelled by {}", me.username)),
        )
        .await;
    }
    let mut res = reply(
        StatusCode::ACCEPTED,
        &RunView::from(load(&state, id).await?),
    );
    res.extensions_mut()
        .insert(AuditDetail::new("run.cancel", "run", id));
    Ok(res)
}

/// `POST /api/v1/runs/{id}/rerun`.
pub async fn rerun(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let r = load(&state, id).await?;
    let mut parameters: BTreeMap<String, Value> =
        serde_json::from_value(r.parameters.clone()).unwrap_or_default();
    if let (Some(sealed), Some(dek), Some(kek)) =
        (r.secret_parameters, r.secret_dek, r.secret_kek_id)
    {
        let env = vault::Sealed {
            sealed,
            wrapped_dek: dek,
            kek_id: kek,
        };
        let bytes = vault::open(&state.vault, r.id, SECRET_KIND, &env)
            .map_err(|e| Problem::internal(&e))?;
        let secret: BTreeMap<String, Value> = serde_json::from_slice(&bytes).unwrap_or_default();
        parameters.extend(secret);
    }
    let targets = r.targets.and_then(|t| serde_json::from_value(t).ok());
    let (run_id, _) = start(
        &state,
        StartRun {
            job_id: r.job_id,
            parameters,
            targets,
            trigger: Trigger {
                kind: TriggerKind::Rerun,
                actor: me.user_id.to_string(),
            },
            idempotency_key: None,
            created_by: Some(me.user_id),
            rerun_of: Some(id),
        },
    )
    .await?;
    let mut res = accepted(run_id, false);
    res.extensions_mut()
        .insert(AuditDetail::new("run.rerun", "run", run_id).summary(json!({"rerun_of": id})));
    Ok(res)
}
