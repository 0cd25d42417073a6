//! An error answer of the api (RFC 9457 problem+json), as one line for a person.

use std::fmt;

use reqwest::{Response, StatusCode, header};
use serde::Deserialize;

use crate::client::output::sanitize;

/// The slug the api uses when a one-time code is needed to log in.
const MFA_REQUIRED: &str = "/mfa-required";

/// A non-success answer. Displays as one line: title, detail, and what to do.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Problem {
    /// URI naming the kind of problem.
    #[serde(rename = "type", default)]
    pub kind: String,
    /// Short summary of the kind.
    #[serde(default)]
    pub title: String,
    /// HTTP status (taken from the response, not trusted from the body).
    #[serde(default)]
    pub status: u16,
    /// What happened in this case.
    #[serde(default)]
    pub detail: Option<String>,
    /// The request id, for finding the server's log line.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Seconds to wait, from `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl Problem {
    /// Reads the problem out of a non-success response, whatever its body.
    pub async fn from_response(response: Response) -> Self {
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        let body = response.bytes().await.unwrap_or_default();
        Self::from_parts(status, retry_after, &body)
    }

    /// The problem from a status, a `Retry-After` value and a body.
    pub fn from_parts(status: StatusCode, retry_after: Option<u64>, body: &[u8]) -> Self {
        let mut problem: Self = serde_json::from_slice(body).unwrap_or_default();
        if problem.title.trim().is_empty() {
            problem.title = status
                .canonical_reason()
                .map_or_else(|| format!("HTTP {}", status.as_u16()), str::to_owned);
        }
        problem.status = status.as_u16();
        problem.retry_after = retry_after;
        problem
    }

    /// Whether the login needs a one-time code.
    pub fn is_mfa_required(&self) -> bool {
        self.status == 401 && self.kind.ends_with(MFA_REQUIRED)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&sanitize(&self.title))?;
        if let Some(detail) = self.detail.as_deref().map(str::trim)
            && !detail.is_empty()
            && detail != self.title.trim()
        {
            write!(f, ": {}", sanitize(detail))?;
        }
        if let Some(secs) = self.retry_after {
            write!(f, " (retry after {secs} s)")?;
        }
        if self.status >= 500
            && let Some(id) = &self.request_id
        {
            write!(f, " (request id {})", sanitize(id))?;
        }
        Ok(())
    }
}
