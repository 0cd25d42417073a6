//! JSON bodies in and out, with problem+json for every rejection.

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::problem::Problem;

/// A JSON request body. Unknown fields, wrong types and bad JSON answer
/// problem+json: 400 for syntax, 415 for the content type, 422 for shape.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => {
                let (status, slug, title) = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => (
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "unsupported-media-type",
                        "Unsupported Media Type",
                    ),
                    JsonRejection::JsonDataError(_) => (
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid-body",
                        "Invalid Request Body",
                    ),
                    JsonRejection::BytesRejection(_) => (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload-too-large",
                        "Payload Too Large",
                    ),
                    _ => (
                        StatusCode::BAD_REQUEST,
                        "malformed-body",
                        "Malformed Request Body",
                    ),
                };
                Err(Problem::new(status, slug, title)
                    .detail(rejection.body_text())
                    .for_request(&headers))
            }
        }
    }
}

/// A JSON response with a status.
pub fn reply<T: Serialize>(status: StatusCode, body: &T) -> Response {
    (status, axum::Json(body)).into_response()
}
