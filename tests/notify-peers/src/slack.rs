//! [`SlackPeer`]: speaks Slack's Web API `chat.postMessage` (JSON or form
//! body, `Authorization: Bearer <token>`) and an incoming webhook.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::http::{FailNext, Record, Server, token};

/// How the next requests fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackFailure {
    /// HTTP 503.
    Unavailable,
    /// HTTP 429 with `Retry-After: 1` and `{"ok":false,"error":"ratelimited"}`.
    RateLimited,
}

/// Which endpoint a post went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlackVia {
    /// `POST /api/chat.postMessage`.
    Bot,
    /// The incoming webhook.
    Webhook,
}

/// One accepted post.
#[derive(Debug, Clone)]
pub struct SlackPost {
    /// Bot or webhook.
    pub via: SlackVia,
    /// The `channel` (bot mode).
    pub channel: Option<String>,
    /// The `text` fallback.
    pub text: Option<String>,
    /// The Block Kit `blocks`.
    pub blocks: Value,
    /// The whole body as JSON (a form body as an object of strings).
    pub body: Value,
    /// The `ts` answered (bot mode).
    pub ts: Option<String>,
}

#[derive(Clone)]
struct Peer {
    token: String,
    hook: String,
    posts: Record<SlackPost>,
    fail: FailNext<SlackFailure>,
    requests: Arc<AtomicU64>,
}

/// A local Slack; stopped when dropped.
#[derive(Debug)]
pub struct SlackPeer {
    server: Server,
    token: String,
    hook: String,
    posts: Record<SlackPost>,
    fail: FailNext<SlackFailure>,
    requests: Arc<AtomicU64>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SlackPeer")
    }
}

impl SlackPeer {
    /// Starts on a free loopback port with a fresh bot token and webhook path.
    pub async fn start() -> anyhow::Result<Self> {
        let peer = Peer {
            token: token("xoxb-peer-"),
            hook: token("hook"),
            posts: Record::default(),
            fail: FailNext::default(),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/api/chat.postMessage", post(post_message))
            .route("/services/T0PEER/B0PEER/{secret}", post(webhook))
            .with_state(peer.clone());
        let server = Server::start(app).await?;
        Ok(Self {
            server,
            token: peer.token,
            hook: peer.hook,
            posts: peer.posts,
            fail: peer.fail,
            requests: peer.requests,
        })
    }

    /// The Web API base URL (`SlackSettings.api_url`): `http://127.0.0.1:<port>/api`.
    pub fn api_url(&self) -> String {
        format!("{}/api", self.server.base_url())
    }

    /// The bot token the API accepts.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The incoming-webhook URL (a secret).
    pub fn webhook_url(&self) -> String {
        format!(
            "{}/services/T0PEER/B0PEER/{}",
            self.server.base_url(),
            self.hook
        )
    }

    /// The next `n` requests fail with `how`.
    pub fn fail_next(&self, n: u32, how: SlackFailure) {
        self.fail.set(n, how);
    }

    /// Every accepted post, oldest first.
    pub fn posts(&self) -> Vec<SlackPost> {
        self.posts.all()
    }

    /// Waits for at least `n` accepted posts.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<SlackPost> {
        self.posts.wait_for(n, timeout).await
    }

    /// Requests received (accepted, refused or failed).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }
}

fn failure(how: SlackFailure) -> Response {
    match how {
        SlackFailure::Unavailable => {
            (StatusCode::SERVICE_UNAVAILABLE, "unavailable").into_response()
        }
        SlackFailure::RateLimited => (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response(),
    }
}

fn body_of(headers: &HeaderMap, body: &Bytes) -> Option<Value> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ct.starts_with("application/x-www-form-urlencoded") {
        let map: serde_json::Map<String, Value> = url_decode(body)
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        return Some(Value::Object(map));
    }
    serde_json::from_slice(body).ok()
}

fn url_decode(body: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(body);
    let dec = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    text.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (dec(k), dec(v))
        })
        .collect()
}

fn blocks_of(body: &Value) -> Value {
    match &body["blocks"] {
        Value::String(s) => serde_json::from_str(s).unwrap_or(Value::Null),
        v => v.clone(),
    }
}

async fn post_message(State(p): State<Peer>, headers: HeaderMap, body: Bytes) -> Response {
    let n = p.requests.fetch_add(1, Ordering::Relaxed) + 1;
    if let Some(how) = p.fail.take() {
        return failure(how);
    }
    let Some(body) = body_of(&headers, &body) else {
        return Json(json!({"ok": false, "error": "invalid_json"})).into_response();
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .or_else(|| body["token"].as_str().map(str::to_owned));
    match bearer {
        None => return Json(json!({"ok": false, "error": "not_authed"})).into_response(),
        Some(t) if t != p.token => {
            return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
        }
        Some(_) => {}
    }
    let channel = body["channel"].as_str().unwrap_or_default().to_owned();
    if channel.is_empty() || channel.starts_with("C404") || channel == "#missing" {
        return Json(json!({"ok": false, "error": "channel_not_found"})).into_response();
    }
    let text = body["text"].as_str().map(str::to_owned);
    let blocks = blocks_of(&body);
    if text.is_none() && !blocks.is_array() {
        return Json(json!({"ok": false, "error": "no_text"})).into_response();
    }
    let ts = format!("{}.000100", 1_700_000_000 + n);
    p.posts.push(SlackPost {
        via: SlackVia::Bot,
        channel: Some(channel.clone()),
        text: text.clone(),
        blocks,
        body,
        ts: Some(ts.clone()),
    });
    Json(json!({
        "ok": true,
        "channel": channel,
        "ts": ts,
        "message": {"type": "message", "text": text, "ts": ts, "bot_id": "B0PEER"},
    }))
    .into_response()
}

async fn webhook(
    State(p): State<Peer>,
    Path(secret): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    p.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(how) = p.fail.take() {
        return failure(how);
    }
    if secret != p.hook {
        return (StatusCode::FORBIDDEN, "invalid_token").into_response();
    }
    let Some(body) = body_of(&headers, &body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let text = body["text"].as_str().map(str::to_owned);
    let blocks = blocks_of(&body);
    if text.is_none() && !blocks.is_array() {
        return (StatusCode::BAD_REQUEST, "no_text").into_response();
    }
    p.posts.push(SlackPost {
        via: SlackVia::Webhook,
        channel: None,
        text,
        blocks,
        body,
        ts: None,
    });
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/html")], "ok").into_response()
}
