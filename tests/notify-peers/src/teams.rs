//! [`TeamsPeer`]: a Teams incoming webhook. It checks the envelope of an
//! Adaptive Card message and, like the legacy Office 365 connector,
//! refuses one with neither `summary` nor `text` (400 `Summary or Text is
//! required.`); it answers `1` on success.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use serde_json::Value;

use crate::http::{FailNext, Record, Server, token};

/// One accepted card.
#[derive(Debug, Clone)]
pub struct TeamsPost {
    /// The whole message.
    pub body: Value,
    /// `attachments[0].content`: the Adaptive Card.
    pub card: Value,
}

/// One refused post and why.
#[derive(Debug, Clone)]
pub struct TeamsRefusal {
    /// The status answered.
    pub status: u16,
    /// The answer's text.
    pub reason: String,
}

#[derive(Clone, Debug)]
struct Peer {
    hook: String,
    posts: Record<TeamsPost>,
    refused: Record<TeamsRefusal>,
    fail: FailNext<u16>,
    requests: Arc<AtomicU64>,
}

/// A local Teams webhook; stopped when dropped.
#[derive(Debug)]
pub struct TeamsPeer {
    server: Server,
    peer: Peer,
}

impl TeamsPeer {
    /// Starts on a free loopback port with a fresh webhook path.
    pub async fn start() -> anyhow::Result<Self> {
        let peer = Peer {
            hook: token("wh"),
            posts: Record::default(),
            refused: Record::default(),
            fail: FailNext::default(),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/webhookb2/{secret}/IncomingWebhook", post(receive))
            .with_state(peer.clone());
        Ok(Self {
            server: Server::start(app).await?,
            peer,
        })
    }

    /// The incoming-webhook URL (a secret).
    pub fn webhook_url(&self) -> String {
        format!(
            "{}/webhookb2/{}/IncomingWebhook",
            self.server.base_url(),
            self.peer.hook
        )
    }

    /// The next `n` requests are answered with `status` (e.g. 503, 429, 400).
    pub fn fail_next(&self, n: u32, status: u16) {
        self.peer.fail.set(n, status);
    }

    /// Every accepted card, oldest first.
    pub fn posts(&self) -> Vec<TeamsPost> {
        self.peer.posts.all()
    }

    /// Every post refused for its content, oldest first.
    pub fn refused(&self) -> Vec<TeamsRefusal> {
        self.peer.refused.all()
    }

    /// Waits for at least `n` accepted cards.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<TeamsPost> {
        self.peer.posts.wait_for(n, timeout).await
    }

    /// Requests received.
    pub fn requests(&self) -> u64 {
        self.peer.requests.load(Ordering::Relaxed)
    }
}

/// Why a message is not a valid Adaptive Card message, if it is not.
pub fn check(body: &Value) -> Result<Value, String> {
    let nonempty = |v: &Value| v.as_str().is_some_and(|s| !s.trim().is_empty());
    if !nonempty(&body["summary"]) && !nonempty(&body["text"]) {
        return Err("Summary or Text is required.".into());
    }
    if body["type"] != "message" {
        return Err("type must be \"message\"".into());
    }
    let Some(att) = body["attachments"].as_array().and_then(|a| a.first()) else {
        return Err("attachments: at least one is required".into());
    };
    if att["contentType"] != "application/vnd.microsoft.card.adaptive" {
        return Err("attachments[0].contentType: not an Adaptive Card".into());
    }
    let card = &att["content"];
    if card["type"] != "AdaptiveCard" {
        return Err("attachments[0].content.type must be AdaptiveCard".into());
    }
    if !card["version"].is_string() {
        return Err("attachments[0].content.version is required".into());
    }
    let Some(blocks) = card["body"].as_array() else {
        return Err("attachments[0].content.body must be an array".into());
    };
    for (i, b) in blocks.iter().enumerate() {
        if !b["type"].is_string() {
            return Err(format!("body[{i}].type is required"));
        }
    }
    if let Some(actions) = card["actions"].as_array() {
        for (i, a) in actions.iter().enumerate() {
            if a["type"] == "Action.OpenUrl" && !a["url"].is_string() {
                return Err(format!("actions[{i}].url is required"));
            }
        }
    }
    Ok(card.clone())
}

async fn receive(State(p): State<Peer>, Path(secret): Path<String>, body: Bytes) -> Response {
    p.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(status) = p.fail.take() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, "failing as asked").into_response();
    }
    if secret != p.hook {
        return (StatusCode::NOT_FOUND, "Webhook not found").into_response();
    }
    let refuse = |reason: String| {
        p.refused.push(TeamsRefusal {
            status: 400,
            reason: reason.clone(),
        });
        (StatusCode::BAD_REQUEST, reason).into_response()
    };
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return refuse("Bad payload: not JSON".into());
    };
    match check(&body) {
        Ok(card) => {
            p.posts.push(TeamsPost { body, card });
            (StatusCode::OK, "1").into_response()
        }
        Err(reason) => refuse(reason),
    }
}
