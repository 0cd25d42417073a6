//! Turns parsed settings, the target and its credential into a request
//! ready to send: resolved URL, headers, credential headers bound to the
//! target's origin, and the encoded body.

use std::collections::BTreeMap;

use base64::Engine as _;
use opsc_proto::dispatch::DispatchTarget;
use opsc_proto::material::CredentialMaterial;
use reqwest::Method;
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use url::{Origin, Url};
use uuid::Uuid;

use super::HttpError;
use super::spec::{AuthMode, ExpectStatus, scalar_text};

/// An encoded request body.
#[derive(Debug, Clone)]
pub struct Body {
    /// Its type, unless `headers` sets `Content-Type`.
    pub content_type: &'static str,
    /// The bytes sent (and signed by `webhook.call`).
    pub bytes: Vec<u8>,
}

impl Body {
    /// A JSON body.
    pub fn json(v: &Value) -> Result<Self, HttpError> {
        Ok(Self {
            content_type: "application/json",
            bytes: serde_json::to_vec(v)
                .map_err(|e| HttpError::Settings(format!("with.json: {e}")))?,
        })
    }

    /// A text body.
    pub fn text(s: &str) -> Self {
        Self {
            content_type: "text/plain; charset=utf-8",
            bytes: s.as_bytes().to_vec(),
        }
    }

    /// A urlencoded form.
    pub fn form(fields: &BTreeMap<String, Value>) -> Result<Self, HttpError> {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in fields {
            for item in listed(v) {
                if let Some(text) = scalar_text(&format!("form.{k}"), item)? {
                    out.append_pair(k, &text);
                }
            }
        }
        Ok(Self {
            content_type: "application/x-www-form-urlencoded",
            bytes: out.finish().into_bytes(),
        })
    }
}

/// The items of a list value, or the value itself (repeated keys).
fn listed(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// What a step asks for, from either spec.
#[derive(Debug)]
pub struct Parts<'a> {
    /// Method.
    pub method: Method,
    /// `with.url`.
    pub url: &'a str,
    /// `with.query`.
    pub query: &'a BTreeMap<String, Value>,
    /// `with.headers`.
    pub headers: &'a BTreeMap<String, Value>,
    /// The body.
    pub body: Option<Body>,
    /// `with.auth`.
    pub auth: AuthMode,
    /// `with.verify_tls`.
    pub verify_tls: Option<bool>,
    /// Follow redirects.
    pub follow_redirects: bool,
    /// Accepted statuses.
    pub expect: ExpectStatus,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// Method.
    pub method: Method,
    /// Where to.
    pub url: Url,
    /// The step's own headers.
    pub headers: HeaderMap,
    /// Headers of the target's credential (sensitive).
    pub auth: HeaderMap,
    /// The only origin the credential headers are sent to.
    pub auth_origin: Option<Origin>,
    /// The body.
    pub body: Option<Body>,
    /// Verify certificates.
    pub verify_tls: bool,
    /// Follow redirects.
    pub follow_redirects: bool,
    /// Accepted statuses.
    pub expect: ExpectStatus,
}

/// A method name, upper-cased.
pub fn method(text: &str) -> Result<Method, HttpError> {
    let upper = text.trim().to_ascii_uppercase();
    Method::from_bytes(upper.as_bytes())
        .map_err(|_| HttpError::Settings(format!("with.method: {upper:?} is not an HTTP method")))
}

