//! The HTTP client the Teams and webhook channels share: rustls (ring),
//! the system's roots, no redirects, a bounded time per request, and one
//! way to tell a transient failure from a permanent one.

use std::sync::OnceLock;
use std::time::Duration;

use opsc_proto::notify::ChannelSecrets;
use reqwest::StatusCode;

use super::SendError;

/// Time for one delivery request, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Bytes of an error answer quoted in the error text.
const EXCERPT: usize = 300;

/// The shared client (built once; reqwest's client is a cheap handle).
pub fn client(secrets: &ChannelSecrets) -> Result<reqwest::Client, SendError> {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c.clone());
    }
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("OpsConductor-Notifier/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| SendError::permanent(format!("HTTP client: {e}"), secrets))?;
    Ok(CLIENT.get_or_init(|| c).clone())
}

/// Whether another attempt at an answer with `status` may succeed.
pub fn status_is_transient(status: StatusCode) -> bool {
    status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
}

/// The error of a request that got no answer (connection refused, reset,
/// timed out): always transient; the URL is left out and secrets redacted.
pub fn transport_error(what: &str, e: reqwest::Error, secrets: &ChannelSecrets) -> SendError {
    let e = e.without_url();
    let mut text = format!("{what}: {e}");
    let mut cur = std::error::Error::source(&e);
    while let Some(s) = cur {
        text.push_str(": ");
        text.push_str(&s.to_string());
        cur = s.source();
    }
    SendError::transient(text, secrets)
}

/// Posts `body` as JSON with `headers`; a 2xx answer's body, or the
/// classified error.
pub async fn post_json(
    what: &str,
    url: &str,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
    secrets: &ChannelSecrets,
) -> Result<(StatusCode, String), SendError> {
    let client = client(secrets)?;
    let response = client
        .post(url)
        .headers(headers)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| transport_error(what, e, secrets))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if status.is_success() {
        return Ok((status, text));
    }
    let message = format!("{what}: HTTP {status}: {}", excerpt(&text));
    Err(if status_is_transient(status) {
        SendError::transient(message, secrets)
    } else {
        SendError::permanent(message, secrets)
    })
}

/// The first bytes of `text`, on a character boundary.
pub fn excerpt(text: &str) -> String {
    let t = text.trim();
    if t.len() <= EXCERPT {
        return t.to_owned();
    }
    let mut end = EXCERPT;
    while !t.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &t[..end])
}

/// `text` cut to at most `max` characters (an ellipsis marks the cut).
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
    s.push('…');
    s
}
