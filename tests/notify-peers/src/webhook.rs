//! [`WebhookPeer`]: a receiver that verifies OpsConductor's webhook
//! signature (`x-opsconductor-signature: sha256=<hex HMAC-SHA256(secret,
//! "<timestamp>.<body>")>`, computed here independently of the sender's
//! code) and refuses a timestamp more than five minutes away (a replay).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

use crate::http::{FailNext, Record, Server};

/// Seconds a timestamp may be away from now.
pub const TOLERANCE_SECS: i64 = 300;

/// One verified delivery.
#[derive(Debug, Clone)]
pub struct WebhookDelivery {
    /// `x-opsconductor-delivery`.
    pub delivery: Option<String>,
    /// `x-opsconductor-timestamp`.
    pub timestamp: i64,
    /// Every header, names lower-case (values lossy UTF-8).
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
    /// The raw body.
    pub raw: Vec<u8>,
}

impl WebhookDelivery {
    /// The value of header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A refused request and why.
#[derive(Debug, Clone)]
pub struct WebhookRefusal {
    /// The status answered.
    pub status: u16,
    /// Why.
    pub reason: String,
}

#[derive(Clone, Debug)]
struct Peer {
    secret: String,
    deliveries: Record<WebhookDelivery>,
    refused: Record<WebhookRefusal>,
    fail: FailNext<u16>,
    requests: Arc<AtomicU64>,
}

/// A signed-webhook receiver; stopped when dropped.
#[derive(Debug)]
pub struct WebhookPeer {
    server: Server,
    peer: Peer,
}

impl WebhookPeer {
    /// Starts on a free loopback port, verifying with `secret`.
    pub async fn start(secret: &str) -> anyhow::Result<Self> {
        let peer = Peer {
            secret: secret.to_owned(),
            deliveries: Record::default(),
            refused: Record::default(),
            fail: FailNext::default(),
            requests: Arc::new(AtomicU64::new(0)),
        };
        let app = Router::new()
            .route("/hook", post(receive))
            .with_state(peer.clone());
        Ok(Self {
            server: Server::start(app).await?,
            peer,
        })
    }

    /// The URL to post to (`WebhookSettings.url`).
    pub fn url(&self) -> String {
        format!("{}/hook", self.server.base_url())
    }

    /// The next `n` requests are answered with 503 (before verification).
    pub fn fail_next(&self, n: u32) {
        self.peer.fail.set(n, 503);
    }

    /// The next `n` requests are answered with `status`.
    pub fn fail_next_with(&self, n: u32, status: u16) {
        self.peer.fail.set(n, status);
    }

    /// Every verified delivery, oldest first.
    pub fn deliveries(&self) -> Vec<WebhookDelivery> {
        self.peer.deliveries.all()
    }

    /// Every refused request (bad or missing signature, stale timestamp).
    pub fn refused(&self) -> Vec<WebhookRefusal> {
        self.peer.refused.all()
    }

    /// Waits for at least `n` verified deliveries.
    pub async fn wait_for(&self, n: usize, timeout: std::time::Duration) -> Vec<WebhookDelivery> {
        self.peer.deliveries.wait_for(n, timeout).await
    }

    /// Requests received.
    pub fn requests(&self) -> u64 {
        self.peer.requests.load(Ordering::Relaxed)
    }
}

/// Verifies a delivery: the timestamp is within [`TOLERANCE_SECS`] of
/// `now` and the signature is HMAC-SHA256(`secret`, `"<ts>.<body>"`).
pub fn verify(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> Result<i64, String> {
    let get = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    let ts_text = get("x-opsconductor-timestamp").ok_or("missing x-opsconductor-timestamp")?;
    let ts: i64 = ts_text.parse().map_err(|_| "bad timestamp".to_owned())?;
    if (now - ts).abs() > TOLERANCE_SECS {
        return Err(format!("stale timestamp {ts} (now {now}): replay refused"));
    }
    let sig = get("x-opsconductor-signature").ok_or("missing x-opsconductor-signature")?;
    let hex = sig
        .strip_prefix("sha256=")
        .ok_or("signature is not sha256=<hex>")?;
    let tag = decode_hex(hex).ok_or("signature is not hex")?;
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map_err(|_| "bad key".to_owned())?;
    mac.update(ts_text.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.verify_slice(&tag)
        .map_err(|_| "signature mismatch".to_owned())?;
    Ok(ts)
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn receive(State(p): State<Peer>, headers: HeaderMap, body: Bytes) -> Response {
    p.requests.fetch_add(1, Ordering::Relaxed);
    if let Some(status) = p.fail.take() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return (status, "failing as asked").into_response();
    }
    let refuse = |status: StatusCode, reason: String| {
        p.refused.push(WebhookRefusal {
            status: status.as_u16(),
            reason: reason.clone(),
        });
        (status, reason).into_response()
    };
    let now = chrono::Utc::now().timestamp();
    let ts = match verify(&p.secret, &headers, &body, now) {
        Ok(ts) => ts,
        Err(reason) => return refuse(StatusCode::UNAUTHORIZED, reason),
    };
    let Ok(json) = serde_json::from_slice::<Value>(&body) else {
        return refuse(StatusCode::BAD_REQUEST, "body is not JSON".into());
    };
    p.deliveries.push(WebhookDelivery {
        delivery: headers
            .get("x-opsconductor-delivery")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
        timestamp: ts,
        headers: headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: json,
        raw: body.to_vec(),
    });
    (StatusCode::OK, "verified").into_response()
}
