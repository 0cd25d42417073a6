//! RFC 9457 problem details: the one error shape of the API.
//!
//! The body names the request id so an operator can find the log line; it
//! never carries internal detail (SQL, stack, paths).

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::REQUEST_ID;

/// A problem+json answer.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// Short summary of the kind.
    pub title: String,
    /// HTTP status.
    pub status: u16,
    /// What happened in this case, for a person.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The request id (also in the `x-request-id` header).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Extension: each problem with the input (field, row …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Box<serde_json::Value>>,
}

impl Problem {
    /// A problem of `status` with a slug naming its kind.
    pub fn new(status: StatusCode, slug: &str, title: &str) -> Self {
        Self {
            kind: format!("https://opsconductor.dev/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: None,
            request_id: None,
            errors: None,
        }
    }

    /// Adds the case-specific detail.
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds the list of input errors.
    pub fn errors(mut self, errors: serde_json::Value) -> Self {
        self.errors = Some(Box::new(errors));
        self
    }

    /// Adds the request id from the request headers.
    pub fn for_request(mut self, headers: &HeaderMap) -> Self {
        self.request_id = headers
            .get(&REQUEST_ID)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        self
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_string(&self).unwrap_or_default();
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

impl Problem {
    /// 422 with a detail naming what is wrong in the input.
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid-body",
            "Invalid Request Body",
        )
        .detail(detail)
    }

    /// The detail, or the title when there is none (for nesting in a reply).
    pub fn describe(&self) -> String {
        self.detail.clone().unwrap_or_else(|| self.title.clone())
    }

    /// 404 for an entity.
    pub fn not_found_entity(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", "Not Found")
            .detail(format!("No such {what}."))
    }

    /// 409 with a detail.
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "conflict", "Conflict").detail(detail)
    }

    /// 403 with a detail.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "Forbidden").detail(detail)
    }

    /// 500 for an internal failure; the cause is logged, never shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "Request failed.");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Internal Server Error",
        )
    }
}

impl From<sea_orm::DbErr> for Problem {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::internal(&e)
    }
}

/// Fallback for unknown routes.
pub async fn not_found(headers: HeaderMap) -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not Found")
        .detail("No such resource.")
        .for_request(&headers)
}

/// A handler panicked: log it, answer a plain 500 without internals.
pub fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("A request handler panicked.");
    Problem::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Internal Server Error",
    )
    .into_response()
}
