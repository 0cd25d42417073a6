//! JSON bodies in and out, with problem+json for every rejection.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::problem::Problem;

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

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
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
        read_json(&body)
            .map(Self)
            .map_err(|p| p.for_request(&headers))
    }
}

/// `T` from JSON bytes, with the API's problems for what does not fit.
pub fn read_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    crate::strict::json(body).map_err(|e| match e {
        crate::strict::BodyError::Syntax(detail) => Problem::new(
            StatusCode::BAD_REQUEST,
            "malformed-body",
            "Malformed Request Body",
        )
        .detail(detail),
        crate::strict::BodyError::Shape(at) => {
            let detail = if at.path.is_empty() {
                at.message.clone()
            } else {
                format!("{}: {}", at.path, at.message)
            };
            Problem::invalid(detail).errors(serde_json::json!([at]))
        }
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
            Err(rejection) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-path",
                "Invalid Path Parameter",
            )
            .detail(rejection.body_text())
            .for_request(&parts.headers)),
        }
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
            Err(rejection) => Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-query",
                "Invalid Query Parameter",
            )
            .detail(rejection.body_text())
            .for_request(&parts.headers)),
        }
    }
}
