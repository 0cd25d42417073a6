//! `/api/v1/schedules`: cron schedules of jobs, the HTTP side of
//! [`crate::schedules`]. Every signed-in user reads them; creating,
//! changing, pausing and deleting one needs the right to run its job (and,
//! but for creating, being its owner or an admin), checked by the domain
//! calls.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{OPERATOR, Route, VIEWER};
use crate::jobs::access::Actor;
use crate::schedules::history::{self, FiresQuery, FiresView};
use crate::schedules::{
    CalendarQuery, CalendarView, NextPreviewBody, NextQuery, NextView, ScheduleBody, SchedulePatch,
    ScheduleQuery, ScheduleView, crud, preview,
};
use crate::store::paging::Page;

/// The routes of this module.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET, "/api/v1/schedules", VIEWER, "List schedules (filters: job_id, enabled)", routing::get(list))
            .query::<ScheduleQuery>()
            .ok::<Page<ScheduleView>>(200),
        Route::new(M::POST, "/api/v1/schedules", OPERATOR, "Create a schedule of a job one may run (invalid cron, zone, bounds, misfire policy or parameters: 422 naming the field)", routing::post(create))
            .body::<ScheduleBody>()
            .ok::<ScheduleView>(201),
        Route::new(M::GET, "/api/v1/schedules/calendar", VIEWER, "Every occurrence of every enabled schedule in [from, to), 31 days at most, 10,000 items at most", routing::get(calendar))
            .query::<CalendarQuery>()
            .ok::<CalendarView>(200),
        Route::new(M::POST, "/api/v1/schedules/next", VIEWER, "The next occurrences of an expression not saved yet (a schedule form being filled in), daylight-saving skips included and marked; a wrong expression, zone or bound: 422 naming the field", routing::post(next_of))
            .body::<NextPreviewBody>()
            .ok::<NextView>(200),
        Route::new(M::GET, "/api/v1/schedules/{id}", VIEWER, "Get a schedule", routing::get(get))
            .ok::<ScheduleView>(200),
        Route::new(M::PUT, "/api/v1/schedules/{id}", OPERATOR, "Replace a schedule (its owner or an admin, who may run its job)", routing::put(replace))
            .body::<ScheduleBody>()
            .ok::<ScheduleView>(200),
        Route::new(M::PATCH, "/api/v1/schedules/{id}", OPERATOR, "Change the given fields of a schedule (its owner or an admin, who may run its job)", routing::patch(patch))
            .body::<SchedulePatch>()
            .ok::<ScheduleView>(200),
        Route::new(M::DELETE, "/api/v1/schedules/{id}", OPERATOR, "Delete a schedule and its fires (its owner or an admin, who may run its job)", routing::delete(remove))
            .no_content(),
        Route::new(M::POST, "/api/v1/schedules/{id}/pause", OPERATOR, "Pause a schedule (its owner or an admin, who may run its job)", routing::post(pause))
            .ok::<ScheduleView>(200),
        Route::new(M::POST, "/api/v1/schedules/{id}/resume", OPERATOR, "Resume a paused schedule; missed fires follow its misfire policy", routing::post(resume))
            .ok::<ScheduleView>(200),
        Route::new(M::GET, "/api/v1/schedules/{id}/next", VIEWER, "The next occurrences of a schedule, daylight-saving skips included and marked", routing::get(next))
            .query::<NextQuery>()
            .ok::<NextView>(200),
        Route::new(M::GET, "/api/v1/schedules/{id}/fires", VIEWER, "What the scheduler did with the schedule's occurrences, newest first, with the runs started", routing::get(fires))
            .query::<FiresQuery>()
            .ok::<FiresView>(200),
    ]
}

/// A reply carrying the audit detail of `action` on the schedule.
fn audited(
    status: StatusCode,
    view: &ScheduleView,
    action: &str,
    extra: Option<Value>,
) -> Response {
    let mut summary = crud::summary(view);
    if let (Some(extra), Some(map)) = (extra, summary.as_object_mut()) {
        map.insert("fields".to_owned(), extra);
    }
    let mut res = reply(status, view);
    res.extensions_mut()
        .insert(AuditDetail::new(action, "schedule", view.id).summary(summary));
    res
}

/// `GET /api/v1/schedules`.
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ScheduleQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::list(&state, &q).await?))
}

/// `POST /api/v1/schedules`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Response, Problem> {
    let view = crud::create(&state, &Actor::from(&me), body).await?;
    Ok(audited(StatusCode::CREATED, &view, "schedule.create", None))
}

/// `GET /api/v1/schedules/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &crud::get(&state, id).await?))
}

/// `PUT /api/v1/schedules/{id}`.
pub async fn replace(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ScheduleBody>,
) -> Result<Response, Problem> {
    let view = crud::replace(&state, &Actor::from(&me), id, body).await?;
    Ok(audited(StatusCode::OK, &view, "schedule.update", None))
}

/// `PATCH /api/v1/schedules/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let names: Vec<String> = fields.keys().cloned().collect();
    let view = crud::patch(&state, &Actor::from(&me), id, fields).await?;
    Ok(audited(
        StatusCode::OK,
        &view,
        "schedule.update",
        Some(json!(names)),
    ))
}

/// `DELETE /api/v1/schedules/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = crud::delete(&state, &Actor::from(&me), id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("schedule.delete", "schedule", id)
            .summary(json!({"name": gone.name, "job_id": gone.job_id, "revision": gone.revision})),
    );
    Ok(res)
}

/// `POST /api/v1/schedules/{id}/pause`.
pub async fn pause(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let view = crud::set_paused(&state, &Actor::from(&me), id, true).await?;
    Ok(audited(StatusCode::OK, &view, "schedule.pause", None))
}

/// `POST /api/v1/schedules/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let view = crud::set_paused(&state, &Actor::from(&me), id, false).await?;
    Ok(audited(StatusCode::OK, &view, "schedule.resume", None))
}

/// `GET /api/v1/schedules/{id}/next`.
pub async fn next(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<NextQuery>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &preview::next(&state, id, q.count).await?,
    ))
}

/// `POST /api/v1/schedules/next`.
///
/// Off the async workers, two at a time per api process; a third at once
/// answers 429 (each may search ten years of dates for one that fires).
pub async fn next_of(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NextPreviewBody>,
) -> Result<Response, Problem> {
    let busy = || {
        Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "previews-busy",
            "Too Many Requests",
        )
        .detail("other cron previews are being computed; try again in a moment")
        .retry_after(1)
    };
    let permit = state
        .cron_previews
        .clone()
        .try_acquire_owned()
        .map_err(|_| busy())?;
    let view = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        preview::next_of(&body)
    })
    .await
    .map_err(|_| busy())??;
    Ok(reply(StatusCode::OK, &view))
}

/// `GET /api/v1/schedules/calendar`.
pub async fn calendar(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &preview::calendar(&state, &q).await?))
}

/// `GET /api/v1/schedules/{id}/fires`.
pub async fn fires(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<FiresQuery>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &history::list(&state, id, &q).await?))
}
