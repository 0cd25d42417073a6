//! `POST /api/v1/adhoc-runs`: one command on targets (or the worker host)
//! without a saved job; the rules are in [`crate::runs::adhoc`]. The run
//! is followed, listed, cancelled and shown like any other run.

use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing;
use schemars::JsonSchema;
use serde::Deserialize;

use super::runs::{Accepted, accepted, idempotency_key};
use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::ApiJson;
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route};
use crate::jobs::access::Actor;
use crate::runs::adhoc::{self, Caller, Executor, Request};

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/adhoc-runs",
            OPERATOR,
            "Run one command on targets without saving a job (202 once the bus has the run; Idempotency-Key supported; executor local: admins only)",
            routing::post(start),
        )
        .body::<AdhocBody>()
        .ok::<Accepted>(202),
    ]
}

/// `POST /api/v1/adhoc-runs`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdhocBody {
    /// The command line: for `ssh` run by the remote user's shell, for
    /// `winrm` a PowerShell script, for `local` run by `/bin/sh` on the
    /// worker. A template, as in a job (`{{ target.hostname }}`).
    pub command: String,
    /// Where it runs (default `ssh`).
    #[serde(default)]
    pub executor: Executor,
    /// Targets by name or id.
    #[serde(default)]
    pub targets: Vec<String>,
    /// Target groups by name or id: their members.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The targets carrying every one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Targets running it at once at most (default 50).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub parallelism: Option<u32>,
    /// Seconds the command may take on each target, and the run in all
    /// (default: 300 for the command, 3600 for the run).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub timeout_secs: Option<u64>,
    /// The worker pool of a `local` command (default `default`).
    #[serde(default)]
    pub pool: Option<String>,
    /// Start it even inside an open maintenance window (audited as
    /// `run.window_override`). Without it such a command answers 409.
    #[serde(default)]
    pub override_window: bool,
}

/// `POST /api/v1/adhoc-runs`.
pub async fn start(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<AdhocBody>,
) -> Result<Response, Problem> {
    let key = idempotency_key(&headers)?;
    let executor = body.executor;
    let command = body.command.clone();
    let caller = Caller {
        actor: Actor::from(&me),
        pools: &state.config.pools,
    };
    let req = Request {
        command: body.command,
        executor,
        targets: body.targets,
        groups: body.groups,
        tags: body.tags,
        parallelism: body.parallelism,
        timeout_secs: body.timeout_secs,
        pool: body.pool,
        override_window: body.override_window,
    };
    let started = adhoc::start(&state, &caller, req, key)
        .await
        .map_err(|e| crate::http::errors::admission(&state, e))?;
    let run_id = started.admitted.run_id;
    let mut res = accepted(run_id, started.admitted.replayed);
    if !started.admitted.replayed {
        res.extensions_mut().insert(
            AuditDetail::new("run.adhoc", "run", run_id)
                .summary(adhoc::summary(&command, executor, &started)),
        );
    }
    Ok(res)
}
