//! Sends a prepared request: one shared client per TLS mode, redirects
//! followed by hand (so the credential only ever goes to its own origin),
//! every hop's destination checked by the egress policy (the name and a
//! literal address here, each resolved address by the client's resolver),
//! the exchange logged on stderr and the body streamed to stdout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use opsc_proto::events::OutputStream;
use reqwest::header::{
    CONTENT_TYPE, COOKIE, HeaderMap, HeaderValue, LOCATION, PROXY_AUTHORIZATION, SET_COOKIE,
};
use reqwest::{Client, Method, Response, StatusCode};
use url::Url;

use super::request::Prepared;
use super::{HttpError, MAX_REDIRECTS};
use crate::egress::{Egress, EgressResolver, LookupError, Refused};
use crate::exec::output::OutputSink;

/// How long establishing a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// A client and the egress policy its resolver enforces.
type Slot = Mutex<Option<(Arc<Egress>, Client)>>;

/// The two clients (verifying certificates or not), built on first use and
/// shared by every HTTP step of this worker so connections are reused.
#[derive(Debug, Default)]
pub struct HttpClients {
    verifying: Slot,
    trusting: Slot,
}

impl HttpClients {
    /// The client for `verify_tls`, resolving names through `egress` (a
    /// worker has one policy; another one builds a new client).
    pub fn get(&self, verify_tls: bool, egress: &Arc<Egress>) -> Result<Client, HttpError> {
        let slot = if verify_tls {
            &self.verifying
        } else {
            &self.trusting
        };
        let mut slot = slot
            .lock()
            .map_err(|_| HttpError::Client("the HTTP client lock is poisoned".to_owned()))?;
        if let Some((_, c)) = slot.as_ref().filter(|(e, _)| Arc::ptr_eq(e, egress)) {
            return Ok(c.clone());
        }
        let client = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(!verify_tls)
            .connect_timeout(CONNECT_TIMEOUT)
            .dns_resolver(Arc::new(EgressResolver::new(egress.clone())))
            // A proxy from the environment would connect for us, past the
            // egress check of the resolved address.
            .no_proxy()
            .user_agent(concat!("OpsConductor/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| HttpError::Client(reason(&e)))?;
        *slot = Some((egress.clone(), client.clone()));
        Ok(client)
    }
}

/// `url` for logs: without user info (and without the query, which may
/// carry a token, when `query` is false).
pub fn shown(url: &Url, query: bool) -> String {
    let mut u = url.clone();
    let _ = u.set_username("");
    let _ = u.set_password(None);
    if !query {
        u.set_query(None);
    }
    u.set_fragment(None);
    u.to_string()
}

/// The egress refusal behind a failed request, if that is what failed it.
fn refusal(e: &reqwest::Error) -> Option<Refused> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(LookupError::Refused(r)) = s.downcast_ref::<LookupError>() {
            return Some(r.clone());
        }
        source = s.source();
    }
    None
}

/// A reqwest error as one line: the cause chain, never the URL.
pub fn reason(e: &reqwest::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
    if e.is_timeout() {
        parts.push("timed out".to_owned());
    } else if e.is_connect() {
        parts.push("cannot connect".to_owned());
    } else if e.is_body() || e.is_decode() {
        parts.push("cannot read the response".to_owned());
    } else {
        parts.push("request failed".to_owned());
    }
    while let Some(s) = source {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = s.source();
    }
    parts.join(": ")
}

/// The headers sent to `url`: the credential's only on its own origin; the
/// step's sensitive ones only on the origin the step named.
fn headers_for(req: &Prepared, url: &Url, with_body: bool) -> HeaderMap {
    let mut h = HeaderMap::new();
    let origin = url.origin();
    if req.auth_origin.as_ref() == Some(&origin) {
        h.extend(req.auth.clone());
    }
    let same = origin == req.url.origin();
    for (name, value) in &req.headers {
        let sensitive =
            [reqwest::header::AUTHORIZATION, COOKIE, PROXY_AUTHORIZATION].contains(name);
        if same || !sensitive {
            h.insert(name.clone(), value.clone());
        }
    }
    if with_body
        && !h.contains_key(CONTENT_TYPE)
        && let Some(body) = &req.body
    {
        h.insert(CONTENT_TYPE, HeaderValue::from_static(body.content_type));
    }
    h
}

