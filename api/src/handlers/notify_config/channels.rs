//! `/api/v1/notifications/channels`: admins write; operators and admins read.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::audited;
use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, OPERATOR, Route};
use crate::notify_config::channels::{self, ChannelBody, ChannelView};
use crate::notify_config::test_send::{self, TestBody, TestOutcome};

const KIND: &str = "notification_channel";

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET, "/api/v1/notifications/channels", OPERATOR, "List notification channels (never their secrets: secrets_set names the secrets set)", routing::get(list))
            .ok::<Vec<ChannelView>>(200),
        Route::new(M::POST, "/api/v1/notifications/channels", ADMIN, "Create a notification channel (invalid settings or secrets: 422 naming the field)", routing::post(create))
            .body::<ChannelBody>()
            .ok::<ChannelView>(201),
        Route::new(M::GET, "/api/v1/notifications/channels/{id}", OPERATOR, "Get a notification channel (without secrets)", routing::get(get))
            .ok::<ChannelView>(200),
        Route::new(M::PUT, "/api/v1/notifications/channels/{id}", ADMIN, "Replace a notification channel; without `secrets` the stored ones are kept, a secret set to null is cleared", routing::put(replace))
            .body::<ChannelBody>()
            .ok::<ChannelView>(200),
        Route::new(M::PATCH, "/api/v1/notifications/channels/{id}", ADMIN, "Change the given fields of a notification channel", routing::patch(patch))
            .body::<ChannelBody>()
            .ok::<ChannelView>(200),
        Route::new(M::DELETE, "/api/v1/notifications/channels/{id}", ADMIN, "Delete a notification channel (409 while a rule sends through it)", routing::delete(remove))
            .no_content(),
        Route::new(M::POST, "/api/v1/notifications/channels/{id}/test", ADMIN, "Send a test through a channel and wait up to 30 s for the notifier's outcome (202 when it does not answer)", routing::post(test))
            .body::<TestBody>()
            .ok::<TestOutcome>(200),
    ]
}

/// `GET /api/v1/notifications/channels`.
pub async fn list(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &channels::list(&state).await?))
}

/// `POST /api/v1/notifications/channels`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<ChannelBody>,
) -> Result<Response, Problem> {
    let v = channels::create(&state, me.user_id, body).await?;
    Ok(audited(
        StatusCode::CREATED,
        &v,
        "notification_channel.create",
        KIND,
        v.id,
        channels::summary(&v),
    ))
}

/// `GET /api/v1/notifications/channels/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &channels::get(&state, id).await?))
}

/// `PUT /api/v1/notifications/channels/{id}`.
pub async fn replace(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<ChannelBody>,
) -> Result<Response, Problem> {
    let v = channels::replace(&state, id, body).await?;
    Ok(audited(
        StatusCode::OK,
        &v,
        "notification_channel.update",
        KIND,
        v.id,
        channels::summary(&v),
    ))
}

/// `PATCH /api/v1/notifications/channels/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let names: Vec<String> = fields.keys().cloned().collect();
    let v = channels::patch(&state, id, fields).await?;
    let mut summary = channels::summary(&v);
    if let Some(m) = summary.as_object_mut() {
        m.insert("fields".to_owned(), json!(names));
    }
    Ok(audited(
        StatusCode::OK,
        &v,
        "notification_channel.update",
        KIND,
        v.id,
        summary,
    ))
}

/// `DELETE /api/v1/notifications/channels/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = channels::delete(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("notification_channel.delete", KIND, id).summary(channels::summary(&gone)),
    );
    Ok(res)
}

/// `POST /api/v1/notifications/channels/{id}/test`.
pub async fn test(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<TestBody>,
) -> Result<Response, Problem> {
    let out = test_send::run(&state, id, &me.username, body).await?;
    let status = if out.answered {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let summary = json!({"notification_id": out.notification_id, "status": out.status});
    Ok(audited(
        status,
        &out,
        "notification_channel.test",
        KIND,
        id,
        summary,
    ))
}
