//! `/api/v1/notifications`: the history of what the notifier did, the
//! HTTP side of [`crate::notifications`]. Everyone reads what they may see
//! (admins all; others notifications about jobs, or addressed to them);
//! the job's runners, the recipient and admins acknowledge; admins list
//! and re-send dead letters; operators read the notifier's status.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing;
use serde_json::json;
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::errors::{db, unavailable};
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, OPERATOR, Route, VIEWER};
use crate::jobs::access::Actor;
use crate::notifications::NotificationError;
use crate::notifications::actions::{self, AckView, BulkResend, ResendsView};
use crate::notifications::queries::{
    self, DeadLetterQuery, NotificationDetail, NotificationQuery, NotificationView,
};
use crate::notifications::status::{self, StatusView};
use crate::store::paging::Page;

impl From<NotificationError> for Problem {
    fn from(e: NotificationError) -> Self {
        match e {
            NotificationError::NotFound => Problem::not_found_entity("notification"),
            NotificationError::Denied(d) => Problem::forbidden(d),
            NotificationError::Invalid(path, detail) => {
                Problem::invalid(detail.clone()).errors(json!([{"path": path, "message": detail}]))
            }
            NotificationError::NotDeadLettered(_) => Problem::conflict(e.to_string()),
            NotificationError::Unavailable(d) => unavailable(d),
            NotificationError::Db(e) => db(&e),
        }
    }
}

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET, "/api/v1/notifications", VIEWER, "List notifications, newest first (filters: job_id, run_id, channel_id, status, since, until); admins see all, others those about jobs or addressed to them", routing::get(list))
            .query::<NotificationQuery>()
            .ok::<Page<NotificationView>>(200),
        Route::new(M::GET, "/api/v1/notifications/status", OPERATOR, "The notifier's replicas, queue depth, recent failures per channel and whether delivery is paused", routing::get(get_status))
            .ok::<StatusView>(200),
        Route::new(M::GET, "/api/v1/notifications/dead-letters", ADMIN, "List dead-lettered notifications, newest first (filters: channel_id, since)", routing::get(dead_letters))
            .query::<DeadLetterQuery>()
            .ok::<Page<NotificationView>>(200),
        Route::new(M::POST, "/api/v1/notifications/dead-letters/resend", ADMIN, "Re-send dead letters in bulk: {ids} or {channel_id, since}; answers the resend ids once the commands are on the bus", routing::post(resend_bulk))
            .body::<BulkResend>()
            .ok::<ResendsView>(202),
        Route::new(M::POST, "/api/v1/notifications/dead-letters/{id}/resend", ADMIN, "Re-send one dead letter with its stored rendered message (409 when it is not dead-lettered)", routing::post(resend_one))
            .ok::<ResendsView>(202),
        Route::new(M::GET, "/api/v1/notifications/{id}", VIEWER, "Get a notification with its rendered message and every attempt", routing::get(get))
            .ok::<NotificationDetail>(200),
        Route::new(M::POST, "/api/v1/notifications/{id}/ack", VIEWER, "Acknowledge a notification (its recipient, who may run its job, admins): stops its escalation; a second acknowledgement answers who acknowledged first", routing::post(ack))
            .ok::<AckView>(200),
    ]
}

/// `GET /api/v1/notifications`.
pub async fn list(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiQuery(q): ApiQuery<NotificationQuery>,
) -> Result<Response, Problem> {
    let page = queries::list(&state, &Actor::from(&me), &q).await?;
    Ok(reply(StatusCode::OK, &page))
}

/// `GET /api/v1/notifications/{id}`.
pub async fn get(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let n = queries::get(&state, &Actor::from(&me), id).await?;
    Ok(reply(StatusCode::OK, &n))
}

/// `POST /api/v1/notifications/{id}/ack`.
pub async fn ack(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let v = actions::ack(&state, &me, id).await?;
    let mut res = reply(StatusCode::OK, &v);
    if v.first {
        res.extensions_mut()
            .insert(AuditDetail::new("notification.ack", "notification", id));
    }
    Ok(res)
}

/// `GET /api/v1/notifications/dead-letters`.
pub async fn dead_letters(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DeadLetterQuery>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &queries::dead_letters(&state, &q).await?,
    ))
}

/// `POST /api/v1/notifications/dead-letters/{id}/resend`.
pub async fn resend_one(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let v = actions::resend_one(&state, &me, id).await?;
    let mut res = reply(StatusCode::ACCEPTED, &v);
    res.extensions_mut()
        .insert(AuditDetail::new("notification.resend", "notification", id));
    Ok(res)
}

/// `POST /api/v1/notifications/dead-letters/resend`.
pub async fn resend_bulk(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<BulkResend>,
) -> Result<Response, Problem> {
    let v = actions::resend_bulk(&state, &me, &body).await?;
    let mut res = reply(StatusCode::ACCEPTED, &v);
    res.extensions_mut().insert(
        AuditDetail::new("notification.resend", "notification", Uuid::nil())
            .summary(json!({"count": v.resends.len()})),
    );
    Ok(res)
}

/// `GET /api/v1/notifications/status`.
pub async fn get_status(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &status::status(&state).await?))
}
