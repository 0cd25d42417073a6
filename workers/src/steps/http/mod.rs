//! The HTTP steps: `http.request`, `http.get`, `http.post`, `http.put`,
//! `http.patch`, `http.delete` and `webhook.call`.
//!
//! `with` (all steps): `url` (absolute `http(s)://`, or a path appended to
//! the target's `http.base_url`), `headers` and `query` (objects of
//! scalars; a list value repeats the key), `expect_status` (a status, a
//! class like `"2xx"`, or a list; default `2xx`), `follow_redirects`,
//! `verify_tls` (default: the target's `http.verify_tls`, else true) and
//! `auth` (`target`, the default, applies the target's `http_auth`
//! credential; `none`). `http.request` also takes `method`; the request
//! steps take one body of `json`, `body` (text) or `form`; `webhook.call`
//! takes `payload`, `secret` and `retries` (see [`webhook`]).
//!
//! Output: the response body is the step's stdout (so `steps.<id>.json` is
//! the parsed body), the request line, status line and response headers go
//! to stderr, and the exit code is the HTTP status. A status outside
//! `expect_status` fails the step.
//!
//! No value is shell-quoted: the steps start no shell. Values interpolated
//! into `url` are not URL-encoded either; put them in `query` instead.
//!
//! The credential is sent only to the origin of the target's `base_url`,
//! also across redirects, which are followed here rather than by the HTTP
//! client for that reason.

mod exec;
mod request;
mod send;
mod spec;
mod webhook;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use opsc_proto::events::StepStatus;
use reqwest::{Method, StatusCode};

use self::request::Prepared;
use self::send::{HttpClients, shown};
use super::{Registry, StepCall, StepOutcome, StepType};
use crate::template::Quoting;

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: u32 = 10;

/// Why an HTTP step could not get a response. No variant holds a secret:
/// URLs are shown without user info and query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// A `with` setting is missing or invalid.
    #[error("{0}")]
    Settings(String),
    /// The URL cannot be used.
    #[error("{0}")]
    Url(String),
    /// The target's credential cannot be applied.
    #[error("auth: {0}")]
    Auth(String),
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Client(String),
    /// The request got no response (connection, TLS, timeout).
    #[error("{method} {url}: {reason}")]
    Send {
        /// Method.
        method: String,
        /// URL without user info and query.
        url: String,
        /// The cause chain.
        reason: String,
    },
    /// More redirects than allowed.
    #[error("{method} {url}: more than {limit} redirects")]
    Redirects {
        /// Method.
        method: String,
        /// URL without user info and query.
        url: String,
        /// The limit.
        limit: u32,
    },
    /// The egress policy refused the destination (or a redirect's).
    #[error("{method} {url}: {refused}")]
    Egress {
        /// Method.
        method: String,
        /// URL without user info and query.
        url: String,
        /// The refusal, naming the rule.
        refused: crate::egress::Refused,
    },
    /// The response body could not be read.
    #[error("{method} {url}: reading the response failed: {reason}")]
    Body {
        /// Method.
        method: String,
        /// URL without user info and query.
        url: String,
        /// The cause chain.
        reason: String,
    },
}

/// The outcome for a response with `status`: the exit code is the status.
fn outcome_of(req: &Prepared, status: StatusCode) -> StepOutcome {
    let code = Some(i32::from(status.as_u16()));
    if req.expect.accepts(status.as_u16()) {
        StepOutcome::ok(code)
    } else {
        StepOutcome::failed(
            format!(
                "{} {} answered {status}, expected {}",
                req.method,
                shown(&req.url, false),
                req.expect
            ),
            code,
        )
    }
}

/// Runs `work`, ended by the step's cancel. Error texts may quote a
/// rendered URL path, so they are redacted like output.
async fn guarded(
    call: &StepCall<'_>,
    work: impl Future<Output = Result<StepOutcome, HttpError>>,
) -> StepOutcome {
    tokio::select! {
        r = work => match r {
            Ok(mut o) => {
                o.error = o.error.map(|e| call.output.redact(&e));
                o
            }
            Err(e) => StepOutcome::failed(call.output.redact(&e.to_string()), None),
        },
        () = call.cancel.cancelled() => StepOutcome {
            status: StepStatus::Failed,
            exit_code: None,
            error: Some("interrupted".to_owned()),
        },
    }
}

/// `http.request` (`method: None`) or a fixed-method sibling.
#[derive(Debug)]
pub struct HttpStep {
    method: Option<Method>,
    clients: Arc<HttpClients>,
}

#[async_trait::async_trait]
impl StepType for HttpStep {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }

    fn needs_target(&self) -> bool {
        false
    }

    /// Safe to repeat for the idempotent methods. `http.request` says no:
    /// its method is only known once `with` is rendered.
    fn idempotent(&self) -> bool {
        self.method
            .as_ref()
            .is_some_and(|m| [Method::GET, Method::HEAD, Method::PUT, Method::DELETE].contains(m))
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        guarded(&call, exec::run(&self.clients, &call, self.method.as_ref())).await
    }
}

/// `webhook.call`.
#[derive(Debug)]
pub struct WebhookCall {
    clients: Arc<HttpClients>,
}

#[async_trait::async_trait]
impl StepType for WebhookCall {
    fn quoting(&self, _key: &str) -> Quoting {
        Quoting::None
    }

    fn needs_target(&self) -> bool {
        false
    }

    async fn run(&self, call: StepCall<'_>) -> StepOutcome {
        guarded(&call, webhook::run(&self.clients, &call)).await
    }
}

/// Adds the HTTP step types to `r`; they share one connection pool.
pub fn register(r: &mut Registry) {
    let clients = Arc::new(HttpClients::default());
    let fixed = |method: Option<Method>| {
        Arc::new(HttpStep {
            method,
            clients: clients.clone(),
        })
    };
    r.insert("http.request", fixed(None));
    r.insert("http.get", fixed(Some(Method::GET)));
    r.insert("http.post", fixed(Some(Method::POST)));
    r.insert("http.put", fixed(Some(Method::PUT)));
    r.insert("http.patch", fixed(Some(Method::PATCH)));
    r.insert("http.delete", fixed(Some(Method::DELETE)));
    r.insert("webhook.call", Arc::new(WebhookCall { clients }));
}
