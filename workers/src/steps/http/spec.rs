//! The `with` settings of the HTTP steps, parsed strictly (unknown keys are
//! refused) and tolerant of rendered templates: numbers and booleans may
//! arrive as text, because a templated value always renders to a string.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::HttpError;

/// Settings of `http.request` and its fixed-method siblings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSpec {
    /// Absolute URL, or a path below the target's `http.base_url`.
    pub url: String,
    /// Method (only `http.request`).
    #[serde(default)]
    pub method: Option<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// Query parameters appended to the URL.
    #[serde(default)]
    pub query: BTreeMap<String, Value>,
    /// A JSON body (any value, `null` included).
    #[serde(default, deserialize_with = "present")]
    pub json: Option<Value>,
    /// A text body.
    #[serde(default)]
    pub body: Option<String>,
    /// A form body (`application/x-www-form-urlencoded`).
    #[serde(default)]
    pub form: Option<BTreeMap<String, Value>>,
    /// Statuses that count as success (default `2xx`).
    #[serde(default)]
    pub expect_status: Option<ExpectStatus>,
    /// Follow redirects (default true, at most [`super::MAX_REDIRECTS`]).
    #[serde(default, deserialize_with = "flex_bool")]
    pub follow_redirects: Option<bool>,
    /// Verify certificates (default: the target's setting, else true).
    #[serde(default, deserialize_with = "flex_bool")]
    pub verify_tls: Option<bool>,
    /// `target` (default) or `none`.
    #[serde(default)]
    pub auth: Option<AuthMode>,
}

/// Settings of `webhook.call`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSpec {
    /// Absolute URL, or a path below the target's `http.base_url`.
    pub url: String,
    /// Method (default `POST`).
    #[serde(default)]
    pub method: Option<String>,
    /// Request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, Value>,
    /// Query parameters appended to the URL.
    #[serde(default)]
    pub query: BTreeMap<String, Value>,
    /// The JSON payload (default `{}`).
    #[serde(default, deserialize_with = "present")]
    pub payload: Option<Value>,
    /// HMAC-SHA256 key: signs the body when set.
    #[serde(default)]
    pub secret: Option<String>,
    /// Retries after a connection error, a 5xx or a 429 (default 3, at most 10).
    #[serde(default, deserialize_with = "flex_u32")]
    pub retries: Option<u32>,
    /// Statuses that count as success (default `2xx`).
    #[serde(default)]
    pub expect_status: Option<ExpectStatus>,
    /// Follow redirects (default false: a redirected POST would become a GET).
    #[serde(default, deserialize_with = "flex_bool")]
    pub follow_redirects: Option<bool>,
    /// Verify certificates (default: the target's setting, else true).
    #[serde(default, deserialize_with = "flex_bool")]
    pub verify_tls: Option<bool>,
    /// `target` (default) or `none`.
    #[serde(default)]
    pub auth: Option<AuthMode>,
}

/// Whether the target's HTTP credential is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMode {
    /// The target's `http.credential_id`, when there is one.
    #[default]
    Target,
    /// No credential.
    None,
}

/// Parses `with` into a spec; errors name the key, never its value.
pub fn parse<T: for<'de> Deserialize<'de>>(with: &BTreeMap<String, Value>) -> Result<T, HttpError> {
    let object: serde_json::Map<String, Value> =
        with.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    serde_path_to_error::deserialize(Value::Object(object)).map_err(|e| {
        let path = e.path().to_string();
        let text = without_quoted_value(&e.into_inner().to_string());
        if path == "." {
            HttpError::Settings(format!("with: {text}"))
        } else {
            HttpError::Settings(format!("with.{path}: {text}"))
        }
    })
}

/// serde quotes an offending text value (`string "…"`), which may be a
/// rendered secret: keep only the shape of the complaint.
fn without_quoted_value(text: &str) -> String {
    match (text.find("string \""), text.rfind("\", expected")) {
        (Some(start), Some(end)) if end > start => {
            format!("{}text{}", &text[..start], &text[end + 1..])
        }
        _ => text.to_owned(),
    }
}

