//! Connection tests and host-key approval, the HTTP side of
//! [`crate::targets::probe`] and [`crate::targets::approval`]:
//! `POST /api/v1/targets/{id}/test`, `POST /api/v1/target-groups/{id}/test`,
//! `POST /api/v1/targets/{id}/host-key/approve`, `DELETE /api/v1/targets/{id}/host-key`.
//!
//! The api never connects to a target: it seals the target's credential for
//! the target's pool and asks a worker of that pool over the bus.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use opsc_proto::probe::ProbeProtocol;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, OPERATOR, Route};
use crate::targets::approval::{self, ApproveHostKey};
use crate::targets::probe::{self, GroupOutcome, TestOutcome};

/// Which protocol to test when a target has several.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestQuery {
    /// `ssh` or `winrm` (default: SSH when configured, else WinRM).
    #[serde(default)]
    pub protocol: Option<ProbeProtocol>,
}

/// `POST /api/v1/targets/{id}/test`.
pub async fn test_target(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<TestQuery>,
) -> Result<Response, Problem> {
    let outcome = probe::test_target(&state, id, q.protocol).await?;
    let mut res = reply(StatusCode::OK, &outcome);
    let mut summary =
        json!({"ok": outcome.ok, "protocol": outcome.protocol, "stage": outcome.stage});
    if outcome.host_key_pinned {
        summary["pinned"] = json!(outcome.host_key.as_ref().map(|k| &k.fingerprint));
    }
    res.extensions_mut()
        .insert(AuditDetail::new("target.test", "target", id).summary(summary));
    Ok(res)
}

/// `POST /api/v1/target-groups/{id}/test`: every member at once.
pub async fn test_group(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<TestQuery>,
) -> Result<Response, Problem> {
    let out = probe::test_group(&state, id, q.protocol).await?;
    let mut res = reply(StatusCode::OK, &out);
    res.extensions_mut().insert(
        AuditDetail::new("target_group.test", "target_group", id)
            .summary(json!({"total": out.total, "succeeded": out.succeeded})),
    );
    Ok(res)
}

/// `POST /api/v1/targets/{id}/host-key/approve`: the record after the
/// approval; approving the key pinned already changes nothing and answers
/// the record as it is.
pub async fn approve_host_key(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ApproveHostKey>,
) -> Result<Response, Problem> {
    let done = approval::approve(&state, id, me.user_id, body).await?;
    let mut res = reply(StatusCode::OK, &done.keys);
    res.extensions_mut().insert(
        AuditDetail::new("target.host_key.approve", "target", id)
            .summary(json!({"before": done.before, "after": done.after,
                "already_pinned": done.already_pinned})),
    );
    Ok(res)
}

/// `DELETE /api/v1/targets/{id}/host-key`: forget the pinned and pending keys.
pub async fn forget_host_key(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let before = approval::forget(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("target.host_key.forget", "target", id).summary(json!({"before": before})),
    );
    Ok(res)
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/targets/{id}/test",
            OPERATOR,
            "Test the connection to a target through a worker of its pool",
            routing::post(test_target),
        )
        .query::<TestQuery>()
        .ok::<TestOutcome>(200),
        Route::new(
            Method::POST,
            "/api/v1/targets/{id}/host-key/approve",
            ADMIN,
            "Trust the pending SSH host key, or pin a given public key (approving the pinned key again changes nothing)",
            routing::post(approve_host_key),
        )
        .body::<ApproveHostKey>()
        .ok::<crate::targets::hostkey::HostKeyState>(200),
        Route::new(
            Method::DELETE,
            "/api/v1/targets/{id}/host-key",
            ADMIN,
            "Forget the pinned and pending SSH host keys",
            routing::delete(forget_host_key),
        )
        .no_content(),
        Route::new(
            Method::POST,
            "/api/v1/target-groups/{id}/test",
            OPERATOR,
            "Test every member of a group concurrently",
            routing::post(test_group),
        )
        .query::<TestQuery>()
        .ok::<GroupOutcome>(200),
    ]
}
