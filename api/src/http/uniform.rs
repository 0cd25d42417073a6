//! One shape for every error answer, whichever part of the stack made it:
//! a bare framework answer (405, 413, a plain-text rejection) becomes a
//! problem, and every problem gets the request's id and, for a 4xx, an
//! `errors` list (one entry naming the request as a whole when its maker
//! gave none). Handlers need not remember; this layer sees every answer.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::REQUEST_ID;
use super::problem::{Problem, every_error_a_problem};

/// A problem body larger than this is passed on untouched (problems are
/// a few hundred bytes; this only bounds the buffering).
const MAX_PROBLEM_BYTES: usize = 256 * 1024;

/// The layer: see the module documentation.
pub async fn uniform(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return res;
    }
    let res = every_error_a_problem(res).await;
    if !is_problem(res.headers()) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_PROBLEM_BYTES).await else {
        return Problem::internal(&"an error answer could not be read").into_response();
    };
    let Ok(Value::Object(mut problem)) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if let Some(id) = request_id
        && problem.get("request_id").is_none_or(Value::is_null)
    {
        problem.insert("request_id".into(), Value::String(id));
    }
    if status.is_client_error() && problem.get("errors").is_none_or(Value::is_null) {
        let message = whole_request(status, &parts.headers, &method, &path, &problem);
        problem.insert("errors".into(), json!([{"path": "", "message": message}]));
    }
    let Ok(text) = serde_json::to_vec(&problem) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    Response::from_parts(parts, Body::from(text))
}

fn is_problem(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().starts_with("application/problem+json"))
}

/// What is wrong with the request as a whole, when the problem names no
/// field: its detail, or for a wrong route or method what to do instead.
fn whole_request(
    status: StatusCode,
    headers: &HeaderMap,
    method: &Method,
    path: &str,
    problem: &serde_json::Map<String, Value>,
) -> String {
    let detail = problem
        .get("detail")
        .and_then(Value::as_str)
        .or_else(|| problem.get("title").and_then(Value::as_str))
        .unwrap_or("the request was refused");
    match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allowed = headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if allowed.is_empty() {
                format!("`{path}` does not take {method}; /api/docs lists the methods it takes")
            } else {
                format!("`{path}` does not take {method}; it takes {allowed}")
            }
        }
        _ => detail.to_owned(),
    }
}
