//! `/api/v1/notifications/rules`: admins write; operators and admins read
//! and preview.

use axum::Extension;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing;
use opsc_proto::notify::RuleDoc;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::audited;
use crate::audit::AuditDetail;
use crate::auth::Principal;
use crate::http::AppState;
use crate::http::json::{ApiJson, ApiPath, ApiQuery, reply};
use crate::http::problem::Problem;
use crate::http::routes::{ADMIN, OPERATOR, Route};
use crate::notify_config::preview::{self, PreviewQuery, RulePreview};
use crate::notify_config::rules::{self, RuleView};

const KIND: &str = "notification_rule";

/// The routes of this file.
pub fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        Route::new(M::GET, "/api/v1/notifications/rules", OPERATOR, "List notification rules", routing::get(list))
            .ok::<Vec<RuleView>>(200),
        Route::new(M::POST, "/api/v1/notifications/rules", ADMIN, "Create a notification rule (a RuleDoc without id and revision; unknown channels or users, or recipients of the wrong kind: 422)", routing::post(create))
            .body::<RuleDoc>()
            .ok::<RuleView>(201),
        Route::new(M::POST, "/api/v1/notifications/rules/preview", OPERATOR, "Which of the newest notices (7 days, 500 at most) a rule body would match, with the triggers matched", routing::post(preview_body))
            .query::<PreviewQuery>()
            .body::<RuleDoc>()
            .ok::<RulePreview>(200),
        Route::new(M::GET, "/api/v1/notifications/rules/{id}", OPERATOR, "Get a notification rule", routing::get(get))
            .ok::<RuleView>(200),
        Route::new(M::GET, "/api/v1/notifications/rules/{id}/preview", OPERATOR, "Which of the newest notices a stored rule would match", routing::get(preview_stored))
            .query::<PreviewQuery>()
            .ok::<RulePreview>(200),
        Route::new(M::PUT, "/api/v1/notifications/rules/{id}", ADMIN, "Replace a notification rule", routing::put(replace))
            .body::<RuleDoc>()
            .ok::<RuleView>(200),
        Route::new(M::PATCH, "/api/v1/notifications/rules/{id}", ADMIN, "Change the given fields of a notification rule", routing::patch(patch))
            .body::<RuleDoc>()
            .ok::<RuleView>(200),
        Route::new(M::DELETE, "/api/v1/notifications/rules/{id}", ADMIN, "Delete a notification rule", routing::delete(remove))
            .no_content(),
    ]
}

/// `GET /api/v1/notifications/rules`.
pub async fn list(State(state): State<AppState>) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &rules::list(&state).await?))
}

/// `POST /api/v1/notifications/rules`.
pub async fn create(
    State(state): State<AppState>,
    Extension(me): Extension<Principal>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let v = rules::create(&state, me.user_id, body).await?;
    Ok(audited(
        StatusCode::CREATED,
        &v,
        "notification_rule.create",
        KIND,
        v.rule.id,
        rules::summary(&v),
    ))
}

/// `GET /api/v1/notifications/rules/{id}`.
pub async fn get(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    Ok(reply(StatusCode::OK, &rules::get(&state, id).await?))
}

/// `PUT /api/v1/notifications/rules/{id}`.
pub async fn replace(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let v = rules::replace(&state, id, body).await?;
    Ok(audited(
        StatusCode::OK,
        &v,
        "notification_rule.update",
        KIND,
        id,
        rules::summary(&v),
    ))
}

/// `PATCH /api/v1/notifications/rules/{id}`.
pub async fn patch(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiJson(fields): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let names: Vec<String> = fields.keys().cloned().collect();
    let v = rules::patch(&state, id, fields).await?;
    let mut summary = rules::summary(&v);
    if let Some(m) = summary.as_object_mut() {
        m.insert("fields".to_owned(), json!(names));
    }
    Ok(audited(
        StatusCode::OK,
        &v,
        "notification_rule.update",
        KIND,
        id,
        summary,
    ))
}

/// `DELETE /api/v1/notifications/rules/{id}`.
pub async fn remove(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, Problem> {
    let gone = rules::delete(&state, id).await?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(
        AuditDetail::new("notification_rule.delete", KIND, id).summary(rules::summary(&gone)),
    );
    Ok(res)
}

/// `POST /api/v1/notifications/rules/preview`.
pub async fn preview_body(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, Problem> {
    let doc = rules::parse(body)?;
    rules::check(&state, &doc).await?;
    Ok(reply(
        StatusCode::OK,
        &preview::rule(&state, &doc, q.limit).await?,
    ))
}

/// `GET /api/v1/notifications/rules/{id}/preview`.
pub async fn preview_stored(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<Uuid>,
    ApiQuery(q): ApiQuery<PreviewQuery>,
) -> Result<Response, Problem> {
    let doc = rules::get(&state, id).await?.rule;
    Ok(reply(
        StatusCode::OK,
        &preview::rule(&state, &doc, q.limit).await?,
    ))
}
