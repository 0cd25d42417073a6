//! `/api/v1/jobs/{id}/run` and `/api/v1/runs`: start, list, inspect,
//! re-run and cancel runs. Starting, re-running and cancelling need the
//! right to run the job ([`crate::jobs::access`]; one's own runs may always
//! be cancelled). Live output (SSE and WebSocket) is in [`super::run_stream`].

use std::collections::BTreeMap;

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing;
use opsc_proto::commands::{TargetSelection, Trigger, TriggerKind};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::{Credential, Principal};
use crate::http::AppState;
use crate::http::json::{ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::jobs::access::{Action, Actor};
use crate::runs::queries::{self, RunQuery, RunView, StepsQuery, StepsView};
use crate::runs::rerun::Rerun;
use crate::runs::{Admission, JobName};
use crate::store::paging::Page;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::POST,
            "/api/v1/jobs/{id}/run",
            OPERATOR,
            "Run a job (202 once the bus has the run; Idempotency-Key supported)",
            routing::post(run_job),
        )
        .body::<RunBody>()
        .job_access(Action::Run)
        .ok::<Accepted>(202),
        Route::new(
            M::GET,
            "/api/v1/runs",
            VIEWER,
            "List runs (filters: job_id, status, trigger, target_id, since, until)",
            routing::get(list),
        )
        .query::<RunQuery>()
        .ok::<Page<RunView>>(200),
        Route::new(
            M::GET,
            "/api/v1/runs/{id}",
            VIEWER,
            "Get a run",
            routing::get(get_run),
        )
        .ok::<RunView>(200),
        Route::new(
            M::GET,
            "/api/v1/runs/{id}/steps",
            VIEWER,
            "Steps of a run per target, with captured output",
            routing::get(steps),
        )
        .query::<StepsQuery>()
        .ok::<StepsView>(200),
        Route::new(
            M::POST,
            "/api/v1/runs/{id}/cancel",
            OPERATOR,
            "Cancel a run (one's own, or a run of a job one may run)",
            routing::post(cancel),
        )
        .job_access(Action::Run)
        .ok::<RunView>(202),
        Route::new(
            M::POST,
            "/api/v1/runs/{id}/rerun",
            OPERATOR,
            "Run the version a run ran again, with its parameters and targets (secret parameters are replayed only to who started it; Idempotency-Key supported)",
            routing::post(rerun),
        )
        .body::<RerunBody>()
        .job_access(Action::Run)
        .ok::<Accepted>(202),
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
    /// Start it even inside an open maintenance window that covers the
    /// job or its targets (admins and operators; audited as
    /// `run.window_override`). Without it such a run answers 409.
    #[serde(default)]
    pub override_window: bool,
}

/// `POST /api/v1/runs/{id}/rerun` (optional).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RerunBody {
    /// Secret parameters, given again: needed when the caller did not start
    /// the run (its secret values are replayed only to who did). Only
    /// secret parameters may be given; the others are the run's.
    #[serde(default)]
    pub parameters: BTreeMap<String, Value>,
    /// Start it even inside an open maintenance window (as for a run).
    #[serde(default)]
    pub override_window: bool,
}

/// A JSON body that may be empty (then `T::default()`).
pub(super) fn optional_body<T: Default + serde::de::DeserializeOwned>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Problem> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        crate::http::json::read_json(body).map_err(|p| p.for_request(headers))
    }
}

/// The answer to a run request.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Accepted {
    /// The run.
    pub run_id: Uuid,
    /// Where to follow it.
    pub stream_url: String,
}

/// The admission of a run of `job_id` that `me` asks for over HTTP, with
/// no intent or idempotency key (a run request adds its own).
pub(super) fn admission_of(
    me: &Principal,
    job_id: Uuid,
    parameters: BTreeMap<String, Value>,
    targets: Option<TargetSelection>,
) -> Admission {
    Admission {
        job: JobName::Id(job_id),
        version: None,
        parameters,
        targets,
        trigger: trigger_of(me),
        intent_id: None,
        may_repeat: false,
        public_intent_id: None,
        idempotency_key: None,
        sealed: None,
        created_by: Some(me.user_id),
        caller: Some(Actor::from(me)),
        retry: None,
        rerun_of: None,
    }
}

