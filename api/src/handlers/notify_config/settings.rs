//! `/api/v1/notifications/{preferences,defaults,templates,control}`.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use opsc_proto::notify::{DefaultsDoc, NotifyControl, PreferencesDoc};
use serde_json::json;
use uuid::Uuid;

use super::audited;
use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, Route, VIEWER};
use crate::jobs::access::Actor;
use crate::notify_config::defaults;
use crate::notify_config::preferences::{self, PreferencesBody};
use crate::notify_config::preview::{self, TemplatePreview, TemplatePreviewBody};
use crate::notify_config::templates::{self, TemplateBody, TemplateView};

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(
            M::GET,
            "/api/v1/notifications/preferences/{user_id}",
            VIEWER,
            "A user's notification preferences (`me`, or any user for admins)",
            routing::get(get_prefs),
        )
        .ok::<PreferencesDoc>(200),
        Route::new(
            M::PUT,
            "/api/v1/notifications/preferences/{user_id}",
            VIEWER,
            "Replace a user's notification preferences (`me`, or any user for admins)",
            routing::put(put_prefs),
        )
        .body::<PreferencesBody>()
        .ok::<PreferencesDoc>(200),
        Route::new(
            M::GET,
            "/api/v1/notifications/defaults",
            VIEWER,
            "The admins' notification defaults",
            routing::get(get_defaults),
        )
        .ok::<DefaultsDoc>(200),
        Route::new(
            M::PUT,
            "/api/v1/notifications/defaults",
            ADMIN,
            "Replace the notification defaults",
            routing::put(put_defaults),
        )
        .body::<DefaultsDoc>()
        .ok::<DefaultsDoc>(200),
        Route::new(
            M::GET,
            "/api/v1/notifications/templates",
            ADMIN,
            "List template overrides",
            routing::get(list_templates),
        )
        .ok::<Vec<TemplateView>>(200),
        Route::new(
            M::POST,
            "/api/v1/notifications/templates",
            ADMIN,
            "Create a template override (each text checked: 422 naming it)",
            routing::post(create_template),
        )
        .body::<TemplateBody>()
        .ok::<TemplateView>(201),
        Route::new(
            M::POST,
            "/api/v1/notifications/templates/preview",
            ADMIN,
            "Render a template on a sample notice, or on a run's (run_id)",
            routing::post(preview_template),
        )
        .body::<TemplatePreviewBody>()
        .ok::<TemplatePreview>(200),
        Route::new(
            M::GET,
            "/api/v1/notifications/templates/{id}",
            ADMIN,
            "Get a template override",
            routing::get(get_template),
        )
        .ok::<TemplateView>(200),
        Route::new(
            M::PUT,
            "/api/v1/notifications/templates/{id}",
            ADMIN,
            "Replace a template override",
            routing::put(replace_template),
        )
        .body::<TemplateBody>()
        .ok::<TemplateView>(200),
        Route::new(
            M::DELETE,
            "/api/v1/notifications/templates/{id}",
            ADMIN,
            "Delete a template override",
            routing::delete(remove_template),
        )
        .no_content(),
        Route::new(
            M::GET,
            "/api/v1/notifications/control",
            ADMIN,
            "Whether notification delivery is paused",
            routing::get(get_control),
        )
        .ok::<NotifyControl>(200),
        Route::new(
            M::POST,
            "/api/v1/notifications/control/pause",
            ADMIN,
            "Pause notification delivery (decisions go on; sends wait)",
            routing::post(pause),
        )
        .ok::<NotifyControl>(200),
        Route::new(
            M::POST,
            "/api/v1/notifications/control/resume",
            ADMIN,
            "Resume notification delivery",
            routing::post(resume),
        )
        .ok::<NotifyControl>(200),
    ]
}

