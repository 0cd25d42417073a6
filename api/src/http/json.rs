//! JSON bodies in and out, with problem+json for every rejection.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::problem::Problem;
use crate::strict::Refusal;

/// A JSON request body, read strictly ([`crate::strict`]): 415 for another
/// content type, 413 past the size limit, 400 for what is not JSON, 422
/// naming the place (`/targets/tags`) for JSON of the wrong shape or with a
/// field the API does not know.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

/// Whether a `Content-Type` is JSON (`application/json`, `…+json`).
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

impl<T: DeserializeOwned + JsonSchema, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        if !is_json(&headers) {
            return Err(Problem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported Media Type",
            )
            .detail("Expected request with `Content-Type: application/json`")
            .for_request(&headers));
        }
        let body = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|r| {
                let (slug, title) = if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ("payload-too-large", "Payload Too Large")
                } else {
                    ("malformed-body", "Malformed Request Body")
                };
                Problem::new(r.status(), slug, title)
                    .detail(r.body_text())
                    .for_request(&headers)
            })?;
        read_document(&body)
            .map(Self)
            .map_err(|p| p.for_request(&headers))
    }
}

/// `T` from JSON bytes, with every problem of a body that does not fit
/// (see [`crate::strict::json_document`]).
pub fn read_document<T: DeserializeOwned + JsonSchema>(body: &[u8]) -> Result<T, Problem> {
    crate::strict::json_document(body).map_err(refused)
}

/// A refused document as a problem: 400 for what is not JSON (or YAML),
/// 422 with one `errors` entry per problem for a wrong shape.
pub fn refused(e: Refusal) -> Problem {
    match e {
        Refusal::Syntax(detail) => malformed(detail),
        Refusal::Shape(errors) => {
            let detail = match errors.as_slice() {
                [one] => one.message.clone(),
                many => format!("the request body has {} problems", many.len()),
            };
            Problem::invalid(detail).errors(serde_json::json!(errors))
        }
    }
}

/// 400 for a body that is not JSON; the syntax error is its one entry.
fn malformed(detail: String) -> Problem {
    Problem::new(
        StatusCode::BAD_REQUEST,
        "malformed-body",
        "Malformed Request Body",
    )
    .errors(serde_json::json!([{"path": "", "message": detail}]))
    .detail(detail)
}

/// `T` from JSON bytes, with the API's problem for the first thing that
/// does not fit (for types without a JSON Schema; prefer [`read_document`]).
pub fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    crate::strict::json(body).map_err(|e| match e {
        crate::strict::BodyError::Syntax(detail) => malformed(detail),
        crate::strict::BodyError::Shape(at) => refused(Refusal::Shape(vec![at])),
    })
}

/// A JSON response with a status.
pub fn reply<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}

/// Path parameters; a malformed one (say, not a UUID) answers problem+json 400.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiPath<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(rejection) => {
                let (path, message) = path_problem(&rejection);
                Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-path",
                    "Invalid Path Parameter",
                )
                .detail(message.clone())
                .errors(serde_json::json!([{"path": path, "message": message}]))
                .for_request(&parts.headers))
            }
        }
    }
}

/// A path parameter that does not parse, as `{name}` and a sentence.
fn path_problem(rejection: &axum::extract::rejection::PathRejection) -> (String, String) {
    use axum::extract::path::ErrorKind;
    use axum::extract::rejection::PathRejection;
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return (String::new(), rejection.body_text());
    };
    let described = |key: &str, value: &str, expected: &str| {
        let shown: String = value.chars().take(64).collect();
        (
            format!("{{{key}}}"),
            format!("`{key}` must be {}, not `{shown}`", path_words(expected)),
        )
    };
    match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => described(key, value, expected_type),
        ErrorKind::DeserializeError {
            key,
            value,
            message,
        } => described(key, value, message),
        ErrorKind::ParseErrorAtIndex {
            value,
            expected_type,
            ..
        }
        | ErrorKind::ParseError {
            value,
            expected_type,
        } => described("id", value, expected_type),
        other => (String::new(), other.to_string()),
    }
}

/// What a path parameter must be, from serde's type name or message.
fn path_words(expected: &str) -> String {
    if expected.contains("UUID") || expected.contains("Uuid") || expected.contains("uuid") {
        "a UUID".to_owned()
    } else {
        crate::strict::wording::expected_words(expected)
    }
}

/// Query parameters; unknown or malformed ones answer problem+json 400.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => {
                let (path, message) = query_problem(&rejection.body_text());
                Err(Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid-query",
                    "Invalid Query Parameter",
                )
                .detail(message.clone())
                .errors(serde_json::json!([{"path": path, "message": message}]))
                .for_request(&parts.headers))
            }
        }
    }
}

/// axum's query rejection ("Failed to deserialize query string: limit:
/// invalid digit found in string") as `?limit` and a sentence.
fn query_problem(text: &str) -> (String, String) {
    let rest = text
        .strip_prefix("Failed to deserialize query string")
        .map_or(text, |r| r.trim_start_matches(':').trim());
    let (name, message) = match rest.split_once(": ") {
        Some((name, message))
            if !name.is_empty()
                && name.chars().all(|c| {
                    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '[' | ']')
                }) =>
        {
            (name, message)
        }
        _ => ("", rest),
    };
    let place = if name.is_empty() || message.starts_with("unknown field") {
        crate::strict::schema::Place::default()
    } else {
        crate::strict::schema::Place::default().key(name)
    };
    let (pointer, message) = crate::strict::wording::reword(&place, message);
    let field = pointer
        .trim_start_matches('/')
        .replace("~1", "/")
        .replace("~0", "~");
    let path = if field.is_empty() {
        String::new()
    } else {
        format!("?{field}")
    };
    let message = if place.dotted.is_empty() && message.starts_with("unknown field") {
        message.replacen("unknown field", "unknown query parameter", 1)
    } else {
        message.replacen("is required", "is a required query parameter", 1)
    };
    (path, message)
}

#[cfg(test)]
mod tests {
    use super::query_problem;

    #[test]
    fn query_rejections_name_the_parameter() {
        assert_eq!(
            query_problem(
                "Failed to deserialize query string: limit: invalid digit found in string"
            ),
            ("?limit".to_owned(), "`limit` must be an integer".to_owned())
        );
        assert_eq!(
            query_problem(
                "Failed to deserialize query string: lmit: unknown field `lmit`, expected one of `limit`, `offset`"
            ),
            (
                "?lmit".to_owned(),
                "unknown query parameter `lmit`; did you mean `limit`?".to_owned()
            )
        );
    }
}
