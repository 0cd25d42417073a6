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
    /// Extension: each problem with the input, `{path, message}`: `path` a
    /// JSON pointer into the body, `?name` a query parameter, `{name}` a
    /// path parameter, empty for the request as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Box<serde_json::Value>>,
    /// Seconds to wait before trying again: the `Retry-After` header.
    #[serde(skip)]
    pub retry_after: Option<u32>,
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
            retry_after: None,
        }
    }

    /// Asks the client to wait `secs` before trying again (`Retry-After`).
    pub fn retry_after(mut self, secs: u64) -> Self {
        self.retry_after = Some(u32::try_from(secs).unwrap_or(u32::MAX));
        self
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
        let mut res = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        res
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
        super::errors::db(&e)
    }
}

/// Fallback for unknown routes.
pub async fn not_found(
    method: axum::http::Method,
    uri: axum::http::Uri,
    headers: HeaderMap,
) -> Problem {
    let path = uri.path();
    let detail = if path.starts_with("/api/") {
        format!("There is no route {method} {path}; the API's routes are listed at /api/docs.")
    } else {
        format!("There is no route {method} {path}.")
    };
    Problem::new(StatusCode::NOT_FOUND, "not-found", "Not Found")
        .detail(detail)
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

/// Any bare error response (a body over the limit rejected by the limit
/// layer, a method the route does not have …: no content type, or plain
/// text)
/// as a problem with its status; `Allow`, `Retry-After` and
/// `WWW-Authenticate` are kept. Every error the api answers is problem+json.
pub async fn every_error_a_problem<B>(res: axum::http::Response<B>) -> Response
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res.map(axum::body::Body::new);
    }
    // Only bare answers (no body type, or plain text from a framework
    // layer) are rewritten; a JSON error such as `/readyz`'s stays.
    let bare = res
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("text/plain"));
    if !bare {
        return res.map(axum::body::Body::new);
    }
    let title = status.canonical_reason().unwrap_or("Error");
    let slug = title.to_ascii_lowercase().replace(' ', "-");
    let detail = match status {
        StatusCode::PAYLOAD_TOO_LARGE => {
            "The request body is larger than this server accepts (http.max_body_bytes).".to_owned()
        }
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = res
                .headers()
                .get(axum::http::header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if allowed.is_empty() {
                "This path does not take that method.".to_owned()
            } else {
                format!("This path does not take that method; it takes {allowed}.")
            }
        }
        _ => title.to_owned(),
    };
    let mut out = Problem::new(status, &slug, title)
        .detail(detail)
        .into_response();
    for name in [
        axum::http::header::ALLOW,
        axum::http::header::RETRY_AFTER,
        axum::http::header::WWW_AUTHENTICATE,
    ] {
        if let Some(v) = res.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}