/// Sends `req`, following redirects when asked; returns the final response.
/// Transport failures are [`HttpError::Send`].
pub async fn send(
    client: &Client,
    req: &Prepared,
    sink: &OutputSink,
    egress: &Egress,
) -> Result<Response, HttpError> {
    let mut method = req.method.clone();
    let mut url = req.url.clone();
    let mut with_body = req.body.is_some();
    let mut hops = 0_u32;
    loop {
        sink.line(
            OutputStream::Stderr,
            &format!("> {method} {}", shown(&url, true)),
        )
        .await;
        if let Err(refused) = egress.check_name(url.host_str().unwrap_or_default()) {
            return Err(HttpError::Egress {
                method: method.to_string(),
                url: shown(&url, false),
                refused,
            });
        }
        let mut builder = client
            .request(method.clone(), url.clone())
            .headers(headers_for(req, &url, with_body));
        if with_body && let Some(body) = &req.body {
            builder = builder.body(body.bytes.clone());
        }
        let response = builder.send().await.map_err(|e| match refusal(&e) {
            Some(refused) => HttpError::Egress {
                method: method.to_string(),
                url: shown(&url, false),
                refused,
            },
            None => HttpError::Send {
                method: method.to_string(),
                url: shown(&url, false),
                reason: reason(&e),
            },
        })?;
        let status = response.status();
        let location = response.headers().get(LOCATION).cloned();
        let redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
        let (true, true, Some(location)) = (req.follow_redirects, redirect, location) else {
            return Ok(response);
        };
        sink.line(
            OutputStream::Stderr,
            &format!("< {:?} {status} (redirect)", response.version()),
        )
        .await;
        if hops == MAX_REDIRECTS {
            return Err(HttpError::Redirects {
                method: req.method.to_string(),
                url: shown(&req.url, false),
                limit: MAX_REDIRECTS,
            });
        }
        hops += 1;
        let next = location
            .to_str()
            .ok()
            .and_then(|l| url.join(l).ok())
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| HttpError::Send {
                method: method.to_string(),
                url: shown(&url, false),
                reason: format!("{status} with an unusable Location"),
            })?;
        // As browsers do: 303 always, and 301/302 after a POST, continue
        // with a GET and no body; 307/308 repeat the request as it was.
        let to_get = status == StatusCode::SEE_OTHER
            || (method == Method::POST && matches!(status.as_u16(), 301 | 302));
        if to_get && method != Method::HEAD {
            method = Method::GET;
            with_body = false;
        }
        url = next;
    }
}

/// Logs the status line and headers of `response` on stderr (cookies
/// masked).
pub async fn log_head(response: &Response, sink: &OutputSink) {
    sink.line(
        OutputStream::Stderr,
        &format!("< {:?} {}", response.version(), response.status()),
    )
    .await;
    for (name, value) in response.headers() {
        let value = if name == SET_COOKIE {
            "<redacted>".to_owned()
        } else {
            String::from_utf8_lossy(value.as_bytes()).into_owned()
        };
        sink.line(OutputStream::Stderr, &format!("< {name}: {value}"))
            .await;
    }
}

/// Streams the body of `response` to `stream` until it ends or the sink's
/// cap is reached.
pub async fn pump_body(
    response: &mut Response,
    sink: &OutputSink,
    stream: OutputStream,
) -> Result<(), String> {
    while let Some(chunk) = response.chunk().await.map_err(|e| reason(&e))? {
        sink.chunk(stream, &chunk).await;
        if sink.is_full() {
            break;
        }
    }
    Ok(())
}
