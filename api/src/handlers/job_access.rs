//! `/api/v1/jobs/{id}/grants` and `/api/v1/jobs/{id}/owner`: who besides
//! its owner may run or edit a job, and who owns it. The rules are in
//! [`crate::jobs::access`], the changes in [`crate::jobs::grants`].

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, OPERATOR, Route};
use crate::jobs::access::{Action, Actor};
use crate::jobs::grants::{self, Changed, GrantsChange, OwnerChange};
use crate::jobs::store;
use crate::jobs::view::{self, JobView};

/// The job after a change, with the audit entry.
async fn changed(
    state: &AppState,
    actor: &Actor,
    done: Changed,
    action: &'static str,
) -> Result<Response, Problem> {
    let db = state.store.db();
    let id = done.job.id;
    let v = store::version(db, id, done.job.current_version).await?;
    let shown = view::job_view(db, actor, done.job, &v).await?;
    let mut res = reply(StatusCode::OK, &shown);
    res.extensions_mut()
        .insert(AuditDetail::new(action, "job", id).summary(done.summary));
    Ok(res)
}

/// `PUT /api/v1/jobs/{id}/grants`: replaces the job's grants.
pub async fn set_grants(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(change): ApiJson<GrantsChange>,
) -> Result<Response, Problem> {
    let actor = Actor::from(&me);
    let done = grants::replace(state.store.db(), id, &actor, &change.grants).await?;
    changed(&state, &actor, done, "job.grants").await
}

/// `PUT /api/v1/jobs/{id}/owner`: gives the job to another owner.
pub async fn set_owner(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<uuid::Uuid>,
    ApiJson(change): ApiJson<OwnerChange>,
) -> Result<Response, Problem> {
    let actor = Actor::from(&me);
    let done = grants::transfer(state.store.db(), id, &actor, &change).await?;
    changed(&state, &actor, done, "job.transfer").await
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::PUT,
            "/api/v1/jobs/{id}/grants",
            OPERATOR,
            "Replace who besides its owner may run or edit a job (its owner or an admin)",
            routing::put(set_grants),
        )
        .body::<GrantsChange>()
        .job_access(Action::ManageGrants)
        .ok::<JobView>(200),
        Route::new(
            M::PUT,
            "/api/v1/jobs/{id}/owner",
            ADMIN,
            "Give a job to another owner (admins)",
            routing::put(set_owner),
        )
        .body::<OwnerChange>()
        .job_access(Action::Transfer)
        .ok::<JobView>(200),
    ]
}
