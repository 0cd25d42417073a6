//! `http.request` and its fixed-method siblings: one request, the body
//! streamed to stdout, the status checked against `expect_status`.

use opsc_proto::events::OutputStream;
use reqwest::Method;

use super::request::{Body, Parts, Prepared, method, prepare};
use super::send::{HttpClients, log_head, pump_body, send, shown};
use super::spec::{HttpSpec, parse};
use super::{HttpError, outcome_of};
use crate::steps::{StepCall, StepOutcome};

/// The request a step's `with` describes; `fixed` is the method of
/// `http.get` & co.
pub fn request_of(call: &StepCall<'_>, fixed: Option<&Method>) -> Result<Prepared, HttpError> {
    let spec: HttpSpec = parse(call.with)?;
    let method = match (fixed, &spec.method) {
        (Some(_), Some(_)) => {
            return Err(HttpError::Settings(
                "with.method: this step type fixes the method; use http.request to choose one"
                    .to_owned(),
            ));
        }
        (Some(m), None) => m.clone(),
        (None, Some(m)) => method(m)?,
        (None, None) => {
            return Err(HttpError::Settings(
                "with.method is required (GET, POST, PUT, PATCH, DELETE, HEAD, …)".to_owned(),
            ));
        }
    };
    let bodies = [
        spec.json.is_some(),
        spec.body.is_some(),
        spec.form.is_some(),
    ];
    if bodies.iter().filter(|b| **b).count() > 1 {
        return Err(HttpError::Settings(
            "with: give at most one of json, body and form".to_owned(),
        ));
    }
    let body = if let Some(v) = &spec.json {
        Some(Body::json(v)?)
    } else if let Some(text) = &spec.body {
        Some(Body::text(text))
    } else if let Some(fields) = &spec.form {
        Some(Body::form(fields)?)
    } else {
        None
    };
    prepare(
        Parts {
            method,
            url: &spec.url,
            query: &spec.query,
            headers: &spec.headers,
            body,
            auth: spec.auth.unwrap_or_default(),
            verify_tls: spec.verify_tls,
            follow_redirects: spec.follow_redirects.unwrap_or(true),
            expect: spec.expect_status.clone().unwrap_or_default(),
        },
        call.target,
        call.credentials,
    )
}

/// Runs one HTTP step to its outcome (cancellation is the caller's).
pub async fn run(
    clients: &HttpClients,
    call: &StepCall<'_>,
    fixed: Option<&Method>,
) -> Result<StepOutcome, HttpError> {
    let req = request_of(call, fixed)?;
    if req.auth_origin.is_some() && req.auth_origin.as_ref() != Some(&req.url.origin()) {
        call.output
            .line(
                OutputStream::Stderr,
                "! the target's credential is sent only to its http.base_url origin, not to this URL",
            )
            .await;
    }
    let client = clients.get(req.verify_tls, &call.host.egress)?;
    let mut response = send(&client, &req, call.output, &call.host.egress).await?;
    log_head(&response, call.output).await;
    let status = response.status();
    if let Err(reason) = pump_body(&mut response, call.output, OutputStream::Stdout).await {
        return Err(HttpError::Body {
            method: req.method.to_string(),
            url: shown(&req.url, false),
            reason,
        });
    }
    Ok(outcome_of(&req, status))
}
