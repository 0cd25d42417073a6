//! `webhook.call`: a JSON payload delivered with an optional HMAC-SHA256
//! signature, retried on connection errors, 5xx and 429 with exponential
//! backoff (or the server's `Retry-After`, bounded).

use std::time::Duration;

use chrono::Utc;
use opsc_proto::events::OutputStream;
use reqwest::header::{HeaderName, HeaderValue, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;

use super::request::{Body, Parts, Prepared, method, prepare};
use super::send::{HttpClients, log_head, pump_body, send};
use super::spec::{WebhookSpec, parse};
use super::{HttpError, outcome_of};
use crate::steps::{StepCall, StepOutcome};

/// Retries when `with.retries` is not given.
pub const DEFAULT_RETRIES: u32 = 3;
/// Most retries a step may ask for.
pub const MAX_RETRIES: u32 = 10;
/// The first backoff; it doubles on every retry.
pub const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest wait between two attempts, `Retry-After` included.
pub const MAX_WAIT: Duration = Duration::from_secs(60);
/// Bytes of a failed attempt's body shown on stderr.
const EXCERPT: usize = 2048;

pub use opsc_proto::signing::{
    DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_message,
};

/// How long the server asked to wait (seconds or an HTTP date), bounded.
pub fn retry_after(response: &Response) -> Option<Duration> {
    let text = response.headers().get(RETRY_AFTER)?.to_str().ok()?.trim();
    let wait = if let Ok(secs) = text.parse::<u64>() {
        Duration::from_secs(secs)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(text).ok()?;
        (at.with_timezone(&Utc) - Utc::now())
            .to_std()
            .unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_WAIT))
}

/// The wait before retry number `retry` (1-based) without `Retry-After`.
pub fn backoff(retry: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1 << (retry - 1).min(10))
        .min(MAX_WAIT)
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue), HttpError> {
    let value = HeaderValue::from_str(value)
        .map_err(|_| HttpError::Settings(format!("{name}: not a valid header value")))?;
    Ok((HeaderName::from_static(name), value))
}

fn request_of(call: &StepCall<'_>) -> Result<(Prepared, Option<String>, u32), HttpError> {
    let spec: WebhookSpec = parse(call.with)?;
    let retries = spec.retries.unwrap_or(DEFAULT_RETRIES);
    if retries > MAX_RETRIES {
        return Err(HttpError::Settings(format!(
            "with.retries: at most {MAX_RETRIES}"
        )));
    }
    let payload = spec
        .payload
        .clone()
        .unwrap_or_else(|| Value::Object(serde_json::Map::new()));
    let req = prepare(
        Parts {
            method: spec.method.as_deref().map_or(Ok(Method::POST), method)?,
            url: &spec.url,
            query: &spec.query,
            headers: &spec.headers,
            body: Some(Body::json(&payload)?),
            auth: spec.auth.unwrap_or_default(),
            verify_tls: spec.verify_tls,
            follow_redirects: spec.follow_redirects.unwrap_or(false),
            expect: spec.expect_status.clone().unwrap_or_default(),
        },
        call.target,
        call.credentials,
    )?;
    let secret = spec.secret.filter(|s| !s.is_empty());
    Ok((req, secret, retries))
}

/// What one attempt ended with.
enum Attempt {
    /// A response whose status is final (accepted, or not worth retrying).
    Final(Response),
    /// Worth another attempt after the wait.
    Retry(Duration),
}

/// Runs one `webhook.call` to its outcome (cancellation is the caller's).
pub async fn run(clients: &HttpClients, call: &StepCall<'_>) -> Result<StepOutcome, HttpError> {
    let (mut req, secret, retries) = request_of(call)?;
    let client = clients.get(req.verify_tls, &call.host.egress)?;
    let delivery = uuid::Uuid::new_v4().to_string();
    let attempts = retries + 1;
    let mut attempt = 0_u32;
    let mut response = loop {
        attempt += 1;
        // These headers are ours: they replace same-named ones of the step.
        let mut ours = vec![header(DELIVERY_HEADER, &delivery)?];
        if let (Some(secret), Some(body)) = (&secret, &req.body) {
            let timestamp = Utc::now().timestamp().to_string();
            let signed = signed_message(&timestamp, &body.bytes);
            ours.push(header(TIMESTAMP_HEADER, &timestamp)?);
            ours.push(header(SIGNATURE_HEADER, &signature(secret, &signed))?);
        }
        for (name, value) in ours {
            req.headers.insert(name, value);
        }
        let step = match send(&client, &req, call.output, &call.host.egress).await {
            Ok(r) => {
                let status = r.status();
                let retryable = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                if req.expect.accepts(status.as_u16()) || !retryable || attempt == attempts {
                    Attempt::Final(r)
                } else {
                    let wait = retry_after(&r).unwrap_or_else(|| backoff(attempt));
                    log_head(&r, call.output).await;
                    let excerpt = excerpt(r).await;
                    for line in excerpt.lines() {
                        call.output.line(OutputStream::Stderr, line).await;
                    }
                    Attempt::Retry(wait)
                }
            }
            Err(e @ HttpError::Send { .. }) if attempt < attempts => {
                call.output
                    .line(OutputStream::Stderr, &format!("! {e}"))
                    .await;
                Attempt::Retry(backoff(attempt))
            }
            Err(e) => return Err(e),
        };
        match step {
            Attempt::Final(r) => break r,
            Attempt::Retry(wait) => {
                call.output
                    .line(
                        OutputStream::Stderr,
                        &format!(
                            "! attempt {attempt} of {attempts} failed; retrying in {:.1}s",
                            wait.as_secs_f64()
                        ),
                    )
                    .await;
                tokio::time::sleep(wait).await;
            }
        }
    };
    log_head(&response, call.output).await;
    let status = response.status();
    if let Err(reason) = pump_body(&mut response, call.output, OutputStream::Stdout).await {
        // The delivery happened; only the answer's body is incomplete.
        call.output
            .line(OutputStream::Stderr, &format!("! response body: {reason}"))
            .await;
    }
    let mut outcome = outcome_of(&req, status);
    if attempt > 1
        && let Some(error) = &mut outcome.error
    {
        error.push_str(&format!(" after {attempt} attempts"));
    }
    Ok(outcome)
}

/// The start of a failed attempt's body, as text.
async fn excerpt(mut response: Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(EXCERPT);
    String::from_utf8_lossy(&bytes).into_owned()
}