/// One accepted status: exact, or a class like `2xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    /// This status.
    Exact(u16),
    /// Any status `N00`–`N99`.
    Class(u16),
}

impl fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(c) => write!(f, "{c}"),
            Self::Class(n) => write!(f, "{n}xx"),
        }
    }
}

impl StatusMatch {
    fn parse(text: &str) -> Option<Self> {
        let t = text.trim().to_ascii_lowercase();
        if let Some(class) = t.strip_suffix("xx") {
            return match class.parse::<u16>() {
                Ok(n @ 1..=5) => Some(Self::Class(n)),
                _ => None,
            };
        }
        match t.parse::<u16>() {
            Ok(c @ 100..=599) => Some(Self::Exact(c)),
            _ => None,
        }
    }

    fn matches(self, status: u16) -> bool {
        match self {
            Self::Exact(c) => c == status,
            Self::Class(n) => status / 100 == n,
        }
    }
}

/// `expect_status`: a status, a pattern like `"2xx"`, or a list of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExpectStatus(pub Vec<StatusMatch>);

impl Default for ExpectStatus {
    fn default() -> Self {
        Self(vec![StatusMatch::Class(2)])
    }
}

impl ExpectStatus {
    /// Whether `status` is accepted.
    pub fn accepts(&self, status: u16) -> bool {
        self.0.iter().any(|m| m.matches(status))
    }
}

impl fmt::Display for ExpectStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

impl<'de> Deserialize<'de> for ExpectStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        fn one(v: &Value) -> Option<StatusMatch> {
            match v {
                Value::Number(n) => n
                    .as_u64()
                    .and_then(|c| u16::try_from(c).ok())
                    .and_then(|c| StatusMatch::parse(&c.to_string())),
                Value::String(s) => StatusMatch::parse(s),
                _ => None,
            }
        }
        let bad = || {
            de::Error::custom(
                "expect_status must be a status (200), a class (\"2xx\") or a list of them",
            )
        };
        let v = Value::deserialize(d)?;
        let list = match &v {
            Value::Array(items) if !items.is_empty() => items
                .iter()
                .map(one)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad)?,
            // A rendered template gives "200, 404" or "2xx".
            Value::String(s) if s.contains(',') => s
                .split(',')
                .map(StatusMatch::parse)
                .collect::<Option<Vec<_>>>()
                .ok_or_else(bad)?,
            other => vec![one(other).ok_or_else(bad)?],
        };
        Ok(Self(list))
    }
}

/// `Some(value)` whenever the key is present, `null` included.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A boolean, also as the text `true`/`false`.
fn flex_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match Value::deserialize(d)? {
        Value::Bool(b) => Ok(Some(b)),
        Value::Null => Ok(None),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Ok(Some(true)),
            "false" | "no" | "0" => Ok(Some(false)),
            _ => Err(de::Error::custom("expected true or false")),
        },
        _ => Err(de::Error::custom("expected true or false")),
    }
}

/// A small count, also as text.
fn flex_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let bad = || de::Error::custom("expected a whole number");
    match Value::deserialize(d)? {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(bad),
        Value::String(s) => s.trim().parse().map(Some).map_err(|_| bad()),
        _ => Err(bad()),
    }
}

/// A scalar setting (header, query or form value) as text.
pub fn scalar_text(key: &str, v: &Value) -> Result<Option<String>, HttpError> {
    match v {
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => Ok(Some(n.to_string())),
        Value::Bool(b) => Ok(Some(b.to_string())),
        Value::Null => Ok(None),
        Value::Array(_) | Value::Object(_) => Err(HttpError::Settings(format!(
            "with.{key} must be text, a number or a boolean"
        ))),
    }
}