/// `me` or a user id.
fn user_of(me: &Principal, id: &str) -> Result<Uuid, Problem> {
    if id == "me" {
        return Ok(me.user_id);
    }
    Uuid::parse_str(id).map_err(|_| {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "invalid-path",
            "Invalid Path Parameter",
        )
        .detail("user_id: must be a user id or `me`")
    })
}

/// `GET /api/v1/notifications/preferences/{user_id}`.
pub async fn get_prefs(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, Problem> {
    let id = user_of(&me, &id)?;
    Ok(reply(
        StatusCode::OK,
        &preferences::get(&state, &Actor::from(&me), id).await?,
    ))
}

/// `PUT /api/v1/notifications/preferences/{user_id}`.
pub async fn put_prefs(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<PreferencesBody>,
) -> Result<Response, Problem> {
    let id = user_of(&me, &id)?;
    let doc = preferences::put(&state, &Actor::from(&me), id, body).await?;
    let summary = json!({"user_id": id, "revision": doc.revision});
    Ok(audited(
        StatusCode::OK,
        &doc,
        "notification_preferences.update",
        "user",
        id,
        summary,
    ))
}

/// `GET /api/v1/notifications/defaults`.
pub async fn get_defaults(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &defaults::get(state.db()).await?))
}

/// `PUT /api/v1/notifications/defaults`.
pub async fn put_defaults(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DefaultsDoc>,
) -> Result<Response, Problem> {
    let doc = defaults::put(&state, body).await?;
    let summary = json!({"channels": doc.channels, "quiet_hours": doc.quiet_hours, "channels_for_users": doc.channels_for_users});
    Ok(audited(
        StatusCode::OK,
        &doc,
        "notification_defaults.update",
        "notification_defaults",
        Uuid::nil(),
        summary,
    ))
}

/// `GET /api/v1/notifications/templates`.
pub async fn list_templates(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &templates::list(&state).await?))
}

/// `POST /api/v1/notifications/templates`.
pub async fn create_template(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Response, Problem> {
    let v = templates::create(&state, me.user_id, body).await?;
    let id = v.template.id;
    Ok(audited(
        StatusCode::CREATED,
        &v,
        "notification_template.create",
        "notification_template",
        id,
        templates::summary(&v),
    ))
}

/// `GET /api/v1/notifications/templates/{id}`.
pub async fn get_template(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &templates::get(&state, id).await?))
}

/// `PUT /api/v1/notifications/templates/{id}`.
pub async fn replace_template(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TemplateBody>,
) -> Result<Response, Problem> {
    let v = templates::replace(&state, id, body).await?;
    Ok(audited(
        StatusCode::OK,
        &v,
        "notification_template.update",
        "notification_template",
        id,
        templates::summary(&v),
    ))
}

/// `DELETE /api/v1/notifications/templates/{id}`.
pub async fn remove_template(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = templates::delete(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("notification_template.delete", "notification_template", id)
            .summary(templates::summary(&gone)),
    );
    Ok(res)
}

/// `POST /api/v1/notifications/templates/preview`.
pub async fn preview_template(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TemplatePreviewBody>,
) -> Result<Response, Problem> {
    Ok(reply(
        StatusCode::OK,
        &preview::template(&state, body).await?,
    ))
}

/// `GET /api/v1/notifications/control`.
pub async fn get_control(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &defaults::control(state.db()).await?))
}

async fn set(state: &AppState, me: &Principal, paused: bool) -> Result<Response, Problem> {
    let c = defaults::set_paused(state, &me.username, paused).await?;
    let action = if paused {
        "notifications.pause"
    } else {
        "notifications.resume"
    };
    Ok(audited(
        StatusCode::OK,
        &c,
        action,
        "notification_control",
        Uuid::nil(),
        json!({"paused": paused}),
    ))
}

/// `POST /api/v1/notifications/control/pause`.
pub async fn pause(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    set(&state, &me, true).await
}

/// `POST /api/v1/notifications/control/resume`.
pub async fn resume(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
) -> Result<Response, Problem> {
    set(&state, &me, false).await
}