/// Builds the request of `parts` for `target`.
pub fn prepare(
    parts: Parts<'_>,
    target: Option<&DispatchTarget>,
    credentials: &BTreeMap<Uuid, CredentialMaterial>,
) -> Result<Prepared, HttpError> {
    let http = target.and_then(|t| t.http.as_ref());
    let mut url = resolve(parts.url, http.map(|h| h.base_url.as_str()))?;
    if !parts.query.is_empty() {
        let mut pairs = url.query_pairs_mut();
        for (k, v) in parts.query {
            for item in listed(v) {
                if let Some(text) = scalar_text(&format!("query.{k}"), item)? {
                    pairs.append_pair(k, &text);
                }
            }
        }
    }
    let mut headers = HeaderMap::new();
    for (k, v) in parts.headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            HttpError::Settings(format!("with.headers: {k:?} is not a header name"))
        })?;
        if let Some(text) = scalar_text(&format!("headers.{k}"), v)? {
            let value = HeaderValue::from_str(&text).map_err(|_| {
                HttpError::Settings(format!("with.headers.{k}: not a valid header value"))
            })?;
            headers.insert(name, value);
        }
    }
    let (auth, auth_origin) = match (parts.auth, target, http) {
        (AuthMode::Target, Some(t), Some(h)) => match h.credential_id {
            Some(id) => {
                let material = credentials.get(&id).ok_or_else(|| {
                    HttpError::Auth(format!("the credential of target {} was not sent", t.name))
                })?;
                let base = resolve(&h.base_url, None).map_err(|_| {
                    HttpError::Url(format!(
                        "target {}: http.base_url is not a usable URL",
                        t.name
                    ))
                })?;
                (credential_headers(material)?, Some(base.origin()))
            }
            None => (HeaderMap::new(), None),
        },
        _ => (HeaderMap::new(), None),
    };
    // A step may not lower the guard its target's credential travels under:
    // turning certificate checks off is the target's setting, an admin's.
    if !auth.is_empty() && parts.verify_tls == Some(false) && http.is_none_or(|h| h.verify_tls) {
        return Err(HttpError::Settings(format!(
            "with.verify_tls: false would send the credential of target {} to an unverified peer; only the target's http.verify_tls (an admin setting) turns verification off",
            target.map_or("?", |t| t.name.as_str())
        )));
    }
    Ok(Prepared {
        method: parts.method,
        url,
        headers,
        auth,
        auth_origin,
        body: parts.body,
        verify_tls: parts
            .verify_tls
            .or(http.map(|h| h.verify_tls))
            .unwrap_or(true),
        follow_redirects: parts.follow_redirects,
        expect: parts.expect,
    })
}

/// An absolute `http(s)` URL, or `url` appended to `base` (one `/` between).
pub fn resolve(url: &str, base: Option<&str>) -> Result<Url, HttpError> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let joined;
    let absolute = if lower.starts_with("http://") || lower.starts_with("https://") {
        url
    } else if lower.contains("://") {
        return Err(HttpError::Url(
            "with.url: only http:// and https:// URLs are supported".to_owned(),
        ));
    } else if let Some(base) = base {
        joined = if url.is_empty() {
            base.to_owned()
        } else {
            format!(
                "{}/{}",
                base.trim_end_matches('/'),
                url.trim_start_matches('/')
            )
        };
        &joined
    } else {
        return Err(HttpError::Url(
            "with.url is not absolute, and the step runs on no target with an http.base_url"
                .to_owned(),
        ));
    };
    let parsed = Url::parse(absolute).map_err(|e| HttpError::Url(format!("with.url: {e}")))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(HttpError::Url("with.url has no host".to_owned()));
    }
    Ok(parsed)
}

/// The headers an `http_auth` credential adds.
fn credential_headers(material: &CredentialMaterial) -> Result<HeaderMap, HttpError> {
    let CredentialMaterial::HttpAuth {
        scheme,
        username,
        password,
        token,
        header,
        headers,
    } = material
    else {
        return Err(HttpError::Auth(format!(
            "the target's HTTP credential is a {} credential, not http_auth",
            material.kind()
        )));
    };
    let missing = |what: &str| HttpError::Auth(format!("the {scheme} credential has no {what}"));
    let sensitive = |text: &str, what: &str| {
        HeaderValue::from_str(text)
            .map(|mut v| {
                v.set_sensitive(true);
                v
            })
            .map_err(|_| {
                HttpError::Auth(format!(
                    "the credential's {what} is not a valid header value"
                ))
            })
    };
    let mut out = HeaderMap::new();
    match scheme.as_str() {
        "basic" => {
            let user = username.as_deref().ok_or_else(|| missing("username"))?;
            let pass = password.as_deref().ok_or_else(|| missing("password"))?;
            let encoded =
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
            out.insert(
                AUTHORIZATION,
                sensitive(&format!("Basic {encoded}"), "password")?,
            );
        }
        "bearer" => {
            let token = token.as_deref().ok_or_else(|| missing("token"))?;
            out.insert(
                AUTHORIZATION,
                sensitive(&format!("Bearer {token}"), "token")?,
            );
        }
        "api_key" => {
            let token = token.as_deref().ok_or_else(|| missing("token"))?;
            let name = header.as_deref().ok_or_else(|| missing("header name"))?;
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                HttpError::Auth("the credential's header name is invalid".to_owned())
            })?;
            out.insert(name, sensitive(token, "token")?);
        }
        other => {
            return Err(HttpError::Auth(format!(
                "unknown HTTP auth scheme {other:?} (basic, bearer or api_key)"
            )));
        }
    }
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
            HttpError::Auth(format!("the credential's header name {k:?} is invalid"))
        })?;
        out.insert(name, sensitive(v, &format!("header {k}"))?);
    }
    Ok(out)
}