fn trigger_of(me: &Principal) -> Trigger {
    let kind = match me.credential {
        Credential::ApiToken { .. } => TriggerKind::Api,
        Credential::Session { .. } => TriggerKind::Manual,
    };
    Trigger::new(kind, me.user_id.to_string())
}

pub(super) fn accepted(run_id: Uuid, again: bool) -> Response {
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

/// The `Idempotency-Key` header, checked.
pub(super) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .map_err(|_| Problem::invalid("Idempotency-Key must be visible ASCII"))?;
    if key.is_empty() || key.len() > 200 {
        return Err(Problem::invalid("Idempotency-Key must be 1-200 characters"));
    }
    Ok(Some(key.to_owned()))
}

/// `POST /api/v1/jobs/{id}/run`.
pub async fn run_job(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    ApiPath(job_id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let body: RunBody = optional_body(&headers, &body)?;
    let key = idempotency_key(&headers)?;
    let intent_id = key.as_ref().map(|k| format!("http:{}:{k}", me.user_id));
    let override_window = body.override_window;
    let done = crate::runs::admit_with(
        &state,
        Admission {
            intent_id,
            may_repeat: key.is_some(),
            idempotency_key: key,
            ..admission_of(&me, job_id, body.parameters, body.targets)
        },
        override_window,
    )
    .await
    .map_err(|e| crate::http::errors::admission(&state, e))?;
    let mut res = accepted(done.run_id, done.replayed);
    if !done.replayed {
        res.extensions_mut().insert(
            AuditDetail::new("run.start", "run", done.run_id).summary(json!({"job_id": job_id})),
        );
    }
    Ok(res)
}

/// `GET /api/v1/runs`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<RunQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &queries::list(&state, &q).await?))
}

/// `GET /api/v1/runs/{id}`.
pub async fn get_run(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &queries::view(&state, id).await?))
}

/// `GET /api/v1/runs/{id}/steps`.
pub async fn steps(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<StepsQuery>,
) -> Result<Response, Problem> {
    let with_output = q.output.unwrap_or(true);
    Ok(reply(
        StatusCode::OK,
        &queries::steps(&state, id, with_output).await?,
    ))
}

/// `POST /api/v1/runs/{id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let r = queries::get(&state, id).await?;
    crate::jobs::access::require_cancel(state.db(), &Actor::from(&me), &r)
        .await
        .map_err(|e| Problem::from(crate::jobs::JobError::from(e)))?;
    crate::runs::lifecycle::cancel(&state, &r, &me.user_id.to_string(), &me.username).await?;
    let mut res = reply(
        StatusCode::ACCEPTED,
        &RunView::from(queries::get(&state, id).await?),
    );
    res.extensions_mut()
        .insert(AuditDetail::new("run.cancel", "run", id));
    Ok(res)
}

/// `POST /api/v1/runs/{id}/rerun`: the version the run ran, with its
/// parameters and targets; its secret parameters replayed only to who
/// started it (others give them again in the body).
pub async fn rerun(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<Uuid>,
    body: axum::body::Bytes,
) -> Result<Response, Problem> {
    let body: RerunBody = optional_body(&headers, &body)?;
    let key = idempotency_key(&headers)?;
    let r = queries::get(&state, id).await?;
    let done = crate::runs::rerun::rerun(
        &state,
        Rerun {
            of: &r,
            actor: Actor::from(&me),
            parameters: body.parameters,
            override_window: body.override_window,
            idempotency_key: key,
        },
    )
    .await
    .map_err(|e| crate::http::errors::admission(&state, e))?;
    let run_id = done.admitted.run_id;
    let mut res = accepted(run_id, done.admitted.replayed);
    if done.admitted.replayed {
        return Ok(res);
    }
    res.extensions_mut()
        .insert(AuditDetail::new("run.rerun", "run", run_id).summary(json!({
            "rerun_of": id,
            "job_id": r.job_id,
            "job_version": r.job_version,
            "replayed_sealed_parameters": done.secrets_replayed,
        })));
    Ok(res)
}
