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
    /// What the api says about the input, and what to do (boxed: a
    /// problem travels inside every `Result` of the client).
    #[serde(flatten)]
    pub more: Box<Extras>,
    /// Seconds to wait, from `Retry-After`.
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

/// The extensions of a problem beyond RFC 9457's members.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Extras {
    /// The request id, for finding the server's log line.
    #[serde(default)]
    pub request_id: Option<String>,
    /// Each problem with the input: where (a JSON pointer into the body,
    /// `?name` for a query parameter, `{name}` for a path one) and what.
    #[serde(default, deserialize_with = "lenient_errors")]
    pub errors: Vec<FieldProblem>,
    /// What to do about it, when the api says.
    #[serde(default)]
    pub hint: Option<String>,
}

/// One entry of a problem's `errors` list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct FieldProblem {
    /// Where: empty for the request as a whole.
    #[serde(default)]
    pub path: String,
    /// What is wrong there.
    #[serde(default)]
    pub message: String,
}

/// The `errors` list, whatever a server (or a proxy) put there: entries
/// that are not `{path, message}` objects are dropped, not fatal.
fn lenient_errors<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<FieldProblem>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    let items = match value {
        serde_json::Value::Array(items) => items,
        _ => Vec::new(),
    };
    Ok(items
        .into_iter()
        .filter_map(|item| serde_json::from_value::<FieldProblem>(item).ok())
        .filter(|e| !e.message.trim().is_empty())
        .collect())
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

impl Problem {
    /// The entries worth a line of their own: all of them, unless the one
    /// entry says no more than the summary line does.
    fn listed(&self) -> &[FieldProblem] {
        let detail = self.detail.as_deref().unwrap_or_default().trim();
        match self.more.errors.as_slice() {
            [one] if detail.contains(one.message.trim()) => &[],
            all => all,
        }
    }
}

/// Displays as the summary line (title, detail, when to retry), then one
/// indented `path: message` line per input problem, then the hint.
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
            && let Some(id) = &self.more.request_id
        {
            write!(f, " (request id {})", sanitize(id))?;
        }
        for e in self.listed() {
            let message = sanitize(e.message.trim());
            if e.path.is_empty() {
                write!(f, "\n  {message}")?;
            } else {
                write!(f, "\n  {}: {message}", sanitize(&e.path))?;
            }
        }
        if let Some(hint) = self.more.hint.as_deref().map(str::trim)
            && !hint.is_empty()
        {
            write!(f, "\n  hint: {}", sanitize(hint))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use reqwest::StatusCode;

    use super::Problem;

    #[test]
    fn each_input_problem_gets_its_line_and_the_hint_comes_last() {
        let p = Problem::from_parts(
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            br#"{"title":"Invalid Request Body","status":422,"detail":"the request body has 2 problems",
                "errors":[{"path":"/ssh/credential_id","message":"`ssh.credential_id` is required"},
                          {"path":"/port","message":"`port` must be an integer\u001b[31m"}, 7, {"path":"/x"}],
                "hint":"see /api/docs"}"#,
        );
        assert_eq!(
            p.to_string(),
            "Invalid Request Body: the request body has 2 problems\n  \
             /ssh/credential_id: `ssh.credential_id` is required\n  \
             /port: `port` must be an integer\u{fffd}[31m\n  \
             hint: see /api/docs"
        );
        // One entry repeating the detail adds no line.
        let p = Problem::from_parts(
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            br#"{"title":"Invalid Request Body","detail":"`port` must be an integer","errors":[{"path":"/port","message":"`port` must be an integer"}]}"#,
        );
        assert_eq!(
            p.to_string(),
            "Invalid Request Body: `port` must be an integer"
        );
        // A list that is not one is ignored.
        let p = Problem::from_parts(
            StatusCode::NOT_FOUND,
            None,
            br#"{"title":"Not Found","errors":"x"}"#,
        );
        assert_eq!(p.to_string(), "Not Found");
    }
}
