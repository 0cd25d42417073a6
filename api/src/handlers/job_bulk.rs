//! `POST /api/v1/jobs/bulk`: activate or deactivate many jobs at once, all
//! or nothing ([`crate::jobs::bulk`]). Each job changed is audited as
//! `PATCH /api/v1/jobs/{id}` audits it; the request itself as `job.bulk_set_active`.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::audit::{AuditDetail, Entry};
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route};
use crate::jobs::access::Actor;
use crate::jobs::bulk::{self, BulkError};

/// `POST /api/v1/jobs/bulk`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkActive {
    /// The jobs (1 to 500 ids).
    pub ids: Vec<Uuid>,
    /// Whether they may run.
    pub active: bool,
}

/// A job changed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkItem {
    /// The job's id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Whether it was active before.
    pub was_active: bool,
}

/// What `POST /api/v1/jobs/bulk` changed.
#[derive(Debug, Serialize, JsonSchema)]
pub struct BulkResult {
    /// Whether the jobs may run now.
    pub active: bool,
    /// Every job of the request.
    pub items: Vec<BulkItem>,
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(
            Method::POST,
            "/api/v1/jobs/bulk",
            OPERATOR,
            "Activate or deactivate many jobs at once, all or nothing (each needs the right to edit it)",
            routing::post(set_active),
        )
        .body::<BulkActive>()
        .ok::<BulkResult>(200),
    ]
}

fn problem(e: BulkError) -> Problem {
    match e {
        BulkError::Invalid(detail) => {
            Problem::invalid(detail.clone()).errors(json!([{"path": "/ids", "message": detail}]))
        }
        BulkError::Refused(ref refused) => {
            let forbidden = refused.iter().any(|r| r.reason == "forbidden");
            let base = if forbidden {
                Problem::forbidden(e.to_string())
            } else {
                Problem::invalid(e.to_string())
            };
            base.errors(json!(refused))
        }
        BulkError::Db(e) => e.into(),
    }
}

/// `POST /api/v1/jobs/bulk`.
pub async fn set_active(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(req): ApiJson<BulkActive>,
) -> Result<Response, Problem> {
    let before = bulk::set_active(state.db(), &req.ids, &Actor::from(&me), req.active)
        .await
        .map_err(problem)?;
    let action = if req.active {
        "job.activate"
    } else {
        "job.deactivate"
    };
    for j in &before {
        let mut entry = Entry::system(
            action,
            Some(("job", j.id.to_string())),
            json!({"name": j.name, "bulk": true}),
        );
        entry.actor_id = Some(me.user_id);
        entry.actor_name = Some(me.username.clone());
        me.kind().clone_into(&mut entry.actor_kind);
        crate::audit::write(&state, entry).await;
    }
    let items: Vec<BulkItem> = before
        .into_iter()
        .map(|j| BulkItem {
            id: j.id,
            name: j.name,
            was_active: j.active,
        })
        .collect();
    let ids: Vec<Uuid> = items.iter().map(|i| i.id).collect();
    let mut res = reply(
        StatusCode::OK,
        &BulkResult {
            active: req.active,
            items,
        },
    );
    res.extensions_mut().insert(
        AuditDetail::new("job.bulk_set_active", "job", ids.len())
            .summary(json!({"active": req.active, "ids": ids})),
    );
    Ok(res)
}
