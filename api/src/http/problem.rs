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
        let detail: String = detail.into();
        // A detail that repeats every problem of a huge body is cut; the
        // `errors` list says the rest.
        self.detail = Some(match detail.char_indices().nth(MAX_DETAIL) {
            Some((end, _)) => format!("{}…", &detail[..end]),
            None => detail,
        });
        self
    }

    /// Adds the list of input errors.
    pub fn errors(mut self, errors: serde_json::Value) -> Self {
        self.errors = Some(Box::new(bounded_errors(errors)));
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

/// Entries of an `errors` list shown at most; the rest are counted in one
/// last entry. A body with a hundred thousand unknown keys must not turn
/// into a hundred thousand sentences.
pub const MAX_ERRORS: usize = 50;
/// Characters of a detail shown at most.
const MAX_DETAIL: usize = 2000;
/// Characters of one path or message shown at most (a key of a megabyte is
/// named by its beginning).
const MAX_TEXT: usize = 300;

/// `text`, cut to [`MAX_TEXT`] characters with an ellipsis.
pub fn bounded_text(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

/// An `errors` list held to [`MAX_ERRORS`] entries of bounded text.
fn bounded_errors(errors: serde_json::Value) -> serde_json::Value {
    let serde_json::Value::Array(items) = errors else {
        return errors;
    };
    let total = items.len();
    let mut kept: Vec<serde_json::Value> = items
        .into_iter()
        .take(MAX_ERRORS)
        .map(|mut item| {
            if let Some(fields) = item.as_object_mut() {
                for value in fields.values_mut() {
                    if let Some(text) = value.as_str()
                        && text.chars().count() > MAX_TEXT
                    {
                        *value = serde_json::Value::String(bounded_text(text));
                    }
                }
            }
            item
        })
        .collect();
    if total > MAX_ERRORS {
        kept.push(serde_json::json!({
            "path": "",
            "message": format!("and {} more problems", total - MAX_ERRORS),
        }));
    }
    serde_json::Value::Array(kept)
}

#[cfg(test)]
mod bounded_tests {
    use super::*;

    #[test]
    fn long_lists_and_long_texts_are_held_to_their_bounds() {
        let many: Vec<serde_json::Value> = (0..1000)
            .map(|i| serde_json::json!({"path": format!("/k{i}"), "message": "x".repeat(5000)}))
            .collect();
        let kept = bounded_errors(serde_json::Value::Array(many));
        let kept = kept.as_array().unwrap();
        assert_eq!(kept.len(), MAX_ERRORS + 1);
        assert!(kept[0]["message"].as_str().unwrap().chars().count() <= MAX_TEXT + 1);
        assert_eq!(kept[MAX_ERRORS]["message"], "and 950 more problems");
        let few = bounded_errors(serde_json::json!([{"path": "/a", "message": "short"}]));
        assert_eq!(few, serde_json::json!([{"path": "/a", "message": "short"}]));
    }
}
